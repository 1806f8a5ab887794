// Sink scores, sink sets, sink mass and entropy against stats_fixture.json, which
// make_stats_fixture.py computes with numpy/torch following ACT's reference sink expression
// (float64 on the same float32 maps: agreement to 1e-12 is summation order only).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import type { SiteAttention } from './capture.ts';
import { averageStats, headStats, layerStats, type SinkThreshold } from './stats.ts';

interface FixtureCase {
  name: string;
  heads: number;
  tokens: number;
  causal: boolean;
  threshold: SinkThreshold;
  tau: number;
  probabilities: number[];
  headStats: { sinkScores: number[]; sinks: number[]; sinkMass: number; entropy: number }[];
  layer: { sinkMass: number; entropy: number; sinkKeys: number[] };
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/stats_fixture.json'), 'utf8')) as { cases: FixtureCase[] };
const tolerance = { atol: 1e-12, rtol: 1e-12 };

function site(c: FixtureCase): SiteAttention {
  return { softmaxNode: c.name, block: 0, heads: c.heads, tokens: c.tokens, causal: c.causal, probabilities: new Float32Array(c.probabilities) };
}

describe('attention statistics match the numpy/torch reference', () => {
  for (const c of fixture.cases) {
    test(c.name, () => {
      const layer = layerStats(site(c), c.threshold);
      expect(layer.threshold).toBeCloseTo(c.tau, 15);
      layer.heads.forEach((head, h) => {
        const ref = c.headStats[h];
        expectClose(head.sinkScores, ref.sinkScores, tolerance, `head ${h} sink scores`);
        expect(head.sinks).toEqual(ref.sinks);
        expectClose([head.sinkMass, head.entropy], [ref.sinkMass, ref.entropy], tolerance, `head ${h} sink mass, entropy`);
      });
      expectClose([layer.sinkMass, layer.entropy], [c.layer.sinkMass, c.layer.entropy], tolerance, 'layer means');
      expect(layer.sinkKeys).toEqual(c.layer.sinkKeys);
      expect(layer.hiddenSinks).toBe(c.headStats.reduce((n, s) => n + Math.max(0, s.sinks.length - 1), 0));
    });
  }

  test('the planted sinks are found: the causal divisor T − j matters', () => {
    const causal = fixture.cases[0];
    const layer = layerStats(site(causal), { kind: 'absolute', tau: 0.1 });
    expect(layer.heads[0].sinks).toContain(0);
    expect(layer.heads[1].sinks).toContain(5);
    // Read as a non-causal map (divisor T), key 5's score is its column sum / 12 instead of / 7.
    const asFull = layerStats({ ...site(causal), causal: false }, { kind: 'absolute', tau: 0.1 });
    expect(asFull.heads[1].sinkScores[5] * 12).toBeCloseTo(layer.heads[1].sinkScores[5] * 7, 12);
  });

  test('a uniform row has entropy ln T and no sink above 1/T; an all-zero map has entropy 0 and no sink; NaN stays NaN', () => {
    const T = 6;
    const uniform = new Float32Array(T * T).fill(1 / T);
    const stats = headStats(uniform, 0, T, false, 1 / T + 1e-6);
    expect(stats.entropy).toBeCloseTo(Math.log(T), 6);
    expect(stats.sinks).toEqual([]);
    const zero = headStats(new Float32Array(T * T), 0, T, true, 0.1);
    expect([zero.entropy, zero.sinkMass, zero.sinks.length]).toEqual([0, 0, 0]);
    // A NaN (a fully masked row's softmax) shows as NaN, never as a sharp head or a sink.
    const withNaN = Float32Array.from(uniform);
    withNaN[2 * T + 3] = NaN;
    const nan = headStats(withNaN, 0, T, false, 0.1);
    expect([Number.isNaN(nan.entropy), Number.isNaN(nan.sinkScores[3]), nan.sinks.includes(3)]).toEqual([true, true, false]);
  });
});

describe('averageStats over inputs', () => {
  test('means of sink mass, entropy and scores; sink frequency per key; per-key values null for mixed lengths', () => {
    const [a, b] = [fixture.cases[0], fixture.cases[0]];
    const first = layerStats(site(a));
    const shifted = layerStats({ ...site(b), probabilities: new Float32Array(b.probabilities).reverse() });
    const [avg] = averageStats([[first], [shifted]]);
    expect(avg.inputs).toBe(2);
    expect(avg.sinkMass).toBeCloseTo((first.sinkMass + shifted.sinkMass) / 2, 14);
    expect(avg.heads[0].entropy).toBeCloseTo((first.heads[0].entropy + shifted.heads[0].entropy) / 2, 14);
    expect(avg.heads[1].sinkScores![5]).toBeCloseTo((first.heads[1].sinkScores[5] + shifted.heads[1].sinkScores[5]) / 2, 14);
    const inBoth = first.heads[1].sinks.filter((j) => shifted.heads[1].sinks.includes(j));
    for (let j = 0; j < a.tokens; j++) {
      const expected = ((first.heads[1].sinks.includes(j) ? 1 : 0) + (shifted.heads[1].sinks.includes(j) ? 1 : 0)) / 2;
      expect(avg.heads[1].sinkFrequency![j]).toBe(expected);
    }
    expect(inBoth.every((j) => avg.heads[1].sinkFrequency![j] === 1)).toBe(true);
    // Two heads each, T = 9 and T = 5: scalars average, per-key values cannot.
    const mixed = averageStats([[layerStats(site(fixture.cases[1]), fixture.cases[1].threshold)], [layerStats(site(fixture.cases[3]), fixture.cases[3].threshold)]]);
    expect(mixed[0].heads[0].sinkScores).toBeNull();
    expect(mixed[0].heads[0].sinkMass).toBeCloseTo((fixture.cases[1].headStats[0].sinkMass + fixture.cases[3].headStats[0].sinkMass) / 2, 12);
    expect(() => averageStats([[layerStats(site(a))], [layerStats(site(fixture.cases[1]))]])).toThrow(/heads/);
  });
});
