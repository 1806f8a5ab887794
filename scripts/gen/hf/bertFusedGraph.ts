// `--fused` for BERT: the shape ONNX Runtime's transformer optimizer gives BertForMaskedLM
// (onnxruntime/python/tools/transformers/onnx_model_bert.py: fusion_embedlayer, fusion_attention,
// fusion_skiplayernorm, fusion_biasgelu): com.microsoft EmbedLayerNormalization (word + position +
// token type + LayerNorm, int32 ids, the mask turned into per-row key counts), one com.microsoft
// Attention per block holding q/k/v as a single [d, 3d] weight and [3d] bias (the projections are
// kernel inputs, not MatMuls), SkipLayerNormalization taking each dense layer's bias, and BiasGelu.
// Same inputs and outputs as the unfused graph; the Attention's 1-D mask index assumes right
// padding, as BERT's tokenizers pad.
import { DataType, type ModelProto, type ValueInfoProto } from '../../../src/core/onnx/types.ts';
import { tensorValue } from '../../../src/core/model/testGraphs.ts';
import type { EncoderShape } from './encoderPresets.ts';
import { GraphBuilder } from './graphBuilder.ts';
import { biasInit, normInit, type GraphOptions } from './llamaGraph.ts';
import type { WeightSink } from './weights.ts';

const MS = 'com.microsoft';

export function buildBertFusedGraph(shape: EncoderShape, weights: WeightSink, { producer, std, perturbStd }: GraphOptions): ModelProto {
  const g = new GraphBuilder();
  const { hidden: d, heads, intermediate: m } = shape;
  const ms = (name: string, opType: string, input: string[], output: string[], attrs: { name: string; type: number; i?: number; f?: number }[] = []) =>
    g.nodes.push({ opType, domain: MS, name, input, output, attribute: attrs });
  const ln = (param: string) => [g.add(weights.float(`${param}.weight`, [d], normInit(perturbStd))), g.add(weights.float(`${param}.bias`, [d], biasInit(perturbStd)))];
  const matmul = (scope: string, param: string, x: string, inF: number, outF: number): [string, string] => {
    const w = g.add(weights.float(`${param}.weight`, [inF, outF], { normal: std }));
    const y = g.op(scope, 'MatMul', [x, w]);
    return [y, g.add(weights.float(`${param}.bias`, [outF], biasInit(perturbStd)))];
  };
  /** SkipLayerNormalization(x, residual, γ, β, bias): the dense layer's bias, the residual add and the LayerNorm in one. */
  const skipNorm = (scope: string, param: string, x: string, residual: string, bias: string): string => {
    const name = `${scope}/SkipLayerNormalization`;
    ms(name, 'SkipLayerNormalization', [x, residual, ...ln(param), bias], [`${name}_output_0`], [{ name: 'epsilon', type: 1, f: shape.normEps }]);
    return `${name}_output_0`;
  };

  const e = '/bert/embeddings';
  const words = g.add(weights.float('bert.embeddings.word_embeddings.weight', [shape.vocab, d], { normal: std }));
  const positions = g.add(weights.float('bert.embeddings.position_embeddings.weight', [shape.maxPositions, d], { normal: std }));
  const types = g.add(weights.float('bert.embeddings.token_type_embeddings.weight', [shape.typeVocab, d], { normal: std }));
  const int32 = (name: string) => g.op(e, 'Cast', [name], { attrs: { to: DataType.INT32 } });
  const embedName = `${e}/EmbedLayerNormalization`;
  ms(embedName, 'EmbedLayerNormalization', [int32('input_ids'), int32('token_type_ids'), words, positions, types, ...ln('bert.embeddings.LayerNorm'), int32('attention_mask')],
    [`${embedName}_output_0`, `${embedName}_mask_index`], [{ name: 'epsilon', type: 1, f: shape.normEps }]);
  let x = `${embedName}_output_0`;

  for (let i = 0; i < shape.layers; i++) {
    const s = `/bert/encoder/layer.${i}`;
    const p = `bert.encoder.layer.${i}`;
    // q, k, v drawn in the unfused graph's order, then laid side by side: W [d, 3d], b [3d].
    const parts = (['query', 'key', 'value'] as const).map(() => ({ w: weights.draw(d * d, { normal: std }), b: weights.draw(d, biasInit(perturbStd)) }));
    const qkv = new Float32Array(d * 3 * d);
    for (let r = 0; r < d; r++) parts.forEach((part, j) => qkv.set(part.w.subarray(r * d, (r + 1) * d), r * 3 * d + j * d));
    const qkvWeight = g.add(weights.emit(`${p}.attention.self.qkv.weight`, [d, 3 * d], qkv));
    const qkvBias = g.add(weights.emit(`${p}.attention.self.qkv.bias`, [3 * d], Float32Array.from(parts.flatMap((part) => [...part.b]))));
    const attention = `${s}/attention/self/Attention`;
    ms(attention, 'Attention', [x, qkvWeight, qkvBias, `${embedName}_mask_index`], [`${attention}_output_0`], [{ name: 'num_heads', type: 2, i: heads }]);
    const [dense, denseBias] = matmul(`${s}/attention/output/dense`, `${p}.attention.output.dense`, `${attention}_output_0`, d, d);
    const attended = skipNorm(`${s}/attention/output/LayerNorm`, `${p}.attention.output.LayerNorm`, dense, x, denseBias);
    const [up, upBias] = matmul(`${s}/intermediate/dense`, `${p}.intermediate.dense`, attended, d, m);
    const gelu = `${s}/intermediate/BiasGelu`;
    ms(gelu, 'BiasGelu', [up, upBias], [`${gelu}_output_0`]);
    const [down, downBias] = matmul(`${s}/output/dense`, `${p}.output.dense`, `${gelu}_output_0`, m, d);
    x = skipNorm(`${s}/output/LayerNorm`, `${p}.output.LayerNorm`, down, attended, downBias);
  }

  const t = '/cls/predictions/transform';
  const [dense, denseBias] = matmul(`${t}/dense`, 'cls.predictions.transform.dense', x, d, d);
  const gelu = `${t}/BiasGelu`;
  ms(gelu, 'BiasGelu', [dense, denseBias], [`${gelu}_output_0`]);
  const transformed = g.op(`${t}/LayerNorm`, 'LayerNormalization', [`${gelu}_output_0`, ...ln('cls.predictions.transform.LayerNorm')], { attrs: { axis: -1, epsilon: shape.normEps } });
  const decoderBias = g.add(weights.float('cls.predictions.bias', [shape.vocab], biasInit(perturbStd)));
  const decoder = '/cls/predictions/decoder';
  g.op(decoder, 'Add', [g.op(decoder, 'MatMul', [transformed, g.op(decoder, 'Transpose', [words], { attrs: { perm: [1, 0] } })]), decoderBias], { outputs: ['logits'] });

  const ids = (name: string): ValueInfoProto => tensorValue(name, DataType.INT64, ['batch_size', 'sequence_length']);
  return {
    irVersion: 8,
    producerName: producer,
    opsetImport: [{ domain: '', version: 17 }, { domain: MS, version: 1 }],
    graph: {
      name: 'main_graph', node: g.nodes, initializer: g.initializers,
      input: [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')],
      output: [tensorValue('logits', DataType.FLOAT, ['batch_size', 'sequence_length', shape.vocab])],
      valueInfo: [],
    },
  };
}
