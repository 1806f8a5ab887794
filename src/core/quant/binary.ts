// Post-training weight binarization: the baselines of BiBench (Qin et al. 2023, "BiBench:
// Benchmarking and Analyzing Network Binarization", htqin/BiBench bibench/models/layers/*.py),
// applied once to trained weights with no fine-tuning, so the trade-off chart shows where 1 bit
// per weight lands. Each binarizer is BiBench's linear layer's forward weight path, named after it:
//   bnn     BNNLinear:    Ŵ = sign(W)                                   (no scale)
//   dorefa  DoReFaLinear: Ŵ = sign(W) · α,       α = mean |W| of the cell (per row in BiBench)
//   xnor    XNORLinear:   Ŵ = sign(W − μ) · α,   μ = mean W, α = mean |W − μ| of the cell
// A cell is what shares one α: BiBench's rows (`mean(-1)`), or the whole tensor (DoReFa's paper,
// E(|W|) per layer; NNCF's DOREFABinarize), or g inputs of a row. sign is torch.sign: sign(0) = 0,
// so an exactly-zero weight (a pruned one) stays zero. The result is SIMULATED: the file stores Ŵ
// as floats; binarySize gives the analytic 1-bit size (1 bit per weight + one float32 α per cell).
import type { Granularity, Matrix } from './types.ts';

export type Binarizer = 'xnor' | 'dorefa' | 'bnn';
export const BINARIZERS: readonly Binarizer[] = ['xnor', 'dorefa', 'bnn'];

export interface BinarizedWeight {
  /** Ŵ, the dequantized ±α weights (0 where the centred weight is exactly 0). */
  weight: Matrix;
  /** α per cell, row-major (rows × cellsPerRow; one value for per-tensor). 1 for bnn. */
  scales: Float32Array;
  /** Inputs per cell along C_in (cols for per-row and per-tensor). */
  cellSize: number;
  /** Weights whose sign was 0 (torch.sign(0) = 0): a 1-bit code cannot store them. */
  zeros: number;
}

const torchSign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : Number.NaN);

/** The cells sharing one α: [row range, column range] lists in row-major order. */
function cellsOf(w: Matrix, granularity: Granularity): { r0: number; r1: number; c0: number; c1: number }[] {
  if (granularity.kind === 'tensor') return [{ r0: 0, r1: w.rows, c0: 0, c1: w.cols }];
  const size = granularity.kind === 'group' ? granularity.size : w.cols;
  const cells = [];
  for (let r = 0; r < w.rows; r++) for (let c0 = 0; c0 < w.cols; c0 += size) cells.push({ r0: r, r1: r + 1, c0, c1: Math.min(w.cols, c0 + size) });
  return cells;
}

/** Binarizes W (C_out × C_in) with one of BiBench's weight binarizers; means in float64, Ŵ in float32. */
export function binarize(w: Matrix, binarizer: Binarizer, granularity: Granularity): BinarizedWeight {
  const out = new Float32Array(w.data.length);
  const cells = cellsOf(w, granularity);
  const scales = new Float32Array(cells.length);
  let zeros = 0;
  cells.forEach(({ r0, r1, c0, c1 }, i) => {
    const n = (r1 - r0) * (c1 - c0);
    let sum = 0;
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) sum += w.data[r * w.cols + c];
    // XNORLinear centres the weights (bw − bw.mean(-1)) before taking signs and scale; μ is not added back.
    const mu = binarizer === 'xnor' ? Math.fround(sum / n) : 0;
    let absSum = 0;
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) absSum += Math.abs(Math.fround(w.data[r * w.cols + c] - mu));
    const alpha = binarizer === 'bnn' ? 1 : Math.fround(absSum / n);
    scales[i] = alpha;
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) {
        const s = torchSign(Math.fround(w.data[r * w.cols + c] - mu));
        if (s === 0) zeros++;
        out[r * w.cols + c] = s * alpha;
      }
    }
  });
  const cellSize = granularity.kind === 'group' ? granularity.size : w.cols;
  return { weight: { rows: w.rows, cols: w.cols, data: out }, scales, cellSize, zeros };
}

/** Analytic bytes of a binarized weight: 1 bit per weight, packed, and one float32 α per cell (none for bnn). */
export function binarySize(rows: number, cols: number, binarizer: Binarizer, granularity: Granularity): { weights: number; scales: number } {
  const cells = granularity.kind === 'tensor' ? 1 : rows * (granularity.kind === 'group' ? Math.ceil(cols / granularity.size) : 1);
  return { weights: Math.ceil((rows * cols) / 8), scales: binarizer === 'bnn' ? 0 : cells * 4 };
}
