// Which structured sparsity pattern a weight already has: the tightest N:M along C_in that every
// row satisfies, and for 2:M the largest V whose V x M tiles keep VENOM's 4 shared columns. The
// prune module's invariant checkers (checkNM, checkVNM) are the definition; the group counts here
// only choose which N, M and V to ask them about.
import { checkBlocks, checkNM, checkVNM, countPruned } from '../prune/invariants.ts';
import { BLOCK_SHAPES } from '../prune/patterns.ts';
import type { KeepMask } from '../prune/types.ts';
import type { StructuredPattern } from './types.ts';

/** Group sizes tried, smallest first: 2:4 also satisfies 4:8 and 8:16, and 2:4 says the most. */
export const GROUP_SIZES = [4, 8, 16] as const;

/** VENOM tile heights tried, largest first (a tile of 64 rows on 4 columns implies tiles of 32). */
export const VNM_TILE_ROWS = [128, 64, 32, 16, 8, 4] as const;

/**
 * Share of the non-empty groups that must keep exactly N. N:M pruning (magnitude, Wanda,
 * SparseGPT) keeps exactly N in every group; unstructured pruning at 70 % also has no group of 8
 * with more than 6 kept in a small layer, but few groups with exactly 6, so "6:8" is not claimed.
 */
export const SATURATED_SHARE = 0.9;

/** The layer's zero share below which no N:M pattern is looked for (the loosest tried prunes 1/16). */
export const MIN_PATTERN_ZERO_SHARE = 1 / 16;

interface GroupCounts {
  /** Most weights kept in one group of m. */
  maxKept: number;
  /** Groups keeping exactly maxKept, over the groups keeping at least one. */
  saturated: number;
}

function groupCounts(keep: KeepMask, m: number): GroupCounts {
  const histogram = new Float64Array(m + 1);
  for (let r = 0; r < keep.rows; r++) {
    const row = r * keep.cols;
    for (let c0 = 0; c0 < keep.cols; c0 += m) {
      let kept = 0;
      for (let c = c0; c < c0 + m; c++) kept += keep.data[row + c];
      histogram[kept]++;
    }
  }
  let maxKept = m;
  while (maxKept > 0 && histogram[maxKept] === 0) maxKept--;
  const nonEmpty = histogram.reduce((sum, count, kept) => (kept > 0 ? sum + count : sum), 0);
  return { maxKept, saturated: nonEmpty === 0 ? 0 : histogram[maxKept] / nonEmpty };
}

/**
 * The tightest N:M every row satisfies with nearly every non-empty group full, or null. Tightest
 * is the lowest density N/M (1:8 over the 1:4 it also satisfies), then the smallest M (2:4 over
 * 4:8).
 */
export function detectNM(keep: KeepMask): { n: number; m: number } | null {
  let best: { n: number; m: number } | null = null;
  for (const m of GROUP_SIZES) {
    if (keep.cols % m !== 0) continue;
    const { maxKept, saturated } = groupCounts(keep, m);
    if (maxKept === 0 || maxKept >= m || saturated < SATURATED_SHARE) continue;
    if (best !== null && maxKept / m >= best.n / best.m) continue;
    if (checkNM(keep, maxKept, m).length === 0) best = { n: maxKept, m };
  }
  return best;
}

/** A 2:M pattern (M >= 8: at M = 4 every tile trivially uses 4 columns) with the largest V that holds. */
function detectVNM(keep: KeepMask, m: number): StructuredPattern | null {
  for (const v of VNM_TILE_ROWS) {
    if (keep.rows % v !== 0) continue;
    if (checkVNM(keep, v, m).length === 0) return { kind: 'vnm', v, n: 2, m };
  }
  return null;
}

/**
 * SparseByteNN's 1×4 or 4×1 groups, when every group is all zero or all kept and at least half
 * of the group rows hold both zeroed and kept groups (so one all-zero row of a dense layer, or
 * whole rows pruned, is not "blocks");
 * an all-zero layer has no pattern.
 */
export function detectBlocks(keep: KeepMask): StructuredPattern | null {
  if (!keep.data.includes(1)) return null;
  for (const { rows, cols } of BLOCK_SHAPES) {
    if (keep.rows % rows !== 0 || keep.cols % cols !== 0 || checkBlocks(keep, rows, cols).length > 0) continue;
    // A group row counts when it holds zeroed AND kept groups: whole rows zeroed (row pruning)
    // satisfy every block shape trivially, and are not blocks.
    let mixedRows = 0;
    for (let r0 = 0; r0 < keep.rows; r0 += rows) {
      const groupRow = keep.data.subarray(r0 * keep.cols, (r0 + rows) * keep.cols);
      if (groupRow.includes(0) && groupRow.includes(1)) mixedRows++;
    }
    if (mixedRows * 2 >= keep.rows / rows) return { kind: 'block', rows, cols, sparsity: countPruned(keep) / keep.data.length };
  }
  return null;
}

/** The most specific structured pattern of a keep mask (1 = non-zero weight), or null. */
export function detectPattern(keep: KeepMask): StructuredPattern | null {
  const blocks = detectBlocks(keep);
  if (blocks !== null) return blocks;
  const nm = detectNM(keep);
  if (nm === null) return null;
  if (nm.n === 2 && nm.m >= 8) return detectVNM(keep, nm.m) ?? { kind: 'nm', ...nm };
  return { kind: 'nm', ...nm };
}
