// CPU references for globalSelect: one comparison group of n scores, taken flat.
//
// exact: prune the pruneCount lowest in the order of pruneOrder.ts (NaN last, ±0 equal, lower
// flat index first among equal scores) — a plain sort, like rowSelectRef on a single row. On
// finite scores this is keepPerLayer (src/core/prune/masks.ts), the CPU path of magnitude's
// per-layer group (tested); keepPerLayer refuses NaN, the kernel ranks it last as rowSelect does.
//
// threshold: SparseGPT's unstructured block mask, whose CPU path is blockThresholdKeep
// (src/core/prune/sparsegpt.setup.ts: `thresh = sort(tmp)[int(numel·s)]`, pruned `tmp <= thresh`,
// as IST-DASLab/sparsegpt fasterprune). It is the reference itself, NaN rule included: sort puts
// NaN last, NaN <= t is false, so a NaN is kept and a NaN threshold keeps everything.
import { blockThresholdKeep } from '../../../prune/sparsegpt.setup';
import { comparePruneOrder } from '../pruneOrder';

/** Keep mask (1 keep, 0 pruned) of `scores` with exactly min(pruneCount, n) pruned. */
export function globalSelectRef(scores: Float32Array, pruneCount: number): Uint8Array {
  const keep = new Uint8Array(scores.length).fill(1);
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => comparePruneOrder(scores[a], a, scores[b], b));
  for (let r = 0; r < Math.min(pruneCount, scores.length); r++) keep[order[r]] = 0;
  return keep;
}

/**
 * The 0-based rank of the threshold blockThresholdKeep takes, `int(numel · s)` clamped to the
 * last element; the device path needs it on the host, so it is written out here (and tested
 * against blockThresholdKeep's own choice).
 */
export function thresholdRank(count: number, sparsity: number): number {
  return Math.min(Math.floor(count * sparsity), count - 1);
}

export const thresholdSelectRef = blockThresholdKeep;
