// Small readers over the ONNX types that the analysis needs: dims, element types, int64 shape
// constants and node attributes. Private to src/core/model; they read only what the proto
// fields say and never decode bulk float payloads.
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type Int64,
  type NodeProto,
  type TensorProto,
  type TypeProto,
} from '../onnx/types.ts';
import type { Dim } from './types.ts';

export function int64ToNumber(value: Int64): number {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** Stored dims of a tensor, as numbers (a scalar has []). */
export function tensorDims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map(int64ToNumber);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

const DTYPE_NAMES: Record<number, string> = {
  [DataType.UNDEFINED]: 'undefined',
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.COMPLEX64]: 'complex64',
  [DataType.COMPLEX128]: 'complex128',
  [DataType.BFLOAT16]: 'bfloat16',
  [DataType.FLOAT8E4M3FN]: 'float8e4m3fn',
  [DataType.FLOAT8E4M3FNUZ]: 'float8e4m3fnuz',
  [DataType.FLOAT8E5M2]: 'float8e5m2',
  [DataType.FLOAT8E5M2FNUZ]: 'float8e5m2fnuz',
  [DataType.UINT4]: 'uint4',
  [DataType.INT4]: 'int4',
  [DataType.FLOAT4E2M1]: 'float4e2m1',
};

/** Bits per element; strings have no fixed size (0). */
const DTYPE_BITS: Record<number, number> = {
  [DataType.FLOAT]: 32, [DataType.UINT8]: 8, [DataType.INT8]: 8, [DataType.UINT16]: 16,
  [DataType.INT16]: 16, [DataType.INT32]: 32, [DataType.INT64]: 64, [DataType.BOOL]: 8,
  [DataType.FLOAT16]: 16, [DataType.DOUBLE]: 64, [DataType.UINT32]: 32, [DataType.UINT64]: 64,
  [DataType.COMPLEX64]: 64, [DataType.COMPLEX128]: 128, [DataType.BFLOAT16]: 16,
  [DataType.FLOAT8E4M3FN]: 8, [DataType.FLOAT8E4M3FNUZ]: 8, [DataType.FLOAT8E5M2]: 8,
  [DataType.FLOAT8E5M2FNUZ]: 8, [DataType.UINT4]: 4, [DataType.INT4]: 4, [DataType.FLOAT4E2M1]: 4,
};

const FLOAT_TYPES = new Set<number>([
  DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16, DataType.FLOAT8E4M3FN,
  DataType.FLOAT8E4M3FNUZ, DataType.FLOAT8E5M2, DataType.FLOAT8E5M2FNUZ, DataType.FLOAT4E2M1,
]);

export function dtypeName(code: number | undefined): string {
  return DTYPE_NAMES[code ?? 0] ?? `dtype${code}`;
}

export function isFloatType(code: number | undefined): boolean {
  return FLOAT_TYPES.has(code ?? 0);
}

/** Bytes the tensor's elements take in memory (sub-byte types packed), from dims alone. */
export function tensorByteSize(tensor: TensorProto): number {
  const bits = DTYPE_BITS[tensor.dataType ?? 0] ?? 0;
  if (bits === 0 && tensor.dataType === DataType.STRING) {
    return (tensor.stringData ?? []).reduce((sum, s) => sum + s.length, 0);
  }
  return Math.ceil((elementCount(tensorDims(tensor)) * bits) / 8);
}

/** Weights stored outside the .onnx file (TensorProto.DataLocation.EXTERNAL = 1). */
export function isExternal(tensor: TensorProto): boolean {
  return tensor.dataLocation === 1 || (tensor.externalData?.length ?? 0) > 0;
}

/** Integer values of a small INT64/INT32 tensor (shape constants), or null for other types. */
export function intValues(tensor: TensorProto): number[] | null {
  const type = tensor.dataType;
  if (type !== DataType.INT64 && type !== DataType.INT32) return null;
  if (tensor.int64Data && tensor.int64Data.length > 0) return Array.from(tensor.int64Data, Number);
  if (tensor.int32Data && tensor.int32Data.length > 0) return Array.from(tensor.int32Data);
  const raw = tensor.rawData;
  if (!raw) return elementCount(tensorDims(tensor)) === 0 ? [] : null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const width = type === DataType.INT64 ? 8 : 4;
  const values: number[] = [];
  for (let offset = 0; offset + width <= raw.byteLength; offset += width) {
    values.push(width === 8 ? Number(view.getBigInt64(offset, true)) : view.getInt32(offset, true));
  }
  return values;
}

/** Dims of a TypeProto's tensor shape: number, symbolic name, or null when unknown. */
export function typeShape(type: TypeProto | undefined): Dim[] | null {
  const shape = type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((dim): Dim => {
    if (dim.dimValue !== undefined) return int64ToNumber(dim.dimValue);
    if (dim.dimParam !== undefined && dim.dimParam !== '') return dim.dimParam;
    return null;
  });
}

export function findAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((attribute) => attribute.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute?.i !== undefined ? int64ToNumber(attribute.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  return findAttribute(node, name)?.f ?? fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | null {
  const attribute = findAttribute(node, name);
  return attribute?.ints ? attribute.ints.map(int64ToNumber) : null;
}

/** Whether a node carries a graph attribute (If/Loop/Scan bodies). */
export function hasSubgraph(node: NodeProto): boolean {
  return (node.attribute ?? []).some(
    (attribute) =>
      attribute.g !== undefined ||
      (attribute.graphs?.length ?? 0) > 0 ||
      attribute.type === AttributeType.GRAPH ||
      attribute.type === AttributeType.GRAPHS,
  );
}

/** The tensor a Constant node produces, when it is given as `value` or as integer lists. */
export function constantNodeTensor(node: NodeProto): TensorProto | null {
  const value = findAttribute(node, 'value');
  if (value?.t) return value.t;
  const ints = findAttribute(node, 'value_ints');
  if (ints?.ints) {
    return { dims: [ints.ints.length], dataType: DataType.INT64, int64Data: BigInt64Array.from(ints.ints, BigInt) };
  }
  const int = findAttribute(node, 'value_int');
  if (int?.i !== undefined) {
    return { dims: [], dataType: DataType.INT64, int64Data: BigInt64Array.of(BigInt(int.i)) };
  }
  return null;
}
