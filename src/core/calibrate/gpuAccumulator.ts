// The WebGPU StatsAccumulator: Σ x xᵀ, Σ x², max|x| kept on the device by the Hessian kernel
// (src/core/gpu/kernels/hessian), read back once per layer in finish(). The caller owns the
// GpuContext (a browser gets the device from navigator.gpu, a test from testing/nodeDevice.ts).
//
// The kernel sums in float32 (see docs/gpu-kernels.md: |error| ≤ γ_(n+batches)·max_j Σ x_j² on
// the Gram matrix, γ_n relative on Σ x²; max|x| exact), where CpuStatsAccumulator sums in
// float64, so statistics from this accumulator are close to the CPU's but not bit-identical: a
// run that uses it does not reproduce the CLI's weight hash. collectStats awaits every add() and
// finish(), one at a time, as GpuContext requires.
import type { GpuContext } from '../gpu/context';
import { HessianAccumulatorGpu } from '../gpu/kernels/hessian/hessian.gpu';
import type { AccumulatorFactory, AccumulatorSpec, InputSums, StatsAccumulator } from './accumulator.ts';

export class GpuStatsAccumulator implements StatsAccumulator {
  readonly channels: number;
  private readonly hessian: boolean;
  private device: HessianAccumulatorGpu | null;

  constructor(ctx: GpuContext, spec: Pick<AccumulatorSpec, 'channels' | 'hessian'>) {
    this.channels = spec.channels;
    this.hessian = spec.hessian;
    // The kernel always accumulates the Gram matrix; without `hessian` it is read back never.
    this.device = new HessianAccumulatorGpu(ctx, spec.channels);
  }

  async add(x: Float32Array, tokens: number): Promise<void> {
    if (!this.device) throw new Error('gpu stats accumulator: add() after finish()');
    if (x.length !== tokens * this.channels) throw new Error(`stats accumulator: ${x.length} values for ${tokens} tokens x ${this.channels} channels`);
    await this.device.add(x, tokens);
  }

  /** Reads the sums back (widened to float64, as InputSums holds them) and frees the buffers. */
  async finish(): Promise<InputSums> {
    const device = this.device;
    if (!device) throw new Error('gpu stats accumulator: finish() called twice');
    this.device = null;
    try {
      const stats = await device.read();
      return {
        channels: this.channels,
        tokens: stats.tokens,
        gram: this.hessian ? Float64Array.from(stats.gram) : undefined,
        sqNorm: Float64Array.from(stats.sqNorm),
        maxAbs: Float64Array.from(stats.maxAbs),
      };
    } finally {
      device.destroy();
    }
  }
}

export function gpuAccumulatorFactory(ctx: GpuContext): AccumulatorFactory {
  return (spec) => new GpuStatsAccumulator(ctx, spec);
}
