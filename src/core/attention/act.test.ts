// act.ts against GATECH-EIC/ACT's own edit function (fixtures/make_act_fixture.py runs it in torch
// float32 on maps with planted sinks; act.ts computes in float64 from the same float32 inputs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { actEdit, findSinks, sinkScores, thresholdValue, type SinkThreshold } from './act.ts';

interface FixtureCase {
  name: string;
  heads: number;
  tokens: number;
  causal: boolean;
  selectedHeads: number[];
  beta: number;
  threshold: SinkThreshold;
  sinksPerHead: number[][];
  minThresholdMargin: number;
  input: number[];
  expected: (number | null)[];
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/act_fixture.json'), 'utf8')) as { cases: FixtureCase[] };
const byName = new Map(fixture.cases.map((c) => [c.name, c]));
/** float32 reference vs float64 here: measured ≤ 6e-8 (one float32 ulp at 0.5). */
const TOLERANCE = { atol: 2e-7, rtol: 0 };

function run(c: FixtureCase): Float32Array {
  return actEdit(c.input, c.heads, c.tokens, c.causal, c.selectedHeads, { beta: c.beta, threshold: c.threshold });
}

describe('ACT edit matches the reference implementation', () => {
  const regular = fixture.cases.filter((c) => c.name !== 'hostile-nan-row');
  test.each(regular.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const size = c.tokens * c.tokens;
    for (let h = 0; h < c.heads; h++) {
      const head = c.input.slice(h * size, (h + 1) * size);
      const { sinks } = findSinks(sinkScores(head, c.tokens, c.causal), thresholdValue(c.threshold, c.tokens));
      expect(sinks, `sinks of head ${h}`).toEqual(c.sinksPerHead[h]);
    }
    const report = expectClose(run(c), c.expected as number[], TOLERANCE, c.name);
    expect(report.maxAbsError).toBeLessThan(2e-7);
  });

  test('the edit changes the maps that have hidden sinks, and rows still sum to 1', () => {
    for (const c of regular) {
      const out = run(c);
      const changed = out.some((v, k) => Math.abs(v - c.input[k]) > 1e-4);
      const hasHiddenSinks = c.selectedHeads.some((h) => c.sinksPerHead[h].length > 1);
      expect(changed, c.name).toBe(hasHiddenSinks);
      const rowSums = Array.from({ length: c.heads * c.tokens }, (_, r) => out.subarray(r * c.tokens, (r + 1) * c.tokens).reduce((a, b) => a + b, 0));
      expectClose(rowSums, new Array(rowSums.length).fill(1), { atol: 1e-5, rtol: 0 }, `${c.name} row sums`);
    }
  });

  test('unselected heads are copied bit for bit', () => {
    const c = byName.get('causal-heads-subset')!;
    const out = run(c);
    const size = c.tokens * c.tokens;
    expect(Array.from(out.subarray(size, 2 * size))).toEqual(c.input.slice(size, 2 * size));
    expect(c.sinksPerHead[1].length).toBeGreaterThan(1); // head 1 would change if it were selected
  });

  test('a row with all its mass on the edited sinks: NaN in the reference, kept as it was here', () => {
    const c = byName.get('hostile-nan-row')!;
    const out = run(c);
    const t = c.tokens;
    expect(c.expected.slice(3 * t, 4 * t)).toEqual(new Array(t).fill(null));
    expect(Array.from(out.subarray(3 * t, 4 * t))).toEqual(c.input.slice(3 * t, 4 * t));
    const others = (values: ArrayLike<number | null>) => Array.from(values).filter((_, k) => Math.floor(k / t) !== 3) as number[];
    expectClose(others(out), others(c.expected), TOLERANCE, 'the other rows');
  });
});
