// The same cases through the CPU reference and the GPU kernel.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { describeGpu } from '../../testing/describeGpu';
import { wandaScoreGpu } from './wandaScore.gpu';
import { wandaScoreRef } from './wandaScore.ref';
import { SCORE_TOLERANCE, wandaCases as cases } from '../../testing/cases/wandaScore';

describe('wandaScore reference', () => {
  test('|W| times the channel norm, by hand', () => {
    const s = wandaScoreRef(new Float32Array([-2, 3, 0.5, -1]), new Float32Array([4, 0]), 2, 2);
    expect(Array.from(s)).toEqual([4, 0, 1, 0]);
  });
});

describeGpu('wandaScore kernel vs reference', (gpu) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const expected = wandaScoreRef(c.weights, c.sqNorm, c.rows, c.cols);
    const got = await wandaScoreGpu(gpu(), c.weights, c.sqNorm, c.rows, c.cols);
    expectClose(got, expected, SCORE_TOLERANCE, c.name);
  });

  test('NaN and Inf: exactly the reference pattern', async () => {
    const c = cases.find((k) => k.name.startsWith('NaN'))!;
    const got = await wandaScoreGpu(gpu(), c.weights, c.sqNorm, c.rows, c.cols);
    expect(got[1 * 9 + 2]).toBeNaN();
    expect(got[2 * 9 + 4]).toBe(Infinity);
    expect(got[3 * 9 + 7]).toBeNaN(); // 0 · sqrt(Inf)
    expect(got[0 * 9 + 7]).toBe(Infinity);
    for (let i = 0; i < 4; i++) expect(got[i * 9 + 8]).toBeNaN();
  });
});
