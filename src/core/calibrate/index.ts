// Calibration: instrument a model, run calibration samples, accumulate per-layer statistics.
// See docs/calibration.md.
export { instrumentModel, tappedTensorNames, InstrumentError, type TapPlan } from './instrument.ts';
export { calibrationTarget, type CalibrationTarget, type ChannelAxis, type TappedActivation } from './targets.ts';
export { toTokenRows, tokenSlice, TapShapeError, type TokenRows } from './tokens.ts';
export {
  CpuStatsAccumulator,
  cpuAccumulatorFactory,
  layerStatsFromSums,
  type AccumulatorFactory,
  type AccumulatorSpec,
  type InputSums,
  type StatsAccumulator,
} from './accumulator.ts';
export { AttentionAccumulator, type AttentionStats } from './attention.ts';
export { TokenReservoir } from './reservoir.ts';
export { calibrationFeeds } from './feeds.ts';
export { chooseSamples, deriveSeed, mulberry32, type Random } from './random.ts';
export { selectedSqNorm, type TokenSelectionSite } from './tokenSelection.ts';
export {
  openSequentialCalibration,
  type AdvanceOptions,
  type SequentialCalibration,
  type SequentialCalibrationRequest,
  type StageStatsOptions,
  type StageTapPlan,
} from './blockwise.ts';
export { planBlockCut, segmentModel, type BlockCut, type CutPlan, type SegmentRun, type StageSegment, type StageTaps } from './subgraph.ts';
export { compactEmbeddings, type CompactedEmbeddings } from './embeddingRows.ts';
export { gramOutputNames, graphGramUnsupported, ReducedGramAccumulator, withGramOutputs, type GramTap } from './graphGram.ts';
export {
  calibrate,
  collectStats,
  sampleBatches,
  StatsCollector,
  type CalibrateRequest,
  type CalibrationProgress,
  type CalibrationStats,
  type CollectOptions,
} from './collect.ts';
