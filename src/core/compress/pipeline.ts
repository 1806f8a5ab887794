// compressModel: recipe + model + calibration set → compressed copy of the model and a report.
//   1. validate the recipe against the model (nothing runs when it is impossible)
//   2. one dense calibration pass when a stage needs dense statistics or the mode is one-pass
//   3. start every stage (src/core/compress/stage.ts): plans from the dense statistics
//   4. walk the model: one step per block in sequential mode, as in the SparseGPT / Wanda
//      reference code — each block calibrated on the outputs of the blocks before it *after*
//      every stage changed them, once for all stages — or one step over all layers (one-pass, or
//      when no stage needs per-step statistics); each stage applies its part of the step in order
//   5. the file, with the recipe in its metadata_props (metadata.ts), and the report (measured
//      sizes, estimated sparse sizes, hashes, backends)
// The pipeline knows stage kinds only through the registries (recipe/stage.ts, compress/stage.ts).
// The input model is never mutated; on error or cancellation nothing partial escapes.
import type { AccumulatorFactory } from '../calibrate/accumulator.ts';
import type { CalibrationStats } from '../calibrate/collect.ts';
import { datasetSize, type Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import type { RunBackends } from '../job/backend.ts';
import { throwIfCancelled, type CancelSignal } from '../job/cancel.ts';
import type { ProgressListener } from '../job/progress.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { RecipeError } from '../recipe/parse.ts';
import { stageKind, stageKindOf, type Statistic } from '../recipe/stage.ts';
import type { Recipe } from '../recipe/types.ts';
import { neededStatistics, validateRecipe } from '../recipe/validate.ts';
import { buildReport } from './buildReport.ts';
import { Calibration } from './calibration.ts';
import { cpuPruneLayer, type PruneLayerFn } from './jobs.ts';
import type { QuantizeLayerFn } from './quantJobs.ts';
import type { CalibrationSummary, CompressReport, StageReport } from './report.ts';
import { reshapingStage, stageRunner, type ReshapeContext, type StageRun, type StageRunner } from './stage.ts';
import './stages.ts';
import { pipelineSteps } from './steps.ts';
import { WorkingModel } from './weights.ts';

export interface CompressRequest {
  model: ModelProto;
  analysis: ModelAnalysis;
  recipe: Recipe;
  /** calib.json of the model; required when a stage needs calibration statistics. */
  calibSet?: Dataset;
  /** Opens an inference session on model bytes (src/runtime/ort.ts in the app and CLI). */
  createRunner?: (bytes: Uint8Array) => Promise<ModelRunner>;
  /** Runs one layer's job; default: the CPU path in this thread. A worker pool plugs in here. */
  pruneLayer?: PruneLayerFn;
  /** Runs one layer's RTN or GPTQ; default: the CPU path in this thread (gpuQuantizeLayer plugs in here). */
  quantizeLayer?: QuantizeLayerFn;
  /** Per-layer input statistics; default CPU (a GPU Hessian kernel plugs in here). */
  accumulatorFactory?: AccumulatorFactory;
  /**
   * Sequential calibration reduces layer inputs to Gram matrices inside the ORT graph (float32
   * per batch; src/core/calibrate/graphGram.ts) instead of in float64 in JS. Faster, close to
   * but not bit-equal with the default, so it changes the weights hash. Default false.
   */
  gramInGraph?: boolean;
  /**
   * The input model's name (its model card id, or the file's stem), written into the output's
   * metadata_props as compression_lab.source_model; default: the recipe's model.id, if any.
   */
  sourceModel?: string;
  /** What the caller's injections run on, for the report (default: everything on the CPU). */
  backends?: Partial<RunBackends>;
  onProgress?: ProgressListener;
  cancel?: CancelSignal;
}

export interface CompressOutcome {
  /** The compressed copy, with the lab's metadata_props; shares every unchanged tensor with the input model. */
  model: ModelProto;
  /** writeModel(model), already written for the report's size and hash. */
  bytes: Uint8Array;
  report: CompressReport;
}

interface PlannedStage {
  /** Position in recipe.stages. */
  index: number;
  runner: StageRunner;
  layers: LinearLayer[];
  layerIds: Set<string>;
}

/** Everything the steps share. */
interface Run {
  request: CompressRequest;
  recipe: Recipe;
  /** The segment's model analysis (the input's, or what a shape change returned, re-analysed). */
  analysis: ModelAnalysis;
  stages: PlannedStage[];
  /** The union of the stages' layers, in model order. */
  layers: LinearLayer[];
  needs: { dense: Set<Statistic>; step: Set<Statistic> };
  working: WorkingModel;
  calibration?: Calibration;
  notes: string[];
}

const now = () => performance.now();

export async function compressModel(request: CompressRequest): Promise<CompressOutcome> {
  const started = now();
  const problems = validateRecipe(request.recipe, request.analysis, request.calibSet ? datasetSize(request.calibSet) : undefined);
  if (problems.length > 0) throw new RecipeError(problems);
  let model = request.model;
  let analysis = request.analysis;
  let last: WeightSegment | undefined;
  const stageReports: StageReport[] = [];
  const calibrations: Calibration[] = [];
  const notes: string[] = [];
  const timings = { calibrationMs: 0, stagesMs: 0, planMs: 0 };
  const segments = recipeSegments(request.recipe);
  for (const [s, segment] of segments.entries()) {
    throwIfCancelled(request.cancel, 'compression');
    if (s > 0) {
      // The stages after a shape change run on the model it returned, re-analysed and re-checked.
      analysis = analyzeModel(model);
      const later = laterStageProblems(request, analysis, segment);
      if (later.length > 0) throw new RecipeError(later);
    }
    if (segment.kind === 'reshape') {
      const outcome = await reshapeStage(request, model, analysis, segment.index, calibrations, notes);
      model = outcome.model;
      stageReports.push(outcome.report);
      timings.stagesMs += outcome.report.ms;
      last = undefined;
      continue;
    }
    last = await weightSegment(request, model, analysis, segment.indices);
    if (last.calibration) calibrations.push(last.calibration);
    stageReports.push(...last.reports);
    timings.stagesMs += last.stagesMs;
    timings.planMs += last.planMs;
    notes.push(...last.notes);
    model = last.exported;
  }
  for (const calibration of calibrations) timings.calibrationMs += calibration.elapsedMs;
  const reshaped = segments.some((segment) => segment.kind === 'reshape');
  // A run that ends with a shape change reports on the model it returned; with any shape change,
  // every linear layer of the result counts as changed (its hash covers them all).
  const final = last ?? { working: new WorkingModel(model), exported: model, analysis: analyzeModel(model), layers: [] as LinearLayer[] };
  const finalAnalysis = last ? analysis : final.analysis;
  return buildReport({
    exported: final.exported,
    recipe: request.recipe,
    analysis: finalAnalysis,
    layers: reshaped ? finalAnalysis.linears : final.layers,
    working: final.working,
    stages: stageReports,
    calibration: mergedCalibrationSummary(calibrations),
    backends: { layerFallbacks: 0, ...request.backends },
    timings: { totalMs: now() - started, ...timings },
    notes: [...notes, ...final.working.notes],
    sourceModel: request.sourceModel,
  });
}

/** Runs of weight stages, and each shape-changing stage on its own, in recipe order. */
type Segment = { kind: 'weights'; indices: number[] } | { kind: 'reshape'; index: number };

export function recipeSegments(recipe: Recipe): Segment[] {
  const segments: Segment[] = [];
  recipe.stages.forEach((stage, index) => {
    if (stageKind(stage.kind)?.reshapes) segments.push({ kind: 'reshape', index });
    else {
      const tail = segments.at(-1);
      if (tail?.kind === 'weights') tail.indices.push(index);
      else segments.push({ kind: 'weights', indices: [index] });
    }
  });
  return segments;
}

/**
 * What the stages of a later segment cannot do on the model an earlier shape change returned
 * (e.g. a group size that no longer divides a narrower layer), by field, before they run.
 */
function laterStageProblems(request: CompressRequest, analysis: ModelAnalysis, segment: Segment): string[] {
  const indices = segment.kind === 'weights' ? segment.indices : [segment.index];
  const shapeChanges = request.recipe.stages.slice(0, indices[0]).map((stage, i) => ({ stage, i })).filter(({ stage }) => stageKind(stage.kind)?.reshapes);
  const after = shapeChanges.map(({ i }) => `stages[${i}]`).join(', ');
  const problems = validateRecipe(request.recipe, analysis, request.calibSet ? datasetSize(request.calibSet) : undefined);
  return problems.filter((problem) => indices.some((i) => problem.startsWith(`stages[${i}]`))).map((problem) => `${problem} (on the model ${after} returned)`);
}

/** One calibration summary for the report: every session the run opened, in every segment. */
function mergedCalibrationSummary(calibrations: readonly Calibration[]): CalibrationSummary | null {
  if (calibrations.length === 0) return null;
  const summaries = calibrations.map((c) => c.summary());
  const sequence = summaries.map((s) => s.sequence).filter((kind) => kind !== undefined).at(-1);
  return {
    ...summaries[0],
    passes: summaries.reduce((n, s) => n + s.passes, 0),
    ms: summaries.reduce((n, s) => n + s.ms, 0),
    ...(sequence ? { sequence } : {}),
  };
}

async function reshapeStage(request: CompressRequest, model: ModelProto, analysis: ModelAnalysis, index: number, calibrations: Calibration[], notes: string[]) {
  const stage = request.recipe.stages[index];
  const runner = reshapingStage(stage.kind);
  if (runner === undefined) throw new RecipeError([`stages[${index}].kind: no runner for stage kind "${stage.kind}" in this build`]);
  const context: ReshapeContext = {
    recipe: request.recipe,
    index,
    model,
    analysis,
    calibSet: request.calibSet,
    createRunner: request.createRunner,
    pruneLayer: request.pruneLayer ?? cpuPruneLayer,
    cancel: request.cancel,
    onProgress: (p) => request.onProgress?.(p),
    notes,
    openCalibration: (layers) => {
      const calibration = openReshapeCalibration(request, analysis, layers, notes);
      calibrations.push(calibration);
      return calibration;
    },
  };
  return runner.reshape(stage, context);
}

/** The run's Calibration for a shape-changing stage (its samples, seed, batch size and session factory). */
function openReshapeCalibration(request: CompressRequest, analysis: ModelAnalysis, layers: readonly LinearLayer[], notes: string[]): Calibration {
  if (request.calibSet === undefined || request.createRunner === undefined) {
    throw new RecipeError([`stages: ${request.recipe.stages.map((s) => stageKindOf(s).describe(s)).join(' → ')} needs calibration: pass calibSet and createRunner`]);
  }
  return new Calibration({
    recipe: request.recipe,
    analysis,
    layers,
    tokenSelection: false,
    calibSet: request.calibSet,
    createRunner: request.createRunner,
    accumulatorFactory: request.accumulatorFactory,
    gramInGraph: request.gramInGraph,
    cancel: request.cancel,
    onProgress: request.onProgress,
    notes,
  });
}

interface WeightSegment {
  exported: ModelProto;
  working: WorkingModel;
  analysis: ModelAnalysis;
  layers: LinearLayer[];
  reports: StageReport[];
  calibration?: Calibration;
  notes: string[];
  stagesMs: number;
  planMs: number;
}

/** The weight stages `indices` (consecutive, none shape-changing) on `model`, walked to the end and exported. */
async function weightSegment(request: CompressRequest, model: ModelProto, analysis: ModelAnalysis, indices: number[]): Promise<WeightSegment> {
  const run = prepare(request, model, analysis, indices);
  const dense = await densePass(run);
  const planStart = now();
  const runs = await startStages(run, dense);
  const planMs = now() - planStart;
  const walkStart = now();
  const calibrationBefore = run.calibration?.elapsedMs ?? 0;
  await walk(run, runs, dense);
  const stagesMs = now() - walkStart - ((run.calibration?.elapsedMs ?? 0) - calibrationBefore);
  request.onProgress?.({ phase: 'report', label: 'report', done: 0, total: 1 });
  const reports: StageReport[] = [];
  // finish() is stage work too: the attention stage's head search runs there.
  const finishStart = now();
  for (const stage of runs) reports.push(await stage.finish());
  const finishMs = now() - finishStart;
  // The file's graph: each stage that stores weights differently rewrites it, in recipe order.
  let exported = run.working.model;
  for (const stage of runs) {
    if (!stage.exportGraph) continue;
    const result = stage.exportGraph(exported);
    exported = result.model;
    run.notes.push(...result.notes);
  }
  return { exported, working: run.working, analysis, layers: run.layers, reports, calibration: run.calibration, notes: run.notes, stagesMs: stagesMs + finishMs, planMs };
}

function prepare(request: CompressRequest, model: ModelProto, analysis: ModelAnalysis, indices: readonly number[]): Run {
  const { recipe, calibSet } = request;
  const problems: string[] = [];
  const stages: PlannedStage[] = [];
  for (const i of indices) {
    const stage = recipe.stages[i];
    const kind = stageKind(stage.kind);
    const runner = stageRunner(stage.kind);
    if (kind === undefined) continue; // validateRecipe named it
    if (runner === undefined) problems.push(`stages[${i}].kind: no runner for stage kind "${stage.kind}" in this build`);
    const layers = kind.layers(stage, analysis);
    if (runner) stages.push({ index: i, runner, layers, layerIds: new Set(layers.map((l) => l.id)) });
  }
  if (problems.length > 0) throw new RecipeError(problems);
  const needs = neededStatistics({ ...recipe, stages: indices.map((i) => recipe.stages[i]) });
  const calibrated = needs.dense.size > 0 || needs.step.size > 0;
  if (calibrated && (calibSet === undefined || request.createRunner === undefined)) {
    throw new RecipeError([`stages: ${recipe.stages.map((s) => stageKindOf(s).describe(s)).join(' → ')} needs calibration: pass calibSet and createRunner`]);
  }
  const touched = new Set(stages.flatMap((s) => [...s.layerIds]));
  const layers = analysis.linears.filter((layer) => touched.has(layer.id));
  const notes: string[] = [];
  const working = new WorkingModel(model);
  const calibration = calibrated
    ? new Calibration({
        recipe,
        analysis,
        layers,
        tokenSelection: needs.dense.has('attention') || needs.step.has('attention'),
        calibSet: calibSet!,
        createRunner: request.createRunner!,
        accumulatorFactory: request.accumulatorFactory,
        gramInGraph: request.gramInGraph,
        cancel: request.cancel,
        onProgress: request.onProgress,
        notes,
      })
    : undefined;
  return { request, recipe, analysis, stages, layers, needs, working, calibration, notes };
}

/** Whether the walk goes block by block (sequential mode and some stage needs per-step statistics). */
const perBlock = (run: Run) => run.recipe.calibration.mode === 'sequential' && run.needs.step.size > 0;

/** The dense model's statistics (the union of every need), when a stage or one-pass mode needs them. */
async function densePass(run: Run): Promise<CalibrationStats | undefined> {
  const { needs } = run;
  if (run.calibration === undefined) return undefined;
  if (needs.dense.size === 0 && perBlock(run)) return undefined;
  const steps = perBlock(run) ? pipelineSteps(run.layers).length : 1;
  return run.calibration.pass(run.working.model, run.layers, new Set([...needs.dense, ...needs.step]), { label: 'dense model', step: { index: 0, count: steps } });
}

async function startStages(run: Run, dense: CalibrationStats | undefined): Promise<StageRun[]> {
  const { request } = run;
  const started: StageRun[] = [];
  for (const stage of run.stages) {
    throwIfCancelled(request.cancel, 'compression');
    const { index } = stage;
    started.push(
      await stage.runner.start(run.recipe.stages[index], {
        recipe: run.recipe,
        index,
        analysis: run.analysis,
        working: run.working,
        layers: stage.layers,
        dense,
        pruneLayer: request.pruneLayer ?? cpuPruneLayer,
        ...(request.quantizeLayer ? { quantizeLayer: request.quantizeLayer } : {}),
        calibSet: request.calibSet,
        createRunner: request.createRunner,
        cancel: request.cancel,
        onProgress: (p) => request.onProgress?.(p),
        notes: run.notes,
      }),
    );
  }
  return started;
}

async function walk(run: Run, started: StageRun[], dense: CalibrationStats | undefined): Promise<void> {
  const blockwise = perBlock(run);
  const steps = blockwise ? pipelineSteps(run.layers) : [{ label: 'all layers', block: null, layers: run.layers }];
  const sequence = blockwise ? run.calibration!.sequence(run.working.model, steps, run.needs.step) : undefined;
  try {
    for (const [s, step] of steps.entries()) {
      throwIfCancelled(run.request.cancel, 'compression');
      const where = { index: s, count: steps.length };
      const label = { label: step.label, step: where };
      // The first step sees the dense model, so a dense pass already made serves it.
      const stats = !sequence || (s === 0 && dense) ? dense : await sequence.stats(s, step.layers, label);
      for (const [i, stage] of run.stages.entries()) {
        const layers = step.layers.filter((layer) => stage.layerIds.has(layer.id));
        if (layers.length > 0) await started[i].apply({ ...where, label: step.label, layers, stats });
      }
      if (s + 1 < steps.length) await sequence?.advance(s, label);
    }
  } finally {
    sequence?.release();
  }
}
