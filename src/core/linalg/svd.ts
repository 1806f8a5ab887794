// Thin singular value decomposition, float64, by one-sided Jacobi (Hestenes 1958; Demmel &
// Veselić, "Jacobi's method is more accurate than QR", SIAM J. Matrix Anal. Appl. 13(4), 1992).
// Why our own: the npm registry offers no pure-JS/wasm SVD the lab could depend on that is both
// maintained and float64-exact (ml-matrix's Golub–Kahan port is the closest, a large dependency
// for one routine). One-sided Jacobi is short, needs no bidiagonalisation, and computes small
// singular values to high relative accuracy — what truncation (low rank, BitStack) reads.
// Cost: O(sweeps · m · n²) with n = min(m, n); ~8–12 sweeps at 1e-15. A 512 × 128 weight takes
// tens of milliseconds; a 3072 × 768 one (GPT-2 MLP) tens of seconds.

/** A = U diag(s) Vᵀ with k = min(m, n): U (m × k) and Vᵀ (k × n) row-major, s descending ≥ 0. */
export interface ThinSvd {
  m: number;
  n: number;
  k: number;
  u: Float64Array;
  s: Float64Array;
  vt: Float64Array;
}

const MAX_SWEEPS = 80;
const TOLERANCE = 1e-15;

/**
 * Orthogonalises the `cols` columns (each of length `len`, stored contiguously in `g`), applying
 * the same rotations to the columns of `v` (each of length `cols`). Returns the column norms.
 */
function orthogonaliseColumns(g: Float64Array, len: number, cols: number, v: Float64Array): Float64Array {
  const norms = new Float64Array(cols);
  // Squared column norms, recomputed at each sweep and updated by each rotation in between
  // (α' = α − tγ, β' = β + tγ), so a pair costs one dot product instead of three.
  const sq = new Float64Array(cols);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let i = 0; i < len; i++) sum += g[j * len + i] * g[j * len + i];
      sq[j] = sum;
    }
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) {
      const gp = p * len;
      for (let q = p + 1; q < cols; q++) {
        const gq = q * len;
        const alpha = sq[p];
        const beta = sq[q];
        let gamma = 0;
        for (let i = 0; i < len; i++) gamma += g[gp + i] * g[gq + i];
        if (gamma === 0 || Math.abs(gamma) <= TOLERANCE * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that zeroes the (p, q) entry of GᵀG (Golub & Van Loan, Algorithm 8.4.1's sym.schur2).
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < len; i++) {
          const a = g[gp + i];
          const b = g[gq + i];
          g[gp + i] = c * a - s * b;
          g[gq + i] = s * a + c * b;
        }
        sq[p] = Math.max(0, alpha - t * gamma);
        sq[q] = beta + t * gamma;
        const vp = p * cols;
        const vq = q * cols;
        for (let i = 0; i < cols; i++) {
          const a = v[vp + i];
          const b = v[vq + i];
          v[vp + i] = c * a - s * b;
          v[vq + i] = s * a + c * b;
        }
      }
    }
    if (!rotated) break;
  }
  for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += g[j * len + i] * g[j * len + i];
    norms[j] = Math.sqrt(sum);
  }
  return norms;
}

/** SVD of a tall (m ≥ n) matrix: columns of A orthogonalised; U = A V Σ⁻¹. */
function tallSvd(a: ArrayLike<number>, m: number, n: number): { u: Float64Array; s: Float64Array; v: Float64Array } {
  // Column-major copy: each column contiguous, so a rotation touches two runs of memory.
  const g = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) g[j * m + i] = a[i * n + j];
  const v = new Float64Array(n * n); // column j of V at v[j*n ...]
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const norms = orthogonaliseColumns(g, m, n, v);
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y] - norms[x] || x - y);
  const u = new Float64Array(m * n);
  const s = new Float64Array(n);
  const vOut = new Float64Array(n * n); // row-major V (n × n): vOut[i*n + r] = V[i, r]
  const largest = norms[order[0]] ?? 0;
  order.forEach((j, r) => {
    const sigma = norms[j];
    s[r] = sigma;
    // A zero column (rank deficiency) has no direction: its U column stays 0 (UΣ is unaffected).
    const inv = sigma > largest * 1e-300 && sigma > 0 ? 1 / sigma : 0;
    for (let i = 0; i < m; i++) u[i * n + r] = g[j * m + i] * inv;
    for (let i = 0; i < n; i++) vOut[i * n + r] = v[j * n + i];
  });
  return { u, s, v: vOut };
}

/** The thin SVD of the (m × n) row-major `a`. */
export function thinSvd(a: ArrayLike<number>, m: number, n: number): ThinSvd {
  if (a.length < m * n) throw new Error(`thinSvd: ${a.length} values for a ${m} × ${n} matrix`);
  for (let i = 0; i < m * n; i++) if (!Number.isFinite(a[i])) throw new Error(`thinSvd: element ${i} is ${a[i]}`);
  if (m >= n) {
    const { u, s, v } = tallSvd(a, m, n);
    const vt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let r = 0; r < n; r++) vt[r * n + i] = v[i * n + r];
    return { m, n, k: n, u, s, vt };
  }
  // Wide: Aᵀ = U' Σ V'ᵀ, so A = V' Σ U'ᵀ.
  const at = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = a[i * n + j];
  const t = tallSvd(at, n, m);
  const vt = new Float64Array(m * n);
  for (let i = 0; i < n; i++) for (let r = 0; r < m; r++) vt[r * n + i] = t.u[i * m + r];
  return { m, n, k: m, u: t.v, s: t.s, vt };
}

/** U_r diag(s_r) V_rᵀ (m × n), row-major, from the first r triplets. */
export function svdReconstruction(svd: ThinSvd, r: number): Float64Array {
  const { m, n, k, u, s, vt } = svd;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < Math.min(r, k); t++) {
      const w = u[i * k + t] * s[t];
      if (w === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += w * vt[t * n + j];
    }
  }
  return out;
}
