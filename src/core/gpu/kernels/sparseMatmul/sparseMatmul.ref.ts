// CPU references for the three matmul kernels: Y = X · Wᵀ, X (tokens, C_in) token rows, W
// (C_out, C_in), Y (tokens, C_out). Written plainly and independently of the kernels' tiling: one
// f64 sum per output, over the stored entries of each layout, rounded once to f32.
import { GROUP, positionWordsPerRow, type BlockSparseWeight, type DenseWeight, type Sparse24Weight } from './sparseFormats';

function checkTokens(x: Float32Array, tokens: number, inFeatures: number, label: string): void {
  if (x.length !== tokens * inFeatures) throw new Error(`${label}: x has ${x.length} values, expected ${tokens}×${inFeatures}`);
}

export function denseMatmulRef(x: Float32Array, tokens: number, weight: DenseWeight): Float32Array {
  const { outFeatures: n, inFeatures: k, data } = weight;
  checkTokens(x, tokens, k, 'dense matmul ref');
  const y = new Float32Array(tokens * n);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < n; o++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += x[t * k + c] * data[o * k + c];
      y[t * n + o] = sum;
    }
  }
  return y;
}

/** Reads each group's two values and 2-bit positions, as the format stores them. */
export function sparse24MatmulRef(x: Float32Array, tokens: number, weight: Sparse24Weight): Float32Array {
  const { outFeatures: n, inFeatures: k, values, positions } = weight;
  checkTokens(x, tokens, k, '2:4 matmul ref');
  const words = positionWordsPerRow(k);
  const y = new Float32Array(tokens * n);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < n; o++) {
      let sum = 0;
      for (let g = 0; g < k / GROUP; g++) {
        const bits = (positions[o * words + (g >> 3)] >>> (4 * (g & 7))) & 0xf;
        sum += x[t * k + g * GROUP + (bits & 3)] * values[o * (k / 2) + 2 * g];
        sum += x[t * k + g * GROUP + (bits >> 2)] * values[o * (k / 2) + 2 * g + 1];
      }
      y[t * n + o] = sum;
    }
  }
  return y;
}

/** Walks each group row's kept groups: 1×4 adds 4 columns to one output, 4×1 one column to 4 outputs. */
export function blockSparseMatmulRef(x: Float32Array, tokens: number, weight: BlockSparseWeight): Float32Array {
  const { outFeatures: n, inFeatures: k, shape, rowStart, groupColumn, values } = weight;
  checkTokens(x, tokens, k, 'block-sparse matmul ref');
  const sums = new Float64Array(tokens * n);
  for (let t = 0; t < tokens; t++) {
    for (let gr = 0; gr + 1 < rowStart.length; gr++) {
      for (let g = rowStart[gr]; g < rowStart[gr + 1]; g++) {
        const c = groupColumn[g];
        for (let e = 0; e < GROUP; e++) {
          const v = values[g * GROUP + e];
          if (shape.rows === 1) sums[t * n + gr] += x[t * k + c + e] * v;
          else sums[t * n + gr * GROUP + e] += x[t * k + c] * v;
        }
      }
    }
  }
  return Float32Array.from(sums);
}
