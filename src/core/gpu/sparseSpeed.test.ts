// measureSparseSpeed returns one measured row per layout (no timing is asserted: speed belongs to
// `npm run bench -- --only sparse`), on the pruned weights layoutWeight builds.
import { describe, expect, test } from 'vitest';
import { describeGpu } from './testing/describeGpu';
import { measureSparseSpeed, SPARSE_LAYOUTS } from './sparseSpeed';
import { layoutWeight } from './kernels/sparseMatmul/layouts';
import { unpackBlockSparse, unpackSparse24 } from './kernels/sparseMatmul/sparseFormats';
import { checkBlocks, checkNM } from '../prune/invariants';
import { normalArray } from './testing/random';

describe('layoutWeight', () => {
  test('2:4 and 50 % block weights hold their patterns, and store fewer bytes', () => {
    const dense = { outFeatures: 16, inFeatures: 32, data: normalArray(16 * 32, 3) };
    const keepOf = (data: Float32Array) => ({ rows: 16, cols: 32, data: Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0)) });
    const two = layoutWeight(dense, '2:4');
    if (two.layout !== '2:4') throw new Error('expected 2:4');
    expect(checkNM(keepOf(unpackSparse24(two.weight).data), 2, 4)).toEqual([]);
    for (const [layout, rows, cols] of [['block 1×4', 1, 4], ['block 4×1', 4, 1]] as const) {
      const block = layoutWeight(dense, layout);
      if (block.layout !== 'block') throw new Error('expected blocks');
      const keep = keepOf(unpackBlockSparse(block.weight).data);
      expect(checkBlocks(keep, rows, cols)).toEqual([]);
      expect(keep.data.reduce((a, b) => a + b, 0)).toBe(16 * 32 * 0.5);
    }
  });
});

describeGpu('measureSparseSpeed', (gpu) => {
  test('one measured row per layout and shape', async () => {
    const shapes = [{ label: 'small', tokens: 8, outFeatures: 8, inFeatures: 16 }];
    const seen: string[] = [];
    const [row] = await measureSparseSpeed(gpu(), shapes, { minMs: 1, minSamples: 2, sampleMs: 1 }, (t) => seen.push(t.shape.label));
    expect(seen).toEqual(['small']);
    expect(row.timings.map((t) => t.layout)).toEqual([...SPARSE_LAYOUTS]);
    for (const t of row.timings) {
      expect(t.ms).toBeGreaterThan(0);
      expect(t.tokensPerSecond).toBeCloseTo((8 * 1000) / t.ms, 6);
    }
    expect(row.timings.map((t) => t.sparsity)).toEqual([0, 0.5, 0.5, 0.5]);
    const [dense, ...sparse] = row.timings.map((t) => t.weightBytes);
    expect(dense).toBe(8 * 16 * 4);
    for (const bytes of sparse) expect(bytes).toBeLessThan(dense);
  });
});
