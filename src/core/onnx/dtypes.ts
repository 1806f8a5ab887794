// TensorProto.DataType codes ↔ the names the lab uses, with the storage width of one element in
// raw_data (onnx.proto: fixed-width little-endian; bool one byte; 4-bit types two per byte and
// 2-bit types four per byte, first element in the least significant bits).

import { DataType } from './types.ts';

export type TensorDtype =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2';

export interface DtypeInfo {
  dtype: TensorDtype;
  code: number;
  /** Bits one element occupies in raw_data (complex: both parts); 0 for strings. */
  bits: number;
}

const TABLE: [TensorDtype, number, number][] = [
  ['float32', DataType.FLOAT, 32],
  ['uint8', DataType.UINT8, 8],
  ['int8', DataType.INT8, 8],
  ['uint16', DataType.UINT16, 16],
  ['int16', DataType.INT16, 16],
  ['int32', DataType.INT32, 32],
  ['int64', DataType.INT64, 64],
  ['string', DataType.STRING, 0],
  ['bool', DataType.BOOL, 8],
  ['float16', DataType.FLOAT16, 16],
  ['float64', DataType.DOUBLE, 64],
  ['uint32', DataType.UINT32, 32],
  ['uint64', DataType.UINT64, 64],
  ['complex64', DataType.COMPLEX64, 64],
  ['complex128', DataType.COMPLEX128, 128],
  ['bfloat16', DataType.BFLOAT16, 16],
  ['float8e4m3fn', DataType.FLOAT8E4M3FN, 8],
  ['float8e4m3fnuz', DataType.FLOAT8E4M3FNUZ, 8],
  ['float8e5m2', DataType.FLOAT8E5M2, 8],
  ['float8e5m2fnuz', DataType.FLOAT8E5M2FNUZ, 8],
  ['uint4', DataType.UINT4, 4],
  ['int4', DataType.INT4, 4],
  ['float4e2m1', DataType.FLOAT4E2M1, 4],
  ['float8e8m0', DataType.FLOAT8E8M0, 8],
  ['uint2', DataType.UINT2, 2],
  ['int2', DataType.INT2, 2],
];

const BY_CODE = new Map<number, DtypeInfo>(TABLE.map(([dtype, code, bits]) => [code, { dtype, code, bits }]));
const BY_NAME = new Map<TensorDtype, DtypeInfo>(TABLE.map(([dtype, code, bits]) => [dtype, { dtype, code, bits }]));

export function dtypeInfo(code: number): DtypeInfo | undefined {
  return BY_CODE.get(code);
}

export function dtypeCode(dtype: TensorDtype): number {
  return (BY_NAME.get(dtype) as DtypeInfo).code;
}

/** 'float32' for 1; a readable placeholder for codes this table does not know. */
export function dtypeName(code: number): string {
  return BY_CODE.get(code)?.dtype ?? `unknown data_type ${code}`;
}

/** Bytes that `count` elements occupy in raw_data (sub-byte types round up to whole bytes). */
export function rawByteLength(info: DtypeInfo, count: number): number {
  return Math.ceil((count * info.bits) / 8);
}
