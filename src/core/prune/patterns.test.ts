// Pattern validation messages, mask builders' exact counts and invariants, and VENOM's selection
// against a brute-force search.
import { describe, expect, test } from 'vitest';
import { describePattern, patternSparsity, validatePattern, type SparsityPattern } from './patterns.ts';
import { keepGlobal, keepNM, keepPerLayer, keepPerRow } from './masks.ts';
import { columnSets, keepVNM } from './vnm.ts';
import { checkNM, checkVNM, countPruned } from './invariants.ts';
import { PruneError, type KeepMask } from './types.ts';
import { seededUniform } from '../testing/random.ts';

const scores = (rows: number, cols: number, seed: number) => {
  const next = seededUniform(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, next) };
};

describe('validatePattern names what is wrong', () => {
  const cases: [string, SparsityPattern, number, number, RegExp][] = [
    ['N = M', { kind: 'nm', n: 4, m: 4 }, 2, 8, /N:M needs N < M \(N is the number kept per group of M\), got 4:4/],
    ['N > M', { kind: 'nm', n: 5, m: 4 }, 2, 8, /N < M/],
    ['N = 0', { kind: 'nm', n: 0, m: 4 }, 2, 8, /N and M must be positive integers, got 0:4/],
    ['M not dividing C_in', { kind: 'nm', n: 2, m: 4 }, 2, 10, /M = 4 must divide C_in = 10 \(ragged tail groups are not supported\)/],
    ['V not dividing C_out', { kind: 'vnm', v: 4, n: 2, m: 8 }, 6, 16, /V:N:M needs V to divide C_out: V = 4 does not divide 6 rows/],
    ['V:N:M with M < 4', { kind: 'vnm', v: 2, n: 2, m: 2 }, 4, 8, /M >= 4/],
    ['V:N:M with N != 2', { kind: 'vnm', v: 2, n: 3 as 2, m: 8 }, 4, 8, /keeps N = 2 per row .* got N = 3/],
    ['sparsity 1', { kind: 'unstructured', sparsity: 1 }, 2, 2, /sparsity must be in \[0, 1\), got 1/],
    ['sparsity > 1', { kind: 'unstructured', sparsity: 1.5 }, 2, 2, /got 1.5/],
    ['negative sparsity', { kind: 'unstructured', sparsity: -0.1 }, 2, 2, /got -0.1/],
    ['NaN sparsity', { kind: 'unstructured', sparsity: NaN }, 2, 2, /got NaN/],
  ];
  test.each(cases)('%s', (_, pattern, rows, cols, message) => {
    expect(() => validatePattern(pattern, rows, cols)).toThrow(PruneError);
    expect(() => validatePattern(pattern, rows, cols)).toThrow(message);
  });

  test('valid patterns pass, and say their sparsity', () => {
    expect(() => validatePattern({ kind: 'vnm', v: 4, n: 2, m: 8 }, 8, 16)).not.toThrow();
    expect(patternSparsity({ kind: 'nm', n: 1, m: 4 })).toBe(0.75);
    expect(patternSparsity({ kind: 'vnm', v: 64, n: 2, m: 8 })).toBe(0.75);
    expect(describePattern({ kind: 'vnm', v: 64, n: 2, m: 8 })).toBe('64:2:8');
  });
});

