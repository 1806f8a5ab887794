// Stage kinds: what a recipe's `stages[i].kind` may be. Each kind declares its fields (parse, with
// defaults), its checks against a model, the layers it changes and the calibration statistics it
// needs; the pipeline (src/core/compress) runs it through a StageRunner registered under the same
// kind. Adding a kind (quantize, attention calibration) is two registrations, nothing else: the
// parser, the pipeline, the worker protocol and the CLI only ever see `StageSpec`.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { FieldReader } from './reader.ts';
import type { Recipe, StageSpec } from './types.ts';

/**
 * Per-layer calibration statistics a stage may ask for (src/core/calibrate):
 *   sqNorm       Σ x_j² over the tokens (Wanda's ‖X_j‖²)
 *   hessian      H = 2/n·XXᵀ (SparseGPT, GPTQ, sensitivity; the exact reconstruction error)
 *   inputSample  a seeded reservoir of input tokens (an estimated reconstruction error where no
 *                stage needs H: it costs a copy of a few hundred rows, not a C_in² product per token)
 *   inputTokens  the same reservoir as data the method computes with (AWQ's scale search, QUIK's
 *                activation-quantized error): kept even where H is collected
 *   outputs      a seeded reservoir of output tokens (TAMP's diversity)
 *   attention    Σ x_j² over the tokens the block's attention selects (TAMP's AMIA)
 */
export type Statistic = 'sqNorm' | 'hessian' | 'inputSample' | 'inputTokens' | 'outputs' | 'attention';

export interface StageNeeds {
  /** Statistics of the dense model, before any stage runs (e.g. a sparsity allocator's). */
  dense: readonly Statistic[];
  /**
   * Statistics of each layer's inputs when the stage reaches it: in sequential mode from the
   * pass over the model as the earlier blocks left it, in one-pass mode from the dense pass.
   */
  step: readonly Statistic[];
}

/** A problem found by a stage: `field` relative to the stage object ('pattern', 'layers.skip'). */
export interface StageProblem {
  field?: string;
  message: string;
}

export interface StageCheck {
  analysis: ModelAnalysis;
  recipe: Recipe;
  /** Samples in the calibration set, when known (a stage that draws from it checks its count). */
  calibSize?: number;
}

export interface StageKind<S extends StageSpec = StageSpec> {
  readonly kind: string;
  /** The stage with every field at its default. */
  defaults(): S;
  /** Reads the stage's fields (all but `kind`) with defaults; problems go to the reader. */
  parse(fields: FieldReader): S;
  /** Every reason the stage cannot run on the model, before any work starts. */
  validate(stage: S, check: StageCheck): StageProblem[];
  /** The linear layers the stage changes, in model order. */
  layers(stage: S, analysis: ModelAnalysis): LinearLayer[];
  needs(stage: S): StageNeeds;
  /**
   * Whether the stage draws calibration samples itself (a shape-changing stage, which calibrates
   * inside its runner): the run then needs a calibration set even when `needs` lists nothing,
   * and `calibration.samples` is checked against it. Absent: false.
   */
  calibrates?(stage: S): boolean;
  /**
   * Whether the stage changes shapes or the graph (compress/stage.ts ReshapingStageRunner): the
   * pipeline cuts the recipe at it and re-analyses the model it returns. Absent: false.
   */
  readonly reshapes?: boolean;
  /** One line for reports and logs. */
  describe(stage: S): string;
  /**
   * A short tag for file names, e.g. 'sparsegpt-2of4' (recipe/fileName.ts sanitises it and
   * joins the stages with '+'); the kind's name when absent.
   */
  fileTag?(stage: S): string;
}

const kinds = new Map<string, StageKind>();

/** Registers a stage kind (the built-in ones register in stages/index.ts). */
export function registerStageKind<S extends StageSpec>(kind: StageKind<S>): void {
  kinds.set(kind.kind, kind as unknown as StageKind);
}

export function stageKind(kind: string): StageKind | undefined {
  return kinds.get(kind);
}

export function stageKindNames(): string[] {
  return [...kinds.keys()];
}

/** The kind of a stage that parsed, or an error naming it (a stage built in code with a typo). */
export function stageKindOf(stage: StageSpec): StageKind {
  const kind = kinds.get(stage.kind);
  if (kind === undefined) throw new Error(`unknown stage kind "${stage.kind}" (known: ${stageKindNames().join(', ')})`);
  return kind;
}
