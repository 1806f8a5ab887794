// How many bytes a quantized weight takes, from its shape and format alone: the number to compare
// formats by before anything is written, and the one measured file sizes are checked against
// (docs/quantized-export.md). Any bit width, any group size: the codes packed densely, one scale
// per group, one zero point per group when asymmetric, an int32 group index per input column
// when act-order groups are stored (g_idx). Runtime layouts add at most a few bytes per row on
// top: MatMulNBits pads a short last block and starts each row's zero points on a byte.
import { dtypeInfo } from '../../onnx/dtypes.ts';
import { tensorDims } from '../../onnx/tensor.ts';
import type { ModelProto, TensorProto } from '../../onnx/types.ts';
import type { LinearLayer } from '../../model/types.ts';
import type { QuantizedWeight } from '../types.ts';

export interface PackedFormat {
  rows: number;
  cols: number;
  bits: number;
  groupSize: number;
  symmetric: boolean;
  hasGroupIndex: boolean;
  /** Bits of one scale: 32 (float32, the default), 16, or 8 (MX formats' E8M0). */
  scaleBits?: number;
  /** Bits of one zero point (default: bits, packed like the codes). */
  zeroPointBits?: number;
}

export interface PackedBytes {
  weights: number;
  scales: number;
  zeroPoints: number;
  groupIndex: number;
  total: number;
}

const bytesOf = (bits: number) => Math.ceil(bits / 8);

/** Analytic bytes of one quantized weight (rows = C_out, cols = C_in, groups along C_in). */
export function analyticPackedBytes(format: PackedFormat): PackedBytes {
  const { rows, cols, bits, groupSize, symmetric, hasGroupIndex } = format;
  const groups = rows * Math.ceil(cols / groupSize);
  const weights = bytesOf(rows * cols * bits);
  const scales = bytesOf(groups * (format.scaleBits ?? 32));
  const zeroPoints = symmetric ? 0 : bytesOf(groups * (format.zeroPointBits ?? bits));
  const groupIndex = hasGroupIndex ? cols * 4 : 0;
  return { weights, scales, zeroPoints, groupIndex, total: weights + scales + zeroPoints + groupIndex };
}

/** The format a QuantizedWeight is in. */
export function formatOf(q: QuantizedWeight): PackedFormat {
  return { rows: q.rows, cols: q.cols, bits: q.bits, groupSize: q.groupSize, symmetric: q.symmetric, hasGroupIndex: q.groupIndex !== undefined };
}

/** Bytes of a tensor's values as stored (from dims and type; external data counted the same). */
export function storedTensorBytes(tensor: TensorProto): number {
  const bits = dtypeInfo(tensor.dataType ?? 0)?.bits ?? 0;
  return bytesOf(tensorDims(tensor).reduce((a, b) => a * b, 1) * bits);
}

export interface ModelSizeEstimate {
  /** The quantized layers' analytic bytes, summed. */
  packed: PackedBytes;
  /** Bytes of the float weights the quantized layers replace (weights other nodes read stay). */
  replacedBytes: number;
  /** The model as stored, less the replaced weights: everything kept as it is. */
  restBytes: number;
  total: number;
}

const sum = (parts: readonly PackedBytes[]): PackedBytes => {
  const total: PackedBytes = { weights: 0, scales: 0, zeroPoints: 0, groupIndex: 0, total: 0 };
  for (const p of parts) for (const key of Object.keys(total) as (keyof PackedBytes)[]) total[key] += p[key];
  return total;
};

/**
 * Analytic size of a model whose `layers` are stored quantized: their packed bytes plus the rest
 * of the file as it is stored now (`storedBytes`, the .onnx file's length: graph, names, every
 * other initializer). A weight that other nodes also read (a tied embedding) is not replaced.
 */
export function analyticModelBytes(
  model: ModelProto,
  storedBytes: number,
  layers: readonly { layer: LinearLayer; format: PackedFormat }[],
): ModelSizeEstimate {
  const initializers = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  let replacedBytes = 0;
  for (const { layer } of layers) {
    const tensor = initializers.get(layer.weight);
    if (tensor && layer.sharedWith.length === 0) replacedBytes += storedTensorBytes(tensor);
  }
  const packed = sum(layers.map(({ format }) => analyticPackedBytes(format)));
  const restBytes = storedBytes - replacedBytes;
  return { packed, replacedBytes, restBytes, total: restBytes + packed.total };
}
