// Initializer data access: one TensorData from whichever TensorProto field holds the values.
// onnx.proto allows raw_data (fixed-width little-endian bytes) or a typed field per data_type:
//   float_data: FLOAT, COMPLEX64          double_data: DOUBLE, COMPLEX128
//   int64_data: INT64                     uint64_data: UINT32, UINT64
//   string_data: STRING
//   int32_data: everything else narrower than 32 bits — INT32, INT16, INT8, UINT16, UINT8, BOOL,
//     (B)FLOAT16 and FLOAT8* as bit patterns, and 4-bit (2-bit) types packed two (four) per entry.

import { DataType, OnnxFormatError, type Int64, type TensorProto } from './types.ts';
import { dtypeInfo, dtypeName, rawByteLength, type DtypeInfo, type TensorDtype } from './dtypes.ts';
import { LITTLE_ENDIAN_HOST } from './wire.ts';
import { decodeUtf8 } from './utf8.ts';
import { bfloat16ArrayToFloat32, float16ArrayToFloat32 } from './float16.ts';
import { quoteName } from './display.ts';

export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/**
 * A tensor's values. float16/bfloat16/float8 are bit patterns (Uint16Array/Uint8Array); 4- and
 * 2-bit types are unpacked one element per entry; complex types interleave real, imaginary.
 * Read from aligned raw_data, `data` is a view into the model's bytes: copy before mutating.
 */
export interface TensorData {
  dtype: TensorDtype;
  dims: number[];
  data: TensorArray;
}

type NumericCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** The array type holding one element (for sub-byte types: one unpacked element). */
const ARRAY_OF: Partial<Record<TensorDtype, NumericCtor>> = {
  float32: Float32Array,
  complex64: Float32Array,
  float64: Float64Array,
  complex128: Float64Array,
  int8: Int8Array,
  int4: Int8Array,
  int2: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint16: Uint16Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
};

function tensorLabel(t: TensorProto): string {
  return `TensorProto ${quoteName(t.name ?? '')}`;
}

function tensorError(t: TensorProto, field: string, message: string): OnnxFormatError {
  // offset -1: the problem is in the tensor's content, not at one byte of the file.
  return new OnnxFormatError(`${tensorLabel(t)}: ${message}`, -1, `TensorProto.${field}`);
}

/** Dims as numbers; throws for negative or astronomically large dims. */
export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d: Int64) => {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) throw tensorError(t, 'dims', `invalid dimension ${d}`);
    return n;
  });
}

/** Number of elements (1 for a scalar with no dims). */
export function tensorElementCount(t: TensorProto): number {
  let count = 1;
  for (const d of tensorDims(t)) count *= d;
  if (!Number.isSafeInteger(count)) throw tensorError(t, 'dims', `element count of [${shownDims(t)}] is too large`);
  return count;
}

function requireDtype(t: TensorProto): DtypeInfo {
  const info = dtypeInfo(t.dataType ?? DataType.UNDEFINED);
  if (info === undefined) throw tensorError(t, 'data_type', `unsupported data type (${dtypeName(t.dataType ?? 0)})`);
  return info;
}

/** Entries a typed field must hold for `count` elements of this dtype. */
function typedEntryCount(info: DtypeInfo, count: number): number {
  if (info.bits < 8) return Math.ceil((count * info.bits) / 8);
  return info.dtype === 'complex64' || info.dtype === 'complex128' ? count * 2 : count;
}

/** Reads the values of a tensor stored in the model (not external data: resolve that first). */
export function readTensor(t: TensorProto): TensorData {
  const info = requireDtype(t);
  const dims = tensorDims(t);
  const count = tensorElementCount(t);
  checkPayload(t, info, count);
  return { dtype: info.dtype, dims, data: tensorValues(t, info, count) };
}

/**
 * Throws readTensor's error for a tensor whose payload is not in the model or does not match
 * its dims and type (raw_data shorter than the shape, say), without decoding any value.
 */
