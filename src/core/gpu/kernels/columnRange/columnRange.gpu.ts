// GPU column-range copies (see columnRange.wgsl, columnRange.ref.ts), on device buffers: the
// callers (SparseGPT's host-chosen masks) keep the matrix on the device and move one block.
import type { GpuContext } from '../../context';
import { ceilDiv, defineProgram, type GpuProgram } from '../../program';
import shader from './columnRange.wgsl?raw';

const WORKGROUP = 256;

function columnRangeProgram(entryPoint: 'readColumns' | 'writeColumns'): GpuProgram {
  return defineProgram({
    label: `columnRange.${entryPoint}`,
    shader,
    entryPoint,
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'columnStart', type: 'u32' },
      { name: 'columnEnd', type: 'u32' },
    ],
    storage: [
      { name: 'matrix', binding: 1, access: 'read_write' },
      { name: 'compact', binding: 2, access: 'read_write' },
    ],
    workgroupSize: [WORKGROUP],
  });
}

export const readColumnsProgram = columnRangeProgram('readColumns');
export const writeColumnsProgram = columnRangeProgram('writeColumns');

/** (rows, cols) and the column range [start, end) it copies. */
export interface ColumnRange {
  rows: number;
  cols: number;
  start: number;
  end: number;
}

function checkRange({ rows, cols, start, end }: ColumnRange, label: string): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= cols && rows >= 1)) {
    throw new Error(`${label}: columns [${start}, ${end}) do not lie in a ${rows} × ${cols} matrix`);
  }
}

async function encodeCopy(ctx: GpuContext, program: GpuProgram, buffers: { matrix: GPUBuffer; compact: GPUBuffer }, range: ColumnRange): Promise<void> {
  checkRange(range, program.label);
  const { rows, cols, start, end } = range;
  await ctx.dispatch({
    program,
    uniforms: { rows, cols, columnStart: start, columnEnd: end },
    buffers,
    workgroups: ceilDiv(rows * (end - start), WORKGROUP),
  });
}

/** Encodes compact (rows, end − start) ← matrix[:, start:end]. */
export function encodeReadColumns(ctx: GpuContext, buffers: { matrix: GPUBuffer; compact: GPUBuffer }, range: ColumnRange): Promise<void> {
  return encodeCopy(ctx, readColumnsProgram, buffers, range);
}

/** Encodes matrix[:, start:end] ← compact (rows, end − start). */
export function encodeWriteColumns(ctx: GpuContext, buffers: { matrix: GPUBuffer; compact: GPUBuffer }, range: ColumnRange): Promise<void> {
  return encodeCopy(ctx, writeColumnsProgram, buffers, range);
}
