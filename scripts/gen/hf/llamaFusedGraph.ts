// `--fused`: the Llama-style decoder as ONNX Runtime's tools leave it (onnxruntime-genai's model
// builder, builder.py make_group_query_attention: the GQA input order and attributes are its):
// SimplifiedLayerNormalization for the first RMSNorm, com.microsoft SkipSimplifiedLayerNormalization
// for every later one (residual add + RMSNorm, the running sum as output 3), and one com.microsoft
// GroupQueryAttention per block that applies the rotary embedding itself (do_rotary, cos/sin caches
// [max positions, hd/2]), appends to the cache and masks causally. The q/k/v/o and MLP projections
// stay MatMuls (+ Qwen2's q/k/v biases), so weight compression still applies. Same inputs and
// outputs as the unfused graph; GQA reads positions from seqlens_k = Σ attention_mask − 1, so, like
// ORT's GQA, it serves unpadded (or right-padded) batches, and position_ids is accepted but unused.
import { DataType, type ModelProto } from '../../../src/core/onnx/types.ts';
import { cacheGraphInputs, cacheGraphOutputs } from './cacheAttention.ts';
import { GraphBuilder } from './graphBuilder.ts';
import { biasInit, normInit, type GraphOptions } from './llamaGraph.ts';
import { headDim, type DecoderShape } from './presets.ts';
import type { WeightSink } from './weights.ts';

const MS = 'com.microsoft';

