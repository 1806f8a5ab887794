// GPTQ's quantiser over a whole weight on the wasm kernels of wasm/quant.c, one (scale, zero) per
// row and group: the range of each group (quant_range) and the codes (quant_codes).
import { WasmArena } from './wasmKernels.ts';

/**
 * (rows × cols) codes clamp(round(w / scale) + zero, 0, maxq), round half to even, with scale and
 * zero (rows × groups) of group ⌊c / groupSize⌋. Weights must be finite.
 */
export function quantCodes(weight: Float32Array, rows: number, cols: number, groupSize: number, groups: number, scales: Float32Array, zeros: Float32Array, maxq: number): Uint8Array {
  const arena = new WasmArena();
  const [rw, rs, rz, rc] = [arena.region('f32', rows * cols), arena.region('f32', rows * groups), arena.region('f32', rows * groups), arena.region('u8', rows * cols)];
  arena.ready();
  arena.view(rw).set(weight.subarray(0, rows * cols));
  arena.view(rs).set(scales.subarray(0, rows * groups));
  arena.view(rz).set(zeros.subarray(0, rows * groups));
  arena.k.quant_codes(rows, cols, rw.ptr, groupSize, groups, rs.ptr, rz.ptr, maxq, rc.ptr);
  return arena.view(rc).slice();
}

/** Per (row, group): lo = min(0, min w), hi = max(0, max w), rows × groups each. */
export function quantRange(weight: Float32Array, rows: number, cols: number, groupSize: number, groups: number): { lo: Float32Array; hi: Float32Array } {
  const arena = new WasmArena();
  const [rw, rl, rh] = [arena.region('f32', rows * cols), arena.region('f32', rows * groups), arena.region('f32', rows * groups)];
  arena.ready();
  arena.view(rw).set(weight.subarray(0, rows * cols));
  arena.k.quant_range(rows, cols, rw.ptr, groupSize, groups, rl.ptr, rh.ptr);
  return { lo: arena.view(rl).slice(), hi: arena.view(rh).slice() };
}

/**
 * Range, fit and codes of one weight with one copy into wasm memory: quant_range per (row, group)
 * (and whether a weight is NaN, which the range skips), `fit` turns (lo, hi) into scales and zeros (rows × groups, on the JS side), then quant_codes.
 * What quantRange followed by quantCodes gives, without copying the weight twice.
 */
export function quantRangeAndCodes(
  weight: Float32Array,
  rows: number,
  cols: number,
  groupSize: number,
  groups: number,
  maxq: number,
  fit: (lo: Float32Array, hi: Float32Array, hasNaN: boolean) => { scales: Float32Array; zeros: Float32Array },
): Uint8Array {
  const arena = new WasmArena();
  const [rw, rl, rh, rs, rz, rc] = [arena.region('f32', rows * cols), arena.region('f32', rows * groups), arena.region('f32', rows * groups), arena.region('f32', rows * groups), arena.region('f32', rows * groups), arena.region('u8', rows * cols)];
  arena.ready();
  arena.view(rw).set(weight.subarray(0, rows * cols));
  const hasNaN = arena.k.quant_range(rows, cols, rw.ptr, groupSize, groups, rl.ptr, rh.ptr) !== 0;
  const { scales, zeros } = fit(arena.view(rl).slice(), arena.view(rh).slice(), hasNaN);
  arena.view(rs).set(scales.subarray(0, rows * groups));
  arena.view(rz).set(zeros.subarray(0, rows * groups));
  arena.k.quant_codes(rows, cols, rw.ptr, groupSize, groups, rs.ptr, rz.ptr, maxq, rc.ptr);
  return arena.view(rc).slice();
}
