import { describe, expect, test } from 'vitest';
import { defaultRecipe } from '../core/recipe';
import { ABSENT, flattenJson, formatChangeLine, recipeDiff } from './recipeDiff';

describe('recipeDiff', () => {
  test('flattens nested objects and arrays to paths, empty containers as leaves', () => {
    const flat = flattenJson({ a: { b: [1, { c: 'x' }] }, e: [], f: {}, g: null, h: undefined });
    expect([...flat.entries()]).toEqual([
      ['a.b[0]', '1'],
      ['a.b[1].c', 'x'],
      ['e', '[]'],
      ['f', '{}'],
      ['g', 'null'],
    ]);
  });

  test('two recipes that differ in sparsity and method: only those paths, in recipe order', () => {
    const a = defaultRecipe();
    const b = structuredClone(a);
    const stage = b.stages[0] as unknown as { method: string; pattern: { sparsity: number } };
    stage.pattern.sparsity = 0.7;
    stage.method = 'magnitude';
    expect(recipeDiff(a, b).map(formatChangeLine)).toEqual(['stages[0].method: wanda → magnitude', 'stages[0].pattern.sparsity: 0.5 → 0.7']);
  });

  test('a stage only one recipe has reads (absent) on the other side', () => {
    const changes = recipeDiff({ stages: [{ kind: 'prune' }] }, { stages: [{ kind: 'prune' }, { kind: 'quantize', bits: 4 }] });
    expect(changes).toEqual([
      { path: 'stages[1].kind', from: ABSENT, to: 'quantize' },
      { path: 'stages[1].bits', from: ABSENT, to: '4' },
    ]);
  });

  test('equal recipes have no changes', () => {
    expect(recipeDiff(defaultRecipe(), defaultRecipe())).toEqual([]);
  });
});
