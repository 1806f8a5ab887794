// Timing and table printing shared by the benchmark sections. Every section times its rows
// against a baseline measured in the same process, and prints one table.

export interface Timing {
  /** Median wall time of the timed runs. */
  ms: number;
  /** How many runs the median is over (1: the run was too slow to repeat within the budget). */
  runs: number;
}

export interface MeasureOptions {
  /** Keep repeating until this much time has passed… */
  minMs?: number;
  /** …and at least this many runs. */
  minRuns?: number;
  /**
   * A first run slower than this is reported as the measurement (runs = 1) instead of being
   * thrown away as a warm-up: a full SparseGPT job on the 3072×768 layer takes seconds, and the
   * whole `npm run bench` has to stay within a few minutes on two cores. Sections warm the code
   * paths (JIT, GPU pipeline compilation) on small inputs first, so that first run is warm.
   */
  singleRunAboveMs?: number;
}

/** The middle value (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median wall time of `run` after one warm-up run (see MeasureOptions for slow runs). */
export async function measure(run: () => unknown, { minMs = 300, minRuns = 3, singleRunAboveMs = 1500 }: MeasureOptions = {}): Promise<Timing> {
  const first = performance.now();
  await run();
  const firstMs = performance.now() - first;
  if (firstMs > singleRunAboveMs) return { ms: firstMs, runs: 1 };
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), runs: times.length };
}

/** `ms` as a multiple of the baseline's time: < 1 is faster than the baseline. */
export function ratio(ms: number, baselineMs: number): string {
  const r = ms / baselineMs;
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

export interface Table {
  title: string;
  /** Lines printed under the title: the baseline, the inputs, what a column means. */
  notes: string[];
  columns: Column[];
  rows: string[][];
}

/** A Markdown pipe table, padded so it also reads as plain text in a terminal. */
export function formatTable({ title, notes, columns, rows: rawRows }: Table): string {
  // A cell such as "webgpu+cpu (|W|)" must not end the Markdown cell.
  const rows = rawRows.map((row) => row.map((text) => text.replaceAll('|', '\\|')));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const cell = (text: string, i: number) => (columns[i].align === 'right' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (columns[i].align === 'right' ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [`### ${title}`, '', ...notes.map((note) => `${note}  `), '', line(columns.map((c) => c.header)), rule, ...rows.map(line), ''].join('\n');
}

/** An error's first line, for a table cell or a note. */
export function reason(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}
