// A whole model's measured latency: one forward pass over a fixed input (batch 1), the median of
// `repeats` timed runs after warm-up, on the backend the session ran on. An LM is fed a window of
// `seq` tokens (every input an HF export takes, through planLmInputs, with an empty cache); an
// image model one image of zeros at its input's shape. Per token = per pass / tokens fed, the
// number the trade-off chart puts on its axis; for an image model the unit is one image.
import { lmFeeds, planLmInputs } from '../eval/lmInputs.ts';
import type { Backend, HostTensor, ModelRunner } from '../eval/runner.ts';
import type { CancelSignal } from '../job/cancel.ts';
import type { TensorInfo } from '../model/types.ts';
import { timeInterleaved, type Clock } from './timing.ts';

export interface ModelLatency {
  medianMs: number;
  /** medianMs per token fed (per image for an image model). */
  perTokenMs: number;
  p10Ms: number;
  p90Ms: number;
  /** The fastest run: what the model costs when nothing else on the machine interrupts it. */
  minMs: number;
  repeats: number;
  warmup: number;
  backend: Backend;
  /** Tokens per pass (1 for an image). */
  seq: number;
  unit: 'token' | 'image';
}

export interface ModelLatencyOptions {
  /** Tokens per pass for an LM (a window of its context). */
  seq: number;
  repeats?: number;
  warmup?: number;
  cancel?: CancelSignal;
  clock?: Clock;
}

/** Feeds for one pass, or one sentence naming the input the lab cannot make. */
export function latencyFeeds(inputs: readonly TensorInfo[], seq: number): { feeds: Record<string, HostTensor>; unit: 'token' | 'image'; tokens: number } {
  const [first] = inputs;
  if (inputs.length === 1 && first.dtype === 'float32') {
    // An image model: the batch axis (symbolic or not) is 1, every other axis must be a number.
    const dims = (first.shape ?? []).map((d, i) => (i === 0 ? 1 : d));
    if (dims.length < 2 || dims.some((d) => typeof d !== 'number')) throw new Error(`the model's input "${first.name}" gives no fixed image shape to time it on`);
    const size = (dims as number[]).reduce((a, b) => a * b, 1);
    return { feeds: { [first.name]: { dtype: 'float32', dims: dims as number[], data: new Float32Array(size) } }, unit: 'image', tokens: 1 };
  }
  const plan = planLmInputs(inputs);
  if (!plan.ok) throw new Error(plan.message);
  // Token 0 exists in every vocabulary; a pass costs the same whatever the ids.
  return { feeds: lmFeeds(plan.plan, [new Array<number>(seq).fill(0)], seq), unit: 'token', tokens: seq };
}

export async function measureModelLatency(
  bytes: Uint8Array,
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>,
  options: ModelLatencyOptions,
): Promise<ModelLatency> {
  return (await measureModelLatencies([bytes], createRunner, options))[0];
}

/** Times open sessions on one window in interleaved rounds; the caller keeps and releases them (the model worker's cached sessions). */
export async function measureRunnersLatency(runners: readonly ModelRunner[], options: ModelLatencyOptions): Promise<ModelLatency[]> {
  if (!(Number.isInteger(options.seq) && options.seq >= 1)) throw new Error(`latency seq must be a positive integer (got ${options.seq})`);
  const repeats = options.repeats ?? 20;
  const warmup = options.warmup ?? 3;
  const fed = runners.map((runner) => latencyFeeds(runner.inputInfo ?? [{ name: runner.inputNames[0], dtype: 'int64', shape: null }], options.seq));
  const timings = await timeInterleaved(runners.map((runner, i) => ({ runner, feeds: fed[i].feeds })), { repeats, warmup, cancel: options.cancel, clock: options.clock });
  return timings.map((t, i) => ({
    medianMs: t.medianMs,
    perTokenMs: t.medianMs / fed[i].tokens,
    p10Ms: t.p10Ms,
    p90Ms: t.p90Ms,
    minMs: Math.min(...t.samplesMs),
    repeats,
    warmup,
    backend: runners[i].backend,
    seq: fed[i].tokens,
    unit: fed[i].unit,
  }));
}

/** Times several models on one window in interleaved rounds (a dense and a compressed one, say), each on its own session. */
export async function measureModelLatencies(
  models: readonly Uint8Array[],
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>,
  options: ModelLatencyOptions,
): Promise<ModelLatency[]> {
  const runners: ModelRunner[] = [];
  try {
    for (const bytes of models) runners.push(await createRunner(bytes));
    return await measureRunnersLatency(runners, options);
  } finally {
    for (const runner of runners) await runner.release();
  }
}
