// QUIK (Ashkboos et al. 2023, "QUIK: Towards End-to-End 4-Bit Inference on Generative Large
// Language Models"), following IST-DASLab/QUIK experiments/fake_quant/quik_utils.py `QUIK`:
//   * the k input columns with the largest activation scale (max_t |x_tj|, SmoothQuant's
//     act_scales, which QUIK loads) stay in float: fp_indices = argsort(act_scales)[-k:];
//   * the weight's columns are permuted by ascending activation scale (col_perm), so the integer
//     columns are swept first, in that order, and the float columns last;
//   * the per-row quantiser is fitted on the integer columns only (find_params(W[:, int_indices]));
//   * GPTQ's sweep runs over all columns, but the float ones are not quantized: q = w, error 0.
//     They take the updates of every quantized column before them, which is how their float
//     weights absorb the quantization error ("the fp weights absorb the error").
// The sweep is gptq.ts's (SparseGPT's kernel with SweepQuantization.floatFrom). Per-token
// activation quantization (quant.py ActQuantizer: asymmetric min/max per token over the integer
// columns) is `fakeQuantizeActivations`; the export writes it as ONNX ops (export/quik.ts).
// See docs/quantization.md ("QUIK").
import { zeroDeadInputs } from '../prune/sparsegpt.setup.ts';
import { sparseGptSweep } from '../prune/sparsegpt.sweep.ts';
import { gptqInverseCholesky, prepareSweepQuantization, type PreparedQuantization } from './gptq.ts';
import { assertFiniteWeight, findQuantParams, groupSizeOf, maxCode, QuantError, roundHalfEven, validateGrid } from './rtn.ts';
import type { Granularity, IntGrid, Matrix, QuantizedWeight } from './types.ts';

export interface QuikOptions {
  grid: IntGrid;
  /** Per row or groups of g over the integer columns (g must divide C_in − k). */
  granularity: Granularity;
  /** k: input columns kept in float. */
  outlierColumns: number;
  blockSize?: number;
  percDamp?: number;
}

export interface QuikResult {
  /** The integer part: C_out × (C_in − k), its columns in `quantizedColumns` order (the sweep order). */
  quantized: QuantizedWeight;
  /** (C_in − k) natural input index of each column of `quantized`: ascending activation scale. */
  quantizedColumns: Int32Array;
  /** (k) natural input index of each float column, ascending activation scale (the largest last). */
  outlierColumns: Int32Array;
  /** C_out × k float weights of the outlier columns, after the sweep's updates. */
  outlierWeight: Matrix;
  /** The whole layer's Ŵ in natural column order (quantized part dequantized, float part as swept). */
  weight: Matrix;
  /** Σ (w − q)² / U_ii² / 2 over the quantized weights (the reference's Losses). */
  loss: number;
}

/** QUIK's col_perm: columns by ascending activation scale, the lower index first among ties. */
export function quikColumnOrder(activationScale: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: activationScale.length }, (_, j) => j);
  order.sort((a, b) => activationScale[a] - activationScale[b] || a - b);
  return Int32Array.from(order);
}

/** Why k outlier columns cannot be split off a layer of C_in inputs with this granularity, or undefined. */
export function quikSplitProblem(inFeatures: number, outlierColumns: number, granularity: Granularity): string | undefined {
  if (!Number.isInteger(outlierColumns) || outlierColumns < 0) return `outlierColumns must be an integer >= 0, got ${outlierColumns}`;
  if (outlierColumns >= inFeatures) return `outlierColumns (${outlierColumns}) must be less than C_in (${inFeatures})`;
  if (granularity.kind === 'tensor') return 'QUIK quantizes per row or per group (its quantizer is per channel)';
  if (granularity.kind === 'group' && (inFeatures - outlierColumns) % granularity.size !== 0) {
    return `group size ${granularity.size} does not divide C_in − outlierColumns = ${inFeatures} − ${outlierColumns} = ${inFeatures - outlierColumns}`;
  }
  return undefined;
}

