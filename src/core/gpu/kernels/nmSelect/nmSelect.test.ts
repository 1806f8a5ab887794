// The same cases through the CPU reference and the GPU kernel; masks must match exactly.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { describeGpu } from '../../testing/describeGpu';
import { nmSelectGpu } from './nmSelect.gpu';
import { nmSelectRef } from './nmSelect.ref';
import { NM_SPLIT_CAPS, nmCases as cases, nmPatternViolation, nmSplitCase } from '../../testing/cases/nmSelect';

describe('nmSelect reference', () => {
  test('keeps N of each M, lower index pruned first among ties', () => {
    expect(Array.from(nmSelectRef(new Float32Array([4, 1, 3, 2, 1, 1, 1, 1]), 1, 8, 2, 4))).toEqual([1, 0, 1, 0, 0, 0, 1, 1]);
    // trailing group of 2 with N = 2 keeps both
    expect(Array.from(nmSelectRef(new Float32Array([1, 2, 3, 4, 0, 0]), 1, 6, 2, 4))).toEqual([0, 0, 1, 1, 1, 1]);
  });
});

describeGpu('nmSelect kernel vs reference', (gpu) => {
  test.each([...cases, nmSplitCase].map((c) => [c.name, c] as const))('%s', async (_, c) => {
    // 50 rows of 64 under the caps: row ranges of 20, 20 and 10 rows; 20 rows are 320 groups,
    // 5 workgroups of 64, folded to a 3×2 grid with one padding workgroup.
    const ctx = c === nmSplitCase ? new GpuContext(gpu().device, { limitCaps: NM_SPLIT_CAPS }) : gpu();
    const expected = nmSelectRef(c.scores, c.rows, c.cols, c.keepN, c.groupM);
    const got = await nmSelectGpu(ctx, c.scores, c.rows, c.cols, c.keepN, c.groupM);
    expectClose(got, expected, { atol: 0, rtol: 0 }, `${c.name}: keep mask`);
    // The pattern itself: no group keeps more than N.
    expect(nmPatternViolation(c, got)).toBeNull();
  });

  test('rejects M above 32 and N above M', async () => {
    await expect(nmSelectGpu(gpu(), new Float32Array(64), 1, 64, 2, 64)).rejects.toThrow(/M must be/);
    await expect(nmSelectGpu(gpu(), new Float32Array(8), 1, 8, 5, 4)).rejects.toThrow(/N \(kept\)/);
  });
});
