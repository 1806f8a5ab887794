// Fine-grained group sparsity (SparseByteNN, Xu et al. 2023): weights are kept or pruned in
// groups of 4 — 1×4 (four consecutive input columns of one output row) or 4×1 (four consecutive
// output rows of one input column), the groups SparseByteNN's kernels load and multiply together.
// A group's score is the sum of its weights' scores (|W| for magnitude, |W|·‖X_j‖ for Wanda), summed
// in float64; then the lowest groups of each comparison group are pruned exactly as single weights
// are (masks.ts: lower index first among equal scores).
import { PruneError, type KeepMask } from './types.ts';
import { keepPerLayer, keepPerRow, type Importance } from './masks.ts';
import type { SparsityPattern } from './patterns.ts';
import { assertFinite } from './validate.ts';

export type BlockPattern = Extract<SparsityPattern, { kind: 'block' }>;

/**
 * (C_out / rows, C_in / cols) the sum of each group's scores. A row of the result is a "group
 * row": one output row (1×4) or four (4×1), so a per-row comparison stays per output row for 1×4.
 */
export function groupScores(importance: Importance, pattern: Pick<BlockPattern, 'rows' | 'cols'>): Importance {
  const { rows, cols, data } = importance;
  if (rows % pattern.rows !== 0 || cols % pattern.cols !== 0) throw new PruneError(`block mask: ${pattern.rows}×${pattern.cols} groups do not tile ${rows} x ${cols}`);
  const groupRows = rows / pattern.rows;
  const groupCols = cols / pattern.cols;
  const sums = new Float64Array(groupRows * groupCols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) sums[Math.floor(r / pattern.rows) * groupCols + Math.floor(c / pattern.cols)] += data[r * cols + c];
  }
  return { rows: groupRows, cols: groupCols, data: sums };
}

/** The weight-level keep mask of a group-level one. */
export function expandGroupMask(groups: KeepMask, pattern: Pick<BlockPattern, 'rows' | 'cols'>): KeepMask {
  const rows = groups.rows * pattern.rows;
  const cols = groups.cols * pattern.cols;
  const data = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) data[r * cols + c] = groups.data[Math.floor(r / pattern.rows) * groups.cols + Math.floor(c / pattern.cols)];
  }
  return { rows, cols, data };
}

/**
 * Keep mask of whole groups: per group row (`'row'`, Wanda's per-output comparison; for 4×1 the
 * four rows of a group compare together) or over the layer (`'layer'`, magnitude's default),
 * ⌊groups·s⌋ lowest-scoring groups pruned.
 */
export function keepBlocks(importance: Importance, pattern: BlockPattern, group: 'row' | 'layer'): KeepMask {
  assertFinite(importance.data, 'block mask: importance', importance.cols);
  const scores = groupScores(importance, pattern);
  const keep = group === 'row' ? keepPerRow(scores, pattern.sparsity) : keepPerLayer(scores, pattern.sparsity);
  return expandGroupMask(keep, pattern);
}

