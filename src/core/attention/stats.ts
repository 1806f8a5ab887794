// Statistics of post-softmax attention maps: per head the sink score of every key, the sink set,
// the share of attention mass that goes to sinks and the attention entropy; per layer the same
// aggregated; over several inputs the same averaged.
//
// The sink score follows ACT's reference (GATECH-EIC/ACT models/llama_modelling_aug.py,
// atten_process_cal): `torch.sum(head, dim=0) / torch.arange(T, 0, -1)`, i.e. the column sum
// divided by the number of queries that can see key j (T − j under a causal mask). A map with no
// causal mask (the ViT) lets every query see every key, so there the divisor is T; the reference
// has no such case. Sums are in float64; the maps are float32 as ORT returns them.
// fixtures/make_stats_fixture.py restates every formula in numpy/torch; change one, change both.
import { findSinks, sinkScores, thresholdValue, type SinkThreshold } from './act.ts';
import type { CapturedAttention, SiteAttention } from './capture.ts';

export { thresholdValue, type SinkThreshold } from './act.ts';

export const REFERENCE_THRESHOLD: SinkThreshold = { kind: 'absolute', tau: 0.1 };

export interface HeadStats {
  /** (T) m_j = Σ_i A_ij / (queries that can see j). */
  sinkScores: Float64Array;
  /** Keys with m_j > τ, ascending. ACT leaves the first one alone and calibrates the rest. */
  sinks: number[];
  /** Mean over the T rows of Σ_{j∈sinks} A_ij. */
  sinkMass: number;
  /** Mean over the T rows of −Σ_j A_ij ln A_ij (nats; 0·ln 0 = 0; NaN when the map holds NaN). */
  entropy: number;
}

export interface LayerStats {
  softmaxNode: string;
  block: number | null;
  tokens: number;
  threshold: number;
  heads: HeadStats[];
  /** Mean over heads. */
  sinkMass: number;
  entropy: number;
  /** Keys that are a sink in at least one head, ascending, and in how many heads each is. */
  sinkKeys: number[];
  sinkHeadCounts: number[];
  /** Σ over heads of the sinks after the first: the keys ACT would recalibrate. */
  hiddenSinks: number;
}

/**
 * One head's statistics. `map` holds (T, T) row-major starting at `offset`; `causal` picks the
 * divisor of the sink score (T − j, else T).
 */
export function headStats(map: ArrayLike<number>, offset: number, tokens: number, causal: boolean, tau: number): HeadStats {
  let entropySum = 0;
  for (let i = 0; i < tokens; i++) {
    const row = offset + i * tokens;
    let rowEntropy = 0;
    for (let j = 0; j < tokens; j++) {
      const a = map[row + j];
      if (a > 0) rowEntropy -= a * Math.log(a);
      else if (Number.isNaN(a)) rowEntropy = NaN; // a NaN map must not read as a sharp one
    }
    entropySum += rowEntropy;
  }
  // ACT's own sink rule (act.ts): m_j > τ.
  const sinkScoresOfHead = sinkScores(map, tokens, causal, offset);
  const { sinks } = findSinks(sinkScoresOfHead, tau);
  let massSum = 0;
  for (let i = 0; i < tokens; i++) for (const j of sinks) massSum += map[offset + i * tokens + j];
  return { sinkScores: sinkScoresOfHead, sinks, sinkMass: massSum / tokens, entropy: entropySum / tokens };
}

/** The sinks after a head's first: the ones ACT recalibrates (act.ts's `edited`). */
export const headHiddenSinks = (head: Pick<HeadStats, 'sinks'>): number => Math.max(0, head.sinks.length - 1);

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

export function layerStats(site: SiteAttention, threshold: SinkThreshold = REFERENCE_THRESHOLD): LayerStats {
  const { heads: headCount, tokens, causal, probabilities } = site;
  const tau = thresholdValue(threshold, tokens);
  const heads = Array.from({ length: headCount }, (_, h) => headStats(probabilities, h * tokens * tokens, tokens, causal, tau));
  const counts = new Map<number, number>();
  for (const head of heads) for (const j of head.sinks) counts.set(j, (counts.get(j) ?? 0) + 1);
  const sinkKeys = [...counts.keys()].sort((a, b) => a - b);
  return {
    softmaxNode: site.softmaxNode,
    block: site.block,
    tokens,
    threshold: tau,
    heads,
    sinkMass: mean(heads.map((h) => h.sinkMass)),
    entropy: mean(heads.map((h) => h.entropy)),
    sinkKeys,
    sinkHeadCounts: sinkKeys.map((j) => counts.get(j)!),
    hiddenSinks: heads.reduce((n, h) => n + headHiddenSinks(h), 0),
  };
}

export function attentionStats(captured: CapturedAttention, threshold: SinkThreshold = REFERENCE_THRESHOLD): LayerStats[] {
  return captured.sites.map((site) => layerStats(site, threshold));
}

// ---- over a dataset ------------------------------------------------------------------------

export interface AveragedHeadStats {
  /** (T) mean sink score per key; null when the inputs differ in length. */
  sinkScores: Float64Array | null;
  /** (T) share of inputs in which key j is a sink; null when the inputs differ in length. */
  sinkFrequency: Float64Array | null;
  sinkCount: number;
  sinkMass: number;
  entropy: number;
}

export interface AveragedLayerStats {
  softmaxNode: string;
  block: number | null;
  inputs: number;
  heads: AveragedHeadStats[];
  sinkMass: number;
  entropy: number;
  /** Mean over inputs of LayerStats.hiddenSinks. */
  hiddenSinks: number;
}

/** Per-key means of one head over the inputs; null unless every input has the same T. */
function perKeyMean(stats: readonly HeadStats[], value: (head: HeadStats, j: number) => number): Float64Array | null {
  const tokens = stats[0].sinkScores.length;
  if (stats.some((s) => s.sinkScores.length !== tokens)) return null;
  const out = new Float64Array(tokens);
  for (const head of stats) for (let j = 0; j < tokens; j++) out[j] += value(head, j) / stats.length;
  return out;
}

/** Each input's per-layer stats (attentionStats of each), averaged input by input with equal weight. */
export function averageStats(perInput: readonly (readonly LayerStats[])[]): AveragedLayerStats[] {
  if (perInput.length === 0) return [];
  const layers = perInput[0];
  if (perInput.some((stats) => stats.length !== layers.length)) throw new Error('averageStats: inputs have different numbers of attention sites');
  return layers.map((layer, l) => {
    const runs = perInput.map((stats) => stats[l]);
    if (runs.some((run) => run.heads.length !== layer.heads.length)) throw new Error(`averageStats: ${layer.softmaxNode} has different numbers of heads across inputs`);
    const heads = layer.heads.map((_, h): AveragedHeadStats => {
      const head = runs.map((run) => run.heads[h]);
      return {
        sinkScores: perKeyMean(head, (s, j) => s.sinkScores[j]),
        sinkFrequency: perKeyMean(head, (s, j) => (s.sinks.includes(j) ? 1 : 0)),
        sinkCount: mean(head.map((s) => s.sinks.length)),
        sinkMass: mean(head.map((s) => s.sinkMass)),
        entropy: mean(head.map((s) => s.entropy)),
      };
    });
    return {
      softmaxNode: layer.softmaxNode,
      block: layer.block,
      inputs: runs.length,
      heads,
      sinkMass: mean(runs.map((run) => run.sinkMass)),
      entropy: mean(runs.map((run) => run.entropy)),
      hiddenSinks: mean(runs.map((run) => run.hiddenSinks)),
    };
  });
}
