// Calibration samples as model inputs, the same way evaluate() feeds them (both use
// eval/inputs.ts): LM sequences give their first seqLen ids as int64 [batch, T]; images are
// divided by their set's preprocess factor and fed as float32 [batch, ...shape].
import type { Dataset } from '../eval/datasets.ts';
import { imageBatch, tokenBatch } from '../eval/inputs.ts';
import type { HostTensor } from '../eval/runner.ts';

/** Model inputs for the samples `indices` of `dataset`, fed to `inputName`. */
export function calibrationFeeds(dataset: Dataset, indices: readonly number[], inputName: string): Record<string, HostTensor> {
  if (dataset.kind === 'lm-tokens') {
    return { [inputName]: tokenBatch(indices.map((sample) => dataset.sequences[sample]), dataset.seqLen) };
  }
  return { [inputName]: imageBatch(dataset, indices) };
}
