// Magnitude pruning against fixtures/magnitude.json (wanda's prune_magnitude, the lab's exact-count
// per-layer and global rules, VENOM's selection on |W|). Scores are |W| on both sides, so masks
// must agree exactly, except where torch.topk meets exact ties (the ties layer uses a stable sort).
import { describe, expect, test } from 'vitest';
import { magnitudePrune, magnitudePruneGlobal } from './magnitude.ts';
import { checkNM, checkVNM, countPruned } from './invariants.ts';
import { describeCase, keepBits, layerWeight, readFixture, type MagnitudeFixture } from './fixtures/load.ts';
import { expectMasksAgree, nmGroups, rowsOf } from './fixtures/compare.ts';
import { expectDeepEqual } from '../testing/expectClose.ts';

const fixture = readFixture<MagnitudeFixture>('magnitude.json');
const main = layerWeight(fixture.layers.main);
const ZERO_ROW = 9; // data.weights(32, 64, zero_rows=[9]) in the fixture script

describe('magnitude matches the reference masks', () => {
  test.each(fixture.cases.map((c) => [`${describeCase(c)} per ${c.group}`, c] as const))('%s', (_, c) => {
    const weight = layerWeight(fixture.layers[c.layer]);
    const result = magnitudePrune(weight, c.pattern, c.group);
    const p = c.pattern;
    if (p.kind === 'nm') {
      // torch.topk orders exact ties its own way (here the lower index is pruned first): only the
      // all-zero row may differ, with the same count per group.
      const scores = weight.data.map(Math.abs);
      const groups = nmGroups(weight.rows, weight.cols, p.m);
      const { ambiguous } = expectMasksAgree(result.keep.data, keepBits(c.keep), scores, groups, 0, c.reference);
      expect(rowsOf(ambiguous, weight.cols)).toEqual([ZERO_ROW]);
    } else {
      expect(Array.from(result.keep.data)).toEqual(Array.from(keepBits(c.keep)));
    }
    if (p.kind === 'unstructured' && c.group === 'layer') {
      expect(countPruned(result.keep)).toBe(Math.floor(weight.data.length * p.sparsity));
    }
    if (p.kind === 'nm') expect(checkNM(result.keep, p.n, p.m)).toEqual([]);
    if (p.kind === 'vnm') expect(checkVNM(result.keep, p.v, p.m)).toEqual([]);
  });

  test("prune_magnitude's `<= sorted[k]` prunes exactly one more weight than the lab's exact count", () => {
    const { sparsity, keep } = fixture.referenceLayerMask;
    const reference = keepBits(keep);
    const ours = magnitudePrune(main, { kind: 'unstructured', sparsity }, 'layer').keep;
    const referencePruned = reference.reduce((n, k) => n + (k === 0 ? 1 : 0), 0);
    expect(referencePruned).toBe(countPruned(ours) + 1);
    for (let i = 0; i < reference.length; i++) if (ours.data[i] === 0) expect(reference[i]).toBe(0);
  });

  test.each(fixture.global.cases.map((c) => [c.sparsity, c] as const))('global across three layers at %s', (sparsity, c) => {
    const weights = fixture.global.layers.map(layerWeight);
    const results = magnitudePruneGlobal(weights, sparsity);
    results.forEach((result, i) => expect(Array.from(result.keep.data)).toEqual(Array.from(keepBits(c.keep[i]))));
    const total = weights.reduce((n, w) => n + w.data.length, 0);
    expect(results.reduce((n, r) => n + countPruned(r.keep), 0)).toBe(Math.floor(total * sparsity));
  });
});

describe('magnitude on hostile input', () => {
  test('sparsity 0 leaves W unchanged bit for bit, in every group', () => {
    for (const group of ['row', 'layer'] as const) {
      expectDeepEqual(magnitudePrune(main, { kind: 'unstructured', sparsity: 0 }, group).weight.data, main.data, group);
    }
    expectDeepEqual(magnitudePruneGlobal([main], 0)[0].weight.data, main.data, 'global');
  });

  test('pruned weights become +0 and kept weights keep their bits', () => {
    const weight = { rows: 1, cols: 4, data: Float32Array.of(-0.5, 3, -0, 1e-30) };
    const result = magnitudePrune(weight, { kind: 'nm', n: 2, m: 4 });
    expectDeepEqual(result.weight.data, Float32Array.of(-0.5, 3, 0, 0), 'weight');
  });

  test('1 x 1: sparsity 0.5 keeps the weight (⌊0.5⌋ = 0 pruned)', () => {
    expect(Array.from(magnitudePrune({ rows: 1, cols: 1, data: Float32Array.of(2) }, { kind: 'unstructured', sparsity: 0.5 }).weight.data)).toEqual([2]);
  });

  test('Infinity in a weight is a clear error', () => {
    const weight = { rows: 2, cols: 2, data: Float32Array.of(1, 2, Infinity, 4) };
    expect(() => magnitudePrune(weight, { kind: 'unstructured', sparsity: 0.5 })).toThrow(/magnitude: weight has a non-finite value \(Infinity\) at row 1, column 0/);
    expect(() => magnitudePruneGlobal([main, weight], 0.5)).toThrow(/layer 1: weight has a non-finite value/);
  });
});
