// The column-range copies against their reference: every 32-bit word exact (NaN payloads too).
import { expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { describeGpu } from '../../testing/describeGpu';
import { readColumnsRef, writeColumnsRef } from './columnRange.ref';
import { COLUMN_RANGE_FOLD_CAPS, columnRangeCases as ranges, columnRangeMatrix } from '../../testing/cases/columnRange';
import { encodeReadColumns, encodeWriteColumns } from './columnRange.gpu';

test('reference by hand', () => {
  const m = Float32Array.from({ length: 12 }, (_, i) => i); // 3 × 4
  expect(Array.from(readColumnsRef(m, 3, 4, 1, 3))).toEqual([1, 2, 5, 6, 9, 10]);
  writeColumnsRef(m, new Float32Array([-1, -2, -3]), 3, 4, 3, 4);
  expect(Array.from(m)).toEqual([0, 1, 2, -1, 4, 5, 6, -2, 8, 9, 10, -3]);
});

describeGpu('columnRange kernels vs reference', (gpu) => {
  const folded = () => new GpuContext(gpu().device, { limitCaps: COLUMN_RANGE_FOLD_CAPS });
  test.each(ranges)('%s: read, then write back into another matrix', async (_, range) => {
    const ctx = range.rows === 37 ? folded() : gpu();
    const { rows, cols, start, end } = range;
    const matrix = columnRangeMatrix(range);
    const full = ctx.upload('test.matrix', matrix);
    const compact = ctx.createBuffer('test.compact', rows * (end - start) * 4);
    await encodeReadColumns(ctx, { matrix: full, compact }, range);
    const got = await ctx.readUint32(compact, rows * (end - start));
    expectClose(got, readColumnsRef(new Uint32Array(matrix.buffer), rows, cols, start, end), { atol: 0, rtol: 0 }, 'read');

    const target = new Uint32Array(rows * cols).fill(7);
    const targetBuffer = ctx.upload('test.target', target);
    await encodeWriteColumns(ctx, { matrix: targetBuffer, compact }, range);
    writeColumnsRef(target, got, rows, cols, start, end);
    expectClose(await ctx.readUint32(targetBuffer, rows * cols), target, { atol: 0, rtol: 0 }, 'write');
    for (const b of [full, compact, targetBuffer]) ctx.release(b);
  });

  test('a range outside the matrix is refused', async () => {
    const buffer = gpu().createBuffer('test.small', 64);
    await expect(encodeReadColumns(gpu(), { matrix: buffer, compact: buffer }, { rows: 2, cols: 4, start: 3, end: 5 })).rejects.toThrow('columns [3, 5) do not lie in a 2 × 4 matrix');
    gpu().release(buffer);
  });
});