/** QUIK on one linear layer: W (C_out × C_in), H = 2/n · X Xᵀ and the activation scale max_t |x_tj| (C_in). */
export function quikQuantize(weight: Matrix, hessian: Float64Array, activationScale: ArrayLike<number>, options: QuikOptions): QuikResult {
  const { blockSize = 128, percDamp = 0.01, outlierColumns: k, grid, granularity } = options;
  const { rows, cols } = weight;
  assertFiniteWeight(weight, 'QUIK');
  validateGrid(grid, 'QUIK');
  groupSizeOf(granularity, cols, 'QUIK');
  const split = quikSplitProblem(cols, k, granularity);
  if (split) throw new QuantError(`QUIK: ${split}`);
  if (hessian.length !== cols * cols) throw new QuantError(`QUIK: hessian (C_in x C_in): length ${hessian.length}, expected ${cols * cols}`);
  if (activationScale.length !== cols) throw new QuantError(`QUIK: activation scale has ${activationScale.length} entries, expected C_in = ${cols}`);
  for (let j = 0; j < cols; j++) if (!Number.isFinite(activationScale[j])) throw new QuantError(`QUIK: activation scale of input ${j} is ${activationScale[j]}`);
  const nInt = cols - k;
  // fp_features = 0: the reference does not permute; the identity order is the same sweep.
  const perm = k > 0 ? quikColumnOrder(activationScale) : Int32Array.from({ length: cols }, (_, j) => j);
  const weights = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) weights[r * cols + j] = weight.data[r * cols + perm[j]];
  const h = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) h[i * cols + j] = hessian[perm[i] * cols + perm[j]];
  // The per-row fit reads the integer columns of W as given (before dead inputs are zeroed).
  const intPart: Matrix = { rows, cols: nInt, data: new Float32Array(rows * nInt) };
  for (let r = 0; r < rows; r++) intPart.data.set(weights.subarray(r * cols, r * cols + nInt), r * nInt);
  zeroDeadInputs(weights, h, rows, cols);
  const prepared = prepareQuik(intPart, weights, cols, grid, granularity);
  const hinvUpper = gptqInverseCholesky(h, cols, percDamp, 'QUIK');
  const swept = sparseGptSweep(weights, hinvUpper, rows, cols, null, blockSize, undefined, { ...prepared.sweep, floatFrom: nInt });
  const tables = swept.quantTables!;
  const groupSize = prepared.groupSize;
  const groups = nInt / groupSize;
  const codes = new Uint8Array(rows * nInt);
  const scales = new Float32Array(rows * groups);
  const zeroPoints = new Uint8Array(rows * groups);
  const outlierWeight: Matrix = { rows, cols: k, data: new Float32Array(rows * k) };
  const natural: Matrix = { rows, cols, data: new Float32Array(rows * cols) };
  for (let r = 0; r < rows; r++) {
    codes.set(tables.codes.subarray(r * cols, r * cols + nInt), r * nInt);
    for (let g = 0; g < groups; g++) {
      scales[r * groups + g] = tables.scales[r * prepared.sweep.groups + g];
      zeroPoints[r * groups + g] = tables.zeros[r * prepared.sweep.groups + g];
    }
    outlierWeight.data.set(swept.weight.data.subarray(r * cols + nInt, (r + 1) * cols), r * k);
    for (let j = 0; j < cols; j++) natural.data[r * cols + perm[j]] = swept.weight.data[r * cols + j];
  }
  let loss = 0;
  for (const rowLoss of swept.losses) loss += rowLoss;
  return {
    quantized: { rows, cols: nInt, bits: grid.bits, symmetric: grid.symmetric, groupSize, groups, codes, scales, zeroPoints },
    quantizedColumns: perm.slice(0, nInt),
    outlierColumns: perm.slice(nInt),
    outlierWeight,
    weight: natural,
    loss,
  };
}

/**
 * The quantiser tables: per row, fitted once on the integer columns (QUIK's find_params(W[:,
 * int_indices])); groups, refitted along the sweep order as GPTQ's dynamic groups (QUIK's
 * fasterquant reads W[:, i:i+g] in permuted order), which g | C_in − k keeps off the float columns.
 */
