// GPU selection over one flat comparison group spread over many workgroups (see
// globalSelect.wgsl, globalSelect.ref.ts).
import { GpuError, type GpuContext } from '../../context';
import { ceilDiv, defineProgram, type StorageBinding } from '../../program';
import pruneOrder from '../pruneOrder.wgsl?raw';
import workgroupScan from '../workgroupScan.wgsl?raw';
import shader from './globalSelect.wgsl?raw';
import { thresholdRank } from './globalSelect.ref';

const WORKGROUP = 256;
const ITEMS = 16;
/** Elements per workgroup: contiguous chunks of WG_X · ITEMS. */
export const GLOBAL_SELECT_CHUNK = WORKGROUP * ITEMS;
const STATE_WORDS = 260;

const BINDINGS: Record<'scores' | 'keepMask' | 'state' | 'chunkEqual', StorageBinding> = {
  scores: { name: 'scores', binding: 1, access: 'read' },
  keepMask: { name: 'keepMask', binding: 2, access: 'read_write' },
  state: { name: 'state', binding: 3, access: 'read_write' },
  chunkEqual: { name: 'chunkEqual', binding: 4, access: 'read_write' },
};

function selectProgram(entryPoint: string, storage: Array<keyof typeof BINDINGS>, workgroup: number) {
  return defineProgram({
    label: `globalSelect.${entryPoint}`,
    shader: `${pruneOrder}\n${workgroupScan}\n${shader}`,
    entryPoint,
    uniforms: [
      { name: 'count', type: 'u32' },
      { name: 'pruneCount', type: 'u32' },
      { name: 'mode', type: 'u32' },
      { name: 'shift', type: 'u32' },
      { name: 'maskWidth', type: 'u32' },
      { name: 'maskStride', type: 'u32' },
      { name: 'maskOffset', type: 'u32' },
    ],
    storage: storage.map((name) => BINDINGS[name]),
    workgroupSize: [workgroup],
    constants: { ITEMS },
  });
}

export const globalSelectPrograms = {
  init: selectProgram('init', ['state'], 1),
  histogram: selectProgram('histogram', ['scores', 'state'], WORKGROUP),
  pickBin: selectProgram('pickBin', ['state'], 1),
  countEqual: selectProgram('countEqual', ['scores', 'state', 'chunkEqual'], WORKGROUP),
  scanChunks: selectProgram('scanChunks', ['state', 'chunkEqual'], WORKGROUP),
  writeMask: selectProgram('writeMask', ['scores', 'keepMask', 'state', 'chunkEqual'], WORKGROUP),
};

/**
 * What to select. exact: prune exactly pruneCount, lowest first in pruning order, ties by flat
 * index (keepPerLayer). threshold: prune every score <= the score of 0-based rank `rank` in
 * ascending order, none if that score is NaN (blockThresholdKeep).
 */
export type GlobalSelection = { mode: 'exact'; pruneCount: number } | { mode: 'threshold'; rank: number };

/** Where element i's mask goes: keepMask[⌊i / width⌋ · stride + offset + i mod width]. */
export interface MaskPlacement {
  width: number;
  stride: number;
  offset: number;
}

/**
 * The scratch of a selection (histogram and state, per-chunk counts), made once and reused by
 * every encode(), so a selection per SparseGPT block creates no GPU object.
 */
export class GlobalSelectGpu {
  private readonly state: GPUBuffer;
  private readonly chunkEqual: GPUBuffer;

  constructor(
    private readonly ctx: GpuContext,
    /** The largest group this instance selects over. */
    readonly maxCount: number,
  ) {
    if (!(Number.isInteger(maxCount) && maxCount >= 1)) throw new Error(`globalSelect: maxCount must be a positive integer, got ${maxCount}`);
    if (maxCount * 4 > ctx.limits.maxStorageBufferBindingSize) {
      throw new GpuError('limit', `globalSelect: ${maxCount} scores are ${maxCount * 4} bytes, over this device's maxStorageBufferBindingSize (${ctx.limits.maxStorageBufferBindingSize})`);
    }
    this.state = ctx.createBuffer('globalSelect.state', STATE_WORDS * 4);
    this.chunkEqual = ctx.createBuffer(`globalSelect.chunkEqual(${ceilDiv(maxCount, GLOBAL_SELECT_CHUNK)})`, ceilDiv(maxCount, GLOBAL_SELECT_CHUNK) * 4);
  }

