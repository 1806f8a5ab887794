// GPU SparseGPT weight update (see sparsegptUpdate.wgsl, sparsegptUpdate.ref.ts). The weights,
// mask, U and the block error stay on the device for the whole sweep over the columns.
import { GpuError, type GpuContext } from '../../context';
import { ceilDiv, defineProgram, rowRangesWithinBinding } from '../../program';
import { encodeReadColumns, encodeWriteColumns } from '../columnRange/columnRange.gpu';
import { GlobalSelectGpu } from '../globalSelect/globalSelect.gpu';
import { thresholdRank } from '../globalSelect/globalSelect.ref';
import { checkNmPattern } from '../nmSelect/nmSelect.gpu';
import type { PrunePattern } from '../pruneOrder';
import pruneOrder from '../pruneOrder.wgsl?raw';
import shader from './sparsegptUpdate.wgsl?raw';

const uniforms = [
  { name: 'rows', type: 'u32' },
  { name: 'cols', type: 'u32' },
  { name: 'blockStart', type: 'u32' },
  { name: 'blockEnd', type: 'u32' },
  { name: 'keepN', type: 'u32' },
  { name: 'groupM', type: 'u32' },
  { name: 'columnStart', type: 'u32' },
  { name: 'columnEnd', type: 'u32' },
] as const;

/** MAX_BLOCK in the shader: the widest block updateBlock holds in workgroup memory. */
export const SPARSEGPT_MAX_BLOCK = 128;
const BLOCK_LANES = 32;
const BLOCK_ROWS = 8;
const LAZY_WORKGROUP = 16;
const LAZY_TILE = LAZY_WORKGROUP * 4; // MICRO = 4

export const updateBlockProgram = defineProgram({
  label: 'sparsegptUpdate.updateBlock',
  shader: `${pruneOrder}\n${shader}`,
  entryPoint: 'updateBlock',
  uniforms,
  storage: [
    { name: 'weights', binding: 1, access: 'read_write' },
    { name: 'keepMask', binding: 2, access: 'read_write' },
    { name: 'hinvUpper', binding: 3, access: 'read' },
    { name: 'blockErr', binding: 4, access: 'read_write' },
  ],
  workgroupSize: [BLOCK_LANES, BLOCK_ROWS],
  constants: { MAX_BLOCK: SPARSEGPT_MAX_BLOCK },
});

export const lazyUpdateProgram = defineProgram({
  label: 'sparsegptUpdate.lazyUpdate',
  shader: `${pruneOrder}\n${shader}`,
  entryPoint: 'lazyUpdate',
  uniforms,
  storage: [
    { name: 'weights', binding: 1, access: 'read_write' },
    { name: 'hinvUpper', binding: 3, access: 'read' },
    { name: 'blockErr', binding: 4, access: 'read_write' },
  ],
  workgroupSize: [LAZY_WORKGROUP, LAZY_WORKGROUP],
  constants: { TILE_K: 16 },
});

export const blockScoresProgram = defineProgram({
  label: 'sparsegptUpdate.blockScores',
  shader: `${pruneOrder}\n${shader}`,
  entryPoint: 'blockScores',
  uniforms,
  storage: [
    { name: 'weights', binding: 1, access: 'read_write' },
    { name: 'hinvUpper', binding: 3, access: 'read' },
    { name: 'blockScore', binding: 5, access: 'read_write' },
  ],
  workgroupSize: [BLOCK_LANES, BLOCK_ROWS],
});

export interface SparseGptInputs {
  rows: number;
  cols: number;
  /** (rows, cols) row-major. */
  weights: Float32Array;
  /** U, the upper Cholesky factor of H⁻¹, (cols, cols) row-major. */
  hinvUpper: Float32Array;
  pattern: PrunePattern;
}

export interface SparseGptResult {
  weights: Float32Array;
  keepMask: Uint8Array;
}

/**
 * A keep mask chosen on the host as the sweep goes, for the selections no kernel makes:
 * SparseGPT's unstructured mask over a whole block (span = the block size) or V:N:M per group of
 * M columns (span = M). At each span start, `choose` gets the span's current weights (rows,
 * end − start), i.e. after every update from the columns before it, exactly where fasterprune
 * computes its `tmp`, and returns the span's keep mask (rows, end − start; 1 keep, 0 pruned).
 */
