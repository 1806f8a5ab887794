// Keep masks from an importance matrix (higher = more important). Each builder prunes the lowest
// scores of its comparison group; equal scores are pruned lower index first, which is what
// wanda's prune_wanda gets from torch.sort(..., stable=True).
import { PruneError, type KeepMask, type Matrix, type PruneResult } from './types.ts';
import { assertFinite } from './validate.ts';

/** An importance score per weight, row-major like the weight. */
export interface Importance {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/** Everything kept. */
export function fullMask(rows: number, cols: number): KeepMask {
  return { rows, cols, data: new Uint8Array(rows * cols).fill(1) };
}

/** Everything pruned, for builders that mark what they keep. */
export function emptyMask(rows: number, cols: number): KeepMask {
  return { rows, cols, data: new Uint8Array(rows * cols) };
}

/** Number of weights pruned for a fraction s of `count`: ⌊count·s⌋, as int(W.shape[1]*sparsity). */
export const prunedCount = (count: number, sparsity: number): number => Math.floor(count * sparsity);

/** Indices [start, start + length) ordered by ascending score, ties by lower index (a stable sort). */
function ascendingOrder(scores: ArrayLike<number>, start: number, length: number): Int32Array {
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = start + i;
  return order.sort((a, b) => scores[a] - scores[b] || a - b);
}

function checkedImportance(importance: Importance, label: string): void {
  if (importance.data.length !== importance.rows * importance.cols) {
    throw new PruneError(`${label}: ${importance.data.length} scores for ${importance.rows} x ${importance.cols}`);
  }
  assertFinite(importance.data, `${label}: importance`, importance.cols);
}

/** Per output row, prune the ⌊C_in·s⌋ lowest (wanda prune_wanda: sort_res[1][:, :int(C_in*s)]). */
export function keepPerRow(importance: Importance, sparsity: number): KeepMask {
  checkedImportance(importance, 'per-row mask');
  const { rows, cols, data } = importance;
  const keep = fullMask(rows, cols);
  const pruneCount = prunedCount(cols, sparsity);
  if (pruneCount === 0) return keep;
  for (let r = 0; r < rows; r++) {
    const order = ascendingOrder(data, r * cols, cols);
    for (let k = 0; k < pruneCount; k++) keep.data[order[k]] = 0;
  }
  return keep;
}

/**
 * Over the whole layer, prune exactly ⌊numel·s⌋. (wanda's prune_magnitude thresholds with
 * `|W| <= sort(|W|)[int(numel*s)]`, which prunes one more than that, more with ties; the lab
 * keeps the count exact and says so in docs/pruning.md.)
 */
export function keepPerLayer(importance: Importance, sparsity: number): KeepMask {
  return keepGlobal([importance], sparsity)[0];
}

/** One comparison group across several layers: exactly ⌊Σnumel·s⌋ pruned, ties by (layer, index). */
export function keepGlobal(importances: Importance[], sparsity: number): KeepMask[] {
  importances.forEach((importance, i) => checkedImportance(importance, `global mask, layer ${i}`));
  const offsets: number[] = [];
  let total = 0;
  for (const importance of importances) {
    offsets.push(total);
    total += importance.data.length;
  }
  const scores = new Float64Array(total);
  importances.forEach((importance, i) => {
    for (let j = 0; j < importance.data.length; j++) scores[offsets[i] + j] = importance.data[j];
  });
  const keeps = importances.map((importance) => fullMask(importance.rows, importance.cols));
  const order = ascendingOrder(scores, 0, total);
  const pruneCount = prunedCount(total, sparsity);
  for (let k = 0; k < pruneCount; k++) {
    const layer = layerOf(offsets, order[k]);
    keeps[layer].data[order[k] - offsets[layer]] = 0;
  }
  return keeps;
}

function layerOf(offsets: number[], flat: number): number {
  let layer = offsets.length - 1;
  while (offsets[layer] > flat) layer--;
  return layer;
}

/**
 * N:M: in every group of m consecutive columns of a row keep the n highest, i.e. prune the m - n
 * lowest (prune_wanda: topk(tmp, prune_n, largest=False) with prune_n = m - n). torch.topk's
 * order among equal scores is unspecified; here the lower index is pruned first.
 */
export function keepNM(importance: Importance, n: number, m: number): KeepMask {
  checkedImportance(importance, 'N:M mask');
  const { rows, cols, data } = importance;
  if (!(n >= 0 && n < m) || cols % m !== 0) throw new PruneError(`N:M mask: ${n}:${m} does not fit ${cols} columns`);
  const keep = fullMask(rows, cols);
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += m) {
      const order = ascendingOrder(data, r * cols + c0, m);
      for (let k = 0; k < m - n; k++) keep.data[order[k]] = 0;
    }
  }
  return keep;
}

/** The weight with pruned entries set to +0 (W[W_mask] = 0); kept entries are copied bit for bit. */
export function applyKeepMask(weight: Matrix, keep: KeepMask): PruneResult {
  if (keep.rows !== weight.rows || keep.cols !== weight.cols) {
    throw new PruneError(`mask ${keep.rows} x ${keep.cols} does not fit weight ${weight.rows} x ${weight.cols}`);
  }
  const data = Float32Array.from(weight.data);
  for (let i = 0; i < data.length; i++) if (keep.data[i] === 0) data[i] = 0;
  return { weight: { rows: weight.rows, cols: weight.cols, data }, keep };
}
