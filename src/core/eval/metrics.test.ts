import { describe, expect, test } from 'vitest';
import { NllAccumulator, scoreRow } from './metrics';

describe('scoreRow', () => {
  test('NLL is log-sum-exp minus the target logit (hand-computed)', () => {
    const logits = new Float32Array([1, 2, 3]);
    const { nll, argmax } = scoreRow(logits, 0, 3, 0);
    // log(e^1 + e^2 + e^3) - 1 = 2.40760596444438
    expect(Math.abs(nll - 2.40760596444438)).toBeLessThan(1e-12);
    expect(argmax).toBe(2);
  });
  test('is stable for huge logits and breaks argmax ties to the lowest index', () => {
    const { nll, argmax } = scoreRow(new Float32Array([1000, 1000, -1000]), 0, 3, 1);
    expect(nll).toBeCloseTo(Math.LN2, 12);
    expect(argmax).toBe(0);
  });
});

describe('NllAccumulator', () => {
  test('perplexity of a uniform predictor equals the vocabulary size', () => {
    const acc = new NllAccumulator();
    acc.addRows(new Float32Array(4 * 5), 5, [0, 1, 2, 3]);
    const m = acc.lmMetrics();
    expect(m.perplexity).toBeCloseTo(5, 10);
    expect(m.bitsPerChar).toBeCloseTo(Math.log2(5), 10);
    expect(m.evalTokens).toBe(4);
  });
  test('rejects targets outside the vocabulary and mis-shaped logits', () => {
    const acc = new NllAccumulator();
    expect(() => acc.addRows(new Float32Array(6), 3, [3, 0])).toThrow(/outside/);
    expect(() => acc.addRows(new Float32Array(5), 3, [0, 1])).toThrow(/expected 2 rows/);
  });
});
