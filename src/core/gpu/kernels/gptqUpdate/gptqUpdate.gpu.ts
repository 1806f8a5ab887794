// GPU GPTQ sweep (see gptqUpdate.wgsl; the CPU reference is quant/gptq.ts, gptqUpdate.ref.ts).
// Per block: dynamic groups starting in it refitted by quantGrid's fitGroups on the weights as the
// earlier blocks left them, the column loop (quantizeBlock), then sparsegptUpdate's lazyUpdate —
// the update W[:, blockEnd:] −= Err · U[block, blockEnd:] is SparseGPT's, unchanged. W, U, the
// tables, the codes and Err stay on the device for the whole sweep; nothing is read back between
// blocks.
import { GpuError, type GpuContext } from '../../context';
import { ceilDiv, defineProgram } from '../../program';
import { checkScales, encodeFitGroups, type GridShape } from '../quantGrid/quantGrid.gpu';
import { lazyUpdateProgram, SPARSEGPT_MAX_BLOCK } from '../sparsegptUpdate/sparsegptUpdate.gpu';
import { gptqOpening, readQuantized, type GptqOptions, type GptqResult } from '../../../quant/gptq';
import type { IntGrid, Matrix } from '../../../quant/types';
import shader from './gptqUpdate.wgsl?raw';

const BLOCK_LANES = 32;
const BLOCK_ROWS = 8;
const LAZY_TILE = 64; // sparsegptUpdate's lazyUpdate: 16 × 16 invocations, 4 × 4 each

export const quantizeBlockProgram = defineProgram({
  label: 'gptqUpdate.quantizeBlock',
  shader,
  entryPoint: 'quantizeBlock',
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'cols', type: 'u32' },
    { name: 'blockStart', type: 'u32' },
    { name: 'blockEnd', type: 'u32' },
    { name: 'groups', type: 'u32' },
    { name: 'maxq', type: 'f32' },
  ],
  storage: [
    { name: 'weights', binding: 1, access: 'read_write' },
    { name: 'hinvUpper', binding: 2, access: 'read' },
    { name: 'blockErr', binding: 3, access: 'read_write' },
    { name: 'scales', binding: 4, access: 'read' },
    { name: 'zeros', binding: 5, access: 'read' },
    { name: 'columnGroup', binding: 6, access: 'read' },
    { name: 'codes', binding: 7, access: 'read_write' },
  ],
  workgroupSize: [BLOCK_LANES, BLOCK_ROWS],
  constants: { MAX_BLOCK: SPARSEGPT_MAX_BLOCK },
});

/** One layer's sweep, in sweep order (act-order already applied by the caller). */
export interface GptqSweepInputs {
  rows: number;
  cols: number;
  /** (rows, cols) row-major, dead inputs zeroed. */
  weights: Float32Array;
  /** U, the upper Cholesky factor of the damped H⁻¹, (cols, cols). */
  hinvUpper: Float32Array;
  grid: IntGrid;
  /** Columns of the tables. */
  groups: number;
  /** (rows, groups) as fitted before the sweep (per row, per tensor, static groups); ignored with dynamicGroupSize. */
  scales: Float32Array;
  zeros: Float32Array;
  /** (cols) table column of each column. */
  columnGroup: Int32Array;
  /** GPTQ's dynamic groups: at every column c with c % g == 0, refit on W[:, c:c+g] as it stands when c's block starts. */
  dynamicGroupSize?: number;
}

export interface GptqSweepResult {
  /** (rows, cols) Q, sweep order. */
  weights: Float32Array;
  /** (rows, cols) codes, sweep order. */
  codes: Uint8Array;
  /** The tables after the last block: every group as it was fitted. */
  scales: Float32Array;
  zeros: Float32Array;
}

const maxq = (grid: IntGrid) => 2 ** grid.bits - 1;

export class GptqGpu {
  private readonly buffers: { weights: GPUBuffer; hinvUpper: GPUBuffer; blockErr: GPUBuffer; scales: GPUBuffer; zeros: GPUBuffer; columnGroup: GPUBuffer; codes: GPUBuffer };

  constructor(
    private readonly ctx: GpuContext,
    private readonly inputs: GptqSweepInputs,
  ) {
    const { rows, cols, groups } = inputs;
    const expect = (what: string, length: number, wanted: number) => {
      if (length !== wanted) throw new Error(`gptq: ${what} has ${length} values, expected ${wanted}`);
    };
    expect('weights', inputs.weights.length, rows * cols);
    expect('hinvUpper', inputs.hinvUpper.length, cols * cols);
    expect('scales', inputs.scales.length, rows * groups);
    expect('zeros', inputs.zeros.length, rows * groups);
    expect('columnGroup', inputs.columnGroup.length, cols);
    const maxBinding = ctx.limits.maxStorageBufferBindingSize;
    for (const [what, bytes] of [['weights', rows * cols * 4], ['hinvUpper', cols * cols * 4]] as const) {
      if (bytes > maxBinding) throw new GpuError('limit', `gptq: ${what} is ${bytes} bytes, over this device's maxStorageBufferBindingSize (${maxBinding})`);
    }
    const shape = `${rows}×${cols}`;
    const errWidth = Math.min(cols, SPARSEGPT_MAX_BLOCK);
    this.buffers = {
      weights: ctx.upload(`gptq.weights(${shape})`, inputs.weights),
      hinvUpper: ctx.upload(`gptq.hinvUpper(${cols}×${cols})`, inputs.hinvUpper),
      blockErr: ctx.createBuffer(`gptq.blockErr(${rows}×${errWidth})`, rows * errWidth * 4),
      scales: ctx.upload(`gptq.scales(${rows}×${groups})`, inputs.scales),
      zeros: ctx.upload(`gptq.zeros(${rows}×${groups})`, inputs.zeros),
      columnGroup: ctx.upload(`gptq.columnGroup(${cols})`, Uint32Array.from(inputs.columnGroup)),
      codes: ctx.createBuffer(`gptq.codes(${shape})`, rows * cols * 4),
    };
  }

