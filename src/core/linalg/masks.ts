// Score-based keep masks on the wasm kernels keep_nm_scaled / keep_rows_scaled: score
// |w_ij| · scale_j in float64 (scale 1: magnitude; sqrt(‖X_j‖²): Wanda) a group or a row at a
// time, prune the lowest, lower column first among equals — without a score matrix.
import { WasmArena } from './wasmKernels.ts';

/** The largest group the kernel takes (its per-group score buffer). */
export const NM_SCALED_MAX_M = 64;

/** (rows × cols) keep mask, 1 = kept, for W (rows × cols, float32) and one scale per column. */
export function keepNMScaled(weight: Float32Array, rows: number, cols: number, scale: Float64Array, n: number, m: number): Uint8Array {
  const arena = new WasmArena();
  const [rw, rs, rk] = [arena.region('f32', rows * cols), arena.region('f64', cols), arena.region('u8', rows * cols)];
  arena.ready();
  arena.view(rw).set(weight.subarray(0, rows * cols));
  arena.view(rs).set(scale.subarray(0, cols));
  arena.k.keep_nm_scaled(rows, cols, rw.ptr, rs.ptr, n, m, rk.ptr);
  return arena.view(rk).slice();
}

/** The k-th smallest (0-based) of float32 values, by the wasm selection (values are not changed). */
export function kthSmallestF32(values: Float32Array, k: number): number {
  const arena = new WasmArena();
  const region = arena.region('f32', values.length);
  arena.ready();
  arena.view(region).set(values);
  return arena.k.select_kth(region.ptr, values.length, k);
}

/** (rows × cols) keep mask: per row the `count` lowest scores |w_ij| · scale_j pruned (keepPerRow's rule). */
export function keepPerRowScaled(weight: Float32Array, rows: number, cols: number, scale: Float64Array, count: number): Uint8Array {
  const arena = new WasmArena();
  const [rw, rs, rk, scratch] = [arena.region('f32', rows * cols), arena.region('f64', cols), arena.region('u8', rows * cols), arena.region('f64', 2 * cols)];
  arena.ready();
  arena.view(rw).set(weight.subarray(0, rows * cols));
  arena.view(rs).set(scale.subarray(0, cols));
  arena.k.keep_rows_scaled(rows, cols, rw.ptr, rs.ptr, count, rk.ptr, scratch.ptr);
  return arena.view(rk).slice();
}
