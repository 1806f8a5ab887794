// pruneModel: recipe + model + calibration set → pruned copy of the model and a report.
//   1. validate the recipe against the model (nothing runs when it is impossible)
//   2. a dense calibration pass when the allocator or one-pass mode needs one
//   3. per-layer sparsities from the allocator, checked against the target
//   4. pruning: one-pass (every layer on dense statistics), or sequential as in the SparseGPT /
//      Wanda reference code: block by block, each calibrated on the outputs of the blocks before
//      it *after* they were pruned (src/core/calibrate/blockwise.ts: each block's subgraph runs on
//      the stored boundary activations, so the work is linear in depth)
//   5. the report (measured sizes, estimated sparse sizes, hashes)
// The input model is never mutated; on error or cancellation nothing partial escapes.
import { openSequentialCalibration, type SequentialCalibration } from '../calibrate/blockwise.ts';
import { calibrate, CalibrationCancelled, type CalibrationStats, type CollectOptions } from '../calibrate/collect.ts';
import type { AccumulatorFactory } from '../calibrate/accumulator.ts';
import { chooseSamples } from '../calibrate/random.ts';
import type { TokenSelectionSite } from '../calibrate/tokenSelection.ts';
import { datasetSize, type Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { SENSITIVITY_RATIOS } from '../prune/allocation/sensitivity.ts';
import { magnitudePruneGlobal } from '../prune/magnitude.ts';
import { unstructured, type SparsityPattern } from '../prune/patterns.ts';
import type { LayerStats, Matrix } from '../prune/types.ts';
import { needsCalibration } from '../recipe/defaults.ts';
import { prunableLayers } from '../recipe/layers.ts';
import { RecipeError } from '../recipe/parse.ts';
import type { PruneRecipe } from '../recipe/types.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { allocateSparsity, type Allocation } from './allocate.ts';
import { dispatchJobs, PruneCancelled } from './dispatch.ts';
import { cpuPruneLayer, type PruneJob, type PruneJobResult, type PruneLayerFn } from './jobs.ts';
import { buildReport } from './buildReport.ts';
import type { PruneReport } from './report.ts';
import { pipelineStages, type PruneStage } from './stages.ts';
import { WorkingModel } from './weights.ts';

export type PruneProgress =
  | { phase: 'calibrate'; pass: 'dense' | 'stage'; stage: number; stages: number; label: string; done: number; total: number }
  | { phase: 'allocate'; done: number; total: number }
  | { phase: 'prune'; stage: number; stages: number; label: string; done: number; total: number; layerId?: string }
  | { phase: 'report' };

export interface PruneModelRequest {
  model: ModelProto;
  analysis: ModelAnalysis;
  recipe: PruneRecipe;
  /** calib.json of the model; required unless the recipe is magnitude with uniform allocation. */
  calibSet?: Dataset;
  /** Opens an inference session on model bytes (src/runtime/ort.ts in the app and CLI). */
  createRunner?: (bytes: Uint8Array) => Promise<ModelRunner>;
  /** Runs one layer's job; default: the CPU path in this thread. A worker pool plugs in here. */
  pruneLayer?: PruneLayerFn;
  /** Per-layer input statistics; default CPU (a GPU Hessian kernel plugs in here). */
  accumulatorFactory?: AccumulatorFactory;
  /**
   * Sequential calibration reduces layer inputs to Gram matrices inside the ORT graph (float32
   * per batch; src/core/calibrate/graphGram.ts) instead of in float64 in JS. Faster, close to
   * but not bit-equal with the default, so it changes the weights hash. Default false.
   */
  gramInGraph?: boolean;
  onProgress?: (progress: PruneProgress) => void;
  /** Checked between calibration batches and jobs; an AbortSignal fits. */
  cancel?: { readonly aborted: boolean };
}

export interface PruneOutcome {
  /** The pruned copy; shares every unchanged tensor with the input model. */
  model: ModelProto;
  /** writeModel(model), already written for the report's size and hash. */
  bytes: Uint8Array;
  report: PruneReport;
}

/** Everything the steps share. */
interface Run {
  request: PruneModelRequest;
  recipe: PruneRecipe;
  layers: LinearLayer[];
  stages: PruneStage[];
  working: WorkingModel;
  sampleIndices: number[];
  pruneLayer: PruneLayerFn;
  tokenSites: Map<string, TokenSelectionSite>;
  calibrationPasses: number;
  calibrationMs: number;
  notes: string[];
}

const now = () => performance.now();

export async function pruneModel(request: PruneModelRequest): Promise<PruneOutcome> {
  try {
    return await runPipeline(request);
  } catch (e) {
    if (e instanceof CalibrationCancelled) throw new PruneCancelled();
    throw e;
  }
}

async function runPipeline(request: PruneModelRequest): Promise<PruneOutcome> {
  const started = now();
  const run = prepare(request);
  const dense = await densePass(run);
  const allocationStart = now();
  const denseWeights = new Map(run.layers.map((layer) => [layer.id, run.working.readWeight(layer)]));
  const allocation = await allocate(run, denseWeights, dense);
  const allocationMs = now() - allocationStart;
  const pruneStart = now();
  const calibrationBefore = run.calibrationMs;
  const results = await prune(run, allocation, dense);
  const pruneMs = now() - pruneStart - (run.calibrationMs - calibrationBefore);
  request.onProgress?.({ phase: 'report' });
  return buildReport({
    recipe: run.recipe,
    analysis: request.analysis,
    layers: run.layers,
    working: run.working,
    allocation,
    results,
    calibration: needsCalibration(run.recipe)
      ? { mode: run.recipe.calibration.mode, samples: run.sampleIndices.length, seed: run.recipe.calibration.seed, passes: run.calibrationPasses, ms: run.calibrationMs }
      : null,
    timings: { totalMs: now() - started, calibrationMs: run.calibrationMs, pruneMs, allocationMs },
    notes: [...run.notes, ...run.working.notes],
  });
}

function prepare(request: PruneModelRequest): Run {
  const { recipe, analysis, calibSet } = request;
  const problems = validateRecipe(recipe, analysis, calibSet ? datasetSize(calibSet) : undefined);
  if (problems.length > 0) throw new RecipeError(problems);
  const calibrated = needsCalibration(recipe);
  if (calibrated && (calibSet === undefined || request.createRunner === undefined)) {
    throw new RecipeError([`${recipe.method} with ${recipe.allocation.kind} allocation needs calibration: pass calibSet and createRunner`]);
  }
  const layers = prunableLayers(analysis, recipe);
  const notes: string[] = [];
  const tokenSites = new Map<string, TokenSelectionSite>();
  if (recipe.allocation.tokenSelection) {
    for (const layer of layers) {
      const site = analysis.attention.find((s) => s.block !== null && s.block === layer.block);
      if (site) tokenSites.set(layer.id, { tensor: site.output });
      else notes.push(`${layer.name}: no attention site in its block, so token selection uses all tokens`);
    }
  }
  return {
    request,
    recipe,
    layers,
    stages: pipelineStages(layers),
    working: new WorkingModel(request.model),
    sampleIndices: calibrated ? chooseSamples(datasetSize(calibSet!), recipe.calibration.samples, recipe.calibration.seed) : [],
    pruneLayer: request.pruneLayer ?? cpuPruneLayer,
    tokenSites,
    calibrationPasses: 0,
    calibrationMs: 0,
    notes,
  };
}

/** The collection options of one pass over `layers`. */
function passOptions(run: Run, layers: readonly LinearLayer[], pass: 'dense' | 'stage', stage: number, label: string): Omit<CollectOptions, 'sampleIndices'> {
  const { request, recipe } = run;
  const tokenSelection = new Map([...run.tokenSites].filter(([id]) => layers.some((layer) => layer.id === id)));
  const wantOutputs = recipe.allocation.kind === 'tamp' && pass === 'dense';
  return {
    batchSize: recipe.calibration.batchSize,
    hessian: true,
    outputSample: wantOutputs ? recipe.calibration.outputSample : 0,
    seed: recipe.calibration.seed,
    tokenSelection,
    accumulatorFactory: request.accumulatorFactory,
    cancel: request.cancel,
    onProgress: ({ done, total }) => request.onProgress?.({ phase: 'calibrate', pass, stage, stages: run.stages.length, label, done, total }),
  };
}

/** Times a calibration step into the run's totals. */
async function timed<T>(run: Run, step: () => Promise<T>): Promise<T> {
  const start = now();
  try {
    return await step();
  } finally {
    run.calibrationMs += now() - start;
  }
}

/** One calibration session over `layers` of the working model as it is now. */
async function calibrationPass(run: Run, layers: readonly LinearLayer[], pass: 'dense' | 'stage', stage: number, label: string): Promise<CalibrationStats> {
  const options = passOptions(run, layers, pass, stage, label);
  const stats = await timed(run, () =>
    calibrate({
      model: run.working.model,
      layers,
      tapOutputs: options.outputSample! > 0 || options.tokenSelection!.size > 0,
      createRunner: run.request.createRunner!,
      dataset: run.request.calibSet!,
      options: { ...options, sampleIndices: run.sampleIndices },
    }),
  );
  run.calibrationPasses++;
  return stats;
}

/**
 * Sequential calibration over the run's stages: block by block on stored boundary activations
 * (src/core/calibrate/blockwise.ts), or the whole model per stage where the graph cannot be cut.
 */
function openSequence(run: Run): SequentialCalibration {
  const sequence = openSequentialCalibration({
    model: run.working.model,
    stages: run.stages.map((stage) => {
      const sites = stage.layers.flatMap((layer) => run.tokenSites.get(layer.id)?.tensor ?? []);
      return { layers: stage.layers, tapOutputs: sites.length > 0, tensors: sites };
    }),
    createRunner: run.request.createRunner!,
    dataset: run.request.calibSet!,
    sampleIndices: run.sampleIndices,
    batchSize: run.recipe.calibration.batchSize,
    gramInGraph: run.request.gramInGraph,
  });
  if (sequence.fallbackReason) run.notes.push(`sequential calibration ran the whole model for every block: ${sequence.fallbackReason}`);
  return sequence;
}

/** The dense model's statistics, when the allocator or one-pass calibration needs them. */
async function densePass(run: Run): Promise<CalibrationStats | undefined> {
  const { recipe } = run;
  const forAllocation = recipe.allocation.kind !== 'uniform';
  const forOnePass = recipe.method !== 'magnitude' && recipe.calibration.mode === 'one-pass';
  if (!forAllocation && !forOnePass) return undefined;
  return calibrationPass(run, run.layers, 'dense', 0, 'dense model');
}

function statsFor(stats: CalibrationStats | undefined, id: string): LayerStats | undefined {
  return stats?.layers.get(id);
}

function job(run: Run, index: number, layer: LinearLayer, weight: Matrix, pattern: SparsityPattern, stats: CalibrationStats | undefined, purpose: PruneJob['purpose']): PruneJob {
  const { recipe } = run;
  const layerStats = statsFor(stats, layer.id);
  const sqNorm = stats?.selectedSqNorm.get(layer.id) ?? layerStats?.sqNorm;
  return {
    index,
    layerId: layer.id,
    purpose,
    method: recipe.method,
    pattern,
    magnitudeGroup: recipe.magnitudeScope === 'row' ? 'row' : 'layer',
    weight,
    ...(sqNorm ? { sqNorm } : {}),
    ...(layerStats && layerStats.hessian.length > 0 ? { hessian: layerStats.hessian } : {}),
    sparseGpt: { ...recipe.sparseGpt },
  };
}

async function allocate(run: Run, weights: Map<string, Matrix>, dense: CalibrationStats | undefined): Promise<Allocation> {
  const { recipe, request } = run;
  let sensitivityErrors: Map<string, number[]> | undefined;
  if (recipe.allocation.kind === 'sensitivity') {
    // Each layer pruned alone at every ratio; its error from H, no extra forward pass.
    const ratios = SENSITIVITY_RATIOS;
    const jobs = run.layers.flatMap((layer, l) =>
      ratios.map((ratio, k) => job(run, l * ratios.length + k, layer, weights.get(layer.id)!, unstructured(ratio), dense, 'sensitivity')),
    );
    const results = await dispatchJobs(jobs, run.pruneLayer, {
      cancel: request.cancel,
      onDone: (_, done) => request.onProgress?.({ phase: 'allocate', done, total: jobs.length }),
    });
    sensitivityErrors = new Map(run.layers.map((layer, l) => [layer.id, results.slice(l * ratios.length, (l + 1) * ratios.length).map((r) => r.relativeError ?? NaN)]));
  }
  return allocateSparsity({ recipe, layers: run.layers, weights, stats: dense?.layers, sensitivityErrors });
}

interface StageRef {
  index: number;
  /** Stages of this run: one per block in sequential mode, 1 when all layers go at once. */
  count: number;
  label: string;
}

async function pruneStage(run: Run, stage: StageRef, layers: readonly LinearLayer[], allocation: Allocation, stats: CalibrationStats | undefined): Promise<PruneJobResult[]> {
  const { request } = run;
  const jobs = layers.map((layer, i) => job(run, i, layer, run.working.readWeight(layer), allocation.patterns.get(layer.id)!, stats, 'prune'));
  const results = await dispatchJobs(jobs, run.pruneLayer, {
    cancel: request.cancel,
    onDone: (result, done) => request.onProgress?.({ phase: 'prune', stage: stage.index, stages: stage.count, label: stage.label, done, total: jobs.length, layerId: result.layerId }),
  });
  // Written in layer order once all are back: the model never depends on completion order.
  layers.forEach((layer, i) => run.working.writeWeight(layer, results[i].weight));
  return results;
}

async function prune(run: Run, allocation: Allocation, dense: CalibrationStats | undefined): Promise<Map<string, PruneJobResult>> {
  const { recipe } = run;
  const results = new Map<string, PruneJobResult>();
  const keep = (batch: PruneJobResult[]) => batch.forEach((result) => results.set(result.layerId, result));
  if (recipe.method === 'magnitude' && recipe.magnitudeScope === 'global') {
    keep(pruneGlobalMagnitude(run));
  } else if (recipe.method === 'magnitude' || recipe.calibration.mode === 'one-pass') {
    keep(await pruneStage(run, { index: 0, count: 1, label: 'all layers' }, run.layers, allocation, dense));
  } else {
    const sequence = openSequence(run);
    try {
      for (const [s, stage] of run.stages.entries()) {
        if (run.request.cancel?.aborted) throw new PruneCancelled();
        // The first stage sees the dense model, so a dense pass already made serves it.
        let stats = dense;
        if (s > 0 || !dense) {
          stats = await timed(run, () => sequence.stats(s, passOptions(run, stage.layers, 'stage', s, stage.label)));
          run.calibrationPasses++;
        }
        keep(await pruneStage(run, { index: s, count: run.stages.length, label: stage.label }, stage.layers, allocation, stats));
        const label = `${stage.label}, pruned (the next block's inputs)`;
        const onProgress = ({ done, total }: { done: number; total: number }) =>
          run.request.onProgress?.({ phase: 'calibrate', pass: 'stage', stage: s, stages: run.stages.length, label, done, total });
        await timed(run, () => sequence.advance(s, { cancel: run.request.cancel, onProgress }));
      }
    } finally {
      sequence.release();
    }
  }
  return results;
}

/** Magnitude over all prunable layers at once: one threshold, so no per-layer jobs. */
function pruneGlobalMagnitude(run: Run): PruneJobResult[] {
  const start = now();
  const weights = run.layers.map((layer) => run.working.readWeight(layer));
  const pruned = magnitudePruneGlobal(weights, run.recipe.sparsity);
  const ms = (now() - start) / run.layers.length;
  return run.layers.map((layer, index) => {
    run.working.writeWeight(layer, pruned[index].weight);
    return { index, layerId: layer.id, weight: pruned[index].weight, keep: pruned[index].keep, relativeError: null, ms, backend: 'cpu' };
  });
}
