// Times the dense, 2:4 and block-sparse matmul kernels on this browser's WebGPU adapter
// (src/core/gpu/sparseSpeed.ts) for the panel "Does sparsity buy speed?", off the main thread.
// One request per worker; it reports the adapter first, then each layer shape as it is measured.
import { measureSparseSpeed, type LayerShape, type ShapeTiming, type SparseSpeedOptions } from '../src/core/gpu/sparseSpeed';
import { adapterName, classifyAdapter } from '../src/runtime/adapter';
import { workerGpu } from './gpuDevice';

export interface SparseSpeedRequest {
  jobId: number;
  shapes: LayerShape[];
  options: SparseSpeedOptions;
}

export type SparseSpeedResponse =
  | { jobId: number; type: 'adapter'; adapter: string; software: boolean }
  | { jobId: number; type: 'shape'; timing: ShapeTiming }
  | { jobId: number; type: 'done' }
  | { jobId: number; type: 'unavailable'; reason: string }
  | { jobId: number; type: 'error'; message: string };

const post = (message: SparseSpeedResponse) => (self as unknown as Worker).postMessage(message);

/** The adapter's name and whether it is a software (CPU) one: from the device, else from a second adapter request. */
async function describeAdapter(device: GPUDevice): Promise<{ adapter: string; software: boolean }> {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? (await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter())?.info;
  const verdict = classifyAdapter(info ?? {});
  return { adapter: adapterName(info) + (info?.vendor && !adapterName(info).includes(info.vendor) ? ` (${info.vendor})` : ''), software: verdict.kind === 'software' };
}

self.onmessage = async (event: MessageEvent<SparseSpeedRequest>) => {
  const { jobId, shapes, options } = event.data;
  try {
    const gpu = await workerGpu('sparse speed worker');
    if (!('ctx' in gpu)) return post({ jobId, type: 'unavailable', reason: gpu.reason });
    post({ jobId, type: 'adapter', ...(await describeAdapter(gpu.ctx.device)) });
    await measureSparseSpeed(gpu.ctx, shapes, options, (timing) => post({ jobId, type: 'shape', timing }));
    post({ jobId, type: 'done' });
  } catch (e) {
    post({ jobId, type: 'error', message: (e as Error).message ?? String(e) });
  }
};
