// Float64 Cholesky factorisation and triangular inverse on the wasm kernels (wasm/cholesky.c):
// row-oriented, two lanes of f64 SIMD, no fused multiply-add.
import { WasmArena } from './wasmKernels.ts';

/** L with A = L Lᵀ, or the first pivot (0-based) that was not > 0 and its value. */
export type CholeskyOutcome = { ok: true; lower: Float64Array } | { ok: false; pivot: number; value: number };

/** Lower Cholesky factor of the symmetric (n × n) a; only its lower triangle is read. */
export function choleskyLowerF64(a: Float64Array, n: number): CholeskyOutcome {
  const arena = new WasmArena();
  const m = arena.region('f64', n * n);
  arena.ready();
  arena.view(m).set(a.subarray(0, n * n));
  const pivot = arena.k.cholesky_lower_f64(n, m.ptr);
  const out = arena.view(m);
  return pivot < 0 ? { ok: true, lower: Float64Array.from(out) } : { ok: false, pivot, value: out[pivot * n + pivot] };
}

/**
 * U, upper triangular with positive diagonal, such that H⁻¹ = Uᵀ U — the upper Cholesky factor
 * of H⁻¹ that SparseGPT and GPTQ sweep with — from one factorisation and one triangular inverse:
 * with J the order-reversing permutation, J H J = L Lᵀ gives H = Ũ Ũᵀ with Ũ = J L J upper, so
 * H⁻¹ = (Ũ⁻¹)ᵀ Ũ⁻¹ and U = Ũ⁻¹ = J L⁻¹ J. Half the work of fasterprune's
 * cholesky → cholesky_inverse → cholesky(upper), and two roundings fewer.
 */
export function inverseUpperCholeskyF64(h: Float64Array, n: number): { ok: true; upper: Float64Array } | { ok: false; pivot: number; value: number } {
  const arena = new WasmArena();
  const reversed = arena.region('f64', n * n);
  const inverse = arena.region('f64', n * n);
  arena.ready();
  const r = arena.view(reversed);
  const last = n * n - 1;
  for (let i = 0; i <= last; i++) r[i] = h[last - i]; // (J H J)[i, j] = H[n−1−i, n−1−j]
  const pivot = arena.k.cholesky_lower_f64(n, reversed.ptr);
  if (pivot >= 0) return { ok: false, pivot, value: arena.view(reversed)[pivot * n + pivot] };
  arena.k.lower_inverse_f64(n, reversed.ptr, inverse.ptr);
  const x = arena.view(inverse);
  const upper = new Float64Array(n * n);
  for (let i = 0; i <= last; i++) upper[i] = x[last - i];
  return { ok: true, upper };
}
