// The [packed=true] TensorProto fields (float_data, int32_data, int64_data, double_data,
// uint64_data) as typed arrays, in both directions. 64-bit integers go through Uint32Array views
// of the BigInt64Array's memory so no per-element BigInt is ever created.

import { LITTLE_ENDIAN_HOST, WireError, varintHalvesSize, int32Size, type WireReader, type WireWriter } from './wire.ts';

export type PackedKind = 'float' | 'double' | 'int32' | 'int64' | 'uint64';
export type PackedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array;
/**
 * Elements seen one at a time (unpacked on the wire), as bit patterns: 64-bit kinds (double
 * included) store lo, hi pairs and float its uint32 bits. Going through a JS number would
 * quiet a signalling NaN and may canonicalise a NaN payload.
 */
export type LooseValues = number[];
export type PackedPart = PackedArray | LooseValues;

/** Index of the low and high uint32 half of a 64-bit element inside a Uint32Array view. */
const LO = LITTLE_ENDIAN_HOST ? 0 : 1;
const HI = 1 - LO;

function isWide(kind: PackedKind): kind is 'int64' | 'uint64' | 'double' {
  return kind === 'int64' || kind === 'uint64' || kind === 'double';
}

function allocate(kind: PackedKind, count: number): PackedArray {
  switch (kind) {
    case 'float':
      return new Float32Array(count);
    case 'double':
      return new Float64Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint64':
      return new BigUint64Array(count);
  }
}

function halvesView(array: BigInt64Array | BigUint64Array | Float64Array): Uint32Array {
  return new Uint32Array(array.buffer, array.byteOffset, array.length * 2);
}

/** Decodes one packed record of `length` bytes at the reader's position (copying, never a view). */
export function readPackedRecord(r: WireReader, kind: PackedKind, length: number): PackedArray {
  const start = r.pos;
  const end = start + length;
  if (kind === 'float' || kind === 'double') {
    const width = kind === 'float' ? 4 : 8;
    if (length % width !== 0) {
      throw new WireError('Corrupt data', `packed ${kind} data of ${length} bytes at byte ${start} is not a multiple of ${width}`, start);
    }
    r.pos = end;
    if (LITTLE_ENDIAN_HOST) {
      const copy = r.bytes.slice(start, end).buffer;
      return kind === 'float' ? new Float32Array(copy) : new Float64Array(copy);
    }
    const view = new DataView(r.bytes.buffer, r.bytes.byteOffset + start, length);
    const out = allocate(kind, length / width) as Float32Array | Float64Array;
    for (let i = 0; i < out.length; i++) out[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    return out;
  }
  // Varints: one element per byte without the continuation bit.
  let count = 0;
  for (let p = start; p < end; p++) if (r.bytes[p] < 0x80) count++;
  const savedLimit = r.limit;
  r.limit = end;
  const out = allocate(kind, count);
  if (kind === 'int32') {
    const ints = out as Int32Array;
    for (let i = 0; i < count; i++) ints[i] = r.readInt32();
  } else {
    const halves = halvesView(out as BigInt64Array);
    for (let i = 0; i < count; i++) {
      r.readVarint();
      halves[2 * i + LO] = r.lo;
      halves[2 * i + HI] = r.hi;
    }
  }
  if (r.pos < end) r.readVarint(); // a final unterminated varint: this throws with its offset
  r.limit = savedLimit;
  return out;
}

/** Reads one unpacked element and appends it to `loose`. */
export function readLooseValue(r: WireReader, kind: PackedKind, loose: LooseValues): void {
  switch (kind) {
    case 'float':
      loose.push(r.readFixed32Bits());
      return;
    case 'double':
      r.readFixed64Bits();
      loose.push(r.lo, r.hi);
      return;
    case 'int32':
      loose.push(r.readInt32());
      return;
    default:
      r.readVarint();
      loose.push(r.lo, r.hi);
  }
}

function partLength(kind: PackedKind, part: PackedPart): number {
  return Array.isArray(part) && isWide(kind) ? part.length / 2 : part.length;
}

/** Concatenates parts in wire order; a single typed part is returned as is. */
export function concatPacked(kind: PackedKind, parts: PackedPart[]): PackedArray {
  if (parts.length === 1 && !Array.isArray(parts[0])) return parts[0];
  let total = 0;
  for (const part of parts) total += partLength(kind, part);
  const out = allocate(kind, total);
  const halves = isWide(kind) ? halvesView(out as BigInt64Array) : undefined;
  // Loose float parts are bit patterns: copy them through an integer view of the same memory.
  const bits = kind === 'float' ? new Uint32Array(out.buffer, out.byteOffset, out.length) : undefined;
  let offset = 0;
  for (const part of parts) {
    if (!Array.isArray(part)) {
      (out as Float32Array).set(part as Float32Array, offset);
    } else if (halves) {
      for (let i = 0; i < part.length; i += 2) {
        halves[2 * (offset + i / 2) + LO] = part[i];
        halves[2 * (offset + i / 2) + HI] = part[i + 1];
      }
    } else {
      (bits ?? (out as Int32Array)).set(part, offset);
    }
    offset += partLength(kind, part);
  }
  return out;
}

/** Byte length of the packed payload (without tag and length prefix). */
export function packedPayloadSize(kind: PackedKind, array: PackedArray): number {
  switch (kind) {
    case 'float':
      return array.length * 4;
    case 'double':
      return array.length * 8;
    case 'int32': {
      let n = 0;
      for (const v of array as Int32Array) n += int32Size(v);
      return n;
    }
    default: {
      const halves = halvesView(array as BigInt64Array);
      let n = 0;
      for (let i = 0; i < array.length; i++) n += varintHalvesSize(halves[2 * i + LO], halves[2 * i + HI]);
      return n;
    }
  }
}

export function writePackedPayload(w: WireWriter, kind: PackedKind, array: PackedArray): void {
  if ((kind === 'float' || kind === 'double') && LITTLE_ENDIAN_HOST) {
    w.writeBytes(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    return;
  }
  switch (kind) {
    case 'float':
      for (const v of array as Float32Array) w.writeFloat(v);
      return;
    case 'double':
      for (const v of array as Float64Array) w.writeDouble(v);
      return;
    case 'int32':
      for (const v of array as Int32Array) w.writeInt32(v);
      return;
    default: {
      const halves = halvesView(array as BigInt64Array);
      for (let i = 0; i < array.length; i++) w.writeVarintHalves(halves[2 * i + LO], halves[2 * i + HI]);
    }
  }
}

/** Which packed kinds a typed array value may hold, for writer type checks. */
export function isPackedArray(kind: PackedKind, value: unknown): value is PackedArray {
  switch (kind) {
    case 'float':
      return value instanceof Float32Array;
    case 'double':
      return value instanceof Float64Array;
    case 'int32':
      return value instanceof Int32Array;
    case 'int64':
      return value instanceof BigInt64Array;
    case 'uint64':
      return value instanceof BigUint64Array;
  }
}
