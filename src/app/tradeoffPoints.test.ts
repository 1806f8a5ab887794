import { describe, expect, test } from 'vitest';
import type { CompressReport, LayerQuantReport } from '../core/compress/report';
import type { EvalMetrics } from '../core/eval/metrics';
import { parseRecipe } from '../core/recipe';
import type { RunRecord } from './store';
import { bitsPerWeight, defaultLogX, tradeoffPoints } from './tradeoffPoints';

const lm = (perplexity: number): EvalMetrics => ({ task: 'causal-lm', perplexity, bitsPerChar: Math.log2(perplexity), top1: 0.5, meanNll: Math.log(perplexity), evalTokens: 1000 });

const prune = (method: string, sparsity: number) => ({ kind: 'prune', method, pattern: { kind: 'unstructured', sparsity } });
const quantize = { kind: 'quantize', method: 'gptq', bits: 4, granularity: 'group', groupSize: 32 };

const quantRow = (id: string, bits: number, shape: [number, number]): LayerQuantReport => ({ id, bitsPerWeight: bits, shape }) as LayerQuantReport;

/** A run as the store holds it, with only the fields the trade-off reads. */
function run(number: number, o: { stages: Record<string, unknown>[]; ppl?: number; bytes?: number; zeros?: number; quantized?: LayerQuantReport[]; ms?: number; sha?: string; loadId?: number; status?: RunRecord['status']; latency?: number }): RunRecord {
  const recipe = parseRecipe({ version: 2, stages: o.stages });
  const report = { summary: `recipe ${number}`, quantized: o.quantized ?? [], totals: { denseFileBytes: o.bytes ?? 4000, linearParams: 1000, linearZeros: o.zeros ?? 0, achievedSparsityAllLinear: (o.zeros ?? 0) / 1000 }, ...(o.latency === undefined ? {} : { latency: { perTokenDenseMs: 0.3, perTokenCompressedMs: o.latency, denseMs: 38.4, compressedMs: o.latency * 128, speedup: 0.3 / o.latency, backend: 'wasm', seq: 128, repeats: 20 } }) } as unknown as CompressReport;
  return {
    id: `run-${number}`,
    number,
    startedAt: 0,
    model: { label: 'lm', stem: 'lm', source: { kind: 'bundled', id: 'lm' }, loadId: o.loadId ?? 1, sha256: o.sha ?? 'aaa' },
    recipe,
    computeBackend: 'cpu',
    poolSize: 1,
    status: o.status ?? 'done',
    phaseMs: {},
    layersDone: [],
    report,
    ...(o.ppl === undefined ? {} : { evaluation: { status: 'done', metrics: lm(o.ppl) } }),
    ...(o.ms === undefined ? {} : { timing: { status: 'done', denseMsPerItem: 2 + number / 10, runMsPerItem: o.ms, backend: 'wasm', rounds: 3 } }),
    dense: { metrics: lm(3.5), sizeBytes: 4000 },
    held: false,
  };
}

const model = { sha256: 'aaa', loadId: 1, sizeBytes: 4100, metrics: lm(3.4) };

