// Block indices and roles read from module names of the common exporters' naming schemes.
import { describe, expect, it } from 'vitest';
import { blockFromName, modulePathFromNode, modulePathFromWeight } from './names.ts';
import { roleFromName } from './roles.ts';

describe('blockFromName', () => {
  const cases: [string, number | null][] = [
    ['model.layers.12.self_attn.q_proj', 12],
    ['/transformer/h.0/attn/c_attn/Gemm', 0],
    ['transformer.h.3.mlp.c_fc.weight', 3],
    ['bert.encoder.layer.7.attention.self.query.bias', 7],
    ['model.decoder.layers.2.fc1', 2],
    ['blocks.5.attn.q_proj', 5],
    ['encoder.block.1.layer.0.SelfAttention.q', 1],
    ['layers_4_mlp_fc1', 4],
    ['lm_head', null],
    ['onnx::MatMul_518', null],
    ['/hidden.3/MatMul', null], // 'hidden' is not 'h'
    ['model.layers.norm', null],
  ];
  for (const [name, block] of cases) {
    it(`${name} → ${block}`, () => expect(blockFromName(name)).toBe(block));
  }
});

describe('module paths', () => {
  it('drops the op from a torch node scope', () => {
    expect(modulePathFromNode('/model/layers.0/self_attn/q_proj/MatMul')).toBe('model.layers.0.self_attn.q_proj');
    expect(modulePathFromNode('MatMul_12')).toBe('');
  });
  it('drops the parameter suffix from a weight name, not from generated names', () => {
    expect(modulePathFromWeight('model.layers.0.mlp.up_proj.weight')).toBe('model.layers.0.mlp.up_proj');
    expect(modulePathFromWeight('onnx::MatMul_518')).toBe('');
  });
});

describe('roleFromName', () => {
  const cases: [string, string | null][] = [
    ['transformer.h.1.attn.c_attn', 'attn.qkv'],
    ['transformer.h.1.attn.c_proj', 'attn.out'],
    ['transformer.h.1.mlp.c_fc', 'mlp.up'],
    ['transformer.h.1.mlp.c_proj', 'mlp.down'],
    ['model.layers.0.self_attn.q_proj', 'attn.q'],
    ['model.layers.0.self_attn.k_proj', 'attn.k'],
    ['model.layers.0.self_attn.v_proj', 'attn.v'],
    ['model.layers.0.self_attn.o_proj', 'attn.out'],
    ['model.layers.0.mlp.gate_proj', 'mlp.gate'],
    ['model.layers.0.mlp.up_proj', 'mlp.up'],
    ['model.layers.0.mlp.down_proj', 'mlp.down'],
    ['bert.encoder.layer.0.attention.self.query', 'attn.q'],
    ['bert.encoder.layer.0.attention.output.dense', 'attn.out'],
    ['bert.encoder.layer.0.intermediate.dense', 'mlp.up'],
    ['bert.encoder.layer.0.output.dense', 'mlp.down'],
    ['vit.encoder.layer.0.attention.attention.value', 'attn.v'],
    ['blocks.2.attn.out_proj', 'attn.out'],
    ['blocks.2.mlp.fc1', 'mlp.up'],
    ['blocks.2.mlp.fc2', 'mlp.down'],
    ['layers.0.feed_forward.w1', 'mlp.gate'],
    ['layers.0.feed_forward.w3', 'mlp.up'],
    ['layers.0.feed_forward.w2', 'mlp.down'],
    ['gpt_neox.layers.0.attention.query_key_value', 'attn.qkv'],
    ['lm_head', 'head'],
    ['classifier', 'head'],
    ['head', 'head'],
    ['patch_embed', 'embed'],
    ['bert.pooler.dense', 'other'],
    ['fc1', null], // a generic name outside an attention/MLP scope says nothing
    ['blocks.0.head', null], // a head never sits inside a block
    ['', null],
  ];
  for (const [path, role] of cases) {
    it(`'${path}' → ${role}`, () => expect(roleFromName(path)).toBe(role));
  }
});
