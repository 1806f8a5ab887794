// A pool worker: runs one layer's job at a time — a PruneJob, or a quantize stage's RTN / GPTQ
// QuantizeJob — on WebGPU when asked and available, else on the CPU path, and says which ran
// (PruneJobResult.ran, QuantizeJobResult.backend), with the reason when it is not what was asked.
import { runPruneJob, runQuantizeJob, type PruneJob, type PruneJobResult, type QuantizeJob, type QuantizeJobResult } from '../src/core/compress';
import { cpuUse, type ComputeBackend } from '../src/core/job';
import { runPruneJobGpu } from '../src/core/compress/gpuJobs';
import { runQuantizeJobGpu } from '../src/core/compress/gpuQuantJobs';
import { workerGpu } from './gpuDevice';
import type { PoolResponse } from './pool';

export type PruneLayerRequest =
  | { jobId: number; kind?: 'prune'; job: PruneJob; backend: ComputeBackend }
  | { jobId: number; kind: 'quantize'; job: QuantizeJob; backend: ComputeBackend };

export type PruneLayerResponse = { kind: 'prune'; result: PruneJobResult } | { kind: 'quantize'; result: QuantizeJobResult };

function post(msg: PoolResponse<PruneLayerResponse>, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

async function runJob(request: PruneLayerRequest): Promise<PruneLayerResponse> {
  const gpu = request.backend === 'webgpu' ? await workerGpu('prune worker') : null;
  const fallback = gpu && !('ctx' in gpu) ? cpuUse('webgpu', gpu.reason) : undefined;
  if (request.kind === 'quantize') {
    const result = gpu && 'ctx' in gpu ? await runQuantizeJobGpu(gpu.ctx, request.job) : runQuantizeJob(request.job, fallback);
    return { kind: 'quantize', result };
  }
  const result = gpu && 'ctx' in gpu ? await runPruneJobGpu(gpu.ctx, request.job) : runPruneJob(request.job, fallback);
  return { kind: 'prune', result };
}

self.onmessage = async (event: MessageEvent<PruneLayerRequest>) => {
  const { jobId } = event.data;
  try {
    const response = await runJob(event.data);
    // Prune results hand their buffers over; quantize results are copied (their tables may share buffers).
    post({ jobId, type: 'result', result: response }, response.kind === 'prune' ? [response.result.weight.data.buffer, response.result.keep.data.buffer] : []);
  } catch (e) {
    post({ jobId, type: 'error', message: (e as Error).message });
  }
};