export function checkTensorPayload(t: TensorProto): void {
  checkPayload(t, requireDtype(t), tensorElementCount(t));
}

const shownDims = (t: TensorProto) => shortDims(t.dims ?? []);
function shortDims(dims: readonly Int64[]): string {
  return dims.length > 8 ? `${dims.slice(0, 8).join(', ')}, … (${dims.length} dims)` : dims.join(', ');
}

function checkPayload(t: TensorProto, info: DtypeInfo, count: number): void {
  if (t.dataLocation === 1) {
    const location = t.externalData?.findLast((e) => e.key === 'location')?.value ?? '?';
    throw tensorError(t, 'data_location', `data is stored in the external file ${quoteName(location)}; call resolveExternalData first`);
  }
  if (info.dtype === 'string') {
    const strings = t.stringData?.length ?? 0;
    if (strings !== count) throw tensorError(t, 'string_data', `has ${strings} strings, but dims need ${count}`);
    return;
  }
  if (t.rawData !== undefined) {
    const expected = rawByteLength(info, count);
    if (t.rawData.byteLength !== expected) {
      throw tensorError(t, 'raw_data', `raw_data has ${t.rawData.byteLength} bytes, but dims [${shownDims(t)}] of ${info.dtype} need ${expected}`);
    }
    return;
  }
  const typed = typedField(t, info);
  if (typed === undefined) {
    if (count === 0) return;
    throw tensorError(t, 'raw_data', `has ${count} elements of ${info.dtype} but no raw_data or typed data field`);
  }
  const entries = typedEntryCount(info, count);
  if (typed.values.length !== entries) {
    throw tensorError(t, typed.field, `${typed.field} has ${typed.values.length} entries, but dims [${shownDims(t)}] of ${info.dtype} need ${entries}`);
  }
}

/** Values of a tensor whose payload checkPayload accepted. */
function tensorValues(t: TensorProto, info: DtypeInfo, count: number): TensorArray {
  if (info.dtype === 'string') return (t.stringData ?? []).map((s) => decodeUtf8(s, 0, s.length));
  if (t.rawData !== undefined) return fromRaw(info, count, t.rawData);
  const typed = typedField(t, info);
  if (typed === undefined) return new (ARRAY_OF[info.dtype] ?? Uint8Array)(0);
  return fromTyped(info, count, typed.values);
}

type TypedField = { field: string; values: Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array };

function typedField(t: TensorProto, info: DtypeInfo): TypedField | undefined {
  const pick = (field: string, values: TypedField['values'] | undefined) => (values === undefined ? undefined : { field, values });
  switch (info.dtype) {
    case 'float32':
    case 'complex64':
      return pick('float_data', t.floatData);
    case 'float64':
    case 'complex128':
      return pick('double_data', t.doubleData);
    case 'int64':
      return pick('int64_data', t.int64Data);
    case 'uint32':
    case 'uint64':
      return pick('uint64_data', t.uint64Data);
    default:
      return pick('int32_data', t.int32Data);
  }
}

function fromTyped(info: DtypeInfo, count: number, values: TypedField['values']): TensorArray {
  if (info.bits < 8) return unpackSubByte(new Uint8Array(values as Int32Array), count, info);
  if (info.dtype === 'uint32') return Uint32Array.from(values as BigUint64Array, (v) => Number(v & 0xffffffffn));
  const ctor = ARRAY_OF[info.dtype] ?? Uint8Array;
  if (values instanceof ctor) return values;
  // Narrowing int32_data: the typed-array constructor keeps the low bits (bit patterns for floats).
  return new (ctor as Uint8ArrayConstructor)(values as Int32Array);
}

