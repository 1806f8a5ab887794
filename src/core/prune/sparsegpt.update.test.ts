// The CPU reference OBS updates against plain float64 arithmetic, and the float32 rounding they
// promise. A faster backend's kernels must pass the same cases (compare them to these).
import { describe, expect, test } from 'vitest';
import { lazyBatchUpdate, updateBlockColumns } from './sparsegpt.update.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';

/** Seeded values in [−0.5, 0.5). */
function filled(length: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length }, () => next() - 0.5);
}

// Shapes not a multiple of anything: 5 rows, 13 columns, a block [3, 9).
const rows = 5;
const cols = 13;

describe('updateBlockColumns: W[:, i:blockEnd] −= err ⊗ U[i, i:blockEnd]', () => {
  test('one float32 product and one float32 subtraction per element, columns outside untouched', () => {
    const weight = filled(rows * cols, 1);
    const before = Float32Array.from(weight);
    const hinv = filled(cols * cols, 2);
    const err = filled(rows, 3);
    err[2] = 0;
    updateBlockColumns(weight, rows, cols, err, hinv, 4, 9);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        const expected = j >= 4 && j < 9 ? Math.fround(before[i] - Math.fround(err[r] * hinv[4 * cols + j])) : before[i];
        expect(weight[i]).toBe(expected);
      }
    }
  });
});

describe('lazyBatchUpdate: W[:, blockEnd:] −= Err · U[blockStart:blockEnd, blockEnd:]', () => {
  test('agrees with the float64 product to float32 rounding; columns before blockEnd untouched', () => {
    const weight = filled(rows * cols, 4);
    const before = Float32Array.from(weight);
    const hinv = filled(cols * cols, 5);
    const width = 6;
    const errBlock = filled(rows * width, 6);
    lazyBatchUpdate(weight, rows, cols, errBlock, hinv, 3, 9);
    const expected = Float64Array.from(before);
    for (let r = 0; r < rows; r++) {
      for (let j = 9; j < cols; j++) {
        let sum = 0;
        for (let k = 0; k < width; k++) sum += errBlock[r * width + k] * hinv[(3 + k) * cols + j];
        expected[r * cols + j] -= sum;
      }
    }
    // |terms| < 0.25, six of them: float32 rounding of the partial sums stays below 1e-6.
    expectClose(weight, expected, { atol: 1e-6, rtol: 0 }, 'lazy update');
    for (let r = 0; r < rows; r++) for (let j = 0; j < 9; j++) expect(weight[r * cols + j]).toBe(before[r * cols + j]);
  });

  test('the last block has nothing to the right and changes nothing', () => {
    const weight = filled(rows * cols, 7);
    const before = Float32Array.from(weight);
    lazyBatchUpdate(weight, rows, cols, filled(rows * 4, 8), filled(cols * cols, 9), 9, 13);
    expect(weight).toEqual(before);
  });
});
