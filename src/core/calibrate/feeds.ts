// Calibration samples as model inputs, the same way evaluate() feeds them (both use
// eval/inputs.ts and eval/lmInputs.ts): LM sequences give their first seqLen ids as int64
// [batch, T], with whatever else the model takes (mask, positions, an empty KV cache); images are
// divided by their set's preprocess factor and fed as float32 [batch, ...shape] to the first input.
import type { Dataset } from '../eval/datasets.ts';
import { imageBatch } from '../eval/inputs.ts';
import { lmFeeds, requireLmInputs } from '../eval/lmInputs.ts';
import type { HostTensor } from '../eval/runner.ts';
import type { TensorInfo } from '../model/types.ts';

/**
 * Model inputs for the samples `indices` of `dataset`, for a model whose graph inputs are
 * `inputs` (or whose one input is named `inputs`).
 */
export function calibrationFeeds(dataset: Dataset, indices: readonly number[], graphInputs: readonly TensorInfo[] | string): Record<string, HostTensor> {
  const inputs = typeof graphInputs === 'string' ? [{ name: graphInputs, dtype: dataset.kind === 'lm-tokens' ? 'int64' : 'float32', shape: null }] : graphInputs;
  if (dataset.kind === 'lm-tokens') {
    return lmFeeds(requireLmInputs(inputs), indices.map((sample) => dataset.sequences[sample]), dataset.seqLen);
  }
  return { [inputs[0].name]: imageBatch(dataset, indices) };
}
