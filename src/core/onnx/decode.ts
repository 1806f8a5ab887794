// Schema-driven protobuf decoder. Follows protobuf's parsing rules so the result is what
// protobuf C++ would see: a repeated field is appended to, a singular scalar's last value wins,
// a singular message seen twice is merged, a oneof member clears the other members (the last
// one on the wire wins), and a field whose number or wire type does not match
// the schema is kept verbatim as an unknown field. Bytes fields are views into the input.

import { SCHEMA, type FieldSpec, type MessageName, type MessageSpec, type MessageTypes } from './schema.ts';
import { OnnxFormatError } from './types.ts';
import { WireError, WireReader, WireType } from './wire.ts';
import { decodeUtf8Lossless } from './utf8.ts';
import { quoteName } from './display.ts';
import { concatPacked, readLooseValue, readPackedRecord, type PackedKind, type PackedPart } from './packed.ts';

/** Deepest message nesting accepted; ONNX models nest subgraphs a handful of levels at most. */
export const MAX_NESTING_DEPTH = 100;

type Target = Record<string, unknown> & { $unknown?: Uint8Array[] };

/** One message being decoded; the stack of frames is the field path in error messages. */
interface Frame {
  spec: MessageSpec;
  target: Target;
  /** The field being read, or undefined while reading a tag. */
  field: FieldSpec | undefined;
  /** Number of an unknown field being skipped (0 when none). */
  unknownField: number;
  /** Element index for repeated fields, -1 otherwise. */
  index: number;
}

class Decoder {
  readonly frames: Frame[] = [];
  constructor(readonly r: WireReader) {}

  decodeInto(spec: MessageSpec, target: Target, end: number): void {
    const r = this.r;
    if (this.frames.length >= MAX_NESTING_DEPTH) {
      throw new WireError('Corrupt data', `messages nested deeper than ${MAX_NESTING_DEPTH} levels at byte ${r.pos}`, r.pos);
    }
    const frame: Frame = { spec, target, field: undefined, unknownField: 0, index: -1 };
    this.frames.push(frame);
    const savedLimit = r.limit;
    r.limit = end;
    let packed: Map<FieldSpec, PackedPart[]> | undefined;
    while (r.pos < end) {
      frame.field = undefined;
      frame.index = -1;
      const tagStart = r.pos;
      const fieldNumber = r.readTag();
      const wireType = r.lo & 7;
      const field = spec.byNumber[fieldNumber];
      if (field === undefined || !accepts(field, wireType)) {
        frame.unknownField = fieldNumber;
        r.skipValue(wireType, fieldNumber);
        (target.$unknown ??= []).push(r.bytes.subarray(tagStart, r.pos));
        frame.unknownField = 0;
        continue;
      }
      frame.field = field;
      if (field.oneofSiblings !== undefined) for (const key of field.oneofSiblings) delete target[key];
      if (field.cardinality === 'packed') {
        packed ??= new Map();
        let parts = packed.get(field);
        if (parts === undefined) packed.set(field, (parts = []));
        this.readPackedField(field, wireType, parts);
      } else if (field.kind === 'message') {
        this.readMessageField(field, target, frame);
      } else if (field.cardinality === 'repeated') {
        this.readRepeatedScalar(field, wireType, target, frame);
      } else {
        target[field.key] = this.readScalar(field);
      }
    }
    if (packed !== undefined) finishPacked(target, packed);
    r.limit = savedLimit;
    this.frames.pop();
  }

  private readScalar(field: FieldSpec): unknown {
    const r = this.r;
    switch (field.kind) {
      case 'int32':
      case 'enum':
        return r.readInt32();
      case 'int64':
        return r.readInt64();
      case 'uint64':
        return r.readUint64();
      case 'float':
        return r.readFloat();
      case 'double':
        return r.readDouble();
      case 'string': {
        const length = r.readLength();
        const text = decodeUtf8Lossless(r.bytes, r.pos, r.pos + length);
        r.pos += length;
        return text;
      }
      case 'bytes': {
        const length = r.readLength();
        const view = r.bytes.subarray(r.pos, r.pos + length);
        r.pos += length;
        return view;
      }
      default:
        throw new Error(`readScalar called for message field ${field.protoName}`);
    }
  }

