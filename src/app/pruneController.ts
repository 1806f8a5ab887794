// Pruning intents: edit the recipe's prune stage, run the staged recipe in the model worker,
// follow its progress per layer, evaluate the pruned model once on the same evaluation set, offer
// its bytes for download. The pruned graph stays in the worker: the mask view asks the worker for
// one layer's mask at a time.
import { defaultPruneStage, isPruneStage, validateRecipe, type PruneStage, type Recipe } from '../core/recipe';
import { Cancelled } from '../core/job';
import type { KeepMask } from '../core/prune';
import { offerDownload, downloadUrl, withdrawDownload } from '../services/downloads';
import { currentEvalSet, PRUNED_DOWNLOAD, wasmPaths, wasmThreads, worker } from './controller';
import { patchPruneRun, useLab } from './store';

let runningJob: number | undefined;

/** The recipe's first prune stage (the one the panel edits). */
export function pruneStageOf(recipe: Recipe): PruneStage {
  return recipe.stages.find(isPruneStage) ?? defaultPruneStage();
}

/** Changes fields of the recipe's first prune stage (adding one when it has none). */
export function setPruneStage(patch: Partial<Omit<PruneStage, 'kind'>>): void {
  useLab.setState((s) => {
    const index = s.recipe.stages.findIndex(isPruneStage);
    const stage = { ...pruneStageOf(s.recipe), ...patch };
    const stages = index < 0 ? [...s.recipe.stages, stage] : s.recipe.stages.map((old, i) => (i === index ? stage : old));
    return { recipe: { ...s.recipe, stages } };
  });
}

/** Changes the recipe's seed and calibration settings. */
export function setCalibration(patch: Partial<Recipe['calibration']> & { seed?: number }): void {
  const { seed, ...calibration } = patch;
  useLab.setState((s) => ({ recipe: { ...s.recipe, ...(seed === undefined ? {} : { seed }), calibration: { ...s.recipe.calibration, ...calibration } } }));
}

export async function runPrune(): Promise<void> {
  const { recipe, model, poolSize, computeBackend } = useLab.getState();
  const set = currentEvalSet();
  if (!model.analysis) return;
  const problems = validateRecipe(recipe, model.analysis);
  if (!set) problems.push('no calibration set: pruning needs a bundled model’s calib.json (load a bundled model, or a model compatible with it)');
  if (problems.length > 0) {
    patchPruneRun({ status: 'error', message: problems.join(' '), layersDone: [] });
    return;
  }
  withdrawDownload(PRUNED_DOWNLOAD);
  patchPruneRun({ status: 'running', layersDone: [], report: undefined, evaluation: undefined, message: undefined, progress: { phase: 'start', label: 'Starting', done: 0, total: 1 } });
  const job = worker.compress({ runId: 'run', recipe, calibSet: set!.calibSet, poolSize, computeBackend, numThreads: wasmThreads(), wasmPaths }, (progress) => {
    if (runningJob !== job.jobId) return;
    const { layersDone } = useLab.getState().pruneRun;
    patchPruneRun({ layersDone: progress.layerId ? [...layersDone, progress.layerId] : layersDone, progress });
  });
  runningJob = job.jobId;
  try {
    const result = await job.done;
    if (runningJob !== job.jobId) return;
    offerDownload(PRUNED_DOWNLOAD, result.bytes);
    patchPruneRun({ status: 'done', report: result.report, progress: undefined });
    useLab.setState({ maskLayer: result.report.layers[0]?.id });
    await evaluatePruned();
  } catch (e) {
    if (runningJob !== job.jobId) return;
    if (e instanceof Cancelled) patchPruneRun({ status: 'cancelled', message: 'Pruning cancelled; the loaded model is unchanged.', progress: undefined });
    else patchPruneRun({ status: 'error', message: (e as Error).message, progress: undefined });
  } finally {
    if (runningJob === job.jobId) runningJob = undefined;
  }
}

export function cancelPrune(): void {
  if (runningJob !== undefined) worker.cancel(runningJob);
}

async function evaluatePruned(): Promise<void> {
  const set = currentEvalSet();
  if (!set) return;
  const backend = useLab.getState().backend;
  patchPruneRun({ evaluation: { status: 'running', datasetLabel: set.label } });
  const job = worker.evaluate({ target: { runId: 'run' }, dataset: set.dataset, backend, numThreads: wasmThreads(), wasmPaths }, (progress) =>
    patchPruneRun({ evaluation: { status: 'running', datasetLabel: set.label, progress } }),
  );
  try {
    const r = await job.done;
    patchPruneRun({ evaluation: { status: 'done', datasetLabel: set.label, metrics: r.metrics, backend: r.backend, evalMs: r.evalMs } });
  } catch (e) {
    patchPruneRun({ evaluation: { status: 'error', datasetLabel: set.label, message: (e as Error).message } });
  }
}

/** The keep mask (non-zero pattern) of one layer of the last pruned model, read in the worker. */
export function prunedMask(layerId: string): Promise<KeepMask> {
  return worker.mask({ runId: 'run', layerId }).done;
}

export function prunedModelUrl(): string | undefined {
  return downloadUrl(PRUNED_DOWNLOAD);
}