describe('tradeoffPoints', () => {
  test('only finished runs of the loaded file: restored runs by hash, other models and unfinished runs out', () => {
    const runs = [
      run(1, { stages: [prune('magnitude', 0.5)], ppl: 4.2, zeros: 500 }),
      run(2, { stages: [prune('wanda', 0.5)], ppl: 3.8, zeros: 500, loadId: -1 }),
      run(3, { stages: [prune('wanda', 0.5)], ppl: 3.9, sha: 'bbb' }),
      run(4, { stages: [prune('wanda', 0.7)], status: 'running' }),
      run(5, { stages: [prune('wanda', 0.9)], status: 'error' }),
    ];
    const data = tradeoffPoints(runs, model, 'params');
    expect(data.points.map((p) => p.id)).toEqual(['run-1', 'run-2']);
    expect(data.points.map((p) => [p.x, p.y])).toEqual([[500, 4.2], [500, 3.8]]);
    expect(data.running).toBe(1);
    expect(data).toMatchObject({ metricKey: 'perplexity', metricLabel: 'Perplexity', better: 'lower', dense: { x: 1000, y: 3.4 } });
    // Before the worker's hash arrives, the load decides.
    expect(tradeoffPoints(runs, { ...model, sha256: undefined }, 'params').points.map((p) => p.id)).toEqual(['run-1', 'run-3']);
  });

  test('each axis: measured bytes, analytic bits (32 unquantized), non-zero weights, measured time or left out', () => {
    const quantized = [quantRow('a', 4.5, [10, 10]), quantRow('b', 3, [10, 30]), quantRow('b', 4.25, [10, 30])];
    const runs = [run(1, { stages: [prune('wanda', 0.5), quantize], ppl: 4, bytes: 1200, zeros: 400, quantized, ms: 1.5 }), run(2, { stages: [prune('magnitude', 0.3)], ppl: 3.6, zeros: 300 })];
    const x = (axis: 'bytes' | 'bits' | 'params' | 'msPerItem') => tradeoffPoints(runs, model, axis).points.map((p) => p.x);
    expect(x('bytes')).toEqual([1200, 4000]);
    // The last row of a layer is what the file holds: (4.5·100 + 4.25·300) / 400.
    expect(x('bits')).toEqual([4.3125, 32]);
    expect(x('params')).toEqual([600, 700]);
    const timed = tradeoffPoints(runs, model, 'msPerItem');
    expect(timed.points.map((p) => p.x)).toEqual([1.5]);
    expect(timed.leftOut).toBe(1);
    expect(timed.dense).toEqual({ x: 2.1, y: 3.4 });
    expect(tradeoffPoints(runs, model, 'bytes').dense).toEqual({ x: 4100, y: 3.4 });
    expect(tradeoffPoints(runs, model, 'bits').dense).toEqual({ x: 32, y: 3.4 });
  });

  test('colour by the stages’ methods, shape by their kinds, the sweep in the details', () => {
    const swept = { ...run(1, { stages: [prune('wanda', 0.5), quantize], ppl: 4 }), sweep: { id: 's', param: 'stage 1: sparsity', value: '0.5' } };
    const [point] = tradeoffPoints([swept, run(2, { stages: [quantize], ppl: 3.6 })], model, 'bytes').points;
    expect(point).toMatchObject({ label: 'run 1: recipe 1', method: 'wanda → gptq', stages: 'prune + quantize' });
    expect(point.details).toContain('sweep: stage 1: sparsity = 0.5');
    expect(tradeoffPoints([run(2, { stages: [quantize], ppl: 3.6 })], model, 'bytes').points[0]).toMatchObject({ method: 'gptq', stages: 'quantize' });
  });

  test('a classifier plots top-1, higher is better; without any metric, no dense point', () => {
    const vit: EvalMetrics = { task: 'image-classification', top1: 0.9, meanNll: 0.3, evalSamples: 100 };
    const r = { ...run(1, { stages: [prune('magnitude', 0.5)] }), evaluation: { status: 'done' as const, metrics: { ...vit, top1: 0.85 } }, dense: { metrics: vit } };
    const data = tradeoffPoints([r], { ...model, metrics: undefined }, 'bytes');
    expect(data).toMatchObject({ metricKey: 'top1', better: 'higher', dense: { x: 4100, y: 0.9 } });
    expect(data.points[0].y).toBe(0.85);
    expect(tradeoffPoints([], { loadId: 1 }, 'bytes').dense).toBeUndefined();
  });

  test('bits per weight is 32 with nothing quantized; log x by default only for bytes spanning more than 3×', () => {
    expect(bitsPerWeight({ quantized: [] } as unknown as CompressReport)).toBe(32);
    const pts = (xs: number[]) => xs.map((x, i) => ({ id: `${i}`, label: '', x, y: 1, method: 'm', stages: 's', details: [] }));
    expect(defaultLogX('bytes', pts([1000, 3500]))).toBe(true);
    expect(defaultLogX('bytes', pts([1000, 2900]))).toBe(false);
    expect(defaultLogX('bytes', pts([1000]), { x: 4000 })).toBe(true);
    expect(defaultLogX('params', pts([1000, 9000]))).toBe(false);
  });

  test('the latency axis: measured latency per token from the report; runs made before it existed are left out and counted', () => {
    const runs = [run(1, { stages: [prune('wanda', 0.5)], ppl: 4, latency: 0.29 }), run(2, { stages: [prune('magnitude', 0.3)], ppl: 3.6 }), run(3, { stages: [prune('wanda', 0.2)], ppl: 3.5, latency: 0.2 })];
    const data = tradeoffPoints(runs, model, 'latency');
    expect(data.points.map((p) => [p.id, p.x])).toEqual([['run-1', 0.29], ['run-3', 0.2]]);
    expect(data.leftOut).toBe(1);
    expect(data.dense).toEqual({ x: 0.3, y: 3.4 });
    expect(data.points[0].details).toContain('latency 0.290 ms/token (dense 0.300, ×1.03), measured on wasm');
  });
});
