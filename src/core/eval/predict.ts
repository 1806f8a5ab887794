// Per-image predictions of a classifier, for the teaching grid that shows where a compressed
// model's answers differ from the dense one's. Inputs are built exactly as evaluate() builds
// them (inputs.ts imageBatch), so a grid and the accuracy above it can never disagree.
import type { ImageDataset } from './datasets';
import { imageBatch } from './inputs';
import { logitsOf } from './lmInputs';
import { scoreRow } from './metrics';
import type { ModelRunner } from './runner';
import { throwIfCancelled, type CancelSignal } from '../job/cancel';

export interface ImagePrediction {
  /** The image's index in the set. */
  index: number;
  label: number;
  /** The arg max class (ties to the lowest class, as in the accuracy). */
  predicted: number;
  /** The model's softmax probability of `predicted`. */
  probability: number;
}

export interface PredictOptions {
  batchSize?: number;
  cancel?: CancelSignal;
}

export async function predictImages(runner: ModelRunner, dataset: ImageDataset, indices: readonly number[], options: PredictOptions = {}): Promise<ImagePrediction[]> {
  const batchSize = options.batchSize ?? 16;
  const predictions: ImagePrediction[] = [];
  for (let start = 0; start < indices.length; start += batchSize) {
    throwIfCancelled(options.cancel, 'prediction');
    const batch = indices.slice(start, start + batchSize);
    const logits = logitsOf(runner, await runner.run({ [runner.inputNames[0]]: imageBatch(dataset, batch) })); // (n, C)
    const classes = logits.dims[logits.dims.length - 1];
    const data = logits.data as Float32Array;
    if (data.length !== batch.length * classes) throw new Error(`expected logits [${batch.length}, classes], got [${logits.dims.join(', ')}]`);
    batch.forEach((index, row) => {
      const { argmax } = scoreRow(data, row * classes, classes, 0);
      const probability = Math.exp(-scoreRow(data, row * classes, classes, argmax).nll);
      predictions.push({ index, label: dataset.labels[index], predicted: argmax, probability });
    });
  }
  return predictions;
}

/** The images whose predicted class differs between two prediction lists over the same indices. */
export function changedPredictions(before: readonly ImagePrediction[], after: readonly ImagePrediction[]): number[] {
  if (before.length !== after.length || before.some((p, i) => p.index !== after[i].index))
    throw new Error('changedPredictions: the two lists must cover the same images in the same order');
  return before.filter((p, i) => p.predicted !== after[i].predicted).map((p) => p.index);
}
