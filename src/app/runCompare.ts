// Two runs side by side, the pure part: their metrics and sizes with the difference (second − first),
// and their layers joined by id — achieved sparsity, relative error and bits where quantized —
// ordered by the largest difference, so the layers where the recipes parted come first.
import type { CompressReport } from '../core/compress';
import type { MetricMeaning } from './glossary';
import { metricEntries } from './metricsView';
import type { RunRecord } from './store';

export interface MeasureRow {
  key: string;
  label: string;
  kind: MetricMeaning['kind'] | 'bytes' | 'ms';
  better: MetricMeaning['better'];
  a?: number;
  b?: number;
}

/** The metrics both runs were evaluated on, then sparsity, file size and time; a side without the value stays undefined. */
export function measureRows(a: RunRecord, b: RunRecord): MeasureRow[] {
  const ma = a.evaluation?.metrics;
  const mb = b.evaluation?.metrics;
  const valuesB = new Map(mb ? metricEntries(mb).map((e) => [e.key, e.value]) : []);
  const metrics: MeasureRow[] = ma && mb && ma.task === mb.task ? metricEntries(ma).map((e) => ({ key: e.key, label: e.meaning.label, kind: e.meaning.kind, better: e.meaning.better, a: e.value, b: valuesB.get(e.key) })) : [];
  return [
    ...metrics,
    { key: 'sparsity', label: 'Sparsity (pruned layers)', kind: 'ratio', better: 'neither', a: prunedSparsity(a.report), b: prunedSparsity(b.report) },
    { key: 'file-bytes', label: 'File size (measured)', kind: 'bytes', better: 'lower', a: a.report?.totals.denseFileBytes, b: b.report?.totals.denseFileBytes },
    { key: 'duration', label: 'Run time', kind: 'ms', better: 'lower', a: a.durationMs, b: b.durationMs },
  ];
}

const prunedSparsity = (report?: CompressReport) => (report && report.layers.length > 0 ? report.totals.achievedSparsityPruned : undefined);

/** One layer as one run left it; null where the run did not measure it (no prune stage, no calibration, not quantized). */
export interface LayerSide {
  sparsity: number | null;
  relativeError: number | null;
  bits: number | null;
}

export interface LayerDifference {
  id: string;
  name: string;
  a: LayerSide;
  b: LayerSide;
  /** b − a, null where either side has no value. */
  delta: LayerSide;
}

/** Each layer's last word in the report: the later stage's row wins, and the error is the last stage's that measured one. */
export function layerSides(report: CompressReport): Map<string, { name: string; side: LayerSide }> {
  const out = new Map<string, { name: string; side: LayerSide }>();
  const rows = [...report.layers.map((row) => ({ row, quant: false })), ...report.quantized.map((row) => ({ row, quant: true }))].sort((x, y) => x.row.stage - y.row.stage);
  for (const { row, quant } of rows) {
    if (!out.has(row.id)) out.set(row.id, { name: row.name, side: { sparsity: null, relativeError: null, bits: null } });
    const { side } = out.get(row.id)!;
    if ('achievedSparsity' in row) side.sparsity = row.achievedSparsity;
    if (quant && 'bitsPerWeight' in row) side.bits = row.bitsPerWeight;
    if (row.relativeError !== null) side.relativeError = row.relativeError;
  }
  return out;
}

const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
const size = (d: number | null) => Math.abs(d ?? 0);

/**
 * The layers in both reports, largest difference first: by relative error (the output damage),
 * then sparsity, then bits — compared one after the other because their units differ.
 */
export function layerDifferences(a: CompressReport, b: CompressReport): LayerDifference[] {
  const sidesB = layerSides(b);
  const rows: LayerDifference[] = [];
  for (const [id, { name, side }] of layerSides(a)) {
    const other = sidesB.get(id);
    if (!other) continue;
    rows.push({ id, name, a: side, b: other.side, delta: { sparsity: minus(side.sparsity, other.side.sparsity), relativeError: minus(side.relativeError, other.side.relativeError), bits: minus(side.bits, other.side.bits) } });
  }
  return rows.sort((x, y) => size(y.delta.relativeError) - size(x.delta.relativeError) || size(y.delta.sparsity) - size(x.delta.sparsity) || size(y.delta.bits) - size(x.delta.bits));
}
