import { describe, expect, test } from 'vitest';
import { bundledModel } from '../core/calibrate/fixtures/models';
import { defaultRecipe, parseRecipeText, validateRecipe } from '../core/recipe';
import { defaultAttentionStage, type AttentionStage } from '../core/recipe/stages/attention';
import { ATTENTION_FIELDS, cliCommand, parseHeadList, parseLayerList, problemsByField, recipeDocument, withStage } from './recipeForm';

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

describe('builder stages', () => {
  const kinds = (r: ReturnType<typeof defaultRecipe>) => r.stages.map((s) => s.kind);

  test('the attention stage is appended last, and a weight stage added later goes before it', () => {
    const withAct = withStage(defaultRecipe(), 'attention', true);
    expect(kinds(withAct)).toEqual(['prune', 'attention']);
    expect(withAct.stages[1]).toEqual(defaultAttentionStage());
    expect(kinds(withStage(withAct, 'quantize', true))).toEqual(['prune', 'quantize', 'attention']);
    const actOnly = withStage(withAct, 'prune', false);
    expect(kinds(actOnly)).toEqual(['attention']);
    expect(kinds(withStage(actOnly, 'prune', true))).toEqual(['prune', 'attention']);
    // Nothing to change: the same object, so the store sees no update.
    expect(withStage(withAct, 'attention', true)).toBe(withAct);
    expect(kinds(withStage(withAct, 'attention', false))).toEqual(['prune']);
  });

  test('the attention stage’s validation problems land on its fields, list items on the list’s field', () => {
    const lm = bundledModel('kjv-charlm');
    const recipe = withStage(withStage(defaultRecipe(), 'prune', false), 'quantize', true);
    const stage: AttentionStage = { ...defaultAttentionStage(), beta: 1.5, sink: { kind: 'alpha', alpha: 0 }, search: { samples: 80, guard: 'none' } };
    const stages = [...recipe.stages, stage];
    const problems = validateRecipe({ ...recipe, stages }, lm.analysis, 64);
    const keys = ATTENTION_FIELDS.map((f) => `stages[1].${f}`);
    const { byField, unplaced } = problemsByField(problems, keys);
    expect(unplaced).toEqual([]);
    expect(byField.get('stages[1].beta')).toEqual(['must be in [0, 1], got 1.5']);
    expect(byField.get('stages[1].sink.alpha')).toEqual(['must be > 0, got 0']);
    expect(byField.get('stages[1].search.samples')).toEqual(['80 is more than the calibration set holds (64)']);
    const givenStage: AttentionStage = { ...defaultAttentionStage(), heads: [{ block: 9, head: 0 }, { block: 2, head: 4 }] };
    const given = validateRecipe({ ...recipe, stages: [recipe.stages[0], givenStage] }, lm.analysis, 64);
    expect(problemsByField(given, keys).byField.get('stages[1].heads')).toEqual(['9 is not an attention layer of the model (attention layers 0, 1, 2, 3, 4, 5)', '4 is outside 0..3 (layer 2 has 4 heads)']);
  });
});

describe('list fields', () => {
  test('heads as block.head, separated by commas or spaces', () => {
    expect(parseHeadList('2.0, 3.1')).toEqual({ heads: [{ block: 2, head: 0 }, { block: 3, head: 1 }] });
    expect(parseHeadList(' 4.3  2.0,')).toEqual({ heads: [{ block: 4, head: 3 }, { block: 2, head: 0 }] });
    expect(parseHeadList('')).toEqual({ heads: [] });
    for (const bad of ['2', '2.x', '2.0.1', '-1.0', '2,0;3.', 'block 2']) expect(parseHeadList(bad)).toHaveProperty('error');
    expect(parseHeadList('2.0, 3')).toEqual({ error: '"3" is not block.head: write each head as two whole numbers joined by a dot, e.g. 2.0, 3.1' });
  });

  test('layer numbers', () => {
    expect(parseLayerList('0, 1, 5')).toEqual({ layers: [0, 1, 5] });
    expect(parseLayerList(' ')).toEqual({ layers: [] });
    expect(parseLayerList('0, 1.5')).toEqual({ error: '"1.5" is not a layer number: write whole numbers separated by commas, e.g. 0, 1, 5' });
  });
});
