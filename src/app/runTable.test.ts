import { describe, expect, test } from 'vitest';
import { defaultRecipe, type Recipe } from '../core/recipe';
import type { EvalMetrics } from '../core/eval/metrics';
import { DEFAULT_SORT, filterChoices, filterRuns, methodLabel, nextSort, NO_FILTER, sortRuns, withinNoise } from './runTable';
import type { RunRecord } from './store';

function run(number: number, options: { model?: string; perplexity?: number; bytes?: number; ms?: number; recipe?: Recipe } = {}): RunRecord {
  return {
    id: `run-${number}`,
    number,
    startedAt: number * 1000,
    ...(options.ms === undefined ? {} : { durationMs: options.ms }),
    model: { label: options.model ?? 'KJV char LM', stem: 'kjv', source: { kind: 'bundled', id: 'kjv' }, loadId: 1 },
    recipe: options.recipe ?? defaultRecipe(),
    computeBackend: 'cpu',
    poolSize: 1,
    status: options.perplexity === undefined ? 'error' : 'done',
    phaseMs: {},
    layersDone: [],
    ...(options.bytes === undefined ? {} : { report: { totals: { denseFileBytes: options.bytes } } as RunRecord['report'] }),
    ...(options.perplexity === undefined ? {} : { evaluation: { status: 'done', metrics: { task: 'causal-lm', perplexity: options.perplexity } as unknown as EvalMetrics } }),
    dense: {},
    held: false,
  };
}

function quantizeOnly(): Recipe {
  const recipe = defaultRecipe();
  return { ...recipe, stages: [{ kind: 'quantize', method: 'gptq' } as unknown as Recipe['stages'][number]] };
}

const numbers = (runs: RunRecord[]) => runs.map((r) => r.number);

describe('the history table', () => {
  const runs = [run(1, { perplexity: 4.1, bytes: 300, ms: 20 }), run(2, { perplexity: 3.9, bytes: 100, ms: 50, model: 'ViT' }), run(3), run(4, { perplexity: 4.5, bytes: 200, ms: 10, recipe: quantizeOnly() })];

  test('newest first by default; a metric sorts either way with runs lacking it last', () => {
    expect(numbers(sortRuns(runs, DEFAULT_SORT))).toEqual([4, 3, 2, 1]);
    expect(numbers(sortRuns(runs, { key: 'metric', descending: false }))).toEqual([2, 1, 4, 3]);
    expect(numbers(sortRuns(runs, { key: 'metric', descending: true }))).toEqual([4, 1, 2, 3]);
    expect(numbers(sortRuns(runs, { key: 'size', descending: false }))).toEqual([2, 4, 1, 3]);
    expect(numbers(sortRuns(runs, { key: 'time', descending: true }))).toEqual([2, 1, 4, 3]);
  });

  test('a header click flips the same column and starts a new one ascending', () => {
    expect(nextSort(DEFAULT_SORT, 'number')).toEqual({ key: 'number', descending: false });
    expect(nextSort(DEFAULT_SORT, 'metric')).toEqual({ key: 'metric', descending: false });
    expect(nextSort({ key: 'metric', descending: false }, 'metric')).toEqual({ key: 'metric', descending: true });
  });

  test('filters by model, method and stage kind, offering only the values present', () => {
    expect(filterChoices(runs)).toEqual({ models: ['KJV char LM', 'ViT'], methods: ['prune:wanda', 'quantize:gptq'], stages: ['prune', 'quantize'] });
    expect(numbers(filterRuns(runs, NO_FILTER))).toEqual([1, 2, 3, 4]);
    expect(numbers(filterRuns(runs, { ...NO_FILTER, model: 'ViT' }))).toEqual([2]);
    expect(numbers(filterRuns(runs, { ...NO_FILTER, method: 'quantize:gptq' }))).toEqual([4]);
    expect(numbers(filterRuns(runs, { ...NO_FILTER, stage: 'prune', model: 'KJV char LM' }))).toEqual([1, 3]);
    expect(methodLabel('prune:wanda')).toBe('Wanda');
    expect(methodLabel('quantize:gptq')).toBe('GPTQ');
    expect(methodLabel('attention:act')).toBe('ACT');
  });

  test('an interval that contains 0 is within noise, its ends included', () => {
    expect(withinNoise({ low: -0.1, high: 0.2 })).toBe(true);
    expect(withinNoise({ low: 0, high: 0.2 })).toBe(true);
    expect(withinNoise({ low: 0.01, high: 0.2 })).toBe(false);
  });
});
