// Schema-driven protobuf encoder in two passes over the same traversal order:
//  1. measure: computes every message, string and packed payload length into one flat array;
//  2. write: emits into a single Uint8Array of the exact total size, consuming those lengths.
// Big payloads (raw_data, float_data) are copied once, straight into the output.
//
// Canonical form, as protobuf C++ serialises proto2: known fields in field-number order,
// [packed=true] fields packed and other repeated scalars unpacked, unknown fields last.
// Empty repeated fields are not emitted (protobuf cannot tell them from absent ones).

import { SCHEMA, type FieldSpec, type MessageName, type MessageSpec, type MessageTypes } from './schema.ts';
import type { Int64 } from './types.ts';
import { WireType, WireWriter, int32Size, int64Size, tagSize, varint32Size } from './wire.ts';
import { utf8Length } from './utf8.ts';
import { isPackedArray, packedPayloadSize, writePackedPayload, type PackedKind } from './packed.ts';
import { MAX_NESTING_DEPTH } from './decode.ts';

type Source = Record<string, unknown> & { $unknown?: Uint8Array[] };

/** Protobuf messages are limited to 2 GiB; larger models need external data. */
const MAX_MESSAGE_BYTES = 0x7fffffff;

/** Thrown when a JS value cannot be encoded (wrong type for its field, cycles, over 2 GiB). */
export class OnnxEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxEncodeError';
  }
}

class Measurer {
  /** Lengths of messages, strings and packed payloads, in traversal order. */
  readonly lengths: number[] = [];

  message(spec: MessageSpec, source: Source, depth: number): number {
    if (depth > MAX_NESTING_DEPTH) {
      throw new OnnxEncodeError(`${spec.name} is nested deeper than ${MAX_NESTING_DEPTH} levels (a cycle?)`);
    }
    let total = 0;
    for (const field of spec.fields) {
      const value = source[field.key];
      if (value !== undefined) total += this.field(spec, field, value, depth);
    }
    if (source.$unknown !== undefined) for (const chunk of source.$unknown) total += chunk.length;
    return total;
  }

  private field(spec: MessageSpec, field: FieldSpec, value: unknown, depth: number): number {
    const tag = tagSize(field.number);
    if (field.cardinality === 'packed') {
      if (!isPackedArray(field.kind as PackedKind, value)) throw wrongType(spec, field, value);
      if (value.length === 0) return 0;
      const payload = packedPayloadSize(field.kind as PackedKind, value);
      this.lengths.push(payload);
      return tag + varint32Size(payload) + payload;
    }
    if (field.cardinality === 'repeated') {
      if (!Array.isArray(value)) throw wrongType(spec, field, value);
      let total = 0;
      for (const element of value) total += tag + this.value(spec, field, element, depth);
      return total;
    }
    return tag + this.value(spec, field, value, depth);
  }

  /** Size of one value without its tag (with its length prefix where it has one). */
  private value(spec: MessageSpec, field: FieldSpec, value: unknown, depth: number): number {
    switch (field.kind) {
      case 'int32':
      case 'enum':
        if (!Number.isInteger(value) || (value as number) < -0x80000000 || (value as number) > 0x7fffffff) {
          throw wrongType(spec, field, value);
        }
        return int32Size(value as number);
      case 'int64':
      case 'uint64':
        if (typeof value !== 'bigint' && !Number.isInteger(value)) throw wrongType(spec, field, value);
        return int64Size(value as Int64);
      case 'float':
      case 'double':
        if (typeof value !== 'number') throw wrongType(spec, field, value);
        return field.kind === 'float' ? 4 : 8;
      case 'string': {
        if (typeof value !== 'string') throw wrongType(spec, field, value);
        const length = utf8Length(value);
        this.lengths.push(length);
        return varint32Size(length) + length;
      }
      case 'bytes':
        if (!(value instanceof Uint8Array)) throw wrongType(spec, field, value);
        return varint32Size(value.length) + value.length;
      case 'message': {
        if (typeof value !== 'object' || value === null) throw wrongType(spec, field, value);
        const slot = this.lengths.length;
        this.lengths.push(0);
        const length = this.message(SCHEMA[field.message as MessageName], value as Source, depth + 1);
        this.lengths[slot] = length;
        return varint32Size(length) + length;
      }
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'bigint') return `the ${typeof value} ${value}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function wrongType(spec: MessageSpec, field: FieldSpec, value: unknown): OnnxEncodeError {
  return new OnnxEncodeError(`${spec.name}.${field.protoName}: cannot encode ${describe(value)} as ${field.cardinality} ${field.kind}`);
}

class Emitter {
  private next = 0;
  constructor(
    readonly w: WireWriter,
    readonly lengths: number[],
  ) {}

  message(spec: MessageSpec, source: Source): void {
    for (const field of spec.fields) {
      const value = source[field.key];
      if (value !== undefined) this.field(field, value);
    }
    if (source.$unknown !== undefined) for (const chunk of source.$unknown) this.w.writeBytes(chunk);
  }

  private field(field: FieldSpec, value: unknown): void {
    const w = this.w;
    if (field.cardinality === 'packed') {
      const array = value as Parameters<typeof writePackedPayload>[2];
      if (array.length === 0) return;
      w.writeTag(field.number, WireType.LEN);
      w.writeVarint32(this.lengths[this.next++]);
      writePackedPayload(w, field.kind as PackedKind, array);
    } else if (field.cardinality === 'repeated') {
      for (const element of value as unknown[]) {
        w.writeTag(field.number, field.wireType);
        this.value(field, element);
      }
    } else {
      w.writeTag(field.number, field.wireType);
      this.value(field, value);
    }
  }

  private value(field: FieldSpec, value: unknown): void {
    const w = this.w;
    switch (field.kind) {
      case 'int32':
      case 'enum':
        return w.writeInt32(value as number);
      case 'int64':
      case 'uint64':
        return w.writeInt64(value as Int64);
      case 'float':
        return w.writeFloat(value as number);
      case 'double':
        return w.writeDouble(value as number);
      case 'string': {
        const length = this.lengths[this.next++];
        w.writeVarint32(length);
        return w.writeUtf8(value as string, length);
      }
      case 'bytes':
        w.writeVarint32((value as Uint8Array).length);
        return w.writeBytes(value as Uint8Array);
      case 'message':
        w.writeVarint32(this.lengths[this.next++]);
        return this.message(SCHEMA[field.message as MessageName], value as Source);
    }
  }
}

/**
 * The bytes encodeMessage would write, from the measuring pass alone: no payload is copied, so
 * sizing a model costs a walk over its metadata, not a second serialisation.
 */
export function encodedSize<N extends MessageName>(message: MessageTypes[N], name: N): number {
  return new Measurer().message(SCHEMA[name], message as unknown as Source, 0);
}

/** Encodes one message of the named type into a new Uint8Array of exactly its size. */
export function encodeMessage<N extends MessageName>(message: MessageTypes[N], name: N): Uint8Array {
  const spec = SCHEMA[name];
  const measurer = new Measurer();
  const size = measurer.message(spec, message as unknown as Source, 0);
  if (size > MAX_MESSAGE_BYTES) {
    throw new OnnxEncodeError(`${name} would be ${size} bytes, over protobuf's 2 GiB limit; store large tensors as external data`);
  }
  const writer = new WireWriter(size);
  new Emitter(writer, measurer.lengths).message(spec, message as unknown as Source);
  if (writer.pos !== size) throw new Error(`encodeMessage: wrote ${writer.pos} bytes, measured ${size} (a value changed while encoding?)`);
  return writer.bytes;
}
