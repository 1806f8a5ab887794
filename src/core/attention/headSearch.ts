// ACT's head selection (Yu et al., ICML 2024; GATECH-EIC/ACT chose its heads this way offline
// and hard-codes the lists): which (layer, head) pairs to calibrate. A pure search over a scoring
// callback, so the same code runs with calibration perplexity from ORT in a worker, or with a
// synthetic function in a test. Lower scores are better.
//
//   1. alone: score every candidate head by itself; keep those that improve on the baseline
//      score([]) (the model without calibration).
//   2. together: score the kept set. Then greedy backward elimination: at each step score the set
//      with each one head removed and take the best (lowest; ties to the first in (layer, head)
//      order); remove it if that improves on the current set, else stop. The result is a set
//      none of whose one-head-smaller subsets improves on it.
//
// "Improves" is the guard's rule. 'none': strictly lower mean (the rule as the issue states it).
// 'interval': the 95 % paired bootstrap interval (eval/bootstrap.ts) of the mean's change over the
// scored samples lies entirely below 0 — on a few calibration samples the strict rule picks heads
// whose gain is sampling noise and which are worse on the evaluation set (docs/attention.md,
// "ACT in a recipe"). Under the interval guard the selected set must also improve on the
// baseline by the same rule, else nothing is selected: heads that each help alone can, together,
// be no better than the model without ACT and no single drop need show it.
//
// Every distinct set is scored once: sets of 0 or 1 heads met again in step 2 come from step 1.
// Layers to skip: the reference never calibrates the first two layers or the last one.
import { throwIfCancelled, type CancelSignal } from '../job/cancel';
import type { ProgressListener } from '../job/progress';
import { pairedBootstrap } from '../eval/bootstrap';
import type { SampleValues } from '../eval/samples';
import type { AttentionSite } from '../model/types';

export interface HeadId {
  layer: number;
  head: number;
}

/** A layer of attention and how many query heads it has. */
export interface AttentionLayer {
  layer: number;
  heads: number;
}

/** A set's score: the mean, with the per-sample values it averages (mean NLL: Σ nll / Σ tokens). */
export interface SetScore {
  mean: number;
  samples: SampleValues;
}

/** A bare mean is enough for the guard 'none'; the interval guard needs the per-sample values. */
export type HeadScore = (heads: readonly HeadId[]) => Promise<number | SetScore>;

/** When a change counts as an improvement: its interval lies below 0, or its mean is lower. */
export type HeadGuard = 'interval' | 'none';
export const HEAD_GUARDS: readonly HeadGuard[] = ['interval', 'none'];

/** The intervals' bootstrap (eval/bootstrap.ts): 95 %, 2000 resamples, seed 0 unless given. */
export interface HeadIntervalOptions {
  seed?: number;
  level?: number;
  resamples?: number;
}

/** A change's paired bootstrap interval (mean NLL, candidate − reference). */
export interface ChangeInterval {
  low: number;
  high: number;
}

export interface HeadSearchOptions {
  layers: readonly AttentionLayer[];
  /** Layers whose heads are not candidates (default: referenceSkipLayers(layers)). */
  skipLayers?: readonly number[];
  /** Lower is better (e.g. calibration perplexity); receives heads in (layer, head) order. */
  score: HeadScore;
  /** Default 'none': the strict rule. */
  guard?: HeadGuard;
  /** How the intervals are drawn (computed whenever the score gives per-sample values). */
  intervals?: HeadIntervalOptions;
  onProgress?: ProgressListener;
  cancel?: CancelSignal;
}

export interface HeadAlone {
  head: HeadId;
  score: number;
  /** score − baseline: negative is an improvement. */
  delta: number;
  /** The interval of delta over the samples; null when the score gave no per-sample values. */
  interval: ChangeInterval | null;
  improves: boolean;
}

/** One step of the greedy elimination: the head removed, the set's score without it, and the change's interval against the set before. */
export interface HeadDrop {
  head: HeadId;
  score: number;
  interval: ChangeInterval | null;
}

export interface HeadSearchResult {
  baseline: number;
  /** Every candidate, in (layer, head) order. */
  alone: HeadAlone[];
  /** The heads that improved alone; their union's score (null when none did). */
  kept: HeadId[];
  keptScore: number | null;
  drops: HeadDrop[];
  selected: HeadId[];
  /** The selected set's score (the baseline when nothing is selected). */
  score: number;
  /** The set the elimination ended with and its interval against the baseline (null: empty set, or no per-sample values). */
  finalSet: HeadId[];
  finalInterval: ChangeInterval | null;
  guard: HeadGuard;
  skippedLayers: number[];
  /** Calls made to score(), each a distinct set. */
  evaluations: number;
}

/** The reference's skips: the first two and the last layer, in the order of the model. */
export function referenceSkipLayers(layers: readonly AttentionLayer[]): number[] {
  const ids = [...new Set(layers.map((l) => l.layer))].sort((a, b) => a - b);
  return [...new Set([...ids.slice(0, 2), ...ids.slice(-1)])];
}

/** Attention layers from the analysis: one per site, numbered by block (else by site order). */
export function attentionLayers(sites: readonly AttentionSite[]): AttentionLayer[] {
  return sites.map((site) => {
    if (site.heads === null) throw new Error(`head search: the number of heads of ${site.softmaxNode} is unknown`);
    return { layer: site.block ?? site.order, heads: site.heads };
  });
}

/**
 * Heads grouped per attention site, in site order, for the graph rewrite (actGraph.ts's
 * ActSiteSelection has this shape): the inverse of attentionLayers' numbering.
 */
