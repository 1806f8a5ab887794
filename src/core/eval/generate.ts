// Autoregressive text generation with a causal LM through a ModelRunner, for the teaching view
// that puts the dense and the compressed model's continuations side by side. A graph without a
// KV cache ([batch, seq] → [batch, seq, vocab], the bundled models) runs the whole window every
// step, which costs little at 128 positions. A Hugging Face export with past_key_values inputs
// runs the prompt once with an empty cache, then one token per step with the previous step's
// present.* as its past (positions and mask continuing), as transformers.js generates.
//
// The decoding rules are restated independently in fixtures/make_generate_fixture.py, whose
// PyTorch output the tests match id for id; change one, change both.
import { cacheFromOutputs, lmFeeds, logitsOf, logitsOutputName, runnerLmInputs, type KvCache } from './lmInputs';
import { scoreRow } from './metrics';
import type { ModelRunner } from './runner';
import { mulberry32, type Random } from '../calibrate/random';
import { throwIfCancelled, type CancelSignal } from '../job/cancel';
import type { ProgressListener } from '../job/progress';

/**
 * greedy: the most likely next token (ties to the lowest id), deterministic.
 * sample: a draw from softmax(logits / temperature) over the topK most likely tokens (all when
 * topK is absent or ≥ the vocabulary), with core's seeded mulberry32, one draw per step, so a
 * seed reproduces the same text on every backend up to float ties (see sampleToken).
 */
export type DecodingStrategy = { kind: 'greedy' } | { kind: 'sample'; temperature: number; topK?: number; seed: number };

export interface GenerateOptions {
  promptIds: readonly number[];
  maxNewTokens: number;
  /** The model's context window: each step feeds the latest `contextLength` ids, cropping the left. */
  contextLength: number;
  strategy: DecodingStrategy;
  /**
   * Use the model's KV cache when it has one (default true). false recomputes the whole window
   * every step, as for a model without one: the same ids, for comparisons and tests.
   */
  useCache?: boolean;
  cancel?: CancelSignal;
  onProgress?: ProgressListener;
}

export interface Generation {
  /** The new token ids only (the prompt is not repeated). */
  ids: number[];
  /** probabilities[i]: the model's own softmax probability (temperature 1, whole vocabulary) of ids[i]. */
  probabilities: number[];
}

export async function generate(runner: ModelRunner, options: GenerateOptions): Promise<Generation> {
  checkOptions(options);
  const { strategy, maxNewTokens, contextLength } = options;
  const chooseNext = nextTokenRule(strategy);
  const context = [...options.promptIds];
  const generation: Generation = { ids: [], probabilities: [] };
  const progress = (done: number) => options.onProgress?.({ phase: 'generate', label: 'Generating', done, total: maxNewTokens });
  progress(0);
  const plan = runnerLmInputs(runner);
  const cached = plan.past.length > 0 && options.useCache !== false;
  const logitsName = logitsOutputName(runner);
  const fetches = cached ? [logitsName, ...plan.past.map((slot) => slot.present)] : [logitsName];
  let cache: KvCache | undefined;
  for (let step = 0; step < maxNewTokens; step++) {
    throwIfCancelled(options.cancel, 'generation');
    // With a cache, one new token — unless the cache would outgrow the context, when the cropped
    // window is run afresh (positions from 0 again), exactly as the recomputing path feeds it.
    const extend = cache !== undefined && cache.length + 1 <= contextLength;
    const fed = extend ? context.slice(-1) : context.slice(-contextLength); // (T) with T ≤ contextLength
    const outputs = await runner.run(lmFeeds(plan, [fed], fed.length, extend ? cache : undefined), fetches);
    if (cached) cache = cacheFromOutputs(plan, outputs);
    const logits = logitsOf(runner, outputs); // (1, T, V)
    const [batch, seq, vocab] = logits.dims;
    if (logits.dims.length !== 3 || batch !== 1 || seq !== fed.length)
      throw new Error(`expected logits [1, ${fed.length}, vocab] from a causal LM, got [${logits.dims.join(', ')}]`);
    if (step === 0) checkIdsInVocab(options.promptIds, vocab);
    const row = (logits.data as Float32Array).subarray((seq - 1) * vocab, seq * vocab); // (V)
    if (row.some(Number.isNaN) || !row.some(Number.isFinite)) throw new Error(`step ${step + 1}: the model's logits hold NaN or no finite value`);
    const id = chooseNext(row);
    context.push(id);
    generation.ids.push(id);
    generation.probabilities.push(Math.exp(-scoreRow(row, 0, vocab, id).nll));
    progress(step + 1);
  }
  return generation;
}

