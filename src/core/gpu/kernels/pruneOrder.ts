// The order in which the selection kernels prune, shared by their CPU references (the WGSL side
// is pruneOrder.wgsl). Lowest score first; among equal scores the lower column index first —
// what locuslab/wanda's prune_wanda gets from torch.sort(..., stable=True) and then pruning
// indices[:, :k]. NaN ranks above +Inf (torch.sort puts NaN last), so a NaN score is pruned
// last; -0 and +0 are equal.
import type { SparsityPattern } from '../../prune/patterns.ts';

/** Weights pruned per row at a sparsity: ⌊cols·s⌋, as Wanda's int(W.shape[1] * sparsity_ratio). */
export function prunedPerRow(cols: number, sparsity: number): number {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new Error(`sparsity must be in [0, 1], got ${sparsity}`);
  return Math.floor(cols * sparsity);
}

/** Comparator for (score, index) pairs in pruning order: negative when a is pruned before b. */
export function comparePruneOrder(scoreA: number, indexA: number, scoreB: number, indexB: number): number {
  const nanA = Number.isNaN(scoreA);
  const nanB = Number.isNaN(scoreB);
  if (nanA !== nanB) return nanA ? 1 : -1;
  if (!nanA && scoreA !== scoreB) return scoreA < scoreB ? -1 : 1; // -0 === 0 falls through
  return indexA - indexB;
}

/**
 * Which weights a SparseGPT sweep prunes: a keep mask given up front (1 keep, 0 pruned), or the
 * N:M sparsity pattern (src/core/prune/patterns.ts; N kept per group of M) chosen as it goes.
 */
export type PrunePattern = { kind: 'mask'; keepMask: Uint8Array } | Extract<SparsityPattern, { kind: 'nm' }>;
