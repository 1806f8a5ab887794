// Masked-token accuracy of a BERT-style encoder on the user's own text.
//
// Windows: the text's ids cut into consecutive pieces of seqLen − |prefix| − |suffix| tokens, each
// wrapped as the tokenizer's post-processor wraps one sequence ([CLS] … [SEP] for BERT), and dealt
// to calibration and evaluation by the same seeded shuffle as splitText (disjoint sets).
//
// Masking follows BERT's 15 % rule as transformers' DataCollatorForLanguageModeling
// (torch_mask_tokens) implements it: every non-special position is chosen with probability 0.15;
// of the chosen, Bernoulli(0.8) become [MASK], then Bernoulli(0.5) of the rest a token drawn
// uniformly from the whole vocabulary (len(tokenizer)), and the others are kept. So 80 % / 10 % /
// 10 % in expectation, and a window may have no chosen position, as with the collator. The draws
// come from mulberry32(deriveSeed(seed, window number)), position by position (chosen?, mask?,
// random?, which token?), not from torch's whole-tensor bernoulli stream: the same distribution,
// reproducible in Node, the worker and the Python reference
// (src/core/hf/fixtures/make_masked_lm_fixture.py).
//
// Accuracy = Σ (argmax of the logits at a chosen position = the original id) / Σ chosen, and the
// masked-LM NLL = Σ −log softmax(logits)[original] / Σ chosen, both with 95 % percentile bootstrap
// intervals over evaluation windows (the rule of textMetrics.ts and eval/bootstrap.ts).
import { chooseSamples, deriveSeed, mulberry32, randomIndex } from '../calibrate/random.ts';
import { percentileSorted } from '../eval/bootstrap.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';
import { lmFeeds, logitsOf, logitsOutputName, runnerLmInputs } from '../eval/lmInputs.ts';
import type { ModelRunner } from '../eval/runner.ts';
import type { EvalMetrics } from '../eval/metrics.ts';
import type { MaskedLmSampleValues } from '../eval/samples.ts';
import type { SequenceTemplate } from './specialTokens.ts';
import { TextDataError } from './textData.ts';
import type { IntervalValue } from './textMetrics.ts';

export const MASK_PROBABILITY = 0.15;

/** One evaluation window: the ids fed (some masked or replaced), and the chosen positions with their original ids. */
export interface MaskedWindow {
  inputs: number[];
  positions: number[];
  labels: number[];
}

export interface MaskingTokens {
  template: SequenceTemplate;
  maskId: number;
  /** len(tokenizer): random replacements are drawn from [0, vocabSize). */
  vocabSize: number;
}

/** BERT's 15 % / 80-10-10 masking of one wrapped window; special positions (the template's) are never chosen. */
export function maskWindow(wrapped: readonly number[], tokens: MaskingTokens, seed: number, windowNumber: number): MaskedWindow {
  const random = mulberry32(deriveSeed(seed, windowNumber));
  const first = tokens.template.prefix.length;
  const end = wrapped.length - tokens.template.suffix.length;
  const maskedWindow: MaskedWindow = { inputs: [...wrapped], positions: [], labels: [] };
  for (let p = first; p < end; p++) {
    if (random() >= MASK_PROBABILITY) continue;
    maskedWindow.positions.push(p);
    maskedWindow.labels.push(wrapped[p]);
    if (random() < 0.8) maskedWindow.inputs[p] = tokens.maskId;
    else if (random() < 0.5) maskedWindow.inputs[p] = randomIndex(random, tokens.vocabSize);
  }
  return maskedWindow;
}

export interface MaskedTextSplit {
  /** Calibration windows as LM sequences of seqLen + 1: the masked window, then one padding id that is never fed. */
  calib: LmTokenDataset;
  eval: MaskedWindow[];
  seqLen: number;
  calibWindows: number[];
  evalWindows: number[];
  tokens: number;
  leftOver: number;
  maskedPositions: number;
}

export interface MaskedSplitOptions {
  /** Ids per fed window, the template's special tokens included. */
  seqLen: number;
  calibShare?: number;
  seed?: number;
}

type EncoderTokenizer = { encode(text: string): number[]; vocabSize: number; template?: SequenceTemplate; maskId?: number };

/** The tokens an encoder folder's tokenizer must name for masked-LM evaluation; one line naming the file and the field otherwise. */
export function maskingTokens(tokenizer: EncoderTokenizer, file: string): MaskingTokens {
  if (tokenizer.maskId === undefined) throw new TextDataError(`${file}: mask_token: required for masked-token accuracy (tokenizer_config.json names it, tokenizer.json must hold it)`);
  return { template: tokenizer.template ?? { prefix: [], suffix: [] }, maskId: tokenizer.maskId, vocabSize: tokenizer.vocabSize };
}

