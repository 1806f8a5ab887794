// keepNMScaled (wasm) against keepNM on the float64 scores |w|·scale computed in plain JS, with
// many ties (a few distinct weights, ±0) and group sizes that are not powers of two.
import { describe, expect, test } from 'vitest';
import { keepNMScaled, keepPerRowScaled } from './masks.ts';
import { keepNM, keepPerRow } from '../prune/masks.ts';
import { seededUniform } from '../testing/random.ts';

function tiedWeights(length: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length }, () => [-0, 0, 0.5, -0.5, 1, -2][Math.floor(next() * 6)]);
}

describe('keepNMScaled / keepPerRowScaled equal keepNM / keepPerRow on |w|·scale', () => {
  test.each([
    [2, 4, 1, 4],
    [2, 4, 5, 16],
    [1, 3, 4, 9],
    [3, 8, 3, 24],
    [0, 2, 2, 6],
  ])('%i:%i on %i × %i, unit and seeded column scales', (n, m, rows, cols) => {
    const w = tiedWeights(rows * cols, rows * cols + m);
    const next = seededUniform(m);
    for (const scale of [new Float64Array(cols).fill(1), Float64Array.from({ length: cols }, () => Math.floor(next() * 3))]) {
      const scores = Float64Array.from(w, (x, i) => Math.abs(x) * scale[i % cols]);
      const expected = keepNM({ rows, cols, data: scores }, n, m).data;
      expect(Array.from(keepNMScaled(w, rows, cols, scale, n, m))).toEqual(Array.from(expected));
    }
  });

  test.each([
    [1, 1, 0.5],
    [3, 7, 0.5],
    [5, 13, 0.3],
    [4, 40, 0.9],
    [2, 9, 0],
  ])('per row, %i × %i at %f', (rows, cols, sparsity) => {
    const w = tiedWeights(rows * cols, rows + cols);
    const next = seededUniform(cols);
    const scale = Float64Array.from({ length: cols }, () => Math.floor(next() * 3));
    const scores = Float64Array.from(w, (x, i) => Math.abs(x) * scale[i % cols]);
    const expected = keepPerRow({ rows, cols, data: scores }, sparsity).data;
    expect(Array.from(keepPerRowScaled(w, rows, cols, scale, Math.floor(cols * sparsity)))).toEqual(Array.from(expected));
  });
});
