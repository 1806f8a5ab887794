// The same cases through the CPU reference and the GPU kernel.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { describeGpu } from '../../testing/describeGpu';
import { normalArray } from '../../testing/random';
import { wandaScoreGpu } from './wandaScore.gpu';
import { wandaScoreRef } from './wandaScore.ref';

interface WandaCase {
  name: string;
  rows: number;
  cols: number;
  weights: Float32Array;
  sqNorm: Float32Array;
}

function squaresOf(a: Float32Array): Float32Array {
  return a.map((v) => v * v);
}

function randomCase(name: string, rows: number, cols: number, seed: number, edit?: (c: WandaCase) => void): WandaCase {
  const c = { name, rows, cols, weights: normalArray(rows * cols, seed, 0.05), sqNorm: squaresOf(normalArray(cols, seed + 1, 8)) };
  edit?.(c);
  return c;
}

const cases: WandaCase[] = [
  { name: '1×1', rows: 1, cols: 1, weights: new Float32Array([-0.5]), sqNorm: new Float32Array([9]) },
  randomCase('ragged: 13 × 200 (not a workgroup multiple)', 13, 200, 1),
  randomCase('all-zero rows 0 and 6, dead channels 3 and 199', 7, 200, 2, (c) => {
    c.weights.fill(0, 0, 200);
    c.weights.fill(0, 6 * 200, 7 * 200);
    c.sqNorm[3] = 0;
    c.sqNorm[199] = 0;
  }),
  randomCase('NaN and Inf propagate (0·Inf is NaN)', 4, 9, 3, (c) => {
    c.weights[1 * 9 + 2] = NaN;
    c.weights[2 * 9 + 4] = -Infinity;
    c.sqNorm[7] = Infinity;
    c.weights[3 * 9 + 7] = 0;
    c.sqNorm[8] = NaN;
  }),
  randomCase('huge and tiny magnitudes', 3, 50, 4, (c) => {
    for (let i = 0; i < c.weights.length; i += 2) c.weights[i] *= 1e30;
    for (let j = 0; j < 50; j += 3) c.sqNorm[j] *= 1e-30;
  }),
  randomCase('GPT-2 MLP projection: 768 × 3072', 768, 3072, 5),
];

/**
 * WGSL's sqrt is accurate to about 4.5 ULP (it is specified as 1/inverseSqrt: 2 + 2.5 ULP), the
 * product adds 0.5, while the reference rounds once: 8 ULP (8·2⁻²³ relative) covers it. The atol
 * of the smallest normal f32 allows a GPU that flushes subnormal results to zero.
 */
const SCORE_TOLERANCE = { atol: 2 ** -126, rtol: 8 * 2 ** -23 };

describe('wandaScore reference', () => {
  test('|W| times the channel norm, by hand', () => {
    const s = wandaScoreRef(new Float32Array([-2, 3, 0.5, -1]), new Float32Array([4, 0]), 2, 2);
    expect(Array.from(s)).toEqual([4, 0, 1, 0]);
  });
});

describeGpu('wandaScore kernel vs reference', (gpu) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const expected = wandaScoreRef(c.weights, c.sqNorm, c.rows, c.cols);
    const got = await wandaScoreGpu(gpu(), c.weights, c.sqNorm, c.rows, c.cols);
    expectClose(got, expected, SCORE_TOLERANCE, c.name);
  });

  test('NaN and Inf: exactly the reference pattern', async () => {
    const c = cases.find((k) => k.name.startsWith('NaN'))!;
    const got = await wandaScoreGpu(gpu(), c.weights, c.sqNorm, c.rows, c.cols);
    expect(got[1 * 9 + 2]).toBeNaN();
    expect(got[2 * 9 + 4]).toBe(Infinity);
    expect(got[3 * 9 + 7]).toBeNaN(); // 0 · sqrt(Inf)
    expect(got[0 * 9 + 7]).toBe(Infinity);
    for (let i = 0; i < 4; i++) expect(got[i * 9 + 8]).toBeNaN();
  });
});
