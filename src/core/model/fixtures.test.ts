// The analysis of the torch.onnx.export fixtures (scripts/fixtures/make_arch_fixtures.py):
// GPT-2, Llama, BERT and ViT shaped like Optimum exports, constant-folded and not, and a plain
// Gemm MLP. Each is analysed twice: as exported (names tell) and with every node and
// initializer name erased (only structure tells) — both must agree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModel } from '../onnx/index.ts';
import type { ModelProto } from '../onnx/types.ts';
import { analyzeModel } from './analyze.ts';
import type { LinearLayer, ModelAnalysis } from './types.ts';

function loadFixture(file: string): ModelProto {
  return readModel(new Uint8Array(readFileSync(new URL(`./fixtures/${file}`, import.meta.url))));
}

/** Erase node names and rename initializers w0, w1, ...: nothing left for the name rules. */
function anonymize(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const renamed = new Map<string, string>();
  graph.initializer?.forEach((tensor, i) => {
    renamed.set(tensor.name ?? '', `w${i}`);
    tensor.name = `w${i}`;
  });
  for (const node of graph.node ?? []) {
    node.name = '';
    node.input = node.input?.map((input) => renamed.get(input) ?? input);
  }
  return model;
}

function byName(analysis: ModelAnalysis, name: string): LinearLayer {
  const layer = analysis.linears.find((l) => l.name === name);
  if (!layer) throw new Error(`no linear layer '${name}' in ${analysis.linears.map((l) => l.name).join(', ')}`);
  return layer;
}

/** [role, block] per layer in model order: what the named and anonymous analyses must share. */
function roleSequence(analysis: ModelAnalysis): [string, number | null][] {
  return analysis.linears.map((layer) => [layer.role, layer.block]);
}

interface FixtureExpectation {
  file: string;
  linears: number;
  blocks: number;
  heads: number;
  kvHeads: number;
  task: ModelAnalysis['task'];
  causal: boolean;
  /** Roles per block, in model order. */
  blockRoles: string[];
  head: string;
}