function fromRaw(info: DtypeInfo, count: number, raw: Uint8Array): TensorArray {
  if (info.bits < 8) return unpackSubByte(raw, count, info);
  // Typed as one constructor: all of them share the (buffer, offset, length) signature.
  const ctor = (ARRAY_OF[info.dtype] ?? Uint8Array) as Float32ArrayConstructor;
  const width = ctor.BYTES_PER_ELEMENT;
  const length = raw.byteLength / width;
  const buffer = raw.buffer as ArrayBuffer;
  if (width === 1) return new ctor(buffer, raw.byteOffset, length);
  if (!LITTLE_ENDIAN_HOST) return new ctor(byteSwapped(raw, width).buffer);
  // Zero-copy when aligned; typed arrays cannot start at an unaligned offset, so copy then.
  if (raw.byteOffset % width === 0) return new ctor(buffer, raw.byteOffset, length);
  return new ctor(raw.slice().buffer);
}

function byteSwapped(raw: Uint8Array, width: number): Uint8Array {
  const out = raw.slice();
  for (let i = 0; i < out.length; i += width) out.subarray(i, i + width).reverse();
  return out;
}

/** Unpacks 4-bit (2-bit) elements, first element in the least significant bits. */
function unpackSubByte(packed: Uint8Array, count: number, info: DtypeInfo): Int8Array | Uint8Array {
  const bits = info.bits;
  const signed = info.dtype === 'int4' || info.dtype === 'int2';
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = (packed[Math.floor(i / perByte)] >> ((i % perByte) * bits)) & mask;
    out[i] = signed && v & signBit ? v - (1 << bits) : v;
  }
  return out;
}

/** Packs 4-bit or 2-bit values (two's complement for signed) into bytes, first in the low bits. */
export function packSubByte(values: ArrayLike<number>, bits: 4 | 2): Uint8Array {
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / perByte));
  for (let i = 0; i < values.length; i++) out[Math.floor(i / perByte)] |= (values[i] & mask) << ((i % perByte) * bits);
  return out;
}

/**
 * Values as float32: float16/bfloat16 decoded, integers and bool converted, float64 rounded.
 * For a FLOAT tensor with aligned raw_data this is a view into the model: copy before mutating.
 */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const { dtype, data } = readTensor(t);
  switch (dtype) {
    case 'float32':
      return data as Float32Array;
    case 'float16':
      return float16ArrayToFloat32(data as Uint16Array);
    case 'bfloat16':
      return bfloat16ArrayToFloat32(data as Uint16Array);
    case 'int64':
    case 'uint64':
      return Float32Array.from(data as BigInt64Array, Number);
    case 'float64':
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'bool':
    case 'int4':
    case 'uint4':
    case 'int2':
    case 'uint2':
      return Float32Array.from(data as Float64Array);
    default:
      throw tensorError(t, 'data_type', `tensorToFloat32 does not support ${dtype}`);
  }
}

/** float32 values as little-endian raw_data bytes (always a copy). */
export function float32ToRawData(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.slice().buffer);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function checkCount(dims: readonly number[], values: Float32Array, what: string): void {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`${what}: ${values.length} values do not fill dims [${dims.join(', ')}] (${count} elements)`);
}

/** A FLOAT initializer storing `values` (copied) as raw_data. */
export function makeFloatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  checkCount(dims, values, `makeFloatTensor(${JSON.stringify(name)})`);
  return { dims: [...dims], dataType: DataType.FLOAT, name, rawData: float32ToRawData(values) };
}

/**
 * Replaces a tensor's data with float32 `values` (copied) as raw_data, keeping name, dims and
 * metadata. Drops every other data field and any external-data reference.
 */
export function setTensorFloat32(t: TensorProto, values: Float32Array): void {
  checkCount(tensorDims(t), values, `setTensorFloat32(${JSON.stringify(t.name ?? '')})`);
  delete t.floatData;
  delete t.int32Data;
  delete t.int64Data;
  delete t.doubleData;
  delete t.uint64Data;
  delete t.stringData;
  delete t.externalData;
  delete t.dataLocation;
  t.dataType = DataType.FLOAT;
  t.rawData = float32ToRawData(values);
}
