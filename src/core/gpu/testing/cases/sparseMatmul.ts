// The matmul kernels' seeded cases and tolerance (dense, 2:4, block 1×4 / 4×1), shared by
// sparseMatmul.test.ts. Weights are pruned here by seeded choices, independently of src/core/prune.
import { gammaF32, normalArray, seededUniform } from '../random';
import type { BlockShape, DenseWeight } from '../../kernels/sparseMatmul/sparseFormats';

export interface MatmulCase {
  name: string;
  tokens: number;
  x: Float32Array;
  weight: DenseWeight;
}

function denseCase(name: string, tokens: number, outFeatures: number, inFeatures: number, seed: number): MatmulCase {
  return { name, tokens, x: normalArray(tokens * inFeatures, seed, 1), weight: { outFeatures, inFeatures, data: normalArray(outFeatures * inFeatures, seed + 1, 0.1) } };
}

/** Any shape, including ones no tile divides. */
export const denseMatmulCases: MatmulCase[] = [
  { name: '1×1×1', tokens: 1, x: new Float32Array([3]), weight: { outFeatures: 1, inFeatures: 1, data: new Float32Array([-0.5]) } },
  denseCase('ragged: 5 tokens, 7 × 33', 5, 7, 33, 1),
  denseCase('ragged: 70 tokens, 68 × 100 (past one tile each way)', 70, 68, 100, 2),
  denseCase('bundled LM MLP up: 128 tokens, 512 × 128', 128, 512, 128, 3),
];

/** In every group of 4 of a row, zero the 2 of least |w| (or, with `keep1`, 3): a 2:4 (or 1:4) weight. */
export function pruneTwoOfFour(weight: DenseWeight, keepOne = false): DenseWeight {
  const data = weight.data.slice();
  for (let g = 0; g < data.length; g += 4) {
    const order = [0, 1, 2, 3].sort((a, b) => Math.abs(data[g + a]) - Math.abs(data[g + b]));
    for (const p of order.slice(0, keepOne ? 3 : 2)) data[g + p] = 0;
  }
  return { ...weight, data };
}

/** Zeroes whole groups of `shape`, each with probability `sparsity` (seeded). */
export function pruneGroups(weight: DenseWeight, shape: BlockShape, sparsity: number, seed: number): DenseWeight {
  const data = weight.data.slice();
  const uniform = seededUniform(seed);
  const { outFeatures, inFeatures: cols } = weight;
  for (let r = 0; r < outFeatures; r += shape.rows) {
    for (let c = 0; c < cols; c += shape.cols) {
      if (uniform() >= sparsity) continue;
      for (let k = 0; k < 4; k++) data[shape.rows === 1 ? r * cols + c + k : (r + k) * cols + c] = 0;
    }
  }
  return { ...weight, data };
}

/** Shapes the sparse layouts accept (C_in and C_out multiples of 4), hostile where they can be. */
export const sparseMatmulCases: MatmulCase[] = [
  denseCase('one group: 1 token, 4 × 4', 1, 4, 4, 10),
  denseCase('ragged: 5 tokens, 8 × 36 (a partial K step)', 5, 8, 36, 11),
  denseCase('ragged: 70 tokens, 68 × 100', 70, 68, 100, 12),
  denseCase('bundled LM MLP down: 128 tokens, 128 × 512', 128, 128, 512, 13),
];

/**
 * The kernels sum in f32, the reference in f64 rounded once. Higham's bound for a length-n dot
 * product, |error| ≤ γ_n Σ_k |x_k w_k|, with n = 2·C_in to cover the kernels' separate multiply
 * and add; as one atol per case from the largest Σ|x w| over its outputs (rigorous, data-scaled).
 */
export function matmulTolerance(c: MatmulCase): { atol: number; rtol: number } {
  const { outFeatures: n, inFeatures: k, data } = c.weight;
  let largest = 0;
  for (let t = 0; t < c.tokens; t++) {
    for (let o = 0; o < n; o++) {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.abs(c.x[t * k + j] * data[o * k + j]);
      largest = Math.max(largest, sum);
    }
  }
  return { atol: gammaF32(2 * k) * largest + 2 ** -126, rtol: 0 };
}
