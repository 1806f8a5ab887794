// GPTQ (Frantar et al. 2023), following IST-DASLab/gptq gptq.py `GPTQ.fasterquant` (commit
// 2d65066) step by step: the quantiser fitted on the original W (per row or per tensor); dead
// inputs; static groups fitted up front on W after the dead inputs were zeroed; act-order (columns
// by descending diag H, before damping); damping; U = upper Cholesky factor of H⁻¹; blocks of 128
// columns, the column loop q = Q(w), err = (w − q)/U_ii with the OBS update, and the lazy batch
// update; dynamic groups refitted at every column c with c % g == 0 on W[:, c:c+g] as it stands
// when the block starts (the reference reads W, not the block copy W1). The sweep is SparseGPT's
// (prune/sparsegpt.sweep.ts on the wasm SIMD kernels) with the quantiser switched on; float32
// like the reference, except the factorisations, which run in float64 (as SparseGPT's port,
// docs/pruning.md) and are rounded to float32 for the sweep. See docs/quantization.md.
import { PruneError, type Matrix } from '../prune/types.ts';
import { dampedInverseCholesky, zeroDeadInputs } from '../prune/sparsegpt.setup.ts';
import { sparseGptSweep, type SweepQuantization } from '../prune/sparsegpt.sweep.ts';
import { assertFiniteWeight, findQuantParams, findSpanParams, groupSizeOf, maxCode, QuantError, validateGrid } from './rtn.ts';
import type { Granularity, IntGrid, QuantizedWeight } from './types.ts';

export interface GptqOptions {
  grid: IntGrid;
  /** Per row (the reference's perchannel), per tensor (perchannel=False), or groups of g inputs (groupsize). */
  granularity: Granularity;
  /** Columns per block (reference default 128). */
  blockSize?: number;
  /** Damping λ = percDamp · mean(diag H) (reference default 0.01). */
  percDamp?: number;
  /** Quantize columns in order of descending diag H (the reference's actorder). */
  actOrder?: boolean;
  /** Groups fitted once on the natural column groups before the sweep (static_groups; only with groups). */
  staticGroups?: boolean;
  /** The quantiser's MSE clip search (Quantizer mse=True) at every fit. */
  mseClip?: boolean;
}

export interface GptqResult {
  quantized: QuantizedWeight;
  /** Ŵ = dequantize(quantized), the weight the reference writes back (bit for bit). */
  weight: Matrix;
  /** The reference's `torch.sum(Losses)`: Σ (w − q)² / U_ii² / 2 over all weights. */
  loss?: number;
}

/** How the quantiser runs inside SparseGPT's sweep: fasterquant's (and fasterprune's wbits) settings. */
export interface SweepQuantSpec {
  grid: IntGrid;
  granularity: Granularity;
  staticGroups?: boolean;
  mseClip?: boolean;
}

/** The quantiser tables of one sweep, and what is needed to read the swept weights back as codes. */
export interface PreparedQuantization {
  sweep: SweepQuantization;
  groupSize: number;
  /** Whether columns map to groups by g_idx (act-order with dynamic groups). */
  permutedGroups: boolean;
}

/**
 * The quantiser tables before the sweep. `original` is W as given (the per-row / per-tensor fit
 * reads it before the dead inputs are zeroed, as fasterquant's `find_params(W)` comes first);
 * `weights` is W after zeroDeadInputs, in natural column order; `perm[j]` is the column swept
 * j-th (act-order) or null.
 */
