// CPU reference for N:M selection: in every group of M consecutive columns of a row keep the N
// highest scores and prune the rest, in the order of pruneOrder.ts (lower column index first
// among equal scores). N is the number KEPT (locuslab/wanda and SparseGPT call the number
// pruned `prune_n`). A trailing group of r < M columns (cols not a multiple of M) keeps
// min(N, r): the "at most N of any M" constraint still holds; the reference code assumes
// cols % M == 0 and has no rule for it.
// Shipped CPU path (prune/masks.ts keepNM, and keep_nm in the wasm SparseGPT sweep): the same
// order by rank within the group; it refuses NaN scores and a trailing partial group
// (validatePattern) before selecting.
import { comparePruneOrder } from '../pruneOrder';

/** scores (rows, cols) row-major. Returns the keep mask (rows, cols): 1 keep, 0 pruned. */
export function nmSelectRef(scores: Float32Array, rows: number, cols: number, keepN: number, groupM: number): Uint8Array {
  if (scores.length !== rows * cols) throw new Error(`nmSelect ref: scores has ${scores.length} values, expected ${rows}×${cols}`);
  const keep = new Uint8Array(rows * cols).fill(1);
  for (let i = 0; i < rows; i++) {
    for (let start = 0; start < cols; start += groupM) {
      const size = Math.min(groupM, cols - start);
      const group = Array.from({ length: size }, (_, g) => start + g);
      group.sort((a, b) => comparePruneOrder(scores[i * cols + a], a, scores[i * cols + b], b));
      for (let r = 0; r < size - keepN; r++) keep[i * cols + group[r]] = 0;
    }
  }
  return keep;
}
