// The nmSelect kernel's cases, shared by nmSelect.test.ts (Node) and the browser's kernel check
// page (src/kernelCheck). Masks must match the reference exactly.
import { normalArray, seededUniform } from '../random';

export interface NmCase {
  name: string;
  rows: number;
  cols: number;
  scores: Float32Array;
  keepN: number;
  groupM: number;
}

const absNormal = (length: number, seed: number) => normalArray(length, seed).map(Math.abs);

function fewLevels(length: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length }, () => [0, 1, 2][Math.floor(u() * 3)]);
}

export const nmCases: NmCase[] = [
  { name: '1×1 at 1:1', rows: 1, cols: 1, scores: new Float32Array([0.7]), keepN: 1, groupM: 1 },
  { name: '1×1 at 0:1 (prune all)', rows: 1, cols: 1, scores: new Float32Array([0.7]), keepN: 0, groupM: 1 },
  { name: '2:4 on 5 × 200 (ragged rows vs the workgroup)', rows: 5, cols: 200, scores: absNormal(1000, 1), keepN: 2, groupM: 4 },
  { name: '2:4 with a trailing group of 2 (cols 202)', rows: 3, cols: 202, scores: absNormal(606, 2), keepN: 2, groupM: 4 },
  { name: '1:4 with a trailing group of 3 (cols 7)', rows: 4, cols: 7, scores: absNormal(28, 3), keepN: 1, groupM: 4 },
  { name: '4:16 with a trailing group of 8 (cols 200)', rows: 3, cols: 200, scores: absNormal(600, 4), keepN: 4, groupM: 16 },
  { name: '2:32 (largest M)', rows: 2, cols: 96, scores: absNormal(192, 5), keepN: 2, groupM: 32 },
  { name: 'all-zero rows: lower indices pruned in each group', rows: 2, cols: 16, scores: new Float32Array(32), keepN: 2, groupM: 4 },
  { name: 'three levels only: ties in most groups', rows: 9, cols: 64, scores: fewLevels(9 * 64, 6), keepN: 3, groupM: 8 },
  {
    name: 'NaN kept first, ±0 tie, ±Inf',
    rows: 2,
    cols: 8,
    scores: new Float32Array([NaN, 1, 0, -0, Infinity, -Infinity, NaN, 2, -0, 0, 0, -0, NaN, NaN, NaN, -1]),
    keepN: 2,
    groupM: 4,
  },
  { name: 'GPT-2 MLP projection: 768 × 3072 at 2:4', rows: 768, cols: 3072, scores: absNormal(768 * 3072, 7), keepN: 2, groupM: 4 },
];

/** 50 rows of 64 under the caps: row ranges of 20, 20 and 10 rows on a folded grid (see nmSelect.test.ts). */
export const nmSplitCase: NmCase = { name: 'split: folded grid and row ranges under capped limits', rows: 50, cols: 64, scores: absNormal(50 * 64, 8), keepN: 2, groupM: 4 };
export const NM_SPLIT_CAPS = { maxComputeWorkgroupsPerDimension: 3, maxStorageBufferBindingSize: 20 * 64 * 4 };

/** The pattern itself, beyond the reference comparison: every group keeps min(N, its width). */
export function nmPatternViolation(c: NmCase, keep: Uint8Array): string | null {
  for (let i = 0; i < c.rows; i++) {
    for (let start = 0; start < c.cols; start += c.groupM) {
      let kept = 0;
      for (let j = start; j < Math.min(c.cols, start + c.groupM); j++) kept += keep[i * c.cols + j];
      if (kept !== Math.min(c.keepN, Math.min(c.cols, start + c.groupM) - start)) return `${c.name}: row ${i}, group at ${start} keeps ${kept}`;
    }
  }
  return null;
}
