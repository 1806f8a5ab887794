// The same cases through the CPU reference and the GPU kernel; masks must match exactly.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { describeGpu } from '../../testing/describeGpu';
import { normalArray, seededUniform } from '../../testing/random';
import { prunedPerRow } from '../pruneOrder';
import { rowSelectGpu } from './rowSelect.gpu';
import { rowSelectRef } from './rowSelect.ref';

interface RowSelectCase {
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

const cases: RowSelectCase[] = [
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

describe('rowSelect reference', () => {
  test('lowest scores pruned, lower index first among ties, NaN last', () => {
    expect(Array.from(rowSelectRef(new Float32Array([3, 1, 2, 1]), 1, 4, 2))).toEqual([1, 0, 1, 0]);
    expect(Array.from(rowSelectRef(new Float32Array([1, 1, 1]), 1, 3, 2))).toEqual([0, 0, 1]);
    expect(Array.from(rowSelectRef(new Float32Array([NaN, 5, -0, 0]), 1, 4, 3))).toEqual([1, 0, 0, 0]);
  });

  test('prunedPerRow is floor(cols·s), as Wanda computes it', () => {
    expect(prunedPerRow(3072, 0.5)).toBe(1536);
    expect(prunedPerRow(200, 0.7)).toBe(140);
    expect(prunedPerRow(10, 0)).toBe(0);
    expect(() => prunedPerRow(10, 1.5)).toThrow(/sparsity/);
  });
});

/**
 * Small caps so 50 rows of 200 run as three row ranges (20, 20, 10 rows: one binding holds 20),
 * each on a folded grid: 20 workgroups with at most 7 a side is 7×3, one padding workgroup.
 */
const SPLIT_CAPS = { maxComputeWorkgroupsPerDimension: 7, maxStorageBufferBindingSize: 20 * 200 * 4 };

describeGpu('rowSelect kernel vs reference', (gpu) => {
  const splitCase: RowSelectCase = { name: 'split: folded grid and row ranges under capped limits', rows: 50, cols: 200, scores: absNormal(50 * 200, 7), pruneCount: 123 };
  test.each([...cases, splitCase].map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const ctx = c === splitCase ? new GpuContext(gpu().device, { limitCaps: SPLIT_CAPS }) : gpu();
    const expected = rowSelectRef(c.scores, c.rows, c.cols, c.pruneCount);
    const got = await rowSelectGpu(ctx, c.scores, c.rows, c.cols, c.pruneCount);
    expectClose(got, expected, { atol: 0, rtol: 0 }, `${c.name}: keep mask`);
    // Every row prunes exactly pruneCount: a kernel that kept everything would fail here too.
    for (let i = 0; i < c.rows; i++) {
      let pruned = 0;
      for (let j = 0; j < c.cols; j++) pruned += 1 - got[i * c.cols + j];
      if (pruned !== Math.min(c.pruneCount, c.cols)) throw new Error(`${c.name}: row ${i} pruned ${pruned}, expected ${c.pruneCount}`);
    }
  });
});