/** The text's wrapped windows, dealt disjointly; evaluation windows masked, calibration windows masked the same way. */
export function splitMaskedText(text: string, tokenizer: EncoderTokenizer, tokens: MaskingTokens, options: MaskedSplitOptions): MaskedTextSplit {
  const { seqLen, calibShare = 0.5, seed = 0 } = options;
  const wrap = tokens.template.prefix.length + tokens.template.suffix.length;
  if (!Number.isInteger(seqLen) || seqLen < wrap + 2) throw new TextDataError(`window length must be an integer ≥ ${wrap + 2}, got ${seqLen}`);
  if (!(calibShare > 0 && calibShare < 1)) throw new TextDataError(`calibration share must lie in (0, 1), got ${calibShare}`);
  const ids = tokenizer.encode(text);
  const width = seqLen - wrap;
  const count = Math.floor(ids.length / width);
  if (count < 2) throw new TextDataError(`the text gives ${ids.length} tokens: at least ${2 * width} are needed for one calibration and one evaluation window of ${width} tokens (+ ${wrap} special)`);
  const wrapped = Array.from({ length: count }, (_, w) => [...tokens.template.prefix, ...ids.slice(w * width, (w + 1) * width), ...tokens.template.suffix]);
  const masked = wrapped.map((maskedWindow, w) => maskWindow(maskedWindow, tokens, seed, w));
  const calibCount = Math.min(count - 1, Math.max(1, Math.round(count * calibShare)));
  const order = chooseSamples(count, count, seed);
  const calibWindows = order.slice(0, calibCount).sort((a, b) => a - b);
  const evalWindows = order.slice(calibCount).sort((a, b) => a - b);
  const evalSet = evalWindows.map((w) => masked[w]);
  return {
    calib: { kind: 'lm-tokens', seqLen, sequences: calibWindows.map((w) => [...masked[w].inputs, tokens.template.suffix.at(-1) ?? tokens.maskId]) },
    eval: evalSet,
    seqLen,
    calibWindows,
    evalWindows,
    tokens: ids.length,
    leftOver: ids.length - count * width,
    maskedPositions: evalSet.reduce((a, w) => a + w.positions.length, 0),
  };
}

/** Per evaluation window: chosen positions, those the argmax got right, and their summed NLL (nats). */
export type MaskedLmSamples = MaskedLmSampleValues;

/** Scores `windows` (rows of length seqLen in `logits` [windows, seqLen, vocab]) into `samples` from index `offset`. */
export function scoreMaskedRows(logits: Float32Array, vocab: number, seqLen: number, windows: readonly MaskedWindow[], samples: MaskedLmSamples, offset = 0): void {
  windows.forEach((maskedWindow, b) => {
    maskedWindow.positions.forEach((p, k) => {
      const row = (b * seqLen + p) * vocab;
      let best = 0;
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) {
        const x = logits[row + v];
        if (x > max) {
          max = x;
          best = v;
        }
      }
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[row + v] - max);
      const label = maskedWindow.labels[k];
      samples.chosen[offset + b] += 1;
      if (best === label) samples.correct[offset + b] += 1;
      samples.nll[offset + b] += max + Math.log(sum) - logits[row + label];
    });
  });
}

/** The encoder's masked-token scores on the evaluation windows, fed through lmInputs (input_ids, attention_mask, token_type_ids). */
export async function evaluateMaskedLm(runner: ModelRunner, windows: readonly MaskedWindow[], seqLen: number, batchSize = 8): Promise<MaskedLmSamples> {
  const n = windows.length;
  const samples: MaskedLmSamples = { task: 'masked-lm', chosen: new Int32Array(n), correct: new Int32Array(n), nll: new Float64Array(n) };
  const plan = runnerLmInputs(runner);
  const fetches = [logitsOutputName(runner)];
  for (let start = 0; start < n; start += batchSize) {
    const batch = windows.slice(start, start + batchSize);
    const logits = logitsOf(runner, await runner.run(lmFeeds(plan, batch.map((w) => w.inputs), seqLen), fetches));
    scoreMaskedRows(logits.data as Float32Array, logits.dims[logits.dims.length - 1], seqLen, batch, samples, start);
  }
  return samples;
}

export interface MaskedLmMetrics {
  accuracy: IntervalValue;
  /** Mean NLL per chosen position, nats. */
  nll: IntervalValue;
  windows: number;
  chosen: number;
  resamples: number;
  level: number;
  seed: number;
}

/** Accuracy and mean NLL over the chosen positions, with percentile bootstrap intervals over windows. */
export function maskedLmMetrics(samples: MaskedLmSamples, options: { resamples?: number; seed?: number; level?: number } = {}): MaskedLmMetrics {
  const { resamples = 2000, seed = 0, level = 0.95 } = options;
  const n = samples.chosen.length;
  if (n === 0) throw new Error('masked-LM metrics: no evaluation windows');
  const over = (pick: (k: number) => number) => {
    let chosen = 0;
    let correct = 0;
    let nll = 0;
    for (let k = 0; k < n; k++) {
      const i = pick(k);
      chosen += samples.chosen[i];
      correct += samples.correct[i];
      nll += samples.nll[i];
    }
    return { accuracy: correct / chosen, nll: nll / chosen, chosen };
  };
  const whole = over((k) => k);
  if (whole.chosen === 0) throw new Error('masked-LM metrics: no position was chosen for masking; give more text');
  const random = mulberry32(seed);
  const accuracy = new Float64Array(resamples);
  const nll = new Float64Array(resamples);
  const indices = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) indices[k] = randomIndex(random, n);
    const m = over((k) => indices[k]);
    accuracy[r] = m.accuracy;
    nll[r] = m.nll;
  }
  accuracy.sort();
  nll.sort();
  const interval = (value: number, sorted: Float64Array): IntervalValue => ({ value, low: percentileSorted(sorted, (1 - level) / 2), high: percentileSorted(sorted, (1 + level) / 2) });
  return { accuracy: interval(whole.accuracy, accuracy), nll: interval(whole.nll, nll), windows: n, chosen: whole.chosen, resamples, level, seed };
}

/** The run list's and trade-off chart's figures for a masked LM (the intervals come from maskedLmMetrics). */
export function maskedEvalMetrics(samples: MaskedLmSamples): Extract<EvalMetrics, { task: 'masked-lm' }> {
  const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
  const chosen = sum(samples.chosen);
  return { task: 'masked-lm', top1: sum(samples.correct) / chosen, meanNll: sum(samples.nll) / chosen, evalTokens: chosen };
}