export interface HostMaskStep {
  span: number;
  choose: (current: Float32Array, start: number, end: number) => Uint8Array | Promise<Uint8Array>;
}

/**
 * SparseGPT's unstructured mask chosen on the device at each block start, from the block's
 * current weights, exactly where fasterprune computes `tmp = W1²/diag(Hinv1)²`:
 * `thresh = sort(tmp)[int(numel·s)]`, pruned `tmp <= thresh` (blockThresholdKeep), by the
 * blockScores kernel and globalSelect's threshold mode. Nothing is read back between blocks.
 */
export interface DeviceBlockMask {
  kind: 'blockThreshold';
  sparsity: number;
}

/** How the mask of a sweep over a given-mask session is chosen as it goes. */
export type MaskStep = HostMaskStep | DeviceBlockMask;

/**
 * One layer's SparseGPT sweep on the device. runBlock() does one block (the rank-1 updates,
 * then the lazy update of the columns after it); run() does them all. The weights must fit one
 * storage binding: sparsegptPruneGpu splits larger matrices into row ranges.
 */
export class SparseGptGpu {
  readonly rows: number;
  readonly cols: number;
  private readonly weights: GPUBuffer;
  private readonly keepMask: GPUBuffer;
  private readonly hinvUpper: GPUBuffer;
  private readonly blockErr: GPUBuffer;
  private readonly nm: { keepN: number; groupM: number };
  /** (rows, ≤ MAX_BLOCK) staging of one span's weights / keep mask for HostMaskStep, made on first use. */
  private spanBuffer: GPUBuffer | null = null;
  /** (rows, ≤ MAX_BLOCK) block scores and their selection for DeviceBlockMask, made on first use. */
  private blockScore: GPUBuffer | null = null;
  private blockSelect: GlobalSelectGpu | null = null;

  constructor(
    private readonly ctx: GpuContext,
    inputs: SparseGptInputs,
  ) {
    const { rows, cols, pattern } = inputs;
    if (inputs.weights.length !== rows * cols) throw new Error(`sparsegpt: weights has ${inputs.weights.length} values, expected ${rows}×${cols}`);
    if (inputs.hinvUpper.length !== cols * cols) throw new Error(`sparsegpt: hinvUpper has ${inputs.hinvUpper.length} values, expected ${cols}×${cols}`);
    if (pattern.kind === 'mask' && pattern.keepMask.length !== rows * cols) throw new Error(`sparsegpt: keepMask has ${pattern.keepMask.length} values, expected ${rows}×${cols}`);
    if (pattern.kind === 'nm') checkNmPattern(pattern.n, pattern.m, 'sparsegpt');
    const maxBinding = ctx.limits.maxStorageBufferBindingSize;
    for (const [what, bytes] of [['weights', rows * cols * 4], ['hinvUpper', cols * cols * 4]] as const) {
      if (bytes > maxBinding) throw new GpuError('limit', `sparsegpt: ${what} is ${bytes} bytes, over this device's maxStorageBufferBindingSize (${maxBinding})`);
    }
    this.rows = rows;
    this.cols = cols;
    this.nm = pattern.kind === 'nm' ? { keepN: pattern.n, groupM: pattern.m } : { keepN: 0, groupM: 0 };
    const shape = `${rows}×${cols}`;
    this.weights = ctx.upload(`sparsegpt.weights(${shape})`, inputs.weights);
    const keep = pattern.kind === 'mask' ? Uint32Array.from(pattern.keepMask) : new Uint32Array(rows * cols).fill(1);
    this.keepMask = ctx.upload(`sparsegpt.keepMask(${shape})`, keep);
    this.hinvUpper = ctx.upload(`sparsegpt.hinvUpper(${cols}×${cols})`, inputs.hinvUpper);
    const errWidth = Math.min(cols, SPARSEGPT_MAX_BLOCK);
    this.blockErr = ctx.createBuffer(`sparsegpt.blockErr(${rows}×${errWidth})`, rows * errWidth * 4);
  }

