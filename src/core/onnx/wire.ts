// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a bounds-checked
// reader over one Uint8Array and a writer into one preallocated Uint8Array.
//
// 64-bit varints are handled as two uint32 halves (`lo`, `hi`) so the hot path never touches
// BigInt; a value becomes a bigint only when it is not a safe integer (see Int64 in types.ts).

import { OnnxFormatError, type Int64 } from './types.ts';
import { encodeUtf8Into } from './utf8.ts';

export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** Proto2 groups are legal on the wire (ONNX never uses them); skipping one nests, so bound it. */
const MAX_GROUP_DEPTH = 100;
const TWO_POW_32 = 4294967296;

/** All supported hosts are little-endian; the few call sites that view raw memory check this. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A wire-level failure. The decoder rethrows it as an OnnxFormatError whose message names the
 * field path; `title` and `detail` are the parts around that path.
 */
export class WireError extends OnnxFormatError {
  constructor(
    readonly title: string,
    readonly detail: string,
    offset: number,
  ) {
    super(`${title}: ${detail}`, offset, '');
    this.name = 'OnnxFormatError';
  }
}

/** Combines two uint32 halves of a two's complement int64: number when safe, else bigint. */
export function int64FromHalves(lo: number, hi: number): Int64 {
  if (hi & 0x80000000) {
    const magnitude = (~hi >>> 0) * TWO_POW_32 + ((~lo >>> 0) + 1);
    if (magnitude <= Number.MAX_SAFE_INTEGER) return -magnitude;
    return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }
  return uint64FromHalves(lo, hi);
}

