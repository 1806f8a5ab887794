// Protobuf semantics of the schema-driven decoder/encoder, on hand-built wire bytes.
import { describe, expect, test } from 'vitest';
import { decodeMessage } from './decode.ts';
import { encodeMessage } from './encode.ts';
import { readModel } from './read.ts';
import { writeModel } from './write.ts';
import { SCHEMA } from './schema.ts';
import { expectDeepEqual } from '../testing/expectClose.ts';
import { bytesOf, fFloat, fLen, fString, fVarint, float32Bytes, minimalModel, tag, varint } from './fixtures/protobytes.ts';

const list = (bytes: Uint8Array) => Array.from(bytes);

describe('schema', () => {
  test('field numbers are unique per message and sorted for writing', () => {
    for (const spec of Object.values(SCHEMA)) {
      const numbers = spec.fields.map((f) => f.number);
      expect(new Set(numbers).size, spec.name).toBe(numbers.length);
      expect(numbers, spec.name).toEqual([...numbers].sort((a, b) => a - b));
    }
  });

  test('exactly the five TensorProto [packed=true] fields are packed', () => {
    const packed = Object.values(SCHEMA).flatMap((s) => s.fields.filter((f) => f.cardinality === 'packed').map((f) => `${s.name}.${f.protoName}`));
    expect(packed.sort()).toEqual(
      ['TensorProto.double_data', 'TensorProto.float_data', 'TensorProto.int32_data', 'TensorProto.int64_data', 'TensorProto.uint64_data'],
    );
  });
});

