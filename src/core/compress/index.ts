// The compression pipeline: staged recipe + model + calibration set → compressed model and report.
// See docs/recipe.md (stages), docs/calibration.md (pipeline, jobs, progress) and
// docs/pruning-quality.md (results).
export { compressModel, type CompressRequest, type CompressOutcome } from './pipeline.ts';
export { registerStageRunner, stageRunner, type StageContext, type StageRun, type StageRunner, type StageStep } from './stage.ts';
export { Calibration, type CalibrationSetup } from './calibration.ts';
export { pruneStageRunner } from './pruneStage.ts';
export { dispatchJobs } from './dispatch.ts';
export { cpuQuantizeLayer, runQuantizeJob, type QuantizeJob, type QuantizeJobResult, type QuantizeLayerFn } from './quantJobs.ts';
export { cpuPruneLayer, runPruneJob, type PruneJob, type PruneJobResult, type PruneLayerFn, type RelativeErrorBasis } from './jobs.ts';
export { allocateSparsity, mixedNM, AllocationError, type Allocation, type AllocationUnit } from './allocate.ts';
export { pipelineSteps, type PipelineStep } from './steps.ts';
export { WorkingModel, weightFromStored, storedFromWeight, transposed, WeightAccessError } from './weights.ts';
export { estimatedSparseBytes } from './storage.ts';
export { checkPrunedLayer, countZeros } from './check.ts';
export { readStoredLayer, storedNonZero, type StoredLayer } from './storedLayer.ts';
export { inspectLayerQuant, type InspectedGrid, type LayerQuantInspection, type QuantScope } from './quantInspect.ts';
export { analyticFileParts, analyticPartRows, analyticPartsTotal, formatSignedPercent, layerPartsTotal, measuredVsAnalyticPercent, packedParts } from './sizeParts.ts';
export { sha256Hex, sha256HexOfChunks } from './sha256.ts';
export { labMetadataEntries, withLabMetadata } from './metadata.ts';
export {
  describeAwqScale,
  describeRelativeErrorBasis,
  formatRelativeError,
  isPruneStageReport,
  type AnalyticFileParts,
  type CalibrationSummary,
  type CompressReport,
  type CompressTotals,
  type LayerPruneReport,
  type PatternCheck,
  type PruneStageReport,
  type StageReport,
} from './report.ts';
