// Initializer data: the same values read from raw_data and from the typed fields.
import { describe, expect, test } from 'vitest';
import {
  makeFloatTensor,
  packSubByte,
  readTensor,
  setTensorFloat32,
  tensorDims,
  tensorElementCount,
  tensorToFloat32,
  type TensorArray,
} from './tensor.ts';
import { readModel } from './read.ts';
import { writeModel } from './write.ts';
import { DataType, OnnxFormatError, type TensorProto } from './types.ts';
import { expectClose, expectDeepEqual } from '../testing/expectClose.ts';

type Typed = Exclude<TensorArray, string[]>;

/** Little-endian bytes of a typed array (tests run on little-endian hosts, like every browser). */
const bytesOf = (values: Typed) => new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));

interface DtypeCase {
  name: string;
  dataType: number;
  dims: number[];
  /** The values readTensor must return. */
  expected: Typed;
  /** raw_data bytes. */
  raw: Uint8Array;
  /** The same tensor stored in its typed field. */
  typed: Partial<TensorProto>;
}

const int4Values = [-8, 7, -1, 0, 3]; // odd count: the last byte holds one element
const uint4Values = [15, 0, 9];
const f16Bits = new Uint16Array([0x3c00, 0xfc00, 0x7e00, 0x0001, 0x8000]); // 1, -inf, NaN, min subnormal, -0

const cases: DtypeCase[] = [
  { name: 'float32', dataType: DataType.FLOAT, dims: [2, 2], expected: new Float32Array([1.5, -2, Infinity, -0]), raw: bytesOf(new Float32Array([1.5, -2, Infinity, -0])), typed: { floatData: new Float32Array([1.5, -2, Infinity, -0]) } },
  { name: 'float64', dataType: DataType.DOUBLE, dims: [3], expected: new Float64Array([0.1, -1e300, 5]), raw: bytesOf(new Float64Array([0.1, -1e300, 5])), typed: { doubleData: new Float64Array([0.1, -1e300, 5]) } },
  { name: 'int8', dataType: DataType.INT8, dims: [4], expected: new Int8Array([-128, -1, 0, 127]), raw: bytesOf(new Int8Array([-128, -1, 0, 127])), typed: { int32Data: new Int32Array([-128, -1, 0, 127]) } },
  { name: 'uint8', dataType: DataType.UINT8, dims: [3], expected: new Uint8Array([0, 255, 7]), raw: new Uint8Array([0, 255, 7]), typed: { int32Data: new Int32Array([0, 255, 7]) } },
  { name: 'bool', dataType: DataType.BOOL, dims: [3], expected: new Uint8Array([1, 0, 1]), raw: new Uint8Array([1, 0, 1]), typed: { int32Data: new Int32Array([1, 0, 1]) } },
  { name: 'int16', dataType: DataType.INT16, dims: [3], expected: new Int16Array([-32768, 32767, -1]), raw: bytesOf(new Int16Array([-32768, 32767, -1])), typed: { int32Data: new Int32Array([-32768, 32767, -1]) } },
  { name: 'uint16', dataType: DataType.UINT16, dims: [3], expected: new Uint16Array([65535, 0, 1]), raw: bytesOf(new Uint16Array([65535, 0, 1])), typed: { int32Data: new Int32Array([65535, 0, 1]) } },
  { name: 'int32', dataType: DataType.INT32, dims: [3], expected: new Int32Array([-(2 ** 31), 2 ** 31 - 1, -5]), raw: bytesOf(new Int32Array([-(2 ** 31), 2 ** 31 - 1, -5])), typed: { int32Data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, -5]) } },
  { name: 'uint32', dataType: DataType.UINT32, dims: [3], expected: new Uint32Array([2 ** 32 - 1, 0, 7]), raw: bytesOf(new Uint32Array([2 ** 32 - 1, 0, 7])), typed: { uint64Data: new BigUint64Array([2n ** 32n - 1n, 0n, 7n]) } },
  { name: 'int64', dataType: DataType.INT64, dims: [3], expected: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]), raw: bytesOf(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n])), typed: { int64Data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]) } },
  { name: 'uint64', dataType: DataType.UINT64, dims: [2], expected: new BigUint64Array([2n ** 64n - 1n, 0n]), raw: bytesOf(new BigUint64Array([2n ** 64n - 1n, 0n])), typed: { uint64Data: new BigUint64Array([2n ** 64n - 1n, 0n]) } },
  { name: 'float16', dataType: DataType.FLOAT16, dims: [5], expected: f16Bits, raw: bytesOf(f16Bits), typed: { int32Data: Int32Array.from(f16Bits) } },
  { name: 'bfloat16', dataType: DataType.BFLOAT16, dims: [2], expected: new Uint16Array([0x3f80, 0xc000]), raw: bytesOf(new Uint16Array([0x3f80, 0xc000])), typed: { int32Data: new Int32Array([0x3f80, 0xc000]) } },
  { name: 'complex64', dataType: DataType.COMPLEX64, dims: [2], expected: new Float32Array([1, 2, 3, 4]), raw: bytesOf(new Float32Array([1, 2, 3, 4])), typed: { floatData: new Float32Array([1, 2, 3, 4]) } },
  { name: 'float8e4m3fn', dataType: DataType.FLOAT8E4M3FN, dims: [2], expected: new Uint8Array([0x38, 0x7f]), raw: new Uint8Array([0x38, 0x7f]), typed: { int32Data: new Int32Array([0x38, 0x7f]) } },
  { name: 'int4 (odd count)', dataType: DataType.INT4, dims: [5], expected: Int8Array.from(int4Values), raw: packSubByte(int4Values, 4), typed: { int32Data: Int32Array.from(packSubByte(int4Values, 4)) } },
  { name: 'uint4 (odd count)', dataType: DataType.UINT4, dims: [3], expected: Uint8Array.from(uint4Values), raw: packSubByte(uint4Values, 4), typed: { int32Data: Int32Array.from(packSubByte(uint4Values, 4)) } },
  { name: 'int2', dataType: DataType.INT2, dims: [5], expected: Int8Array.from([-2, 1, -1, 0, 1]), raw: packSubByte([-2, 1, -1, 0, 1], 2), typed: { int32Data: Int32Array.from(packSubByte([-2, 1, -1, 0, 1], 2)) } },
];

