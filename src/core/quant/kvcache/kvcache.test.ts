// Simulated KV-cache quantization, run by onnxruntime-web (wasm): the graph's dynamic
// QuantizeLinear/DequantizeLinear against scripts/fixtures/kvcache_reference.py (QuaRot's
// ActQuantizer on K and V in torch, with IntactKV sinks); keepSinks covering every token gives the
// dense logits bit for bit; and on generated GPT-2 and Llama exports with past_key_values, the
// quantized values are what present.* stores, so a cached step equals a full recomputation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../../calibrate/fixtures/models.ts';
import type { HostTensor, ModelRunner } from '../../eval/runner.ts';
import { openHfFolder, type OpenedHfFolder } from '../../hf/openFolder.ts';
import { diskEntries, generatedFolder } from '../../hf/testing/generatedFolders.ts';
import { analyzeModel } from '../../model/analyze.ts';
import { readModel, writeModel } from '../../onnx/index.ts';
import { expectClose } from '../../testing/expectClose.ts';
import { writeKvCacheQuant, type KvQuantOptions } from './writeKvCache.ts';

interface KvFixture {
  shape: { tokens: number; hidden: number; heads: number; headDim: number };
  x: number[];
  dense: number[];
  cases: { bits: 4 | 8; symmetric: boolean; granularity: 'per-token' | 'per-head'; sinks: number; tensors: ('k' | 'v')[]; y: number[] }[];
}

const fixtures = join(import.meta.dirname, 'fixtures');
const fixture = JSON.parse(readFileSync(join(fixtures, 'kvcache.json'), 'utf8')) as KvFixture;

async function runOnce(bytes: Uint8Array, feeds: Record<string, HostTensor>, fetches?: string[]): Promise<Record<string, HostTensor>> {
  const runner = await openRunner(bytes);
  try {
    return await runner.run(feeds, fetches);
  } finally {
    await runner.release();
  }
}

describe('K/V fake quantization against the torch reference (QuaRot ActQuantizer, IntactKV sinks)', () => {
  const model = readModel(new Uint8Array(readFileSync(join(fixtures, 'attention.onnx'))));
  const analysis = analyzeModel(model);
  const { tokens, hidden } = fixture.shape;
  const feeds: Record<string, HostTensor> = { x: { dtype: 'float32', dims: [1, tokens, hidden], data: Float32Array.from(fixture.x) } };

  test('the analysis finds the one attention site with its head dimension', () => {
    expect(analysis.attention).toHaveLength(1);
    expect(analysis.attention[0]).toMatchObject({ heads: 2, headDim: 8 });
  });

  test.each(fixture.cases.map((c) => [`${c.tensors.join('')} ${c.bits}-bit ${c.symmetric ? 'sym' : 'asym'} ${c.granularity}, sinks ${c.sinks}`, c] as const))('%s: ORT equals torch within 2e-5', async (_, c) => {
    const options: KvQuantOptions = { bits: c.bits, symmetric: c.symmetric, granularity: c.granularity, keepSinks: c.sinks, tensors: c.tensors };
    const written = writeKvCacheQuant(model, analysis.attention, options);
    const y = (await runOnce(writeModel(written.model), feeds)).y.data as Float32Array;
    expectClose(y, c.y, { atol: 2e-5, rtol: 2e-5 }, 'attention output');
    // Not the dense output: the quantization is in the graph.
    expect(Math.max(...y.map((v, i) => Math.abs(v - fixture.dense[i])))).toBeGreaterThan(1e-4);
  });

  test('uses standard QuantizeLinear/DequantizeLinear (opset 21, blocked), and never mutates its input', () => {
    const before = writeModel(model);
    const written = writeKvCacheQuant(model, analysis.attention, { bits: 4, symmetric: false, granularity: 'per-token', keepSinks: 0, tensors: ['k', 'v'] });
    const ops = written.model.graph!.node!.map((n) => n.opType ?? '');
    expect(ops.filter((op) => op === 'QuantizeLinear')).toHaveLength(2);
    expect(ops.filter((op) => op === 'DequantizeLinear')).toHaveLength(2);
    expect(written.model.opsetImport!.find((o) => !o.domain)?.version).toBe(21);
    expect(ops.some((op) => op.startsWith('com.') || op === 'MatMulNBits')).toBe(false);
    expect(writeModel(model)).toEqual(before);
  });
});

