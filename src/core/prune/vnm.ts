// V:N:M masks, following VENOM's column selection (UDC-GAC/venom end2end/grouped_nmv_tensor.py,
// group_n_m2): per tile of V rows x M columns, try every set of 4 columns in lexicographic order,
// score a set by the sum over the tile's rows of each row's top-2 importances inside it, keep the
// first set with the strictly largest total, then each row keeps its top 2 of those 4.
// Two choices the C++ leaves open: ties inside a row rank the lower column first (its
// partial_sort is not stable), and the best total starts at -Infinity rather than 0, so an
// all-zero tile keeps columns {0, 1} of the set {0, 1, 2, 3} instead of nothing.
import { PruneError, type KeepMask } from './types.ts';
import { emptyMask, type Importance } from './masks.ts';
import { VNM_SHARED_COLUMNS } from './patterns.ts';
import { assertFinite } from './validate.ts';

/** Every 4-subset of 0..m-1 in the order of VENOM's four nested loops. */
export function columnSets(m: number): Int32Array[] {
  const sets: Int32Array[] = [];
  for (let a = 0; a < m; a++)
    for (let b = a + 1; b < m; b++)
      for (let c = b + 1; c < m; c++) for (let d = c + 1; d < m; d++) sets.push(Int32Array.of(a, b, c, d));
  return sets;
}

/** Positions (0..3) of the two largest of `values`, larger first, ties to the lower position. */
function topTwo(values: Float64Array): [number, number] {
  let first = 0;
  for (let k = 1; k < VNM_SHARED_COLUMNS; k++) if (values[k] > values[first]) first = k;
  let second = first === 0 ? 1 : 0;
  for (let k = 0; k < VNM_SHARED_COLUMNS; k++) {
    if (k !== first && values[k] > values[second]) second = k;
  }
  return [first, second];
}

interface Tile {
  data: ArrayLike<number>;
  cols: number;
  row0: number;
  col0: number;
  v: number;
}

function gatherRow(tile: Tile, row: number, set: Int32Array, values: Float64Array): void {
  const base = (tile.row0 + row) * tile.cols + tile.col0;
  for (let k = 0; k < VNM_SHARED_COLUMNS; k++) values[k] = tile.data[base + set[k]];
}

/** The 4-column set of one tile with the largest sum of per-row top-2 importances. */
function bestColumnSet(tile: Tile, sets: Int32Array[]): Int32Array {
  const values = new Float64Array(VNM_SHARED_COLUMNS);
  let best = sets[0];
  let bestTotal = -Infinity;
  for (const set of sets) {
    let total = 0;
    for (let r = 0; r < tile.v; r++) {
      gatherRow(tile, r, set, values);
      const [first, second] = topTwo(values);
      total += values[first];
      total += values[second];
    }
    if (total > bestTotal) {
      bestTotal = total;
      best = set;
    }
  }
  return best;
}

/** V:N:M keep mask (N = 2): rows must be a multiple of v and cols of m (validatePattern). */
export function keepVNM(importance: Importance, v: number, m: number): KeepMask {
  assertFinite(importance.data, 'V:N:M mask: importance', importance.cols);
  const { rows, cols, data } = importance;
  if (rows % v !== 0 || cols % m !== 0 || m < VNM_SHARED_COLUMNS) {
    throw new PruneError(`V:N:M mask: ${v} x ${m} tiles do not fit ${rows} x ${cols}`);
  }
  const keep = emptyMask(rows, cols);
  const sets = columnSets(m);
  const values = new Float64Array(VNM_SHARED_COLUMNS);
  for (let row0 = 0; row0 < rows; row0 += v) {
    for (let col0 = 0; col0 < cols; col0 += m) {
      const tile = { data, cols, row0, col0, v };
      const set = bestColumnSet(tile, sets);
      for (let r = 0; r < v; r++) {
        gatherRow(tile, r, set, values);
        for (const k of topTwo(values)) keep.data[(row0 + r) * cols + col0 + set[k]] = 1;
      }
    }
  }
  return keep;
}
