// Reading a .onnx file: recognise wrong files, decode the ModelProto, check it is plausibly a model.

import { decodeMessage } from './decode.ts';
import { sniffNonOnnx } from './sniff.ts';
import { OnnxFormatError, type ModelProto, type TensorProto } from './types.ts';
import { dtypeName } from './dtypes.ts';

/**
 * Parses a .onnx file. Tensor payloads (raw_data) are zero-copy views into `bytes`.
 * Throws OnnxFormatError naming what was expected, where, and in which field.
 */
export function readModel(bytes: Uint8Array): ModelProto {
  const sniffed = sniffNonOnnx(bytes);
  if (sniffed !== null) throw new OnnxFormatError(sniffed.message, 0, '');
  let model: ModelProto;
  try {
    model = decodeMessage(bytes, 'ModelProto');
  } catch (error) {
    const hint = error instanceof OnnxFormatError ? tensorFileHint(bytes) : undefined;
    if (hint !== undefined) throw new OnnxFormatError(`Not an ONNX model: ${hint}`, 0, 'ModelProto');
    throw error;
  }
  checkIsModel(model, bytes);
  return model;
}

/** ModelProto.ir_version and .graph MUST be present (onnx.proto); without them it is not a model. */
function checkIsModel(model: ModelProto, bytes: Uint8Array): void {
  let missing: string | undefined;
  if (model.graph === undefined && model.irVersion === undefined) missing = 'no ir_version (field 1) and no graph (field 7) found in ModelProto';
  else if (model.graph === undefined) missing = 'no graph field (7) found in ModelProto';
  else if (model.irVersion === undefined) missing = 'no ir_version field (1) found in ModelProto';
  if (missing === undefined) return;
  const hint = tensorFileHint(bytes);
  throw new OnnxFormatError(`Not an ONNX model: ${missing}${hint === undefined ? '' : `; ${hint}`}`, bytes.length, 'ModelProto');
}

/** A serialized TensorProto (an input_0.pb from a test_data_set folder) is a common wrong pick. */
function tensorFileHint(bytes: Uint8Array): string | undefined {
  let tensor: TensorProto;
  try {
    tensor = decodeMessage(bytes, 'TensorProto');
  } catch {
    return undefined;
  }
  const hasPayload =
    tensor.rawData !== undefined || tensor.floatData !== undefined || tensor.int32Data !== undefined ||
    tensor.int64Data !== undefined || tensor.doubleData !== undefined || tensor.stringData !== undefined;
  if (tensor.dataType === undefined || !hasPayload || tensor.$unknown !== undefined) return undefined;
  const dims = (tensor.dims ?? []).map(String).join(', ');
  return `this looks like a single serialized TensorProto (${dtypeName(tensor.dataType)} [${dims}]), such as a test_data_set input_0.pb file, not a ModelProto`;
}
