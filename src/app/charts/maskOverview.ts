// The mask overview's aggregation: kept weights counted exactly per cell of a coarse grid. Every
// cell covers a whole cellRows × cellCols block of weights (only the last row and column of cells
// may be shorter, and then by the exact remainder), so no cell is a fraction of a row or column
// more than its neighbour. Cell sides are commensurate with the pattern's group (M columns of an
// N:M group, V rows of a V:N:M tile): a 2:4 mask in 4- or 8-column cells reads an even 50 %
// everywhere instead of the 2/3, 1/3 stripes that 3-column cells would show.

export interface MaskOverview {
  rows: number;
  cols: number;
  /** Weights per cell along each axis; the last row/column of cells may hold fewer. */
  cellRows: number;
  cellCols: number;
  gridRows: number;
  gridCols: number;
  /** Kept weights per cell, row-major gridRows × gridCols. */
  kept: Uint32Array;
}

/**
 * The smallest cell side ≥ need that is commensurate with the group: a divisor of it (cells split
 * groups evenly) or a multiple of it (cells hold whole groups). One weight per cell needs no rounding.
 */
export function groupAlignedSize(need: number, group: number): number {
  if (need <= 1) return 1;
  if (need > group) return Math.ceil(need / group) * group;
  let size = need;
  while (group % size !== 0) size += 1;
  return size;
}

const commensurate = (size: number, group: number) => size % group === 0 || group % size === 0;

/**
 * A cell side for `extent` weights: group-aligned, and where one up to twice the needed size
 * divides the extent, that one, so there are no short edge cells (768 rows → 32, not 29).
 */
export function overviewCellSize(extent: number, need: number, group: number): number {
  for (let size = Math.max(1, need); size <= 2 * need; size++) if (extent % size === 0 && commensurate(size, group)) return size;
  return groupAlignedSize(need, group);
}

/** Kept counts on a grid of at most maxGridRows × maxGridCols cells (overviewCellSize picks the cell). */
export function maskOverview(keep: Uint8Array, rows: number, cols: number, maxGridRows: number, maxGridCols: number, groupRows = 1, groupCols = 1): MaskOverview {
  const cellRows = overviewCellSize(rows, Math.ceil(rows / Math.max(1, maxGridRows)), groupRows);
  const cellCols = overviewCellSize(cols, Math.ceil(cols / Math.max(1, maxGridCols)), groupCols);
  const gridRows = Math.ceil(rows / cellRows);
  const gridCols = Math.ceil(cols / cellCols);
  const kept = new Uint32Array(gridRows * gridCols);
  for (let r = 0; r < rows; r++) {
    const out = Math.floor(r / cellRows) * gridCols;
    for (let gc = 0; gc < gridCols; gc++) {
      const end = r * cols + Math.min(cols, (gc + 1) * cellCols);
      let sum = 0;
      for (let i = r * cols + gc * cellCols; i < end; i++) sum += keep[i];
      kept[out + gc] += sum;
    }
  }
  return { rows, cols, cellRows, cellCols, gridRows, gridCols, kept };
}

/** Rows, columns and weights of one cell: whole cells are cellRows × cellCols, edge cells the remainder. */
export function overviewCell(o: MaskOverview, gr: number, gc: number): { row0: number; col0: number; rows: number; cols: number; density: number } {
  const row0 = gr * o.cellRows;
  const col0 = gc * o.cellCols;
  const rows = Math.min(o.rows, row0 + o.cellRows) - row0;
  const cols = Math.min(o.cols, col0 + o.cellCols) - col0;
  return { row0, col0, rows, cols, density: o.kept[gr * o.gridCols + gc] / (rows * cols) };
}

/** The chart's note: "each cell = 16×32 weights", with the edge remainders when there are any. */
export function overviewNote(o: MaskOverview): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const edges = [
    o.rows % o.cellRows ? `bottom row of cells ${plural(o.rows % o.cellRows, 'row')}` : '',
    o.cols % o.cellCols ? `last column of cells ${plural(o.cols % o.cellCols, 'column')}` : '',
  ].filter(Boolean);
  const each = `each cell = ${o.cellRows}×${o.cellCols} ${o.cellRows * o.cellCols === 1 ? 'weight' : 'weights'}`;
  return edges.length ? `${each} (${edges.join(', ')})` : each;
}
