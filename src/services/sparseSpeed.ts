// Runs one sparse-speed measurement in its own worker (workers/sparseSpeed.worker.ts) and ends
// the worker when it is done, so the GPU device it opened goes with it.
import type { LayerShape, ShapeTiming, SparseSpeedOptions } from '../core/gpu/sparseSpeed';
import type { SparseSpeedRequest, SparseSpeedResponse } from '../../workers/sparseSpeed.worker';

export interface SparseSpeedCallbacks {
  onAdapter: (adapter: string, software: boolean) => void;
  onShape: (timing: ShapeTiming) => void;
}

/** Resolves when every shape is measured; rejects with the worker's message, or the reason there is no WebGPU. */
export function measureInWorker(shapes: LayerShape[], options: SparseSpeedOptions, callbacks: SparseSpeedCallbacks): Promise<void> {
  const worker = new Worker(new URL('../../workers/sparseSpeed.worker.ts', import.meta.url), { type: 'module', name: 'sparse-speed-worker' });
  const jobId = 1;
  return new Promise<void>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<SparseSpeedResponse>) => {
      const message = e.data;
      if (message.jobId !== jobId) return;
      if (message.type === 'adapter') callbacks.onAdapter(message.adapter, message.software);
      else if (message.type === 'shape') callbacks.onShape(message.timing);
      else if (message.type === 'done') resolve();
      else reject(new NoWebGpu(message.type === 'unavailable' ? message.reason : message.message, message.type === 'unavailable'));
    };
    worker.onerror = (e) => reject(new NoWebGpu(`the sparse speed worker crashed: ${e.message}`, false));
    worker.postMessage({ jobId, shapes, options } satisfies SparseSpeedRequest);
  }).finally(() => worker.terminate());
}

/** Why nothing was measured; `unavailable` when this browser has no usable WebGPU at all. */
export class NoWebGpu extends Error {
  override name = 'NoWebGpu';
  constructor(
    message: string,
    readonly unavailable: boolean,
  ) {
    super(message);
  }
}
