// The generated graphs compute real Qwen2 / Llama / GPT-2 forward passes: their logits equal
// those of a torch implementation written after transformers' modeling files that reads only the
// weights (scripts/fixtures/hf_decoder_reference.py; the fixture's header says how it was made).
// The models are regenerated here from the same seed and options, so the fixture holds no model.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readModel } from '../../../src/core/onnx/index.ts';
import { expectClose } from '../../../src/core/testing/expectClose.ts';
import { openDecoder, runDecoder } from './decoderSession.ts';
import { writeHfFolder } from './folder.ts';
import { headDim, type PresetName, type ShapeOverrides } from './presets.ts';

interface ReferenceCase {
  model_type: string;
  producer: string;
  ids: number[];
  logits: number[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8')) as { cases: ReferenceCase[] };
const root = mkdtempSync(join(tmpdir(), 'gen-hf-torch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The commands in hf_decoder_reference.py's docstring. */
const MODELS: [string, PresetName, ShapeOverrides, number][] = [
  ['qwen2', 'qwen2.5-0.5b', { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 300 }, 5],
  ['llama', 'tinyllama-1.1b', { layers: 2, hidden: 64, heads: 8, kvHeads: 2, intermediate: 80, vocab: 300 }, 6],
  ['gpt2', 'gpt2', { layers: 2, hidden: 64, heads: 4, vocab: 300, maxPositions: 32 }, 7],
];

describe('generated graphs against the torch reference', () => {
  test.each(MODELS)('%s: ORT logits equal torch logits computed from the same weights', async (modelType, preset, overrides, seed) => {
    const reference = fixture.cases.find((c) => c.model_type === modelType)!;
    const folder = writeHfFolder({ preset, out: join(root, preset), overrides, seed, initStd: 0.3, layout: 'flat' });
    expect(readModel(new Uint8Array(readFileSync(folder.graphPath))).producerName).toBe(reference.producer);
    const { shape } = folder;
    const decoder = await openDecoder(folder.graphPath, { layers: shape.layers, kvHeads: shape.kvHeads, headDim: headDim(shape), vocab: shape.vocab });
    try {
      const { logits } = await runDecoder(decoder, [reference.ids]);
      // The fixture keeps 6 decimals; float32 accumulation order differs between torch and ORT.
      expectClose(logits, reference.logits, { atol: 1e-4, rtol: 1e-4 }, `${modelType} logits`);
    } finally {
      await decoder.release();
    }
  });
});
