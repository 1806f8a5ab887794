// XᵀX of a few hundred token rows in float64, on the wasm kernel calibration's Gram uses
// (gram_add4_f64, wasm/stats.c): each product of two float32 values is exact in float64, so only
// the additions round. For the estimated reconstruction error on a sample of input tokens
// (prune/reconstruction.ts), where the sample's Gram stands in for H.
import { WasmArena } from './wasmKernels.ts';

/** (C, C) Σ_t x_t x_tᵀ of `tokens` rows x_t (tokens × C, row-major), symmetric. */
export function gramOfRows(rows: ArrayLike<number>, tokens: number, channels: number): Float64Array {
  const C = channels;
  if (rows.length !== tokens * C) throw new RangeError(`gram: ${rows.length} values for ${tokens} tokens x ${C} channels`);
  const GROUP = 4;
  const grouped = tokens - (tokens % GROUP);
  const arena = new WasmArena();
  const [rp, rg] = [arena.region('f64', Math.max(tokens, 1) * C), arena.region('f64', C * C)];
  arena.ready();
  const x = arena.view(rp);
  for (let i = 0; i < tokens * C; i++) x[i] = rows[i];
  arena.view(rg).fill(0);
  // Four tokens per call, their products summed before they are added (upper triangle only).
  for (let t = 0; t < grouped; t += GROUP) arena.k.gram_add4_f64(C, rp.ptr + 8 * t * C, rg.ptr);
  const gram = arena.view(rg).slice();
  for (let t = grouped; t < tokens; t++) {
    for (let a = 0; a < C; a++) {
      const xa = x[t * C + a];
      for (let b = a; b < C; b++) gram[a * C + b] += xa * x[t * C + b];
    }
  }
  for (let a = 0; a < C; a++) for (let b = a + 1; b < C; b++) gram[b * C + a] = gram[a * C + b];
  return gram;
}
