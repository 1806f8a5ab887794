// The dense (or a compressed) model's metrics on the user's text, each with a 95 % percentile
// bootstrap interval over evaluation windows: perplexity per token, and bits per byte, which
// compares models across tokenizers. Windows, not tokens, are resampled: the tokens of one window
// are not independent (the same unit as the paired interval of src/core/eval/bootstrap.ts, whose
// resampling rule — mulberry32(seed), ⌊random()·n⌋ draws, numpy's linear percentile — this
// follows, so an interval reproduces from its seed).
import { mulberry32, randomIndex } from '../calibrate/random.ts';
import { percentileSorted } from '../eval/bootstrap.ts';
import type { LmSampleValues } from '../eval/samples.ts';

export interface IntervalValue {
  value: number;
  low: number;
  high: number;
}

export interface TextMetrics {
  perplexity: IntervalValue;
  bitsPerByte: IntervalValue;
  /** Evaluation windows resampled, predicted tokens and the UTF-8 bytes they spell. */
  windows: number;
  tokens: number;
  bytes: number;
  resamples: number;
  level: number;
  seed: number;
}

export interface TextMetricsOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}

/** Perplexity and bits per byte over the windows, with their percentile bootstrap intervals. */
export function textMetrics(samples: LmSampleValues, targetBytes: readonly number[], options: TextMetricsOptions = {}): TextMetrics {
  const { resamples = 2000, seed = 0, level = 0.95 } = options;
  const n = samples.nll.length;
  if (n === 0) throw new Error('text metrics: no evaluation windows');
  if (targetBytes.length !== n) throw new Error(`text metrics: ${n} evaluated windows but ${targetBytes.length} byte counts; the evaluation set changed`);
  const over = (pick: (k: number) => number) => {
    let nll = 0;
    let tokens = 0;
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const i = pick(k);
      nll += samples.nll[i];
      tokens += samples.tokens[i];
      bytes += targetBytes[i];
    }
    return { perplexity: Math.exp(nll / tokens), bitsPerByte: nll / Math.LN2 / bytes, tokens, bytes };
  };
  const whole = over((k) => k);
  const random = mulberry32(seed);
  const ppl = new Float64Array(resamples);
  const bpb = new Float64Array(resamples);
  const indices = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) indices[k] = randomIndex(random, n);
    const m = over((k) => indices[k]);
    ppl[r] = m.perplexity;
    bpb[r] = m.bitsPerByte;
  }
  ppl.sort();
  bpb.sort();
  const interval = (value: number, sorted: Float64Array): IntervalValue => ({ value, low: percentileSorted(sorted, (1 - level) / 2), high: percentileSorted(sorted, (1 + level) / 2) });
  return { perplexity: interval(whole.perplexity, ppl), bitsPerByte: interval(whole.bitsPerByte, bpb), windows: n, tokens: whole.tokens, bytes: whole.bytes, resamples, level, seed };
}
