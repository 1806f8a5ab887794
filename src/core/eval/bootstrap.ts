// Honest comparisons: a paired bootstrap interval of the change in a metric between two models
// evaluated on the same samples. Paired because both models see the same sequences or images, so
// the per-sample differences cancel most of the set-to-set variation that two independent
// intervals would double-count (Efron & Tibshirani 1993, ch. 13; Koehn 2004 for paired
// resampling of an evaluation set). Percentile interval: no normality assumption about the
// difference, which for perplexity (a ratio of sums under exp) is skewed.
//
// Resampling rule, mirrored exactly by fixtures/make_bootstrap_fixture.py:
//   random = mulberry32(seed); for each of B resamples, draw n indices i = ⌊random()·n⌋ in order
//   (with replacement), sum both models' per-sample values over them in draw order, and record
//   metric(candidate) − metric(baseline). The interval is the linear-interpolation percentile
//   (numpy's default) of the B differences at (1 − level)/2 and (1 + level)/2.
import { mulberry32, randomIndex } from '../calibrate/random';
import type { SampleValues } from './samples';

/** perplexity: exp(Σ nll / Σ tokens) (LM). top1: share correct (classifier). meanNll: Σ nll / Σ tokens or per image. */
export type PairedMetric = 'perplexity' | 'top1' | 'meanNll';

export interface BootstrapOptions {
  /** Default: perplexity for an LM, top1 for a classifier. */
  metric?: PairedMetric;
  /** Number of resamples B (default 2000). */
  resamples?: number;
  /** Seed of the resampling RNG (default 0), so an interval reproduces. */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

export interface PairedInterval {
  metric: PairedMetric;
  /** metric(candidate) − metric(baseline) on the whole evaluation set. */
  delta: number;
  /** Percentile interval of the resampled differences. */
  low: number;
  high: number;
  /** The interval contains 0: the change is not distinguishable from resampling noise. */
  withinNoise: boolean;
  resamples: number;
  level: number;
  seed: number;
  samples: number;
}

export const DEFAULT_RESAMPLES = 2000;

/** Per-sample numerator and denominator of the metric: metric = f(Σ num / Σ den). */
interface RatioSamples {
  num: ArrayLike<number>;
  den: ArrayLike<number> | null;
  finish: (ratio: number) => number;
}

function ratioSamples(values: SampleValues, metric: PairedMetric): RatioSamples {
  const den = values.task === 'causal-lm' ? values.tokens : values.task === 'masked-lm' ? values.chosen : null;
  switch (metric) {
    case 'perplexity':
      if (values.task !== 'causal-lm') throw new Error('bootstrap: perplexity needs per-sequence LM values');
      return { num: values.nll, den, finish: Math.exp };
    case 'meanNll':
      return { num: values.nll, den, finish: (r) => r };
    case 'top1':
      if (values.task === 'causal-lm') throw new Error('bootstrap: top1 is compared per image (classifier values) or per masked window');
      return { num: values.correct, den, finish: (r) => r };
  }
}

/** numpy.percentile's default (linear) rule on an ascending array: q in [0, 1]. */
export function percentileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The metric of one model over the samples `indices` (all samples when null). */
function metricOver(s: RatioSamples, indices: ArrayLike<number> | null, n: number): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    num += s.num[i];
    den += s.den ? s.den[i] : 1;
  }
  return s.finish(num / den);
}

/**
 * The change metric(candidate) − metric(baseline) with its paired percentile bootstrap interval.
 * Both value sets must come from the same evaluation samples, in the same order.
 */
export function pairedBootstrap(baseline: SampleValues, candidate: SampleValues, options: BootstrapOptions = {}): PairedInterval {
  if (baseline.task !== candidate.task) throw new Error(`bootstrap: cannot pair ${baseline.task} with ${candidate.task} values`);
  const n = baseline.nll.length;
  if (candidate.nll.length !== n) throw new Error(`bootstrap: ${n} baseline samples but ${candidate.nll.length} candidate samples; both models must see the same set`);
  if (n === 0) throw new Error('bootstrap: no samples');
  if (baseline.task === 'causal-lm' && candidate.task === 'causal-lm' && baseline.tokens.some((t, i) => t !== candidate.tokens[i]))
    throw new Error('bootstrap: token counts differ per sequence; the models did not see the same samples');
  const metric = options.metric ?? (baseline.task === 'causal-lm' ? 'perplexity' : 'top1');
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 2) throw new RangeError(`bootstrap: resamples must be an integer ≥ 2, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must lie in (0, 1), got ${level}`);

  const a = ratioSamples(baseline, metric);
  const b = ratioSamples(candidate, metric);
  const delta = metricOver(b, null, n) - metricOver(a, null, n);
  const random = mulberry32(seed);
  const indices = new Int32Array(n);
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) indices[k] = randomIndex(random, n);
    diffs[r] = metricOver(b, indices, n) - metricOver(a, indices, n);
  }
  diffs.sort();
  const low = percentileSorted(diffs, (1 - level) / 2);
  const high = percentileSorted(diffs, (1 + level) / 2);
  return { metric, delta, low, high, withinNoise: low <= 0 && 0 <= high, resamples, level, seed, samples: n };
}

export interface MetricInterval {
  metric: PairedMetric;
  /** The metric on the whole evaluation set. */
  value: number;
  low: number;
  high: number;
  resamples: number;
  level: number;
  seed: number;
  samples: number;
}

/**
 * One model's metric with its percentile bootstrap interval over evaluation samples (windows of
 * the user's text): how much the figure would move on another draw of text like it.
 */
export function metricInterval(values: SampleValues, options: BootstrapOptions = {}): MetricInterval {
  const n = values.nll.length;
  if (n === 0) throw new Error('bootstrap: no samples');
  const metric = options.metric ?? (values.task === 'causal-lm' ? 'perplexity' : 'top1');
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 2) throw new RangeError(`bootstrap: resamples must be an integer ≥ 2, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must lie in (0, 1), got ${level}`);
  const s = ratioSamples(values, metric);
  const random = mulberry32(seed);
  const indices = new Int32Array(n);
  const draws = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) indices[k] = randomIndex(random, n);
    draws[r] = metricOver(s, indices, n);
  }
  draws.sort();
  return { metric, value: metricOver(s, null, n), low: percentileSorted(draws, (1 - level) / 2), high: percentileSorted(draws, (1 + level) / 2), resamples, level, seed, samples: n };
}
