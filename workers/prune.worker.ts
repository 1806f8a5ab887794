// A pool worker: runs one layer's PruneJob at a time, on WebGPU when asked and available, else on
// the CPU reference path — and says which ran (PruneJobResult.ran), with the reason when it is not
// what was asked.
import { runPruneJob, type PruneJob, type PruneJobResult } from '../src/core/compress';
import { cpuUse, type ComputeBackend } from '../src/core/job';
import { runPruneJobGpu } from '../src/core/compress/gpuJobs';
import { workerGpu } from './gpuDevice';
import type { PoolResponse } from './pool';

export interface PruneLayerRequest {
  jobId: number;
  job: PruneJob;
  backend: ComputeBackend;
}

export interface PruneLayerResponse {
  result: PruneJobResult;
}

function post(msg: PoolResponse<PruneLayerResponse>, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

self.onmessage = async (event: MessageEvent<PruneLayerRequest>) => {
  const { jobId, job, backend } = event.data;
  try {
    let response: PruneLayerResponse;
    if (backend === 'webgpu') {
      const gpu = await workerGpu('prune worker');
      response = { result: 'ctx' in gpu ? await runPruneJobGpu(gpu.ctx, job) : runPruneJob(job, cpuUse('webgpu', gpu.reason)) };
    } else {
      response = { result: runPruneJob(job) };
    }
    post({ jobId, type: 'result', result: response }, [response.result.weight.data.buffer, response.result.keep.data.buffer]);
  } catch (e) {
    post({ jobId, type: 'error', message: (e as Error).message });
  }
};
