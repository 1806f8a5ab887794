// Runs → points of the trade-off chart: the metric against one measure of size or speed, for every
// finished run of the loaded model. Pure: the view passes the store's runs and model in.
import type { TradeoffAxis, TradeoffRun } from './charts/tradeoffChart';
import type { EvalMetrics } from '../core/eval/metrics';
import type { CompressReport } from '../core/compress/report';
import { isKvCacheStageReport } from '../core/compress/kvCacheStage';
import { metricMeaning, primaryMetric } from './metricsView';
import type { RunRecord } from './store';

/** Float32 storage: what a layer no stage quantized costs per weight. */
export const DENSE_BITS = 32;

/** The loaded model as the trade-off needs it: which file, which load, its size and metrics. */
export interface TradeoffModel {
  sha256?: string;
  loadId: number;
  sizeBytes?: number;
  metrics?: EvalMetrics;
}

export interface TradeoffPoints {
  points: TradeoffRun[];
  dense?: { x: number; y: number };
  /** "perplexity" or "top1": the metric key the y axis reads, and its name for people. */
  metricKey: string;
  metricLabel: string;
  better: 'lower' | 'higher';
  /** Finished runs of this model without a value on this axis (no timing yet, or it failed). */
  leftOut: number;
  /** Runs of this model still running: they join the chart when they finish. */
  running: number;
}

/**
 * A run belongs to the loaded model when it was made from the same file (restored runs have only
 * the hash), else — the hash not known yet — from the same load.
 */
export function isRunOfModel(run: RunRecord, model: TradeoffModel): boolean {
  if (run.model.sha256 && model.sha256) return run.model.sha256 === model.sha256;
  return run.model.loadId === model.loadId;
}

/** Stored bits per weight over the quantized layers (analytic); 32 when the run quantized none. */
export function bitsPerWeight(report: CompressReport): number {
  // A layer quantized twice has a row per stage: the last one is what the file holds.
  const rows = [...new Map(report.quantized.map((q) => [q.id, q])).values()];
  const weights = rows.reduce((sum, q) => sum + q.shape[0] * q.shape[1], 0);
  if (weights === 0) return DENSE_BITS;
  return rows.reduce((sum, q) => sum + q.bitsPerWeight * q.shape[0] * q.shape[1], 0) / weights;
}

/** The run's value on an axis; undefined when it has none (no timing measured). */
export function axisValue(run: RunRecord, axis: TradeoffAxis): number | undefined {
  const report = run.report;
  if (!report) return undefined;
  if (axis === 'bytes') return report.totals.denseFileBytes;
  if (axis === 'bits') return bitsPerWeight(report);
  if (axis === 'params') return report.totals.linearParams - report.totals.linearZeros;
  if (axis === 'latency') return report.latency?.perTokenCompressedMs;
  return run.timing?.status === 'done' ? run.timing.runMsPerItem : undefined;
}

/** The colour key: each stage's method in order, "wanda", "wanda → gptq". */
export function methodKey(run: RunRecord): string {
  return run.recipe.stages.map((stage) => (stage as { method?: string }).method ?? stage.kind).join(' → ');
}

/** The shape key: the stage kinds that ran, "prune", "prune + quantize". */
export function stagesKey(run: RunRecord): string {
  return [...new Set(run.recipe.stages.map((stage) => stage.kind))].join(' + ') || 'none';
}

const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * The dense model's x: its file, 32 bits, all its linear weights, or its time per item — measured
 * beside every timed run, so the median of those measurements.
 */
function denseX(axis: TradeoffAxis, model: TradeoffModel, runs: readonly RunRecord[]): number | undefined {
  if (axis === 'bytes') return model.sizeBytes;
  if (axis === 'bits') return DENSE_BITS;
  if (axis === 'params') return runs.find((r) => r.report)?.report!.totals.linearParams;
  // Measured once per model and backend in the page (every run carries the same value).
  if (axis === 'latency') return median(runs.flatMap((r) => (r.report?.latency ? [r.report.latency.perTokenDenseMs] : [])));
  return median(runs.flatMap((r) => (r.timing?.status === 'done' ? [r.timing.denseMsPerItem] : [])));
}

