import { describe, expect, test } from 'vitest';
import type { LayerQuantReport } from '../core/compress/report';
import { defaultRecipe, parseRecipeText } from '../core/recipe';
import { defaultQuantizeStage } from '../core/recipe/stages/quantize';
import { averageWithEdits, sensitivityAt, widthGroups, withLayerWidth } from './mixedWidths';
import { recipeDocument } from './recipeForm';

const row = (name: string, block: number | null, bits: number, shape: [number, number], withWidth = true): LayerQuantReport =>
  ({ name, block, shape, ...(withWidth ? { width: { bits, from: 'allocation', sensitivity: [{ bits: 2, error: 4 }, { bits, error: 1 }] } } : {}) }) as unknown as LayerQuantReport;

describe('mixed-precision widths on the page', () => {
  const rows = [row('b0.q', 0, 4, [8, 8]), row('b0.fc', 0, 2, [8, 24]), row('b1.q', 1, 8, [8, 8]), row('head', null, 4, [4, 8]), row('plain', 2, 4, [8, 8], false)];

  test('grouped by block in model order, with the user edits from bitsByLayer', () => {
    const groups = widthGroups(rows, { 'b0.fc': 3 });
    expect(groups.map((g) => [g.label, g.rows.map((r) => [r.name, r.ran.bits, r.edited])])).toEqual([
      ['block 0', [['b0.q', 4, undefined], ['b0.fc', 2, 3]]],
      ['block 1', [['b1.q', 8, undefined]]],
      ['other', [['head', 4, undefined]]],
    ]);
    expect(sensitivityAt(groups[0].rows[0], 2)).toBe(4);
    expect(sensitivityAt(groups[0].rows[0], 3)).toBeUndefined();
  });

  test('the average follows the edits, weighted by layer size', () => {
    // 64·4 + 192·2 + 64·8 + 32·4 = 1280 code bits over 352 weights; with b0.fc at 3: +192.
    expect(averageWithEdits(widthGroups(rows, undefined))).toBeCloseTo(1280 / 352, 12);
    expect(averageWithEdits(widthGroups(rows, { 'b0.fc': 3 }))).toBeCloseTo(1472 / 352, 12);
  });

  test('editing one layer keeps the others; clearing the last leaves no bitsByLayer', () => {
    expect(withLayerWidth(undefined, 'a', 3)).toEqual({ a: 3 });
    expect(withLayerWidth({ a: 3 }, 'b', 8)).toEqual({ a: 3, b: 8 });
    expect(withLayerWidth({ a: 3, b: 8 }, 'a', undefined)).toEqual({ b: 8 });
    expect(withLayerWidth({ a: 3 }, 'a', undefined)).toBeUndefined();
  });

  test('the recipe with mixed precision and edited widths downloads and parses back (what the CLI reads)', () => {
    const recipe = { ...defaultRecipe(), stages: [{ ...defaultQuantizeStage(), mixed: { targetBits: 3.75, candidates: [3, 4, 8] }, bitsByLayer: withLayerWidth(undefined, 'blocks.0.mlp.fc2', 8) }] };
    expect(parseRecipeText(recipeDocument(recipe))).toEqual(recipe);
    // The toggle off and the reset leave undefined fields, which the document drops.
    const off = { ...recipe, stages: [{ ...recipe.stages[0], mixed: undefined, bitsByLayer: undefined }] };
    expect(recipeDocument(off)).not.toMatch(/mixed|bitsByLayer/);
  });
});
