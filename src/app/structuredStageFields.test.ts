// The builder's structured section: the stage goes first (shape changes before weight stages), and
// its validation problems land on its own fields.
import { describe, expect, test } from 'vitest';
import { defaultRecipe } from '../core/recipe';
import { problemsByField, withStage } from './recipeForm';
import { structuredFieldKeys, structuredKey } from './structuredForm';

describe('structured section of the recipe builder', () => {
  test('enabling it puts the stage before pruning; disabling removes it', () => {
    const recipe = withStage(defaultRecipe(), 'structured', true);
    expect(recipe.stages.map((s) => s.kind)).toEqual(['structured', 'prune']);
    expect(withStage(recipe, 'structured', false).stages.map((s) => s.kind)).toEqual(['prune']);
  });

  test('a target problem is filed under the target field', () => {
    const recipe = withStage(defaultRecipe(), 'structured', true);
    const { byField, unplaced } = problemsByField(['stages[0].target.speedup: 10× cannot be met on wasm: the measured floor is 3.10×'], structuredFieldKeys(recipe));
    expect(byField.get(structuredKey(recipe, 'target.speedup'))).toEqual(['10× cannot be met on wasm: the measured floor is 3.10×']);
    expect(unplaced).toEqual([]);
  });
});