/** The strategy as a function of one logits row; a sampling rule owns its seeded generator. */
function nextTokenRule(strategy: DecodingStrategy): (row: Float32Array) => number {
  if (strategy.kind === 'greedy') return (row) => scoreRow(row, 0, row.length, 0).argmax; // ties → lowest id
  const random = mulberry32(strategy.seed);
  return (row) => sampleToken(row, strategy, random);
}

/**
 * One draw from softmax(row / temperature) restricted to the topK largest logits (ties to the
 * lower id). Weights exp((logit − max) / T) in float64 are summed in ascending id order and the
 * first id whose running sum exceeds u · total is chosen, u = random() ∈ [0, 1).
 *
 * Float ties: two runtimes' logits differ by ~1e-6 (summation order), so a draw whose u · total
 * falls within that of a bucket edge, or a topK cut between near-equal logits, may choose
 * differently on another backend and the texts diverge from there. The fixture cases keep every
 * such margin above 1e-4.
 */
export function sampleToken(row: Float32Array, strategy: { temperature: number; topK?: number }, random: Random): number {
  const vocab = row.length;
  let candidates = Array.from({ length: vocab }, (_, id) => id);
  if (strategy.topK !== undefined && strategy.topK < vocab) {
    candidates = candidates
      .sort((a, b) => row[b] - row[a] || a - b)
      .slice(0, strategy.topK)
      .sort((a, b) => a - b);
  }
  let max = -Infinity;
  for (const id of candidates) max = Math.max(max, row[id]);
  const weights = candidates.map((id) => Math.exp((row[id] - max) / strategy.temperature));
  let total = 0;
  for (const w of weights) total += w;
  const target = random() * total;
  let running = 0;
  for (let k = 0; k < candidates.length; k++) {
    running += weights[k];
    if (target < running) return candidates[k];
  }
  return candidates[candidates.length - 1]; // only when rounding leaves target ≥ the final sum
}

function checkOptions({ promptIds, maxNewTokens, contextLength, strategy }: GenerateOptions): void {
  if (promptIds.length === 0) throw new RangeError('generate: the prompt must hold at least one token');
  const bad = promptIds.find((id) => !Number.isInteger(id) || id < 0);
  if (bad !== undefined) throw new RangeError(`generate: prompt token ${bad} is not a token id`);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new RangeError(`generate: maxNewTokens must be a non-negative integer, not ${maxNewTokens}`);
  if (!Number.isInteger(contextLength) || contextLength < 1) throw new RangeError(`generate: contextLength must be a positive integer, not ${contextLength}`);
  if (strategy.kind !== 'sample') return;
  const { temperature, topK, seed } = strategy;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`generate: temperature must be a positive number, not ${temperature}`);
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw new RangeError(`generate: topK must be a positive integer, not ${topK}`);
  if (!Number.isInteger(seed)) throw new RangeError(`generate: seed must be an integer, not ${seed}`);
}

/** The vocabulary size is known from the first logits; a runtime may not say which id was wrong. */
function checkIdsInVocab(ids: readonly number[], vocab: number): void {
  const bad = ids.find((id) => id >= vocab);
  if (bad !== undefined) throw new RangeError(`generate: prompt token ${bad} is outside the model's vocabulary (0..${vocab - 1})`);
}

/** Where two generations first choose different tokens (an index into both), or undefined if they never do. */
export function firstDivergence(a: readonly number[], b: readonly number[]): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : n;
}