function prepareQuik(intPart: Matrix, weights: Float32Array, cols: number, grid: IntGrid, granularity: Granularity): PreparedQuantization {
  if (granularity.kind === 'group') {
    const sweptOrder: Matrix = { rows: intPart.rows, cols, data: weights };
    return prepareSweepQuantization(sweptOrder, weights, { grid, granularity }, null, 'QUIK');
  }
  const params = findQuantParams(intPart, grid, { kind: 'row' });
  return { groupSize: intPart.cols, permutedGroups: false, sweep: { maxq: maxCode(grid.bits), groups: 1, scales: params.scales, zeros: params.zeroPoints, columnGroup: new Int32Array(cols) } };
}

/**
 * quant.py ActQuantizer on the integer columns of each token (ActQuantWrapper.forward): per token
 * (row of x, tokens × C_in), the range [min(x, 0), max(x, 0)] of the columns in
 * `quantizedColumns` ([−1, 1] when both are 0), scale = (xmax − xmin)/(2^bits − 1), zero =
 * round(−xmin/scale), x ← scale·(clamp(round(x/scale) + zero, 0, maxq) − zero); the other columns
 * (QUIK's fp features) pass unchanged. float32 steps, round half to even, as torch.
 */
export function fakeQuantizeActivations(x: Matrix, quantizedColumns: ArrayLike<number>, bits: number): Matrix {
  const { rows: tokens, cols } = x;
  const maxq = maxCode(bits);
  const out = Float32Array.from(x.data);
  for (let t = 0; t < tokens; t++) {
    const row = t * cols;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < quantizedColumns.length; i++) {
      const v = x.data[row + quantizedColumns[i]];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === 0 && hi === 0) [lo, hi] = [-1, 1];
    const scale = Math.fround(Math.fround(hi - lo) / maxq);
    const zero = roundHalfEven(Math.fround(-lo / scale));
    for (let i = 0; i < quantizedColumns.length; i++) {
      const c = row + quantizedColumns[i];
      const code = Math.min(maxq, Math.max(0, roundHalfEven(Math.fround(x.data[c] / scale)) + zero));
      out[c] = Math.fround(scale * (code - zero));
    }
  }
  return { rows: tokens, cols, data: out };
}

/**
 * The layer's relative output error with simulated activation quantization, on sampled input
 * tokens (tokens × C_in): sqrt(Σ_t ‖W x_t − Ŵ Q_a(x_t)‖² / Σ_t ‖W x_t‖²), float64 sums — the
 * report's ‖WX − ŴX‖/‖WX‖ with Q_a applied. H alone cannot
 * give it: Q_a depends on each token's own range.
 */
export function activationQuantizedError(weight: Matrix, compressed: Matrix, sample: Matrix, quantizedColumns: ArrayLike<number>, bits: number): number {
  const { rows, cols } = weight;
  if (sample.cols !== cols || compressed.cols !== cols || compressed.rows !== rows) throw new QuantError(`QUIK error: sample is ${sample.rows} x ${sample.cols}, weights ${rows} x ${cols} and ${compressed.rows} x ${compressed.cols}`);
  const quantizedInputs = fakeQuantizeActivations(sample, quantizedColumns, bits);
  let error = 0;
  let energy = 0;
  for (let t = 0; t < sample.rows; t++) {
    const x = sample.data.subarray(t * cols, (t + 1) * cols);
    const xq = quantizedInputs.data.subarray(t * cols, (t + 1) * cols);
    for (let r = 0; r < rows; r++) {
      let y = 0;
      let yq = 0;
      for (let c = 0; c < cols; c++) {
        y += weight.data[r * cols + c] * x[c];
        yq += compressed.data[r * cols + c] * xq[c];
      }
      error += (y - yq) ** 2;
      energy += y * y;
    }
  }
  return energy > 0 ? Math.sqrt(error / energy) : error > 0 ? Infinity : 0;
}
