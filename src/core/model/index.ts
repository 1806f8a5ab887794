// Model analysis: linear layers, attention sites, blocks and roles of an ONNX model.
export { analyzeModel } from './analyze.ts';
export { blockFromName, modulePathFromNode, modulePathFromWeight } from './names.ts';
export { roleFromName } from './roles.ts';
export type {
  AttentionSite,
  BlockInfo,
  Dim,
  EmbeddingInfo,
  LinearLayer,
  LinearRole,
  LinearUse,
  ModelAnalysis,
  ModelTask,
  OpsetImport,
  RoleSource,
  TensorInfo,
  WeightLayout,
} from './types.ts';
