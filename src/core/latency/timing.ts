// Timing one session: warm-up runs (ORT allocates its arena and, on WebGPU, compiles pipelines on
// the first runs), then `repeats` runs timed one by one. Medians, not means: a shared machine
// (the CI's two cores, a browser tab in the background) adds rare long runs that a mean would
// carry into every prediction.
import { throwIfCancelled, type CancelSignal } from '../job/cancel.ts';
import type { HostTensor, ModelRunner } from '../eval/runner.ts';

/** Milliseconds since some origin; performance.now by default, a fake clock in tests. */
export type Clock = () => number;

export const defaultClock: Clock = () => performance.now();

export interface TimingOptions {
  repeats: number;
  warmup: number;
  cancel?: CancelSignal;
  clock?: Clock;
}

export interface Timings {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  /** Every timed run, in order. */
  samplesMs: number[];
}

/** The q-quantile of `values` (linear between order statistics, as numpy's default). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export interface TimedSession {
  runner: ModelRunner;
  feeds: Record<string, HostTensor>;
}

/**
 * Times several sessions in interleaved rounds (each round runs every session once, in turn), so
 * a burst of load from elsewhere on the machine spreads over all of them instead of landing on
 * whichever was being timed: parts of a table, or a dense and a compressed model, are compared on
 * equal terms. With one session it is plain repeated timing.
 */
export async function timeInterleaved(
  sessions: readonly TimedSession[],
  options: TimingOptions & { onRound?: (done: number, total: number) => void },
): Promise<Timings[]> {
  if (!(Number.isInteger(options.repeats) && options.repeats >= 1)) throw new Error(`repeats must be a positive integer (got ${options.repeats})`);
  if (!(Number.isInteger(options.warmup) && options.warmup >= 0)) throw new Error(`warmup must be a non-negative integer (got ${options.warmup})`);
  const clock = options.clock ?? defaultClock;
  for (const { runner, feeds } of sessions) {
    for (let i = 0; i < options.warmup; i++) {
      throwIfCancelled(options.cancel, 'latency');
      await runner.run(feeds);
    }
  }
  const samples = sessions.map(() => [] as number[]);
  for (let round = 0; round < options.repeats; round++) {
    options.onRound?.(round, options.repeats);
    for (const [i, { runner, feeds }] of sessions.entries()) {
      throwIfCancelled(options.cancel, 'latency');
      const start = clock();
      await runner.run(feeds);
      samples[i].push(clock() - start);
    }
  }
  return samples.map((samplesMs) => ({ medianMs: quantile(samplesMs, 0.5), p10Ms: quantile(samplesMs, 0.1), p90Ms: quantile(samplesMs, 0.9), samplesMs }));
}

export async function timeRuns(runner: ModelRunner, feeds: Record<string, HostTensor>, options: TimingOptions): Promise<Timings> {
  return (await timeInterleaved([{ runner, feeds }], options))[0];
}
