// Principal directions of the residual stream, as SliceGPT's `pca_calc` (rotate.py) computes
// them: H = Σ_tokens xxᵀ (no centring: the LayerNorm fusion already centred the stream),
// H += 0.01·mean(diag H)·I, eigenvectors sorted by descending eigenvalue. The damping moves every
// eigenvalue by the same amount, so it changes no eigenvector; it is kept so the eigenvalues match
// the reference's. The eigensolver is linalg/symmetricEigen.ts.
import { symmetricEigen, type Eigen } from '../linalg/symmetricEigen.ts';

/** pca_calc: the damped Gram's eigenvalues (descending) and eigenvectors (columns). */
export function principalDirections(gram: Float64Array, n: number): Eigen {
  const damped = Float64Array.from(gram);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += gram[i * n + i];
  const damp = (0.01 * trace) / n;
  for (let i = 0; i < n; i++) damped[i * n + i] += damp;
  return symmetricEigen(damped, n);
}

/** The first `k` columns of the (n, n) row-major `vectors`, as an (n, k) row-major matrix. */
export function leadingColumns(vectors: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) out[r * k + j] = vectors[r * n + j];
  return out;
}
