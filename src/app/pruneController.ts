// Pruning intents: run the recipe in the model worker, follow its progress per layer, evaluate
// the pruned model once on the same evaluation set, offer its bytes for download. The pruned graph
// stays in the worker: the mask view asks the worker for one layer's mask at a time.
import { validateRecipe, type PruneRecipe } from '../core/recipe';
import type { KeepMask } from '../core/prune';
import { offerDownload, downloadUrl, withdrawDownload } from '../services/downloads';
import { JobCancelled } from '../services/modelWorker';
import { currentEvalSet, PRUNED_DOWNLOAD, wasmPaths, wasmThreads, worker } from './controller';
import { patchPruneRun, useLab } from './store';

let runningJob: number | undefined;

export function setRecipe(patch: Partial<PruneRecipe>): void {
  useLab.setState((s) => ({ recipe: { ...s.recipe, ...patch } }));
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
  patchPruneRun({ status: 'running', layersDone: [], report: undefined, evaluation: undefined, message: undefined, computeFallback: undefined, calibrationBackend: undefined, progress: { phase: 'start', label: 'Starting', done: 0, total: 1 } });
  const job = worker.prune({ recipe, calibSet: set!.calibSet, poolSize, computeBackend, numThreads: wasmThreads(), wasmPaths }, (p) => {
    if (runningJob !== job.jobId || !p.prune) return;
    const pp = p.prune;
    const layersDone = pp.phase === 'prune' && pp.layerId ? [...useLab.getState().pruneRun.layersDone, pp.layerId] : useLab.getState().pruneRun.layersDone;
    const label = 'label' in pp ? pp.label : pp.phase;
    patchPruneRun({ layersDone, progress: { phase: pp.phase, label, done: p.done, total: p.total } });
  });
  runningJob = job.jobId;
  try {
    const result = await job.done;
    if (runningJob !== job.jobId) return;
    offerDownload(PRUNED_DOWNLOAD, result.bytes);
    patchPruneRun({ status: 'done', report: result.report, computeFallback: result.computeFallback, calibrationBackend: result.calibrationBackend, progress: undefined });
    useLab.setState({ maskLayer: result.report.layers[0]?.id });
    await evaluatePruned();
  } catch (e) {
    if (runningJob !== job.jobId) return;
    if (e instanceof JobCancelled) patchPruneRun({ status: 'cancelled', message: 'Pruning cancelled; the loaded model is unchanged.', progress: undefined });
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
  const job = worker.evaluate({ target: 'pruned', dataset: set.dataset, backend, numThreads: wasmThreads(), wasmPaths }, ({ done, total, stage }) =>
    patchPruneRun({ evaluation: { status: 'running', datasetLabel: set.label, progress: { done, total, stage } } }),
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
  return worker.mask({ layerId }).done;
}

export function prunedModelUrl(): string | undefined {
  return downloadUrl(PRUNED_DOWNLOAD);
}
