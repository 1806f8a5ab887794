// The lab's analysis must see in a generated folder exactly what the real family has: every
// linear layer with its role and width, the blocks, one causal attention site per block with
// its heads and key-value heads; and the folder's config.json and tokenizer.json must agree with
// the graph (the checks a dropped folder goes through).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { folderDisagreements } from '../../../src/core/hf/agreement.ts';
import { readHfConfig } from '../../../src/core/hf/config.ts';
import { loadHfTokenizer } from '../../../src/core/hf/tokenizer.ts';
import { analyzeModel } from '../../../src/core/model/index.ts';
import { readModel } from '../../../src/core/onnx/index.ts';
import { writeHfFolder } from './folder.ts';
import type { PresetName, ShapeOverrides } from './presets.ts';

const root = mkdtempSync(join(tmpdir(), 'gen-hf-rec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

function generated(preset: PresetName, overrides: ShapeOverrides) {
  const out = join(root, preset);
  const folder = writeHfFolder({ preset, out, overrides, seed: 3 });
  const analysis = analyzeModel(readModel(new Uint8Array(readFileSync(folder.graphPath))));
  return { folder, analysis, out };
}

const LLAMA_ROLES: [string, string][] = [
  ['self_attn.q_proj', 'attn.q'], ['self_attn.k_proj', 'attn.k'], ['self_attn.v_proj', 'attn.v'], ['self_attn.o_proj', 'attn.out'],
  ['mlp.gate_proj', 'mlp.gate'], ['mlp.up_proj', 'mlp.up'], ['mlp.down_proj', 'mlp.down'],
];

describe('the analysis recognises generated folders exactly', () => {
  test('gpt2: 4 Conv1D linears per block with biases, a tied head, wte and wpe, 4 causal heads per block', () => {
    const { analysis } = generated('gpt2', { layers: 2, hidden: 64, heads: 4, vocab: 300, maxPositions: 64 });
    expect(analysis.task).toBe('causal-lm');
    expect([analysis.numBlocks, analysis.blockSource]).toEqual([2, 'name']);
    const block = (b: number) => [
      [`transformer.h.${b}.attn.c_attn`, b, 'attn.qkv', 64, 192],
      [`transformer.h.${b}.attn.c_proj`, b, 'attn.out', 64, 64],
      [`transformer.h.${b}.mlp.c_fc`, b, 'mlp.up', 64, 256],
      [`transformer.h.${b}.mlp.c_proj`, b, 'mlp.down', 256, 64],
    ];
    expect(analysis.linears.map((l) => [l.name, l.block, l.role, l.inFeatures, l.outFeatures])).toEqual([...block(0), ...block(1), ['lm_head', null, 'head', 64, 300]]);
    for (const layer of analysis.linears.slice(0, 8)) expect(layer).toMatchObject({ layout: 'in_out', bias: `${layer.name}.bias` });
    expect(analysis.linears[8]).toMatchObject({ weight: 'transformer.wte.weight', weightPath: ['Transpose'] });
    expect(analysis.embeddings.map((e) => [e.kind, e.weight, e.tiedTo])).toEqual([
      ['token', 'transformer.wte.weight', 'transformer.wte.weight'],
      ['position', 'transformer.wpe.weight', null],
    ]);
    expect(analysis.attention.map((s) => [s.block, s.heads, s.kvHeads, s.headDim, s.headsSource, s.causalMask])).toEqual([
      [0, 4, 4, 16, 'reshape', true],
      [1, 4, 4, 16, 'reshape', true],
    ]);
    expect([analysis.warnings, analysis.unsupported]).toEqual([[], []]);
  });

  test.each([
    ['smollm-135m', { hidden: 48, heads: 6, kvHeads: 2, intermediate: 96, vocab: 320 }, false, true],
    ['qwen2.5-0.5b', { hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 400 }, true, true],
    ['tinyllama-1.1b', { hidden: 64, heads: 8, kvHeads: 2, intermediate: 80, vocab: 300 }, false, false],
  ] as [PresetName, Required<Pick<ShapeOverrides, 'hidden' | 'heads' | 'kvHeads' | 'intermediate' | 'vocab'>>, boolean, boolean][])(
    '%s: q/k/v/o and gate/up/down per block with their roles, grouped-query attention, causal',
    (preset, o, qkvBias, tied) => {
      const { analysis } = generated(preset, { layers: 2, ...o });
      const hd = o.hidden / o.heads;
      const widths: Record<string, [number, number]> = {
        'attn.q': [o.hidden, o.hidden], 'attn.k': [o.hidden, o.kvHeads * hd], 'attn.v': [o.hidden, o.kvHeads * hd], 'attn.out': [o.hidden, o.hidden],
        'mlp.gate': [o.hidden, o.intermediate], 'mlp.up': [o.hidden, o.intermediate], 'mlp.down': [o.intermediate, o.hidden],
      };
      const expected = [0, 1].flatMap((b) => LLAMA_ROLES.map(([module, role]) => [`model.layers.${b}.${module}`, b, role, ...widths[role]]));
      expect(analysis.task).toBe('causal-lm');
      expect([analysis.numBlocks, analysis.blockSource]).toEqual([2, 'name']);
      expect(analysis.linears.map((l) => [l.name, l.block, l.role, l.inFeatures, l.outFeatures])).toEqual([...expected, ['lm_head', null, 'head', o.hidden, o.vocab]]);
      for (const layer of analysis.linears.slice(0, 14)) {
        const biased = qkvBias && /\.(q|k|v)_proj$/.test(layer.name);
        expect(layer).toMatchObject({ layout: 'in_out', bias: biased ? `${layer.name}.bias` : null });
      }
      expect(analysis.linears[14].weight).toBe(tied ? 'model.embed_tokens.weight' : 'lm_head.weight');
      expect(analysis.embeddings.map((e) => [e.kind, e.weight, e.tiedTo])).toEqual([['token', 'model.embed_tokens.weight', tied ? 'model.embed_tokens.weight' : null]]);
      expect(analysis.attention.map((s) => [s.block, s.heads, s.kvHeads, s.headDim, s.headsSource, s.causalMask, s.q, s.k, s.v, s.out])).toEqual(
        [0, 1].map((b) => {
          const p = `model.layers.${b}.self_attn`;
          return [b, o.heads, o.kvHeads, hd, 'reshape', true, `${p}.q_proj.weight`, `${p}.k_proj.weight`, `${p}.v_proj.weight`, `${p}.o_proj.weight`];
        }),
      );
      expect([analysis.warnings, analysis.unsupported]).toEqual([[], []]);
    },
  );
});

describe('config.json and tokenizer.json agree with the graph', () => {
  test.each([
    ['gpt2', { layers: 2, hidden: 64, heads: 4, vocab: 300, maxPositions: 64 }],
    ['smollm-135m', { layers: 2, hidden: 48, heads: 6, kvHeads: 2, intermediate: 96, vocab: 320 }],
    ['qwen2.5-0.5b', { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, vocab: 60000 }],
    ['tinyllama-1.1b', { layers: 2, hidden: 64, heads: 8, kvHeads: 2, intermediate: 80, vocab: 300 }],
  ] as [PresetName, ShapeOverrides][])('%s', (preset, overrides) => {
    const { analysis, out, folder } = generated(preset, overrides);
    const config = readHfConfig(readJson(join(out, 'config.json')));
    const tokenizer = loadHfTokenizer(readJson(join(out, 'tokenizer.json')), readJson(join(out, 'tokenizer_config.json')));
    expect(config).toMatchObject({ layers: 2, hidden: folder.shape.hidden, heads: folder.shape.heads, kvHeads: folder.shape.kvHeads, vocab: folder.shape.vocab });
    expect(folderDisagreements(analysis, { config: { file: 'config.json', config }, tokenizer: { file: 'tokenizer.json', vocabSize: tokenizer.vocabSize } })).toEqual([]);
    // The tokenizer fills the embedding (or GPT-2's 50,257 ids of a larger one) and ends with <|endoftext|>.
    expect(tokenizer.vocabSize).toBe(Math.min(folder.shape.vocab, 50257));
    expect(tokenizer.eosId).toBe(tokenizer.vocabSize - 1);
    expect(readJson(join(out, 'generation_config.json'))).toMatchObject({ eos_token_id: tokenizer.eosId });
  });
});
