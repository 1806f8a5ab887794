// Handing jobs to `pruneLayer`: all at once (a worker pool decides how many run together), each
// after a macrotask so that a cancel request (a message event) can land between in-process jobs,
// and results returned in job order whatever order they finish in.
import { throwIfCancelled, type CancelSignal } from '../job/cancel.ts';
import type { PruneJob, PruneJobResult, PruneLayerFn } from './jobs.ts';

export interface DispatchOptions {
  cancel?: CancelSignal;
  onDone?: (result: PruneJobResult, done: number) => void;
}

const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function dispatchJobs(jobs: readonly PruneJob[], pruneLayer: PruneLayerFn, options: DispatchOptions = {}): Promise<PruneJobResult[]> {
  let done = 0;
  const results = await Promise.all(
    jobs.map(async (job) => {
      await macrotask();
      throwIfCancelled(options.cancel, 'layer jobs');
      const result = await pruneLayer(job);
      if (result.index !== job.index || result.layerId !== job.layerId) {
        throw new Error(`pruneLayer answered job ${job.index} (${job.layerId}) with the result of job ${result.index} (${result.layerId})`);
      }
      options.onDone?.(result, ++done);
      return result;
    }),
  );
  throwIfCancelled(options.cancel, 'layer jobs');
  return results;
}