  /** Block [blockStart, blockEnd): refit the dynamic groups that start in it, the column loop, the lazy update. */
  async runBlock(blockStart: number, blockEnd: number): Promise<void> {
    const { ctx, buffers: b } = this;
    const { rows, cols, groups, grid, dynamicGroupSize: g } = this.inputs;
    const width = blockEnd - blockStart;
    if (!(blockStart >= 0 && blockEnd <= cols && width >= 1 && width <= SPARSEGPT_MAX_BLOCK)) {
      throw new Error(`gptq: block [${blockStart}, ${blockEnd}) must lie in [0, ${cols}) and be 1…${SPARSEGPT_MAX_BLOCK} wide`);
    }
    if (g) {
      const first = Math.ceil(blockStart / g) * g;
      const count = first < blockEnd ? Math.ceil((blockEnd - first) / g) : 0;
      const shape: GridShape = { rows, cols, groupSize: g, groups, grid };
      await encodeFitGroups(ctx, { weights: b.weights, scales: b.scales, zeros: b.zeros }, shape, first, count);
    }
    await ctx.dispatch({
      program: quantizeBlockProgram,
      uniforms: { rows, cols, blockStart, blockEnd, groups, maxq: maxq(grid) },
      buffers: { weights: b.weights, hinvUpper: b.hinvUpper, blockErr: b.blockErr, scales: b.scales, zeros: b.zeros, columnGroup: b.columnGroup, codes: b.codes },
      workgroups: ceilDiv(rows, BLOCK_ROWS),
    });
    if (blockEnd === cols) return;
    await ctx.dispatch({
      program: lazyUpdateProgram,
      uniforms: { rows, cols, blockStart, blockEnd, keepN: 0, groupM: 0, columnStart: 0, columnEnd: width },
      buffers: { weights: b.weights, hinvUpper: b.hinvUpper, blockErr: b.blockErr },
      workgroups: [ceilDiv(cols - blockEnd, LAZY_TILE), ceilDiv(rows, LAZY_TILE), 1],
    });
  }

  /** Every block of blockSize columns; `afterBlock(blockEnd)` between blocks (progress; it may throw to cancel). */
  async run(blockSize = SPARSEGPT_MAX_BLOCK, afterBlock?: (blockEnd: number) => void): Promise<void> {
    for (let start = 0; start < this.inputs.cols; start += blockSize) {
      const end = Math.min(start + blockSize, this.inputs.cols);
      await this.runBlock(start, end);
      afterBlock?.(end);
    }
  }

  async read(): Promise<GptqSweepResult> {
    const { rows, cols, groups } = this.inputs;
    const { ctx, buffers: b } = this;
    return {
      weights: await ctx.readFloat32(b.weights, rows * cols),
      codes: Uint8Array.from(await ctx.readUint32(b.codes, rows * cols)),
      scales: await ctx.readFloat32(b.scales, rows * groups),
      zeros: await ctx.readFloat32(b.zeros, rows * groups),
    };
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) this.ctx.release(buffer);
  }
}

/** The whole sweep for one layer (weights within one storage binding). */
export async function gptqSweepGpu(ctx: GpuContext, inputs: GptqSweepInputs, blockSize = SPARSEGPT_MAX_BLOCK, afterBlock?: (blockEnd: number) => void): Promise<GptqSweepResult> {
  const session = new GptqGpu(ctx, inputs);
  try {
    await session.run(blockSize, afterBlock);
    return await session.read();
  } finally {
    session.destroy();
  }
}

/** Why a GPTQ layer cannot run on this sweep (the job then runs gptqQuantize on the CPU and says so), or null. */
export function gptqGpuProblem(options: GptqOptions): string | null {
  const blockSize = options.blockSize ?? 128;
  if (blockSize > SPARSEGPT_MAX_BLOCK) return `GPTQ blocks over ${SPARSEGPT_MAX_BLOCK} columns have no kernel`;
  if (options.mseClip && options.granularity.kind === 'group' && !options.staticGroups) return 'the MSE clip search of dynamic groups has no GPU kernel';
  return null;
}

/**
 * gptqQuantize with the sweep on the device: the opening (checks, dead inputs, the quantiser fit
 * before the sweep, act-order, U in float64) is the CPU path's own gptqOpening, the read-back its
 * readQuantized. `loss` is not computed.
 */
export async function gptqQuantizeGpu(ctx: GpuContext, weight: Matrix, hessian: Float64Array, options: GptqOptions, afterBlock?: (blockEnd: number) => void): Promise<GptqResult> {
  const problem = gptqGpuProblem(options);
  if (problem) throw new Error(`gptq: ${problem}`);
  const { rows, cols } = weight;
  const opening = gptqOpening(weight, hessian, options);
  const { prepared } = opening;
  const { sweep } = prepared;
  const dynamic = options.granularity.kind === 'group' && !options.staticGroups;
  const swept = await gptqSweepGpu(
    ctx,
    { rows, cols, weights: opening.weights, hinvUpper: opening.hinvUpper, grid: options.grid, groups: sweep.groups, scales: sweep.scales, zeros: sweep.zeros, columnGroup: sweep.columnGroup, ...(dynamic ? { dynamicGroupSize: prepared.groupSize } : {}) },
    opening.blockSize,
    afterBlock,
  );
  if (dynamic) checkScales(swept.scales, sweep.groups, 'GPTQ quantizer');
  return readQuantized({ rows, cols, data: swept.weights }, swept, prepared, options.grid, opening.perm);
}
