// evaluate() with a hand-written runner whose exact metrics are known in closed form: checks the
// input/target shift, batching, progress and cancellation independently of ORT.
import { describe, expect, test } from 'vitest';
import { evaluate, evaluateWithSamples } from './evaluate';
import { Cancelled } from '../job/cancel';
import type { HostTensor, ModelRunner } from './runner';
import type { ImageDataset, LmTokenDataset } from './datasets';

const V = 5;
/** Predicts token (x + 1) mod V with logit 2 over 0 elsewhere, from int64 ids [b, t]. */
const successorRunner: ModelRunner = {
  inputNames: ['input_ids'],
  outputNames: ['logits'],
  backend: 'wasm',
  async run(feeds: Record<string, HostTensor>) {
    const ids = feeds.input_ids.data as BigInt64Array;
    const logits = new Float32Array(ids.length * V);
    ids.forEach((x, i) => (logits[i * V + ((Number(x) + 1) % V)] = 2));
    return { logits: { dtype: 'float32', dims: [...feeds.input_ids.dims, V], data: logits } };
  },
  release: async () => {},
};

// Sequences where every next token is the successor except the last step of each sequence.
const dataset: LmTokenDataset = { kind: 'lm-tokens', seqLen: 4, sequences: [[0, 1, 2, 3, 4], [1, 2, 3, 4, 4], [2, 3, 4, 0, 1]] };

describe('evaluate (causal LM)', () => {
  test('computes NLL over shifted targets exactly, whatever the batch size', async () => {
    const hitNll = Math.log(Math.exp(2) + 4) - 2;
    const missNll = Math.log(Math.exp(2) + 4);
    // 12 predictions: sequence 2 misses its last step (4 → 4); all others hit.
    const expectedMean = (11 * hitNll + missNll) / 12;
    for (const batchSize of [1, 2, 8]) {
      const m = await evaluate(successorRunner, dataset, { batchSize });
      if (m.task !== 'causal-lm') throw new Error('wrong task');
      expect(m.evalTokens).toBe(12);
      expect(m.top1).toBe(11 / 12);
      expect(Math.abs(m.meanNll - expectedMean)).toBeLessThan(1e-12);
      expect(Math.abs(m.perplexity - Math.exp(expectedMean))).toBeLessThan(1e-12);
    }
  });

  test('reports progress per batch and stops when cancelled', async () => {
    const seen: number[] = [];
    const cancel = { aborted: false };
    const run = evaluate(successorRunner, dataset, {
      batchSize: 1,
      cancel,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done === 1) cancel.aborted = true;
      },
    });
    await expect(run).rejects.toBeInstanceOf(Cancelled);
    expect(seen).toEqual([0, 1]);
  });
});

describe('evaluateWithSamples', () => {
  test('keeps per-sequence summed NLL and token counts that add up to the metrics, whatever the batch size', async () => {
    const hitNll = Math.log(Math.exp(2) + 4) - 2;
    const missNll = Math.log(Math.exp(2) + 4);
    for (const batchSize of [1, 2, 8]) {
      const { metrics, samples } = await evaluateWithSamples(successorRunner, dataset, { batchSize });
      if (samples.task !== 'causal-lm') throw new Error('wrong task');
      expect(Array.from(samples.tokens)).toEqual([4, 4, 4]);
      const expected = [4 * hitNll, 3 * hitNll + missNll, 4 * hitNll];
      samples.nll.forEach((x, i) => expect(Math.abs(x - expected[i])).toBeLessThan(1e-12));
      expect(metrics).toEqual(await evaluate(successorRunner, dataset, { batchSize }));
    }
  });
});

describe('evaluateWithSamples (classifier)', () => {
  // One-pixel images; the runner puts logit 3 on class (pixel mod 3) of 3 classes.
  const images: ImageDataset = { kind: 'image-classification', shape: [1], preprocess: { divide: 1 }, images: [[0], [1], [2], [4], [5]], labels: [0, 2, 2, 1, 0] };
  const runner: ModelRunner = {
    inputNames: ['pixels'],
    outputNames: ['logits'],
    backend: 'wasm',
    async run(feeds: Record<string, HostTensor>) {
      const pixels = feeds.pixels.data as Float32Array;
      const logits = new Float32Array(pixels.length * 3);
      pixels.forEach((x, i) => (logits[i * 3 + (x % 3)] = 3));
      return { logits: { dtype: 'float32', dims: [pixels.length, 3], data: logits } };
    },
    release: async () => {},
  };

  test('keeps each image’s hit and NLL, in set order, whatever the batch size', async () => {
    const hit = Math.log(Math.exp(3) + 2) - 3;
    const miss = Math.log(Math.exp(3) + 2);
    for (const batchSize of [1, 2, 8]) {
      const { metrics, samples } = await evaluateWithSamples(runner, images, { batchSize });
      if (samples.task !== 'image-classification') throw new Error('wrong task');
      expect(Array.from(samples.correct)).toEqual([1, 0, 1, 1, 0]);
      samples.nll.forEach((x, i) => expect(Math.abs(x - [hit, miss, hit, hit, miss][i])).toBeLessThan(1e-12));
      expect(metrics).toMatchObject({ task: 'image-classification', top1: 3 / 5, evalSamples: 5 });
    }
  });
});
