// GPU N:M selection (see nmSelect.wgsl, nmSelect.ref.ts).
import { STORAGE_USAGE, type GpuContext } from '../../context';
import { ceilDiv, defineProgram, rowRangesWithinBinding } from '../../program';
import pruneOrder from '../pruneOrder.wgsl?raw';
import shader from './nmSelect.wgsl?raw';

const WORKGROUP = 64;
/** MAX_GROUP in nmSelect.wgsl. */
export const NM_MAX_GROUP = 32;

export const nmSelectProgram = defineProgram({
  label: 'nmSelect',
  shader: `${pruneOrder}\n${shader}`,
  entryPoint: 'nmSelect',
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'cols', type: 'u32' },
    { name: 'keepN', type: 'u32' },
    { name: 'groupM', type: 'u32' },
  ],
  storage: [
    { name: 'scores', binding: 1, access: 'read' },
    { name: 'keepMask', binding: 2, access: 'read_write' },
  ],
  workgroupSize: [WORKGROUP],
});

export function checkNmPattern(keepN: number, groupM: number, label: string): void {
  if (!Number.isInteger(groupM) || groupM < 1 || groupM > NM_MAX_GROUP) throw new Error(`${label}: M must be an integer in 1…${NM_MAX_GROUP}, got ${groupM}`);
  if (!Number.isInteger(keepN) || keepN < 0 || keepN > groupM) throw new Error(`${label}: N (kept) must be an integer in 0…M, got ${keepN}`);
}

/** Encodes N:M selection on device buffers: scores (rows, cols) f32 → keepMask (rows, cols) u32. */
export async function encodeNmSelect(
  ctx: GpuContext,
  buffers: { scores: GPUBuffer; keepMask: GPUBuffer },
  rows: number,
  cols: number,
  keepN: number,
  groupM: number,
): Promise<void> {
  checkNmPattern(keepN, groupM, 'nmSelect');
  await ctx.dispatch({
    program: nmSelectProgram,
    uniforms: { rows, cols, keepN, groupM },
    buffers,
    workgroups: ceilDiv(rows * ceilDiv(cols, groupM), WORKGROUP),
  });
}

/** Keep mask (1 keep, 0 pruned) keeping N of every M consecutive columns per row. */
export async function nmSelectGpu(ctx: GpuContext, scores: Float32Array, rows: number, cols: number, keepN: number, groupM: number): Promise<Uint8Array> {
  if (scores.length !== rows * cols) throw new Error(`nmSelect: scores has ${scores.length} values, expected ${rows}×${cols}`);
  checkNmPattern(keepN, groupM, 'nmSelect');
  const keep = new Uint8Array(rows * cols);
  if (rows * cols === 0) return keep;
  for (const [r0, r1] of rowRangesWithinBinding(rows, cols * 4, ctx.limits.maxStorageBufferBindingSize, 'nmSelect')) {
    const n = r1 - r0;
    const s = ctx.upload(`nmSelect.scores(${n}×${cols})`, scores.subarray(r0 * cols, r1 * cols));
    const m = ctx.createBuffer(`nmSelect.keepMask(${n}×${cols})`, n * cols * 4, STORAGE_USAGE);
    await encodeNmSelect(ctx, { scores: s, keepMask: m }, n, cols, keepN, groupM);
    keep.set(await ctx.readUint32(m, n * cols), r0 * cols);
    s.destroy();
    m.destroy();
  }
  return keep;
}
