// Public API of the ONNX codec: read/write models, tensor data, graph lookups, external data.

export * from './types.ts';
export { readModel } from './read.ts';
export { writeModel } from './write.ts';
export { decodeMessage, MAX_NESTING_DEPTH } from './decode.ts';
export { encodeMessage, OnnxEncodeError } from './encode.ts';
export type { MessageName, MessageTypes } from './schema.ts';
export { sniffNonOnnx, type SniffResult } from './sniff.ts';
export { dtypeInfo, dtypeCode, dtypeName, type DtypeInfo, type TensorDtype } from './dtypes.ts';
export {
  readTensor,
  checkTensorPayload,
  tensorDims,
  tensorElementCount,
  tensorToFloat32,
  float32ToRawData,
  makeFloatTensor,
  setTensorFloat32,
  packSubByte,
  type TensorArray,
  type TensorData,
} from './tensor.ts';
export {
  float16ToFloat32,
  float32ToFloat16,
  bfloat16ToFloat32,
  float32ToBfloat16,
  float16ArrayToFloat32,
  bfloat16ArrayToFloat32,
} from './float16.ts';
export {
  attr,
  attributeValue,
  findAttribute,
  getAttrFloat,
  getAttrFloats,
  getAttrInt,
  getAttrInts,
  getAttrString,
  consumerMap,
  initializerMap,
  modelGraphs,
  modelTensors,
  producerMap,
  valueInfoShape,
  type AttrValue,
  type ShapeDim,
} from './graph.ts';
export { externalDataRefs, resolveExternalData, ExternalDataError, type ExternalDataRef } from './external.ts';
export { checkModelPayloads } from './payloads.ts';
export { folderPathProblem } from './paths.ts';
export { quoteName, shortName } from './display.ts';
