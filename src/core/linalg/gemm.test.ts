// The float32 GEMM kernels against plain loops: gemmSubtract bit for bit against a Math.fround
// triple loop (the order the kernel promises), quadraticTraces against float64 sums within the
// bound it states. Shapes are chosen to miss the 4 × 16 tile on every side.
import { describe, expect, test } from 'vitest';
import { gemmSubtract, quadraticTraces } from './gemm.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';

const f = Math.fround;

function filled(length: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length }, () => next() - 0.5);
}

/** C −= A B with every product and partial sum rounded to float32, the sum over k ascending from +0. */
function gemmSubtractRef(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): Float32Array {
  const out = Float32Array.from(c);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum = f(sum + f(a[i * k + p] * b[p * n + j]));
      out[i * n + j] = f(out[i * n + j] - sum);
    }
  return out;
}

/** Σ_r a_r S a_rᵀ in float64. */
function quadraticTraceRef(a: ArrayLike<number>, m: number, n: number, s: Float64Array): number {
  let total = 0;
  for (let r = 0; r < m; r++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) total += a[r * n + i] * s[i * n + j] * a[r * n + j];
  return total;
}

function symmetricPsd(n: number, seed: number): Float64Array {
  const x = filled(n * (n + 3), seed);
  const t = n + 3;
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < t; p++) s[i * n + j] += x[i * t + p] * x[j * t + p];
  return s;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 2],
  [4, 16, 7],
  [5, 17, 13],
  [9, 33, 1],
  [7, 31, 40],
];

describe('gemmSubtract: C −= A·B, float32, bit-identical to the ordered loop', () => {
  test.each(SHAPES)('%i × %i, k = %i', (m, n, k) => {
    const a = filled(m * k, 1);
    const b = filled(k * n, 2);
    const c = filled(m * n, 3);
    if (m > 2) a.fill(0, 2 * k, 3 * k); // an all-zero row of A leaves its row of C untouched
    const expected = gemmSubtractRef(m, n, k, a, b, c);
    const actual = Float32Array.from(c);
    gemmSubtract(m, n, k, a, b, actual);
    expectClose(actual, expected, { atol: 0, rtol: 0 }, 'C');
    if (m > 2) expectClose(actual.subarray(2 * n, 3 * n), c.subarray(2 * n, 3 * n), { atol: 0, rtol: 0 }, 'zero row');
  });

  test('NaN and Infinity follow IEEE rules: a NaN in A poisons its row of C, ∞·0 is NaN', () => {
    const [m, n, k] = [2, 18, 3];
    const a = filled(m * k, 4);
    const b = filled(k * n, 5);
    a[1] = NaN; // row 0
    b[2 * n + 17] = Infinity; // column 17, reached by row 1 through a[1 * k + 2]
    a[1 * k + 2] = 0;
    const actual = new Float32Array(m * n);
    gemmSubtract(m, n, k, a, b, actual);
    expect(Array.from(actual.subarray(0, n)).every(Number.isNaN)).toBe(true);
    expect(Number.isNaN(actual[n + 17])).toBe(true);
    expectClose(actual, gemmSubtractRef(m, n, k, a, b, new Float32Array(m * n)), { atol: 0, rtol: 0 }, 'C with NaN/Inf');
  });
});

/** The bound quadraticTraces states: float32 products and sums, relative to Σ|terms|. */
const TRACE_RTOL = 1e-5;

describe('quadraticTraces: tr(A S Aᵀ) as one triangular float32 product', () => {
  test.each([
    [1, 1],
    [3, 2],
    [5, 15],
    [4, 16],
    [6, 17],
    [9, 40],
  ])('%i rows × %i columns, against float64', (m, n) => {
    const s = symmetricPsd(n, 6);
    const a = filled(m * n, 7);
    if (m > 2) a.fill(0, n, 2 * n);
    const zeros = new Float32Array(m * n);
    const [trace, zero] = quadraticTraces([a, zeros], m, n, s);
    expectClose([trace], [quadraticTraceRef(a, m, n, s)], { atol: 0, rtol: TRACE_RTOL }, 'trace');
    expect(zero).toBe(0);
  });

  test('float64 input is rounded to float32 first; NaN propagates', () => {
    const n = 3;
    const s = symmetricPsd(n, 8);
    const a = Float64Array.of(0.1, 0.2, 0.3);
    expectClose(quadraticTraces([a], 1, n, s), [quadraticTraceRef(Float32Array.from(a), 1, n, s)], { atol: 0, rtol: TRACE_RTOL }, 'trace');
    expect(quadraticTraces([Float32Array.of(NaN, 0, 0)], 1, n, s)[0]).toBeNaN();
  });
});
