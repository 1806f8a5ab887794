// The builder's low-rank and BitStack sections: the stages go first (shape changes may not follow
// quantization), and their validation problems land on their own fields.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../core/calibrate/fixtures/models';
import { defaultRecipe, validateRecipe } from '../core/recipe';
import { problemsByField, withStage } from './recipeForm';
import { shapeStageFieldKeys } from './shapeStageControls';

describe('shape stages in the builder', () => {
  const kinds = (r: ReturnType<typeof defaultRecipe>) => r.stages.map((s) => s.kind);

  test('low rank and BitStack are placed before pruning and quantization, in that order', () => {
    const quantized = withStage(defaultRecipe(), 'quantize', true);
    expect(kinds(withStage(quantized, 'bitstack', true))).toEqual(['bitstack', 'prune', 'quantize']);
    expect(kinds(withStage(withStage(quantized, 'bitstack', true), 'lowrank', true))).toEqual(['lowrank', 'bitstack', 'prune', 'quantize']);
  });

  test('their problems land on their fields', () => {
    const lm = bundledModel('kjv-charlm');
    const recipe = withStage(withStage(withStage(defaultRecipe(), 'prune', false), 'lowrank', true), 'bitstack', true);
    recipe.stages = recipe.stages.map((s) => (s.kind === 'lowrank' ? { ...s, rank: { kind: 'ratio', ratio: 2 } } : { ...s, steps: 0, export: 'dense' }));
    const { byField, unplaced } = problemsByField(validateRecipe(recipe, lm.analysis, 64), shapeStageFieldKeys(recipe));
    expect(byField.get('stages[0].rank.ratio')).toEqual(['must be in (0, 1), got 2']);
    expect(byField.get('stages[1].steps')).toEqual(['must be an integer in 1..64, got 0']);
    expect(unplaced).toEqual([]);
  });
});
