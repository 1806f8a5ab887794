// Model analysis: linear layers, attention sites, blocks and roles of an ONNX model.
export { analyzeModel } from './analyze.ts';
export { blockFromName, modulePathFromNode, modulePathFromWeight } from './names.ts';
export { roleFromName } from './roles.ts';
export { SPARSE_ZERO_SHARE, summariseCompression } from './compressionState.ts';
export { detectPattern } from './detectPattern.ts';
export { LAB_METADATA_KEYS, LAB_METADATA_PREFIX, readLabMetadata } from './labMetadata.ts';
export type {
  AttentionSite,
  BlockInfo,
  CompressionState,
  CompressionVerdict,
  Dim,
  EmbeddingInfo,
  LabMetadata,
  LayerCompression,
  LinearLayer,
  LinearRole,
  LinearUse,
  ModelAnalysis,
  ModelTask,
  OpsetImport,
  PackedWeight,
  RoleSource,
  StructuredPattern,
  TensorInfo,
  WeightLayout,
} from './types.ts';
