// Pruning intents: run the recipe in the model worker, follow its progress per layer, evaluate
// the pruned model on the same evaluation set, keep its bytes for download and the mask view.
import { validateRecipe, type PruneRecipe } from '../core/recipe';
import { readModel, initializerMap, tensorToFloat32, type ModelProto } from '../core/onnx';
import { weightFromStored } from '../core/compress';
import type { LinearLayer } from '../core/model';
import type { KeepMask } from '../core/prune';
import { JobCancelled } from '../services/modelWorker';
import { currentEvalSet, wasmPaths, wasmThreads, worker } from './controller';
import { patchPruneRun, useLab } from './store';

/** The last pruned model: bytes for download, parsed lazily for the mask view. */
let pruned: { bytes: Uint8Array; model?: ModelProto } | undefined;
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
  pruned = undefined;
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
    pruned = { bytes: new Uint8Array(result.bytes) };
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

/** The keep mask (non-zero pattern) of one layer of the pruned model. */
export function prunedMask(layer: LinearLayer): KeepMask | undefined {
  if (!pruned) return undefined;
  pruned.model ??= readModel(pruned.bytes);
  const tensor = initializerMap(pruned.model.graph!).get(layer.weight);
  if (!tensor) return undefined;
  const w = weightFromStored(layer, tensorToFloat32(tensor));
  return { rows: w.rows, cols: w.cols, data: Uint8Array.from(w.data, (v) => (v !== 0 ? 1 : 0)) };
}

export function prunedModelUrl(): string | undefined {
  return pruned ? URL.createObjectURL(new Blob([pruned.bytes as BlobPart], { type: 'application/octet-stream' })) : undefined;
}
