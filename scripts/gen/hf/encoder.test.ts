// gen:hf's encoder presets on tiny instances: BERT (fill-mask) and ViT (image classification)
// run in onnxruntime-web, the attention_mask really hides padding, the analysis sees exactly the
// real family's layers, and BERT's config and tokenizer agree with its graph.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, test } from 'vitest';
import { folderDisagreements } from '../../../src/core/hf/agreement.ts';
import { readHfConfig } from '../../../src/core/hf/config.ts';
import { loadHfTokenizer } from '../../../src/core/hf/tokenizer.ts';
import { analyzeModel } from '../../../src/core/model/index.ts';
import { readModel } from '../../../src/core/onnx/index.ts';
import { expectClose } from '../../../src/core/testing/expectClose.ts';
import { writeEncoderFolder } from './encoderFolder.ts';

const root = mkdtempSync(join(tmpdir(), 'gen-hf-enc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

async function session(path: string) {
  ort.env.wasm.numThreads = 1;
  return ort.InferenceSession.create(new Uint8Array(readFileSync(path)), { executionProviders: ['wasm'], logSeverityLevel: 3 });
}

describe('gen:hf --preset bert-base (tiny)', () => {
  const out = join(root, 'bert');
  const folder = writeEncoderFolder({ preset: 'bert-base', out, overrides: { layers: 2, hidden: 64, heads: 4, vocab: 400 }, seed: 2, initStd: 0.3 });
  const analysis = analyzeModel(readModel(new Uint8Array(readFileSync(folder.graphPath))));

  test('the analysis sees a masked LM: q/k/v/out and up/down per block, the tied MLM decoder, three embedding tables', () => {
    expect(analysis.task).toBe('masked-lm');
    expect([analysis.numBlocks, analysis.blockSource]).toEqual([2, 'name']);
    const block = (b: number) => [
      [`bert.encoder.layer.${b}.attention.self.query`, b, 'attn.q'], [`bert.encoder.layer.${b}.attention.self.key`, b, 'attn.k'],
      [`bert.encoder.layer.${b}.attention.self.value`, b, 'attn.v'], [`bert.encoder.layer.${b}.attention.output.dense`, b, 'attn.out'],
      [`bert.encoder.layer.${b}.intermediate.dense`, b, 'mlp.up'], [`bert.encoder.layer.${b}.output.dense`, b, 'mlp.down'],
    ];
    expect(analysis.linears.map((l) => [l.name, l.block, l.role])).toEqual([
      ...block(0), ...block(1), ['cls.predictions.transform.dense', null, 'other'], ['cls.predictions.decoder', null, 'head'],
    ]);
    expect(analysis.linears.at(-1)).toMatchObject({ weight: 'bert.embeddings.word_embeddings.weight', bias: 'cls.predictions.bias', outFeatures: 400 });
    expect(analysis.embeddings.map((e) => [e.kind, e.weight])).toEqual([
      ['token', 'bert.embeddings.word_embeddings.weight'], ['token', 'bert.embeddings.token_type_embeddings.weight'], ['position', 'bert.embeddings.position_embeddings.weight'],
    ]);
    expect(analysis.attention.map((s) => [s.heads, s.headDim, s.causalMask])).toEqual([[4, 16, false], [4, 16, false]]);
    expect([analysis.warnings, analysis.unsupported]).toEqual([[], []]);
  });

  test('config.json and the tokenizer (BERT\'s special tokens on the last ids) agree with the graph', () => {
    const config = readHfConfig(readJson(join(out, 'config.json')));
    const tokenizer = loadHfTokenizer(readJson(join(out, 'tokenizer.json')), readJson(join(out, 'tokenizer_config.json')));
    expect(config).toMatchObject({ family: 'bert', layers: 2, hidden: 64, heads: 4, vocab: 400 });
    expect(tokenizer.vocabSize).toBe(400);
    expect(tokenizer.encode('[MASK]')).toEqual([399]);
    expect(folderDisagreements(analysis, { config: { file: 'config.json', config }, tokenizer: { file: 'tokenizer.json', vocabSize: tokenizer.vocabSize } })).toEqual([]);
  });

  test('padding keys masked by attention_mask change nothing for the real tokens; token types do change the output', async () => {
    const s = await session(folder.graphPath);
    try {
      const ids = [397, 5, 77, 200, 13, 398];
      const run = async (rowIds: number[], mask: number[], types: number[]) =>
        (await s.run({ input_ids: int64([rowIds]), attention_mask: int64([mask]), token_type_ids: int64([types]) })).logits.data as Float32Array;
      const alone = await run(ids, ids.map(() => 1), ids.map(() => 0));
      const padded = await run([...ids, 395, 395], [...ids.map(() => 1), 0, 0], [...ids.map(() => 0), 0, 0]);
      expectClose(padded.subarray(0, ids.length * 400), alone, { atol: 2e-5, rtol: 1e-4 }, 'right-padded row');
      const unmasked = await run([...ids, 395, 395], [...ids, 395, 395].map(() => 1), [...ids.map(() => 0), 0, 0]);
      expect(() => expectClose(unmasked.subarray(0, ids.length * 400), alone, { atol: 2e-5, rtol: 1e-4 })).toThrow();
      const typed = await run(ids, ids.map(() => 1), ids.map(() => 1));
      expect(() => expectClose(typed, alone, { atol: 2e-5, rtol: 1e-4 })).toThrow();
    } finally {
      await s.release();
    }
  });
});

describe('gen:hf --preset vit-base (tiny)', () => {
  const out = join(root, 'vit');
  const folder = writeEncoderFolder({ preset: 'vit-base', out, overrides: { layers: 2, hidden: 64, heads: 4, imageSize: 32, patchSize: 8, labels: 10 }, seed: 3 });

  test('the analysis sees an image classifier: patch embedding, q/k/v/out and up/down per block, the classifier head', () => {
    const analysis = analyzeModel(readModel(new Uint8Array(readFileSync(folder.graphPath))));
    expect(analysis.task).toBe('image-classification');
    expect([analysis.numBlocks, analysis.blockSource]).toEqual([2, 'name']);
    expect(analysis.linears.map((l) => l.role)).toEqual([...Array(2).fill(['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.up', 'mlp.down']).flat(), 'head']);
    expect(analysis.linears.at(-1)).toMatchObject({ name: 'classifier', inFeatures: 64, outFeatures: 10 });
    expect(analysis.embeddings.map((e) => [e.kind, e.weight, e.weightDims])).toEqual([['patch', 'vit.embeddings.patch_embeddings.projection.weight', [64, 3, 8, 8]]]);
    expect(analysis.attention.map((s) => [s.heads, s.headDim])).toEqual([[4, 16], [4, 16]]);
    expect([analysis.warnings, analysis.unsupported]).toEqual([[], []]);
    expect(readHfConfig(readJson(join(out, 'config.json')))).toMatchObject({ family: 'vit', layers: 2, hidden: 64, heads: 4 });
    expect(readJson(join(out, 'preprocessor_config.json'))).toMatchObject({ size: { height: 32, width: 32 }, image_processor_type: 'ViTImageProcessor' });
  });

  test('ORT classifies a batch of two images into 10 logits each, independently of each other', async () => {
    const s = await session(folder.graphPath);
    try {
      const pixels = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));
      const both = (await s.run({ pixel_values: new ort.Tensor('float32', pixels, [2, 3, 32, 32]) })).logits;
      expect(both.dims).toEqual([2, 10]);
      const second = (await s.run({ pixel_values: new ort.Tensor('float32', pixels.slice(3 * 32 * 32), [1, 3, 32, 32]) })).logits;
      expectClose((both.data as Float32Array).subarray(10), second.data as Float32Array, { atol: 1e-5, rtol: 1e-4 }, 'second image');
    } finally {
      await s.release();
    }
  });
});
