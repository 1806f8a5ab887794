// GPU quantiser grid (see quantGrid.wgsl; the CPU reference is quant/rtn.ts, quantGrid.ref.ts).
// One weight fits one storage binding (a 3072 × 768 layer is 9 MiB); a larger one is refused with
// a GpuError('limit') and its job runs on the CPU, saying so.
import { GpuError, type GpuContext } from '../../context';
import { ceilDiv, defineProgram } from '../../program';
import { groupSizeOf, maxCode, QuantError, validateGrid, type QuantParams } from '../../../quant/rtn';
import type { Granularity, IntGrid, Matrix } from '../../../quant/types';
import shader from './quantGrid.wgsl?raw';

const WORKGROUP = 256;

const uniforms = [
  { name: 'rows', type: 'u32' },
  { name: 'cols', type: 'u32' },
  { name: 'groupSize', type: 'u32' },
  { name: 'groups', type: 'u32' },
  { name: 'colStart', type: 'u32' },
  { name: 'groupCount', type: 'u32' },
  { name: 'groupOffset', type: 'u32' },
  { name: 'symmetric', type: 'u32' },
  { name: 'rangeOnly', type: 'u32' },
  { name: 'maxq', type: 'f32' },
] as const;

const program = (entryPoint: string, storage: Array<[string, number, 'read' | 'read_write']>, workgroupSize: readonly [number] = [WORKGROUP]) =>
  defineProgram({ label: `quantGrid.${entryPoint}`, shader, entryPoint, uniforms, storage: storage.map(([name, binding, access]) => ({ name, binding, access })), workgroupSize });

export const fitGroupsProgram = program('fitGroups', [['weights', 1, 'read'], ['scales', 2, 'read_write'], ['zeros', 3, 'read_write']]);
export const fitTensorProgram = program('fitTensor', [['scales', 2, 'read_write'], ['zeros', 3, 'read_write']], [1]);
export const quantizeCodesProgram = program('quantizeCodes', [['weights', 1, 'read'], ['scales', 2, 'read_write'], ['zeros', 3, 'read_write'], ['codes', 4, 'read_write']]);
export const dequantizeCodesProgram = program('dequantizeCodes', [['scales', 2, 'read_write'], ['zeros', 3, 'read_write'], ['codes', 4, 'read_write'], ['dequantized', 5, 'read_write']]);

/** The shape of a grid fit: W (rows, cols), tables (rows, groups), groups of groupSize columns. */
export interface GridShape {
  rows: number;
  cols: number;
  groupSize: number;
  groups: number;
  grid: IntGrid;
}

const shapeUniforms = (s: GridShape) => ({ rows: s.rows, cols: s.cols, groupSize: s.groupSize, groups: s.groups, symmetric: s.grid.symmetric ? 1 : 0, maxq: maxCode(s.grid.bits) });

/**
 * find_params on `groupCount` groups of each row from column `colStart` on, into table columns
 * colStart / groupSize onward (colStart is a group boundary). RTN fits them all; GPTQ's dynamic
 * groups fit those starting in the current block, on the weights as the sweep left them.
 */
export async function encodeFitGroups(ctx: GpuContext, buffers: { weights: GPUBuffer; scales: GPUBuffer; zeros: GPUBuffer }, shape: GridShape, colStart = 0, groupCount = shape.groups): Promise<void> {
  if (groupCount === 0) return;
  await ctx.dispatch({
    program: fitGroupsProgram,
    uniforms: { ...shapeUniforms(shape), colStart, groupCount, groupOffset: colStart / shape.groupSize, rangeOnly: 0 },
    buffers,
    workgroups: ceilDiv(shape.rows * groupCount, WORKGROUP),
  });
}

/** quant.py's perchannel=False fit: one range over every weight (tables of one column, repeated per row). */
export async function encodeFitTensor(ctx: GpuContext, buffers: { weights: GPUBuffer; scales: GPUBuffer; zeros: GPUBuffer }, shape: GridShape): Promise<void> {
  const base = { ...shapeUniforms({ ...shape, groupSize: shape.cols, groups: 1 }), colStart: 0, groupCount: 1, groupOffset: 0 };
  await ctx.dispatch({ program: fitGroupsProgram, uniforms: { ...base, rangeOnly: 1 }, buffers, workgroups: ceilDiv(shape.rows, WORKGROUP) });
  await ctx.dispatch({ program: fitTensorProgram, uniforms: { ...base, rangeOnly: 0 }, buffers: { scales: buffers.scales, zeros: buffers.zeros }, workgroups: 1 });
}

