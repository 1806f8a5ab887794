// The table's arithmetic and wiring, with a fake clock: each fake session "costs" a time computed
// from the graph it was given (its weight elements), so the test knows exactly what every part
// should measure and no real timing can flake.
import { describe, expect, test } from 'vitest';
import type { ModelRunner } from '../eval/runner.ts';
import { readModel } from '../onnx/read.ts';
import { expectClose } from '../testing/expectClose.ts';
import { tensorElementCount } from '../onnx/tensor.ts';
import type { LatencySpec } from './spec.ts';
import { blockLatencyMs, denseKept, interpolate, measureLatencyTable, monotone, neuronSamples, predictModelMs, predictSpeedup, tableFromMedians } from './table.ts';
import { quantile, timeInterleaved } from './timing.ts';

const spec: LatencySpec = {
  dModel: 16, heads: 4, headDim: 4, kvHeads: 4, mlpWidth: 64, gated: false, blocks: 3, seq: 8, causal: true,
  input: 'tokens', inputWidth: 10, headOut: 10, headTokens: 8,
};

/** A clock that only moves when a fake session runs: 0.5 ms per run plus 1 µs per weight element. */
function fakeBackend() {
  let now = 0;
  const clock = () => now;
  const opened: number[] = [];
  const createRunner = async (bytes: Uint8Array): Promise<ModelRunner> => {
    const model = readModel(bytes);
    const elements = (model.graph?.initializer ?? []).filter((t) => t.dataType === 1).reduce((sum, t) => sum + tensorElementCount(t), 0);
    opened.push(elements);
    return { inputNames: [], outputNames: [], backend: 'wasm', run: async () => ((now += 0.5 + elements * 1e-3), {}), release: async () => {} };
  };
  return { clock, createRunner, opened };
}

describe('latency table arithmetic', () => {
  test('monotone keeps the running maximum; interpolate is piecewise linear', () => {
    expect(monotone([0, 2, 1, 3, 2.5])).toEqual([0, 2, 2, 3, 3]);
    expect(interpolate([0, 10, 20], [0, 1, 5], 15)).toBe(3);
    expect(interpolate([0, 10, 20], [0, 1, 5], 20)).toBe(5);
    expect(() => interpolate([0, 10], [0, 1], 11)).toThrow(/outside/);
    expect(neuronSamples(512, 8)).toEqual([0, 64, 128, 192, 256, 320, 384, 448, 512]);
    expect(neuronSamples(3, 8)).toEqual([0, 1, 2, 3]);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
  });

  test('overhead comes off every part once and is added back once per model', () => {
    const table = tableFromMedians(spec, {
      backend: 'wasm', repeats: 5, warmup: 1, overheadMs: 1,
      attentionMs: [0, 2, 3, 2.5, 5], neurons: [0, 32, 64], mlpMs: [0, 3, 5], restMs: 4,
    });
    // 2.5 after 3 is noise: smoothed up to the 2 ms (net) before it.
    expect(table.attentionMs).toEqual([0, 1, 2, 2, 4]);
    expect(table.mlp.ms).toEqual([0, 2, 4]);
    expect(blockLatencyMs(table, 4, 64)).toBe(8);
    expect(blockLatencyMs(table, 2, 48)).toBe(2 + 3);
    expect(blockLatencyMs(table, 0, 0)).toBe(0);
    expect(predictModelMs(table, denseKept(spec))).toBe(1 + 3 + 3 * 8);
    expect(predictSpeedup(table, [{ heads: 2, neurons: 32 }, { heads: 4, neurons: 64 }, { heads: 0, neurons: 0 }])).toBeCloseTo(28 / (1 + 3 + 4 + 8), 12);
    expect(() => blockLatencyMs(table, 5, 0)).toThrow(/heads kept must be an integer in 0\.\.4/);
    expect(() => predictModelMs(table, [])).toThrow(/kept lists 0 blocks; the model has 3/);
  });
});

describe('measureLatencyTable with a fake clock', () => {
  test('each part is timed on its own graph: attention and MLP grow with what is kept', async () => {
    const fake = fakeBackend();
    const progress: number[] = [];
    const table = await measureLatencyTable(spec, fake.createRunner, { repeats: 3, warmup: 1, mlpSamples: 4, clock: fake.clock, onProgress: (p) => progress.push(p.done) });
    expect(table.backend).toBe('wasm');
    expect(table.overheadMs).toBe(0.5);
    const d = spec.dModel;
    // h heads: Q, K, V [d, h·4] + biases, O [h·4, d] + bias, the scale, the causal mask [seq, seq].
    const attention = (h: number) => (4 * d * h * 4 + 3 * h * 4 + d + 1 + spec.seq * spec.seq) * 1e-3;
    expectClose(Float64Array.from(table.attentionMs), Float64Array.from([0, 1, 2, 3, 4].map((h) => (h === 0 ? 0 : attention(h)))), { atol: 1e-9, rtol: 0 });
    // n neurons, erf GELU: up [d, n] + n, down [n, d] + d, three GELU scalars.
    const mlp = (n: number) => (2 * d * n + n + d + 3) * 1e-3;
    expect(table.mlp.neurons).toEqual([0, 16, 32, 48, 64]);
    expectClose(Float64Array.from(table.mlp.ms), Float64Array.from(table.mlp.neurons.map((n) => (n === 0 ? 0 : mlp(n)))), { atol: 1e-9, rtol: 0 });
    // Embedding [10, d], positions [seq, d], 2·blocks + 1 norms of 2·d, head [d, 10] + 10.
    expectClose([table.restMs], [(10 * d + spec.seq * d + 7 * 2 * d + d * 10 + 10) * 1e-3], { atol: 1e-9, rtol: 0 });
    expect(progress.at(-1)).toBe(1 + 4 + 4 + 1 + 3);
  });

  test('a table needs one backend, and a cancelled table stops', async () => {
    const fake = fakeBackend();
    let count = 0;
    const mixed = async (bytes: Uint8Array) => ({ ...(await fake.createRunner(bytes)), backend: count++ === 0 ? ('wasm' as const) : ('webgpu' as const) });
    await expect(measureLatencyTable(spec, mixed, { repeats: 1, warmup: 0, clock: fake.clock })).rejects.toThrow(/ran on wasm and webgpu/);
    await expect(measureLatencyTable(spec, fake.createRunner, { repeats: 1, warmup: 0, clock: fake.clock, cancel: { aborted: true } })).rejects.toThrow(/cancelled/);
  });

  test('interleaved rounds run every session once per round', async () => {
    const order: string[] = [];
    const runner = (name: string): ModelRunner => ({ inputNames: [], outputNames: [], backend: 'wasm', run: async () => (order.push(name), {}), release: async () => {} });
    const timings = await timeInterleaved([{ runner: runner('a'), feeds: {} }, { runner: runner('b'), feeds: {} }], { repeats: 2, warmup: 1, clock: () => 0 });
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(timings.map((t) => t.samplesMs.length)).toEqual([2, 2]);
    await expect(timeInterleaved([], { repeats: 0, warmup: 0 })).rejects.toThrow(/repeats must be a positive integer/);
  });
});
