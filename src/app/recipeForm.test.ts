import { describe, expect, test } from 'vitest';
import { defaultRecipe, parseRecipeText } from '../core/recipe';
import { cliCommand, problemsByField, recipeDocument } from './recipeForm';

describe('recipe form', () => {
  test('problems are filed under the longest field key they start with', () => {
    const { byField, unplaced } = problemsByField(
      ['stages[0].pattern: N:M needs N < M, got 4:4', 'calibration.samples = 100 is more than the calibration set holds (64)', 'stages[0].allocation.kind: owl caps layers', 'something else'],
      ['stages[0].pattern', 'stages[0].allocation.kind', 'stages[0].allocation', 'calibration.samples'],
    );
    expect(byField.get('stages[0].pattern')).toEqual(['N:M needs N < M, got 4:4']);
    expect(byField.get('calibration.samples')).toEqual(['= 100 is more than the calibration set holds (64)']);
    expect(byField.get('stages[0].allocation.kind')).toEqual(['owl caps layers']);
    expect(unplaced).toEqual(['something else']);
  });

  test('the downloaded document parses back to the same recipe (what the CLI reads)', () => {
    const recipe = defaultRecipe();
    recipe.stages[0] = { ...recipe.stages[0], method: 'sparsegpt', pattern: { kind: 'nm', n: 1, m: 4 } } as typeof recipe.stages[0];
    expect(parseRecipeText(recipeDocument(recipe))).toEqual(recipe);
  });

  test('the CLI command names the bundled model folder or the user’s file', () => {
    expect(cliCommand({ kind: 'bundled', id: 'kjv-charlm' }, 'r.json', 'o.onnx')).toBe('npm run lab -- run r.json public/models/kjv-charlm -o o.onnx');
    expect(cliCommand({ kind: 'file', name: 'mine.onnx' }, 'r.json', 'o.onnx')).toBe('npm run lab -- run r.json mine.onnx -o o.onnx');
  });
});
