// Recipe defaults. Reference defaults (ALGORITHMS.md): 128 calibration sequences, seed 0,
// sequential; SparseGPT blocksize 128, percdamp 0.01. The bundled models are small and their
// calibration sets hold 64 (LM) and 128 (ViT) samples, so the lab draws 32 by default.
import { defaultPruneStage } from './stages/prune.ts';
import { RECIPE_VERSION, type Recipe } from './types.ts';

export const DEFAULT_RECIPE: Recipe = {
  version: RECIPE_VERSION,
  seed: 0,
  calibration: { samples: 32, mode: 'sequential', batchSize: 8, outputSample: 256 },
  stages: [defaultPruneStage()],
};

/** A fresh copy of the defaults, so callers may mutate it. */
export function defaultRecipe(): Recipe {
  return structuredClone(DEFAULT_RECIPE);
}