describe('the bundled LM', () => {
  const lm = bundledModel('kjv-charlm');
  const ids = (lm.eval as { sequences: number[][] }).sequences.slice(0, 2).map((s) => s.slice(0, 128));
  const feeds: Record<string, HostTensor> = { input_ids: { dtype: 'int64', dims: [2, 128], data: BigInt64Array.from(ids.flat(), BigInt) } };
  let dense: Float32Array;
  beforeAll(async () => {
    dense = (await runOnce(lm.bytes, feeds)).logits.data as Float32Array;
  });
  const logits = async (options: KvQuantOptions) => (await runOnce(writeModel(writeKvCacheQuant(lm.model, lm.analysis.attention, options).model), feeds)).logits.data as Float32Array;
  const maxDiff = (a: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - dense[i])));

  test('keepSinks covering every token gives the dense logits exactly', async () => {
    expect(await logits({ bits: 4, symmetric: false, granularity: 'per-token', keepSinks: 128, tensors: ['k', 'v'] })).toEqual(dense);
  }, 60_000);

  test('8 bits moves the logits less than 4 bits; keeping 4 sink tokens changes them', async () => {
    const base = { symmetric: false, granularity: 'per-token', tensors: ['k', 'v'] } as const;
    const eight = maxDiff(await logits({ ...base, bits: 8, keepSinks: 0 }));
    const four = maxDiff(await logits({ ...base, bits: 4, keepSinks: 0 }));
    const sinks = await logits({ ...base, bits: 4, keepSinks: 4 });
    expect(eight).toBeGreaterThan(0);
    expect(eight).toBeLessThan(four / 4);
    // The first 4 positions see only float K/V: their logits are the dense ones.
    expect(Array.from(sinks.subarray(0, 4 * 63))).toEqual(Array.from(dense.subarray(0, 4 * 63)));
    expect(maxDiff(sinks)).toBeGreaterThan(0);
  }, 60_000);
});

/** One decoder call through the lab's runner: ids after a cache (empty when absent). */
async function decode(runner: ModelRunner, layers: number, ids: number[], past?: Record<string, HostTensor>, kv?: { heads: number; headDim: number }): Promise<Record<string, HostTensor>> {
  const pastLength = past ? past['present.0.key'].dims[2] : 0;
  const int64 = (values: number[]): HostTensor => ({ dtype: 'int64', dims: [1, values.length], data: BigInt64Array.from(values, BigInt) });
  const feeds: Record<string, HostTensor> = {
    input_ids: int64(ids),
    attention_mask: int64(new Array(pastLength + ids.length).fill(1)),
    position_ids: int64(ids.map((_, i) => pastLength + i)),
  };
  for (let i = 0; i < layers; i++) {
    for (const part of ['key', 'value']) {
      feeds[`past_key_values.${i}.${part}`] = past?.[`present.${i}.${part}`] ?? { dtype: 'float32', dims: [1, kv!.heads, 0, kv!.headDim], data: new Float32Array(0) };
    }
  }
  return runner.run(feeds);
}

describe.each(['gpt2', 'llama'] as const)('a generated 2-block %s export with past_key_values', (which) => {
  let folder: OpenedHfFolder;
  beforeAll(async () => {
    folder = await openHfFolder(diskEntries(generatedFolder(which)));
  });
  const prompt = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];

  test('present.* holds the quantized keys and values, and a cached step equals the full recomputation', async () => {
    const site = folder.analysis.attention[0];
    const kv = { heads: site.kvHeads ?? site.heads!, headDim: site.headDim! };
    const layers = folder.analysis.attention.length;
    const written = writeKvCacheQuant(folder.model, folder.analysis.attention, { bits: 4, symmetric: false, granularity: 'per-token', keepSinks: 2, tensors: ['k', 'v'] });
    expect(written.sites.map((s) => s.present)).toEqual(Array.from({ length: layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat());
    const runner = await openRunner(writeModel(written.model));
    const denseRunner = await openRunner(writeModel(folder.model));
    try {
      const first = await decode(runner, layers, prompt.slice(0, 9), undefined, kv);
      const denseFirst = await decode(denseRunner, layers, prompt.slice(0, 9), undefined, kv);
      const key = first['present.1.key'].data as Float32Array;
      const denseKey = denseFirst['present.1.key'].data as Float32Array;
      // Token t of head h is one group of headDim values: sinks (t < 2) as they were, the rest on a 16-level grid.
      for (let h = 0; h < kv.heads; h++) {
        for (let t = 0; t < 9; t++) {
          const offset = (h * 9 + t) * kv.headDim;
          const group = key.subarray(offset, offset + kv.headDim);
          if (t < 2) expect(Array.from(group)).toEqual(Array.from(denseKey.subarray(offset, offset + kv.headDim)));
          else expect(new Set(group).size).toBeLessThanOrEqual(16);
        }
      }
      expect(Array.from(key)).not.toEqual(Array.from(denseKey));
      const step = await decode(runner, layers, prompt.slice(9), first);
      const whole = await decode(runner, layers, prompt, undefined, kv);
      const vocab = (step.logits.dims as number[])[2];
      expectClose(step.logits.data as Float32Array, (whole.logits.data as Float32Array).subarray(9 * vocab), { atol: 1e-4, rtol: 1e-4 }, 'cached step vs recomputation');
    } finally {
      await runner.release();
      await denseRunner.release();
    }
  }, 120_000);
});
