import { describe, expect, test } from 'vitest';
import {
  WireReader,
  WireWriter,
  WireType,
  int64Size,
  int64FromHalves,
  int64ToHalves,
} from './wire.ts';
import { decodeUtf8, utf8Length } from './utf8.ts';
import { OnnxFormatError, type Int64 } from './types.ts';

function encodeInt64(value: Int64): Uint8Array {
  const w = new WireWriter(int64Size(value));
  w.writeInt64(value);
  expect(w.pos).toBe(w.bytes.length);
  return w.bytes;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

describe('varints', () => {
  test('known encodings from the protobuf encoding guide', () => {
    expect(hex(encodeInt64(150))).toBe('96 01');
    expect(hex(encodeInt64(1))).toBe('01');
    expect(hex(encodeInt64(-1))).toBe('ff ff ff ff ff ff ff ff ff 01'); // 10 bytes, two's complement
  });

  const cases: Int64[] = [
    0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 7,
    Number.MAX_SAFE_INTEGER, 2n ** 53n, 2n ** 63n - 1n, -1, -2, -(2 ** 31), -(2 ** 32) - 5,
    Number.MIN_SAFE_INTEGER, -(2n ** 53n), -(2n ** 63n),
  ];
  test.each(cases.map((v) => [String(v), v]))('int64 %s survives write → read in its canonical JS type', (_, value) => {
    const r = new WireReader(encodeInt64(value));
    const read = r.readInt64();
    expect(read).toBe(value);
    expect(typeof read).toBe(typeof value); // number iff safe integer
    expect(r.pos).toBe(r.bytes.length);
  });

  test('uint64 above 2^63 reads as a positive bigint', () => {
    const r = new WireReader(encodeInt64(2n ** 64n - 1n));
    expect(r.readUint64()).toBe(2n ** 64n - 1n);
  });

  test('negative int32 is written sign-extended to 10 bytes and read back', () => {
    const w = new WireWriter(10);
    w.writeInt32(-5);
    expect(w.pos).toBe(10);
    expect(new WireReader(w.bytes).readInt32()).toBe(-5);
  });

  test('int64FromHalves/int64ToHalves are inverse around the safe-integer edge', () => {
    for (const v of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 53n, -(2n ** 53n) - 1n]) {
      expect(int64FromHalves(...int64ToHalves(v))).toBe(v);
    }
  });

  test('an 11-byte varint is an error with its offset', () => {
    const bytes = new Uint8Array([0x08, ...new Array(10).fill(0xff), 0x01]);
    const r = new WireReader(bytes, 1);
    expect(() => r.readVarint()).toThrow(/varint at byte 1 is longer than 10 bytes/);
    expect(() => new WireReader(bytes, 1).readVarint()).toThrow(OnnxFormatError);
  });

  test('a varint cut by the end of file says so', () => {
    expect(() => new WireReader(new Uint8Array([0x80, 0x80])).readVarint()).toThrow(/varint at byte 0 runs past the end of the file \(byte 2\)/);
  });
});

describe('lengths, fixed-width values and skipping', () => {
  test('a length prefix of 2^40 is refused without allocating', () => {
    const w = new WireWriter(int64Size(2 ** 40));
    w.writeInt64(2 ** 40);
    const r = new WireReader(w.bytes);
    expect(() => r.readLength()).toThrow(/Truncated file: needs 1099511627776 bytes at byte 6, but the file ends at byte 6/);
  });

  test('float and double are little-endian and bounds-checked', () => {
    const w = new WireWriter(12);
    w.writeFloat(1.5);
    w.writeDouble(-0.25);
    expect(hex(w.bytes.subarray(0, 4))).toBe('00 00 c0 3f');
    const r = new WireReader(w.bytes);
    expect(r.readFloat()).toBe(1.5);
    expect(r.readDouble()).toBe(-0.25);
    expect(() => new WireReader(w.bytes, 10).readDouble()).toThrow(/needs a double of 8 bytes at byte 10/);
  });

  test('skipValue skips nested groups to the matching end tag', () => {
    // field 1 start-group { field 2 varint 5, field 3 start-group { } end 3 } end 1, then field 4 varint 7
    const bytes = new Uint8Array([0x0b, 0x10, 0x05, 0x1b, 0x1c, 0x0c, 0x20, 0x07]);
    const r = new WireReader(bytes);
    expect(r.readTag()).toBe(1);
    r.skipValue(r.lo & 7, 1);
    expect(r.pos).toBe(6);
    expect(r.readTag()).toBe(4);
  });

  test('mismatched end-group, invalid wire types and field number 0 are errors with offsets', () => {
    const endWrong = new WireReader(new Uint8Array([0x0b, 0x14]));
    endWrong.readTag();
    expect(() => endWrong.skipValue(WireType.SGROUP, 1)).toThrow(/end-group tag without a start for field 2 near byte 1/);
    const wireType6 = new WireReader(new Uint8Array([0x0e]));
    wireType6.readTag();
    expect(() => wireType6.skipValue(6, 1)).toThrow(/invalid wire type 6 for field 1/);
    expect(() => new WireReader(new Uint8Array([0x00])).readTag()).toThrow(/invalid field tag at byte 0/);
  });
});

describe('UTF-8', () => {
  const samples = ['', 'abc', 'h.0.attn.weight', 'é', '日本語', '😀 emoji', 'lone \ud800 surrogate', 'end \udfff', '\ufeffBOM'];
  test.each(samples)('utf8Length and writeUtf8 agree with TextEncoder for %j', (text) => {
    const expected = new TextEncoder().encode(text);
    expect(utf8Length(text)).toBe(expected.length);
    const w = new WireWriter(expected.length);
    w.writeUtf8(text, expected.length);
    expect(hex(w.bytes)).toBe(hex(expected));
  });

  test('decodeUtf8 keeps a leading BOM and replaces invalid bytes', () => {
    const bom = new TextEncoder().encode('\ufeffx');
    expect(decodeUtf8(bom, 0, bom.length)).toBe('\ufeffx');
    expect(decodeUtf8(new Uint8Array([0x61, 0xff]), 0, 2)).toBe('a\ufffd');
  });
});