  private readMessageField(field: FieldSpec, target: Target, frame: Frame): void {
    const r = this.r;
    const length = r.readUncheckedLength();
    let end = r.pos + length;
    let truncation: WireError | undefined;
    if (length > r.limit - r.pos) {
      truncation = r.truncated('', length, r.pos);
      if (r.limit !== r.bytes.length) throw truncation; // a corrupt length inside its parent
      // The file is cut short: decode what is there so the error names the innermost field cut
      // (e.g. an initializer's raw_data), and report this message's length only if that succeeds.
      end = r.limit;
    }
    const spec = SCHEMA[field.message as MessageName];
    let child: Target;
    if (field.cardinality === 'repeated') {
      const list = (target[field.key] ??= []) as Target[];
      frame.index = list.length;
      list.push((child = {}));
    } else {
      child = (target[field.key] ??= {}) as Target; // protobuf merges a repeated singular message
    }
    this.decodeInto(spec, child, end);
    if (truncation !== undefined) throw truncation;
  }

  /** Unpacked elements, or a packed record (protobuf parsers must accept both for proto2). */
  private readRepeatedScalar(field: FieldSpec, wireType: number, target: Target, frame: Frame): void {
    const r = this.r;
    if (wireType === WireType.LEN && field.wireType !== WireType.LEN) {
      const length = r.readLength();
      if (length === 0) return;
      const end = r.pos + length;
      const list = (target[field.key] ??= []) as unknown[];
      const savedLimit = r.limit;
      r.limit = end;
      while (r.pos < end) {
        frame.index = list.length;
        list.push(this.readScalar(field));
      }
      r.limit = savedLimit;
      return;
    }
    const list = (target[field.key] ??= []) as unknown[];
    frame.index = list.length;
    list.push(this.readScalar(field));
  }

  private readPackedField(field: FieldSpec, wireType: number, parts: PackedPart[]): void {
    const kind = field.kind as PackedKind;
    if (wireType === WireType.LEN) {
      const length = this.r.readLength();
      if (length > 0) parts.push(readPackedRecord(this.r, kind, length));
      return;
    }
    let loose = parts[parts.length - 1];
    if (loose === undefined || !Array.isArray(loose)) parts.push((loose = []));
    readLooseValue(this.r, kind, loose);
  }
}

/** A field is read as known only with the wire type its kind implies (or LEN for packable ones). */
function accepts(field: FieldSpec, wireType: number): boolean {
  if (wireType === field.wireType) return true;
  return wireType === WireType.LEN && field.cardinality !== 'optional' && field.wireType !== WireType.LEN;
}

/** Turns collected packed parts into typed arrays, appending to any value from a merged message. */
function finishPacked(target: Target, packed: Map<FieldSpec, PackedPart[]>): void {
  for (const [field, parts] of packed) {
    if (parts.length === 0) continue;
    const existing = target[field.key] as PackedPart | undefined;
    if (existing !== undefined) parts.unshift(existing);
    target[field.key] = concatPacked(field.kind as PackedKind, parts);
  }
}

/** Paths deeper than this show their first and last few steps only (nesting bombs run to 100). */
const MAX_PATH_STEPS = 12;

/** Renders e.g. `ModelProto.graph > GraphProto.initializer[3] ("w") > TensorProto.raw_data`. */
export function renderFieldPath(frames: readonly Frame[]): string {
  const steps = frames.map((frame, i) => {
    let text = frame.spec.name;
    if (frame.field !== undefined) {
      text += `.${frame.field.protoName}`;
      if (frame.index >= 0) text += `[${frame.index}]`;
      const childName = frames[i + 1]?.target.name;
      if (typeof childName === 'string' && childName !== '') text += ` (${quoteName(childName)})`;
    } else if (frame.unknownField > 0) {
      text += `.<unknown field ${frame.unknownField}>`;
    }
    return text;
  });
  if (steps.length <= MAX_PATH_STEPS) return steps.join(' > ');
  const half = MAX_PATH_STEPS / 2;
  return [...steps.slice(0, half), `… ${steps.length - 2 * half} more …`, ...steps.slice(-half)].join(' > ');
}

/** Plain Uint8Array over the same memory (a Node Buffer's subarray() would yield Buffers). */
export function asPlainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes one message of the named type. Never copies bytes fields (raw_data, s, ...): they are
 * views into `bytes`, so the caller must not reuse that buffer while the result is alive.
 */
export function decodeMessage<N extends MessageName>(bytes: Uint8Array, name: N): MessageTypes[N] {
  const input = asPlainBytes(bytes);
  const decoder = new Decoder(new WireReader(input));
  const root: Target = {};
  try {
    decoder.decodeInto(SCHEMA[name], root, input.length);
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    const path = renderFieldPath(decoder.frames);
    throw new OnnxFormatError(`${error.title}: ${path} ${error.detail}`, error.offset, path);
  }
  return root as MessageTypes[N];
}
