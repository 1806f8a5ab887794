// The same cases through the CPU reference and the GPU kernel; masks must match exactly.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { describeGpu } from '../../testing/describeGpu';
import { normalArray, seededUniform } from '../../testing/random';
import { nmSelectGpu } from './nmSelect.gpu';
import { nmSelectRef } from './nmSelect.ref';

interface NmCase {
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

const cases: NmCase[] = [
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

describe('nmSelect reference', () => {
  test('keeps N of each M, lower index pruned first among ties', () => {
    expect(Array.from(nmSelectRef(new Float32Array([4, 1, 3, 2, 1, 1, 1, 1]), 1, 8, 2, 4))).toEqual([1, 0, 1, 0, 0, 0, 1, 1]);
    // trailing group of 2 with N = 2 keeps both
    expect(Array.from(nmSelectRef(new Float32Array([1, 2, 3, 4, 0, 0]), 1, 6, 2, 4))).toEqual([0, 0, 1, 1, 1, 1]);
  });
});

describeGpu('nmSelect kernel vs reference', (gpu) => {
  const splitCase: NmCase = { name: 'split: folded grid and row ranges under capped limits', rows: 50, cols: 64, scores: absNormal(50 * 64, 8), keepN: 2, groupM: 4 };
  test.each([...cases, splitCase].map((c) => [c.name, c] as const))('%s', async (_, c) => {
    // 50 rows of 64 under the caps: row ranges of 20, 20 and 10 rows; 20 rows are 320 groups,
    // 5 workgroups of 64, folded to a 3×2 grid with one padding workgroup.
    const ctx = c === splitCase ? new GpuContext(gpu().device, { limitCaps: { maxComputeWorkgroupsPerDimension: 3, maxStorageBufferBindingSize: 20 * 64 * 4 } }) : gpu();
    const expected = nmSelectRef(c.scores, c.rows, c.cols, c.keepN, c.groupM);
    const got = await nmSelectGpu(ctx, c.scores, c.rows, c.cols, c.keepN, c.groupM);
    expectClose(got, expected, { atol: 0, rtol: 0 }, `${c.name}: keep mask`);
    // The pattern itself: no group keeps more than N.
    for (let i = 0; i < c.rows; i++) {
      for (let start = 0; start < c.cols; start += c.groupM) {
        let kept = 0;
        for (let j = start; j < Math.min(c.cols, start + c.groupM); j++) kept += got[i * c.cols + j];
        if (kept !== Math.min(c.keepN, Math.min(c.cols, start + c.groupM) - start)) throw new Error(`${c.name}: row ${i}, group at ${start} keeps ${kept}`);
      }
    }
  });

  test('rejects M above 32 and N above M', async () => {
    await expect(nmSelectGpu(gpu(), new Float32Array(64), 1, 64, 2, 64)).rejects.toThrow(/M must be/);
    await expect(nmSelectGpu(gpu(), new Float32Array(8), 1, 8, 5, 4)).rejects.toThrow(/N \(kept\)/);
  });
});
