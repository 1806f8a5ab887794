// Run intents: edit the recipe's stages, run the staged recipe in the model worker as a new
// run record, follow its progress, evaluate the result on the dense model's evaluation set, offer
// its bytes for download. Runs accumulate: a new, refused or failed run never touches an earlier
// one. Compressed graphs stay in the worker (the last MAX_HELD_RUNS), named by run id.
import { isKvCacheStage, type KvCacheStage } from '../core/recipe/stages/kvcache';
import { predictedLatencyOf, runLatency } from '../core/latency';
import { defaultPruneStage, isPruneStage, validateRecipe, type PruneStage, type Recipe, type StageSpec } from '../core/recipe';
import { isQuantizeStage, type QuantizeStage } from '../core/recipe/stages/quantize';
import { isAttentionStage, type AttentionStage } from '../core/recipe/stages/attention';
import { compressedFileName } from '../core/recipe';
import { Cancelled, type Progress } from '../core/job';
import type { Dataset } from '../core/eval/datasets';
import type { QuantScope } from '../core/compress';
import type { MxFormat } from '../core/quant/mx';
import { offerDownload, downloadUrl, withdrawDownload } from '../services/downloads';
import { MAX_HELD_RUNS } from '../../workers/protocol';
import { currentEvalSet, mark, maskedMetricsOf, modelStem, textMetricsOf, wasmPaths, wasmThreads, worker } from './controller';
import { folderRoot, offerFolderDownload, withdrawFolderDownload } from './hfController';
import { withStage, type BuilderStageKind } from './recipeForm';
import { patchRun, useLab, type RunRecord, type RunSweepTag } from './store';
import { nextRunNumber } from './history';

/** Worker job of each running run, for cancel. */
const jobs = new Map<string, number>();

/** The recipe's first prune stage (the one the builder edits). */
export function pruneStageOf(recipe: Recipe): PruneStage {
  return recipe.stages.find(isPruneStage) ?? defaultPruneStage();
}

/** Changes fields of the recipe's first prune stage (adding one when it has none). */
export function setPruneStage(patch: Partial<Omit<PruneStage, 'kind'>>): void {
  useLab.setState((s) => {
    const index = s.recipe.stages.findIndex(isPruneStage);
    const stage = { ...pruneStageOf(s.recipe), ...patch };
    const stages = index < 0 ? [...s.recipe.stages, stage] : s.recipe.stages.map((old, i) => (i === index ? stage : old));
    return { recipe: { ...s.recipe, stages }, refusal: undefined };
  });
}

/** The recipe's quantize stage, when it has one. */
export function quantizeStageOf(recipe: Recipe): QuantizeStage | undefined {
  return recipe.stages.find(isQuantizeStage);
}

/** Adds or removes a stage kind; stages keep their order (prune, quantize, attention last). */
export function setStageEnabled(kind: BuilderStageKind, enabled: boolean): void {
  useLab.setState((s) => {
    const recipe = withStage(s.recipe, kind, enabled);
    return recipe === s.recipe ? {} : { recipe, refusal: undefined };
  });
}

/** Changes fields of the recipe's quantize stage. */
export function setQuantizeStage(patch: Partial<Omit<QuantizeStage, 'kind'>>): void {
  patchStages(isQuantizeStage, patch);
}

/** Changes fields of every stage of one kind (the builder holds at most one of each). */
function patchStages<T extends StageSpec>(isKind: (stage: StageSpec) => stage is T, patch: Partial<Omit<T, 'kind'>>): void {
  useLab.setState((s) => ({ recipe: { ...s.recipe, stages: s.recipe.stages.map((stage) => (isKind(stage) ? { ...stage, ...patch } : stage)) }, refusal: undefined }));
}

/** Changes fields of the recipe's kvcache stage. */
export function setKvCacheStage(patch: Partial<Omit<KvCacheStage, 'kind'>>): void {
  patchStages(isKvCacheStage, patch);
}

/** The recipe's attention (ACT) stage, when it has one. */
export function attentionStageOf(recipe: Recipe): AttentionStage | undefined {
  return recipe.stages.find(isAttentionStage);
}

/** Changes fields of the recipe's attention stage. */
export function setAttentionStage(patch: Partial<Omit<AttentionStage, 'kind'>>): void {
  patchStages(isAttentionStage, patch);
}

/** Changes the recipe's seed and calibration settings. */
export function setCalibration(patch: Partial<Recipe['calibration']> & { seed?: number }): void {
  const { seed, ...calibration } = patch;
  useLab.setState((s) => ({ recipe: { ...s.recipe, ...(seed === undefined ? {} : { seed }), calibration: { ...s.recipe.calibration, ...calibration } }, refusal: undefined }));
}

