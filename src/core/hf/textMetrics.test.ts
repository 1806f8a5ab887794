// Perplexity and bits per byte with their window-bootstrap intervals, against the values
// src/core/hf/fixtures/make_text_metrics_fixture.py computes with numpy.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { textMetrics } from './textMetrics.ts';

interface Case {
  name: string;
  samples: { nll: number[]; tokens: number[] };
  targetBytes: number[];
  seed: number;
  resamples: number;
  level: number;
  perplexity: { value: number; low: number; high: number };
  bitsPerByte: { value: number; low: number; high: number };
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/text_metrics.json', import.meta.url), 'utf8')) as { cases: Case[] };
const values = (c: Case) => ({ task: 'causal-lm' as const, nll: Float64Array.from(c.samples.nll), tokens: Int32Array.from(c.samples.tokens) });

describe('textMetrics', () => {
  for (const c of fixture.cases) {
    test(`${c.name}: value and interval as numpy computes them`, () => {
      const m = textMetrics(values(c), c.targetBytes, { seed: c.seed, resamples: c.resamples, level: c.level });
      const flat = (x: Case['perplexity']) => [x.value, x.low, x.high];
      expectClose(flat(m.perplexity), flat(c.perplexity), { rtol: 1e-12, atol: 0 }, 'perplexity');
      expectClose(flat(m.bitsPerByte), flat(c.bitsPerByte), { rtol: 1e-12, atol: 0 }, 'bits per byte');
      expect(m.windows).toBe(c.samples.nll.length);
      expect(m.bytes).toBe(c.targetBytes.reduce((a, b) => a + b, 0));
    });
  }

  test('identical windows give an interval of zero width', () => {
    const m = textMetrics({ task: 'causal-lm', nll: Float64Array.from([64, 64, 64]), tokens: Int32Array.from([32, 32, 32]) }, [100, 100, 100]);
    expectClose([m.perplexity.low, m.perplexity.high], [Math.exp(2), Math.exp(2)], { rtol: 1e-15, atol: 0 });
    expectClose([m.bitsPerByte.value], [(3 * 64) / Math.LN2 / 300], { rtol: 1e-15, atol: 0 });
  });

  test('a byte count per evaluated window, or it says the set changed', () => {
    expect(() => textMetrics({ task: 'causal-lm', nll: Float64Array.from([1, 2]), tokens: Int32Array.from([1, 1]) }, [3])).toThrow('2 evaluated windows but 1 byte counts');
  });
});
