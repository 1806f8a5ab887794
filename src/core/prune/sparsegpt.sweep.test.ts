// The shipped SparseGPT sweep (wasm, row by row) against the plain column-major reference that
// the WebGPU kernel is tested against (gpu/kernels/sparsegptUpdate/sparsegptUpdate.ref.ts): one
// definition of the arithmetic for both backends. Weights and masks are bit-identical (±0 aside:
// the sweep skips err = 0, the reference subtracts ±0).
import { describe, expect, test } from 'vitest';
import { sparseGptSweep } from './sparsegpt.sweep.ts';
import { createSparseGptStateRef, sparsegptPruneRef } from '../gpu/kernels/sparsegptUpdate/sparsegptUpdate.ref.ts';
import { syntheticHinvUpper } from '../gpu/testing/hessianInverse.ts';
import { expectClose } from '../testing/expectClose.ts';
import { fakeQuantize } from '../quant/rtn.ts';
import { seededUniform } from '../testing/random.ts';
import type { SparsityPattern } from './patterns.ts';

function filled(length: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length }, () => next() - 0.5);
}

const exact = { atol: 0, rtol: 0 };

describe('sparseGptSweep equals sparsegptUpdate.ref.ts', () => {
  // Rows and columns not multiples of the 4 × 16 tile; the last block is partial.
  test.each([
    [1, 1, 1],
    [5, 13, 4],
    [7, 40, 16],
    [6, 37, 32],
  ])('unstructured 50 %%: %i × %i, blocks of %i', (rows, cols, blockSize) => {
    const weights = filled(rows * cols, rows + cols);
    weights.fill(0, 0, cols); // an all-zero row: no error, no update
    const hinv = syntheticHinvUpper(cols, 3);
    const pattern: SparsityPattern = { kind: 'unstructured', sparsity: 0.5 };
    const ours = sparseGptSweep(weights, hinv, rows, cols, pattern, blockSize);
    // The reference takes the mask up front; the sweep's block masks were chosen on the weights
    // as the earlier blocks left them, so given the same mask both make the same updates.
    const ref = createSparseGptStateRef(weights, hinv, rows, cols, { kind: 'mask', keepMask: ours.keep.data });
    sparsegptPruneRef(ref, blockSize);
    expectClose(ours.weight.data, ref.weights, exact, 'weights');
    for (let i = 0; i < rows * cols; i++) if (ours.keep.data[i] === 0) expect(ours.weight.data[i]).toBe(0);
    expect(Array.from(ours.weight.data.subarray(0, cols))).toEqual(new Array(cols).fill(0));
  });

  test.each([
    [2, 4, 5, 16, 8],
    [1, 4, 3, 24, 8],
    [2, 8, 9, 48, 16],
  ])('N:M %i:%i chosen inside the sweep: %i × %i, blocks of %i', (n, m, rows, cols, blockSize) => {
    const weights = filled(rows * cols, 11 + m);
    const hinv = syntheticHinvUpper(cols, 4);
    const ours = sparseGptSweep(weights, hinv, rows, cols, { kind: 'nm', n, m }, blockSize);
    const ref = createSparseGptStateRef(weights, hinv, rows, cols, { kind: 'nm', n, m });
    sparsegptPruneRef(ref, blockSize);
    expect(Array.from(ours.keep.data)).toEqual(Array.from(ref.keepMask));
    expectClose(ours.weight.data, ref.weights, exact, 'weights');
    // With an observer the choice is made per group for all rows at once (obs_scores + keep_nm)
    // instead of inside the row sweep: the same masks and weights.
    const observed = sparseGptSweep(weights, hinv, rows, cols, { kind: 'nm', n, m }, blockSize, () => {});
    expect(Array.from(observed.keep.data)).toEqual(Array.from(ours.keep.data));
    expectClose(observed.weight.data, ours.weight.data, exact, 'weights, per-group path');
    expectClose(observed.losses, ours.losses, exact, 'losses, per-group path');
  });

  // GPTQ's column loop (fasterquant) in plain float32 loops, column-major like the reference:
  // q = Q(kept w) with (row, group) parameters, err = (w − q)/U_ii, the in-block update, the lazy
  // update summed over k in order.
  function quantizedSweepRef(weights: Float32Array, u: Float32Array, rows: number, cols: number, keep: Uint8Array, blockSize: number, scale: (r: number, c: number) => number): Float32Array {
    const f = Math.fround;
    const w = Float32Array.from(weights);
    for (let i1 = 0; i1 < cols; i1 += blockSize) {
      const i2 = Math.min(i1 + blockSize, cols);
      const err = new Float32Array(rows * (i2 - i1));
      for (let i = i1; i < i2; i++) {
        for (let r = 0; r < rows; r++) {
          const x = w[r * cols + i];
          const q = fakeQuantize(keep[r * cols + i] ? x : 0, scale(r, i), 8, 15);
          const e = f(f(x - q) / u[i * cols + i]);
          err[r * (i2 - i1) + i - i1] = e;
          w[r * cols + i] = q;
          for (let j = i + 1; j < i2; j++) w[r * cols + j] = f(w[r * cols + j] - f(e * u[i * cols + j]));
        }
      }
      for (let r = 0; r < rows; r++) {
        for (let c = i2; c < cols; c++) {
          let sum = 0;
          for (let k = i1; k < i2; k++) sum = f(sum + f(err[r * (i2 - i1) + k - i1] * u[k * cols + c]));
          w[r * cols + c] = f(w[r * cols + c] - sum);
        }
      }
    }
    return w;
  }

  test.each([
    [1, 1, 1, 1],
    [5, 13, 4, 3],
    [7, 40, 16, 5],
    [6, 37, 32, 8],
  ])('with a quantizer (GPTQ): %i × %i, blocks of %i, groups of %i, equals the plain loop', (rows, cols, blockSize, groupSize) => {
    const weights = filled(rows * cols, 3 * rows + cols);
    const hinv = syntheticHinvUpper(cols, 5);
    const groups = Math.ceil(cols / groupSize);
    const scales = Float32Array.from({ length: rows * groups }, (_, i) => 0.02 + 0.01 * (i % 7));
    const quantization = { maxq: 15, groups, scales, zeros: new Float32Array(rows * groups).fill(8), columnGroup: Int32Array.from({ length: cols }, (_, c) => Math.floor(c / groupSize)) };
    const scaleOf = (r: number, c: number) => scales[r * groups + Math.floor(c / groupSize)];
    const ours = sparseGptSweep(weights, hinv, rows, cols, null, blockSize, undefined, quantization);
    expectClose(ours.weight.data, quantizedSweepRef(weights, hinv, rows, cols, new Uint8Array(rows * cols).fill(1), blockSize, scaleOf), exact, 'weights');
    expect(Array.from(ours.quantTables!.codes, (code, i) => Math.fround(scaleOf(Math.floor(i / cols), i % cols) * (code - 8)))).toEqual(Array.from(ours.weight.data));
    // And with N:M chosen in the sweep: pruned weights stay exactly 0, the code is the zero point.
    const pruned = sparseGptSweep(weights, hinv, rows, cols, cols % 4 === 0 && blockSize % 4 === 0 ? { kind: 'nm', n: 2, m: 4 } : { kind: 'unstructured', sparsity: 0.5 }, blockSize, undefined, quantization);
    expectClose(pruned.weight.data, quantizedSweepRef(weights, hinv, rows, cols, pruned.keep.data, blockSize, scaleOf), exact, 'weights with a mask');
    for (let i = 0; i < rows * cols; i++) if (pruned.keep.data[i] === 0) expect([pruned.weight.data[i], pruned.quantTables!.codes[i]]).toEqual([0, 8]);
  });

  test('the observer sees each choice once, at the block (unstructured) or group (N:M) start', () => {
    const seen: [number, number][] = [];
    sparseGptSweep(filled(3 * 10, 1), syntheticHinvUpper(10, 2), 3, 10, { kind: 'unstructured', sparsity: 0.5 }, 4, (scores, column, span) => {
      expect(scores.length).toBe(3 * span);
      seen.push([column, span]);
    });
    expect(seen).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
  });

  test('losses: Σ (w − q)² / U_ii² over pruned weights, halved; zero where nothing is pruned', () => {
    const [rows, cols] = [2, 4];
    const weights = Float32Array.of(1, -2, 3, 4, 0, 0, 0, 0);
    const hinv = new Float32Array(cols * cols);
    for (let i = 0; i < cols; i++) hinv[i * cols + i] = 2; // diagonal U: no cross-column updates
    const result = sparseGptSweep(weights, hinv, rows, cols, { kind: 'nm', n: 2, m: 4 }, 4);
    expect(Array.from(result.keep.data)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]); // ties: lower index pruned first
    expect(Array.from(result.losses)).toEqual([(1 / 4 + 4 / 4) / 2, 0]);
  });
});