export function uint64FromHalves(lo: number, hi: number): Int64 {
  const value = (hi >>> 0) * TWO_POW_32 + (lo >>> 0);
  if (value <= Number.MAX_SAFE_INTEGER) return value;
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Splits an int64/uint64 into two's complement uint32 halves. Throws on non-integers. */
export function int64ToHalves(value: Int64): [lo: number, hi: number] {
  if (typeof value === 'bigint') {
    const bits = BigInt.asUintN(64, value);
    return [Number(bits & 0xffffffffn), Number(bits >> 32n)];
  }
  if (!Number.isInteger(value)) throw new TypeError(`Not an integer: ${value}`);
  if (value >= 0 && value < TWO_POW_32) return [value, 0];
  const hi = Math.floor(value / TWO_POW_32);
  return [value - hi * TWO_POW_32, hi >>> 0];
}

export class WireReader {
  /** Halves of the last varint read by readVarint(). */
  lo = 0;
  hi = 0;
  pos: number;
  /** End of the message being read; no read may pass it. */
  limit: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.limit = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Why reading `count` bytes at `at` fails: the file, or only the enclosing message, ends. */
  truncated(what: string, count: number, at: number): WireError {
    const fileEnds = this.limit === this.bytes.length;
    return new WireError(
      fileEnds ? 'Truncated file' : 'Corrupt length',
      `needs ${what}${count} bytes at byte ${at}, but ` +
        (fileEnds ? `the file ends at byte ${this.limit}` : `the enclosing message ends at byte ${this.limit}`),
      at,
    );
  }

  /** Reads one varint into lo/hi (at most 10 bytes; the 10th may only carry bit 63). */
  readVarint(): void {
    const b = this.bytes;
    const start = this.pos;
    const end = this.limit;
    let p = start;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw this.varintTruncated(start);
      const byte = b[p++];
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.setVarint(lo, 0, p);
    }
    if (p >= end) throw this.varintTruncated(start);
    let byte = b[p++];
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) return this.setVarint(lo, hi, p);
    for (let shift = 3; shift < 32; shift += 7) {
      if (p >= end) throw this.varintTruncated(start);
      byte = b[p++];
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.setVarint(lo, hi, p);
    }
    throw new WireError('Corrupt varint', `varint at byte ${start} is longer than 10 bytes`, start);
  }

  private setVarint(lo: number, hi: number, p: number): void {
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = p;
  }

  private varintTruncated(start: number): WireError {
    const fileEnds = this.limit === this.bytes.length;
    return new WireError(
      fileEnds ? 'Truncated file' : 'Corrupt varint',
      `varint at byte ${start} runs past ` +
        (fileEnds ? `the end of the file (byte ${this.limit})` : `the enclosing message's end (byte ${this.limit})`),
      start,
    );
  }

  /** int32 and enum fields: negative values arrive as 10-byte sign-extended varints. */
  readInt32(): number {
    this.readVarint();
    return this.lo | 0;
  }

  readInt64(): Int64 {
    this.readVarint();
    return this.hi === 0 ? this.lo : int64FromHalves(this.lo, this.hi);
  }

  readUint64(): Int64 {
    this.readVarint();
    return this.hi === 0 ? this.lo : uint64FromHalves(this.lo, this.hi);
  }

  readFloat(): number {
    this.need(4, 'a float of ');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  readDouble(): number {
    this.need(8, 'a double of ');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A fixed32 as its bit pattern (an unsigned integer): a float's NaN payload survives. */
  readFixed32Bits(): number {
    this.need(4, 'a float of ');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A fixed64's bit pattern into lo and hi: a double's NaN payload survives. */
  readFixed64Bits(): void {
    this.need(8, 'a double of ');
    this.lo = this.view.getUint32(this.pos, true);
    this.hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
  }

  /** Reads a length prefix and checks that many bytes remain before the limit. */
  readLength(): number {
    const length = this.readUncheckedLength();
    if (length > this.limit - this.pos) throw this.truncated('', length, this.pos);
    return length;
  }

  /** Reads a length prefix without checking it (up to 2^64, exact below 2^53). */
  readUncheckedLength(): number {
    this.readVarint();
    return this.hi * TWO_POW_32 + this.lo;
  }

  /** Throws unless `count` bytes remain before the limit. */
  need(count: number, what = ''): void {
    if (count > this.limit - this.pos) throw this.truncated(what, count, this.pos);
  }

  /** Skips one field's value (the tag already read). Groups are skipped to their end tag. */
  skipValue(wireType: number, fieldNumber: number): void {
    switch (wireType) {
      case WireType.VARINT:
        return this.readVarint();
      case WireType.I64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LEN: {
        const length = this.readLength(); // before reading this.pos: the prefix moves it
        this.pos += length;
        return;
      }
      case WireType.I32:
        this.need(4);
        this.pos += 4;
        return;
      case WireType.SGROUP:
        return this.skipGroup(fieldNumber);
      default:
        throw this.badWireType(wireType, fieldNumber);
    }
  }

  badWireType(wireType: number, fieldNumber: number, at = this.pos): WireError {
    const what = wireType === WireType.EGROUP ? 'an end-group tag without a start' : `invalid wire type ${wireType}`;
    return new WireError('Corrupt data', `${what} for field ${fieldNumber} near byte ${at}`, at);
  }

  /** Reads a tag; returns its field number and leaves the wire type in `lo & 7`. */
  readTag(): number {
    const at = this.pos;
    this.readVarint();
    const fieldNumber = this.lo >>> 3;
    if (this.hi !== 0 || fieldNumber === 0) {
      throw new WireError('Corrupt data', `invalid field tag at byte ${at} (field number 0 or above 2^29)`, at);
    }
    return fieldNumber;
  }

  private skipGroup(fieldNumber: number): void {
    const open = [fieldNumber];
    while (open.length > 0) {
      const at = this.pos;
      if (at >= this.limit) throw this.truncated('the end of group ', open[open.length - 1], at);
      const field = this.readTag();
      const wireType = this.lo & 7;
      if (wireType === WireType.EGROUP) {
        if (field !== open.pop()) throw this.badWireType(wireType, field, at);
      } else if (wireType === WireType.SGROUP) {
        if (open.length >= MAX_GROUP_DEPTH) {
          throw new WireError('Corrupt data', `groups nested deeper than ${MAX_GROUP_DEPTH} at byte ${at}`, at);
        }
        open.push(field);
      } else {
        this.skipValue(wireType, field);
      }
    }
  }
}

// ---- writer ----

/** Encoded size of an unsigned 32-bit varint. */
export function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Encoded size of a 64-bit varint given its halves. */
export function varintHalvesSize(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo >>> 0);
  if (hi < 0x8) return 5;
  if (hi < 0x400) return 6;
  if (hi < 0x20000) return 7;
  if (hi < 0x1000000) return 8;
  if (hi < 0x80000000) return 9;
  return 10;
}

/** int32/enum: negative values are sign-extended to 64 bits (10 bytes), as protobuf C++ does. */
export function int32Size(value: number): number {
  return value < 0 ? 10 : varint32Size(value);
}

export function int64Size(value: Int64): number {
  if (typeof value === 'number' && value >= 0 && value < TWO_POW_32) return varint32Size(value);
  const [lo, hi] = int64ToHalves(value);
  return varintHalvesSize(lo, hi);
}

export function tagSize(fieldNumber: number): number {
  return varint32Size(fieldNumber << 3);
}

/** Writes into one buffer whose exact size was computed beforehand. */
export class WireWriter {
  readonly bytes: Uint8Array;
  pos = 0;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  writeTag(fieldNumber: number, wireType: number): void {
    this.writeVarint32(((fieldNumber << 3) | wireType) >>> 0);
  }

  writeVarint32(value: number): void {
    const b = this.bytes;
    let v = value >>> 0;
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.pos++] = v;
  }

  writeVarintHalves(lo: number, hi: number): void {
    if (hi === 0) return this.writeVarint32(lo);
    const b = this.bytes;
    let l = lo >>> 0;
    let h = hi >>> 0;
    while (h > 0 || l >= 0x80) {
      b[this.pos++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    b[this.pos++] = l;
  }

  writeInt32(value: number): void {
    if (value >= 0) this.writeVarint32(value);
    else this.writeVarintHalves(value >>> 0, 0xffffffff);
  }

  writeInt64(value: Int64): void {
    if (typeof value === 'number' && value >= 0 && value < TWO_POW_32) return this.writeVarint32(value);
    const [lo, hi] = int64ToHalves(value);
    this.writeVarintHalves(lo, hi);
  }

  writeFloat(value: number): void {
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  writeDouble(value: number): void {
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  writeBytes(data: Uint8Array): void {
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** Writes a string as UTF-8; `byteLength` must be utf8Length(text). */
  writeUtf8(text: string, byteLength: number): void {
    if (byteLength === text.length) {
      const b = this.bytes;
      let p = this.pos;
      for (let i = 0; i < text.length; i++) b[p++] = text.charCodeAt(i);
      this.pos = p;
      return;
    }
    this.pos += encodeUtf8Into(text, this.bytes.subarray(this.pos, this.pos + byteLength));
  }
}
