// Encoders as Optimum exports them, unfused, opset 17: BertForMaskedLM for fill-mask
// (transformers/models/bert/modeling_bert.py: word + position + token-type embeddings, post-LN
// blocks, the additive mask (1 − attention_mask)·finfo.min, erf GELU, the MLM head with its
// decoder tied to the word embeddings) and ViTForImageClassification (modeling_vit.py: Conv patch
// embedding, CLS token, position embeddings, pre-LN blocks, classifier on the CLS token).
// Linear weights [in, out] under their parameter names; nodes under their module scopes.
import { DataType, type ModelProto, type ValueInfoProto } from '../../../src/core/onnx/types.ts';
import { tensorValue } from '../../../src/core/model/testGraphs.ts';
import { splitHeads } from './cacheAttention.ts';
import type { EncoderShape } from './encoderPresets.ts';
import { FLOAT32_MIN, GraphBuilder } from './graphBuilder.ts';
import { biasInit, normInit, type GraphOptions } from './llamaGraph.ts';
import type { WeightSink } from './weights.ts';

function encoderParts(g: GraphBuilder, shape: EncoderShape, weights: WeightSink, { std, perturbStd }: GraphOptions) {
  const { hidden: d, heads } = shape;
  const hd = d / heads;
  const linear = (scope: string, param: string, x: string, inF: number, outF: number): string => {
    const w = g.add(weights.float(`${param}.weight`, [inF, outF], { normal: std }));
    const b = g.add(weights.float(`${param}.bias`, [outF], biasInit(perturbStd)));
    return g.op(scope, 'Add', [b, g.op(scope, 'MatMul', [x, w])]);
  };
  const layerNorm = (scope: string, param: string, x: string): string => {
    const w = g.add(weights.float(`${param}.weight`, [d], normInit(perturbStd)));
    const b = g.add(weights.float(`${param}.bias`, [d], biasInit(perturbStd)));
    return g.op(scope, 'LayerNormalization', [x, w, b], { attrs: { axis: -1, epsilon: shape.normEps } });
  };
  // GELU (exact, "gelu"): x · ½ · (1 + erf(x / √2)), as torch exports it at opset 17.
  const gelu = (scope: string, x: string): string => {
    const erf = g.op(scope, 'Erf', [g.op(scope, 'Div', [x, g.float(`${scope}/sqrt2`, [Math.SQRT2])])]);
    return g.op(scope, 'Mul', [g.op(scope, 'Mul', [x, g.op(scope, 'Add', [erf, g.float(`${scope}/one`, [1])])]), g.float(`${scope}/half`, [0.5])]);
  };
  /** Self-attention over the whole sequence: q/k/v (with biases), scores/√hd (+ mask), Softmax, ·V, merged heads. */
  const selfAttention = (scope: string, param: string, x: string, mask: string | null): string => {
    const [q, k, v] = (['query', 'key', 'value'] as const).map((p) => splitHeads(g, scope, linear(`${scope}/${p}`, `${param}.${p}`, x, d, d), heads, hd, p));
    const scores = g.op(scope, 'Div', [g.op(scope, 'MatMul', [q, g.op(scope, 'Transpose', [k], { attrs: { perm: [0, 1, 3, 2] } })]), g.float(`${scope}/scale`, [Math.sqrt(hd)])]);
    const probs = g.op(scope, 'Softmax', [mask ? g.op(scope, 'Add', [scores, mask]) : scores], { attrs: { axis: -1 } });
    const context = g.op(scope, 'Transpose', [g.op(scope, 'MatMul', [probs, v])], { attrs: { perm: [0, 2, 1, 3] } });
    return g.op(scope, 'Reshape', [context, g.int64(`${scope}/merge_shape`, [0, 0, d])]);
  };
  return { linear, layerNorm, gelu, selfAttention };
}

function modelProto(g: GraphBuilder, producer: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[]): ModelProto {
  return { irVersion: 8, producerName: producer, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'main_graph', node: g.nodes, initializer: g.initializers, input: inputs, output: outputs, valueInfo: [] } };
}

