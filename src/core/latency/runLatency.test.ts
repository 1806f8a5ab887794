import { describe, expect, test } from 'vitest';
import { bundledModel } from '../calibrate/fixtures/models.ts';
import type { ModelLatency } from './model.ts';
import { describeRunLatency, latencyWindow, predictedLatencyOf, runLatency } from './runLatency.ts';

const timed = (medianMs: number, backend: 'wasm' | 'webgpu' = 'wasm'): ModelLatency => ({ medianMs, perTokenMs: medianMs / 128, p10Ms: medianMs, p90Ms: medianMs, minMs: medianMs, repeats: 20, warmup: 3, backend, seq: 128, unit: 'token' });

describe('run latency', () => {
  test('speedup is dense over compressed, per token by the window; a stage prediction rides along', () => {
    const predicted = { predictedMs: 20, denseMs: 32, speedup: 1.6, backend: 'wasm' as const };
    const latency = runLatency(timed(38.4), timed(25.6), predictedLatencyOf([{ kind: 'prune' }, { kind: 'structured', predictedLatency: predicted }]));
    expect(latency).toEqual({ denseMs: 38.4, compressedMs: 25.6, perTokenDenseMs: 0.3, perTokenCompressedMs: 0.2, speedup: expect.closeTo(1.5, 12), predictedMs: 20, predictedSpeedup: 1.6, backend: 'wasm', seq: 128, repeats: 20, unit: 'token' });
    expect(describeRunLatency(latency)).toBe('measured 0.200 ms/token (dense 0.300, ×1.50) on WASM; predicted ×1.60');
    expect(runLatency(timed(10), timed(10)).predictedSpeedup).toBeUndefined();
    // The structured stage's plan carries its prediction as plan.predicted.
    expect(predictedLatencyOf([{ kind: 'structured', plan: { predicted: { denseMs: 30, plannedMs: 20, speedup: 1.5, floorSpeedup: 3, backend: 'wasm' } } }])).toEqual({ predictedMs: 20, denseMs: 30, speedup: 1.5, backend: 'wasm' });
    expect(() => runLatency(timed(10), timed(5, 'webgpu'))).toThrow(/timed on wasm and the compressed one on webgpu/);
  });

  test('the window: the context up to 128 tokens; an image model one image', () => {
    expect(latencyWindow(bundledModel('kjv-charlm').analysis)).toBe(128);
    expect(latencyWindow(bundledModel('digits-vit').analysis)).toBe(1);
  });
});
