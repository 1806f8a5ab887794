import { describe, expect, it } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';
import { svdReconstruction, thinSvd } from './svd.ts';
import { symmetricEigen } from './symmetricEigen.ts';

function randomMatrix(m: number, n: number, seed: number): Float64Array {
  const next = seededUniform(seed);
  return Float64Array.from({ length: m * n }, () => next() * 2 - 1);
}

/** max |QᵀQ − I| over the k columns of the row-major (rows × k) q. */
function orthonormalityError(q: Float64Array, rows: number, k: number, skipZero = false): number {
  let worst = 0;
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += q[i * k + a] * q[i * k + b];
      if (skipZero && a === b && dot === 0) continue;
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

describe('thinSvd (one-sided Jacobi)', () => {
  it.each([
    [7, 5],
    [5, 7],
    [1, 1],
    [1, 6],
    [6, 1],
    [33, 33],
    [64, 17],
  ])('reconstructs a random %i × %i matrix with orthonormal factors and sorted values', (m, n) => {
    const a = randomMatrix(m, n, m * 100 + n);
    const svd = thinSvd(a, m, n);
    expect(svd.k).toBe(Math.min(m, n));
    expectClose(svdReconstruction(svd, svd.k), a, { atol: 1e-12, rtol: 0 }, 'U Σ Vᵀ');
    expect(orthonormalityError(svd.u, m, svd.k)).toBeLessThan(1e-12);
    const v = new Float64Array(n * svd.k);
    for (let r = 0; r < svd.k; r++) for (let j = 0; j < n; j++) v[j * svd.k + r] = svd.vt[r * n + j];
    expect(orthonormalityError(v, n, svd.k)).toBeLessThan(1e-12);
    for (let i = 1; i < svd.k; i++) expect(svd.s[i]).toBeLessThanOrEqual(svd.s[i - 1]);
  });

  it('gives exact singular values of a matrix built from known ones, the tiny ones included', () => {
    // A = Q1 diag(σ) Q2ᵀ with Q from the SVD of random matrices (orthonormal to 1e-15).
    const n = 12;
    const q1 = thinSvd(randomMatrix(n, n, 1), n, n).u;
    const q2 = thinSvd(randomMatrix(n, n, 2), n, n).u;
    const sigma = Array.from({ length: n }, (_, i) => 10 ** -i);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) a[i * n + j] += q1[i * n + t] * sigma[t] * q2[j * n + t];
    expectClose(thinSvd(a, n, n).s, sigma, { atol: 1e-15, rtol: 1e-9 }, 'σ');
  });

  it('handles rank deficiency: zero rows and columns, and the all-zero matrix', () => {
    const a = randomMatrix(6, 4, 9);
    for (let j = 0; j < 4; j++) a[2 * 4 + j] = 0;
    for (let i = 0; i < 6; i++) a[i * 4 + 1] = 0;
    const svd = thinSvd(a, 6, 4);
    expect(svd.s[3]).toBe(0);
    expectClose(svdReconstruction(svd, 4), a, { atol: 1e-12, rtol: 0 });
    const zero = thinSvd(new Float64Array(12), 3, 4);
    expect([...zero.s]).toEqual([0, 0, 0]);
    expect([...svdReconstruction(zero, 3)].every((v) => v === 0)).toBe(true);
  });

  it('refuses NaN and Inf with the element named', () => {
    expect(() => thinSvd([1, Number.NaN, 0, 1], 2, 2)).toThrow('element 1 is NaN');
    expect(() => thinSvd([1, 0, Infinity, 1], 2, 2)).toThrow('element 2 is Infinity');
  });
});

describe('symmetricEigen (cyclic Jacobi)', () => {
  it('diagonalises a random symmetric matrix: A V = V Λ, V orthonormal, values ascending', () => {
    const n = 20;
    const r = randomMatrix(n, n, 5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j] + r[j * n + i];
    const { values, vectors } = symmetricEigen(a, n);
    const av = new Float64Array(n * n);
    const vl = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < n; c++) {
        for (let k = 0; k < n; k++) av[i * n + c] += a[i * n + k] * vectors[k * n + c];
        vl[i * n + c] = vectors[i * n + c] * values[c];
      }
    }
    expectClose(av, vl, { atol: 1e-12, rtol: 0 }, 'A V − V Λ');
    expect(orthonormalityError(vectors, n, n)).toBeLessThan(1e-12);
    for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
  });

  it('finds the negative eigenvalue of an indefinite matrix and the zero of a singular one', () => {
    expectClose(symmetricEigen([2, 3, 3, 2], 2).values, [-1, 5], { atol: 1e-14, rtol: 0 });
    expectClose(symmetricEigen([1, 1, 1, 1], 2).values, [0, 2], { atol: 1e-14, rtol: 0 });
    expectClose(symmetricEigen([4], 1).values, [4], { atol: 0, rtol: 0 });
  });
});
