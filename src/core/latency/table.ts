// The latency table: what a block costs with h heads and n neurons kept, and what the rest of the
// model costs, measured once per (shapes, backend). ZipLM's latency-constrained search
// (IST-DASLab/ZipLM, Kurtic et al. 2023 §3.3) looks up such a table per structure count instead
// of timing every candidate model; the prediction is the sum of the parts.
//
// Each part is its own session, and every session run pays a fixed cost (feeds in, outputs out,
// the executor's scheduling) that the whole model pays once: it is measured on an Identity graph
// and taken off every part, then added back once per prediction.
import type { Backend, HostTensor, ModelRunner } from '../eval/runner.ts';
import type { CancelSignal } from '../job/cancel.ts';
import type { ProgressListener } from '../job/progress.ts';
import { attentionGraph, hiddenInput, mlpGraph, overheadGraph, restGraph } from './graphs.ts';
import type { LatencySpec } from './spec.ts';
import { throwIfCancelled } from '../job/cancel.ts';
import { timeInterleaved, type Clock, type TimedSession } from './timing.ts';

export interface LatencyTable {
  spec: LatencySpec;
  /** The backend the sessions ran on (the runner's report, never the request). */
  backend: Backend;
  repeats: number;
  warmup: number;
  /** The statistic of each part's runs the table holds. */
  statistic: 'median' | 'min';
  /** Median per-run cost of a session that computes nothing. */
  overheadMs: number;
  /** Index h (0..heads): one block's attention with h heads kept, overhead taken off, non-decreasing. attentionMs[0] = 0. */
  attentionMs: number[];
  /** Sampled neuron counts (ascending, 0 first) and one block's MLP at each, overhead taken off, non-decreasing. */
  mlp: { neurons: number[]; ms: number[] };
  /** Embeddings, norms, residual adds and the output head, overhead taken off. */
  restMs: number;
  /** The statistic as measured, before smoothing (overhead still in). */
  raw: { attentionMs: number[]; mlpMs: number[]; restMs: number };
}

/** What one block keeps. */
export interface BlockKept {
  heads: number;
  neurons: number;
}

/**
 * Non-decreasing through the sequence (each value at least the one before): removing structure
 * never costs time, and a sample that came out below its predecessor is timing noise.
 */
export function monotone(values: readonly number[]): number[] {
  const out: number[] = [];
  for (const v of values) out.push(Math.max(v, out.at(-1) ?? -Infinity));
  return out;
}

/** Piecewise-linear interpolation of (xs, ys) at x; xs ascending, x within [xs[0], xs.at(-1)]. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  if (x < xs[0] || x > xs[xs.length - 1]) throw new Error(`interpolate: ${x} outside ${xs[0]}..${xs[xs.length - 1]}`);
  let i = 1;
  while (i < xs.length - 1 && xs[i] < x) i++;
  const [x0, x1, y0, y1] = [xs[i - 1], xs[i], ys[i - 1], ys[i]];
  return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** One block's latency with `heads` attention heads and `neurons` MLP neurons kept. */
export function blockLatencyMs(table: LatencyTable, heads: number, neurons: number): number {
  const { spec } = table;
  if (!Number.isInteger(heads) || heads < 0 || heads > spec.heads) throw new Error(`heads kept must be an integer in 0..${spec.heads} (got ${heads})`);
  if (!(neurons >= 0 && neurons <= spec.mlpWidth)) throw new Error(`neurons kept must be in 0..${spec.mlpWidth} (got ${neurons})`);
  return table.attentionMs[heads] + interpolate(table.mlp.neurons, table.mlp.ms, neurons);
}

/** The whole model's predicted latency per forward pass (seq tokens), one entry of `kept` per block. */
export function predictModelMs(table: LatencyTable, kept: readonly BlockKept[]): number {
  if (kept.length !== table.spec.blocks) throw new Error(`kept lists ${kept.length} blocks; the model has ${table.spec.blocks}`);
  return table.overheadMs + table.restMs + kept.reduce((sum, k) => sum + blockLatencyMs(table, k.heads, k.neurons), 0);
}

/** Every block whole. */
export function denseKept(spec: LatencySpec): BlockKept[] {
  return Array.from({ length: spec.blocks }, () => ({ heads: spec.heads, neurons: spec.mlpWidth }));
}

/** Dense over predicted: the speedup a plan keeping `kept` should give. */
export function predictSpeedup(table: LatencyTable, kept: readonly BlockKept[]): number {
  return predictModelMs(table, denseKept(table.spec)) / predictModelMs(table, kept);
}

/** The neuron counts sampled: 0 and `samples` evenly spaced counts up to the full width. */
export function neuronSamples(width: number, samples: number): number[] {
  const counts = new Set<number>([0]);
  for (let i = 1; i <= samples; i++) counts.add(Math.max(1, Math.round((width * i) / samples)));
  return [...counts].sort((a, b) => a - b);
}

export interface LatencyTableOptions {
  repeats?: number;
  warmup?: number;
  /** Neuron counts sampled besides 0 (interpolated between). */
  mlpSamples?: number;
  /**
   * Which statistic of each part's runs the table keeps: the median (default), or the minimum,
   * the run no other process interrupted — on a machine shared with other work (the CI's two
   * cores) a part that takes a few milliseconds is preempted in most runs, and only the
   * minimum still says what the part costs.
   */
  statistic?: 'median' | 'min';
  cancel?: CancelSignal;
  onProgress?: ProgressListener;
  clock?: Clock;
}

