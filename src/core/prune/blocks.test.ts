// SparseByteNN's 1×4 / 4×1 group sparsity against scripts/fixtures/prune/blocks_ref.py
// (fixtures/blocks.json): Wanda, magnitude and SparseGPT masks, SparseGPT's weights and losses.
import { describe, expect, test } from 'vitest';
import { wandaPrune } from './wanda.ts';
import { magnitudePrune } from './magnitude.ts';
import { sparseGptPrune } from './sparsegpt.ts';
import { groupScores } from './blocks.ts';
import { checkBlocks, countPruned } from './invariants.ts';
import { patternProblems, patternSparsity, validatePattern, type SparsityPattern } from './patterns.ts';
import { PruneError } from './types.ts';
import { keepBits, matrix, readFixture, type BlocksCase, type BlocksFixture } from './fixtures/load.ts';
import { expectMasksAgree, firstMaskDifference, rowGroups } from './fixtures/compare.ts';
import { expectClose } from '../testing/expectClose.ts';

const fixture = readFixture<BlocksFixture>('blocks.json');
const layer = fixture.layers.main;
const weight = matrix(layer.rows, layer.cols, layer.weight);
const describeBlockCase = (c: BlocksCase) => `${c.method} (${c.group}) ${c.pattern.rows}×${c.pattern.cols} at ${c.pattern.sparsity}`;

/** The group-level keep mask: one entry per group (its first weight's). */
function groupKeep(keep: Uint8Array, pattern: BlocksCase['pattern']): Uint8Array {
  const groups = groupScores({ rows: layer.rows, cols: layer.cols, data: Float64Array.from(keep) }, pattern);
  return Uint8Array.from(groups.data, (kept) => (kept > 0 ? 1 : 0));
}

// As wanda.test.ts: the reference scores are float32 |W|·sqrt(scaler_row), the lab's float64
// |W|·sqrt(sqNorm); group sums within 1e-6 (relative) of their group row's threshold may swap.
const SCORE_MARGIN = 1e-6;
// As sparsegpt.test.ts against the float64-factorisation run: float32 summation order only.
const WEIGHT_TOLERANCE = { atol: 5e-7, rtol: 5e-6 };
const LOSS_TOLERANCE = { atol: 1e-9, rtol: 2e-6 };

describe('block groups match blocks_ref.py', () => {
  test('the fixture says how it was made', () => {
    expect(fixture.header.script).toBe('scripts/fixtures/prune_reference.py');
    expect(fixture.cases.length).toBe(16);
  });

  test.each(fixture.cases.map((c) => [describeBlockCase(c), c] as const))('%s', (_, c) => {
    const p = c.pattern;
    const expected = keepBits(c.keep);
    let result;
    if (c.method === 'wanda') {
      result = wandaPrune(weight, { sqNorm: Float64Array.from(layer.sqNorm) }, p);
      const scores = groupScores({ rows: layer.rows, cols: layer.cols, data: Float64Array.from(layer.scores ?? []) }, p);
      const { ambiguous } = expectMasksAgree(groupKeep(result.keep.data, p), groupKeep(expected, p), scores.data, rowGroups(scores.rows, scores.cols), SCORE_MARGIN, c.reference);
      // The all-zero row ties exactly (every group scores 0) and is broken lowest index first on both sides.
      expect(ambiguous.length).toBeLessThanOrEqual(2);
    } else if (c.method === 'magnitude') {
      result = magnitudePrune(weight, p, c.group === 'row' ? 'row' : 'layer');
      // |W| is exact in float32 and both sides sum a group in float64 left to right: the same mask.
      expect(firstMaskDifference(result.keep.data, expected, layer.cols)).toBeNull();
    } else {
      const r = sparseGptPrune(weight, { hessian: Float64Array.from(layer.hessian ?? []) }, p, { blockSize: fixture.blockSize, percDamp: fixture.percDamp });
      expectClose(r.weight.data, c.weight ?? [], WEIGHT_TOLERANCE, 'weight');
      expectClose(r.losses, c.losses ?? [], LOSS_TOLERANCE, 'losses');
      expect(firstMaskDifference(r.keep.data, expected, layer.cols)).toBeNull();
      result = r;
    }
    expect(checkBlocks(result.keep, p.rows, p.cols)).toEqual([]);
    for (let i = 0; i < result.keep.data.length; i++) if (result.keep.data[i] === 0) expect(result.weight.data[i]).toBe(0);
    const groups = (layer.rows * layer.cols) / 4;
    const groupsPerRow = c.group === 'row' ? layer.cols / p.cols : groups;
    if (c.method !== 'sparsegpt') expect(countPruned(result.keep) / 4).toBe((groups / groupsPerRow) * Math.floor(groupsPerRow * p.sparsity));
  });

  test('SparseGPT prunes ⌊groups·s⌋ + 1 groups per column block, as the unstructured `tmp <= sorted[k]` rule', () => {
    const c = fixture.cases.find((x) => x.method === 'sparsegpt' && x.pattern.rows === 1 && x.pattern.sparsity === 0.5)!;
    const r = sparseGptPrune(weight, { hessian: Float64Array.from(layer.hessian ?? []) }, c.pattern);
    const perBlock = [128, 64].map((width) => Math.floor(((layer.rows * width) / 4) * 0.5) + 1);
    expect(countPruned(r.keep) / 4).toBe(perBlock[0] + perBlock[1]);
  });
});

describe('block pattern validation', () => {
  const block = (rows: number, cols: number, sparsity = 0.5) => ({ kind: 'block', rows, cols, sparsity }) as SparsityPattern;

  test('one sentence per reason, naming the dimension', () => {
    expect(patternProblems(block(2, 2), [{ rows: 8, cols: 8 }])).toEqual(['block groups are 1×4 or 4×1 (SparseByteNN\'s groups), got 2×2']);
    expect(patternProblems(block(1, 4), [{ rows: 8, cols: 6, name: 'fc' }])).toEqual(['1×4 blocks need C_in to be a multiple of 4, got C_in = 6 in fc (8 x 6)']);
    expect(patternProblems(block(4, 1), [{ rows: 6, cols: 8 }])).toEqual(['4×1 blocks need C_out to be a multiple of 4, got C_out = 6']);
    expect(patternProblems(block(1, 4, 1), [{ rows: 8, cols: 8 }])).toEqual(['sparsity must be in [0, 1), got 1']);
    expect(() => validatePattern(block(4, 1), 6, 8)).toThrow(PruneError);
    expect(patternSparsity(block(4, 1, 0.3))).toBe(0.3);
  });

  test('SparseGPT refuses a blockSize that splits 1×4 groups', () => {
    expect(() => sparseGptPrune(weight, { hessian: Float64Array.from(layer.hessian ?? []) }, block(1, 4), { blockSize: 30 })).toThrow(/4 columns of a 1×4 group must divide blockSize = 30/);
  });

  test('sparsity 0 keeps everything, for every method', () => {
    const p = block(4, 1, 0);
    expect(countPruned(magnitudePrune(weight, p).keep)).toBe(0);
    expect(countPruned(wandaPrune(weight, { sqNorm: Float64Array.from(layer.sqNorm) }, p).keep)).toBe(0);
    expect(countPruned(sparseGptPrune(weight, { hessian: Float64Array.from(layer.hessian ?? []) }, p).keep)).toBe(0);
  });
});
