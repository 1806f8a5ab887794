// Round-to-nearest (RTN) with GPTQ's quantiser, IST-DASLab/gptq quant.py (commit 2d65066):
// `Quantizer.find_params` (min/max range, symmetric or asymmetric, the optional MSE clip search)
// and the module function `quantize`. Every operation is the reference's float32 one, rounded
// like Math.fround, so scales, zero points and codes are bit-identical to torch's (rtn.test.ts);
// the one exception is the MSE search's error sum, a float64 sum here (torch sums float32 in its
// own order), which can pick the other of two shrink factors whose errors tie to ~1e-6.
// The same functions fit GPTQ's groups inside its sweep (gptq.ts).
import type { Granularity, IntGrid, Matrix, QuantizedWeight } from './types.ts';
import { quantCodes, quantRange, quantRangeAndCodes } from '../linalg/quant.ts';

/** Every failure to quantize (bad grid or granularity, non-finite weight) is a QuantError. */
export class QuantError extends Error {
  override name = 'QuantError';
}

/** quant.py's MSE clip search: shrink factors p = 1 − k/grid for k < maxshrink·grid, error Σ|Q(x) − x|^norm. */
export const MSE_CLIP = { grid: 100, maxShrink: 0.8, norm: 2.4 } as const;

/** The largest code: 2^bits − 1. */
export const maxCode = (bits: number): number => 2 ** bits - 1;

export function validateGrid(grid: IntGrid, label: string): void {
  if (!Number.isInteger(grid.bits) || grid.bits < 2 || grid.bits > 8) {
    throw new QuantError(`${label}: bits must be an integer from 2 to 8, got ${grid.bits}`);
  }
}

/** Inputs per group along C_in: the group size, or all of C_in for per-row and per-tensor. */
export function groupSizeOf(granularity: Granularity, cols: number, label: string): number {
  if (granularity.kind !== 'group') return cols;
  const { size } = granularity;
  if (!Number.isInteger(size) || size < 1) throw new QuantError(`${label}: group size must be a positive integer, got ${size}`);
  return size;
}

/** torch.round: to nearest, halves to even (Math.round rounds halves up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** quant.py `quantize` without the dequantization: clamp(round(x / scale) + zero, 0, maxq), float32. */
export function quantize(x: number, scale: number, zero: number, maxq: number): number {
  const code = roundHalfEven(Math.fround(x / scale)) + zero;
  return code < 0 ? 0 : code > maxq ? maxq : code;
}

/** quant.py `quantize` as the reference returns it: scale · (code − zero), float32. */
export function fakeQuantize(x: number, scale: number, zero: number, maxq: number): number {
  return Math.fround(scale * (quantize(x, scale, zero, maxq) - zero));
}

/** `rows` rows of `width` values: value k of row r is data[offset + r · rowStride + k]. */
export interface ValueSpan {
  data: Float32Array;
  rowStride: number;
  offset: number;
}

/** Where find params writes: row r's scale and zero go to index offset + r · stride. */
export interface ParamsOut {
  scale: Float32Array;
  zero: Float32Array;
  stride: number;
  offset: number;
}

/**
 * `Quantizer.find_params(x, weight=True)` with perchannel=True on each row of the span: range
 * [min(x, 0), max(x, 0)], symmetric xmax = max(|xmin|, xmax) and xmin = −xmax when xmin < 0,
 * [−1, 1] for an all-zero row; scale = (xmax − xmin)/maxq; zero = (maxq + 1)/2 (symmetric) or
 * round(−xmin/scale); then, with mseClip, the shrink p minimising Σ|Q(x) − x|^2.4 (first
 * minimum kept, `err < best`).
 */
export function findSpanParams(span: ValueSpan, rows: number, width: number, grid: IntGrid, mseClip: boolean, out: ParamsOut): void {
  const { data, rowStride, offset } = span;
  for (let r = 0; r < rows; r++) {
    const start = offset + r * rowStride;
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < width; k++) {
      const x = data[start + k];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    fitRange(data, start, width, lo, hi, grid, mseClip, out, out.offset + r * out.stride, r);
  }
}

