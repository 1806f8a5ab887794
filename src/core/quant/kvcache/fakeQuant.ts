// Dynamic fake quantization as standard ONNX nodes: the scale (and zero point) computed in the
// graph from the values that share it, then QuantizeLinear → DequantizeLinear with `block_size`
// (opset 21, blocked quantization: the scale has the input's rank, size 1 on the block axis). ORT
// web's WASM provider runs it with a non-constant scale and 4-bit types (int4/uint4), checked by
// kvcache.test.ts. The quantizer is QuaRot's ActQuantizer (spcl/QuaRot quant_utils.py, as QUIK's
// quant.py), the one COMET's W4A4KV4 question and IntactKV use for K/V:
//   symmetric   qmax = 2^(b−1) − 1, scale = max|x| / qmax (1 where max|x| = 0), zero point 0,
//               codes in int4/int8 (saturating at [−2^(b−1), 2^(b−1) − 1], as torch.clamp)
//   asymmetric  maxq = 2^b − 1, xmin = min(min x, 0), xmax = max(max x, 0) ([−1, 1] when both are
//               0), scale = (xmax − xmin)/maxq, zero = round(−xmin/scale), codes in uint4/uint8
// QuantizeLinear computes saturate(round(x/scale) + zero) with round half to even, and
// DequantizeLinear (q − zero)·scale: the reference's clamp(round(x/scale) + zero, 0, maxq) and
// scale·(q − zero). ONNX Runtime keeps the values in float32: the quantization is SIMULATED.
import { AttributeType, DataType, type GraphProto, type NodeProto } from '../../onnx/types.ts';
import { floatTensor, int64Tensor, intAttribute, uniqueName } from '../export/graphEdit.ts';

/** The opset blocked QuantizeLinear/DequantizeLinear and int4/uint4 need. */
export const FAKE_QUANT_OPSET = 21;

export interface FakeQuantSpec {
  bits: 4 | 8;
  symmetric: boolean;
  /** The axis whose values share one scale (negative: from the back), of `blockSize` elements. */
  axis: number;
  blockSize: number;
  /** Further axes whose values share the scale too (per head: the token axis); reduced, then broadcast back. */
  sharedAxes?: number[];
}

/** Where new nodes go: appended to `nodes`, names unique in `taken`, prefixed by `base`. */
export interface GraphEmitter {
  graph: GraphProto;
  taken: Set<string>;
  nodes: NodeProto[];
  base: string;
}

export function emitNode(e: GraphEmitter, opType: string, inputs: string[], suffix: string, attribute: NodeProto['attribute'] = []): string {
  const output = uniqueName(e.taken, `${e.base}/${suffix}`);
  e.nodes.push({ opType, name: output, input: inputs, output: [output], ...(attribute.length ? { attribute } : {}) });
  return output;
}

export function floatConstant(e: GraphEmitter, suffix: string, value: number): string {
  const name = uniqueName(e.taken, `${e.base}/${suffix}`);
  e.graph.initializer!.push(floatTensor(name, [], Float32Array.of(value)));
  return name;
}

export function int64Constant(e: GraphEmitter, suffix: string, values: readonly number[]): string {
  const name = uniqueName(e.taken, `${e.base}/${suffix}`);
  e.graph.initializer!.push(int64Tensor(name, values));
  return name;
}

const keep = { name: 'keepdims', type: AttributeType.INT, i: 1 };

/** Reduce over `axes` (opset ≥ 18: axes as an input), then, with shared axes, over those too and broadcast back. */
function reduceShared(e: GraphEmitter, opType: 'ReduceMax' | 'ReduceMin', x: string, spec: FakeQuantSpec, tag: string): string {
  const cell = emitNode(e, opType, [x, int64Constant(e, `${tag}_axes`, [spec.axis])], tag, [keep]);
  if (!spec.sharedAxes?.length) return cell;
  const shared = emitNode(e, opType, [cell, int64Constant(e, `${tag}_shared_axes`, spec.sharedAxes)], `${tag}_shared`, [keep]);
  return emitNode(e, 'Expand', [shared, emitNode(e, 'Shape', [cell], `${tag}_shape`)], `${tag}_expanded`);
}

/**
 * QuantizeLinear → DequantizeLinear of x with its scale (and zero point), blocked along spec.axis.
 * When the block axis is the last one, x and its scales are flattened to [−1, block] first and the
 * result reshaped back: ORT's transpose optimizer (basic level, 1.30) pushes a Transpose through
 * a blocked QuantizeLinear without transposing its non-constant scale, and the session then fails
 * ("x_scale and x must have the same shape"); it does not push a Transpose through a Reshape.
 */
