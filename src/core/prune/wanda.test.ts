// Wanda against locuslab/wanda prune_wanda (fixtures/wanda.json, scripts/fixtures/prune_reference.py).
import { describe, expect, test } from 'vitest';
import { wandaPrune, wandaScores } from './wanda.ts';
import { checkNM, checkVNM, countPruned } from './invariants.ts';
import { PruneError } from './types.ts';
import { describeCase, keepBits, matrix, readFixture, type WandaFixture } from './fixtures/load.ts';
import { expectMasksAgree, nmGroups, rowGroups } from './fixtures/compare.ts';
import { expectClose, expectDeepEqual } from '../testing/expectClose.ts';

const fixture = readFixture<WandaFixture>('wanda.json');
const layerOf = (name: string) => {
  const layer = fixture.layers[name];
  return { layer, weight: matrix(layer.rows, layer.cols, layer.weight), stats: { sqNorm: Float64Array.from(layer.sqNorm) } };
};

// Scores are float32 |W|·sqrt(scaler_row) in the reference and float64 |W|·sqrt(sqNorm) here
// (scaler_row = sqNorm / n); entries whose reference score is within 1e-6 (relative) of their
// group's threshold may swap. Every group's pruned count must match exactly.
const SCORE_MARGIN = 1e-6;

describe('Wanda matches prune_wanda', () => {
  test('the fixture says how it was made', () => {
    expect(fixture.header.script).toBe('scripts/fixtures/prune_reference.py');
    expect(fixture.header.torch).toMatch(/^1\.13/);
  });

  test('scores are |W|·sqrt(sqNorm), the reference scores times sqrt(n)', () => {
    const { layer, weight, stats } = layerOf('main');
    const scaled = Float64Array.from(wandaScores(weight, stats.sqNorm), (s) => s / Math.sqrt(layer.tokens));
    // float32 scaler_row is a running average: 1e-5 relative covers its rounding.
    expectClose(scaled, layer.scores ?? [], { atol: 1e-7, rtol: 1e-5 }, 'scores / sqrt(n)');
  });

  test.each(fixture.cases.map((c) => [describeCase(c), c] as const))('%s', (_, c) => {
    const { layer, weight, stats } = layerOf(c.layer);
    const result = wandaPrune(weight, stats, c.pattern);
    const expected = keepBits(c.keep);
    const p = c.pattern;
    const groups = p.kind === 'nm' ? nmGroups(layer.rows, layer.cols, p.m) : rowGroups(layer.rows, layer.cols);
    if (p.kind === 'vnm') {
      expect(Array.from(result.keep.data)).toEqual(Array.from(expected));
    } else {
      const { ambiguous } = expectMasksAgree(result.keep.data, expected, layer.scores ?? [], groups, SCORE_MARGIN, c.reference);
      // Exact ties: the all-zero row (torch.topk orders ties its own way; here lower index is
      // pruned first) and the ties layer. Elsewhere near-ties in random data are rare.
      const outsideZeroRows = ambiguous.filter((i) => !layer.zeroRows.includes(Math.floor(i / layer.cols)));
      if (c.layer === 'main') expect(outsideZeroRows.length).toBeLessThanOrEqual(2);
    }
    for (let i = 0; i < weight.data.length; i++) {
      expect(result.weight.data[i]).toBe(result.keep.data[i] ? weight.data[i] : 0);
    }
    if (p.kind === 'unstructured') expect(countPruned(result.keep)).toBe(layer.rows * Math.floor(layer.cols * p.sparsity));
    if (p.kind === 'nm') expect(checkNM(result.keep, p.n, p.m)).toEqual([]);
    if (p.kind === 'vnm') expect(checkVNM(result.keep, p.v, p.m)).toEqual([]);
  });

  test('exact ties are broken like torch.sort(stable=True): lower index pruned first', () => {
    const c = fixture.cases.find((x) => x.layer === 'ties' && x.pattern.kind === 'unstructured');
    if (!c) throw new Error('fixture lacks the ties case');
    const { weight, stats } = layerOf('ties');
    expect(Array.from(wandaPrune(weight, stats, c.pattern).keep.data)).toEqual(Array.from(keepBits(c.keep)));
  });
});

describe('Wanda on hostile input', () => {
  const { weight, stats, layer } = layerOf('main');

  test('sparsity 0 leaves W unchanged bit for bit', () => {
    const result = wandaPrune(weight, stats, { kind: 'unstructured', sparsity: 0 });
    expectDeepEqual(result.weight.data, weight.data, 'weight');
    expect(result.weight.data).not.toBe(weight.data);
  });

  test('a dead input channel scores 0 and is pruned first in every row', () => {
    const dead = layer.deadInputs[0];
    const result = wandaPrune(weight, stats, { kind: 'unstructured', sparsity: 0.3 });
    for (let r = 0; r < layer.rows; r++) expect(result.keep.data[r * layer.cols + dead]).toBe(0);
  });

  test('an all-zero row still prunes exactly ⌊C_in·s⌋, lowest column indices first', () => {
    const row = layer.zeroRows[0];
    const result = wandaPrune(weight, stats, { kind: 'unstructured', sparsity: 0.5 });
    const rowKeep = Array.from(result.keep.data.slice(row * layer.cols, (row + 1) * layer.cols));
    expect(rowKeep).toEqual(rowKeep.map((_, c) => (c < layer.cols / 2 ? 0 : 1)));
  });

  test('NaN in the weight or the statistics is a clear error', () => {
    const bad = matrix(2, 4, [1, 2, NaN, 4, 5, 6, 7, 8]);
    expect(() => wandaPrune(bad, { sqNorm: new Float64Array(4).fill(1) }, { kind: 'unstructured', sparsity: 0.5 })).toThrow(
      /wanda: weight has a non-finite value \(NaN\) at row 0, column 2/,
    );
    const sqNorm = Float64Array.of(1, NaN, 1, 1);
    expect(() => wandaPrune(matrix(1, 4, [1, 2, 3, 4]), { sqNorm }, { kind: 'unstructured', sparsity: 0.5 })).toThrow(PruneError);
    expect(() => wandaPrune(matrix(1, 4, [1, 2, 3, 4]), { sqNorm: new Float64Array(3) }, { kind: 'nm', n: 2, m: 4 })).toThrow(
      /sqNorm \(one per input channel\): length 3, expected 4/,
    );
  });

  test('1 x 1 at sparsity 0.5 prunes nothing (⌊1·0.5⌋ = 0), 1 x 4 at 2:4 keeps the two largest', () => {
    const one = wandaPrune(matrix(1, 1, [3]), { sqNorm: Float64Array.of(2) }, { kind: 'unstructured', sparsity: 0.5 });
    expect(Array.from(one.weight.data)).toEqual([3]);
    const row = wandaPrune(matrix(1, 4, [1, -4, 2, 3]), { sqNorm: Float64Array.of(1, 1, 9, 1) }, { kind: 'nm', n: 2, m: 4 });
    expect(Array.from(row.weight.data)).toEqual([0, -4, 2, 0]);
  });
});
