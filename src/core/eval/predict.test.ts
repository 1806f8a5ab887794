// predictImages() with a runner whose logits are its first input values: checks the shared
// preprocessing (raw / divide), the arg max, the probability and the batching in closed form.
import { describe, expect, test } from 'vitest';
import type { ImageDataset } from './datasets';
import { changedPredictions, predictImages } from './predict';
import type { HostTensor, ModelRunner } from './runner';

const CLASSES = 3;
/** Logits of image b are its first three model inputs (after preprocessing). */
const echoRunner: ModelRunner = {
  inputNames: ['pixels'],
  outputNames: ['logits'],
  backend: 'wasm',
  async run(feeds: Record<string, HostTensor>) {
    const [n, ...shape] = feeds.pixels.dims;
    const size = shape.reduce((a, b) => a * b, 1);
    const x = feeds.pixels.data as Float32Array;
    const logits = new Float32Array(n * CLASSES);
    for (let b = 0; b < n; b++) logits.set(x.subarray(b * size, b * size + CLASSES), b * CLASSES);
    return { logits: { dtype: 'float32', dims: [n, CLASSES], data: logits } };
  },
  release: async () => {},
};

const dataset: ImageDataset = {
  kind: 'image-classification',
  shape: [1, 2, 2],
  preprocess: { divide: 4 },
  images: [
    [8, 4, 0, 0], // inputs [2, 1, 0]: class 0
    [0, 0, 4, 9], // [0, 0, 1]: class 2
    [4, 4, 0, 0], // [1, 1, 0]: a tie, class 0
  ],
  labels: [0, 1, 1],
};

describe('predictImages', () => {
  test('divides by the set\'s preprocess factor and reports arg max and its probability', async () => {
    const out = await predictImages(echoRunner, dataset, [0, 1, 2]);
    expect(out.map(({ index, label, predicted }) => ({ index, label, predicted }))).toEqual([
      { index: 0, label: 0, predicted: 0 },
      { index: 1, label: 1, predicted: 2 },
      { index: 2, label: 1, predicted: 0 },
    ]);
    const e = Math.E;
    const expected = [e * e / (e * e + e + 1), e / (e + 2), e / (2 * e + 1)];
    out.forEach((p, i) => expect(Math.abs(p.probability - expected[i])).toBeLessThan(1e-7));
  });

  test('any order, repeats and batch size give the same per-image answers', async () => {
    const whole = await predictImages(echoRunner, dataset, [2, 0, 1, 2]);
    expect(await predictImages(echoRunner, dataset, [2, 0, 1, 2], { batchSize: 1 })).toEqual(whole);
    expect(whole.map((p) => p.index)).toEqual([2, 0, 1, 2]);
  });

  test('refuses an index outside the set', async () => {
    await expect(predictImages(echoRunner, dataset, [0, 3])).rejects.toThrow('image 3 is not in the set (0..2)');
  });
});

describe('changedPredictions', () => {
  const p = (index: number, predicted: number) => ({ index, label: 0, predicted, probability: 1 });
  test('lists the images whose class changed', () => {
    expect(changedPredictions([p(4, 1), p(7, 2), p(9, 3)], [p(4, 1), p(7, 5), p(9, 0)])).toEqual([7, 9]);
  });
  test('refuses lists over different images', () => {
    expect(() => changedPredictions([p(4, 1)], [p(5, 1)])).toThrow('same images');
  });
});