function quantDequant(e: GraphEmitter, x: string, spec: FakeQuantSpec, scale: string, zeroFloat: string | undefined, codeType: number): string {
  const qArgs = (v: string, s: string, z: string | undefined) => (z === undefined ? [v, s] : [v, s, z]);
  // The zero point is cast to the code type last: ORT has no Reshape for uint4.
  const cast = (z: string) => emitNode(e, 'Cast', [z], 'zero_point', [intAttribute('to', codeType)]);
  if (spec.axis !== -1) {
    const zeroPoint = zeroFloat === undefined ? undefined : cast(zeroFloat);
    const blocked = [intAttribute('axis', spec.axis), intAttribute('block_size', spec.blockSize)];
    const codes = emitNode(e, 'QuantizeLinear', qArgs(x, scale, zeroPoint), 'codes', [...blocked, ...(zeroPoint === undefined ? [intAttribute('output_dtype', codeType)] : [])]);
    return emitNode(e, 'DequantizeLinear', qArgs(codes, scale, zeroPoint), 'dequantized', blocked);
  }
  const rows = int64Constant(e, 'rows_shape', [-1, spec.blockSize]);
  const cells = int64Constant(e, 'cells_shape', [-1, 1]);
  const flat = emitNode(e, 'Reshape', [x, rows], 'flat');
  const flatScale = emitNode(e, 'Reshape', [scale, cells], 'flat_scale');
  const flatZero = zeroFloat === undefined ? undefined : cast(emitNode(e, 'Reshape', [zeroFloat, cells], 'flat_zero'));
  const blocked = [intAttribute('axis', 1), intAttribute('block_size', spec.blockSize)];
  const codes = emitNode(e, 'QuantizeLinear', qArgs(flat, flatScale, flatZero), 'codes', [...blocked, ...(flatZero === undefined ? [intAttribute('output_dtype', codeType)] : [])]);
  const dequantized = emitNode(e, 'DequantizeLinear', qArgs(codes, flatScale, flatZero), 'dequantized_flat', blocked);
  return emitNode(e, 'Reshape', [dequantized, emitNode(e, 'Shape', [x], 'shape')], 'dequantized');
}

/** Emits the fake quantization of `x`; returns the name of the dequantized tensor. */
export function emitFakeQuant(e: GraphEmitter, x: string, spec: FakeQuantSpec): string {
  const zero = floatConstant(e, 'zero', 0);
  if (spec.symmetric) {
    const qmax = 2 ** (spec.bits - 1) - 1;
    const absMax = reduceShared(e, 'ReduceMax', emitNode(e, 'Abs', [x], 'abs'), spec, 'absmax');
    const raw = emitNode(e, 'Div', [absMax, floatConstant(e, 'qmax', qmax)], 'scale_raw');
    const scale = emitNode(e, 'Where', [emitNode(e, 'Equal', [absMax, zero], 'empty'), floatConstant(e, 'one', 1), raw], 'scale');
    return quantDequant(e, x, spec, scale, undefined, spec.bits === 4 ? DataType.INT4 : DataType.INT8);
  }
  const maxq = 2 ** spec.bits - 1;
  const lo = emitNode(e, 'Min', [reduceShared(e, 'ReduceMin', x, spec, 'min'), zero], 'xmin');
  const hi = emitNode(e, 'Max', [reduceShared(e, 'ReduceMax', x, spec, 'max'), zero], 'xmax');
  const empty = emitNode(e, 'And', [emitNode(e, 'Equal', [lo, zero], 'lo0'), emitNode(e, 'Equal', [hi, zero], 'hi0')], 'empty');
  const lo1 = emitNode(e, 'Where', [empty, floatConstant(e, 'minus_one', -1), lo], 'xmin1');
  const hi1 = emitNode(e, 'Where', [empty, floatConstant(e, 'one', 1), hi], 'xmax1');
  const scale = emitNode(e, 'Div', [emitNode(e, 'Sub', [hi1, lo1], 'range'), floatConstant(e, 'maxq', maxq)], 'scale');
  const zeroFloat = emitNode(e, 'Round', [emitNode(e, 'Div', [emitNode(e, 'Neg', [lo1], 'neg_xmin'), scale], 'zero_raw')], 'zero_round');
  return quantDequant(e, x, spec, scale, zeroFloat, spec.bits === 4 ? DataType.UINT4 : DataType.UINT8);
}