/** Builds a LatencyTable from part medians: smoothing and overhead removal, kept apart from timing so it is tested with made-up numbers. */
export function tableFromMedians(
  spec: LatencySpec,
  measured: { backend: Backend; repeats: number; warmup: number; statistic?: 'median' | 'min'; overheadMs: number; attentionMs: number[]; neurons: number[]; mlpMs: number[]; restMs: number },
): LatencyTable {
  const net = (ms: number) => Math.max(0, ms - measured.overheadMs);
  if (measured.attentionMs.length !== spec.heads + 1) throw new Error(`attention medians: ${measured.attentionMs.length} for ${spec.heads + 1} head counts`);
  if (measured.neurons.length !== measured.mlpMs.length || measured.neurons[0] !== 0 || measured.neurons.at(-1) !== spec.mlpWidth)
    throw new Error('MLP medians must run from 0 to the full width, one per sampled count');
  return {
    spec,
    backend: measured.backend,
    repeats: measured.repeats,
    warmup: measured.warmup,
    statistic: measured.statistic ?? 'median',
    overheadMs: measured.overheadMs,
    attentionMs: monotone(measured.attentionMs.map((ms, h) => (h === 0 ? 0 : net(ms)))),
    mlp: { neurons: [...measured.neurons], ms: monotone(measured.mlpMs.map((ms, i) => (measured.neurons[i] === 0 ? 0 : net(ms)))) },
    restMs: net(measured.restMs),
    raw: { attentionMs: [...measured.attentionMs], mlpMs: [...measured.mlpMs], restMs: measured.restMs },
  };
}

function feedsFor(input: { name?: string; type?: { tensorType?: { elemType?: number } } }, dims: number[]): Record<string, HostTensor> {
  const size = dims.reduce((a, b) => a * b, 1);
  // int64 token ids (elemType 7) are zeros: a valid id in every vocabulary.
  const tensor: HostTensor = input.type?.tensorType?.elemType === 7 ? { dtype: 'int64', dims, data: new BigInt64Array(size) } : { dtype: 'float32', dims, data: new Float32Array(size).fill(0.1) };
  return { [input.name ?? '']: tensor };
}

/**
 * Times every part for `spec` on the backend `createRunner` gives: the overhead, attention at
 * 1..heads heads, the MLP at the sampled neuron counts, the rest. All sessions are open at once
 * and timed in interleaved rounds (timing.ts), then released.
 */
export async function measureLatencyTable(
  spec: LatencySpec,
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>,
  options: LatencyTableOptions = {},
): Promise<LatencyTable> {
  const repeats = options.repeats ?? 20;
  const warmup = options.warmup ?? 3;
  const neurons = neuronSamples(spec.mlpWidth, options.mlpSamples ?? 8);
  const hiddenFeeds = { [hiddenInput]: { dtype: 'float32' as const, dims: [1, spec.seq, spec.dModel], data: new Float32Array(spec.seq * spec.dModel).fill(0.1) } };
  const rest = restGraph(spec);
  const parts: { bytes: () => Uint8Array; feeds: Record<string, HostTensor> }[] = [
    { bytes: () => overheadGraph(spec), feeds: hiddenFeeds },
    ...Array.from({ length: spec.heads }, (_, i) => ({ bytes: () => attentionGraph(spec, i + 1), feeds: hiddenFeeds })),
    ...neurons.slice(1).map((n) => ({ bytes: () => mlpGraph(spec, n), feeds: hiddenFeeds })),
    { bytes: () => rest.bytes, feeds: feedsFor(rest.input, spec.input === 'tokens' ? [1, spec.seq] : [1, spec.seq, spec.inputWidth]) },
  ];
  const total = parts.length + repeats;
  const sessions: TimedSession[] = [];
  try {
    for (const [done, part] of parts.entries()) {
      throwIfCancelled(options.cancel, 'latency');
      options.onProgress?.({ phase: 'latency', label: 'opening the latency table\'s sessions', done, total });
      const runner = await createRunner(part.bytes());
      sessions.push({ runner, feeds: part.feeds });
      if (runner.backend !== sessions[0].runner.backend) throw new Error(`the latency table's sessions ran on ${sessions[0].runner.backend} and ${runner.backend}: one backend per table`);
    }
    const onRound = (round: number) => options.onProgress?.({ phase: 'latency', label: 'timing the latency table', done: parts.length + round, total });
    const timings = await timeInterleaved(sessions, { repeats, warmup, cancel: options.cancel, clock: options.clock, onRound });
    const statistic = options.statistic ?? 'median';
    const medians = timings.map((t) => (statistic === 'min' ? Math.min(...t.samplesMs) : t.medianMs));
    options.onProgress?.({ phase: 'latency', label: 'latency table', done: total, total });
    const [overheadMs, ...timed] = medians;
    return tableFromMedians(spec, {
      backend: sessions[0].runner.backend,
      repeats,
      warmup,
      statistic,
      overheadMs,
      attentionMs: [0, ...timed.slice(0, spec.heads)],
      neurons,
      mlpMs: [0, ...timed.slice(spec.heads, spec.heads + neurons.length - 1)],
      restMs: timed.at(-1) as number,
    });
  } finally {
    for (const { runner } of sessions) await runner.release();
  }
}