describe('decoding follows protobuf rules', () => {
  test('a minimal model', () => {
    expectDeepEqual(readModel(minimalModel()), { irVersion: 8, graph: { name: 'g' }, opsetImport: [{ version: 17 }] });
  });

  test('repeated scalars are accepted packed and unpacked; non-[packed] ones are written unpacked', () => {
    const unpacked = bytesOf(fVarint(1, 2), fVarint(1, 3));
    const packed = bytesOf(fLen(1, [...varint(2), ...varint(3)]));
    expectDeepEqual(decodeMessage(unpacked, 'TensorProto'), { dims: [2, 3] });
    expectDeepEqual(decodeMessage(packed, 'TensorProto'), { dims: [2, 3] });
    expect(list(encodeMessage({ dims: [2, 3] }, 'TensorProto'))).toEqual(list(unpacked));
  });

  test('[packed=true] fields are accepted unpacked and written packed', () => {
    const unpacked = bytesOf(fFloat(4, 1.5), fFloat(4, -2));
    const tensor = decodeMessage(unpacked, 'TensorProto');
    expectDeepEqual(tensor, { floatData: new Float32Array([1.5, -2]) });
    expect(list(encodeMessage(tensor, 'TensorProto'))).toEqual(list(bytesOf(fLen(4, float32Bytes([1.5, -2])))));
  });

  test('packed and unpacked records of one field concatenate in wire order', () => {
    const bytes = bytesOf(fLen(7, [...varint(1), ...varint(-1)]), fVarint(7, 2n ** 60n), fLen(7, varint(5)));
    expectDeepEqual(decodeMessage(bytes, 'TensorProto'), { int64Data: new BigInt64Array([1n, -1n, 2n ** 60n, 5n]) });
  });

  test('AttributeProto floats and ints are written unpacked, one tag per element', () => {
    const bytes = encodeMessage({ floats: [1, 2], ints: [1, -1] }, 'AttributeProto');
    expect(list(bytes)).toEqual(list(bytesOf(fFloat(7, 1), fFloat(7, 2), fVarint(8, 1), fVarint(8, -1))));
  });

  test('fields are written in field-number order whatever the object key order', () => {
    const node = { metadataProps: [{ key: 'k' }], overload: 'o', domain: 'd', attribute: [{ name: 'a' }], opType: 'Relu', input: ['x'] };
    const bytes = encodeMessage(node, 'NodeProto');
    const expected = bytesOf(fString(1, 'x'), fString(4, 'Relu'), fLen(5, fString(1, 'a')), fString(7, 'd'), fString(8, 'o'), fLen(9, fString(1, 'k')));
    expect(list(bytes)).toEqual(list(expected));
  });

  test('unknown fields are kept verbatim and written after the known ones', () => {
    const unknownVarint = fVarint(99, 300);
    const unknownLen = fLen(100, [1, 2, 3]);
    const bytes = bytesOf(unknownVarint, fString(8, 'w'), unknownLen);
    const tensor = decodeMessage(bytes, 'TensorProto');
    expect(tensor.name).toBe('w');
    expect(tensor.$unknown?.map(list)).toEqual([unknownVarint, unknownLen]);
    expect(list(encodeMessage(tensor, 'TensorProto'))).toEqual([...fString(8, 'w'), ...unknownVarint, ...unknownLen]);
  });

  test('a known field with the wrong wire type is kept as an unknown field, as protobuf does', () => {
    const tensor = decodeMessage(bytesOf(fVarint(8, 5)), 'TensorProto'); // name (string) sent as varint
    expect(tensor.name).toBeUndefined();
    expect(tensor.$unknown?.map(list)).toEqual([fVarint(8, 5)]);
  });

  test('a singular scalar seen twice keeps the last value; a singular message seen twice is merged', () => {
    expect(decodeMessage(bytesOf(fVarint(2, 1), fVarint(2, 7)), 'TensorProto').dataType).toBe(7);
    const graphA = [...fLen(1, fString(4, 'Relu')), ...fString(2, 'a')];
    const graphB = fLen(1, fString(4, 'Add'));
    const model = decodeMessage(bytesOf(fLen(7, graphA), fLen(7, graphB)), 'ModelProto');
    expectDeepEqual(model.graph, { node: [{ opType: 'Relu' }, { opType: 'Add' }], name: 'a' });
  });

  test('an empty packed record leaves the field absent (protobuf cannot tell empty from absent)', () => {
    expectDeepEqual(decodeMessage(bytesOf(fLen(4, []), fLen(1, [])), 'TensorProto'), {});
    expect(encodeMessage({ floatData: new Float32Array(0), dims: [] }, 'TensorProto').length).toBe(0);
  });

  test('negative int32 varints (10 bytes) in int32_data and data_type', () => {
    const bytes = bytesOf(fLen(5, [...varint(-7), ...varint(3)]), fVarint(2, -1));
    const tensor = decodeMessage(bytes, 'TensorProto');
    expectDeepEqual(tensor, { int32Data: new Int32Array([-7, 3]), dataType: -1 });
    expect(list(encodeMessage(tensor, 'TensorProto'))).toEqual([...fVarint(2, -1), ...fLen(5, [...varint(-7), ...varint(3)])]);
  });

  test('int64 values beyond 2^53 are bigints; INT64_MAX as attribute i round-trips', () => {
    const int64Max = 2n ** 63n - 1n;
    const attribute = decodeMessage(bytesOf(fString(1, 'ends'), fVarint(3, int64Max), fVarint(20, 2)), 'AttributeProto');
    expect(attribute.i).toBe(int64Max);
    expect(list(encodeMessage(attribute, 'AttributeProto'))).toEqual([...fString(1, 'ends'), ...fVarint(3, int64Max), ...fVarint(20, 2)]);
    const dims = decodeMessage(bytesOf(fVarint(1, 2 ** 53), fVarint(1, 2 ** 53 - 1)), 'TensorProto').dims;
    expect(dims).toEqual([2n ** 53n, 2 ** 53 - 1]);
  });

  test('bytes fields keep invalid UTF-8 exactly; string fields decode UTF-8 and keep a BOM', () => {
    const raw = [0xff, 0xfe, 0x00, 0x41];
    const attribute = decodeMessage(bytesOf(fLen(4, raw), fString(1, '\ufeffnamé')), 'AttributeProto');
    expect(Array.from(attribute.s ?? [])).toEqual(raw);
    expect(attribute.name).toBe('\ufeffnamé');
    expect(list(encodeMessage(attribute, 'AttributeProto'))).toEqual([...fString(1, '\ufeffnamé'), ...fLen(4, raw)]);
  });

  test('bytes fields are views into the input, not copies', () => {
    const input = bytesOf(fString(8, 'w'), fLen(9, [1, 2, 3, 4]));
    const tensor = decodeMessage(input, 'TensorProto');
    expect(tensor.rawData?.buffer).toBe(input.buffer);
    expect(tensor.rawData?.byteOffset).toBe(5);
  });

  test('a Node Buffer input gives plain Uint8Array views over the same memory', () => {
    const input = Buffer.from(bytesOf(fString(8, 'w'), fLen(9, [1, 2, 3, 4])));
    const rawData = decodeMessage(input, 'TensorProto').rawData as Uint8Array;
    expect(rawData.constructor).toBe(Uint8Array);
    expect(rawData.buffer).toBe(input.buffer);
  });

  test('writeModel rejects values of the wrong type with the field named', () => {
    expect(() => writeModel({ irVersion: 1.5 })).toThrow(/ModelProto.ir_version: cannot encode the number 1.5 as optional int64/);
    expect(() => writeModel({ producerName: 5 as unknown as string })).toThrow(/ModelProto.producer_name: cannot encode the number 5 as optional string/);
    expect(() => encodeMessage({ floatData: [1, 2] as unknown as Float32Array }, 'TensorProto')).toThrow(/float_data: cannot encode an array as packed float/);
  });

  test('writeModel refuses cyclic graphs instead of overflowing the stack', () => {
    const graph: Record<string, unknown> = { name: 'loop' };
    graph.node = [{ attribute: [{ name: 'body', g: graph }] }];
    expect(() => writeModel({ irVersion: 8, graph })).toThrow(/nested deeper than 100 levels/);
  });

  test('tag helper sanity: field 100 LEN is a two-byte tag', () => {
    expect(tag(100, 2)).toEqual([0xa2, 0x06]);
  });
});
