import { describe, expect, test } from 'vitest';
import { bundledModel } from '../core/calibrate/fixtures/models';
import { parseRecipe, type PruneStage, type Recipe } from '../core/recipe';
import { COMPARED_METHODS, planMethodComparison, planSweep, timeLeftMs } from './sweepPlan';

const { analysis } = bundledModel('kjv-charlm');
const context = { analysis, calibSize: 64 };
const recipe = parseRecipe({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', pattern: { kind: 'unstructured', sparsity: 0.5 } }] });
const pruneOf = (r: Recipe) => r.stages[0] as PruneStage;
const sparsity = (r: Recipe) => (pruneOf(r).pattern as { sparsity: number }).sparsity;

describe('sweep plans', () => {
  test('one parameter: a whole recipe per typed value, a list or a range', () => {
    const plan = planSweep(recipe, 'stages[0].pattern.sparsity', '0.3, 0.5,0.7', context);
    expect(plan).toMatchObject({ title: 'stage 1: sparsity', problems: [] });
    expect(plan.points.map((p) => p.value)).toEqual(['0.3', '0.5', '0.7']);
    expect(plan.points.map((p) => sparsity(p.recipe))).toEqual([0.3, 0.5, 0.7]);
    expect(planSweep(recipe, 'stages[0].pattern.sparsity', '0.1:0.9:0.4', context).points.map((p) => p.value)).toEqual(['0.1', '0.5', '0.9']);
  });

  test('problems at once, each naming its value: unreadable text, a value the reader refuses, one the model cannot take, no model', () => {
    expect(planSweep(recipe, 'stages[0].pattern.sparsity', '', context).problems.join()).toMatch(/give a list like/);
    expect(planSweep(recipe, 'stages[0].pattern.sparsity', '0.9:0.1:0.2', context).problems.join()).toMatch(/from ≤ to/);
    expect(planSweep(recipe, 'stages[0].pattern.sparsity', '0.5,half', context).problems.join()).toMatch(/^value "half": stages\[0\]\.pattern\.sparsity/);
    const refused = planSweep(recipe, 'stages[0].pattern.sparsity', '0.5,1.5', context);
    expect(refused.problems.join()).toMatch(/^value 1\.5: stages\[0\]\.pattern: sparsity must be in \[0, 1\)/);
    expect(planSweep(recipe, 'stages[0].method', 'magnitude,wanda', { analysis, calibSize: 0 }).problems.join()).toMatch(/value "wanda"/);
    expect(planSweep(recipe, 'stages[0].pattern.sparsity', '0.5', {}).problems).toEqual(['Load a model first.']);
  });

  test('methods compared: the same sparsities for magnitude, Wanda and SparseGPT, method by method', () => {
    const plan = planMethodComparison(recipe, 'stages[0].pattern.sparsity', '0.4,0.6', context);
    expect(plan.problems).toEqual([]);
    expect(plan.title).toBe('pruning method × stage 1: sparsity');
    expect(plan.points.map((p) => p.value)).toEqual(['magnitude, 0.4', 'magnitude, 0.6', 'wanda, 0.4', 'wanda, 0.6', 'sparsegpt, 0.4', 'sparsegpt, 0.6']);
    expect(plan.points.map((p) => [pruneOf(p.recipe).method, sparsity(p.recipe)])).toEqual(COMPARED_METHODS.flatMap((m) => [[m, 0.4], [m, 0.6]]));
  });

  test('methods are compared only over a prune stage’s sparsity', () => {
    const quantOnly = parseRecipe({ version: 2, stages: [{ kind: 'quantize', method: 'rtn', bits: 4, granularity: 'row' }] });
    expect(planMethodComparison(quantOnly, 'stages[0].bits', '4,8', context).problems.join()).toMatch(/add pruning to the recipe/);
    expect(planMethodComparison(recipe, 'stages[0].method', 'magnitude', context).problems.join()).toMatch(/Pick a prune stage’s sparsity/);
    const nm = parseRecipe({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', pattern: { kind: 'nm', n: 2, m: 4 } }] });
    expect(planMethodComparison(nm, 'stages[0].pattern.n', '1,2', context).points).toHaveLength(6);
  });

  test('time left: mean of the finished points times the points left; nothing to say before the first finishes', () => {
    expect(timeLeftMs([{ status: 'running' }, { status: 'waiting' }])).toBeUndefined();
    expect(timeLeftMs([{ status: 'done', ms: 10_000 }, { status: 'done', ms: 20_000 }, { status: 'running' }, { status: 'waiting' }])).toBe(30_000);
    expect(timeLeftMs([{ status: 'done', ms: 10_000 }, { status: 'error' }, { status: 'skipped' }])).toBe(0);
  });
});