/**
 * find_params from a row's range lo = min(x, 0), hi = max(x, 0), written to out[index]; with
 * mseClip the search runs over data[start, start + width).
 */
function fitRange(data: Float32Array, start: number, width: number, lo: number, hi: number, grid: IntGrid, mseClip: boolean, out: ParamsOut, index: number, row: number): void {
  const maxq = maxCode(grid.bits);
  if (grid.symmetric) {
    hi = Math.max(Math.abs(lo), hi);
    if (lo < 0) lo = -hi;
  }
  if (lo === 0 && hi === 0) [lo, hi] = [-1, 1];
  let scale = Math.fround(Math.fround(hi - lo) / maxq);
  if (!(scale > 0) || !Number.isFinite(scale)) {
    // The reference would divide by 0 or ∞ and write NaN weights.
    throw new QuantError(`quantizer: the range [${lo}, ${hi}] of row ${row} gives scale ${scale} (float32 under- or overflow)`);
  }
  const symmetricZero = (maxq + 1) / 2;
  let zero = grid.symmetric ? symmetricZero : roundHalfEven(Math.fround(-lo / scale));
  if (mseClip) {
    let best = Infinity;
    const steps = Math.trunc(MSE_CLIP.maxShrink * MSE_CLIP.grid);
    for (let i = 0; i < steps; i++) {
      // torch multiplies the float32 range by the Python float p rounded to float32.
      const p = Math.fround(1 - i / MSE_CLIP.grid);
      const lo1 = Math.fround(p * lo);
      const hi1 = Math.fround(p * hi);
      const scale1 = Math.fround(Math.fround(hi1 - lo1) / maxq);
      const zero1 = grid.symmetric ? symmetricZero : roundHalfEven(Math.fround(-lo1 / scale1));
      let err = 0;
      for (let k = 0; k < width; k++) {
        const x = data[start + k];
        err += Math.abs(Math.fround(fakeQuantize(x, scale1, zero1, maxq) - x)) ** MSE_CLIP.norm;
      }
      if (err < best) {
        best = err;
        scale = scale1;
        zero = zero1;
      }
    }
  }
  out.scale[index] = scale;
  out.zero[index] = zero;
}

/** Scales and zero points of a C_out × C_in weight, C_out × groups row-major (per tensor: one value repeated per row). */
export interface QuantParams {
  groupSize: number;
  groups: number;
  scales: Float32Array;
  zeroPoints: Float32Array;
}

/** `find_params` per tensor (perchannel=False), per row, or per group of g input columns (GPTQ's W[:, i:i+g]). */
export function findQuantParams(weight: Matrix, grid: IntGrid, granularity: Granularity, options: { mseClip?: boolean } = {}): QuantParams {
  const { rows, cols, data } = weight;
  validateGrid(grid, 'RTN');
  const groupSize = groupSizeOf(granularity, cols, 'RTN');
  const groups = Math.ceil(cols / groupSize);
  const mseClip = options.mseClip ?? false;
  if (granularity.kind === 'tensor') {
    const scales = new Float32Array(rows * groups);
    const zeroPoints = new Float32Array(rows * groups);
    // One row of every weight, then `.repeat(rows)`.
    findSpanParams({ data, rowStride: 0, offset: 0 }, 1, rows * cols, grid, mseClip, { scale: scales, zero: zeroPoints, stride: 1, offset: 0 });
    scales.fill(scales[0]);
    zeroPoints.fill(zeroPoints[0]);
    return { groupSize, groups, scales, zeroPoints };
  }
  // The ranges on the wasm kernel (the same min/max), the rest per (row, group) here.
  const { lo, hi } = quantRange(data, rows, cols, groupSize, groups);
  return { groupSize, groups, ...fitGroups(weight, grid, groupSize, groups, mseClip, lo, hi) };
}

