// The float64 factorisations behind SparseGPT's (and GPTQ's) inverse Hessian. The reference runs
// them in float32 on the GPU; here they run in float64 (ALGORITHMS.md: "fp32 accumulate, f64 for
// factorisation") on the wasm SIMD kernels (src/core/linalg), and the result is rounded to
// float32 for the column loop.
import { choleskyLowerF64, inverseUpperCholeskyF64 } from '../linalg/cholesky.ts';
import { PruneError } from './types.ts';

/** Lower Cholesky factor L of a symmetric positive-definite (n, n) matrix: A = L Lᵀ. */
export function choleskyLower(a: Float64Array, n: number, label = 'matrix'): Float64Array {
  const outcome = choleskyLowerF64(a, n);
  if (!outcome.ok) throw new PruneError(`${label} is not positive definite: Cholesky pivot ${outcome.pivot} is ${outcome.value}`);
  return outcome.lower;
}

/**
 * SparseGPT's `Hinv`: the upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ U), from the damped H. The
 * reference gets it by cholesky → cholesky_inverse → cholesky(upper=True); the same factor comes
 * from one Cholesky of H in reversed order and one triangular inverse (linalg/cholesky.ts), half
 * the work. Row i of U holds the OBS update direction of column i.
 */
export function hessianInverseCholesky(h: Float64Array, n: number): Float64Array {
  const outcome = inverseUpperCholeskyF64(h, n);
  if (!outcome.ok) {
    const channel = n - 1 - outcome.pivot;
    throw new PruneError(`the damped Hessian is not positive definite: Cholesky pivot ${outcome.pivot} is ${outcome.value} (input channel ${channel}; the factorisation runs from the last channel)`);
  }
  return outcome.upper;
}
