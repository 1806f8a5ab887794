// Keep masks from an importance matrix (higher = more important). Each builder prunes the lowest
// scores of its comparison group; equal scores are pruned lower index first, which is what
// wanda's prune_wanda gets from torch.sort(..., stable=True).
import { PruneError, type KeepMask, type Matrix, type PruneResult } from './types.ts';
import { kthSmallestF32 } from '../linalg/masks.ts';
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

/**
 * The k-th smallest (0-based) of values[0, length), reordering values: Hoare selection with a
 * median-of-three pivot, O(length) on average (a sort would be O(length·log length)).
 */
function kthSmallest(values: Float64Array, length: number, k: number): number {
  let lo = 0;
  let hi = length - 1;
  while (hi > lo) {
    const [x, y, z] = [values[lo], values[(lo + hi) >> 1], values[hi]];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}

type Scores = Float32Array | Float64Array;

/** The scores as a float typed array (a float64 copy of anything else), so the loops below see at most two element types. */
function asTyped(data: ArrayLike<number>): Scores {
  return data instanceof Float64Array || data instanceof Float32Array ? data : Float64Array.from(data);
}

/**
 * Marks as pruned (keep[offset + i] = 0) the `count` lowest of scores[start, start + length),
 * equal scores lower index first: exactly the first `count` of a stable ascending sort, found by
 * selecting the count-th smallest score instead of sorting. `scratch` holds ≥ length values.
 */
function pruneLowest(scores: Scores, start: number, length: number, count: number, keep: Uint8Array, offset: number, scratch: Float64Array): void {
  if (count <= 0) return;
  scratch.set(scores.subarray(start, start + length));
  pruneAtThreshold(scores, start, length, count, kthSmallest(scratch, length, count - 1), keep, offset);
}

/** Given the count-th smallest score: prune every lower score, then equal ones lowest index first. */
function pruneAtThreshold(scores: Scores, start: number, length: number, count: number, threshold: number, keep: Uint8Array, offset: number): void {
  let below = 0;
  for (let i = 0; i < length; i++) if (scores[start + i] < threshold) below++;
  let ties = count - below; // how many scores equal to the threshold are pruned, lowest index first
  for (let i = 0; i < length; i++) {
    const score = scores[start + i];
    if (score < threshold) keep[offset + i] = 0;
    else if (score === threshold && ties > 0) {
      keep[offset + i] = 0;
      ties--;
    }
  }
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
  const { rows, cols } = importance;
  const data = asTyped(importance.data);
  const keep = fullMask(rows, cols);
  const pruneCount = prunedCount(cols, sparsity);
  if (pruneCount === 0) return keep;
  const scratch = new Float64Array(cols);
  for (let r = 0; r < rows; r++) pruneLowest(data, r * cols, cols, pruneCount, keep.data, r * cols, scratch);
  return keep;
}

/**
 * Over the whole layer, prune exactly ⌊numel·s⌋. (wanda's prune_magnitude thresholds with
 * `|W| <= sort(|W|)[int(numel*s)]`, which prunes one more than that, more with ties; the lab
 * keeps the count exact and says so in docs/pruning.md.)
 */
export function keepPerLayer(importance: Importance, sparsity: number): KeepMask {
  if (!(importance.data instanceof Float32Array)) return keepGlobal([importance], sparsity)[0];
  // Float32 scores (magnitude's |W|): the threshold by the wasm selection, no float64 copies.
  checkedImportance(importance, 'global mask, layer 0');
  const { rows, cols, data } = importance;
  const keep = fullMask(rows, cols);
  const count = prunedCount(data.length, sparsity);
  if (count > 0) pruneAtThreshold(data, 0, data.length, count, kthSmallestF32(data, count - 1), keep.data, 0);
  return keep;
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
  const flat = fullMask(1, total).data;
  pruneLowest(scores, 0, total, prunedCount(total, sparsity), flat, 0, new Float64Array(total));
  return importances.map((importance, i) => ({ rows: importance.rows, cols: importance.cols, data: flat.slice(offsets[i], offsets[i] + importance.data.length) }));
}

/**
 * N:M: in every group of m consecutive columns of a row keep the n highest, i.e. prune the m - n
 * lowest (prune_wanda: topk(tmp, prune_n, largest=False) with prune_n = m - n). torch.topk's
 * order among equal scores is unspecified; here the lower index is pruned first.
 */
export function keepNM(importance: Importance, n: number, m: number): KeepMask {
  checkedImportance(importance, 'N:M mask');
  const { rows, cols } = importance;
  const data = asTyped(importance.data);
  if (!(n >= 0 && n < m) || cols % m !== 0) throw new PruneError(`N:M mask: ${n}:${m} does not fit ${cols} columns`);
  const keep = fullMask(rows, cols);
  pruneLowestPerGroup(data, n, m, keep.data, 0, rows * cols);
  return keep;
}

/**
 * In each group of m consecutive entries of scores[start, start + length), prune (keep = 0) the
 * m − n lowest: m − n times the lowest score still kept, the first one among equals (strict <),
 * which is the lower-index-first order of a stable sort. keep[i] belongs to scores[i].
 */
function pruneLowestPerGroup(scores: Scores, n: number, m: number, keep: Uint8Array, start: number, length: number): void {
  for (let g = start; g < start + length; g += m) {
    for (let pruned = 0; pruned < m - n; pruned++) {
      let lowest = -1;
      for (let i = g; i < g + m; i++) if (keep[i] === 1 && (lowest < 0 || scores[i] < scores[lowest])) lowest = i;
      keep[lowest] = 0;
    }
  }
}

/** The weight with pruned entries set to +0 (W[W_mask] = 0); kept entries are copied bit for bit. */
export function applyKeepMask(weight: Matrix, keep: KeepMask): PruneResult {
  if (keep.rows !== weight.rows || keep.cols !== weight.cols) {
    throw new PruneError(`mask ${keep.rows} x ${keep.cols} does not fit weight ${weight.rows} x ${weight.cols}`);
  }
  const data = weight.data.slice();
  // On the bits, without a branch per weight: & 0 gives +0, & ~0 keeps every bit (−0, NaN payloads).
  const bits = new Int32Array(data.buffer, data.byteOffset, data.length);
  const flags = keep.data;
  for (let i = 0; i < bits.length; i++) bits[i] &= -+(flags[i] !== 0);
  return { weight: { rows: weight.rows, cols: weight.cols, data }, keep };
}
