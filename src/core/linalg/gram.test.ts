// gramOfRows against a plain float64 loop. Products of float32 values are exact in float64, so the
// only difference is the order of the additions (four tokens summed before they are added):
// within a few float64 ulps of Σ|x_a x_b|. Token counts miss the group of four on every side.
import { describe, expect, test } from 'vitest';
import { gramOfRows } from './gram.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';

function gramRef(x: Float32Array, tokens: number, c: number): { gram: Float64Array; absSum: Float64Array } {
  const gram = new Float64Array(c * c);
  const absSum = new Float64Array(c * c);
  for (let t = 0; t < tokens; t++)
    for (let a = 0; a < c; a++)
      for (let b = 0; b < c; b++) {
        const p = x[t * c + a] * x[t * c + b];
        gram[a * c + b] += p;
        absSum[a * c + b] += Math.abs(p);
      }
  return { gram, absSum };
}

describe('gramOfRows', () => {
  test.each([
    [1, 1],
    [3, 5],
    [4, 7],
    [9, 16],
    [130, 33],
  ])('%i tokens x %i channels, with a dead channel and a 1e4 offset', (tokens, c) => {
    const next = seededUniform(tokens * 31 + c);
    const x = Float32Array.from({ length: tokens * c }, (_, i) => (c > 1 && i % c === 1 ? 0 : next() - 0.5 + (i % c === 0 ? 1e4 : 0)));
    const got = gramOfRows(x, tokens, c);
    const { gram, absSum } = gramRef(x, tokens, c);
    const bound = Float64Array.from(absSum, (s) => 8 * tokens * 2 ** -53 * s);
    for (let i = 0; i < gram.length; i++) expectClose([got[i]], [gram[i]], { atol: bound[i], rtol: 0 }, `entry ${i}`);
    for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) expect(got[a * c + b]).toBe(got[b * c + a]);
    if (c > 1) for (let b = 0; b < c; b++) expect(got[1 * c + b]).toBe(0);
  });

  test('no tokens give zeros; a wrong length is refused', () => {
    expect(gramOfRows(new Float32Array(0), 0, 3)).toEqual(new Float64Array(9));
    expect(() => gramOfRows(new Float32Array(5), 2, 3)).toThrow(/5 values for 2 tokens x 3 channels/);
  });
});
