// The lab's bundled models (public/models/*/model.onnx, trained by scripts/train/): the analysis
// must see exactly the architecture their training scripts build. Skipped, with the reason in
// the suite name, while a model has not been trained and exported yet.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/index.ts';
import { analyzeModel } from './analyze.ts';
import type { ModelAnalysis } from './types.ts';

const MODELS_DIR = new URL('../../../public/models/', import.meta.url);

function bundled(name: string): { title: string; analysis: () => ModelAnalysis; missing: boolean } {
  const file = new URL(`${name}/model.onnx`, MODELS_DIR);
  const missing = !existsSync(file);
  const title = missing ? `${name} (skipped: public/models/${name}/model.onnx does not exist yet — train it with scripts/train/)` : name;
  let cached: ModelAnalysis | undefined;
  const analysis = () => (cached ??= analyzeModel(readModel(new Uint8Array(readFileSync(file)))));
  return { title, analysis, missing };
}

const BLOCK_ROLES = ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.up', 'mlp.down'];

function rolesPerBlock(analysis: ModelAnalysis): string[][] {
  const byId = new Map(analysis.linears.map((layer) => [layer.id, layer]));
  return analysis.blocks.map((block) => block.linears.map((id) => byId.get(id)!.role));
}

/** blocks.{i}.attn.{q,k,v,out}_proj and blocks.{i}.mlp.fc{1,2}: scripts/train/common.py PreLnBlock. */
function expectPreLnBlocks(analysis: ModelAnalysis, blocks: number, heads: number, headDim: number): void {
  expect(analysis).toMatchObject({ numBlocks: blocks, blockSource: 'name' });
  expect(rolesPerBlock(analysis)).toEqual(Array.from({ length: blocks }, () => BLOCK_ROLES));
  expect(analysis.attention.map((site) => [site.block, site.heads, site.headDim])).toEqual(
    Array.from({ length: blocks }, (_, i) => [i, heads, headDim]),
  );
  for (const site of analysis.attention) expect([site.q, site.k, site.v, site.out]).not.toContain(null);
  expect(analysis.warnings).toEqual([]);
  expect(analysis.unsupported).toEqual([]);
}

const charLm = bundled('kjv-charlm');
describe.skipIf(charLm.missing)(charLm.title, () => {
  it('has 6 blocks of q, k, v, out, fc1, fc2 plus lm_head: 37 linear layers', () => {
    const analysis = charLm.analysis();
    expect(analysis.linears).toHaveLength(6 * 6 + 1);
    expectPreLnBlocks(analysis, 6, 4, 32);
    expect(analysis.linears.find((l) => l.name === 'lm_head')).toMatchObject({ role: 'head', block: null, inFeatures: 128 });
    expect(analysis.linears.find((l) => l.name === 'blocks.5.mlp.fc1')).toMatchObject({ role: 'mlp.up', inFeatures: 128, outFeatures: 512 });
  });

  it('is a causal LM with causal attention', () => {
    const analysis = charLm.analysis();
    expect(analysis.task).toBe('causal-lm');
    expect(analysis.attention.every((site) => site.causalMask)).toBe(true);
  });
});

const digitsVit = bundled('digits-vit');
describe.skipIf(digitsVit.missing)(digitsVit.title, () => {
  it('has 4 blocks, a linear patch_embed (role embed) and a head: 26 linear layers', () => {
    const analysis = digitsVit.analysis();
    expect(analysis.linears).toHaveLength(4 * 6 + 2);
    expectPreLnBlocks(analysis, 4, 4, 16);
    expect(analysis.linears.find((l) => l.name === 'patch_embed')).toMatchObject({ role: 'embed', block: null, outFeatures: 64 });
    expect(analysis.linears.find((l) => l.name === 'head')).toMatchObject({ role: 'head', block: null, inFeatures: 64, outFeatures: 10 });
    expect(analysis.task).toBe('image-classification');
  });
});
