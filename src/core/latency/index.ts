// Measured latency (docs/latency.md): a per-block latency table for structured search, and a
// whole model's latency for the reports.
export { latencySpec, latencySpecOf, type LatencySpec, type LatencySpecResult } from './spec.ts';
export { attentionGraph, mlpGraph, overheadGraph, restGraph } from './graphs.ts';
export { quantile, timeRuns, defaultClock, type Clock, type Timings, type TimingOptions } from './timing.ts';
export {
  blockLatencyMs,
  denseKept,
  interpolate,
  measureLatencyTable,
  monotone,
  neuronSamples,
  predictModelMs,
  predictSpeedup,
  tableFromMedians,
  type BlockKept,
  type LatencyTable,
  type LatencyTableOptions,
} from './table.ts';
export { latencyFeeds, measureModelLatency, type ModelLatency, type ModelLatencyOptions } from './model.ts';
export { measureModelLatencies, measureRunnersLatency } from './model.ts';
export { describeRunLatency, latencyWindow, predictedLatencyOf, runLatency, type PredictedLatency, type RunLatency } from './runLatency.ts';
