// Per-layer input statistics behind one small interface, so a GPU Hessian kernel
// (src/core/gpu/kernels/hessian) can replace the CPU loops without touching calibration.
//
// Accumulated: Σ_t x_t x_tᵀ (the Gram matrix), Σ_t x_tj², max_t |x_tj|, all in float64: each
// product of two float32 values is exact in float64, so the only rounding is in the additions.
// SparseGPT's add_batch keeps a float32 running average H ← H·n/(n+b) + 2/(n+b)·X_b X_bᵀ; the
// sum divided once at the end (H = 2/n · Σ x xᵀ) is the same matrix up to that rounding and does
// not depend on how the tokens were batched. (The reference's n counts sequences, ours tokens:
// a constant factor, which changes neither SparseGPT's weights nor its masks.)
import { linalgInstance, WasmArena, type LinalgExports, type Region } from '../linalg/wasmKernels.ts';
import type { LayerStats, Matrix } from '../prune/types.ts';

/** The raw sums over `tokens` input vectors of one layer. */
export interface InputSums {
  channels: number;
  tokens: number;
  /** (C_in, C_in) Σ_t x_t x_tᵀ; absent when the Hessian was not asked for. */
  gram?: Float64Array;
  /** (C_in) Σ_t x_tj². */
  sqNorm: Float64Array;
  /** (C_in) max_t |x_tj|; NaN once any input is NaN. */
  maxAbs: Float64Array;
}

export interface StatsAccumulator {
  readonly channels: number;
  /** Adds token rows x (tokens, C_in), row-major. */
  add(x: Float32Array, tokens: number): void | Promise<void>;
  /** The sums so far; the accumulator can be dropped afterwards. */
  finish(): InputSums | Promise<InputSums>;
}

export interface AccumulatorSpec {
  layerId: string;
  channels: number;
  /** Accumulate the Gram matrix (SparseGPT, sensitivity, reconstruction error). */
  hessian: boolean;
}

export type AccumulatorFactory = (spec: AccumulatorSpec) => StatsAccumulator;

/**
 * CPU reference. Tokens are taken in groups of four consecutive ones (counted over the whole
 * stream, so batch boundaries do not matter): the four products of a Gram entry are summed, then
 * added — a fixed order, four times fewer passes over the C×C matrix. Only the upper triangle is
 * accumulated and mirrored at the end. The groups run on the wasm SIMD kernel gram_add4_f64
 * (src/core/linalg), two columns at a time with the same operations in the same order, in an
 * instance of its own that holds the Gram matrix and up to PENDING tokens between calls.
 */
export class CpuStatsAccumulator implements StatsAccumulator {
  static readonly GROUP = 4;
  /** Tokens buffered before the Gram kernel runs (a multiple of GROUP). */
  static readonly PENDING = 64;
  readonly channels: number;
  private tokens = 0;
  private readonly gram: { kernels: LinalgExports; gram: Region<'f64'>; pending: Region<'f64'>; arena: WasmArena } | undefined;
  private readonly sqNorm: Float64Array;
  private readonly maxAbs: Float64Array;
  /** Tokens waiting for the Gram kernel, as float64 rows (in the wasm memory when the Gram is accumulated). */
  private readonly pending: Float64Array;
  private pendingCount = 0;

  constructor(spec: Pick<AccumulatorSpec, 'channels' | 'hessian'>) {
    const C = spec.channels;
    this.channels = C;
    this.sqNorm = new Float64Array(C);
    this.maxAbs = new Float64Array(C);
    if (spec.hessian) {
      const arena = new WasmArena(linalgInstance());
      const gram = arena.region('f64', C * C);
      const pending = arena.region('f64', CpuStatsAccumulator.PENDING * C);
      arena.ready();
      this.gram = { kernels: arena.k, gram, pending, arena };
      arena.view(gram).fill(0);
      this.pending = arena.view(pending);
    } else {
      this.gram = undefined;
      this.pending = new Float64Array(CpuStatsAccumulator.PENDING * C);
    }
  }

  add(x: Float32Array, tokens: number): void {
    const C = this.channels;
    if (x.length !== tokens * C) throw new Error(`stats accumulator: ${x.length} values for ${tokens} tokens x ${C} channels`);
    for (let t = 0; t < tokens; t++) {
      this.pending.set(x.subarray(t * C, (t + 1) * C), this.pendingCount * C);
      if (++this.pendingCount === CpuStatsAccumulator.PENDING) this.flushGroups();
    }
    this.tokens += tokens;
  }

  /** Per-channel sums of the pending rows, in token order. */
  private addChannelStats(count: number): void {
    const { channels: C, pending, sqNorm, maxAbs } = this;
    for (let k = 0; k < count; k++) {
      for (let a = 0; a < C; a++) {
        const v = pending[k * C + a];
        sqNorm[a] += v * v;
        maxAbs[a] = Math.max(maxAbs[a], Math.abs(v));
      }
    }
  }

  /** Every complete group of four pending tokens; the rest (< 4) move to the front. */
  private flushGroups(): void {
    const { channels: C, pending, gram } = this;
    const GROUP = CpuStatsAccumulator.GROUP;
    const groups = Math.floor(this.pendingCount / GROUP);
    this.addChannelStats(groups * GROUP);
    if (gram !== undefined) {
      for (let g = 0; g < groups; g++) gram.kernels.gram_add4_f64(C, gram.pending.ptr + 8 * g * GROUP * C, gram.gram.ptr);
    }
    const rest = this.pendingCount - groups * GROUP;
    pending.copyWithin(0, groups * GROUP * C, this.pendingCount * C);
    this.pendingCount = rest;
  }

  /** The last, incomplete group: one token at a time. */
  private flushRemainder(g: Float64Array | undefined): void {
    const { channels: C, pending: p } = this;
    const count = this.pendingCount;
    this.addChannelStats(count);
    this.pendingCount = 0;
    if (g === undefined) return;
    for (let k = 0; k < count; k++) {
      const row = k * C;
      for (let a = 0; a < C; a++) {
        const xa = p[row + a];
        const base = a * C;
        for (let b = a; b < C; b++) g[base + b] += xa * p[row + b];
      }
    }
  }

  finish(): InputSums {
    this.flushGroups();
    const { channels: C } = this;
    const gram = this.gram === undefined ? undefined : this.gram.arena.view(this.gram.gram).slice();
    this.flushRemainder(gram);
    if (gram !== undefined) for (let a = 0; a < C; a++) for (let b = a + 1; b < C; b++) gram[b * C + a] = gram[a * C + b];
    return { channels: C, tokens: this.tokens, gram, sqNorm: this.sqNorm, maxAbs: this.maxAbs };
  }
}

export const cpuAccumulatorFactory: AccumulatorFactory = (spec) => new CpuStatsAccumulator(spec);

/** LayerStats from the sums: H = 2/n · Σ x xᵀ (an empty Hessian when it was not accumulated). */
export function layerStatsFromSums(sums: InputSums, outputSample?: Matrix): LayerStats {
  const n = sums.tokens;
  const hessian = new Float64Array(sums.gram?.length ?? 0);
  const gram = sums.gram;
  if (gram !== undefined && n !== 0) for (let i = 0; i < gram.length; i++) hessian[i] = (2 / n) * gram[i];
  const stats: LayerStats = { tokens: n, sqNorm: Float64Array.from(sums.sqNorm), maxAbs: Float32Array.from(sums.maxAbs), hessian };
  if (outputSample !== undefined) stats.outputSample = outputSample;
  return stats;
}