describe('readTensor: raw_data and typed fields agree', () => {
  test.each(cases.map((c) => [c.name, c]))('%s', (_, c) => {
    const fromRaw = readTensor({ name: c.name, dims: c.dims, dataType: c.dataType, rawData: c.raw });
    const fromTyped = readTensor({ name: c.name, dims: c.dims, dataType: c.dataType, ...c.typed });
    expectDeepEqual(fromRaw.data, c.expected, `${c.name} from raw_data`);
    expectDeepEqual(fromTyped.data, c.expected, `${c.name} from typed field`);
    expect(fromRaw.dims).toEqual(c.dims);
  });

  test('int4 nibble order: first element in the low nibble', () => {
    expect(Array.from(packSubByte([1, 2, 3], 4))).toEqual([0x21, 0x03]);
    expect(Array.from(readTensor({ dims: [3], dataType: DataType.UINT4, rawData: new Uint8Array([0x21, 0x03]) }).data as Uint8Array)).toEqual([1, 2, 3]);
  });

  test('strings decode from string_data', () => {
    const t: TensorProto = { dims: [2], dataType: DataType.STRING, stringData: [new TextEncoder().encode('a'), new TextEncoder().encode('é')] };
    expect(readTensor(t)).toEqual({ dtype: 'string', dims: [2], data: ['a', 'é'] });
  });

  test('a scalar (no dims) has one element; a zero-sized tensor needs no data', () => {
    expect(tensorElementCount({ dataType: DataType.FLOAT })).toBe(1);
    expect(readTensor({ dataType: DataType.FLOAT, floatData: new Float32Array([3]) }).data).toEqual(new Float32Array([3]));
    expect(readTensor({ dims: [0, 4], dataType: DataType.FLOAT }).data).toEqual(new Float32Array(0));
  });

  test('aligned raw_data is a view; unaligned raw_data is copied', () => {
    const file = new Uint8Array(16);
    new Float32Array(file.buffer, 4, 2).set([1, 2]);
    const aligned = readTensor({ dims: [2], dataType: DataType.FLOAT, rawData: file.subarray(4, 12) });
    expect((aligned.data as Float32Array).buffer).toBe(file.buffer);
    const shifted = new Uint8Array(17);
    shifted.set(file.subarray(4, 12), 5);
    const unaligned = readTensor({ dims: [2], dataType: DataType.FLOAT, rawData: shifted.subarray(5, 13) });
    expect((unaligned.data as Float32Array).buffer).not.toBe(shifted.buffer);
    expect(Array.from(unaligned.data as Float32Array)).toEqual([1, 2]);
  });
});

