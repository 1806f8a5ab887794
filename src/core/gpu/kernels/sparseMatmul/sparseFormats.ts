// The compressed weight layouts the sparse matmul kernels read (docs/sparse-speed.md). A linear
// layer's weight W is (C_out, C_in) row-major; y = W x.
//
// 2:4 — the logical content of NVIDIA's 2:4 format (Mishra et al. 2021, "Accelerating Sparse Deep
// Neural Networks"; cuSPARSELt's compressed matrix): per row, every group of 4 consecutive input
// columns stores exactly 2 values and two 2-bit positions inside the group. Positions are packed
// 8 groups (16 positions, 32 columns) per u32, low bits first, row-major — cuSPARSELt interleaves
// its metadata for the tensor-core tiles; a WGSL kernel has no such tiles, so the plain order is kept.
// A group with fewer than 2 non-zeros stores an explicit 0 at an unused position.
//
// Block (SparseByteNN, Xu et al. 2023, fine-grained group sparsity): groups of 1×4 (four
// consecutive input columns of one output row) or 4×1 (four consecutive output rows of one input
// column) are kept or zeroed whole. Stored BSR-style, as compressed rows of groups: a "group row"
// is one output row (1×4) or four consecutive output rows (4×1); `rowStart` (groupRows + 1) points
// into `groupColumn` (the first input column of each kept group, ascending) and `values` (4 per
// group: the 4 columns of a 1×4 group, or the 4 rows of a 4×1 group).

/** A dense (C_out, C_in) weight, row-major. */
export interface DenseWeight {
  outFeatures: number;
  inFeatures: number;
  data: Float32Array;
}

export interface Sparse24Weight {
  outFeatures: number;
  inFeatures: number;
  /** (C_out, C_in / 2): the two kept values of each group of 4, in column order. */
  values: Float32Array;
  /** (C_out, ⌈C_in / 32⌉): 4 bits per group (two 2-bit positions), 8 groups per word. */
  positions: Uint32Array;
}

/** The group shape: rows × cols of one group (1×4 or 4×1). */
export type BlockShape = { rows: 1; cols: 4 } | { rows: 4; cols: 1 };

export interface BlockSparseWeight {
  outFeatures: number;
  inFeatures: number;
  shape: BlockShape;
  /** (groupRows + 1) offsets into groupColumn; groupRows = C_out / shape.rows. */
  rowStart: Uint32Array;
  /** (kept groups) first input column of each kept group, ascending within a group row. */
  groupColumn: Uint32Array;
  /** (kept groups × 4) the group's values: 4 columns (1×4) or 4 rows (4×1). */
  values: Float32Array;
}

export const GROUP = 4;
/** Groups of 4 whose positions share one u32 word. */
export const GROUPS_PER_POSITION_WORD = 8;

export const positionWordsPerRow = (inFeatures: number): number => Math.ceil(inFeatures / (GROUP * GROUPS_PER_POSITION_WORD));

/** Every reason `weight` cannot be stored as 2:4 ([] when it can). */
export function sparse24Problems(weight: DenseWeight): string[] {
  if (weight.inFeatures % GROUP !== 0) return [`2:4 needs C_in to be a multiple of 4, got ${weight.inFeatures}`];
  const { outFeatures: rows, inFeatures: cols, data } = weight;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += GROUP) {
      let nonZeros = 0;
      for (let c = g; c < g + GROUP; c++) if (data[r * cols + c] !== 0) nonZeros++;
      if (nonZeros > 2) return [`2:4: row ${r}, columns ${g}..${g + 3} hold ${nonZeros} non-zeros (at most 2)`];
    }
  }
  return [];
}

/** Packs a weight whose every group of 4 has at most 2 non-zeros (throws otherwise). */
export function packSparse24(weight: DenseWeight): Sparse24Weight {
  const problems = sparse24Problems(weight);
  if (problems.length > 0) throw new Error(problems[0]);
  const { outFeatures: rows, inFeatures: cols, data } = weight;
  const words = positionWordsPerRow(cols);
  const values = new Float32Array((rows * cols) / 2);
  const positions = new Uint32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols / GROUP; g++) {
      const base = r * cols + g * GROUP;
      const kept: number[] = [];
      for (let p = 0; p < GROUP; p++) if (data[base + p] !== 0) kept.push(p);
      // Fill up to 2 with the lowest unused positions, storing explicit zeros there.
      for (let p = 0; kept.length < 2; p++) if (!kept.includes(p)) kept.push(p);
      kept.sort((a, b) => a - b);
      values[r * (cols / 2) + g * 2] = data[base + kept[0]];
      values[r * (cols / 2) + g * 2 + 1] = data[base + kept[1]];
      const bits = kept[0] | (kept[1] << 2);
      positions[r * words + Math.floor(g / GROUPS_PER_POSITION_WORD)] |= bits << (4 * (g % GROUPS_PER_POSITION_WORD));
    }
  }
  return { outFeatures: rows, inFeatures: cols, values, positions };
}

