// The keep masks select the k-th score instead of sorting; they must prune exactly what a
// stable ascending sort prunes (lower index first among equal scores, −0 = +0). The sort-based
// references are the GPU kernels' (rowSelect.ref.ts, nmSelect.ref.ts) and a plain global sort.
import { describe, expect, test } from 'vitest';
import { keepNM, keepPerLayer, keepPerRow, applyKeepMask } from './masks.ts';
import { rowSelectRef } from '../gpu/kernels/rowSelect/rowSelect.ref.ts';
import { nmSelectRef } from '../gpu/kernels/nmSelect/nmSelect.ref.ts';
import { seededUniform } from '../testing/random.ts';

/** Scores with many ties: a few distinct levels, some −0 and +0. */
function tiedScores(length: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length }, () => {
    const level = Math.floor(next() * 5);
    return level === 0 ? (next() < 0.5 ? -0 : 0) : level * 0.25;
  });
}

describe('keep masks by selection equal the stable sort', () => {
  test.each([
    [1, 1, 0.5],
    [3, 7, 0.5],
    [5, 13, 0.3],
    [4, 40, 0.9],
  ])('per row, %i × %i at %f', (rows, cols, sparsity) => {
    const scores = tiedScores(rows * cols, rows * cols);
    const keep = keepPerRow({ rows, cols, data: scores }, sparsity);
    expect(Array.from(keep.data)).toEqual(Array.from(rowSelectRef(scores, rows, cols, Math.floor(cols * sparsity))));
  });

  test.each([
    [2, 4, 3, 8],
    [1, 4, 5, 12],
    [3, 8, 2, 16],
  ])('N:M %i:%i on %i × %i', (n, m, rows, cols) => {
    const scores = tiedScores(rows * cols, 7 * m + n);
    const keep = keepNM({ rows, cols, data: scores }, n, m);
    expect(Array.from(keep.data)).toEqual(Array.from(nmSelectRef(scores, rows, cols, n, m)));
  });

  test('per layer: exactly ⌊numel·s⌋ pruned, in stable sorted order', () => {
    const [rows, cols, sparsity] = [6, 11, 0.45];
    const scores = tiedScores(rows * cols, 3);
    const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
    const expected = new Array(rows * cols).fill(1);
    for (const i of order.slice(0, Math.floor(rows * cols * sparsity))) expected[i] = 0;
    expect(Array.from(keepPerLayer({ rows, cols, data: scores }, sparsity).data)).toEqual(expected);
  });

  test('applyKeepMask: pruned entries become +0, kept ones keep every bit (−0 too)', () => {
    const weight = { rows: 1, cols: 4, data: Float32Array.of(-0, -1.5, 2, -0) };
    const { weight: out } = applyKeepMask(weight, { rows: 1, cols: 4, data: Uint8Array.of(1, 0, 1, 0) });
    expect(Object.is(out.data[0], -0)).toBe(true);
    expect(Object.is(out.data[1], 0)).toBe(true);
    expect(out.data[2]).toBe(2);
    expect(Object.is(out.data[3], 0)).toBe(true);
  });
});
