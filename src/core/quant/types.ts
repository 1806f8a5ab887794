// Weight quantization: the shared vocabulary of src/core/quant. W is C_out × C_in (y = W x), as
// everywhere in the lab; groups run along C_in (the input dimension), as in GPTQ, AWQ, MatMulNBits
// and the OCP MX spec. See ../shared/ALGORITHMS.md and docs/quantization.md.
import type { Matrix } from '../prune/types.ts';

export type { Matrix };

/** How many weights share one scale (and zero point): the whole tensor, one output row, or g inputs of a row. */
export type Granularity = { kind: 'tensor' } | { kind: 'row' } | { kind: 'group'; size: number };

/** An integer grid: `bits` wide, symmetric (zero point fixed at 2^(bits−1)) or asymmetric. */
export interface IntGrid {
  bits: number;
  symmetric: boolean;
}

/**
 * A weight quantized to an integer grid, ready to be packed (MatMulNBits, DequantizeLinear) or
 * dequantized: Ŵ[r, c] = (codes[r, c] − zeroPoints[r, g(c)]) · scales[r, g(c)].
 */
export interface QuantizedWeight {
  rows: number;
  cols: number;
  bits: number;
  symmetric: boolean;
  /** Inputs per group along C_in (cols for per-row and per-tensor). */
  groupSize: number;
  /** Groups per row: ceil(cols / groupSize). */
  groups: number;
  /** Row-major C_out × C_in integers in [0, 2^bits − 1]. */
  codes: Uint8Array;
  /** C_out × groups, row-major. */
  scales: Float32Array;
  /** C_out × groups integer zero points, row-major (2^(bits−1) when symmetric). */
  zeroPoints: Uint8Array;
  /**
   * Group of each input column when it is not c / groupSize (GPTQ's act-order with dynamic groups:
   * g_idx). Absent for the plain layout.
   */
  groupIndex?: Int32Array;
}

/** The group of input column c: groupIndex[c] (act-order's g_idx) or c / groupSize. */
export function groupOfColumn(q: Pick<QuantizedWeight, 'groupIndex' | 'groupSize'>, c: number): number {
  return q.groupIndex ? q.groupIndex[c] : Math.floor(c / q.groupSize);
}

/** The float weight a quantized one stands for. */
export function dequantize(q: QuantizedWeight): Matrix {
  const data = new Float32Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) {
    for (let c = 0; c < q.cols; c++) {
      const g = r * q.groups + groupOfColumn(q, c);
      data[r * q.cols + c] = (q.codes[r * q.cols + c] - q.zeroPoints[g]) * q.scales[g];
    }
  }
  return { rows: q.rows, cols: q.cols, data };
}
