// One line naming a recipe, for reports, tables and logs.
import type { PruneRecipe, RecipePattern } from './types.ts';

export function describeRecipePattern(pattern: RecipePattern): string {
  if (pattern.kind === 'nm') return `${pattern.n}:${pattern.m}`;
  if (pattern.kind === 'vnm') return `${pattern.v}:${pattern.n}:${pattern.m}`;
  return 'unstructured';
}

export function describeRecipe(recipe: PruneRecipe): string {
  const method = recipe.method === 'magnitude' ? `magnitude (${recipe.magnitudeScope})` : recipe.method;
  const allocation = recipe.allocation.kind + (recipe.allocation.tokenSelection ? ' + token selection' : '');
  const calibration =
    recipe.method === 'magnitude' && recipe.allocation.kind === 'uniform'
      ? 'no calibration'
      : `${recipe.calibration.samples} samples, seed ${recipe.calibration.seed}, ${recipe.calibration.mode}`;
  return `${method}, ${describeRecipePattern(recipe.pattern)}, ${(recipe.sparsity * 100).toFixed(1)}% target, ${allocation} allocation, ${calibration}`;
}
