// Recipe defaults. Reference defaults (ALGORITHMS.md): 128 calibration sequences, seed 0,
// sequential; SparseGPT blocksize 128, percdamp 0.01. The bundled models are small and their
// calibration sets hold 64 (LM) and 128 (ViT) samples, so the lab draws 32 by default.
import type { PruneRecipe, RecipePattern } from './types.ts';
import { VNM_KEPT_PER_ROW } from '../prune/patterns.ts';

export const DEFAULT_RECIPE: PruneRecipe = {
  version: 1,
  method: 'wanda',
  magnitudeScope: 'layer',
  pattern: { kind: 'unstructured' },
  sparsity: 0.5,
  allocation: { kind: 'uniform', tokenSelection: false },
  calibration: { samples: 32, seed: 0, mode: 'sequential', batchSize: 8, outputSample: 256 },
  sparseGpt: { blockSize: 128, percDamp: 0.01 },
  layers: { includeHead: false, skip: [] },
};

/** A fresh copy of the defaults, so callers may mutate it. */
export function defaultRecipe(): PruneRecipe {
  return structuredClone(DEFAULT_RECIPE);
}

/** The sparsity a structured pattern implies, or undefined for unstructured. */
export function structuredSparsity(pattern: RecipePattern): number | undefined {
  if (pattern.kind === 'nm') return 1 - pattern.n / pattern.m;
  if (pattern.kind === 'vnm') return 1 - VNM_KEPT_PER_ROW / pattern.m;
  return undefined;
}

/** Whether the recipe's method or allocation needs calibration statistics at all. */
export function needsCalibration(recipe: PruneRecipe): boolean {
  return recipe.method !== 'magnitude' || recipe.allocation.kind !== 'uniform';
}