export function buildBertGraph(shape: EncoderShape, weights: WeightSink, options: GraphOptions): ModelProto {
  const g = new GraphBuilder();
  const { linear, layerNorm, gelu, selfAttention } = encoderParts(g, shape, weights, options);
  const { hidden: d, intermediate: m } = shape;
  const e = '/bert/embeddings';
  const words = g.add(weights.float('bert.embeddings.word_embeddings.weight', [shape.vocab, d], { normal: options.std }));
  const positionsTable = g.add(weights.float('bert.embeddings.position_embeddings.weight', [shape.maxPositions, d], { normal: options.std }));
  const types = g.add(weights.float('bert.embeddings.token_type_embeddings.weight', [shape.typeVocab, d], { normal: options.std }));
  // position_ids = arange(seq)[None]: the registered buffer, sliced to the sequence.
  const seq = g.op(e, 'Gather', [g.op(e, 'Shape', ['input_ids']), g.int64(`${e}/one`, [1], true)], { attrs: { axis: 0 } });
  const positions = g.op(e, 'Unsqueeze', [g.op(e, 'Range', [g.int64(`${e}/zero`, [0], true), seq, `${e}/one`]), g.int64(`${e}/axis_0`, [0])]);
  const summed = g.op(e, 'Add', [
    g.op(e, 'Add', [g.op(`${e}/word_embeddings`, 'Gather', [words, 'input_ids']), g.op(`${e}/token_type_embeddings`, 'Gather', [types, 'token_type_ids'])]),
    g.op(`${e}/position_embeddings`, 'Gather', [positionsTable, positions]),
  ]);
  let x = layerNorm(`${e}/LayerNorm`, 'bert.embeddings.LayerNorm', summed);
  // get_extended_attention_mask: (1 − mask[:, None, None, :]) · finfo.min.
  const keep = g.op('/bert', 'Cast', [g.op('/bert', 'Unsqueeze', ['attention_mask', g.int64('/bert/axes_1_2', [1, 2])])], { attrs: { to: DataType.FLOAT } });
  const mask = g.op('/bert', 'Mul', [g.op('/bert', 'Sub', [g.float('/bert/one', [1]), keep]), g.float('/bert/min', [FLOAT32_MIN])]);

  for (let i = 0; i < shape.layers; i++) {
    const s = `/bert/encoder/layer.${i}`;
    const p = `bert.encoder.layer.${i}`;
    const context = selfAttention(`${s}/attention/self`, `${p}.attention.self`, x, mask);
    const attended = layerNorm(`${s}/attention/output/LayerNorm`, `${p}.attention.output.LayerNorm`, g.op(`${s}/attention/output`, 'Add', [linear(`${s}/attention/output/dense`, `${p}.attention.output.dense`, context, d, d), x]));
    const h = gelu(`${s}/intermediate/intermediate_act_fn`, linear(`${s}/intermediate/dense`, `${p}.intermediate.dense`, attended, d, m));
    x = layerNorm(`${s}/output/LayerNorm`, `${p}.output.LayerNorm`, g.op(`${s}/output`, 'Add', [linear(`${s}/output/dense`, `${p}.output.dense`, h, m, d), attended]));
  }

  const t = '/cls/predictions/transform';
  const transformed = layerNorm(`${t}/LayerNorm`, 'cls.predictions.transform.LayerNorm', gelu(`${t}/transform_act_fn`, linear(`${t}/dense`, 'cls.predictions.transform.dense', x, d, d)));
  const decoderBias = g.add(weights.float('cls.predictions.bias', [shape.vocab], biasInit(options.perturbStd)));
  const decoder = '/cls/predictions/decoder';
  const scores = g.op(decoder, 'MatMul', [transformed, g.op(decoder, 'Transpose', [words], { attrs: { perm: [1, 0] } })]);
  g.op(decoder, 'Add', [scores, decoderBias], { outputs: ['logits'] });

  const ids = (name: string) => tensorValue(name, DataType.INT64, ['batch_size', 'sequence_length']);
  return modelProto(g, options.producer, [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')], [tensorValue('logits', DataType.FLOAT, ['batch_size', 'sequence_length', shape.vocab])]);
}

export function buildVitGraph(shape: EncoderShape, weights: WeightSink, options: GraphOptions): ModelProto {
  const g = new GraphBuilder();
  const { linear, layerNorm, gelu, selfAttention } = encoderParts(g, shape, weights, options);
  const { hidden: d, intermediate: m, patchSize: p, channels: c } = shape;
  const e = '/vit/embeddings';
  const kernel = g.add(weights.float('vit.embeddings.patch_embeddings.projection.weight', [d, c, p, p], { normal: options.std }));
  const kernelBias = g.add(weights.float('vit.embeddings.patch_embeddings.projection.bias', [d], biasInit(options.perturbStd)));
  const conv = g.op(`${e}/patch_embeddings/projection`, 'Conv', ['pixel_values', kernel, kernelBias], { attrs: { kernel_shape: [p, p], strides: [p, p] } });
  // flatten(2).transpose(1, 2): [b, d, h, w] → [b, patches, d].
  const patches = g.op(`${e}/patch_embeddings`, 'Transpose', [g.op(`${e}/patch_embeddings`, 'Reshape', [conv, g.int64(`${e}/flatten_shape`, [0, 0, -1])])], { attrs: { perm: [0, 2, 1] } });
  // cls_token.expand(batch, −1, −1): Expand broadcasts [1, 1, d] against [batch, 1, 1].
  const cls = g.add(weights.float('vit.embeddings.cls_token', [1, 1, d], { normal: options.std }));
  const batch = g.op(e, 'Unsqueeze', [g.op(e, 'Gather', [g.op(e, 'Shape', ['pixel_values']), g.int64(`${e}/zero`, [0], true)], { attrs: { axis: 0 } }), g.int64(`${e}/axis_0`, [0])]);
  const expandShape = g.op(e, 'Concat', [batch, g.int64(`${e}/ones`, [1, 1])], { attrs: { axis: 0 } });
  const tokens = g.op(e, 'Concat', [g.op(e, 'Expand', [cls, expandShape]), patches], { attrs: { axis: 1 } });
  const positions = g.add(weights.float('vit.embeddings.position_embeddings', [1, shape.maxPositions, d], { normal: options.std }));
  let x = g.op(e, 'Add', [tokens, positions]);

  for (let i = 0; i < shape.layers; i++) {
    const s = `/vit/encoder/layer.${i}`;
    const q = `vit.encoder.layer.${i}`;
    const context = selfAttention(`${s}/attention/attention`, `${q}.attention.attention`, layerNorm(`${s}/layernorm_before`, `${q}.layernorm_before`, x), null);
    const attended = g.op(s, 'Add', [linear(`${s}/attention/output/dense`, `${q}.attention.output.dense`, context, d, d), x]);
    const h = gelu(`${s}/intermediate/intermediate_act_fn`, linear(`${s}/intermediate/dense`, `${q}.intermediate.dense`, layerNorm(`${s}/layernorm_after`, `${q}.layernorm_after`, attended), d, m));
    x = g.op(s, 'Add', [linear(`${s}/output/dense`, `${q}.output.dense`, h, m, d), attended]);
  }
  const final = layerNorm('/vit/layernorm', 'vit.layernorm', x);
  const clsOut = g.op('/classifier', 'Gather', [final, g.int64('/classifier/cls_index', [0], true)], { attrs: { axis: 1 } });
  const w = g.add(weights.float('classifier.weight', [d, shape.labels], { normal: options.std }));
  const b = g.add(weights.float('classifier.bias', [shape.labels], biasInit(options.perturbStd)));
  g.op('/classifier', 'Add', [g.op('/classifier', 'MatMul', [clsOut, w]), b], { outputs: ['logits'] });

  const pixels = tensorValue('pixel_values', DataType.FLOAT, ['batch_size', 'num_channels', 'height', 'width']);
  return modelProto(g, options.producer, [pixels], [tensorValue('logits', DataType.FLOAT, ['batch_size', shape.labels])]);
}
