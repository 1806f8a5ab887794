// Eigen-decomposition of a real symmetric matrix, float64, by the cyclic Jacobi method (Golub &
// Van Loan, Matrix Computations, 4th ed., Algorithm 8.5.3). Slow for large n (O(n³) per sweep)
// but simple and accurate to a few ulps of ‖A‖; the lab uses it where n is a layer's C_in:
// SVD-LLM's damping of an indefinite XXᵀ (its smallest eigenvalue), and principal directions of
// hidden states (PCA).

/** A = V diag(values) Vᵀ: `values` ascending, column i of the row-major V (n × n) its eigenvector. */
export interface SymmetricEigen {
  n: number;
  values: Float64Array;
  vectors: Float64Array;
}

const MAX_SWEEPS = 60;

/** Eigenvalues (ascending) and eigenvectors of the symmetric (n × n) `a` (its upper triangle is read). */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const value = a[i * n + j];
      if (!Number.isFinite(value)) throw new Error(`symmetricEigen: element (${i}, ${j}) is ${value}`);
      m[i * n + j] = value;
      m[j * n + i] = value;
    }
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += m[i] * m[i];
  const threshold = 1e-30 * norm;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * m[p * n + q] * m[p * n + q];
    if (off <= threshold) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A ← Jᵀ A J on rows and columns p, q.
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p];
          const akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k];
          const aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
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
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[x * n + x] - m[y * n + y] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, i) => {
    values[i] = m[col * n + col];
    for (let k = 0; k < n; k++) vectors[k * n + i] = v[k * n + col];
  });
  return { n, values, vectors };
}
