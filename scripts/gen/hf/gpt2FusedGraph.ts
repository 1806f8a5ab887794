// `--fused` for GPT-2: the shape ONNX Runtime's transformer optimizer gives GPT2LMHeadModel with
// a KV cache (onnxruntime/python/tools/transformers: fusion_skiplayernorm, fusion_fastgelu; the
// MultiHeadAttention input order of onnxruntime-genai's builder.py make_multi_head_attention): com.microsoft
// SkipLayerNormalization joins each residual add to the next LayerNorm (the embeddings' wte + wpe
// included, the running sum as output 3), com.microsoft MultiHeadAttention takes q/k/v split from
// c_attn, the past key/value and the additive causal + padding mask as attention_bias, and
// com.microsoft FastGelu applies c_fc's bias and the tanh GELU. Conv1D MatMuls stay, so weight
// compression still sees them. Same inputs and outputs as the unfused graph.
import type { ModelProto } from '../../../src/core/onnx/types.ts';
import { cacheGraphInputs, cacheGraphOutputs, causalMask } from './cacheAttention.ts';
import { GraphBuilder } from './graphBuilder.ts';
import { biasInit, normInit, type GraphOptions } from './llamaGraph.ts';
import type { DecoderShape } from './presets.ts';
import type { WeightSink } from './weights.ts';

const MS = 'com.microsoft';

export function buildGpt2FusedGraph(shape: DecoderShape, weights: WeightSink, { producer, std, perturbStd }: GraphOptions): ModelProto {
  const g = new GraphBuilder();
  const { hidden: d, heads, intermediate: m } = shape;
  const residualStd = std / Math.sqrt(2 * shape.layers);
  const lnParams = (param: string) => [g.add(weights.float(`${param}.weight`, [d], normInit(perturbStd))), g.add(weights.float(`${param}.bias`, [d], biasInit(perturbStd)))];
  /** SkipLayerNormalization(x, residual, γ, β): [normalised, running sum]. */
  const skipNorm = (scope: string, param: string, x: string, residual: string): [string, string] => {
    const name = `${scope}/SkipLayerNormalization`;
    const outputs = [`${name}_output_0`, '', '', `${name}_output_3`];
    g.nodes.push({ opType: 'SkipLayerNormalization', domain: MS, name, input: [x, residual, ...lnParams(param)], output: outputs, attribute: [{ name: 'epsilon', type: 1, f: shape.normEps }] });
    return [outputs[0], outputs[3]];
  };
  const weight = (param: string, inF: number, outF: number, s: number) => g.add(weights.float(`${param}.weight`, [inF, outF], { normal: s }));
  const bias = (param: string, n: number) => g.add(weights.float(`${param}.bias`, [n], biasInit(perturbStd)));
  const conv1d = (scope: string, param: string, x: string, inF: number, outF: number, s: number): string => {
    const w = weight(param, inF, outF, s);
    return g.op(scope, 'Add', [bias(param, outF), g.op(scope, 'MatMul', [x, w])]);
  };

  const wte = g.add(weights.float('transformer.wte.weight', [shape.vocab, d], { normal: std }));
  const wpe = g.add(weights.float('transformer.wpe.weight', [shape.maxPositions, d], { normal: std }));
  const tokens = g.op('/transformer/wte', 'Gather', [wte, 'input_ids']);
  const positions = g.op('/transformer/wpe', 'Gather', [wpe, 'position_ids']);
  const mask = causalMask(g, '/transformer');
  let [normalised, residual] = skipNorm('/transformer/h.0/ln_1', 'transformer.h.0.ln_1', tokens, positions);

  for (let i = 0; i < shape.layers; i++) {
    const s = `/transformer/h.${i}`;
    const p = `transformer.h.${i}`;
    const a = `${s}/attn`;
    const qkv = conv1d(`${a}/c_attn`, `${p}.attn.c_attn`, normalised, d, 3 * d, std);
    const [q, k, v] = g.opMulti(a, 'Split', [qkv, g.int64(`${a}/split_sizes`, [d, d, d])], 3, { axis: 2 });
    const mha = `${a}/MultiHeadAttention`;
    g.nodes.push({
      opType: 'MultiHeadAttention', domain: MS, name: mha,
      input: [q, k, v, '', '', mask, `past_key_values.${i}.key`, `past_key_values.${i}.value`],
      output: [`${mha}_output_0`, `present.${i}.key`, `present.${i}.value`],
      attribute: [{ name: 'num_heads', type: 2, i: heads }],
    });
    const attnOut = conv1d(`${a}/c_proj`, `${p}.attn.c_proj`, `${mha}_output_0`, d, d, residualStd);
    [normalised, residual] = skipNorm(`${s}/ln_2`, `${p}.ln_2`, attnOut, residual);
    const mlp = `${s}/mlp`;
    const fcWeight = weight(`${p}.mlp.c_fc`, d, m, std);
    const fc = g.op(`${mlp}/c_fc`, 'MatMul', [normalised, fcWeight]);
    const gelu = `${mlp}/act/FastGelu`;
    g.nodes.push({ opType: 'FastGelu', domain: MS, name: gelu, input: [fc, bias(`${p}.mlp.c_fc`, m)], output: [`${gelu}_output_0`] });
    const down = conv1d(`${mlp}/c_proj`, `${p}.mlp.c_proj`, `${gelu}_output_0`, m, d, residualStd);
    const next = i + 1 < shape.layers ? [`/transformer/h.${i + 1}/ln_1`, `transformer.h.${i + 1}.ln_1`] : ['/transformer/ln_f', 'transformer.ln_f'];
    [normalised, residual] = skipNorm(next[0], next[1], down, residual);
  }
  g.op('/lm_head', 'MatMul', [normalised, g.op('/lm_head', 'Transpose', [wte], { attrs: { perm: [1, 0] } })], { outputs: ['logits'] });
  return {
    irVersion: 8,
    producerName: producer,
    opsetImport: [{ domain: '', version: 17 }, { domain: MS, version: 1 }],
    graph: { name: 'main_graph', node: g.nodes, initializer: g.initializers, input: cacheGraphInputs(shape), output: cacheGraphOutputs(shape), valueInfo: [] },
  };
}
