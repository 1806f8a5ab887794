// The recipe builder's structured section, the parts without React or the store: which field
// paths the stage has (so validation problems land on its fields) and where the stage is.
import type { Recipe } from '../core/recipe';
import { isStructuredStage, type StructuredStage } from '../core/recipe/stages/structured';

/** The stage's fields that can carry a problem (validation paths relative to the stage). */
export const STRUCTURED_FIELDS = ['method', 'remove', 'target', 'target.sparsity', 'target.size', 'target.speedup', 'dampening', 'neuronMultiple', 'update'] as const;

export const structuredStageOf = (recipe: Recipe): StructuredStage | undefined => recipe.stages.find(isStructuredStage);

/** The full path of a field of the recipe's structured stage ('stages[0].target.speedup'). */
export const structuredKey = (recipe: Recipe, field: string) => `stages[${recipe.stages.findIndex(isStructuredStage)}].${field}`;

/** The full field paths of the structured stage in `recipe` (for the builder's problemsByField). */
export function structuredFieldKeys(recipe: Recipe): string[] {
  return structuredStageOf(recipe) ? STRUCTURED_FIELDS.map((f) => structuredKey(recipe, f)) : [];
}