/** find_params of every (row, group) from its range [lo, hi] (quant_range's). */
function fitGroups(weight: Matrix, grid: IntGrid, groupSize: number, groups: number, mseClip: boolean, lo: Float32Array, hi: Float32Array): { scales: Float32Array; zeroPoints: Float32Array } {
  const { rows, cols, data } = weight;
  const scales = new Float32Array(rows * groups);
  const zeroPoints = new Float32Array(rows * groups);
  const out = { scale: scales, zero: zeroPoints, stride: groups, offset: 0 };
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const i = r * groups + g;
      const c0 = g * groupSize;
      fitRange(data, r * cols + c0, Math.min(groupSize, cols - c0), lo[i], hi[i], grid, mseClip, out, i, r);
    }
  }
  return { scales, zeroPoints };
}

/** Codes of W with one parameter set per (row, group): the layout of QuantizedWeight. */
export function quantizeWith(weight: Matrix, grid: IntGrid, params: QuantParams): QuantizedWeight {
  const { rows, cols, data } = weight;
  const { groupSize, groups, scales, zeroPoints } = params;
  // `quantize` on every weight, on the wasm SIMD kernel (bit-identical: rtn.test.ts).
  const codes = quantCodes(data, rows, cols, groupSize, groups, scales, zeroPoints, maxCode(grid.bits));
  return { rows, cols, bits: grid.bits, symmetric: grid.symmetric, groupSize, groups, codes, scales: Float32Array.from(scales), zeroPoints: Uint8Array.from(zeroPoints) };
}

/** RTN: find_params, then every weight to its nearest code (bits 2–8). dequantize() gives quant.py's quantize(W). */
export function quantizeRtn(weight: Matrix, grid: IntGrid, granularity: Granularity, options: { mseClip?: boolean } = {}): QuantizedWeight {
  if (granularity.kind === 'tensor') {
    assertFiniteWeight(weight, 'RTN');
    return quantizeWith(weight, grid, findQuantParams(weight, grid, granularity, options));
  }
  // Per row or group: range, fit and codes with the weight copied into wasm memory once; the range
  // pass also finds NaN, and ±∞ shows in the range, so the finiteness check runs only then (to name it).
  validateGrid(grid, 'RTN');
  const { rows, cols, data } = weight;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || data.length !== rows * cols) assertFiniteWeight(weight, 'RTN');
  const groupSize = groupSizeOf(granularity, cols, 'RTN');
  const groups = Math.ceil(cols / groupSize);
  let fitted: { scales: Float32Array; zeroPoints: Float32Array } | undefined;
  const codes = quantRangeAndCodes(data, rows, cols, groupSize, groups, maxCode(grid.bits), (lo, hi, hasNaN) => {
    if (hasNaN || !lo.every(Number.isFinite) || !hi.every(Number.isFinite)) assertFiniteWeight(weight, 'RTN');
    fitted = fitGroups(weight, grid, groupSize, groups, options.mseClip ?? false, lo, hi);
    return { scales: fitted.scales, zeros: fitted.zeroPoints };
  });
  return { rows, cols, bits: grid.bits, symmetric: grid.symmetric, groupSize, groups, codes, scales: fitted!.scales, zeroPoints: Uint8Array.from(fitted!.zeroPoints) };
}

export function assertFiniteWeight(weight: Matrix, label: string): void {
  const { rows, cols, data } = weight;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || data.length !== rows * cols) {
    throw new QuantError(`${label}: weight is ${rows} x ${cols} with ${data.length} values`);
  }
  // v · 0 is 0 for every finite v, NaN otherwise: one cheap pass before the slow one, on four
  // independent sums (one sum is a chain of dependent adds, 4× slower).
  let [p0, p1, p2, p3] = [0, 0, 0, 0];
  const n4 = data.length - (data.length % 4);
  for (let i = 0; i < n4; i += 4) {
    p0 += data[i] * 0;
    p1 += data[i + 1] * 0;
    p2 += data[i + 2] * 0;
    p3 += data[i + 3] * 0;
  }
  for (let i = n4; i < data.length; i++) p0 += data[i] * 0;
  if (p0 + p1 + p2 + p3 === 0) return;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new QuantError(`${label}: weight has a non-finite value (${data[i]}) at row ${Math.floor(i / cols)}, column ${i % cols}`);
  }
}
