// The same cases through the CPU reference and the GPU kernel; masks must match exactly.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { describeGpu } from '../../testing/describeGpu';
import { prunedPerRow } from '../pruneOrder';
import { rowSelectGpu } from './rowSelect.gpu';
import { rowSelectRef } from './rowSelect.ref';
import { ROW_SELECT_SPLIT_CAPS, rowSelectCases as cases, rowSelectCountViolation, rowSelectSplitCase } from '../../testing/cases/rowSelect';

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

describeGpu('rowSelect kernel vs reference', (gpu) => {
  test.each([...cases, rowSelectSplitCase].map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const ctx = c === rowSelectSplitCase ? new GpuContext(gpu().device, { limitCaps: ROW_SELECT_SPLIT_CAPS }) : gpu();
    const expected = rowSelectRef(c.scores, c.rows, c.cols, c.pruneCount);
    const got = await rowSelectGpu(ctx, c.scores, c.rows, c.cols, c.pruneCount);
    expectClose(got, expected, { atol: 0, rtol: 0 }, `${c.name}: keep mask`);
    // Every row prunes exactly pruneCount: a kernel that kept everything would fail here too.
    expect(rowSelectCountViolation(c, got)).toBeNull();
  });
});
