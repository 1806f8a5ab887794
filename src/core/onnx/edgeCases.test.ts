// Codec edge cases against the reference `onnx` package (issue 7): hand-made wire input from
// scripts/fixtures/make_codec_edge_cases.py, and what Python's protobuf runtime re-serialises
// from it. The lab must keep the same: the last member of a oneof, the bytes of strings that
// are not UTF-8, and the bit patterns of NaNs in unpacked float_data / double_data.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeMessage } from './decode.ts';
import { encodeMessage } from './encode.ts';
import type { MessageName } from './schema.ts';
import type { ModelProto, TensorProto, TypeProto } from './types.ts';
import { decodeUtf8Lossless, encodeUtf8Into, utf8Length } from './utf8.ts';

interface EdgeCase {
  name: string;
  message: MessageName;
  note: string;
  wire: string;
  reference: string;
  oneof?: string | null;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/edgeCases.json', import.meta.url), 'utf8')) as { cases: EdgeCase[] };
const bytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const hex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');
const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const ONEOF_KEYS: Partial<Record<MessageName, string[]>> = {
  TypeProto: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType', 'opaqueType'],
  'TensorShapeProto.Dimension': ['dimValue', 'dimParam'],
};

describe('decode → encode gives what protobuf (python3-onnx) gives', () => {
  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const decoded = decodeMessage(bytes(c.wire), c.message);
    expect(hex(encodeMessage(decoded as never, c.message)), c.note).toBe(c.reference);
    // And the reference's own bytes come back unchanged.
    expect(hex(encodeMessage(decodeMessage(bytes(c.reference), c.message) as never, c.message))).toBe(c.reference);
    const members = ONEOF_KEYS[c.message];
    if (members && c.oneof) expect(members.filter((key) => (decoded as Record<string, unknown>)[key] !== undefined)).toEqual([camel(c.oneof)]);
  });
});

describe('oneof: the last member on the wire wins', () => {
  const find = (name: string) => fixture.cases.find((c) => c.name === name)!;

  test('a tensor_type seen again after a map_type starts afresh', () => {
    const type = decodeMessage(bytes(find('tensor_type, map_type, tensor_type').wire), 'TypeProto') as TypeProto;
    expect(type).toEqual({ tensorType: { shape: { dim: [{ dimValue: 3 }] } } });
  });

  test('a member seen twice in a row is merged', () => {
    const type = decodeMessage(bytes(find('tensor_type twice').wire), 'TypeProto') as TypeProto;
    expect(type).toEqual({ tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } });
  });
});

describe('strings that are not UTF-8 keep their bytes', () => {
  const c = fixture.cases.find((e) => e.name === 'strings that are not UTF-8')!;

  test('a model opened and saved is byte-identical, and its names are still usable text', () => {
    const model = decodeMessage(bytes(c.reference), 'ModelProto') as ModelProto;
    expect(hex(encodeMessage(model, 'ModelProto'))).toBe(c.reference);
    const node = model.graph!.node![0];
    expect(node.input).toEqual(['x']);
    expect(model.graph!.name!.startsWith('g 😀 ')).toBe(true);
    // Editing one field leaves the others' bytes alone.
    node.input = ['renamed'];
    const edited = encodeMessage(model, 'ModelProto');
    const again = decodeMessage(edited, 'ModelProto') as ModelProto;
    expect(again.graph!.node![0].opType).toBe(node.opType);
    expect(hex(edited)).toContain(hex(bytes('4f70f580'))); // op_type "Op\xf5\x80" as it was
  });

  test('every byte string survives decodeUtf8Lossless → encodeUtf8Into', () => {
    const samples = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0xe9, 0x62]];
    let state = 1;
    for (let i = 0; i < 2000; i++) {
      const sample: number[] = [];
      for (let k = 0; k < 1 + (i % 9); k++) sample.push((state = (state * 1103515245 + 12345) >>> 0) >>> 24);
      samples.push(sample);
    }
    for (const sample of samples) {
      const input = Uint8Array.from(sample);
      const text = decodeUtf8Lossless(input, 0, input.length);
      const out = new Uint8Array(utf8Length(text));
      expect(encodeUtf8Into(text, out), hex(input)).toBe(input.length);
      expect(hex(out)).toBe(hex(input));
    }
  });
});

describe('NaN payloads in unpacked float and double data', () => {
  const bitsOf = (name: string, field: 'floatData' | 'doubleData') => {
    const tensor = decodeMessage(bytes(fixture.cases.find((c) => c.name === name)!.wire), 'TensorProto') as TensorProto;
    const data = tensor[field]!;
    return field === 'floatData'
      ? Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length), (b) => b.toString(16))
      : Array.from(new BigUint64Array(data.buffer, data.byteOffset, data.length), (b) => b.toString(16));
  };

  test('float_data keeps a signalling NaN and a payload', () => {
    expect(bitsOf('unpacked float_data with NaN payloads', 'floatData')).toEqual(['7f800001', 'ffc12345', '3f800000']);
    expect(bitsOf('packed then unpacked float_data', 'floatData')).toEqual(['7fa00000', '1', '7f800002']);
  });

  test('double_data keeps a signalling NaN and a payload', () => {
    expect(bitsOf('unpacked double_data with NaN payloads', 'doubleData')).toEqual(['7ff0000000000001', 'fff8deadbeef0001']);
  });
});
