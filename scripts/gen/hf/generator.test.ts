// gen:hf on tiny instances of each preset (2 blocks, width 64): ORT runs the graph; the KV cache
// gives the logits a full recomputation gives; padding keys are really masked; the lab's
// analysis sees exactly the layers, blocks and attention the real family has; config.json and
// tokenizer.json agree with the graph; external data round-trips.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readModel } from '../../../src/core/onnx/index.ts';
import { expectClose } from '../../../src/core/testing/expectClose.ts';
import { openDecoder, runDecoder, type DecoderSession } from './decoderSession.ts';
import { writeHfFolder, type HfFolder } from './folder.ts';
import { headDim, type PresetName, type ShapeOverrides } from './presets.ts';

const root = mkdtempSync(join(tmpdir(), 'gen-hf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Tiny versions keeping each preset's head grouping (GPT-2 4 heads; SmolLM 3:1, Qwen 2:1 → here 6/2, 4/2, 8/2). */
const TINY: Record<PresetName, ShapeOverrides> = {
  gpt2: { layers: 2, hidden: 64, heads: 4, vocab: 300, maxPositions: 64 },
  'smollm-135m': { layers: 2, hidden: 48, heads: 6, kvHeads: 2, intermediate: 96, vocab: 320 },
  'qwen2.5-0.5b': { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 400 },
  'tinyllama-1.1b': { layers: 2, hidden: 64, heads: 8, kvHeads: 2, intermediate: 80, vocab: 300 },
};

const TOLERANCE = { atol: 2e-5, rtol: 1e-4 };

function generate(preset: PresetName, externalData = false): HfFolder {
  return writeHfFolder({ preset, out: join(root, `${preset}${externalData ? '-ext' : ''}`), overrides: TINY[preset], seed: 7, externalData });
}

async function open(folder: HfFolder): Promise<DecoderSession> {
  const { shape } = folder;
  return openDecoder(folder.graphPath, { layers: shape.layers, kvHeads: shape.kvHeads, headDim: headDim(shape), vocab: shape.vocab }, folder.dataPath ?? undefined);
}

const rows = (logits: Float32Array, vocab: number, from: number, to: number) => logits.slice(from * vocab, to * vocab);

describe.each(Object.keys(TINY) as PresetName[])('gen:hf --preset %s (tiny)', (preset) => {
  const folder = generate(preset);
  const { shape } = folder;
  const ids = [5, 77, 200, 13, 256, 9, 31];

  test('a full pass equals a prefix pass plus a two-token step fed the prefix\'s present.* as past', async () => {
    const decoder = await open(folder);
    try {
      const full = await runDecoder(decoder, [ids]);
      const prefix = await runDecoder(decoder, [ids.slice(0, 5)]);
      expect(prefix.cache.keys[1].dims).toEqual([1, shape.kvHeads, 5, headDim(shape)]);
      const step = await runDecoder(decoder, [ids.slice(5)], { cache: prefix.cache });
      expect(step.cache.values[0].dims).toEqual([1, shape.kvHeads, 7, headDim(shape)]);
      expectClose(prefix.logits, rows(full.logits, shape.vocab, 0, 5), TOLERANCE, 'prefix logits');
      expectClose(step.logits, rows(full.logits, shape.vocab, 5, 7), TOLERANCE, 'cached step logits');
      expectClose(step.cache.keys[1].data as Float32Array, full.cache.keys[1].data as Float32Array, TOLERANCE, 'present.1.key');
      // The causal mask is real: a later token changes nothing before it, and something after.
      const changed = await runDecoder(decoder, [[...ids.slice(0, 4), 100, ...ids.slice(5)]]);
      expectClose(rows(changed.logits, shape.vocab, 0, 4), rows(full.logits, shape.vocab, 0, 4), TOLERANCE, 'logits before the change');
      expect(() => expectClose(rows(changed.logits, shape.vocab, 4, 7), rows(full.logits, shape.vocab, 4, 7), TOLERANCE)).toThrow();
    } finally {
      await decoder.release();
    }
  });

  test('left padding masked by attention_mask leaves the real tokens\' logits as they are unpadded', async () => {
    const decoder = await open(folder);
    try {
      const real = ids.slice(0, 4);
      const alone = await runDecoder(decoder, [real]);
      // transformers' position ids for a left-padded row: cumsum(mask) − 1, padding set to 1.
      const padded = await runDecoder(decoder, [ids.slice(0, 6), [0, 0, ...real]], {
        attentionMask: [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]],
        positionIds: [[0, 1, 2, 3, 4, 5], [1, 1, 0, 1, 2, 3]],
      });
      const second = rows(padded.logits, shape.vocab, 6, 12);
      expectClose(rows(second, shape.vocab, 2, 6), alone.logits, TOLERANCE, 'padded row');
      // Without the mask the padding is attended to and the logits move.
      const unmasked = await runDecoder(decoder, [[0, 0, ...real]], { positionIds: [[1, 1, 0, 1, 2, 3]] });
      expect(() => expectClose(rows(unmasked.logits, shape.vocab, 2, 6), alone.logits, TOLERANCE)).toThrow();
    } finally {
      await decoder.release();
    }
  });
});

describe('gen:hf external data', () => {
  test('--external-data leaves no weights in model.onnx; ORT loads the pair and computes what the inline graph computes', async () => {
    const inline = generate('qwen2.5-0.5b');
    const external = generate('qwen2.5-0.5b', true);
    expect(external.dataPath).toMatch(/onnx[/\\]model\.onnx_data$/);
    expect(external.dataBytes).toBeGreaterThanOrEqual(external.parameters * 4);
    const graph = readModel(new Uint8Array(readFileSync(external.graphPath)));
    const parameters = graph.graph?.initializer?.filter((t) => /\.(weight|bias)$/.test(t.name ?? '')) ?? [];
    expect(parameters.length).toBe(2 * (2 + 7 + 3) + 2); // per block 2 norms, 7 linears, q/k/v biases; embedding, final norm
    expect(parameters.every((t) => t.dataLocation === 1 && !t.rawData?.length)).toBe(true);
    expect(external.graphBytes).toBeLessThan(inline.graphBytes / 4);
    const config = JSON.parse(readFileSync(join(root, 'qwen2.5-0.5b-ext', 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ use_external_data_format: true });

    const [a, b] = [await open(inline), await open(external)];
    try {
      const ids = [[3, 1, 4, 1, 5, 9]];
      expectClose((await runDecoder(b, ids)).logits, (await runDecoder(a, ids)).logits, { atol: 0, rtol: 0 }, 'external vs inline logits');
    } finally {
      await a.release();
      await b.release();
    }
  });
});
