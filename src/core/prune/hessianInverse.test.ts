// The float64 factorisations behind SparseGPT's U: H⁻¹ = Uᵀ U, upper triangular.
import { describe, expect, test } from 'vitest';
import { choleskyLower, hessianInverseCholesky } from './hessianInverse.ts';
import { PruneError } from './types.ts';
import { expectClose } from '../testing/expectClose.ts';

/** A = B Bᵀ + n·I for a fixed B: symmetric positive definite. */
function spd(n: number): Float64Array {
  const b = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i * 1.7 + 0.3));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = i === j ? n : 0;
      for (let k = 0; k < n; k++) sum += b[i * n + k] * b[j * n + k];
      a[i * n + j] = sum;
    }
  }
  return a;
}

function multiply(a: Float64Array, b: Float64Array, n: number, transposeA = false): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += (transposeA ? a[k * n + i] : a[i * n + k]) * b[k * n + j];
      out[i * n + j] = sum;
    }
  return out;
}

const identity = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

describe('Cholesky factorisations (float64)', () => {
  const n = 7;
  const a = spd(n);

  test('L Lᵀ = A with L lower triangular', () => {
    const l = choleskyLower(a, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
    const lt = Float64Array.from({ length: n * n }, (_, k) => l[(k % n) * n + Math.floor(k / n)]);
    expectClose(multiply(l, lt, n), a, { atol: 1e-12, rtol: 1e-12 }, 'L Lᵀ');
  });

  test('U is upper triangular with Uᵀ U · A = I', () => {
    const u = hessianInverseCholesky(a, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    expectClose(multiply(multiply(u, u, n, true), a, n), identity(n), { atol: 1e-12, rtol: 0 }, 'Uᵀ U A');
  });

  test('1 x 1: U = 1/sqrt(h)', () => {
    expect(hessianInverseCholesky(Float64Array.of(4), 1)[0]).toBeCloseTo(0.5, 15);
  });

  test('a matrix that is not positive definite is a PruneError naming the pivot', () => {
    expect(() => choleskyLower(Float64Array.of(1, 0, 0, 0), 2, 'H')).toThrow(PruneError);
    expect(() => choleskyLower(Float64Array.of(1, 0, 0, 0), 2, 'H')).toThrow(/H is not positive definite: Cholesky pivot 1 is 0/);
    expect(() => choleskyLower(Float64Array.of(NaN), 1, 'H')).toThrow(/pivot 0 is NaN/);
  });
});
