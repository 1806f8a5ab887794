// `--fused` (llamaFusedGraph.ts, gpt2FusedGraph.ts): the ORT-optimizer shapes (com.microsoft
// GroupQueryAttention + SkipSimplifiedLayerNormalization for the Llama family; MultiHeadAttention +
// SkipLayerNormalization + FastGelu for GPT-2) compute what the unfused graph of the same seed computes. The
// contrib ops run in onnxruntime-node, so transformers.js (device cpu) is the runner: its cached
// greedy ids and its prompt logits on the fused folder equal those on the unfused one. The
// analysis still finds every projection with its role and reports the attention as fused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { analyzeModel } from '../../../src/core/model/index.ts';
import { readModel } from '../../../src/core/onnx/index.ts';
import { expectClose } from '../../../src/core/testing/expectClose.ts';
import { openDecoder, runDecoder } from './decoderSession.ts';
import * as ort from 'onnxruntime-web';
import { writeEncoderFolder } from './encoderFolder.ts';
import { writeHfFolder, type HfFolder } from './folder.ts';
import { headDim, type ShapeOverrides } from './presets.ts';
import { transformersJsGenerate } from './transformersJs.ts';

const root = mkdtempSync(join(tmpdir(), 'gen-hf-fused-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** ORT's GroupQueryAttention needs head widths that are multiples of 16. */
const TINY: ShapeOverrides = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 512, maxPositions: 128 };

/** Full-pass logits and a prefix + cached 2-token step of the fused graph, against the unfused full pass, in onnxruntime-web (wasm has the contrib ops too). */
async function expectSameLogits(plain: HfFolder, fused: HfFolder) {
  const { shape } = plain;
  const dims = { layers: shape.layers, kvHeads: shape.kvHeads, headDim: headDim(shape), vocab: shape.vocab };
  const [a, b] = [await openDecoder(plain.graphPath, dims), await openDecoder(fused.graphPath, dims)];
  try {
    const ids = [5, 77, 200, 13, 256, 9, 31];
    const full = await runDecoder(a, [ids]);
    expectClose((await runDecoder(b, [ids])).logits, full.logits, { atol: 1e-4, rtol: 1e-4 }, 'fused full pass');
    const prefix = await runDecoder(b, [ids.slice(0, 5)]);
    const step = await runDecoder(b, [ids.slice(5)], { cache: prefix.cache });
    expectClose(step.logits, full.logits.subarray(5 * shape.vocab), { atol: 1e-4, rtol: 1e-4 }, 'fused cached step');
  } finally {
    await a.release();
    await b.release();
  }
}

describe('gen:hf --fused', () => {
  test('qwen2.5 (q/k/v biases, 4 heads on 2): transformers.js generates the same ids from the fused and the unfused graph', async () => {
    const options = { preset: 'qwen2.5-0.5b' as const, overrides: TINY, seed: 4, initStd: 0.3 };
    const plainFolder = writeHfFolder({ ...options, out: join(root, 'plain') });
    const fused = writeHfFolder({ ...options, out: join(root, 'fused'), fused: true });
    await expectSameLogits(plainFolder, fused);
    const ops = new Set(readModel(new Uint8Array(readFileSync(fused.graphPath))).graph?.node?.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`));
    expect([...ops].filter((op) => op.startsWith('com.microsoft') || op.includes('Simplified')).sort()).toEqual([
      'ai.onnx:SimplifiedLayerNormalization', 'com.microsoft:GroupQueryAttention', 'com.microsoft:SkipSimplifiedLayerNormalization',
    ]);
    expect(ops.has('ai.onnx:Softmax')).toBe(false);

    const prompt = 'The quick brown fox jumps over';
    const [plain, fusedIds] = [await transformersJsGenerate(join(root, 'plain'), prompt, 12), await transformersJsGenerate(join(root, 'fused'), prompt, 12)];
    expect(fusedIds.promptIds).toEqual(plain.promptIds);
    expect(fusedIds.newIds).toEqual(plain.newIds);
    expect(new Set(plain.newIds).size).toBeGreaterThan(2); // a continuation, not one token repeated
  });

  test('gpt2 (SkipLayerNormalization, MultiHeadAttention with the mask as attention_bias, FastGelu): the same ids as the unfused graph', async () => {
    const options = { preset: 'gpt2' as const, overrides: { layers: 2, hidden: 64, heads: 4, vocab: 512, maxPositions: 64 }, seed: 4, initStd: 0.3 };
    const plainFolder = writeHfFolder({ ...options, out: join(root, 'gpt2-plain') });
    const fused = writeHfFolder({ ...options, out: join(root, 'gpt2-fused'), fused: true });
    await expectSameLogits(plainFolder, fused);
    const graph = readModel(new Uint8Array(readFileSync(fused.graphPath)));
    const ops = new Set(graph.graph?.node?.filter((n) => n.domain === 'com.microsoft').map((n) => n.opType));
    expect([...ops].sort()).toEqual(['FastGelu', 'MultiHeadAttention', 'SkipLayerNormalization']);
    const prompt = 'The quick brown fox jumps over';
    const [plain, fusedIds] = [await transformersJsGenerate(join(root, 'gpt2-plain'), prompt, 12), await transformersJsGenerate(join(root, 'gpt2-fused'), prompt, 12)];
    expect(fusedIds.newIds).toEqual(plain.newIds);
    expect(new Set(plain.newIds).size).toBeGreaterThan(2);
    // The projections keep their roles; c_fc's bias, held by FastGelu, is still read as its bias.
    const analysis = analyzeModel(graph);
    expect(analysis.linears.map((l) => [l.role, l.bias !== null])).toEqual([
      ...Array(2).fill([['attn.qkv', true], ['attn.out', true], ['mlp.up', true], ['mlp.down', true]]).flat(), ['head', false],
    ]);
    expect(analysis.unsupported).toHaveLength(2);
    expect(analysis.task).toBe('causal-lm'); // the attention_bias is built from the causal triangle
  });

  test('the analysis finds all 7 projections per block with their roles and names the fused attention', () => {
    const folder = writeHfFolder({ preset: 'tinyllama-1.1b', overrides: TINY, out: join(root, 'tinyllama'), fused: true });
    const analysis = analyzeModel(readModel(new Uint8Array(readFileSync(folder.graphPath))));
    expect(analysis.task).toBe('causal-lm');
    expect([analysis.numBlocks, analysis.blockSource]).toEqual([2, 'name']);
    expect(analysis.linears.map((l) => [l.block, l.role])).toEqual([
      ...[0, 1].flatMap((b) => ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.gate', 'mlp.up', 'mlp.down'].map((role) => [b, role])),
      [null, 'head'],
    ]);
    expect(analysis.attention).toEqual([]);
    expect(analysis.unsupported.map((line) => line.split(':')[0])).toEqual([0, 1].map((b) => `com.microsoft GroupQueryAttention node '/model/layers.${b}/self_attn/GroupQueryAttention'`));
  });

  test('bert (EmbedLayerNormalization, Attention with a packed q/k/v weight, SkipLayerNormalization, BiasGelu): right-padded logits equal the unfused graph\'s; a masked LM to the analysis', async () => {
    const options = { preset: 'bert-base' as const, overrides: { layers: 2, hidden: 64, heads: 4, vocab: 400 }, seed: 6, initStd: 0.3 };
    const plain = writeEncoderFolder({ ...options, out: join(root, 'bert-plain') });
    const fused = writeEncoderFolder({ ...options, out: join(root, 'bert-fused'), fused: true });
    const graph = readModel(new Uint8Array(readFileSync(fused.graphPath)));
    expect([...new Set(graph.graph?.node?.filter((n) => n.domain === 'com.microsoft').map((n) => n.opType))].sort()).toEqual(['Attention', 'BiasGelu', 'EmbedLayerNormalization', 'SkipLayerNormalization']);
    ort.env.wasm.numThreads = 1;
    const open = (path: string) => ort.InferenceSession.create(new Uint8Array(readFileSync(path)), { executionProviders: ['wasm'], logSeverityLevel: 3 });
    const [a, b] = [await open(plain.graphPath), await open(fused.graphPath)];
    try {
      const ids = [397, 5, 77, 200, 13, 398, 395, 395];
      const row = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
      const feeds = { input_ids: row(ids), attention_mask: row([1, 1, 1, 1, 1, 1, 0, 0]), token_type_ids: row(ids.map(() => 0)) };
      const [la, lb] = [(await a.run(feeds)).logits.data as Float32Array, (await b.run(feeds)).logits.data as Float32Array];
      expectClose(lb.subarray(0, 6 * 400), la.subarray(0, 6 * 400), { atol: 1e-4, rtol: 1e-4 }, 'fused BERT, real tokens');
    } finally {
      await a.release();
      await b.release();
    }
    const analysis = analyzeModel(graph);
    expect(analysis.task).toBe('masked-lm');
    // q/k/v live in the Attention kernel's packed weight; the other projections stay linear layers.
    expect(analysis.linears.map((l) => l.role)).toEqual([...Array(2).fill(['attn.out', 'mlp.up', 'mlp.down']).flat(), 'other', 'head']);
    // Each dense layer's bias sits in the fused op after it (SkipLayerNormalization's `bias`,
    // BiasGelu's B) and is still read as the layer's (the tied decoder adds cls.predictions.bias).
    expect(analysis.linears.map((l) => l.bias)).toEqual([
      ...[0, 1].flatMap((b) => ['attention.output.dense', 'intermediate.dense', 'output.dense'].map((m) => `bert.encoder.layer.${b}.${m}.bias`)),
      'cls.predictions.transform.dense.bias', 'cls.predictions.bias',
    ]);
    expect(analysis.unsupported[0]).toMatch(/^com\.microsoft Attention node '[^']+': fused attention — its packed Q\/K\/V weight is a kernel input, not a linear layer \(the output projection is one\)/);
  });

  test('is refused in one line for head widths GroupQueryAttention rejects', () => {
    expect(() => writeHfFolder({ preset: 'smollm-135m', overrides: { ...TINY, heads: 8 }, out: join(root, 'narrow'), fused: true })).toThrow("--fused: head width 8 is not a multiple of 16, which ONNX Runtime's GroupQueryAttention requires");
  });
});
