// One layer's RTN or GPTQ job on WebGPU: the same job and result as runQuantizeJob
// (quantJobs.ts), with the quantiser grid (RTN) or the GPTQ sweep on the device kernels of
// src/core/gpu (quantGrid, gptqUpdate) and on the CPU only what has no kernel, named in `backend`.
// The equivalence contract — bit-identical where WGSL f32 arithmetic is IEEE without contraction,
// otherwise code flips at near-ties, bounded and tested — is in docs/gpu-kernels.md
// ("Quantization kernels").
import type { GpuContext } from '../gpu/context.ts';
import { gptqGpuProblem, gptqQuantizeGpu } from '../gpu/kernels/gptqUpdate/gptqUpdate.gpu.ts';
import { quantGridGpu } from '../gpu/kernels/quantGrid/quantGrid.gpu.ts';
import { cpuUse, type BackendUse } from '../job/backend.ts';
import { throwIfCancelled, type CancelSignal } from '../job/cancel.ts';
import { assertFiniteWeight } from '../quant/rtn.ts';
import { runQuantizeJob, type QuantizeJob, type QuantizeJobResult, type QuantizeLayerFn } from './quantJobs.ts';

const onGpu = (...cpuSteps: string[]): BackendUse => (cpuSteps.length === 0 ? { requested: 'webgpu', ran: 'webgpu' } : { requested: 'webgpu', ran: 'webgpu+cpu', cpuSteps });

/** A quantizeLayer on one GpuContext; jobs run one after another, in the order handed in. */
export function gpuQuantizeLayer(ctx: GpuContext): QuantizeLayerFn {
  let previous: Promise<unknown> = Promise.resolve();
  return (job, options) => {
    const result = previous.then(() => runQuantizeJobGpu(ctx, job, options?.cancel));
    previous = result.catch(() => undefined);
    return result;
  };
}

/** Why a job runs on the CPU although WebGPU was asked for, or null when a kernel covers it. */
function cpuReason(ctx: GpuContext, job: QuantizeJob): string | null {
  const { rows, cols } = job.weight;
  const maxBinding = ctx.limits.maxStorageBufferBindingSize;
  if (rows * cols * 4 > maxBinding) return `the weight is over one storage binding (${maxBinding} bytes)`;
  if (job.method === 'rtn') return job.mseClip ? 'the MSE clip search has no GPU kernel' : null;
  if (cols * cols * 4 > maxBinding) return `U is over one storage binding (${maxBinding} bytes)`;
  return gptqGpuProblem(job.options);
}

/** runQuantizeJob's result for `job`, computed on the device where a kernel covers it. */
export async function runQuantizeJobGpu(ctx: GpuContext, job: QuantizeJob, cancel?: CancelSignal): Promise<QuantizeJobResult> {
  const reason = cpuReason(ctx, job);
  if (reason) return runQuantizeJob(job, cpuUse('webgpu', reason));
  if (job.method === 'rtn') {
    assertFiniteWeight(job.weight, 'RTN');
    const { rows, cols } = job.weight;
    const grid = await quantGridGpu(ctx, job.weight, job.grid, job.granularity);
    const { groupSize, groups, scales, zeroPoints } = grid.params;
    const quantized = { rows, cols, bits: job.grid.bits, symmetric: job.grid.symmetric, groupSize, groups, codes: grid.codes, scales, zeroPoints: Uint8Array.from(zeroPoints) };
    return { weight: { rows, cols, data: grid.dequantized }, quantized, backend: onGpu() };
  }
  const result = await gptqQuantizeGpu(ctx, job.weight, job.hessian, job.options, () => throwIfCancelled(cancel, 'quantization'));
  const fitted = job.options.granularity.kind !== 'group' || job.options.staticGroups ? ['quantiser fit before the sweep'] : [];
  return { weight: result.weight, quantized: result.quantized, backend: onGpu('H⁻¹ Cholesky in float64', ...fitted) };
}
