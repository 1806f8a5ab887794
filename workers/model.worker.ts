// The model worker: parses and analyses a model, then evaluates it through onnxruntime-web, off
// the main thread. It keeps the current model's bytes and one session per backend.
import { externalDataRefs, readModel, resolveExternalData, writeModel } from '../src/core/onnx';
import { analyzeModel } from '../src/core/model';
import { evaluate, EvalCancelled } from '../src/core/eval/evaluate';
import type { Backend, ModelRunner } from '../src/core/eval/runner';
import { createRunner } from '../src/runtime/ort';
import type { WorkerRequest, WorkerResponse } from './protocol';

interface LoadedModel {
  bytes: Uint8Array;
  runners: Map<string, { runner: ModelRunner; fallbackReason?: string; used: Backend }>;
}

let current: LoadedModel | undefined;
const cancelled = new Set<number>();

function post(msg: WorkerResponse): void {
  (self as unknown as Worker).postMessage(msg);
}

async function handleLoad(req: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  let bytes: Uint8Array = new Uint8Array(req.bytes);
  const t0 = performance.now();
  const model = readModel(bytes);
  const external = [...new Set(externalDataRefs(model).map((r) => r.location))];
  let sizeBytes = bytes.byteLength;
  if (external.length > 0) {
    const sideFiles = new Map((req.sideFiles ?? []).map((f) => [f.name, new Uint8Array(f.bytes)]));
    resolveExternalData(model, sideFiles); // throws naming every missing file
    // ORT gets one self-contained model; the analysis and size count the side files.
    bytes = writeModel(model);
    sizeBytes += [...sideFiles.values()].reduce((sum, f) => sum + f.byteLength, 0);
  }
  const analysis = analyzeModel(model);
  const parseMs = performance.now() - t0;
  // Only replace the current model once the new one parsed: a bad file loses nothing.
  if (current) for (const { runner } of current.runners.values()) await runner.release();
  current = { bytes, runners: new Map() };
  post({ type: 'loaded', jobId: req.jobId, result: { analysis, sizeBytes, externalFiles: external, parseMs } });
}

async function handleEvaluate(req: Extract<WorkerRequest, { type: 'evaluate' }>): Promise<void> {
  if (!current) throw new Error('No model is loaded');
  const model = current;
  post({ type: 'progress', jobId: req.jobId, done: 0, total: 1, stage: 'Creating inference session' });
  const t0 = performance.now();
  let entry = model.runners.get(req.backend);
  if (!entry) {
    const { runner, report } = await createRunner(model.bytes, { backend: req.backend, numThreads: req.numThreads, wasmPaths: req.wasmPaths });
    entry = { runner, used: report.used, fallbackReason: report.fallbackReason };
    model.runners.set(req.backend, entry);
  }
  const t1 = performance.now();
  const metrics = await evaluate(entry.runner, req.dataset, {
    preprocess: req.preprocess,
    cancel: { get aborted() { return cancelled.has(req.jobId); } },
    onProgress: (p) => post({ type: 'progress', jobId: req.jobId, done: p.done, total: p.total, stage: 'Evaluating' }),
  });
  post({
    type: 'evaluated',
    jobId: req.jobId,
    result: {
      metrics,
      backend: { requested: req.backend, used: entry.used, fallbackReason: entry.fallbackReason },
      sessionMs: t1 - t0,
      evalMs: performance.now() - t1,
    },
  });
}

// Jobs run one at a time; a cancel message arrives between batches because evaluate() awaits.
let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const req = event.data;
  if (req.type === 'cancel') {
    cancelled.add(req.jobId);
    return;
  }
  queue = queue.then(async () => {
    try {
      if (cancelled.has(req.jobId)) throw new EvalCancelled();
      if (req.type === 'load') await handleLoad(req);
      else await handleEvaluate(req);
    } catch (e) {
      if (e instanceof EvalCancelled) post({ type: 'cancelled', jobId: req.jobId });
      else post({ type: 'error', jobId: req.jobId, message: (e as Error).message ?? String(e), errorName: (e as Error).name ?? 'Error' });
    } finally {
      cancelled.delete(req.jobId);
    }
  });
};