/** Every reason the current recipe cannot run now, with its field path first; [] when it can. */
export function runProblems(recipe: Recipe = useLab.getState().recipe): string[] {
  const { model } = useLab.getState();
  if (!model.analysis) return ['Load a model first.'];
  const set = currentEvalSet();
  const problems = validateRecipe(recipe, model.analysis, set?.calibSet.kind === 'lm-tokens' ? set.calibSet.sequences.length : set?.calibSet.images.length);
  if (!set)
    problems.push(
      model.hf?.tokenizer
        ? 'calibration: no calibration set — give the model text under “Your data” first'
        : 'calibration: no calibration set — pruning needs a bundled model’s calib.json (load a bundled model, or a model compatible with it)',
    );
  return problems;
}

/**
 * Runs a recipe (the builder's by default) as a new run record. Resolves with the run's id once it
 * finished (inference timed too), failed or was cancelled — a sweep waits for it, so the next
 * point's compression does not disturb this one's timing; undefined when the run was refused.
 */
export async function runRecipe(recipe: Recipe = useLab.getState().recipe, sweep?: RunSweepTag): Promise<string | undefined> {
  const state = useLab.getState();
  const { model, poolSize, computeBackend, evaluation } = state;
  const problems = runProblems(recipe);
  if (problems.length > 0 || !model.analysis || !model.source) {
    useLab.setState({ refusal: problems.join(' ') || 'No model is loaded.' });
    return undefined;
  }
  const set = currentEvalSet()!;
  // Numbers keep growing across reloads (the history's runs are in the list); the id is unique
  // across tabs too, since two tabs may number a run alike.
  const number = nextRunNumber();
  const id = `run-${number}-${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const startedAt = performance.now();
  const run: RunRecord = {
    id,
    number,
    startedAt: Date.now(),
    model: { label: model.card?.name ?? (model.source.kind === 'file' ? model.source.name : model.source.id), stem: modelStem(model.source), source: model.source, loadId: model.loadId, sha256: model.sha256 },
    recipe: structuredClone(recipe),
    computeBackend,
    poolSize,
    status: 'running',
    progress: { phase: 'start', label: 'Starting', done: 0, total: 1 },
    phaseMs: {},
    layersDone: [],
    dense: { metrics: evaluation.metrics, sizeBytes: model.sizeBytes, ...(evaluation.text ? { text: evaluation.text } : {}), ...(evaluation.masked ? { masked: evaluation.masked } : {}) },
    held: false,
    ...(sweep ? { sweep } : {}),
  };
  useLab.setState((s) => ({ runs: [...s.runs, run], selectedRunId: id, refusal: undefined }));
  mark(`lab:${id}-start`);
  let lastEvent = startedAt;
  const onProgress = (progress: Progress) => {
    const now = performance.now();
    const spent = now - lastEvent;
    lastEvent = now;
    patchRun(id, (r) => ({
      progress,
      phaseMs: { ...r.phaseMs, [progress.phase]: (r.phaseMs[progress.phase] ?? 0) + spent },
      layersDone: progress.layerId ? [...r.layersDone, progress.layerId] : r.layersDone,
    }));
  };
  const job = worker.compress({ runId: id, sourceModel: run.model.stem, recipe: run.recipe, calibSet: set.calibSet, poolSize, computeBackend, numThreads: wasmThreads(), wasmPaths }, onProgress);
  jobs.set(id, job.jobId);
  try {
    const result = await job.done;
    // A cancel that reached the worker after the compression finished would be lost with its job.
    if (useLab.getState().runs.find((r) => r.id === id)?.cancelling) throw new Cancelled('run');
    offerDownload(id, result.bytes);
    offerFolderDownload(id, result.bytes, result.report, folderRoot(run.model.stem, run.recipe));
    releaseOldRuns(id);
    patchRun(id, { report: result.report, held: true });
    const evalJob = worker.evaluate({ target: { runId: id }, dataset: set.dataset, backend: useLab.getState().backend, numThreads: wasmThreads(), wasmPaths, seed: run.recipe.seed, ...(set.masked ? { masked: set.masked } : {}) }, (p) => {
      onProgress(p);
      patchRun(id, { evaluation: { status: 'running', datasetLabel: set.label, progress: p } });
    });
    jobs.set(id, evalJob.jobId);
    const r = await evalJob.done;
    onProgress({ phase: 'evaluate', label: 'done', done: 1, total: 1 });
    const text = textMetricsOf(set, r);
    const masked = maskedMetricsOf(set, r);
    patchRun(id, { status: 'done', progress: undefined, cancelling: false, durationMs: performance.now() - startedAt, evaluation: { status: 'done', datasetLabel: set.label, metrics: r.metrics, backend: r.backend, evalMs: r.evalMs, ...(text ? { text } : {}), ...(masked ? { masked } : {}) }, ...(r.interval ? { interval: r.interval } : {}) });
    mark(`lab:${id}-metrics`);
    announce(`Run ${number} finished: ${run.model.label}, ${result.report.summary}.`);
    jobs.delete(id); // nothing left to cancel: timing follows a finished run
    await timeInference(id, set.dataset);
  } catch (e) {
    const cancelled = e instanceof Cancelled;
    patchRun(id, (r) => ({
      status: cancelled ? 'cancelled' : 'error',
      progress: undefined,
      cancelling: false,
      durationMs: performance.now() - startedAt,
      message: cancelled ? 'Cancelled; the loaded model is unchanged.' : (e as Error).message,
      evaluation: r.evaluation?.status === 'running' ? { ...r.evaluation, status: cancelled ? 'cancelled' : 'error', message: (e as Error).message } : r.evaluation,
    }));
    announce(cancelled ? `Run ${number} cancelled.` : `Run ${number} failed: ${(e as Error).message}`);
  } finally {
    jobs.delete(id);
  }
  return id;
}

/**
 * Is it faster? Times the dense and the compressed model alike (same batch, alternating, after a
 * warm-up) once the run's metrics are on screen; a single evaluation's wall time would compare a
 * cold runtime with a warm one.
 */
async function timeInference(id: string, dataset: Dataset): Promise<void> {
  patchRun(id, { timing: { status: 'running' } });
  try {
    const t = await worker.timeInference({ runId: id, dataset, backend: useLab.getState().backend, numThreads: wasmThreads(), wasmPaths }).done;
    const report = useLab.getState().runs.find((r) => r.id === id)?.report;
    // The measured latency joins the report (as `lab run` puts it there), with a stage's prediction beside it.
    const latency = report && t.latency ? { report: { ...report, latency: runLatency(t.latency.dense, t.latency.compressed, predictedLatencyOf(report.stages)) } } : {};
    patchRun(id, { timing: { status: 'done', denseMsPerItem: t.denseMsPerItem, runMsPerItem: t.runMsPerItem, backend: t.backend.used, rounds: t.rounds }, ...latency });
  } catch (e) {
    patchRun(id, { timing: { status: 'error', message: (e as Error).message } });
  }
}

export function cancelRun(id: string): void {
  const job = jobs.get(id);
  if (job === undefined) return;
  patchRun(id, { cancelling: true });
  worker.cancel(job);
}

export function cancelAllRuns(): void {
  for (const id of jobs.keys()) cancelRun(id);
}

export function selectRun(id: string): void {
  useLab.setState({ selectedRunId: id });
}

/** A run whose result the worker no longer holds: its download goes too. */
function release(run: RunRecord): void {
  withdrawDownload(run.id);
  withdrawFolderDownload(run.id);
  patchRun(run.id, { held: false });
}

/** The worker keeps the last MAX_HELD_RUNS results of this model: older ones lose their download too. */
function releaseOldRuns(latest: string): void {
  const held = useLab.getState().runs.filter((r) => r.held || r.id === latest);
  held.slice(0, Math.max(0, held.length - MAX_HELD_RUNS)).forEach(release);
}

/** Marks every held run as gone (the worker dropped them with the model they were made from). */
export function releaseAllRuns(): void {
  useLab.getState().runs.filter((r) => r.held).forEach(release);
}

function announce(text: string): void {
  useLab.setState({ announcement: text });
}

/** The keep mask and magnitudes of one layer of a run's result, read in the worker. */
export function runLayerMask(runId: string, layerId: string) {
  return worker.mask({ runId, layerId }).done;
}

/** A quantized layer of a run's result for the weight histogram: dense weights, stored values and the grid, read in the worker. */
export function runQuantLayer(runId: string, layer: { id: string; method: string; mxFormat?: MxFormat }, scope: QuantScope) {
  return worker.quantLayer({ runId, layerId: layer.id, method: layer.method, mxFormat: layer.mxFormat, scope }).done;
}

export function runDownload(run: RunRecord): { url: string; fileName: string } | undefined {
  const url = downloadUrl(run.id);
  return url ? { url, fileName: compressedFileName(run.model.stem, run.recipe) } : undefined;
}
