// How dataset items become model inputs and logits come back, shared by evaluate() and the
// teaching views (predictImages, generate), so the preprocessing lives in exactly one place.
import type { ImageDataset } from './datasets';
import type { HostTensor } from './runner';

/**
 * Images `indices` of an image set as one float32 batch [n, ...shape]: raw / preprocess.divide,
 * the set's own rule (see parsePreprocess for why it travels with the set).
 */
export function imageBatch(dataset: ImageDataset, indices: readonly number[]): HostTensor {
  const size = dataset.shape.reduce((a, b) => a * b, 1);
  const divide = dataset.preprocess.divide;
  const pixels = new Float32Array(indices.length * size);
  indices.forEach((index, row) => {
    const image = dataset.images[index];
    if (!image) throw new RangeError(`image ${index} is not in the set (0..${dataset.images.length - 1})`);
    for (let k = 0; k < size; k++) pixels[row * size + k] = image[k] / divide;
  });
  return { dtype: 'float32', dims: [indices.length, ...dataset.shape], data: pixels };
}

/** Token ids as the int64 batch [rows, length] a causal LM takes. */
export function tokenBatch(rows: readonly (readonly number[])[], length: number): HostTensor {
  const ids = new BigInt64Array(rows.length * length);
  rows.forEach((row, b) => {
    for (let t = 0; t < length; t++) ids[b * length + t] = BigInt(row[t]);
  });
  return { dtype: 'int64', dims: [rows.length, length], data: ids };
}
