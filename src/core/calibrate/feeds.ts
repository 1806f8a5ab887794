// Calibration samples as model inputs, the same way evaluate() feeds them: LM sequences give
// their first seqLen ids as int64 [batch, T]; images are divided by their set's preprocess
// factor and fed as float32 [batch, ...shape].
import type { Dataset } from '../eval/datasets.ts';
import type { HostTensor } from '../eval/runner.ts';

/** Model inputs for the samples `indices` of `dataset`, fed to `inputName`. */
export function calibrationFeeds(dataset: Dataset, indices: readonly number[], inputName: string): Record<string, HostTensor> {
  if (dataset.kind === 'lm-tokens') {
    const T = dataset.seqLen;
    const ids = new BigInt64Array(indices.length * T);
    indices.forEach((sample, b) => {
      const sequence = dataset.sequences[sample];
      for (let t = 0; t < T; t++) ids[b * T + t] = BigInt(sequence[t]);
    });
    return { [inputName]: { dtype: 'int64', dims: [indices.length, T], data: ids } };
  }
  const size = dataset.shape.reduce((a, b) => a * b, 1);
  const divide = dataset.preprocess.divide;
  const pixels = new Float32Array(indices.length * size);
  indices.forEach((sample, b) => {
    const image = dataset.images[sample];
    for (let k = 0; k < size; k++) pixels[b * size + k] = image[k] / divide;
  });
  return { [inputName]: { dtype: 'float32', dims: [indices.length, ...dataset.shape], data: pixels } };
}