  /**
   * Block [blockStart, blockEnd): updateBlock, then lazyUpdate of the columns after it. With a
   * HostMaskStep, the block is walked span by span, each span's mask chosen by the host first;
   * with a DeviceBlockMask, the block's mask is chosen on the device first.
   */
  async runBlock(blockStart: number, blockEnd: number, maskStep?: MaskStep): Promise<void> {
    const width = blockEnd - blockStart;
    if (!(blockStart >= 0 && blockEnd <= this.cols && width >= 1 && width <= SPARSEGPT_MAX_BLOCK)) {
      throw new Error(`sparsegpt: block [${blockStart}, ${blockEnd}) must lie in [0, ${this.cols}) and be 1…${SPARSEGPT_MAX_BLOCK} wide`);
    }
    const params = { rows: this.rows, cols: this.cols, blockStart, blockEnd, ...this.nm, columnStart: 0, columnEnd: width };
    if (maskStep && 'choose' in maskStep) {
      this.checkHostMask(maskStep);
      for (let spanStart = 0; spanStart < width; spanStart += maskStep.span) {
        const spanEnd = Math.min(spanStart + maskStep.span, width);
        await this.chooseOnHost(maskStep, blockStart + spanStart, blockStart + spanEnd);
        await this.updateBlock({ ...params, columnStart: spanStart, columnEnd: spanEnd });
      }
    } else {
      if (maskStep) await this.chooseOnDevice(maskStep, params);
      await this.updateBlock(params);
    }
    if (blockEnd === this.cols) return;
    await this.ctx.dispatch({
      program: lazyUpdateProgram,
      uniforms: params,
      buffers: { weights: this.weights, hinvUpper: this.hinvUpper, blockErr: this.blockErr },
      workgroups: [ceilDiv(this.cols - blockEnd, LAZY_TILE), ceilDiv(this.rows, LAZY_TILE), 1],
    });
  }

  /** All blocks of blockSize columns (fasterprune's blocksize, default 128). */
  async run(blockSize = SPARSEGPT_MAX_BLOCK, maskStep?: MaskStep): Promise<void> {
    if (this.nm.groupM > 0 && blockSize % this.nm.groupM !== 0) {
      throw new Error(`sparsegpt: block size ${blockSize} is not a multiple of M = ${this.nm.groupM}, so N:M groups would straddle blocks`);
    }
    for (let start = 0; start < this.cols; start += blockSize) await this.runBlock(start, Math.min(start + blockSize, this.cols), maskStep);
  }

  private async updateBlock(params: Record<string, number>): Promise<void> {
    await this.ctx.dispatch({
      program: updateBlockProgram,
      uniforms: params,
      buffers: { weights: this.weights, keepMask: this.keepMask, hinvUpper: this.hinvUpper, blockErr: this.blockErr },
      workgroups: ceilDiv(this.rows, BLOCK_ROWS),
    });
  }

  private checkHostMask(hostMask: HostMaskStep): void {
    if (this.nm.groupM > 0) throw new Error('sparsegpt: a host-chosen mask and N:M chosen inside the block exclude each other');
    if (!(Number.isInteger(hostMask.span) && hostMask.span >= 1 && hostMask.span <= SPARSEGPT_MAX_BLOCK)) {
      throw new Error(`sparsegpt: host mask span must be an integer in 1…${SPARSEGPT_MAX_BLOCK}, got ${hostMask.span}`);
    }
  }

