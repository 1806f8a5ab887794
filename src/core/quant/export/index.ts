// Writing quantized weights into a model: MatMulNBits (onnxruntime's packed kernel), blocked
// DequantizeLinear (standard ONNX, opset 21), or simulated (dequantized floats), and their sizes.
// Which writer for which format: docs/quantized-export.md.
export {
  QuantExportError,
  quantizedWeightProblem,
  matMulNBitsProblem,
  dequantizeLinearProblem,
  nBitsBlockSize,
  packMatMulNBits,
  packDequantizeLinear,
  MAX_NBITS_BLOCK,
  MIN_NBITS_BLOCK,
  NBITS_WIDTHS,
  type NBitsPacked,
  type BlockedPacked,
} from './pack.ts';
export {
  writeMatMulNBits,
  matMulNBitsLayerProblem,
  layerWriteProblem,
  MICROSOFT_DOMAIN,
  type LayerToExport,
  type ExportResult,
  type MatMulNBitsOptions,
} from './matMulNBits.ts';
export { writeDequantizeLinear, BLOCKED_DEQUANTIZE_OPSET, INT4_IR_VERSION } from './dequantizeLinear.ts';
export { writeSimulated } from './simulated.ts';
export { writeQuik, quikWriteProblem, quikExtraBytes, quikIntegerBytes, type QuikLayerToExport } from './quik.ts';
export { raiseOpset, MIN_RAISABLE_OPSET } from './opset.ts';
export {
  analyticPackedBytes,
  analyticModelBytes,
  formatOf,
  storedTensorBytes,
  type PackedFormat,
  type PackedBytes,
  type ModelSizeEstimate,
} from './size.ts';
export { nBitsNodeOf, nBitsWeightTensors, nBitsStoredBytes, readMatMulNBits } from './read.ts';
