// The columnRange kernels' cases, shared by columnRange.test.ts (Node) and the browser's kernel
// check page (src/kernelCheck). Copies must be exact in every 32-bit word.
import type { ColumnRange } from '../../kernels/columnRange/columnRange.gpu';
import { normalArray } from '../random';

export const columnRangeCases: Array<[string, ColumnRange]> = [
  ['1×1', { rows: 1, cols: 1, start: 0, end: 1 }],
  ['37 × 300, columns 17…144 (a block of 128, not aligned)', { rows: 37, cols: 300, start: 17, end: 145 }],
  ['37 × 300, the last column', { rows: 37, cols: 300, start: 299, end: 300 }],
  ['5 × 300, all columns', { rows: 5, cols: 300, start: 0, end: 300 }],
];

/** 37 × 128 = 4736 elements are 19 workgroups, folded into a 5 × 4 grid under this cap. */
export const COLUMN_RANGE_FOLD_CAPS = { maxComputeWorkgroupsPerDimension: 5 };

/** The matrix a case copies from: seeded normals with a NaN first, so payload bits are checked too. */
export function columnRangeMatrix(range: ColumnRange): Float32Array {
  const matrix = normalArray(range.rows * range.cols, range.rows + range.start);
  matrix[0] = NaN;
  return matrix;
}
