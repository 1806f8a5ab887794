// One WebGPU device per worker for the lab's kernels, asked for once and asked again after the
// device is lost; or the reason there is none, so the caller can say why it ran on the CPU.
import { GpuContext } from '../src/core/gpu/context';

export type WorkerGpu = { ctx: GpuContext } | { reason: string };

let opened: Promise<WorkerGpu> | undefined;

async function open(label: string): Promise<WorkerGpu> {
  const api = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!api) return { reason: `the ${label} has no navigator.gpu (WebGPU not available)` };
  const adapter = await api.requestAdapter();
  if (!adapter) return { reason: 'navigator.gpu.requestAdapter() returned no adapter' };
  // The kernels use 256-invocation workgroups; compatibility-mode devices default to 128.
  const device = await adapter.requestDevice({
    label,
    requiredLimits: { maxComputeInvocationsPerWorkgroup: Math.min(256, adapter.limits.maxComputeInvocationsPerWorkgroup) },
  });
  device.lost.then(() => (opened = undefined));
  return { ctx: new GpuContext(device) };
}

export function workerGpu(label: string): Promise<WorkerGpu> {
  opened ??= open(label).catch((e: Error) => ({ reason: `WebGPU device failed: ${e.message}` }));
  return opened;
}
