// The rowSelect kernel's cases, shared by rowSelect.test.ts (Node) and the browser's kernel check
// page (src/kernelCheck). Masks must match the reference exactly.
import { prunedPerRow } from '../../kernels/pruneOrder';
import { normalArray, seededUniform } from '../random';

export interface RowSelectCase {
  name: string;
  rows: number;
  cols: number;
  scores: Float32Array;
  pruneCount: number;
}

function absNormal(length: number, seed: number): Float32Array {
  return normalArray(length, seed).map(Math.abs);
}

/** Scores drawn from a few values only, so ties straddle the boundary in most rows. */
function fewLevels(length: number, seed: number, levels: number[]): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length }, () => levels[Math.floor(u() * levels.length)]);
}

function deadColumns(rows: number, cols: number, dead: number[], seed: number): Float32Array {
  const s = absNormal(rows * cols, seed);
  for (let i = 0; i < rows; i++) for (const j of dead) s[i * cols + j] = 0;
  return s;
}

function nonFinite(): Float32Array {
  // Row 0: NaN, +Inf, -0 and +0 among ordinary values; row 1: negatives and -Inf; row 2: all NaN.
  return new Float32Array([
    NaN, 2, -0, 0, Infinity, 1, 0, NaN, 3, -0,
    -1, -Infinity, 5, -0.5, 0, 2, -1, NaN, 7, -Infinity,
    NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN,
  ]);
}

export const rowSelectCases: RowSelectCase[] = [
  { name: '1×1, prune 0', rows: 1, cols: 1, scores: new Float32Array([0.3]), pruneCount: 0 },
  { name: '1×1, prune 1', rows: 1, cols: 1, scores: new Float32Array([0.3]), pruneCount: 1 },
  { name: 'ragged: 5 × 200 at 50%', rows: 5, cols: 200, scores: absNormal(1000, 1), pruneCount: prunedPerRow(200, 0.5) },
  { name: '3 × 257 (one past the workgroup) at 70%', rows: 3, cols: 257, scores: absNormal(771, 2), pruneCount: prunedPerRow(257, 0.7) },
  { name: 'all-zero rows: lowest 77 column indices pruned', rows: 2, cols: 200, scores: new Float32Array(400), pruneCount: 77 },
  { name: 'dead input channels: ties at 0 across the boundary', rows: 4, cols: 200, scores: deadColumns(4, 200, [3, 50, 51, 52, 120, 199], 3), pruneCount: 4 },
  { name: 'few score levels: ties in every row (1000 cols)', rows: 6, cols: 1000, scores: fewLevels(6000, 4, [0.5, 1, 1.5, 2]), pruneCount: 333 },
  { name: 'NaN pruned last, ±0 equal, negatives and ±Inf', rows: 3, cols: 10, scores: nonFinite(), pruneCount: 6 },
  { name: 'prune every weight (sparsity 1)', rows: 2, cols: 33, scores: absNormal(66, 5), pruneCount: 33 },
  { name: 'prune all but one', rows: 2, cols: 300, scores: absNormal(600, 6), pruneCount: 299 },
  { name: 'GPT-2 MLP projection: 768 × 3072 at 50%', rows: 768, cols: 3072, scores: absNormal(768 * 3072, 8), pruneCount: prunedPerRow(3072, 0.5) },
];

/** Small caps so 50 rows of 200 run as three row ranges on a folded grid (see rowSelect.test.ts). */
export const rowSelectSplitCase: RowSelectCase = { name: 'split: folded grid and row ranges under capped limits', rows: 50, cols: 200, scores: absNormal(50 * 200, 7), pruneCount: 123 };
export const ROW_SELECT_SPLIT_CAPS = { maxComputeWorkgroupsPerDimension: 7, maxStorageBufferBindingSize: 20 * 200 * 4 };

/** Why a mask is wrong beyond the reference comparison: some row does not prune exactly pruneCount. */
export function rowSelectCountViolation(c: RowSelectCase, keep: Uint8Array): string | null {
  for (let i = 0; i < c.rows; i++) {
    let pruned = 0;
    for (let j = 0; j < c.cols; j++) pruned += 1 - keep[i * c.cols + j];
    if (pruned !== Math.min(c.pruneCount, c.cols)) return `${c.name}: row ${i} pruned ${pruned}, expected ${c.pruneCount}`;
  }
  return null;
}