describe('mask builders', () => {
  test('per row and per layer prune exactly ⌊count·s⌋ (int(C_in*s) as the reference)', () => {
    const s = scores(7, 29, 1);
    for (const sparsity of [0, 0.1, 0.29, 0.5, 0.9, 0.99]) {
      expect(countPruned(keepPerRow(s, sparsity))).toBe(7 * Math.floor(29 * sparsity));
      expect(countPruned(keepPerLayer(s, sparsity))).toBe(Math.floor(7 * 29 * sparsity));
    }
  });

  test('per row keeps the highest scores of each row', () => {
    const keep = keepPerRow({ rows: 2, cols: 4, data: [4, 1, 3, 2, 0, 0, 5, 0] }, 0.5);
    expect(Array.from(keep.data)).toEqual([1, 0, 1, 0, 0, 0, 1, 1]);
  });

  test('global masks compare across layers', () => {
    const [a, b] = keepGlobal([{ rows: 1, cols: 2, data: [1, 2] }, { rows: 1, cols: 2, data: [3, 0.5] }], 0.5);
    expect([...a.data, ...b.data]).toEqual([0, 1, 1, 0]);
  });

  test('N:M keeps at most N per group for every N < M', () => {
    const s = scores(5, 24, 2);
    for (const [n, m] of [[1, 4], [2, 4], [3, 4], [2, 8], [4, 8], [1, 2]]) {
      const keep = keepNM(s, n, m);
      expect(checkNM(keep, n, m)).toEqual([]);
      expect(countPruned(keep)).toBe(5 * (24 / m) * (m - n));
    }
  });

  test('NaN scores are refused', () => {
    expect(() => keepPerRow({ rows: 1, cols: 2, data: [1, NaN] }, 0.5)).toThrow(/importance has a non-finite value \(NaN\) at row 0, column 1/);
  });
});

describe('V:N:M (VENOM selection)', () => {
  test('there are C(M, 4) column sets in nested-loop order', () => {
    expect(columnSets(8)).toHaveLength(70);
    expect(Array.from(columnSets(8)[0])).toEqual([0, 1, 2, 3]);
    expect(Array.from(columnSets(8)[69])).toEqual([4, 5, 6, 7]);
    expect(columnSets(16)).toHaveLength(1820);
  });

  /** Sum of kept importances of a tile, the quantity VENOM maximises. */
  const keptTotal = (keep: KeepMask, data: ArrayLike<number>, r0: number, c0: number, v: number, m: number) => {
    let total = 0;
    for (let r = r0; r < r0 + v; r++) for (let c = c0; c < c0 + m; c++) if (keep.data[r * keep.cols + c]) total += data[r * keep.cols + c];
    return total;
  };

  test('each tile keeps the best 4 shared columns (brute force over all sets and row choices)', () => {
    const s = scores(8, 16, 3);
    const keep = keepVNM(s, 4, 8);
    expect(checkVNM(keep, 4, 8)).toEqual([]);
    expect(countPruned(keep)).toBe(8 * 16 - 8 * 2 * 2);
    for (let r0 = 0; r0 < 8; r0 += 4) {
      for (let c0 = 0; c0 < 16; c0 += 8) {
        let best = -Infinity;
        for (const set of columnSets(8)) {
          let total = 0;
          for (let r = r0; r < r0 + 4; r++) {
            const values = Array.from(set, (c) => s.data[r * 16 + c0 + c]).sort((a, b) => b - a);
            total += values[0] + values[1];
          }
          best = Math.max(best, total);
        }
        expect(keptTotal(keep, s.data, r0, c0, 4, 8)).toBeCloseTo(best, 12);
      }
    }
  });

  test('V = C_out and M = 4 is 2:4 with every column shared', () => {
    const s = scores(4, 8, 4);
    expect(Array.from(keepVNM(s, 4, 4).data)).toEqual(Array.from(keepNM(s, 2, 4).data));
  });

  test('an all-zero tile keeps the first two columns of the first set', () => {
    const keep = keepVNM({ rows: 2, cols: 8, data: new Float64Array(16) }, 2, 8);
    expect(Array.from(keep.data)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  test('checkVNM reports a tile using five columns and a row keeping three', () => {
    const keep: KeepMask = { rows: 2, cols: 8, data: Uint8Array.of(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0) };
    expect(checkVNM(keep, 2, 8)).toEqual(['row 0, tile at column 0: 3 kept > 2', 'tile (0, 0): 5 columns used > 4']);
    expect(checkNM(keep, 2, 4)).toEqual(['row 0, columns 0..3: 3 kept > N = 2']);
  });
});
