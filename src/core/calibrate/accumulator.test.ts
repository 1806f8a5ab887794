// CpuStatsAccumulator (Gram on the wasm kernel gram_add4_f64) against the plain float64 loops of
// the GPU kernel's reference (hessian.ref.ts), and against its own promised summation order
// written out plainly: groups of four tokens, summed as x0·y0 + x1·y1 + (x2·y2 + x3·y3).
import { describe, expect, test } from 'vitest';
import { CpuStatsAccumulator } from './accumulator.ts';
import { accumulateHessianRef, createHessianStatsRef } from '../gpu/kernels/hessian/hessian.ref.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';

function tokensOf(count: number, channels: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length: count * channels }, () => 4 * (next() - 0.5));
}

/** The grouped order, upper triangle then mirrored (what the class documents). */
function groupedGram(x: Float32Array, tokens: number, C: number): Float64Array {
  const g = new Float64Array(C * C);
  const full = tokens - (tokens % 4);
  for (let t = 0; t < full; t += 4) {
    const r = (k: number, a: number) => x[(t + k) * C + a];
    for (let a = 0; a < C; a++) for (let b = a; b < C; b++) g[a * C + b] += r(0, a) * r(0, b) + r(1, a) * r(1, b) + (r(2, a) * r(2, b) + r(3, a) * r(3, b));
  }
  for (let t = full; t < tokens; t++) for (let a = 0; a < C; a++) for (let b = a; b < C; b++) g[a * C + b] += x[t * C + a] * x[t * C + b];
  for (let a = 0; a < C; a++) for (let b = a + 1; b < C; b++) g[b * C + a] = g[a * C + b];
  return g;
}

describe('CpuStatsAccumulator', () => {
  test.each([
    [1, 1],
    [7, 5],
    [70, 17],
    [131, 3],
  ])('%i tokens × %i channels: the grouped order bit for bit, and the plain float64 sums', (tokens, C) => {
    const x = tokensOf(tokens, C, tokens + C);
    // Uneven batches: the groups are counted over the whole stream, so batching changes nothing.
    const accumulator = new CpuStatsAccumulator({ channels: C, hessian: true });
    for (let t = 0; t < tokens; ) {
      const batch = Math.min(1 + ((t * 7) % 11), tokens - t);
      accumulator.add(x.subarray(t * C, (t + batch) * C), batch);
      t += batch;
    }
    const sums = accumulator.finish();
    expect(sums.tokens).toBe(tokens);
    expectClose(sums.gram!, groupedGram(x, tokens, C), { atol: 0, rtol: 0 }, 'gram, grouped order');
    const ref = createHessianStatsRef(C);
    accumulateHessianRef(ref, x, tokens);
    expectClose(sums.gram!, ref.gram, { atol: 1e-12, rtol: 1e-13 }, 'gram vs plain sums');
    expectClose(sums.sqNorm, ref.sqNorm, { atol: 0, rtol: 1e-14 }, 'sqNorm');
    expectClose(sums.maxAbs, ref.maxAbs, { atol: 0, rtol: 0 }, 'maxAbs');
  });

  test('a NaN token poisons its channel: maxAbs and the Gram entries it touches are NaN', () => {
    const C = 3;
    const x = tokensOf(9, C, 5);
    x[4 * C + 1] = NaN;
    const accumulator = new CpuStatsAccumulator({ channels: C, hessian: true });
    accumulator.add(x, 9);
    const sums = accumulator.finish();
    expect(Number.isNaN(sums.maxAbs[1])).toBe(true);
    expect(Number.isNaN(sums.gram![1 * C + 2])).toBe(true);
    expect(Number.isNaN(sums.gram![0])).toBe(false);
  });

  test('without the Hessian there is no Gram matrix', () => {
    const accumulator = new CpuStatsAccumulator({ channels: 4, hessian: false });
    accumulator.add(tokensOf(6, 4, 1), 6);
    expect(accumulator.finish().gram).toBeUndefined();
  });
});
