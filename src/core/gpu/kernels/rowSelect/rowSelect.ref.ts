// CPU reference for per-row unstructured selection (Wanda's comparison group is the output row,
// locuslab/wanda prune_wanda): in each row zero the `pruneCount` lowest scores, in the order of
// pruneOrder.ts (lower column index first among equal scores). A plain sort per row.
// Shipped CPU path (prune/masks.ts keepPerRow): the same order, found by selecting the
// pruneCount-th score instead of sorting; it refuses NaN scores before selecting (PruneError),
// so the NaN rule of pruneOrder.ts only matters to the kernel.
import { comparePruneOrder } from '../pruneOrder';

/** scores (rows, cols) row-major. Returns the keep mask (rows, cols): 1 keep, 0 pruned. */
export function rowSelectRef(scores: Float32Array, rows: number, cols: number, pruneCount: number): Uint8Array {
  if (scores.length !== rows * cols) throw new Error(`rowSelect ref: scores has ${scores.length} values, expected ${rows}×${cols}`);
  const keep = new Uint8Array(rows * cols).fill(1);
  const order = Array.from({ length: cols }, (_, j) => j);
  for (let i = 0; i < rows; i++) {
    const row = scores.subarray(i * cols, (i + 1) * cols);
    order.sort((a, b) => comparePruneOrder(row[a], a, row[b], b));
    for (let r = 0; r < Math.min(pruneCount, cols); r++) keep[i * cols + order[r]] = 0;
  }
  return keep;
}
