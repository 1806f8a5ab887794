// A pool worker: runs one layer's PruneJob at a time, on WebGPU when asked and available, else on
// the CPU reference path — and says which ran, with the reason when it is not what was asked.
import { runPruneJob, type PruneJob, type PruneJobResult, type PruneLayerFn } from '../src/core/compress';
import { gpuPruneLayer } from '../src/core/compress/gpuJobs';
import { GpuContext } from '../src/core/gpu/context';
import type { PoolResponse } from './pool';

export interface PruneLayerRequest {
  jobId: number;
  job: PruneJob;
  backend: 'cpu' | 'webgpu';
}

export interface PruneLayerResponse {
  result: PruneJobResult;
  /** Why a WebGPU request ran on the CPU. */
  fallbackReason?: string;
}

let gpu: Promise<{ run: PruneLayerFn } | { reason: string }> | undefined;

async function openGpu(): Promise<{ run: PruneLayerFn } | { reason: string }> {
  const api = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!api) return { reason: 'this worker has no navigator.gpu (WebGPU not available)' };
  const adapter = await api.requestAdapter();
  if (!adapter) return { reason: 'navigator.gpu.requestAdapter() returned no adapter' };
  const device = await adapter.requestDevice({
    label: 'lab prune worker',
    requiredLimits: { maxComputeInvocationsPerWorkgroup: Math.min(256, adapter.limits.maxComputeInvocationsPerWorkgroup) },
  });
  return { run: gpuPruneLayer(new GpuContext(device)) };
}

function post(msg: PoolResponse<PruneLayerResponse>, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

self.onmessage = async (event: MessageEvent<PruneLayerRequest>) => {
  const { jobId, job, backend } = event.data;
  try {
    let response: PruneLayerResponse;
    if (backend === 'webgpu') {
      gpu ??= openGpu().catch((e: Error) => ({ reason: `WebGPU device failed: ${e.message}` }));
      const opened = await gpu;
      response = 'run' in opened ? { result: await opened.run(job) } : { result: runPruneJob(job), fallbackReason: opened.reason };
    } else {
      response = { result: runPruneJob(job) };
    }
    post({ jobId, type: 'result', result: response }, [response.result.weight.data.buffer, response.result.keep.data.buffer]);
  } catch (e) {
    post({ jobId, type: 'error', message: (e as Error).message });
  }
};
