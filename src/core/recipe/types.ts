// A recipe: one versioned document that says everything that decides the compressed weights, as
// plain serialisable data (JSON in the CLI, the URL and worker messages). Same recipe + same model
// + same calibration set → bit-identical weights. See docs/recipe.md.
//
//   { version: 2, model?: { id?, sha256? }, seed, calibration: {...}, stages: [{ kind: 'prune', ... }] }
//
// The pipeline runs the stages in order on a working copy of the model; calibration collects what
// all of them need once per pass. Each stage kind (stage.ts) parses and validates its own fields.

export const RECIPE_VERSION = 2;

export type CalibrationMode = 'sequential' | 'one-pass';
export const CALIBRATION_MODES: readonly CalibrationMode[] = ['sequential', 'one-pass'];

export interface CalibrationRecipe {
  /** How many samples of calib.json, drawn with the recipe's seed. */
  samples: number;
  /**
   * 'sequential' (the reference code): block ℓ is calibrated on what the already-compressed
   * blocks 0…ℓ−1 produce. 'one-pass': one pass over the dense model, then every stage runs.
   */
  mode: CalibrationMode;
  /** Samples per session run; the statistics do not depend on it. */
  batchSize: number;
  /** Output tokens kept per layer for TAMP's diversity (seeded reservoir). */
  outputSample: number;
}

/** Which model the recipe was written for; checked when given. */
export interface ModelRef {
  /** The model card's id (model.json), e.g. "kjv-charlm". */
  id?: string;
  /** SHA-256 (hex) of the .onnx file. */
  sha256?: string;
}

/** One step of a recipe; its kind's StageKind (stage.ts) defines the other fields. */
export interface StageSpec {
  readonly kind: string;
}

export interface Recipe {
  version: typeof RECIPE_VERSION;
  model?: ModelRef;
  /** Seeds the calibration draw and every seeded reservoir. */
  seed: number;
  calibration: CalibrationRecipe;
  stages: StageSpec[];
}