  /** Scores the block's current weights and writes its threshold mask into keepMask, all on the device. */
  private async chooseOnDevice(mask: DeviceBlockMask, params: Record<string, number> & { blockStart: number; blockEnd: number }): Promise<void> {
    if (this.nm.groupM > 0) throw new Error('sparsegpt: a device-chosen block mask and N:M chosen inside the block exclude each other');
    if (!(mask.sparsity >= 0 && mask.sparsity <= 1)) throw new Error(`sparsegpt: block mask sparsity must be in [0, 1], got ${mask.sparsity}`);
    const { rows, cols, ctx } = this;
    const { blockStart, blockEnd } = params;
    const count = rows * (blockEnd - blockStart);
    const widest = rows * Math.min(cols, SPARSEGPT_MAX_BLOCK);
    this.blockScore ??= ctx.createBuffer(`sparsegpt.blockScore(${rows}×${Math.min(cols, SPARSEGPT_MAX_BLOCK)})`, widest * 4);
    this.blockSelect ??= new GlobalSelectGpu(ctx, widest);
    await ctx.dispatch({
      program: blockScoresProgram,
      uniforms: params,
      buffers: { weights: this.weights, hinvUpper: this.hinvUpper, blockScore: this.blockScore },
      workgroups: ceilDiv(count, BLOCK_LANES * BLOCK_ROWS),
    });
    const placement = { width: blockEnd - blockStart, stride: cols, offset: blockStart };
    await this.blockSelect.encode(this.blockScore, count, { mode: 'threshold', rank: thresholdRank(count, mask.sparsity) }, this.keepMask, placement);
  }

  /** Reads columns [start, end) as they are now, asks the host for their mask, writes it. */
  private async chooseOnHost(hostMask: HostMaskStep, start: number, end: number): Promise<void> {
    const { rows, cols } = this;
    const count = rows * (end - start);
    this.spanBuffer ??= this.ctx.createBuffer(`sparsegpt.span(${rows}×${Math.min(cols, SPARSEGPT_MAX_BLOCK)})`, rows * Math.min(cols, SPARSEGPT_MAX_BLOCK) * 4);
    const range = { rows, cols, start, end };
    await encodeReadColumns(this.ctx, { matrix: this.weights, compact: this.spanBuffer }, range);
    const current = await this.ctx.readFloat32(this.spanBuffer, count);
    const keep = await hostMask.choose(current, start, end);
    if (keep.length !== count) throw new Error(`sparsegpt: host mask for columns [${start}, ${end}) has ${keep.length} values, expected ${rows}×${end - start}`);
    this.ctx.write(this.spanBuffer, Uint32Array.from(keep));
    await encodeWriteColumns(this.ctx, { matrix: this.keepMask, compact: this.spanBuffer }, range);
  }

  async read(): Promise<SparseGptResult> {
    const n = this.rows * this.cols;
    const weights = await this.ctx.readFloat32(this.weights, n);
    const keepMask = Uint8Array.from(await this.ctx.readUint32(this.keepMask, n));
    return { weights, keepMask };
  }

  destroy(): void {
    for (const b of [this.weights, this.keepMask, this.hinvUpper, this.blockErr, this.spanBuffer, this.blockScore]) if (b) this.ctx.release(b);
    this.blockSelect?.destroy();
  }
}

/** The whole sweep for one layer; matrices larger than one binding run as row ranges. */
export async function sparsegptPruneGpu(ctx: GpuContext, inputs: SparseGptInputs, blockSize = SPARSEGPT_MAX_BLOCK): Promise<SparseGptResult> {
  const { rows, cols, pattern } = inputs;
  const result: SparseGptResult = { weights: new Float32Array(rows * cols), keepMask: new Uint8Array(rows * cols) };
  // Each row range holds its weights and mask (8 bytes per element) in bindings of its own.
  for (const [r0, r1] of rowRangesWithinBinding(rows, cols * 4, ctx.limits.maxStorageBufferBindingSize, 'sparsegpt')) {
    const range = (a: Float32Array | Uint8Array) => a.subarray(r0 * cols, r1 * cols);
    const session = new SparseGptGpu(ctx, {
      rows: r1 - r0,
      cols,
      weights: range(inputs.weights) as Float32Array,
      hinvUpper: inputs.hinvUpper,
      pattern: pattern.kind === 'mask' ? { kind: 'mask', keepMask: range(pattern.keepMask) as Uint8Array } : pattern,
    });
    try {
      await session.run(blockSize);
      const part = await session.read();
      result.weights.set(part.weights, r0 * cols);
      result.keepMask.set(part.keepMask, r0 * cols);
    } finally {
      session.destroy();
    }
  }
  return result;
}
