// GPU accumulation of a linear layer's input statistics (see hessian.wgsl, hessian.ref.ts).
// The accumulators stay on the device across batches; read() brings them back once.
import { GpuError, type GpuContext } from '../../context';
import { ceilDiv, defineProgram } from '../../program';
import shader from './hessian.wgsl?raw';

const uniforms = [
  { name: 'tokens', type: 'u32' },
  { name: 'channels', type: 'u32' },
] as const;

const GRAM_WORKGROUP = 16;
const GRAM_MICRO = 4; // MICRO in hessian.wgsl
const GRAM_TILE = GRAM_WORKGROUP * GRAM_MICRO;
const STATS_WORKGROUP = 64;

export const accumulateGramProgram = defineProgram({
  label: 'hessian.accumulateGram',
  shader,
  entryPoint: 'accumulateGram',
  uniforms,
  storage: [
    { name: 'x', binding: 1, access: 'read' },
    { name: 'gram', binding: 2, access: 'read_write' },
  ],
  workgroupSize: [GRAM_WORKGROUP, GRAM_WORKGROUP],
  constants: { TOKENS_PER_STEP: 16 },
});

export const accumulateChannelStatsProgram = defineProgram({
  label: 'hessian.accumulateChannelStats',
  shader,
  entryPoint: 'accumulateChannelStats',
  uniforms,
  storage: [
    { name: 'x', binding: 1, access: 'read' },
    { name: 'sqNorm', binding: 3, access: 'read_write' },
    { name: 'maxAbsBits', binding: 4, access: 'read_write' },
  ],
  workgroupSize: [STATS_WORKGROUP],
});

export interface HessianStats {
  channels: number;
  tokens: number;
  /** Σ_t x_t x_tᵀ, (channels, channels) row-major; SparseGPT's H is 2/tokens times this. */
  gram: Float32Array;
  /** Σ_t x_tj², (channels). */
  sqNorm: Float32Array;
  /** max_t |x_tj|, (channels). */
  maxAbs: Float32Array;
}

/** Device-resident accumulators for one layer; add() batches, read() once at the end. */
export class HessianAccumulatorGpu {
  readonly gram: GPUBuffer;
  readonly sqNorm: GPUBuffer;
  readonly maxAbsBits: GPUBuffer;
  private input: GPUBuffer | null = null;
  private inputTokens = 0;
  private tokenCount = 0;

  constructor(
    private readonly ctx: GpuContext,
    readonly channels: number,
  ) {
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`hessian: channels must be a positive integer, got ${channels}`);
    const gramBytes = channels * channels * 4;
    if (gramBytes > ctx.limits.maxStorageBufferBindingSize) {
      throw new GpuError(
        'limit',
        `hessian: a ${channels}×${channels} f32 Gram matrix is ${gramBytes} bytes, over this device's ` +
          `maxStorageBufferBindingSize (${ctx.limits.maxStorageBufferBindingSize}); tiling H across bindings is not implemented`,
      );
    }
    // New WebGPU buffers are zero-filled: the accumulators start at 0 (and max|x| at +0.0).
    this.gram = ctx.createBuffer(`hessian.gram(${channels}×${channels})`, gramBytes);
    this.sqNorm = ctx.createBuffer(`hessian.sqNorm(${channels})`, channels * 4);
    this.maxAbsBits = ctx.createBuffer(`hessian.maxAbs(${channels})`, channels * 4);
  }

  get tokens(): number {
    return this.tokenCount;
  }

  /** Adds token rows x (tokens, channels). Batches larger than one binding go in token chunks. */
  async add(x: Float32Array, tokens: number): Promise<void> {
    const C = this.channels;
    if (x.length !== tokens * C) throw new Error(`hessian: x has ${x.length} values, expected ${tokens}×${C}`);
    if (tokens === 0) return;
    const chunkTokens = Math.min(tokens, Math.floor(this.ctx.limits.maxStorageBufferBindingSize / (C * 4)));
    if (chunkTokens < 1) throw new GpuError('limit', `hessian: one token row of ${C} channels exceeds maxStorageBufferBindingSize`);
    const input = this.inputBuffer(chunkTokens);
    for (let t0 = 0; t0 < tokens; t0 += chunkTokens) {
      const n = Math.min(chunkTokens, tokens - t0);
      this.ctx.write(input, x.subarray(t0 * C, (t0 + n) * C));
      const shape = { tokens: n, channels: C };
      const xRange = { buffer: input, offset: 0, size: n * C * 4 };
      await this.ctx.dispatch({
        program: accumulateGramProgram,
        uniforms: shape,
        buffers: { x: xRange, gram: this.gram },
        workgroups: [ceilDiv(C, GRAM_TILE), ceilDiv(C, GRAM_TILE), 1],
      });
      await this.ctx.dispatch({
        program: accumulateChannelStatsProgram,
        uniforms: shape,
        buffers: { x: xRange, sqNorm: this.sqNorm, maxAbsBits: this.maxAbsBits },
        workgroups: ceilDiv(C, STATS_WORKGROUP),
      });
    }
    this.tokenCount += tokens;
  }

  async read(): Promise<HessianStats> {
    const C = this.channels;
    const gram = await this.ctx.readFloat32(this.gram, C * C);
    const sqNorm = await this.ctx.readFloat32(this.sqNorm, C);
    const maxAbs = new Float32Array((await this.ctx.readUint32(this.maxAbsBits, C)).buffer);
    return { channels: C, tokens: this.tokenCount, gram, sqNorm, maxAbs };
  }

  destroy(): void {
    for (const buffer of [this.gram, this.sqNorm, this.maxAbsBits, this.input]) if (buffer) this.ctx.release(buffer);
  }

  private inputBuffer(tokens: number): GPUBuffer {
    if (!this.input || this.inputTokens < tokens) {
      if (this.input) this.ctx.release(this.input);
      this.input = this.ctx.createBuffer(`hessian.x(${tokens}×${this.channels})`, tokens * this.channels * 4);
      this.inputTokens = tokens;
    }
    return this.input;
  }
}

/** One-shot convenience: statistics of a single batch x (tokens, channels). */
export async function hessianStatsGpu(ctx: GpuContext, x: Float32Array, tokens: number, channels: number): Promise<HessianStats> {
  const accumulator = new HessianAccumulatorGpu(ctx, channels);
  try {
    await accumulator.add(x, tokens);
    return await accumulator.read();
  } finally {
    accumulator.destroy();
  }
}