/** codes (u32 per weight) and Ŵ from the tables, group of column c = c / groupSize. */
export async function encodeQuantizeDequantize(ctx: GpuContext, buffers: { weights: GPUBuffer; scales: GPUBuffer; zeros: GPUBuffer; codes: GPUBuffer; dequantized: GPUBuffer }, shape: GridShape): Promise<void> {
  const uniformValues = { ...shapeUniforms(shape), colStart: 0, groupCount: 0, groupOffset: 0, rangeOnly: 0 };
  const workgroups = ceilDiv(shape.rows * shape.cols, WORKGROUP);
  const { weights, scales, zeros, codes, dequantized } = buffers;
  await ctx.dispatch({ program: quantizeCodesProgram, uniforms: uniformValues, buffers: { weights, scales, zeros, codes }, workgroups });
  await ctx.dispatch({ program: dequantizeCodesProgram, uniforms: uniformValues, buffers: { scales, zeros, codes, dequantized }, workgroups });
}

/**
 * rtn.ts's refusal of a scale that is 0 or not finite (a range that under- or overflows float32),
 * from the tables read back: the kernel cannot throw.
 */
export function checkScales(scales: Float32Array, groups: number, label: string): void {
  const bad = scales.findIndex((s) => !(s > 0) || !Number.isFinite(s));
  if (bad >= 0) throw new QuantError(`${label}: the range of row ${Math.floor(bad / groups)}, group ${bad % groups} gives scale ${scales[bad]} (float32 under- or overflow)`);
}

export interface QuantGridResult {
  params: QuantParams;
  /** (rows, cols) codes in [0, 2^bits − 1]. */
  codes: Uint8Array;
  /** (rows, cols) Ŵ = scale · (code − zero). */
  dequantized: Float32Array;
}

/** RTN on the device: find_params per tensor / row / group, codes, Ŵ. Weights must be finite (the caller checks, as quantizeRtn). */
export async function quantGridGpu(ctx: GpuContext, weight: Matrix, grid: IntGrid, granularity: Granularity): Promise<QuantGridResult> {
  const { rows, cols, data } = weight;
  validateGrid(grid, 'RTN');
  const groupSize = groupSizeOf(granularity, cols, 'RTN');
  const groups = Math.ceil(cols / groupSize);
  const maxBinding = ctx.limits.maxStorageBufferBindingSize;
  if (rows * cols * 4 > maxBinding) throw new GpuError('limit', `quantGrid: weights are ${rows * cols * 4} bytes, over this device's maxStorageBufferBindingSize (${maxBinding})`);
  const shape: GridShape = { rows, cols, groupSize, groups, grid };
  const label = `${rows}×${cols}`;
  const weights = ctx.upload(`quantGrid.weights(${label})`, data);
  const scales = ctx.createBuffer(`quantGrid.scales(${rows}×${groups})`, rows * groups * 4);
  const zeros = ctx.createBuffer(`quantGrid.zeros(${rows}×${groups})`, rows * groups * 4);
  const codes = ctx.createBuffer(`quantGrid.codes(${label})`, rows * cols * 4);
  const dequantized = ctx.createBuffer(`quantGrid.dequantized(${label})`, rows * cols * 4);
  try {
    if (granularity.kind === 'tensor') await encodeFitTensor(ctx, { weights, scales, zeros }, shape);
    else await encodeFitGroups(ctx, { weights, scales, zeros }, shape);
    await encodeQuantizeDequantize(ctx, { weights, scales, zeros, codes, dequantized }, shape);
    const scaleTable = await ctx.readFloat32(scales, rows * groups);
    checkScales(scaleTable, groups, 'quantizer');
    return {
      params: { groupSize, groups, scales: scaleTable, zeroPoints: await ctx.readFloat32(zeros, rows * groups) },
      codes: Uint8Array.from(await ctx.readUint32(codes, rows * cols)),
      dequantized: await ctx.readFloat32(dequantized, rows * cols),
    };
  } finally {
    for (const b of [weights, scales, zeros, codes, dequantized]) ctx.release(b);
  }
}
