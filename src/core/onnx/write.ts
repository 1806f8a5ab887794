// Writing a .onnx file: the canonical protobuf encoding of a ModelProto (see encode.ts).

import { encodedSize, encodeMessage } from './encode.ts';
import type { ModelProto } from './types.ts';

/**
 * Serialises a model. Output is deterministic: for a model read by readModel it is the form
 * protobuf C++ would write, and write(read(write(m))) is byte-identical to write(m).
 */
export function writeModel(model: ModelProto): Uint8Array {
  return encodeMessage(model, 'ModelProto');
}

/** The length writeModel(model) would have, measured without writing it. */
export function writtenModelSize(model: ModelProto): number {
  return encodedSize(model, 'ModelProto');
}
