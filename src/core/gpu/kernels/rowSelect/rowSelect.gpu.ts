// GPU per-row selection (see rowSelect.wgsl, rowSelect.ref.ts).
import { STORAGE_USAGE, type GpuContext } from '../../context';
import { defineProgram, rowRangesWithinBinding } from '../../program';
import pruneOrder from '../pruneOrder.wgsl?raw';
import workgroupScan from '../workgroupScan.wgsl?raw';
import shader from './rowSelect.wgsl?raw';

export const rowSelectProgram = defineProgram({
  label: 'rowSelect',
  shader: `${pruneOrder}\n${workgroupScan}\n${shader}`,
  entryPoint: 'rowSelect',
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'cols', type: 'u32' },
    { name: 'pruneCount', type: 'u32' },
  ],
  storage: [
    { name: 'scores', binding: 1, access: 'read' },
    { name: 'keepMask', binding: 2, access: 'read_write' },
  ],
  workgroupSize: [256],
});

/** Encodes the selection on device buffers: scores (rows, cols) f32 → keepMask (rows, cols) u32. */
export async function encodeRowSelect(
  ctx: GpuContext,
  buffers: { scores: GPUBuffer; keepMask: GPUBuffer },
  rows: number,
  cols: number,
  pruneCount: number,
): Promise<void> {
  await ctx.dispatch({ program: rowSelectProgram, uniforms: { rows, cols, pruneCount }, buffers, workgroups: rows });
}

/**
 * Keep mask (1 keep, 0 pruned) zeroing the `pruneCount` lowest scores of each row; use
 * prunedPerRow(cols, sparsity) for Wanda's ⌊cols·s⌋. Rows beyond one binding run in ranges.
 */
export async function rowSelectGpu(ctx: GpuContext, scores: Float32Array, rows: number, cols: number, pruneCount: number): Promise<Uint8Array> {
  if (scores.length !== rows * cols) throw new Error(`rowSelect: scores has ${scores.length} values, expected ${rows}×${cols}`);
  if (!Number.isInteger(pruneCount) || pruneCount < 0) throw new Error(`rowSelect: pruneCount must be a non-negative integer, got ${pruneCount}`);
  const keep = new Uint8Array(rows * cols);
  if (rows * cols === 0) return keep;
  for (const [r0, r1] of rowRangesWithinBinding(rows, cols * 4, ctx.limits.maxStorageBufferBindingSize, 'rowSelect')) {
    const n = r1 - r0;
    const s = ctx.upload(`rowSelect.scores(${n}×${cols})`, scores.subarray(r0 * cols, r1 * cols));
    const m = ctx.createBuffer(`rowSelect.keepMask(${n}×${cols})`, n * cols * 4, STORAGE_USAGE);
    await encodeRowSelect(ctx, { scores: s, keepMask: m }, n, cols, Math.min(pruneCount, cols));
    keep.set(await ctx.readUint32(m, n * cols), r0 * cols);
    s.destroy();
    m.destroy();
  }
  return keep;
}
