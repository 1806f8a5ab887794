// What every text-generation-with-past export shares: the inputs and outputs Optimum's
// exporter declares (optimum/exporters/onnx/config.py TextDecoderOnnxConfig and
// add_past_key_values: `past_key_values.{i}.key/value` in, `present.{i}.key/value` out with the
// sequence axis named "past_sequence_length + sequence_length"), the 4-D additive mask HF builds
// from the causal triangle and the attention_mask (modeling_attn_mask_utils, finfo.min where a
// key is blocked), and eager attention over the past keys and values.
import { DataType, type ValueInfoProto } from '../../../src/core/onnx/types.ts';
import { tensorValue } from '../../../src/core/model/testGraphs.ts';
import { FLOAT32_MIN, type GraphBuilder } from './graphBuilder.ts';
import { headDim, type DecoderShape } from './presets.ts';

const PAST = 'past_sequence_length';
const TOTAL = 'past_sequence_length + sequence_length';

export function cacheGraphInputs(shape: DecoderShape): ValueInfoProto[] {
  const kv = ['batch_size', shape.kvHeads, PAST, headDim(shape)];
  return [
    tensorValue('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
    tensorValue('attention_mask', DataType.INT64, ['batch_size', TOTAL]),
    tensorValue('position_ids', DataType.INT64, ['batch_size', 'sequence_length']),
    ...Array.from({ length: shape.layers }, (_, i) => [
      tensorValue(`past_key_values.${i}.key`, DataType.FLOAT, kv),
      tensorValue(`past_key_values.${i}.value`, DataType.FLOAT, kv),
    ]).flat(),
  ];
}

export function cacheGraphOutputs(shape: DecoderShape): ValueInfoProto[] {
  const kv = ['batch_size', shape.kvHeads, TOTAL, headDim(shape)];
  return [
    tensorValue('logits', DataType.FLOAT, ['batch_size', 'sequence_length', shape.vocab]),
    ...Array.from({ length: shape.layers }, (_, i) => [
      tensorValue(`present.${i}.key`, DataType.FLOAT, kv),
      tensorValue(`present.${i}.value`, DataType.FLOAT, kv),
    ]).flat(),
  ];
}

/**
 * The additive mask [batch, 1, seq, past + seq]: query i sits at position past + i and may see
 * keys 0 … past + i (the causal triangle, offset by the cache), and no key whose attention_mask
 * is 0 (padding). Blocked entries get finfo.min, as HF's _prepare_4d_causal_attention_mask does.
 */
export function causalMask(g: GraphBuilder, scope: string): string {
  const one = g.int64(`${scope}/one`, [1], true);
  const zero = g.int64(`${scope}/zero`, [0], true);
  const seq = g.op(scope, 'Gather', [g.op(scope, 'Shape', ['input_ids']), one], { attrs: { axis: 0 } });
  const total = g.op(scope, 'Gather', [g.op(scope, 'Shape', ['attention_mask']), one], { attrs: { axis: 0 } });
  const past = g.op(scope, 'Sub', [total, seq]);
  const queryPositions = g.op(scope, 'Unsqueeze', [g.op(scope, 'Range', [past, total, one]), g.int64(`${scope}/axis_1`, [1])]);
  const keyPositions = g.op(scope, 'Unsqueeze', [g.op(scope, 'Range', [zero, total, one]), g.int64(`${scope}/axis_0`, [0])]);
  const future = g.op(scope, 'Greater', [keyPositions, queryPositions]); // [seq, total]
  const padding = g.op(scope, 'Equal', ['attention_mask', g.int64(`${scope}/pad`, [0], true)]);
  const paddingKeys = g.op(scope, 'Unsqueeze', [padding, g.int64(`${scope}/axes_1_2`, [1, 2])]); // [batch, 1, 1, total]
  const blocked = g.op(scope, 'Or', [future, paddingKeys]); // [batch, 1, seq, total]
  return g.op(scope, 'Where', [blocked, g.float(`${scope}/min`, [FLOAT32_MIN]), g.float(`${scope}/zero_f`, [0])]);
}

/**
 * Q·Kᵀ attention over past + current keys for layer `layer`: k and v [b, kvHeads, seq, hd] are
 * appended to the cache (the present outputs), repeated to all heads when kvHeads < heads
 * (repeat_kv: Unsqueeze → Expand → Reshape), then scores = q·Kᵀ scaled, + mask, Softmax, ·V,
 * heads merged back to [b, seq, heads·hd].
 */
export function cachedAttention(
  g: GraphBuilder,
  scope: string,
  shape: DecoderShape,
  layer: number,
  parts: { q: string; k: string; v: string; mask: string; scale: 'Mul' | 'Div' },
): string {
  const hd = headDim(shape);
  const keys = g.op(scope, 'Concat', [`past_key_values.${layer}.key`, parts.k], { attrs: { axis: -2 }, outputs: [`present.${layer}.key`] });
  const values = g.op(scope, 'Concat', [`past_key_values.${layer}.value`, parts.v], { attrs: { axis: -2 }, outputs: [`present.${layer}.value`] });
  const repeat = (x: string, tag: string): string => {
    const groups = shape.heads / shape.kvHeads;
    if (groups === 1) return x;
    const widened = g.op(scope, 'Unsqueeze', [x, g.int64(`${scope}/repeat_axis_${tag}`, [2])]);
    const expanded = g.op(scope, 'Expand', [widened, g.int64(`${scope}/repeat_shape_${tag}`, [1, 1, groups, 1, 1])]);
    return g.op(scope, 'Reshape', [expanded, g.int64(`${scope}/repeat_merge_${tag}`, [0, shape.heads, -1, hd])]);
  };
  const repeatedKeys = repeat(keys, 'k');
  const repeatedValues = repeat(values, 'v');
  const keysT = g.op(scope, 'Transpose', [repeatedKeys], { attrs: { perm: [0, 1, 3, 2] } });
  const scores = g.op(scope, 'MatMul', [parts.q, keysT]);
  const scaled = parts.scale === 'Mul'
    ? g.op(scope, 'Mul', [scores, g.float(`${scope}/scaling`, [1 / Math.sqrt(hd)])])
    : g.op(scope, 'Div', [scores, g.float(`${scope}/scaling`, [Math.sqrt(hd)])]);
  const masked = g.op(scope, 'Add', [scaled, parts.mask]);
  const probs = g.op(scope, 'Softmax', [masked], { attrs: { axis: -1 } });
  const context = g.op(scope, 'MatMul', [probs, repeatedValues]);
  const merged = g.op(scope, 'Transpose', [context], { attrs: { perm: [0, 2, 1, 3] } });
  return g.op(scope, 'Reshape', [merged, g.int64(`${scope}/merge_shape`, [0, 0, shape.heads * hd])]);
}

/** Heads split: [b, seq, n·hd] → [b, n, seq, hd]. */
export function splitHeads(g: GraphBuilder, scope: string, x: string, heads: number, hd: number, tag: string): string {
  const reshaped = g.op(scope, 'Reshape', [x, g.int64(`${scope}/heads_${tag}`, [0, 0, heads, hd])]);
  return g.op(scope, 'Transpose', [reshaped], { attrs: { perm: [0, 2, 1, 3] } });
}