describe('readTensor refuses inconsistent tensors with a message naming the tensor', () => {
  test.each([
    ['raw_data of the wrong size', { name: 'w', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) }, /TensorProto "w": raw_data has 8 bytes, but dims \[3\] of float32 need 12/],
    ['typed field of the wrong size', { name: 'w', dims: [5], dataType: DataType.INT4, int32Data: new Int32Array(2) }, /int32_data has 2 entries, but dims \[5\] of int4 need 3/],
    ['no data at all', { name: 'w', dims: [2], dataType: DataType.FLOAT }, /has 2 elements of float32 but no raw_data or typed data field/],
    ['unknown data type', { name: 'w', dims: [1], dataType: 99, rawData: new Uint8Array(1) }, /unsupported data type \(unknown data_type 99\)/],
    ['negative dim', { name: 'w', dims: [-1], dataType: DataType.FLOAT }, /invalid dimension -1/],
    [
      'external data not loaded',
      { name: 'w', dims: [1], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.data' }] },
      /data is stored in the external file "weights.data"; call resolveExternalData first/,
    ],
  ] as [string, TensorProto, RegExp][])('%s', (_, tensor, message) => {
    expect(() => readTensor(tensor)).toThrow(OnnxFormatError);
    expect(() => readTensor(tensor)).toThrow(message);
  });

  test('tensorDims converts bigint dims within the safe range', () => {
    expect(tensorDims({ dims: [2n, 3] })).toEqual([2, 3]);
    expect(() => tensorDims({ dims: [2n ** 60n] })).toThrow(/invalid dimension/);
  });
});

describe('tensorToFloat32', () => {
  test('float16 specials, bfloat16, integers and bool', () => {
    const f16 = tensorToFloat32({ dims: [5], dataType: DataType.FLOAT16, rawData: bytesOf(f16Bits) });
    expect(Array.from(f16)).toEqual([1, -Infinity, NaN, 2 ** -24, -0]);
    expectClose(tensorToFloat32({ dims: [2], dataType: DataType.BFLOAT16, int32Data: new Int32Array([0x3f80, 0xc000]) }), [1, -2], { atol: 0, rtol: 0 });
    expectClose(tensorToFloat32({ dims: [2], dataType: DataType.INT64, int64Data: new BigInt64Array([-3n, 2n ** 40n]) }), [-3, 2 ** 40], { atol: 0, rtol: 0 });
    expectClose(tensorToFloat32({ dims: [3], dataType: DataType.BOOL, rawData: new Uint8Array([1, 0, 1]) }), [1, 0, 1], { atol: 0, rtol: 0 });
    expectClose(tensorToFloat32({ dims: [5], dataType: DataType.INT4, rawData: packSubByte(int4Values, 4) }), int4Values, { atol: 0, rtol: 0 });
  });

  test('float8 is refused rather than misread', () => {
    expect(() => tensorToFloat32({ dims: [1], dataType: DataType.FLOAT8E5M2, rawData: new Uint8Array(1) })).toThrow(/does not support float8e5m2/);
  });
});

describe('writing float32 data back', () => {
  test('makeFloatTensor stores a copy as raw_data', () => {
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = makeFloatTensor('w', [2, 3], values);
    values[0] = 99;
    expect(t).toMatchObject({ name: 'w', dims: [2, 3], dataType: DataType.FLOAT });
    expect(Array.from(tensorToFloat32(t))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => makeFloatTensor('w', [2, 2], values)).toThrow(/6 values do not fill dims \[2, 2\]/);
  });

  test('setTensorFloat32 replaces every other data field and the external reference', () => {
    const t: TensorProto = { name: 'w', dims: [2], dataType: DataType.FLOAT16, int32Data: new Int32Array([1, 2]), docString: 'kept' };
    setTensorFloat32(t, new Float32Array([0.5, -0.5]));
    expect(Object.keys(t).sort()).toEqual(['dataType', 'dims', 'docString', 'name', 'rawData']);
    expect(Array.from(tensorToFloat32(t))).toEqual([0.5, -0.5]);
  });

  test('a 4 MB initializer parses zero-copy: raw_data and the float view share the file buffer', () => {
    const weights = new Float32Array(1 << 20).map((_, i) => i * 0.001);
    const bytes = writeModel({ irVersion: 8, opsetImport: [{ version: 17 }], graph: { name: 'g', initializer: [makeFloatTensor('big', [1024, 1024], weights)] } });
    const tensor = readModel(bytes).graph?.initializer?.[0] as TensorProto;
    expect(tensor.rawData?.buffer).toBe(bytes.buffer);
    expect(tensor.rawData?.byteLength).toBe(4 << 20);
    const view = tensorToFloat32(tensor);
    if ((tensor.rawData as Uint8Array).byteOffset % 4 === 0) expect(view.buffer).toBe(bytes.buffer);
    expectClose(view, weights, { atol: 0, rtol: 0 }, 'big');
  });
});
