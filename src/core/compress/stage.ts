// Stage runners: how the pipeline applies a recipe stage of a given kind (the kind's fields,
// checks and needs are src/core/recipe/stage.ts). The pipeline knows only this interface: it
// starts every stage once with the dense statistics (planning: an allocation, a global
// threshold), then walks the model step by step (a block, or all layers at once) and hands each
// stage its layers of the step with the statistics calibration collected for that step.
import type { CalibrationStats } from '../calibrate/collect.ts';
import type { Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import type { CancelSignal } from '../job/cancel.ts';
import type { ProgressListener } from '../job/progress.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { Recipe, StageSpec } from '../recipe/types.ts';
import type { PruneLayerFn } from './jobs.ts';
import type { QuantizeLayerFn } from './quantJobs.ts';
import type { StageReport } from './report.ts';
import type { WorkingModel } from './weights.ts';
import type { ModelProto } from '../onnx/types.ts';

export interface StageContext {
  recipe: Recipe;
  /** Position in recipe.stages. */
  index: number;
  analysis: ModelAnalysis;
  /** The model as the stages before this one (and earlier steps) left it. */
  working: WorkingModel;
  /** The layers this stage changes (its kind's layers()), in model order. */
  layers: LinearLayer[];
  /** Statistics of the dense model, when some stage asked for them. */
  dense?: CalibrationStats;
  /** Runs one per-layer job (a worker pool in the browser; the CPU path by default). */
  pruneLayer: PruneLayerFn;
  /** Runs one layer's RTN or GPTQ (WebGPU when the run asks for it); default: the CPU in this thread. */
  quantizeLayer?: QuantizeLayerFn;
  /**
   * The run's calibration set and session factory, for a stage that evaluates the model itself
   * (the attention stage's head search) rather than asking calibration for statistics.
   */
  calibSet?: Dataset;
  createRunner?: (bytes: Uint8Array) => Promise<ModelRunner>;
  cancel?: CancelSignal;
  onProgress: ProgressListener;
  /** Sentences for the report. */
  notes: string[];
}

/** One step of the walk, as one stage sees it. */
export interface StageStep {
  index: number;
  count: number;
  /** 'block 2', 'all layers', a layer's name. */
  label: string;
  /** This stage's layers in the step, in model order. */
  layers: LinearLayer[];
  /** What calibration collected on the step (the dense pass in one-pass mode); undefined when nothing was asked. */
  stats?: CalibrationStats;
}

/** A started stage. */
export interface StageRun {
  apply(step: StageStep): Promise<void>;
  /** The stage's report once every step ran. */
  finish(): Promise<StageReport> | StageReport;
  /**
   * The file's graph after every stage ran: a stage that changes how weights are stored (the
   * quantize stage's MatMulNBits) rewrites it here; the working model keeps float weights.
   */
  exportGraph?(model: ModelProto): { model: ModelProto; notes: string[] };
  /**
   * Whether the file will still read `layer`'s float weight once exportGraph ran (false for a
   * layer the quantize stage packs): the streamed export (streamed.ts) then never writes it.
   * Absent: always true.
   */
  keepsFloatWeight?(layer: LinearLayer): boolean;
}

export interface StageRunner<S extends StageSpec = StageSpec> {
  readonly kind: string;
  start(stage: S, context: StageContext): Promise<StageRun>;
}

const runners = new Map<string, StageRunner>();

export function registerStageRunner<S extends StageSpec>(runner: StageRunner<S>): void {
  runners.set(runner.kind, runner as unknown as StageRunner);
}

export function stageRunner(kind: string): StageRunner | undefined {
  return runners.get(kind);
}

// --- Shape-changing stages (issue 14) -------------------------------------------------------
// Structured pruning (heads, neurons), SliceGPT, low rank and BitStack change tensor shapes and the
// graph itself, so they do not fit the walk above (which rewrites weights in place, one step at a
// time). Such a kind registers a ReshapingStageRunner instead of a StageRunner: compressModel cuts
// the recipe at it, runs the weight stages before it to the end (their export included), hands the
// resulting model to `reshape`, re-analyses what comes back, and runs the stages after it on that
// (docs/recipe.md, "Shape-changing stages"). The stage calibrates itself: reshapeCalibration(ctx)
// (calibration.ts) gives it the run's Calibration over any layers of the model it gets.
import type { ModelProto as ReshapeModel } from '../onnx/types.ts';
import type { LayerShapeReport } from './report.ts';
import type { Calibration } from './calibration.ts';

export interface ReshapeContext {
  recipe: Recipe;
  /** Position in recipe.stages. */
  index: number;
  /** The model as the stages before left it: float weights (a quantize stage may not come before). */
  model: ReshapeModel;
  /** analyzeModel(model). */
  analysis: ModelAnalysis;
  calibSet?: Dataset;
  createRunner?: (bytes: Uint8Array) => Promise<ModelRunner>;
  /** Per-layer jobs, when the stage wants the pool (optional: most reshaping math runs inline). */
  pruneLayer: PruneLayerFn;
  cancel?: CancelSignal;
  onProgress: ProgressListener;
  /** Sentences for the report. */
  notes: string[];
  /**
   * The run's Calibration over `layers` of `model` (its samples, seed, batch size and sessions,
   * counted in the report's calibration summary). Use reshapeCalibration(ctx) from calibration.ts.
   */
  openCalibration?: (layers: readonly LinearLayer[]) => Calibration;
}

export interface ReshapeOutcome {
  /** The new model: smaller shapes (or factorised layers); the input model is never mutated. */
  model: ReshapeModel;
  /** kind, index, summary, layers: [] (prune rows do not apply), ms; plus `reshaped`. */
  report: ReshapeStageReport;
}

export interface ReshapeStageReport extends StageReport {
  /** One row per layer whose shape (or factorisation) changed, in model order. */
  reshaped: LayerShapeReport[];
  /** Parameters of all linear layers before and after the stage. */
  linearParamsBefore: number;
  linearParamsAfter: number;
}

export interface ReshapingStageRunner<S extends StageSpec = StageSpec> {
  readonly kind: string;
  reshape(stage: S, context: ReshapeContext): Promise<ReshapeOutcome>;
}

const reshapers = new Map<string, ReshapingStageRunner>();

export function registerReshapingStage<S extends StageSpec>(runner: ReshapingStageRunner<S>): void {
  reshapers.set(runner.kind, runner as unknown as ReshapingStageRunner);
}

export function reshapingStage(kind: string): ReshapingStageRunner | undefined {
  return reshapers.get(kind);
}
