import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../calibrate/random';
import { parseRecipe, RecipeError } from '../recipe';
import { paretoFront } from './pareto';
import { parsePath, parseSweepValues, sweepOptions, sweepRecipes, withValue } from './sweep';

const recipe = parseRecipe({
  version: 2,
  stages: [
    { kind: 'prune', method: 'wanda', pattern: { kind: 'unstructured', sparsity: 0.5 } },
    { kind: 'quantize', method: 'gptq', bits: 4, granularity: 'group', groupSize: 32 },
  ],
});

const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof RecipeError) return e.problems;
    throw e;
  }
  return [];
};

describe('sweeps', () => {
  test('the options follow the recipe’s stages', () => {
    expect(sweepOptions(recipe).map((o) => o.path)).toEqual(['stages[0].pattern.sparsity', 'stages[0].method', 'stages[1].bits', 'stages[1].groupSize', 'stages[1].method']);
    expect(sweepOptions(recipe)[0].values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  });

  test('each value gives a whole recipe that differs only there', () => {
    const recipes = sweepRecipes(recipe, 'stages[0].pattern.sparsity', [0.1, 0.5, 0.9]);
    expect(recipes.map((r) => (r.stages[0] as unknown as { pattern: { sparsity: number } }).pattern.sparsity)).toEqual([0.1, 0.5, 0.9]);
    for (const r of recipes) expect({ ...r, stages: [r.stages[1]] }).toEqual({ ...recipe, stages: [recipe.stages[1]] });
    expect(sweepRecipes(recipe, 'stages[0].method', ['magnitude', 'sparsegpt']).map((r) => (r.stages[0] as unknown as { method: string }).method)).toEqual(['magnitude', 'sparsegpt']);
  });

  test('bad values and paths are refused with the path, by the recipe’s own reader', () => {
    expect(problems(() => sweepRecipes(recipe, 'stages[1].bits', [4, 'four'])).join()).toMatch(/value "four": stages\[1\]\.bits: must be a finite number/);
    expect(problems(() => sweepRecipes(recipe, 'stages[0].method', ['pruneall'])).join()).toMatch(/value "pruneall": stages\[0\]\.method/);
    expect(problems(() => withValue(recipe, 'stages[5].bits', 4)).join()).toMatch(/stages\[5\]\.bits: the recipe has no/);
    expect(problems(() => withValue(recipe, 'stages[0].nothing', 4)).join()).toMatch(/no such field/);
    expect(problems(() => withValue(recipe, 'stages[0].__proto__', 4)).join()).toMatch(/not a field path/);
    expect(problems(() => withValue(recipe, 'stages[0].constructor.prototype', 4)).join()).toMatch(/not a recipe field/);
    expect(problems(() => withValue(recipe, 'stages[0]].x', 4)).join()).toMatch(/not a field path/);
    expect(({} as Record<string, unknown>)[4]).toBeUndefined();
    expect(problems(() => sweepRecipes(recipe, 'seed', Array.from({ length: 65 }, (_, i) => i))).join()).toMatch(/at most 64 points/);
  });

  test('paths and values as typed on the command line', () => {
    expect(parsePath('stages[0].pattern.sparsity')).toEqual(['stages', 0, 'pattern', 'sparsity']);
    expect(parsePath('stages[0]].x')).toBeUndefined();
    expect(parseSweepValues('0.1:0.9:0.2')).toEqual([0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(parseSweepValues('2,3, 4')).toEqual([2, 3, 4]);
    expect(parseSweepValues('magnitude,wanda')).toEqual(['magnitude', 'wanda']);
    expect(problems(() => parseSweepValues('0:1000:1')).join()).toMatch(/more than 64 points/);
    expect(problems(() => parseSweepValues('0.9:0.1:0.1')).join()).toMatch(/from ≤ to/);
  });
});

describe('the Pareto frontier', () => {
  test('smaller and better wins; dominated and tied points are off the front', () => {
    const points = [
      { x: 10, y: 5 },
      { x: 5, y: 8 },
      { x: 7, y: 8 }, // dominated by (5, 8)
      { x: 20, y: 4 },
      { x: 20, y: 4 }, // tie: the first is kept
      { x: 15, y: 6 }, // dominated by (10, 5)
      { x: Number.NaN, y: 1 },
    ];
    expect(paretoFront(points, 'lower')).toEqual([1, 0, 3]);
    expect(paretoFront(points.map((p) => ({ ...p, y: -p.y })), 'higher')).toEqual([1, 0, 3]);
  });

  test('equals a brute-force definition on random sets', () => {
    const random = mulberry32(3);
    for (let trial = 0; trial < 200; trial++) {
      const points = Array.from({ length: 1 + Math.floor(random() * 20) }, () => ({ x: Math.floor(random() * 10), y: Math.floor(random() * 10) }));
      const dominated = (i: number) => points.some((q, j) => j !== i && q.x <= points[i].x && q.y <= points[i].y && (q.x < points[i].x || q.y < points[i].y || j < i));
      const expected = points.map((_, i) => i).filter((i) => !dominated(i)).sort((a, b) => points[a].x - points[b].x);
      expect(paretoFront(points, 'lower')).toEqual(expected);
    }
  });
});
