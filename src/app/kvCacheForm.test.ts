// The builder's KV cache stage: it goes after quantize and before ACT, and its validation problems
// land on its own fields.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../core/calibrate/fixtures/models';
import { defaultRecipe, validateRecipe } from '../core/recipe';
import type { KvCacheStage } from '../core/recipe/stages/kvcache';
import { kvCacheFieldKeys } from '../core/recipe/stages/kvcache';
import { problemsByField, withStage } from './recipeForm';

describe('the KV cache stage in the recipe builder', () => {
  const kinds = (r: ReturnType<typeof defaultRecipe>) => r.stages.map((s) => s.kind);

  test('sits after quantize and before attention calibration', () => {
    const recipe = withStage(withStage(withStage(defaultRecipe(), 'attention', true), 'kvcache', true), 'quantize', true);
    expect(kinds(recipe)).toEqual(['prune', 'quantize', 'kvcache', 'attention']);
    expect(kinds(withStage(recipe, 'kvcache', false))).toEqual(['prune', 'quantize', 'attention']);
  });

  test("a bad field's problem is filed under that field", () => {
    const lm = bundledModel('kjv-charlm');
    const recipe = withStage(defaultRecipe(), 'kvcache', true);
    (recipe.stages[1] as KvCacheStage).keepSinks = -2;
    const { byField, unplaced } = problemsByField(validateRecipe(recipe, lm.analysis, 100), kvCacheFieldKeys(recipe));
    expect(byField.get('stages[1].keepSinks')).toEqual(['must be an integer >= 0, got -2']);
    expect(unplaced).toEqual([]);
  });
});