export function buildLlamaFusedGraph(shape: DecoderShape, weights: WeightSink, { producer, std, perturbStd }: GraphOptions): ModelProto {
  const g = new GraphBuilder();
  const { hidden: d, heads, kvHeads, intermediate: m, vocab } = shape;
  const hd = headDim(shape);
  const linear = (scope: string, param: string, x: string, inF: number, outF: number, bias: boolean): string => {
    const w = g.add(weights.float(`${param}.weight`, [inF, outF], { normal: std }));
    const y = g.op(scope, 'MatMul', [x, w]);
    return bias ? g.op(scope, 'Add', [g.add(weights.float(`${param}.bias`, [outF], biasInit(perturbStd))), y]) : y;
  };
  const norm = (param: string) => g.add(weights.float(`${param}.weight`, [d], normInit(perturbStd)));
  /** SkipSimplifiedLayerNormalization(x, residual): [normalised, running sum]. */
  const skipNorm = (scope: string, param: string, x: string, residual: string): [string, string] => {
    const name = `${scope}/SkipSimplifiedLayerNormalization`;
    const outputs = [`${name}_output_0`, '', '', `${name}_output_3`];
    g.nodes.push({ opType: 'SkipSimplifiedLayerNormalization', domain: MS, name, input: [x, residual, norm(param)], output: outputs, attribute: [{ name: 'epsilon', type: 1, f: shape.normEps }] });
    return [outputs[0], outputs[3]];
  };

  const embedding = g.add(weights.float('model.embed_tokens.weight', [vocab, d], { normal: std }));
  const embedded = g.op('/model/embed_tokens', 'Gather', [embedding, 'input_ids']);

  // What GQA needs besides q/k/v: per-row key counts − 1 and the total length, int32; cos/sin tables.
  const seqlensK = g.op('/model', 'Cast', [g.op('/model', 'Sub', [g.op('/model', 'ReduceSum', ['attention_mask', g.int64('/model/axis_1', [1])], { attrs: { keepdims: 0 } }), g.int64('/model/one', [1], true)])], { attrs: { to: DataType.INT32 } });
  const total = g.op('/model', 'Cast', [g.op('/model', 'Gather', [g.op('/model', 'Shape', ['attention_mask']), '/model/one'], { attrs: { axis: 0 } })], { attrs: { to: DataType.INT32 } });
  const invFreq = Array.from({ length: hd / 2 }, (_, j) => 1 / shape.ropeTheta ** ((2 * j) / hd));
  const table = (f: (a: number) => number) => Array.from({ length: shape.maxPositions * (hd / 2) }, (_, i) => f(Math.floor(i / (hd / 2)) * invFreq[i % (hd / 2)]));
  const cosCache = g.float('/model/rotary_emb/cos_cache', table(Math.cos), [shape.maxPositions, hd / 2]);
  const sinCache = g.float('/model/rotary_emb/sin_cache', table(Math.sin), [shape.maxPositions, hd / 2]);

  let normalised = g.op('/model/layers.0/input_layernorm', 'SimplifiedLayerNormalization', [embedded, norm('model.layers.0.input_layernorm')], { attrs: { axis: -1, epsilon: shape.normEps } });
  let residual = embedded;
  for (let i = 0; i < shape.layers; i++) {
    const s = `/model/layers.${i}`;
    const p = `model.layers.${i}`;
    const a = `${s}/self_attn`;
    const q = linear(`${a}/q_proj`, `${p}.self_attn.q_proj`, normalised, d, heads * hd, shape.qkvBias);
    const k = linear(`${a}/k_proj`, `${p}.self_attn.k_proj`, normalised, d, kvHeads * hd, shape.qkvBias);
    const v = linear(`${a}/v_proj`, `${p}.self_attn.v_proj`, normalised, d, kvHeads * hd, shape.qkvBias);
    const gqa = `${a}/GroupQueryAttention`;
    g.nodes.push({
      opType: 'GroupQueryAttention', domain: MS, name: gqa,
      input: [q, k, v, `past_key_values.${i}.key`, `past_key_values.${i}.value`, seqlensK, total, cosCache, sinCache],
      output: [`${gqa}_output_0`, `present.${i}.key`, `present.${i}.value`],
      attribute: [
        { name: 'num_heads', type: 2, i: heads }, { name: 'kv_num_heads', type: 2, i: kvHeads },
        { name: 'do_rotary', type: 2, i: 1 }, { name: 'rotary_interleaved', type: 2, i: 0 },
        { name: 'scale', type: 1, f: 1 / Math.sqrt(hd) },
      ],
    });
    const attnOut = linear(`${a}/o_proj`, `${p}.self_attn.o_proj`, `${gqa}_output_0`, heads * hd, d, false);
    [normalised, residual] = skipNorm(`${s}/post_attention_layernorm`, `${p}.post_attention_layernorm`, attnOut, residual);
    const mlp = `${s}/mlp`;
    const gate = linear(`${mlp}/gate_proj`, `${p}.mlp.gate_proj`, normalised, d, m, false);
    const silu = g.op(`${mlp}/act_fn`, 'Mul', [gate, g.op(`${mlp}/act_fn`, 'Sigmoid', [gate])]);
    const up = linear(`${mlp}/up_proj`, `${p}.mlp.up_proj`, normalised, d, m, false);
    const down = linear(`${mlp}/down_proj`, `${p}.mlp.down_proj`, g.op(mlp, 'Mul', [silu, up]), m, d, false);
    const next = i + 1 < shape.layers ? [`${`/model/layers.${i + 1}`}/input_layernorm`, `model.layers.${i + 1}.input_layernorm`] : ['/model/norm', 'model.norm'];
    [normalised, residual] = skipNorm(next[0], next[1], down, residual);
  }

  if (shape.tied) {
    g.op('/lm_head', 'MatMul', [normalised, g.op('/lm_head', 'Transpose', [embedding], { attrs: { perm: [1, 0] } })], { outputs: ['logits'] });
  } else {
    g.op('/lm_head', 'MatMul', [normalised, g.add(weights.float('lm_head.weight', [d, vocab], { normal: std }))], { outputs: ['logits'] });
  }
  return {
    irVersion: 8,
    producerName: producer,
    opsetImport: [{ domain: '', version: 17 }, { domain: MS, version: 1 }],
    graph: { name: 'main_graph', node: g.nodes, initializer: g.initializers, input: cacheGraphInputs(shape), output: cacheGraphOutputs(shape), valueInfo: [] },
  };
}