const FIXTURES: FixtureExpectation[] = [
  { file: 'gpt2.onnx', linears: 9, blocks: 2, heads: 4, kvHeads: 4, task: 'causal-lm', causal: true, blockRoles: ['attn.qkv', 'attn.out', 'mlp.up', 'mlp.down'], head: 'lm_head' },
  { file: 'gpt2-nofold.onnx', linears: 9, blocks: 2, heads: 4, kvHeads: 4, task: 'causal-lm', causal: true, blockRoles: ['attn.qkv', 'attn.out', 'mlp.up', 'mlp.down'], head: 'lm_head' },
  { file: 'llama.onnx', linears: 15, blocks: 2, heads: 4, kvHeads: 2, task: 'causal-lm', causal: true, blockRoles: ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.gate', 'mlp.up', 'mlp.down'], head: 'lm_head' },
  { file: 'llama-nofold.onnx', linears: 15, blocks: 2, heads: 4, kvHeads: 2, task: 'causal-lm', causal: true, blockRoles: ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.gate', 'mlp.up', 'mlp.down'], head: 'lm_head' },
  { file: 'bert.onnx', linears: 14, blocks: 2, heads: 4, kvHeads: 4, task: 'sequence-classification', causal: false, blockRoles: ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.up', 'mlp.down'], head: 'classifier' },
  { file: 'vit.onnx', linears: 13, blocks: 2, heads: 4, kvHeads: 4, task: 'image-classification', causal: false, blockRoles: ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.up', 'mlp.down'], head: 'classifier' },
];

describe.each(FIXTURES)('$file', (expected) => {
  const named = analyzeModel(loadFixture(expected.file));

  it('finds the linear layers, blocks and attention sites', () => {
    expect(named.linears).toHaveLength(expected.linears);
    expect(named).toMatchObject({ numBlocks: expected.blocks, blockSource: 'name', task: expected.task });
    expect(named.attention).toHaveLength(expected.blocks);
    for (const [i, site] of named.attention.entries()) {
      expect(site).toMatchObject({ block: i, heads: expected.heads, kvHeads: expected.kvHeads, headDim: 8, headsSource: 'reshape', causalMask: expected.causal });
      expect([site.q, site.k, site.v, site.out]).not.toContain(null);
    }
  });

  it('gives every block the same roles, and the head none', () => {
    for (const block of named.blocks) {
      const roles = block.linears.map((id) => named.linears.find((l) => l.id === id)!.role);
      expect(roles).toEqual(expected.blockRoles);
    }
    expect(byName(named, expected.head)).toMatchObject({ role: 'head', roleSource: 'name', block: null });
  });

  it('links each attention site to the projections of its own block', () => {
    const roleOf = (id: string | null) => named.linears.find((l) => l.id === id);
    for (const site of named.attention) {
      for (const id of [site.q, site.k, site.v, site.out]) expect(roleOf(id)?.block).toBe(site.block);
      expect(roleOf(site.out)?.role).toBe('attn.out');
    }
  });

  it('says nothing is missing', () => {
    expect(named.warnings).toEqual([]);
    expect(named.unsupported).toEqual([]);
  });

  it('finds the same roles and blocks from structure alone', () => {
    const anonymous = analyzeModel(anonymize(loadFixture(expected.file)));
    expect(anonymous.blockSource).toBe('structure');
    expect(roleSequence(anonymous)).toEqual(roleSequence(named));
    const sources = new Set(anonymous.linears.filter((l) => l.role !== 'other').map((l) => l.roleSource));
    expect([...sources]).toEqual(['structure']);
    expect(anonymous.attention.map((s) => [s.heads, s.kvHeads])).toEqual(named.attention.map((s) => [s.heads, s.kvHeads]));
  });
});

describe('GPT-2 details', () => {
  const gpt2 = analyzeModel(loadFixture('gpt2.onnx'));

  it('reads Conv1D (addmm → Gemm transB=0) as in_out with C as bias', () => {
    expect(byName(gpt2, 'transformer.h.1.attn.c_attn')).toMatchObject({
      opType: 'Gemm', weight: 'transformer.h.1.attn.c_attn.weight', weightDims: [32, 96], layout: 'in_out',
      inFeatures: 32, outFeatures: 96, bias: 'transformer.h.1.attn.c_attn.bias', block: 1, role: 'attn.qkv',
    });
    expect(byName(gpt2, 'transformer.h.0.mlp.c_proj')).toMatchObject({ inFeatures: 64, outFeatures: 32, role: 'mlp.down' });
  });

  it('reads the constant-folded tied head as its own [in, out] initializer', () => {
    expect(byName(gpt2, 'lm_head')).toMatchObject({ opType: 'MatMul', layout: 'in_out', weightDims: [32, 48], inFeatures: 32, outFeatures: 48, sharedWith: [] });
    expect(gpt2.embeddings.map((e) => [e.kind, e.weight, e.tiedTo])).toEqual([
      ['token', 'transformer.wte.weight', null],
      ['position', 'transformer.wpe.weight', null],
    ]);
  });

  it('counts the parameters of the file (equal LayerNorm tensors stored once)', () => {
    expect(gpt2.totalParams).toBe(20480);
    expect(gpt2.initializerBytes).toEqual({ float32: 20480 * 4 });
    expect(gpt2.opsetImports).toEqual([{ domain: 'ai.onnx', version: 14 }]);
    expect(gpt2.inputs).toEqual([{ name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] }]);
    expect(gpt2.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['batch', 'sequence', 48] }]);
  });

  it('without constant folding, the tied head is MatMul(x, Transpose(wte)) sharing the embedding', () => {
    const nofold = analyzeModel(loadFixture('gpt2-nofold.onnx'));
    expect(byName(nofold, 'lm_head')).toMatchObject({
      weight: 'transformer.wte.weight', weightPath: ['Transpose'], layout: 'out_in', weightDims: [48, 32],
      inFeatures: 32, outFeatures: 48, sharedWith: ['/transformer/wte/Gather'], role: 'head',
    });
    expect(nofold.embeddings[0]).toMatchObject({ weight: 'transformer.wte.weight', tiedTo: 'transformer.wte.weight' });
  });
});

describe('Llama details', () => {
  it('grouped-query attention: k/v projections are half as wide, no biases', () => {
    const llama = analyzeModel(loadFixture('llama.onnx'));
    expect(byName(llama, 'model.layers.0.self_attn.k_proj')).toMatchObject({ layout: 'in_out', inFeatures: 32, outFeatures: 16, bias: null, role: 'attn.k' });
    expect(byName(llama, 'model.layers.0.mlp.gate_proj')).toMatchObject({ inFeatures: 32, outFeatures: 64, role: 'mlp.gate', block: 0 });
  });

  it('without constant folding every weight is Transpose(W[out, in]) under its parameter name', () => {
    const folded = analyzeModel(loadFixture('llama.onnx'));
    const nofold = analyzeModel(loadFixture('llama-nofold.onnx'));
    for (const layer of nofold.linears) {
      expect(layer).toMatchObject({ layout: 'out_in', weightPath: ['Transpose'], weight: `${layer.name}.weight` });
      expect([layer.inFeatures, layer.outFeatures]).toEqual([layer.weightDims[1], layer.weightDims[0]]);
    }
    expect(nofold.linears.map((l) => [l.name, l.inFeatures, l.outFeatures])).toEqual(
      folded.linears.map((l) => [l.name, l.inFeatures, l.outFeatures]),
    );
  });
});

describe('BERT and ViT details', () => {
  it('BERT: pooler outside the blocks, classifier a Gemm(transB=1) head, masked not causal', () => {
    const bert = analyzeModel(loadFixture('bert.onnx'));
    expect(byName(bert, 'bert.pooler.dense')).toMatchObject({ role: 'other', roleSource: 'name', block: null, opType: 'Gemm' });
    expect(byName(bert, 'classifier')).toMatchObject({ opType: 'Gemm', layout: 'out_in', weightDims: [3, 32], inFeatures: 32, outFeatures: 3, bias: 'classifier.bias' });
    expect(bert.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(bert.embeddings.map((e) => e.kind)).toEqual(['token', 'token', 'position']);
  });

  it('ViT: the Conv patch embedding is an embedding, not a linear layer', () => {
    const vit = analyzeModel(loadFixture('vit.onnx'));
    expect(vit.embeddings).toEqual([
      { nodeName: '/vit/embeddings/patch_embeddings/projection/Conv', kind: 'patch', weight: 'vit.embeddings.patch_embeddings.projection.weight', weightDims: [32, 3, 4, 4], tiedTo: null },
    ]);
    expect(vit.linears.some((l) => l.name.includes('patch'))).toBe(false);
  });
});

describe('mlp-gemm.onnx', () => {
  const mlp = analyzeModel(loadFixture('mlp-gemm.onnx'));

  it('reads nn.Linear on 2-D input as Gemm(transB=1), out_in', () => {
    expect(mlp.linears.map((l) => [l.name, l.opType, l.layout, l.inFeatures, l.outFeatures, l.bias])).toEqual([
      ['fc1', 'Gemm', 'out_in', 16, 32, 'fc1.bias'],
      ['fc2', 'Gemm', 'out_in', 32, 32, 'fc2.bias'],
      ['classifier', 'Gemm', 'out_in', 32, 10, 'classifier.bias'],
    ]);
  });

  it('has no blocks or attention, and says so', () => {
    expect(mlp).toMatchObject({ numBlocks: 0, blockSource: 'none', task: 'unknown', attention: [] });
    expect(mlp.linears.map((l) => [l.role, l.roleSource])).toEqual([['other', 'none'], ['other', 'none'], ['head', 'name']]);
    expect(mlp.warnings).toEqual([
      'Found 0 Softmax nodes feeding a MatMul: the model may have no attention — the lab needs unfused attention for attention views and ACT',
    ]);
  });
});