export function siteSelections(sites: readonly AttentionSite[], heads: readonly HeadId[]): { site: AttentionSite; heads: number[] }[] {
  const bySite = new Map(sites.map((site) => [site.block ?? site.order, { site, heads: [] as number[] }]));
  for (const { layer, head } of heads) {
    const entry = bySite.get(layer);
    if (!entry) throw new Error(`head search: no attention site is layer ${layer}`);
    if (entry.site.heads !== null && (head < 0 || head >= entry.site.heads)) throw new RangeError(`head search: layer ${layer} has no head ${head}`);
    if (!entry.heads.includes(head)) entry.heads.push(head);
  }
  return [...bySite.values()].filter((e) => e.heads.length > 0).map((e) => ({ site: e.site, heads: e.heads.sort((a, b) => a - b) }));
}

const byLayerHead = (a: HeadId, b: HeadId) => a.layer - b.layer || a.head - b.head;
const setKey = (heads: readonly HeadId[]) => heads.map((h) => `${h.layer}.${h.head}`).join(',');

/**
 * Fresh evaluations step 2 can need for k kept heads: the union (k ≥ 2), then m subsets of size
 * m − 1 ≥ 2 at each size m from k down to 3 (smaller sets are step 1's).
 */
export function maxTogetherEvaluations(k: number): number {
  if (k < 2) return 0;
  let n = 1;
  for (let m = 3; m <= k; m++) n += m;
  return n;
}

export async function searchHeads(options: HeadSearchOptions): Promise<HeadSearchResult> {
  const seen = new Set<number>();
  for (const { layer, heads } of options.layers) {
    if (seen.has(layer)) throw new Error(`head search: layer ${layer} is listed twice; a (layer, head) must name one head`);
    if (!Number.isInteger(heads) || heads < 1) throw new RangeError(`head search: layer ${layer} has ${heads} heads`);
    seen.add(layer);
  }
  const skippedLayers = [...(options.skipLayers ?? referenceSkipLayers(options.layers))].sort((a, b) => a - b);
  const skip = new Set(skippedLayers);
  const candidates: HeadId[] = options.layers
    .filter((l) => !skip.has(l.layer))
    .flatMap((l) => Array.from({ length: l.heads }, (_, head) => ({ layer: l.layer, head })))
    .sort(byLayerHead);

  const guard: HeadGuard = options.guard ?? 'none';
  const cache = new Map<string, SetScore | number>();
  let total = 1 + candidates.length;
  const report = (label: string) => options.onProgress?.({ phase: 'attention-search', label, done: cache.size, total });
  const score = async (heads: readonly HeadId[], label: string): Promise<SetScore | number> => {
    const sorted = [...heads].sort(byLayerHead);
    const key = setKey(sorted);
    const known = cache.get(key);
    if (known !== undefined) return known;
    throwIfCancelled(options.cancel, 'head search');
    const value = await options.score(sorted);
    if (Number.isNaN(meanOf(value))) throw new Error(`head search: the score of [${key}] is NaN`);
    if (guard === 'interval' && typeof value === 'number') throw new Error(`head search: the interval guard needs per-sample values, but the score of [${key}] is a bare number`);
    cache.set(key, value);
    report(label);
    return value;
  };
  // The change from `reference` to `candidate`, its interval, and whether the guard calls it an improvement.
  const compare = (reference: SetScore | number, candidate: SetScore | number) => {
    const interval = changeInterval(reference, candidate, options.intervals ?? {});
    const delta = meanOf(candidate) - meanOf(reference);
    const improves = guard === 'interval' ? interval!.high < 0 : delta < 0;
    return { delta, interval, improves };
  };

  report('heads alone');
  const baselineScore = await score([], 'baseline');
  const baseline = meanOf(baselineScore);
  const alone: HeadAlone[] = [];
  for (const head of candidates) {
    const s = await score([head], `layer ${head.layer} head ${head.head}`);
    alone.push({ head, score: meanOf(s), ...compare(baselineScore, s) });
  }

  const kept = alone.filter((a) => a.improves).map((a) => a.head);
  total = cache.size + maxTogetherEvaluations(kept.length);
  let selected = kept;
  let current = kept.length > 0 ? await score(kept, 'kept heads together') : baselineScore;
  const keptScore = kept.length > 0 ? meanOf(current) : null;
  const drops: HeadDrop[] = [];
  while (selected.length > 0) {
    let best: { head: HeadId; value: SetScore | number } | null = null;
    for (const head of selected) {
      const value = await score(selected.filter((h) => h !== head), `without layer ${head.layer} head ${head.head}`);
      if (best === null || meanOf(value) < meanOf(best.value)) best = { head, value };
    }
    if (best === null) break;
    const step = compare(current, best.value);
    if (!step.improves) break;
    const drop = best.head;
    drops.push({ head: drop, score: meanOf(best.value), interval: step.interval });
    selected = selected.filter((h) => h !== drop);
    current = best.value;
  }
  const finalSet = selected;
  const finalInterval = selected.length > 0 ? compare(baselineScore, current).interval : null;
  if (guard === 'interval' && selected.length > 0 && !(finalInterval!.high < 0)) {
    selected = [];
    current = baselineScore;
  }
  total = cache.size;
  report('done');
  return { baseline, alone, kept, keptScore, drops, selected, score: meanOf(current), finalSet, finalInterval, guard, skippedLayers, evaluations: cache.size };
}

const meanOf = (value: SetScore | number): number => (typeof value === 'number' ? value : value.mean);

/** The paired bootstrap interval of the mean NLL's change (null without per-sample values). */
function changeInterval(reference: SetScore | number, candidate: SetScore | number, options: HeadIntervalOptions): ChangeInterval | null {
  if (typeof reference === 'number' || typeof candidate === 'number') return null;
  const { low, high } = pairedBootstrap(reference.samples, candidate.samples, { ...options, metric: 'meanNll' });
  return { low, high };
}
