// transformers.js loads generated folders (local files only) and its greedy generation — its own
// KV-cache loop over past_key_values / present — gives the ids of an independent greedy decode
// that recomputes the whole sequence with onnxruntime-web at each step. The weights are drawn
// wider than HF's 0.02 (--init-std 0.3) so that the context, not only the current token, decides
// the next one; the test checks that it does.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadHfTokenizer } from '../../../src/core/hf/tokenizer.ts';
import { greedyByRecompute, openDecoder } from './decoderSession.ts';
import { writeHfFolder } from './folder.ts';
import { headDim, type PresetName, type ShapeOverrides } from './presets.ts';
import { transformersJsGenerate } from './transformersJs.ts';

const root = mkdtempSync(join(tmpdir(), 'gen-hf-tjs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PROMPT = 'The quick brown fox jumps over';
const NEW_TOKENS = 12;

const CASES: [string, PresetName, ShapeOverrides, boolean][] = [
  ['gpt2', 'gpt2', { layers: 2, hidden: 64, heads: 4, vocab: 512, maxPositions: 64 }, false],
  ['tinyllama (untied head, 8 heads on 2 kv heads)', 'tinyllama-1.1b', { layers: 2, hidden: 64, heads: 8, kvHeads: 2, intermediate: 96, vocab: 512 }, false],
  ['qwen2.5 (q/k/v biases) with external data', 'qwen2.5-0.5b', { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 700 }, true],
];

describe('transformers.js runs generated folders', () => {
  test.each(CASES)('%s: its cached greedy ids equal a recomputing greedy decode in onnxruntime-web', async (_, preset, overrides, externalData) => {
    const out = join(root, preset);
    const folder = writeHfFolder({ preset, out, overrides, seed: 11, initStd: 0.3, externalData });
    const generated = await transformersJsGenerate(out, PROMPT, NEW_TOKENS);

    // Both tokenizer libraries read the same tokenizer.json the same way.
    const ours = loadHfTokenizer(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')));
    expect(generated.promptIds).toEqual(ours.encode(PROMPT));

    const { shape } = folder;
    const decoder = await openDecoder(folder.graphPath, { layers: shape.layers, kvHeads: shape.kvHeads, headDim: headDim(shape), vocab: shape.vocab }, folder.dataPath ?? undefined);
    try {
      const reference = await greedyByRecompute(decoder, generated.promptIds, NEW_TOKENS);
      // transformers.js stops early only at the end-of-text id.
      expect(generated.newIds).toEqual(reference.slice(0, generated.newIds.length));
      expect(generated.newIds.length === NEW_TOKENS || generated.newIds.at(-1) === shape.eosId).toBe(true);
      expect(generated.newIds.length).toBeGreaterThanOrEqual(4);
      // The context matters: from the last prompt token alone the same model says something else.
      const withoutContext = await greedyByRecompute(decoder, generated.promptIds.slice(-1), NEW_TOKENS);
      expect(withoutContext).not.toEqual(reference);
    } finally {
      await decoder.release();
    }
    expect(generated.text).toBe(ours.decode(generated.newIds));
  });
});
