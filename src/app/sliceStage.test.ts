// The builder's SliceGPT stage: it goes first (shape changes before weight stages), its
// validation problems land on its fields, and the width it keeps is shown from the analysis.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../core/calibrate/fixtures/models';
import { defaultRecipe } from '../core/recipe';
import { defaultSliceStage } from '../core/recipe/stages/slice';
import { validateRecipe } from '../core/recipe/validate';
import { problemsByField, withStage } from './recipeForm';
import { keptDimension, sliceFieldKeys } from './sliceStage';

describe('the builder’s slice stage', () => {
  const kinds = (r: ReturnType<typeof defaultRecipe>) => r.stages.map((s) => s.kind);

  test('goes before every weight stage, whenever it is added', () => {
    const withQuantize = withStage(defaultRecipe(), 'quantize', true);
    const sliced = withStage(withQuantize, 'slice', true);
    expect(kinds(sliced)).toEqual(['slice', 'prune', 'quantize']);
    expect(sliced.stages[0]).toEqual(defaultSliceStage());
    expect(kinds(withStage(sliced, 'slice', false))).toEqual(['prune', 'quantize']);
  });

  test('its problems land on its fields; the kept width follows the analysis', () => {
    const lm = bundledModel('kjv-charlm');
    const recipe = withStage(defaultRecipe(), 'slice', true);
    const bad = { ...recipe, stages: [{ ...defaultSliceStage(), keep: 0, rounding: 2.5 }, ...recipe.stages.slice(1)] };
    const { byField, unplaced } = problemsByField(validateRecipe(bad, lm.analysis, 64), sliceFieldKeys(bad));
    expect(unplaced).toEqual([]);
    expect(byField.get('stages[0].keep')).toEqual(['must be in (0, 1], got 0']);
    expect(byField.get('stages[0].rounding')).toEqual(['must be an integer >= 1, got 2.5']);
    expect(keptDimension(defaultSliceStage(), lm.analysis)).toEqual({ hidden: 128, kept: 96 });
    expect(keptDimension({ ...defaultSliceStage(), keep: 0.7, rounding: 16 }, lm.analysis)).toEqual({ hidden: 128, kept: 80 });
  });
});
