// Runs a dataset through a ModelRunner and accumulates the task's metrics. Framework-free: the
// same function runs in the CLI, in Node tests and in the evaluation worker.
import type { Dataset, ImageDataset, LmTokenDataset } from './datasets';
import { imageBatch } from './inputs';
import { lmFeeds, logitsOf, logitsOutputName, runnerLmInputs } from './lmInputs';
import { NllAccumulator, type EvalMetrics } from './metrics';
import type { ModelRunner } from './runner';
import type { ClassifierSampleValues, LmSampleValues, SampleValues } from './samples';
import { throwIfCancelled, type CancelSignal } from '../job/cancel';
import type { ProgressListener } from '../job/progress';

export interface EvalOptions {
  batchSize?: number;
  onProgress?: ProgressListener;
  cancel?: CancelSignal;
}

export interface EvalWithSamples {
  metrics: EvalMetrics;
  /** The same rows, kept per sample (sequence or image) for paired comparisons. */
  samples: SampleValues;
}

export async function evaluate(runner: ModelRunner, dataset: Dataset, options: EvalOptions = {}): Promise<EvalMetrics> {
  return (await evaluateWithSamples(runner, dataset, options)).metrics;
}

/** evaluate(), plus the per-sample values it summed (the metrics are the same numbers). */
export async function evaluateWithSamples(runner: ModelRunner, dataset: Dataset, options: EvalOptions = {}): Promise<EvalWithSamples> {
  return dataset.kind === 'lm-tokens' ? evaluateLm(runner, dataset, options) : evaluateClassifier(runner, dataset, options);
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

async function evaluateLm(runner: ModelRunner, dataset: LmTokenDataset, options: EvalOptions): Promise<EvalWithSamples> {
  const acc = new NllAccumulator();
  const T = dataset.seqLen;
  const samples: LmSampleValues = { task: 'causal-lm', nll: new Float64Array(dataset.sequences.length), tokens: new Int32Array(dataset.sequences.length).fill(T) };
  // Every input the model takes (mask, positions, an empty cache), but only the logits fetched.
  const plan = runnerLmInputs(runner);
  const fetches = [logitsOutputName(runner)];
  await forEachBatch(dataset.sequences.length, options, async (start, end) => {
    const batch = dataset.sequences.slice(start, end);
    const targets = new Int32Array(batch.length * T);
    batch.forEach((seq, b) => {
      for (let t = 0; t < T; t++) targets[b * T + t] = seq[t + 1];
    });
    const logits = logitsOf(runner, await runner.run(lmFeeds(plan, batch, T), fetches));
    const vocab = logits.dims[logits.dims.length - 1];
    // Row r of the batch is position r % T of sequence start + ⌊r / T⌋.
    acc.addRows(logits.data as Float32Array, vocab, targets, (r, nll) => (samples.nll[start + Math.floor(r / T)] += nll));
  });
  return { metrics: acc.lmMetrics(), samples };
}

async function evaluateClassifier(runner: ModelRunner, dataset: ImageDataset, options: EvalOptions): Promise<EvalWithSamples> {
  const acc = new NllAccumulator();
  const n = dataset.images.length;
  const samples: ClassifierSampleValues = { task: 'image-classification', correct: new Uint8Array(n), nll: new Float64Array(n) };
  await forEachBatch(dataset.images.length, options, async (start, end) => {
    const indices = Array.from({ length: end - start }, (_, i) => start + i);
    const outputs = await runner.run({ [runner.inputNames[0]]: imageBatch(dataset, indices) });
    const logits = logitsOf(runner, outputs);
    acc.addRows(logits.data as Float32Array, logits.dims[logits.dims.length - 1], dataset.labels.slice(start, end), (r, nll, hit) => {
      samples.nll[start + r] = nll;
      samples.correct[start + r] = hit ? 1 : 0;
    });
  });
  return { metrics: acc.classificationMetrics(), samples };
}