export function prepareSweepQuantization(original: Matrix, weights: Float32Array, spec: SweepQuantSpec, perm: Int32Array | null, label: string): PreparedQuantization {
  const { rows, cols } = original;
  const { grid, granularity } = spec;
  const mseClip = spec.mseClip ?? false;
  const groupSize = groupSizeOf(granularity, cols, label);
  const maxq = maxCode(grid.bits);
  const natural = (j: number) => (perm ? perm[j] : j);
  if (granularity.kind !== 'group') {
    const params = findQuantParams(original, grid, granularity, { mseClip });
    return { groupSize, permutedGroups: false, sweep: { maxq, groups: 1, scales: params.scales, zeros: params.zeroPoints, columnGroup: new Int32Array(cols) } };
  }
  const groups = Math.ceil(cols / groupSize);
  if (spec.staticGroups) {
    // `groups.append(quantizer)` per natural group of W (dead inputs zeroed), before act-order;
    // column j then uses groups[perm[j] // groupsize].
    const params = findQuantParams({ rows, cols, data: weights }, grid, granularity, { mseClip });
    const columnGroup = Int32Array.from({ length: cols }, (_, j) => Math.floor(natural(j) / groupSize));
    return { groupSize, permutedGroups: false, sweep: { maxq, groups, scales: params.scales, zeros: params.zeroPoints, columnGroup } };
  }
  // Dynamic groups run along the sweep order: with act-order, group k is the k-th g columns swept.
  const columnGroup = Int32Array.from({ length: cols }, (_, j) => Math.floor(j / groupSize));
  // Plain TypeScript on purpose: `current` and the tables are views of the sweep's wasm memory,
  // which a wasm-backed helper (findQuantParams) would lay its own arrays over.
  const onBlockStart = (current: Float32Array, i1: number, i2: number, scales: Float32Array, zeros: Float32Array) => {
    for (let c = Math.ceil(i1 / groupSize) * groupSize; c < i2; c += groupSize) {
      const span = { data: current, rowStride: cols, offset: c };
      findSpanParams(span, rows, Math.min(groupSize, cols - c), grid, mseClip, { scale: scales, zero: zeros, stride: groups, offset: c / groupSize });
    }
  };
  const empty = new Float32Array(rows * groups);
  return { groupSize, permutedGroups: perm !== null, sweep: { maxq, groups, scales: empty, zeros: empty, columnGroup, onBlockStart } };
}

/** The swept weights and codes (sweep order) back in natural column order, as a QuantizedWeight and Ŵ. */
export function readQuantized(swept: Matrix, tables: { scales: Float32Array; zeros: Float32Array; codes: Uint8Array }, prepared: PreparedQuantization, grid: IntGrid, perm: Int32Array | null): { quantized: QuantizedWeight; weight: Matrix } {
  const { rows, cols } = swept;
  const { groups, columnGroup } = prepared.sweep;
  let { codes } = tables;
  let data = swept.data;
  let groupIndex: Int32Array | undefined;
  if (perm) {
    // Q[:, invperm]
    codes = new Uint8Array(rows * cols);
    data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        codes[r * cols + perm[j]] = tables.codes[r * cols + j];
        data[r * cols + perm[j]] = swept.data[r * cols + j];
      }
    }
    if (prepared.permutedGroups) {
      groupIndex = new Int32Array(cols);
      for (let j = 0; j < cols; j++) groupIndex[perm[j]] = columnGroup[j];
    }
  }
  const quantized: QuantizedWeight = {
    rows,
    cols,
    bits: grid.bits,
    symmetric: grid.symmetric,
    groupSize: prepared.groupSize,
    groups,
    codes,
    scales: Float32Array.from(tables.scales),
    zeroPoints: Uint8Array.from(tables.zeros),
    ...(groupIndex ? { groupIndex } : {}),
  };
  return { quantized, weight: { rows, cols, data } };
}

/** act-order: `argsort(diag(H), descending=True)`, equal diagonals lower column first (torch's order among ties is unspecified). */
export function actOrderPermutation(h: Float64Array, cols: number): Int32Array {
  const order = Array.from({ length: cols }, (_, j) => j);
  order.sort((a, b) => h[b * cols + b] - h[a * cols + a] || a - b);
  return Int32Array.from(order);
}

/** W[:, perm] and H[perm][:, perm], as new arrays. */
function permute(weights: Float32Array, h: Float64Array, rows: number, cols: number, perm: Int32Array): { weights: Float32Array; h: Float64Array } {
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) w[r * cols + j] = weights[r * cols + perm[j]];
  const hp = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) hp[i * cols + j] = h[perm[i] * cols + perm[j]];
  return { weights: w, h: hp };
}

