// Principal directions of the residual stream, as SliceGPT's `pca_calc` (rotate.py) computes
// them: H = Σ_tokens xxᵀ (no centring: the LayerNorm fusion already centred the stream),
// H += 0.01·mean(diag H)·I, eigenvectors sorted by descending eigenvalue. The damping moves every
// eigenvalue by the same amount, so it changes no eigenvector; it is kept so the eigenvalues match
// the reference's.
//
// The eigensolver is cyclic Jacobi in float64 (Golub & Van Loan, Matrix Computations, §8.5):
// slower than Householder + QL for large n, but short, and accurate to the last bits for the
// widths the lab runs (128 to a few hundred).

export interface Eigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** (n, n) row-major; column j is the eigenvector of values[j]. */
  vectors: Float64Array;
}

/** Eigen-decomposition of the symmetric (n, n) row-major `matrix` (not modified). */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): Eigen {
  if (matrix.length !== n * n) throw new RangeError(`symmetricEigen: ${matrix.length} values for a ${n}×${n} matrix`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q] (Numerical Recipes' sign convention).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let j = 0; j < n; j++) vectors[r * n + j] = v[r * n + order[j]];
  return { values, vectors };
}

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
