// The float64 factorisations against plain loops: the Cholesky factor against the textbook
// column-by-column form, U (H⁻¹ = Uᵀ U) against fasterprune's three steps
// cholesky → cholesky_inverse → cholesky(upper) written out plainly here.
import { describe, expect, test } from 'vitest';
import { choleskyLowerF64, inverseUpperCholeskyF64 } from './cholesky.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';

/** A = B Bᵀ + I for a seeded B: symmetric positive definite, moderately conditioned. */
function spd(n: number, seed: number): Float64Array {
  const next = seededUniform(seed);
  const b = Float64Array.from({ length: n * n }, () => next() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let sum = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) sum += b[i * n + k] * b[j * n + k];
      a[i * n + j] = sum;
    }
  return a;
}

function choleskyRef(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let pivot = a[j * n + j];
    for (let k = 0; k < j; k++) pivot -= l[j * n + k] ** 2;
    l[j * n + j] = Math.sqrt(pivot);
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = sum / l[j * n + j];
    }
  }
  return l;
}

/** fasterprune: H⁻¹ = cholesky_inverse(cholesky(H)), then its upper Cholesky factor. */
function fasterpruneHinvRef(h: Float64Array, n: number): Float64Array {
  const l = choleskyRef(h, n);
  const li = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    li[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum += l[i * n + k] * li[k * n + j];
      li[i * n + j] = -sum / l[i * n + i];
    }
  }
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = Math.max(i, j); k < n; k++) sum += li[k * n + i] * li[k * n + j];
      inverse[i * n + j] = sum;
    }
  const lower = choleskyRef(inverse, n);
  return Float64Array.from({ length: n * n }, (_, k) => lower[(k % n) * n + Math.floor(k / n)]);
}

const SIZES = [1, 2, 3, 5, 17, 40];

describe('choleskyLowerF64', () => {
  test.each(SIZES)('n = %i: equals the column-by-column factor, upper triangle zero', (n) => {
    const a = spd(n, n);
    const outcome = choleskyLowerF64(a, n);
    if (!outcome.ok) throw new Error(`pivot ${outcome.pivot} failed`);
    expectClose(outcome.lower, choleskyRef(a, n), { atol: 1e-13, rtol: 1e-12 }, 'L');
  });

  test('the first pivot that is not > 0 is reported with its value (0, negative, NaN)', () => {
    expect(choleskyLowerF64(Float64Array.of(1, 0, 0, 0), 2)).toEqual({ ok: false, pivot: 1, value: 0 });
    expect(choleskyLowerF64(Float64Array.of(1, 2, 2, 1), 2)).toEqual({ ok: false, pivot: 1, value: -3 });
    const nan = choleskyLowerF64(Float64Array.of(4, 0, 0, NaN, 0, 0, 0, 0, 1), 3);
    expect(nan.ok).toBe(false);
    if (!nan.ok) expect([nan.pivot, nan.value]).toEqual([1, NaN]);
  });
});

describe('inverseUpperCholeskyF64: U with H⁻¹ = Uᵀ U, from the reversed factorisation', () => {
  test.each(SIZES)('n = %i: equals fasterprune’s three-step U', (n) => {
    const h = spd(n, 100 + n);
    const outcome = inverseUpperCholeskyF64(h, n);
    if (!outcome.ok) throw new Error(`pivot ${outcome.pivot} failed`);
    const u = outcome.upper;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    expectClose(u, fasterpruneHinvRef(h, n), { atol: 1e-12, rtol: 1e-10 }, 'U');
  });

  test('an all-zero row/column (a dead channel left undamped) is refused at its pivot', () => {
    const h = spd(4, 9);
    for (let k = 0; k < 4; k++) h[1 * 4 + k] = h[k * 4 + 1] = 0;
    const outcome = inverseUpperCholeskyF64(h, 4);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.pivot).toBe(2); // reversed order: channel 4 − 1 − 2 = 1
  });
});