export function unpackSparse24(weight: Sparse24Weight): DenseWeight {
  const { outFeatures: rows, inFeatures: cols, values, positions } = weight;
  const words = positionWordsPerRow(cols);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols / GROUP; g++) {
      const bits = (positions[r * words + Math.floor(g / GROUPS_PER_POSITION_WORD)] >>> (4 * (g % GROUPS_PER_POSITION_WORD))) & 0xf;
      data[r * cols + g * GROUP + (bits & 3)] = values[r * (cols / 2) + g * 2];
      data[r * cols + g * GROUP + (bits >> 2)] = values[r * (cols / 2) + g * 2 + 1];
    }
  }
  return { outFeatures: rows, inFeatures: cols, data };
}

export const describeBlockShape = (shape: BlockShape): string => `${shape.rows}×${shape.cols}`;

/** Every reason `weight` cannot be tiled by `shape` groups ([] when it can). */
export function blockShapeProblems(weight: Pick<DenseWeight, 'outFeatures' | 'inFeatures'>, shape: BlockShape): string[] {
  if (weight.inFeatures % shape.cols !== 0) return [`${describeBlockShape(shape)} groups need C_in to be a multiple of ${shape.cols}, got ${weight.inFeatures}`];
  if (weight.outFeatures % shape.rows !== 0) return [`${describeBlockShape(shape)} groups need C_out to be a multiple of ${shape.rows}, got ${weight.outFeatures}`];
  return [];
}

/** Element (k-th of 4) of the group at (group row, first column) as a flat index of W. */
function groupElement(shape: BlockShape, cols: number, groupRow: number, column: number, k: number): number {
  return shape.rows === 1 ? groupRow * cols + column + k : (groupRow * GROUP + k) * cols + column;
}

/** Keeps every group with a non-zero weight (a group that is all zero is dropped). */
export function packBlockSparse(weight: DenseWeight, shape: BlockShape): BlockSparseWeight {
  const problems = blockShapeProblems(weight, shape);
  if (problems.length > 0) throw new Error(problems[0]);
  const { outFeatures, inFeatures: cols, data } = weight;
  const groupRows = outFeatures / shape.rows;
  const rowStart = new Uint32Array(groupRows + 1);
  const columns: number[] = [];
  const values: number[] = [];
  for (let gr = 0; gr < groupRows; gr++) {
    for (let c = 0; c < cols; c += shape.cols) {
      let any = false;
      for (let k = 0; k < GROUP; k++) if (data[groupElement(shape, cols, gr, c, k)] !== 0) any = true;
      if (!any) continue;
      columns.push(c);
      for (let k = 0; k < GROUP; k++) values.push(data[groupElement(shape, cols, gr, c, k)]);
    }
    rowStart[gr + 1] = columns.length;
  }
  return { outFeatures, inFeatures: cols, shape, rowStart, groupColumn: Uint32Array.from(columns), values: Float32Array.from(values) };
}

export function unpackBlockSparse(weight: BlockSparseWeight): DenseWeight {
  const { outFeatures, inFeatures: cols, shape, rowStart, groupColumn, values } = weight;
  const data = new Float32Array(outFeatures * cols);
  for (let gr = 0; gr + 1 < rowStart.length; gr++) {
    for (let g = rowStart[gr]; g < rowStart[gr + 1]; g++) {
      for (let k = 0; k < GROUP; k++) data[groupElement(shape, cols, gr, groupColumn[g], k)] = values[g * GROUP + k];
    }
  }
  return { outFeatures, inFeatures: cols, data };
}

/** Bytes the layout stores (f32 values, u32 indices): what a kernel has to read for W. */
export function storedBytes(weight: DenseWeight | Sparse24Weight | BlockSparseWeight): number {
  if ('data' in weight) return weight.data.byteLength;
  if ('positions' in weight) return weight.values.byteLength + weight.positions.byteLength;
  return weight.values.byteLength + weight.groupColumn.byteLength + weight.rowStart.byteLength;
}
