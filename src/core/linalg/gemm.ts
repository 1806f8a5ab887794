// Float32 matrix products on the wasm kernels (wasm/gemm.c): 4 × 16 register tiles of
// f32x4, each output summed over k in ascending order from +0 and rounded like Math.fround —
// bit-identical to the plain loops in gemm.ref.ts, on every machine.
import { WasmArena } from './wasmKernels.ts';

/** C (m × n) −= A (m × k) · B (k × n), row-major float32; the product is summed before it is subtracted. */
export function gemmSubtract(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const arena = new WasmArena();
  const [ra, rb, rc] = [arena.region('f32', m * k), arena.region('f32', k * n), arena.region('f32', m * n)];
  arena.ready();
  arena.view(ra).set(a.subarray(0, m * k));
  arena.view(rb).set(b.subarray(0, k * n));
  arena.view(rc).set(c.subarray(0, m * n));
  arena.k.sgemm_sub(m, n, k, ra.ptr, k, rb.ptr, n, rc.ptr, n);
  c.set(arena.view(rc));
}

/**
 * tr(A S Aᵀ) = Σ_r a_r S a_rᵀ for each A (m × n) of `as`, with one symmetric S (n × n), as one
 * matrix product per A with the upper-triangular B = diag(S) + 2·triu(S, 1): half the
 * multiply-adds of A S. A and B are rounded to float32, each entry of A B is a float32 sum over
 * k in order, the trace a float64 sum (relative error a few float32 ulps times √n for a
 * well-conditioned form; reconstruction.test.ts states the bound it checks).
 */
export function quadraticTraces(as: readonly ArrayLike<number>[], m: number, n: number, s: ArrayLike<number>): number[] {
  const arena = new WasmArena();
  const [ra, rb] = [arena.region('f32', m * n), arena.region('f32', n * n)];
  arena.ready();
  const b = arena.view(rb);
  b.fill(0); // a tile reads up to 15 rows below the diagonal
  for (let i = 0; i < n; i++) {
    const row = i * n;
    b[row + i] = s[row + i];
    for (let j = i + 1; j < n; j++) b[row + j] = 2 * s[row + j];
  }
  const aView = arena.view(ra);
  return as.map((a) => {
    if (ArrayBuffer.isView(a)) aView.set(a as Float32Array | Float64Array);
    else for (let i = 0; i < m * n; i++) aView[i] = a[i];
    return arena.k.sgemm_trace_upper(m, n, ra.ptr, n, rb.ptr, n);
  });
}
