// Runs a dataset through a ModelRunner and accumulates the task's metrics. Framework-free: the
// same function runs in the CLI, in Node tests and in the evaluation worker.
import type { Dataset, ImageDataset, LmTokenDataset } from './datasets';
import { NllAccumulator, type EvalMetrics } from './metrics';
import type { HostTensor, ModelRunner } from './runner';
import { throwIfCancelled, type CancelSignal } from '../job/cancel';
import type { ProgressListener } from '../job/progress';

export interface EvalOptions {
  batchSize?: number;
  onProgress?: ProgressListener;
  cancel?: CancelSignal;
}

export async function evaluate(runner: ModelRunner, dataset: Dataset, options: EvalOptions = {}): Promise<EvalMetrics> {
  return dataset.kind === 'lm-tokens' ? evaluateLm(runner, dataset, options) : evaluateClassifier(runner, dataset, options);
}

function firstFloatOutput(runner: ModelRunner, outputs: Record<string, HostTensor>): HostTensor {
  const out = outputs[runner.outputNames[0]];
  if (!out || out.dtype !== 'float32') throw new Error(`Model output "${runner.outputNames[0]}" is not a float32 tensor`);
  return out;
}

async function forEachBatch(total: number, options: EvalOptions, body: (start: number, end: number) => Promise<void>): Promise<void> {
  const batchSize = options.batchSize ?? 8;
  options.onProgress?.({ phase: 'evaluate', label: 'Evaluating', done: 0, total });
  for (let start = 0; start < total; start += batchSize) {
    throwIfCancelled(options.cancel, 'evaluation');
    const end = Math.min(total, start + batchSize);
    await body(start, end);
    options.onProgress?.({ phase: 'evaluate', label: 'Evaluating', done: end, total });
  }
}

async function evaluateLm(runner: ModelRunner, dataset: LmTokenDataset, options: EvalOptions): Promise<EvalMetrics> {
  const acc = new NllAccumulator();
  const T = dataset.seqLen;
  await forEachBatch(dataset.sequences.length, options, async (start, end) => {
    const batch = dataset.sequences.slice(start, end);
    const ids = new BigInt64Array(batch.length * T);
    const targets = new Int32Array(batch.length * T);
    batch.forEach((seq, b) => {
      for (let t = 0; t < T; t++) {
        ids[b * T + t] = BigInt(seq[t]);
        targets[b * T + t] = seq[t + 1];
      }
    });
    const outputs = await runner.run({ [runner.inputNames[0]]: { dtype: 'int64', dims: [batch.length, T], data: ids } });
    const logits = firstFloatOutput(runner, outputs);
    const vocab = logits.dims[logits.dims.length - 1];
    acc.addRows(logits.data as Float32Array, vocab, targets);
  });
  return acc.lmMetrics();
}

async function evaluateClassifier(runner: ModelRunner, dataset: ImageDataset, options: EvalOptions): Promise<EvalMetrics> {
  const acc = new NllAccumulator();
  const size = dataset.shape.reduce((a, b) => a * b, 1);
  const divide = dataset.preprocess.divide;
  await forEachBatch(dataset.images.length, options, async (start, end) => {
    const pixels = new Float32Array((end - start) * size);
    for (let i = start; i < end; i++) {
      const img = dataset.images[i];
      for (let k = 0; k < size; k++) pixels[(i - start) * size + k] = img[k] / divide;
    }
    const outputs = await runner.run({
      [runner.inputNames[0]]: { dtype: 'float32', dims: [end - start, ...dataset.shape], data: pixels },
    });
    const logits = firstFloatOutput(runner, outputs);
    acc.addRows(logits.data as Float32Array, logits.dims[logits.dims.length - 1], dataset.labels.slice(start, end));
  });
  return acc.classificationMetrics();
}
