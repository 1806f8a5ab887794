// GPT2LMHeadModel as Optimum exports it for text-generation-with-past: the blocks of
// scripts/gen/gpt2Model.ts (wte + wpe, pre-LayerNorm, Conv1D c_attn → Split → heads, c_proj,
// tanh GELU MLP, tied head through Transpose(wte)), with wpe gathered by position_ids, the keys
// and values appended to past_key_values (present.* out) and the additive causal + padding mask.
import type { ModelProto } from '../../../src/core/onnx/types.ts';
import { cacheGraphInputs, cacheGraphOutputs, cachedAttention, causalMask, splitHeads } from './cacheAttention.ts';
import { GraphBuilder } from './graphBuilder.ts';
import { INIT_STD } from './llamaGraph.ts';
import { headDim, type DecoderShape } from './presets.ts';
import type { WeightSink } from './weights.ts';

export function buildGpt2Graph(shape: DecoderShape, weights: WeightSink, producer: string): ModelProto {
  const g = new GraphBuilder();
  const { hidden: d, heads, intermediate: m } = shape;
  const hd = headDim(shape);
  // modeling_gpt2.py _init_weights: c_proj weights get std 0.02/sqrt(2·n_layer).
  const residualStd = INIT_STD / Math.sqrt(2 * shape.layers);

  const layerNorm = (scope: string, param: string, x: string): string => {
    const w = g.add(weights.float(`${param}.weight`, [d], { constant: 1 }));
    const b = g.add(weights.float(`${param}.bias`, [d], { constant: 0 }));
    return g.op(scope, 'LayerNormalization', [x, w, b], { attrs: { axis: -1, epsilon: shape.normEps } });
  };
  // Conv1D: weight [in, out], y = x·W + b.
  const conv1d = (scope: string, param: string, x: string, inF: number, outF: number, std: number): string => {
    const w = g.add(weights.float(`${param}.weight`, [inF, outF], { normal: std }));
    const b = g.add(weights.float(`${param}.bias`, [outF], { constant: 0 }));
    return g.op(scope, 'Add', [b, g.op(scope, 'MatMul', [x, w])]);
  };

  const wte = g.add(weights.float('transformer.wte.weight', [shape.vocab, d], { normal: INIT_STD }));
  const wpe = g.add(weights.float('transformer.wpe.weight', [shape.maxPositions, d], { normal: INIT_STD }));
  let x = g.op('/transformer', 'Add', [g.op('/transformer/wte', 'Gather', [wte, 'input_ids']), g.op('/transformer/wpe', 'Gather', [wpe, 'position_ids'])]);
  const mask = causalMask(g, '/transformer');

  for (let i = 0; i < shape.layers; i++) {
    const s = `/transformer/h.${i}`;
    const p = `transformer.h.${i}`;
    const a = `${s}/attn`;
    const qkv = conv1d(`${a}/c_attn`, `${p}.attn.c_attn`, layerNorm(`${s}/ln_1`, `${p}.ln_1`, x), d, 3 * d, INIT_STD);
    const [q, k, v] = g.opMulti(a, 'Split', [qkv, g.int64(`${a}/split_sizes`, [d, d, d])], 3, { axis: 2 });
    const context = cachedAttention(g, a, shape, i, {
      q: splitHeads(g, a, q, heads, hd, 'q'),
      k: splitHeads(g, a, k, heads, hd, 'k'),
      v: splitHeads(g, a, v, heads, hd, 'v'),
      mask,
      scale: 'Div',
    });
    const afterAttention = g.op(s, 'Add', [x, conv1d(`${a}/c_proj`, `${p}.attn.c_proj`, context, d, d, residualStd)]);

    const mlp = `${s}/mlp`;
    const h = conv1d(`${mlp}/c_fc`, `${p}.mlp.c_fc`, layerNorm(`${s}/ln_2`, `${p}.ln_2`, afterAttention), d, m, INIT_STD);
    // gelu_new: 0.5·h·(1 + tanh(sqrt(2/π)·(h + 0.044715·h³))).
    const act = `${mlp}/act`;
    const cubic = g.op(act, 'Mul', [g.op(act, 'Pow', [h, g.float(`${act}/three`, [3])]), g.float(`${act}/coef`, [0.044715])]);
    const inner = g.op(act, 'Mul', [g.op(act, 'Add', [h, cubic]), g.float(`${act}/sqrt_2_over_pi`, [Math.sqrt(2 / Math.PI)])]);
    const gelu = g.op(act, 'Mul', [g.op(act, 'Mul', [h, g.float(`${act}/half`, [0.5])]), g.op(act, 'Add', [g.op(act, 'Tanh', [inner]), g.float(`${act}/one`, [1])])]);
    x = g.op(s, 'Add', [afterAttention, conv1d(`${mlp}/c_proj`, `${p}.mlp.c_proj`, gelu, m, d, residualStd)]);
  }

  const final = layerNorm('/transformer/ln_f', 'transformer.ln_f', x);
  const transposed = g.op('/lm_head', 'Transpose', [wte], { attrs: { perm: [1, 0] } });
  g.op('/lm_head', 'MatMul', [final, transposed], { outputs: ['logits'] });

  return {
    irVersion: 8,
    producerName: producer,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'main_graph', node: g.nodes, initializer: g.initializers, input: cacheGraphInputs(shape), output: cacheGraphOutputs(shape), valueInfo: [] },
  };
}
