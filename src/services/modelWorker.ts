// Owns the model worker. Turns the message protocol into promises with progress callbacks; a
// response for a job nobody waits for any more (stale) is dropped.
import { Cancelled, type Progress } from '../core/job';
import type { MaskedTextSplit } from '../core/hf/maskedLm';
import type { AttentionResult, CompressResultMessage, EvalResult, GenerateResult, InferenceTiming, JobId, LayerWeights, LoadResult, PredictResult, WorkerRequest, WorkerResponse } from '../../workers/protocol';
import type { LayerQuantInspection } from '../core/compress';
import type { TextSplit } from '../core/hf/textData';

type Pending = {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (p: Progress) => void;
};

type RequestBody<T extends WorkerRequest['type']> = Omit<Extract<WorkerRequest, { type: T }>, 'jobId' | 'type'>;
export interface Job<T> {
  jobId: JobId;
  done: Promise<T>;
}

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
    if (msg.type === 'progress') return job.onProgress?.(msg.progress);
    this.pending.delete(msg.jobId);
    if (msg.type === 'cancelled') job.reject(new Cancelled());
    else if (msg.type === 'error') job.reject(Object.assign(new Error(msg.message), { name: msg.errorName }));
    else job.resolve(msg.result);
  }

  private submit<T>(request: WorkerRequest, onProgress?: Pending['onProgress'], transfer: Transferable[] = []): Job<T> {
    const done = new Promise<T>((resolve, reject) => {
      this.pending.set(request.jobId, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      this.worker.postMessage(request, transfer);
    });
    return { jobId: request.jobId, done };
  }

  load(body: RequestBody<'load'>): Job<LoadResult> {
    const transfer = [body.bytes, ...(body.sideFiles ?? []).map((f) => f.bytes)];
    return this.submit<LoadResult>({ type: 'load', jobId: this.nextJobId++, ...body }, undefined, transfer);
  }

  /** A Hugging Face folder, its Files sent as handles: the worker reads only what it uses. */
  loadFolder(body: RequestBody<'loadFolder'>): Job<LoadResult> {
    return this.submit<LoadResult>({ type: 'loadFolder', jobId: this.nextJobId++, ...body });
  }

  evaluate(body: RequestBody<'evaluate'>, onProgress: Pending['onProgress']): Job<EvalResult> {
    return this.submit<EvalResult>({ type: 'evaluate', jobId: this.nextJobId++, ...body }, onProgress);
  }

  compress(body: RequestBody<'compress'>, onProgress: Pending['onProgress']): Job<CompressResultMessage> {
    return this.submit<CompressResultMessage>({ type: 'compress', jobId: this.nextJobId++, ...body }, onProgress);
  }

  /** Continues a prompt with the loaded model or a run's result; progress counts new tokens. */
  generate(body: RequestBody<'generate'>, onProgress?: Pending['onProgress']): Job<GenerateResult> {
    return this.submit<GenerateResult>({ type: 'generate', jobId: this.nextJobId++, ...body }, onProgress);
  }

  /** Per-image predictions of the loaded classifier or a run's result. */
  predict(body: RequestBody<'predict'>): Job<PredictResult> {
    return this.submit<PredictResult>({ type: 'predict', jobId: this.nextJobId++, ...body });
  }

  /** A layer's keep mask and |w| (both buffers transferred from the worker). */
  mask(body: RequestBody<'mask'>): Job<LayerWeights> {
    return this.submit<LayerWeights>({ type: 'mask', jobId: this.nextJobId++, ...body });
  }

  /** A quantized layer's dense weights, stored values and grid (dense and stored buffers transferred). */
  quantLayer(body: RequestBody<'quantLayer'>): Job<LayerQuantInspection> {
    return this.submit<LayerQuantInspection>({ type: 'quantLayer', jobId: this.nextJobId++, ...body });
  }

  /** Every attention site's maps and statistics for one input, or why they cannot be captured. */
  attention(body: RequestBody<'attention'>): Job<AttentionResult> {
    return this.submit<AttentionResult>({ type: 'attention', jobId: this.nextJobId++, ...body });
  }

  timeInference(body: RequestBody<'timeInference'>): Job<InferenceTiming> {
    return this.submit<InferenceTiming>({ type: 'timeInference', jobId: this.nextJobId++, ...body });
  }

  /** The user's text as calibration and evaluation windows, tokenized with the loaded folder's tokenizer. */
  splitText(body: RequestBody<'splitText'>): Job<TextSplit> {
    return this.submit<TextSplit>({ type: 'splitText', jobId: this.nextJobId++, ...body });
  }

  /** An encoder folder's text as masked windows (BERT's 15 % rule), with its tokenizer. */
  splitMaskedText(body: RequestBody<'splitMaskedText'>): Job<MaskedTextSplit> {
    return this.submit<MaskedTextSplit>({ type: 'splitMaskedText', jobId: this.nextJobId++, ...body });
  }

  encodeText(body: RequestBody<'encodeText'>): Job<number[]> {
    return this.submit<number[]>({ type: 'encodeText', jobId: this.nextJobId++, ...body });
  }

  decodeIds(body: RequestBody<'decodeIds'>): Job<string> {
    return this.submit<string>({ type: 'decodeIds', jobId: this.nextJobId++, ...body });
  }

  warmUp(body: RequestBody<'warmUp'>): Job<{ ms: number }> {
    return this.submit<{ ms: number }>({ type: 'warmUp', jobId: this.nextJobId++, ...body });
  }

  cancel(jobId: JobId): void {
    this.worker.postMessage({ type: 'cancel', jobId } satisfies WorkerRequest);
  }
}