const metricOf = (metrics: EvalMetrics | undefined, key: string): number | undefined => (metrics as unknown as Record<string, number> | undefined)?.[key];

function details(run: RunRecord): string[] {
  const report = run.report!;
  const lines = [`sparsity ${(report.totals.achievedSparsityAllLinear * 100).toFixed(1)} % of linear weights`, `file ${report.totals.denseFileBytes.toLocaleString('en-US')} bytes (measured)`];
  if (report.quantized.length > 0) lines.push(`${bitsPerWeight(report).toFixed(2)} bits per weight (analytic)${report.totals.simulatedLayers > 0 ? `, ${report.totals.simulatedLayers} layers simulated` : ''}`);
  const kv = (report.stages ?? []).find(isKvCacheStageReport);
  if (kv) lines.push(`KV cache ${kv.cacheBytesPerToken.quantized.toLocaleString('en-US')} bytes per token (analytic; simulated, the file keeps float32)`);
  if (report.latency) lines.push(`latency ${report.latency.perTokenCompressedMs.toFixed(3)} ms/token (dense ${report.latency.perTokenDenseMs.toFixed(3)}, ×${report.latency.speedup.toFixed(2)}), measured on ${report.latency.backend}`);
  if (run.timing?.status === 'done') lines.push(`${run.timing.runMsPerItem.toFixed(3)} ms per item (dense ${run.timing.denseMsPerItem.toFixed(3)})`);
  if (run.sweep) lines.push(`sweep: ${run.sweep.param} = ${run.sweep.value}`);
  return lines;
}

/** Every finished run of the loaded model as a point on `axis`, the dense model beside them. */
export function tradeoffPoints(runs: readonly RunRecord[], model: TradeoffModel, axis: TradeoffAxis): TradeoffPoints {
  const mine = runs.filter((r) => isRunOfModel(r, model));
  const denseMetrics = model.metrics ?? mine.find((r) => r.dense.metrics)?.dense.metrics;
  const task = denseMetrics?.task ?? mine.find((r) => r.evaluation?.metrics)?.evaluation!.metrics!.task ?? 'causal-lm';
  const metricKey = primaryMetric[task];
  const finished = mine.filter((r) => r.status === 'done' && r.report && metricOf(r.evaluation?.metrics, metricKey) !== undefined);
  const points: TradeoffRun[] = [];
  for (const run of finished) {
    const x = axisValue(run, axis);
    if (x === undefined) continue;
    points.push({ id: run.id, label: `run ${run.number}: ${run.report!.summary}`, x, y: metricOf(run.evaluation!.metrics, metricKey)!, method: methodKey(run), stages: stagesKey(run), details: details(run) });
  }
  const dx = denseX(axis, model, finished);
  const dy = metricOf(denseMetrics, metricKey);
  return {
    points,
    ...(dx !== undefined && dy !== undefined ? { dense: { x: dx, y: dy } } : {}),
    metricKey,
    metricLabel: metricMeaning(task, metricKey).label,
    better: metricMeaning(task, metricKey).better === 'higher' ? 'higher' : 'lower',
    leftOut: finished.length - points.length,
    running: mine.filter((r) => r.status === 'running').length,
  };
}

/** Log x by default where it helps: file sizes spanning more than 3×. */
export function defaultLogX(axis: TradeoffAxis, points: readonly TradeoffRun[], dense?: { x: number }): boolean {
  if (axis !== 'bytes') return false;
  const xs = points.map((p) => p.x).concat(dense ? [dense.x] : []).filter((x) => x > 0);
  return xs.length > 1 && Math.max(...xs) / Math.min(...xs) > 3;
}
