// The pruning pipeline: recipe + model + calibration set → pruned model and report.
// See docs/calibration.md (pipeline, jobs, progress) and docs/pruning-quality.md (results).
export { pruneModel, type PruneModelRequest, type PruneOutcome, type PruneProgress } from './pipeline.ts';
export { PruneCancelled, dispatchJobs } from './dispatch.ts';
export { cpuPruneLayer, runPruneJob, type PruneJob, type PruneJobResult, type PruneLayerFn } from './jobs.ts';
export { allocateSparsity, mixedNM, AllocationError, type Allocation, type AllocationUnit } from './allocate.ts';
export { pipelineStages, type PruneStage } from './stages.ts';
export { WorkingModel, weightFromStored, storedFromWeight, transposed, WeightAccessError } from './weights.ts';
export { estimatedSparseBytes } from './storage.ts';
export { checkPrunedLayer, countZeros } from './check.ts';
export { sha256Hex, sha256HexOfChunks } from './sha256.ts';
export type { CalibrationSummary, LayerPruneReport, PatternCheck, PruneReport, PruneTotals } from './report.ts';
