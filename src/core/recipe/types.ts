// A pruning recipe: every choice that decides the pruned weights, as plain serialisable data
// (JSON in the CLI, the URL and worker messages). Same recipe + same model + same calibration
// set → bit-identical weights. Defaults are in defaults.ts and docs/calibration.md.

export type PruneMethod = 'magnitude' | 'wanda' | 'sparsegpt';
export const PRUNE_METHODS: readonly PruneMethod[] = ['magnitude', 'wanda', 'sparsegpt'];

/** Magnitude's comparison group: each layer (wanda's prune_magnitude), each output row, or all prunable layers together. */
export type MagnitudeScope = 'layer' | 'row' | 'global';
export const MAGNITUDE_SCOPES: readonly MagnitudeScope[] = ['layer', 'row', 'global'];

/**
 * Which weights may survive. N is the number KEPT per group of M consecutive input columns
 * (the Wanda/SparseGPT code's `prune_n` is the number pruned). V:N:M is VENOM's format with N = 2.
 */
export type RecipePattern =
  | { kind: 'unstructured' }
  | { kind: 'nm'; n: number; m: number }
  | { kind: 'vnm'; v: number; n: 2; m: number };

export type AllocationKind = 'uniform' | 'owl' | 'tamp' | 'sensitivity';
export const ALLOCATION_KINDS: readonly AllocationKind[] = ['uniform', 'owl', 'tamp', 'sensitivity'];

export interface AllocationRecipe {
  kind: AllocationKind;
  /** TAMP's AMIA: Wanda's ‖X_j‖ over attention-selected tokens (allocation 'tamp', method 'wanda'). */
  tokenSelection: boolean;
}

export type CalibrationMode = 'sequential' | 'one-pass';
export const CALIBRATION_MODES: readonly CalibrationMode[] = ['sequential', 'one-pass'];

export interface CalibrationRecipe {
  /** How many samples of calib.json, drawn with `seed`. */
  samples: number;
  seed: number;
  /**
   * 'sequential' (the reference code): block ℓ is calibrated on what the already-pruned blocks
   * 0…ℓ−1 produce. 'one-pass': one pass over the dense model, then everything is pruned.
   */
  mode: CalibrationMode;
  /** Samples per session run; the statistics do not depend on it. */
  batchSize: number;
  /** Output tokens kept per layer for TAMP's diversity (seeded reservoir). */
  outputSample: number;
}

export interface SparseGptRecipe {
  blockSize: number;
  percDamp: number;
}

export interface LayerSelection {
  /** Prune the output head too (embeddings always stay dense). */
  includeHead: boolean;
  /** Layer ids or names to leave dense. */
  skip: string[];
}

export interface PruneRecipe {
  version: 1;
  method: PruneMethod;
  magnitudeScope: MagnitudeScope;
  pattern: RecipePattern;
  /**
   * Target sparsity (fraction of weights pruned), mean over the pruned layers as the
   * allocator defines it. For N:M and V:N:M it is the pattern's: 1 − N/M, 1 − 2/M.
   */
  sparsity: number;
  allocation: AllocationRecipe;
  calibration: CalibrationRecipe;
  sparseGpt: SparseGptRecipe;
  layers: LayerSelection;
}
