// Numbers for people: rounded for reading, with the exact value kept for hover (title) and for
// tests (data-value). Shared by every panel so a figure prints the same everywhere.
import type { MetricMeaning } from './glossary';

/** 0.7516 → "75.2 %" (one decimal). */
export function percent(v: number, digits = 1): string {
  return `${(v * 100).toFixed(digits)} %`;
}

/** The full-precision value for a title attribute. */
export function exact(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}

export function formatMetricValue(v: number, kind: MetricMeaning['kind']): string {
  if (!Number.isFinite(v)) return String(v);
  if (kind === 'count') return v.toLocaleString('en-US');
  if (kind === 'ratio') return percent(v, 2);
  return v >= 100 ? v.toFixed(1) : v.toFixed(3);
}

/** Absolute change in the metric's own unit (percentage points for ratios) and relative change. */
export function formatChange(from: number, to: number, kind: MetricMeaning['kind']): { absolute: string; relative: string } {
  const d = to - from;
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const magnitude = Math.abs(d);
  const absolute = kind === 'ratio' ? `${sign}${(magnitude * 100).toFixed(2)} pp` : kind === 'count' ? `${sign}${magnitude}` : `${sign}${magnitude.toFixed(3)}`;
  const rel = from === 0 ? NaN : (d / Math.abs(from)) * 100;
  const relative = Number.isFinite(rel) ? `${rel > 0 ? '+' : rel < 0 ? '−' : '±'}${Math.abs(rel).toFixed(1)} %` : '—';
  return { absolute, relative };
}

/** 5_170_000 → "4.93 MiB"; exact bytes go in the title. */
export function shortBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