function validateOptions(weight: Matrix, hessian: Float64Array, options: GptqOptions, blockSize: number, percDamp: number): void {
  assertFiniteWeight(weight, 'GPTQ');
  validateGrid(options.grid, 'GPTQ');
  groupSizeOf(options.granularity, weight.cols, 'GPTQ');
  if (options.staticGroups && options.granularity.kind !== 'group') {
    // fasterquant ignores static_groups without a groupsize; the lab says so instead.
    throw new QuantError(`GPTQ: staticGroups needs groups (granularity 'group'), got '${options.granularity.kind}'`);
  }
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new QuantError(`GPTQ: blockSize must be a positive integer, got ${blockSize}`);
  if (!(percDamp >= 0) || !Number.isFinite(percDamp)) throw new QuantError(`GPTQ: percDamp must be a finite number >= 0, got ${percDamp}`);
  const n = weight.cols;
  if (hessian.length !== n * n) throw new QuantError(`GPTQ: hessian (C_in x C_in): length ${hessian.length}, expected ${n * n}`);
  for (let i = 0; i < hessian.length; i++) {
    if (!Number.isFinite(hessian[i])) throw new QuantError(`GPTQ: hessian has a non-finite value (${hessian[i]}) at row ${Math.floor(i / n)}, column ${i % n}`);
  }
}

/** The damped U, with a factorisation failure reported as a QuantError. */
export function gptqInverseCholesky(h: Float64Array, cols: number, percDamp: number, label: string): Float32Array {
  try {
    return dampedInverseCholesky(h, cols, percDamp);
  } catch (error) {
    if (error instanceof PruneError) throw new QuantError(`${label}: ${error.message}`);
    throw error;
  }
}

/** What the sweep starts from: W in sweep order (dead inputs zeroed, act-order applied), U, the quantiser tables. */
export interface GptqOpening {
  weights: Float32Array;
  hinvUpper: Float32Array;
  perm: Int32Array | null;
  prepared: PreparedQuantization;
  blockSize: number;
}

/**
 * fasterquant up to its column loop: checks, dead inputs, the quantiser fit (before act-order
 * permutes), act-order, damping and U. The CPU sweep below and the device sweep
 * (compress/gpuQuantJobs.ts) both start here.
 */
export function gptqOpening(weight: Matrix, hessian: Float64Array, options: GptqOptions): GptqOpening {
  const { blockSize = 128, percDamp = 0.01, actOrder = false } = options;
  validateOptions(weight, hessian, options, blockSize, percDamp);
  const { rows, cols } = weight;
  let weights: Float32Array = Float32Array.from(weight.data);
  let h: Float64Array = Float64Array.from(hessian);
  zeroDeadInputs(weights, h, rows, cols);
  const perm = actOrder ? actOrderPermutation(h, cols) : null;
  // fasterquant fits the per-row quantiser and the static groups before it permutes.
  const prepared = prepareSweepQuantization(weight, weights, options, perm, 'GPTQ');
  if (perm) ({ weights, h } = permute(weights, h, rows, cols, perm));
  const hinvUpper = gptqInverseCholesky(h, cols, percDamp, 'GPTQ');
  return { weights, hinvUpper, perm, prepared, blockSize };
}

/** GPTQ on one linear layer: W (C_out × C_in) and H = 2/n · X Xᵀ (C_in × C_in, float64, as calibration collects it). */
export function gptqQuantize(weight: Matrix, hessian: Float64Array, options: GptqOptions): GptqResult {
  const { rows, cols } = weight;
  const { weights, hinvUpper, perm, prepared, blockSize } = gptqOpening(weight, hessian, options);
  const swept = sparseGptSweep(weights, hinvUpper, rows, cols, null, blockSize, undefined, prepared.sweep);
  const { quantized, weight: dequantized } = readQuantized(swept.weight, swept.quantTables!, prepared, options.grid, perm);
  let loss = 0;
  for (const rowLoss of swept.losses) loss += rowLoss;
  return { quantized, weight: dequantized, loss };
}