  /** Encodes the selection of scores[0, count) into keepMask (1 keep, 0 pruned) at `placement`. */
  async encode(scores: GPUBuffer, count: number, selection: GlobalSelection, keepMask: GPUBuffer, placement: MaskPlacement = { width: count, stride: count, offset: 0 }): Promise<void> {
    if (!(Number.isInteger(count) && count >= 1 && count <= this.maxCount)) throw new Error(`globalSelect: count must be an integer in 1…${this.maxCount}, got ${count}`);
    const exact = selection.mode === 'exact';
    const target = exact ? selection.pruneCount : selection.rank + 1;
    if (!(Number.isInteger(target) && target >= (exact ? 0 : 1))) throw new Error(`globalSelect: invalid ${exact ? 'pruneCount' : 'rank'} ${exact ? target : target - 1}`);
    if (!exact && target > count) throw new Error(`globalSelect: rank ${target - 1} is outside ${count} scores`);
    const pruneCount = Math.min(target, count);
    const uniforms = { count, pruneCount, mode: exact ? 0 : 1, shift: 0, maskWidth: placement.width, maskStride: placement.stride, maskOffset: placement.offset };
    const { state, chunkEqual } = this;
    const chunks = ceilDiv(count, GLOBAL_SELECT_CHUNK);
    const p = globalSelectPrograms;
    // An exact count of none or all needs no pivot: writeMask alone.
    if (!exact || (pruneCount > 0 && pruneCount < count)) {
      await this.ctx.dispatch({ program: p.init, uniforms, buffers: { state }, workgroups: 1 });
      for (const shift of [24, 16, 8, 0]) {
        await this.ctx.dispatch({ program: p.histogram, uniforms: { ...uniforms, shift }, buffers: { scores, state }, workgroups: chunks });
        await this.ctx.dispatch({ program: p.pickBin, uniforms: { ...uniforms, shift }, buffers: { state }, workgroups: 1 });
      }
      if (exact) {
        await this.ctx.dispatch({ program: p.countEqual, uniforms, buffers: { scores, state, chunkEqual }, workgroups: chunks });
        await this.ctx.dispatch({ program: p.scanChunks, uniforms, buffers: { state, chunkEqual }, workgroups: 1 });
      }
    }
    await this.ctx.dispatch({ program: p.writeMask, uniforms, buffers: { scores, keepMask, state, chunkEqual }, workgroups: chunks });
  }

  destroy(): void {
    this.ctx.release(this.state);
    this.ctx.release(this.chunkEqual);
  }
}

async function selectArray(ctx: GpuContext, scores: Float32Array, selection: GlobalSelection): Promise<Uint8Array> {
  const select = new GlobalSelectGpu(ctx, scores.length);
  const scoreBuffer = ctx.upload(`globalSelect.scores(${scores.length})`, scores);
  const keepMask = ctx.createBuffer(`globalSelect.keepMask(${scores.length})`, scores.length * 4);
  try {
    await select.encode(scoreBuffer, scores.length, selection, keepMask);
    return Uint8Array.from(await ctx.readUint32(keepMask, scores.length));
  } finally {
    select.destroy();
    ctx.release(scoreBuffer);
    ctx.release(keepMask);
  }
}

/** Keep mask pruning exactly `pruneCount` of `scores`, the lowest in pruning order, ties by index. */
export async function globalSelectGpu(ctx: GpuContext, scores: Float32Array, pruneCount: number): Promise<Uint8Array> {
  if (scores.length === 0) return new Uint8Array(0);
  return selectArray(ctx, scores, { mode: 'exact', pruneCount });
}

/** SparseGPT's block rule on the device: keep = score > sort(scores)[⌊n·s⌋] (blockThresholdKeep). */
export async function thresholdSelectGpu(ctx: GpuContext, scores: Float32Array, sparsity: number): Promise<Uint8Array> {
  if (scores.length === 0) return new Uint8Array(0);
  return selectArray(ctx, scores, { mode: 'threshold', rank: thresholdRank(scores.length, sparsity) });
}
