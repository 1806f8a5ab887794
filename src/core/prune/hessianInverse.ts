// The float64 factorisations behind SparseGPT's (and GPTQ's) inverse Hessian. The reference runs
// them in float32 on the GPU; here they run in float64 (ALGORITHMS.md: "fp32 accumulate, f64 for
// factorisation") and the result is rounded to float32 for the column loop.
import { PruneError } from './types.ts';

/** Lower Cholesky factor L of a symmetric positive-definite (n, n) matrix: A = L Lᵀ. */
export function choleskyLower(a: Float64Array, n: number, label = 'matrix'): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let pivot = a[j * n + j];
    for (let k = 0; k < j; k++) pivot -= l[j * n + k] * l[j * n + k];
    if (!(pivot > 0)) {
      throw new PruneError(`${label} is not positive definite: Cholesky pivot ${j} is ${pivot}`);
    }
    const diagonal = Math.sqrt(pivot);
    l[j * n + j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = sum / diagonal;
    }
  }
  return l;
}

/** L⁻¹ for a lower-triangular L, column by column by forward substitution. */
function lowerInverse(l: Float64Array, n: number): Float64Array {
  const inverse = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inverse[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum += l[i * n + k] * inverse[k * n + j];
      inverse[i * n + j] = -sum / l[i * n + i];
    }
  }
  return inverse;
}

/** (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹ from the lower factor, as torch.cholesky_inverse. */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  const li = lowerInverse(l, n);
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += li[k * n + i] * li[k * n + j];
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return inverse;
}

/**
 * SparseGPT's `Hinv`: the upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ U), from the damped H, by
 * cholesky → cholesky_inverse → cholesky(upper=True) as in fasterprune. Row i of U holds the
 * OBS update direction of column i.
 */
export function hessianInverseCholesky(h: Float64Array, n: number): Float64Array {
  const inverse = choleskyInverse(choleskyLower(h, n, 'the damped Hessian'), n);
  const lower = choleskyLower(inverse, n, 'the inverse Hessian');
  const upper = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) upper[i * n + j] = lower[j * n + i];
  return upper;
}
