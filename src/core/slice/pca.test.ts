// The eigensolver against its plain Jacobi reference and against its definition (A·v = λ·v,
// orthonormal vectors), on hostile cases: 1×1, all zeros, repeated eigenvalues, rank-deficient
// Grams, a huge offset in scale between directions.
import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../calibrate/random.ts';
import { expectClose } from '../testing/expectClose.ts';
import { jacobiEigen, leadingColumns, principalDirections, symmetricEigen, type Eigen } from './pca.ts';

/** Σ_t x_t x_tᵀ of `tokens` seeded rows, channel j scaled by scales[j]. */
function gram(n: number, tokens: number, seed: number, scale: (j: number) => number = () => 1): Float64Array {
  const random = mulberry32(seed);
  const a = new Float64Array(n * n);
  for (let t = 0; t < tokens; t++) {
    const x = Array.from({ length: n }, (_, j) => (random() - 0.5) * scale(j));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += x[i] * x[j];
  }
  return a;
}

function checkDecomposition(a: Float64Array, n: number, { values, vectors }: Eigen): void {
  const size = Math.max(1, Math.abs(values[0]));
  for (let j = 1; j < n; j++) expect(values[j]).toBeLessThanOrEqual(values[j - 1]);
  const av = new Float64Array(n * n);
  const lv = new Float64Array(n * n);
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let g = 0;
      for (let k = 0; k < n; k++) {
        s += a[i * n + k] * vectors[k * n + j];
        g += vectors[k * n + i] * vectors[k * n + j];
      }
      av[i * n + j] = s;
      lv[i * n + j] = values[j] * vectors[i * n + j];
      gram[i * n + j] = g;
    }
  }
  expectClose(av, lv, { atol: 1e-11 * size, rtol: 0 }, 'A·v = λ·v');
  const identity = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
  expectClose(gram, identity, { atol: 1e-12, rtol: 0 }, 'VᵀV = I');
}

const cases: [string, number, Float64Array][] = [
  ['1×1', 1, Float64Array.of(3)],
  ['all zeros', 4, new Float64Array(16)],
  ['identity (one eigenvalue, repeated)', 5, Float64Array.from({ length: 25 }, (_, k) => (k % 6 === 0 ? 1 : 0))],
  ['rank 3 Gram of width 12', 12, gram(12, 3, 1)],
  ['full Gram of width 48', 48, gram(48, 200, 2)],
  ['scales 1 to 10⁶', 16, gram(16, 64, 3, (j) => 10 ** ((6 * j) / 15))],
];

describe('symmetricEigen', () => {
  test.each(cases)('%s: decomposes, and agrees with Jacobi', (_, n, a) => {
    const fast = symmetricEigen(a, n);
    checkDecomposition(a, n, fast);
    const plain = jacobiEigen(a, n);
    checkDecomposition(a, n, plain);
    expectClose(fast.values, plain.values, { atol: 1e-11 * Math.max(1, Math.abs(plain.values[0])), rtol: 0 }, 'eigenvalues');
  });

  test('rejects a matrix of the wrong size', () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(/5 values for a 2×2 matrix/);
  });
});

describe('principalDirections (pca_calc)', () => {
  test('damps by 1 % of the mean diagonal, which moves every eigenvalue and no eigenvector', () => {
    const n = 8;
    const a = gram(n, 40, 4);
    const mean = Array.from({ length: n }, (_, i) => a[i * n + i]).reduce((x, y) => x + y) / n;
    const plain = symmetricEigen(a, n);
    const damped = principalDirections(a, n);
    expectClose(damped.values, plain.values.map((v) => v + 0.01 * mean), { atol: 1e-12 * plain.values[0], rtol: 0 }, 'damped eigenvalues');
    // Same directions up to sign.
    const alignment = Array.from({ length: n }, (_, j) => Math.abs(Array.from({ length: n }, (_, i) => plain.vectors[i * n + j] * damped.vectors[i * n + j]).reduce((x, y) => x + y)));
    expectClose(alignment, new Array(n).fill(1), { atol: 1e-10, rtol: 0 }, '|cos| between directions');
    expect(Array.from(leadingColumns(damped.vectors, n, 2))).toEqual(Array.from({ length: 2 * n }, (_, k) => damped.vectors[Math.floor(k / 2) * n + (k % 2)]));
  });
});
