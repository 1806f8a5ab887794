// The wandaScore kernel's cases and tolerance, shared by wandaScore.test.ts (Node) and the
// browser's kernel check page (src/kernelCheck).
import { normalArray } from '../random';

export interface WandaCase {
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

export const wandaCases: WandaCase[] = [
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
export const SCORE_TOLERANCE = { atol: 2 ** -126, rtol: 8 * 2 ** -23 };
