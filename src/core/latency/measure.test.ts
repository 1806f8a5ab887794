// Real onnxruntime-web (wasm, one thread): the table's graphs compute what they say, and the table
// of the bundled LM predicts the whole model within a generous factor. No timing is asserted
// tighter than that: the machine running the tests is shared.
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import type { HostTensor } from '../eval/runner.ts';
import { expectClose } from '../testing/expectClose.ts';
import { attentionGraph, mlpGraph, restGraph } from './graphs.ts';
import { measureModelLatency } from './model.ts';
import { latencySpec, latencySpecOf, type LatencySpec } from './spec.ts';
import { denseKept, measureLatencyTable, predictModelMs } from './table.ts';

const lm = bundledModel('kjv-charlm');
const vit = bundledModel('digits-vit');

async function runOnce(bytes: Uint8Array, feeds: Record<string, HostTensor>): Promise<HostTensor> {
  const runner = await openRunner(bytes);
  try {
    return Object.values(await runner.run(feeds))[0];
  } finally {
    await runner.release();
  }
}

const hidden = (spec: LatencySpec): Record<string, HostTensor> => ({ hidden: { dtype: 'float32', dims: [1, spec.seq, spec.dModel], data: new Float32Array(spec.seq * spec.dModel).fill(0.1) } });

describe('latency spec', () => {
  test('reads the bundled LM and ViT shapes from their analyses', () => {
    expect(latencySpec(lm.analysis)).toEqual({
      dModel: 128, heads: 4, headDim: 32, kvHeads: 4, mlpWidth: 512, gated: false, blocks: 6, seq: 128, causal: true,
      input: 'tokens', inputWidth: 63, headOut: 63, headTokens: 128,
    });
    expect(latencySpecOf(vit.analysis)).toEqual({ ok: false, message: expect.stringMatching(/needs a sequence length/) });
    expect(latencySpec(vit.analysis, { seq: 17 })).toMatchObject({ dModel: 64, heads: 4, mlpWidth: 128, blocks: 4, causal: false, input: 'patches', inputWidth: 4, headTokens: 1 });
  });
});

describe('latency graphs on onnxruntime-web', () => {
  const spec = latencySpec(lm.analysis, { seq: 8 });

  test('the MLP graph computes W2·gelu(W1·x + b1) + b2 with the constant fill', async () => {
    const out = await runOnce(mlpGraph(spec, 40), hidden(spec));
    const up = spec.dModel * 0.1 * 0.01 + 0.01;
    const gelu = 0.5 * up * (1 + erf(up / Math.SQRT2));
    expect(out.dims).toEqual([1, 8, 128]);
    expectClose(out.data as Float32Array, new Float32Array(8 * 128).fill(40 * gelu * 0.01 + 0.01), { atol: 1e-6, rtol: 1e-5 });
  });

  test('attention with h heads (and grouped key-value heads) keeps the shapes; constant inputs give constant outputs', async () => {
    for (const [s, h] of [[spec, 3], [{ ...spec, heads: 8, headDim: 16, kvHeads: 2 }, 5], [{ ...spec, gated: true }, 1]] as const) {
      const out = await runOnce(attentionGraph(s, h), hidden(s));
      // Equal scores: softmax averages equal values, so context = v = d·0.1·0.01 + 0.01 per element.
      const v = s.dModel * 0.1 * 0.01 + 0.01;
      expectClose(out.data as Float32Array, new Float32Array(8 * 128).fill(h * s.headDim * v * 0.01 + 0.01), { atol: 1e-6, rtol: 1e-5 });
    }
    const gatedOut = await runOnce(mlpGraph({ ...spec, gated: true }, 8), hidden(spec));
    expect(gatedOut.dims).toEqual([1, 8, 128]);
  });

  test('the rest graph takes token ids (LM) or patches (ViT) and applies the head where the model does', async () => {
    const ids = restGraph(spec);
    const logits = await runOnce(ids.bytes, { ids: { dtype: 'int64', dims: [1, 8], data: new BigInt64Array(8) } });
    expect(logits.dims).toEqual([1, 8, 63]);
    const vitSpec = latencySpec(vit.analysis, { seq: 17 });
    const patches = restGraph(vitSpec);
    const classes = await runOnce(patches.bytes, { patches: { dtype: 'float32', dims: [1, 17, 4], data: new Float32Array(68) } });
    expect(classes.dims).toEqual([1, 1, 10]);
  });
});

describe('measured latency', () => {
  test('a whole model: the median of timed runs on the backend that ran, per token and per image', async () => {
    const measured = await measureModelLatency(lm.bytes, openRunner, { seq: 64, repeats: 5, warmup: 1 });
    expect(measured).toMatchObject({ backend: 'wasm', seq: 64, unit: 'token', repeats: 5 });
    expect(measured.perTokenMs).toBeCloseTo(measured.medianMs / 64, 12);
    expect(measured.minMs).toBeLessThanOrEqual(measured.p10Ms);
    expect(measured.p10Ms).toBeLessThanOrEqual(measured.medianMs);
    expect(measured.medianMs).toBeLessThanOrEqual(measured.p90Ms);
    const image = await measureModelLatency(vit.bytes, openRunner, { seq: 1, repeats: 3, warmup: 1 });
    expect(image).toMatchObject({ unit: 'image', seq: 1 });
    expect(image.perTokenMs).toBe(image.medianMs);
  });

  test("the bundled LM's table predicts its whole model within a factor of 5", async () => {
    // A short window and many runs: on a loaded machine most runs of anything that takes
    // milliseconds are preempted, and only the fastest of many says what the model costs (the
    // whole model at 16 tokens takes about 3 ms unpreempted; docs/latency.md).
    const spec = latencySpec(lm.analysis, { seq: 16 });
    const table = await measureLatencyTable(spec, openRunner, { repeats: 30, warmup: 2, mlpSamples: 4, statistic: 'min' });
    expect(table.backend).toBe('wasm');
    for (const curve of [table.attentionMs, table.mlp.ms]) curve.slice(1).forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(curve[i]));
    const predicted = predictModelMs(table, denseKept(spec));
    const measured = await measureModelLatency(lm.bytes, openRunner, { seq: 16, repeats: 40, warmup: 2 });
    console.log(`bundled LM, seq 16, wasm: predicted ${predicted.toFixed(2)} ms, measured min ${measured.minMs.toFixed(2)} ms (median ${measured.medianMs.toFixed(2)})`);
    expect(predicted / measured.minMs).toBeGreaterThan(1 / 5);
    expect(predicted / measured.minMs).toBeLessThan(5);
  });
});

/** erf by Abramowitz–Stegun 7.1.26 is too coarse for 1e-6; a series is exact enough for |x| < 1. */
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 30; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
