// Owns the model worker. Turns the message protocol into promises with progress callbacks; a
// response for a job nobody waits for any more (stale) is dropped.
import type { EvalResult, JobId, LoadResult, WorkerRequest, WorkerResponse } from '../../workers/protocol';

type Pending = {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  onProgress?: (done: number, total: number, stage: string) => void;
};

export class JobCancelled extends Error {
  override name = 'JobCancelled';
}

type RequestBody<T extends WorkerRequest['type']> = Omit<Extract<WorkerRequest, { type: T }>, 'jobId' | 'type'>;

export class ModelWorkerService {
  private worker: Worker;
  private nextJobId = 1;
  private pending = new Map<JobId, Pending>();

  constructor() {
    this.worker = new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module', name: 'model-worker' });
    this.worker.onmessage = (e: MessageEvent<WorkerResponse>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new Error(`The model worker crashed: ${e.message}`));
      this.pending.clear();
    };
  }

  private receive(msg: WorkerResponse): void {
    const job = this.pending.get(msg.jobId);
    if (!job) return;
    if (msg.type === 'progress') return job.onProgress?.(msg.done, msg.total, msg.stage);
    this.pending.delete(msg.jobId);
    if (msg.type === 'loaded' || msg.type === 'evaluated') (job.resolve as (v: unknown) => void)(msg.result);
    else if (msg.type === 'cancelled') job.reject(new JobCancelled('Cancelled'));
    else {
      const err = new Error(msg.message);
      err.name = msg.errorName;
      job.reject(err);
    }
  }

  private submit<T>(request: WorkerRequest, onProgress?: Pending['onProgress'], transfer: Transferable[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(request.jobId, { resolve: resolve as (v: never) => void, reject, onProgress });
      this.worker.postMessage(request, transfer);
    });
  }

  load(body: RequestBody<'load'>): { jobId: JobId; done: Promise<LoadResult> } {
    const jobId = this.nextJobId++;
    const transfer = [body.bytes, ...(body.sideFiles ?? []).map((f) => f.bytes)];
    return { jobId, done: this.submit<LoadResult>({ type: 'load', jobId, ...body }, undefined, transfer) };
  }

  evaluate(body: RequestBody<'evaluate'>, onProgress: Pending['onProgress']): { jobId: JobId; done: Promise<EvalResult> } {
    const jobId = this.nextJobId++;
    return { jobId, done: this.submit<EvalResult>({ type: 'evaluate', jobId, ...body }, onProgress) };
  }

  cancel(jobId: JobId): void {
    this.worker.postMessage({ type: 'cancel', jobId } satisfies WorkerRequest);
  }
}
