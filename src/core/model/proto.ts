// Small readers over the ONNX types that the analysis needs: element types, int64 shape
// constants and node attributes, on top of the codec's dtype table and tensor reader. Attribute
// getters here never throw: a malformed attribute makes a fact unknown, not the analysis fail.
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type Int64,
  type NodeProto,
  type TensorProto,
  type TypeProto,
} from '../onnx/types.ts';
import { dtypeInfo, dtypeName as codecDtypeName, rawByteLength } from '../onnx/dtypes.ts';
import { readTensor, tensorDims } from '../onnx/tensor.ts';
import type { Dim } from './types.ts';

export { tensorDims };

export function int64ToNumber(value: Int64): number {
  return typeof value === 'bigint' ? Number(value) : value;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

const FLOAT_TYPES = new Set<number>([
  DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16, DataType.FLOAT8E4M3FN,
  DataType.FLOAT8E4M3FNUZ, DataType.FLOAT8E5M2, DataType.FLOAT8E5M2FNUZ, DataType.FLOAT4E2M1,
]);

/** 'float32', 'int64', ... ('undefined' when a value has no element type). */
export function dtypeName(code: number | undefined): string {
  return code === undefined || code === DataType.UNDEFINED ? 'undefined' : codecDtypeName(code);
}

export function isFloatType(code: number | undefined): boolean {
  return FLOAT_TYPES.has(code ?? 0);
}

/** Bytes the tensor's elements take (sub-byte types packed), from dims alone. */
export function tensorByteSize(tensor: TensorProto): number {
  const info = dtypeInfo(tensor.dataType ?? DataType.UNDEFINED);
  if (!info) return 0;
  if (info.dtype === 'string') return (tensor.stringData ?? []).reduce((sum, s) => sum + s.length, 0);
  return rawByteLength(info, elementCount(tensorDims(tensor)));
}

/** Weights stored outside the .onnx file (TensorProto.DataLocation.EXTERNAL = 1). */
export function isExternal(tensor: TensorProto): boolean {
  return tensor.dataLocation === 1 || (tensor.externalData?.length ?? 0) > 0;
}

/** Integer values of a small INT64/INT32 tensor (shape constants), or null for other types. */
export function intValues(tensor: TensorProto): number[] | null {
  if (tensor.dataType !== DataType.INT64 && tensor.dataType !== DataType.INT32) return null;
  try {
    const { data } = readTensor(tensor);
    return Array.from(data as BigInt64Array | Int32Array, Number);
  } catch {
    return null; // external or malformed: the value is simply unknown to the analysis
  }
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
