// The teaching views' core functions on the bundled models through onnxruntime-web (wasm):
// generate() reproduces, id for id, continuations made by PyTorch with the training script's own
// module (src/core/eval/fixtures/make_generate_fixture.py), and predictImages() agrees with the
// accuracy evaluate() reports.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadModelFromDisk } from '../cli/loadModelDir';
import { cardContextLength } from '../core/catalog/modelCard';
import { CharTokenizer, parseVocab } from '../core/catalog/vocab';
import type { ImageDataset } from '../core/eval/datasets';
import { evaluate } from '../core/eval/evaluate';
import { generate, type DecodingStrategy } from '../core/eval/generate';
import { predictImages } from '../core/eval/predict';
import type { ModelRunner } from '../core/eval/runner';
import { expectClose } from '../core/testing/expectClose';
import { createRunner } from './ort';

interface FixtureCase {
  name: string;
  prompt: string;
  promptIds: number[];
  maxNewTokens: number;
  strategy: DecodingStrategy;
  ids: number[];
  text: string;
  probabilities: number[];
  minMargin: number;
}

const fixture: { contextLength: number; cases: FixtureCase[] } = JSON.parse(readFileSync('src/core/eval/fixtures/generate_kjv_charlm.json', 'utf8'));

describe('generate on kjv-charlm matches PyTorch', () => {
  const model = loadModelFromDisk('public/models/kjv-charlm');
  const tokenizer = new CharTokenizer(parseVocab(JSON.parse(readFileSync('public/models/kjv-charlm/vocab.json', 'utf8')), 'vocab.json'));
  let runner: ModelRunner;
  beforeAll(async () => {
    runner = (await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 })).runner;
  });
  afterAll(() => runner.release());

  test('the fixture used the card\'s context window and the vocabulary\'s ids', () => {
    expect(cardContextLength(model.card!)).toBe(fixture.contextLength);
    for (const c of fixture.cases) {
      expect(tokenizer.encode(c.prompt)).toEqual(c.promptIds);
      expect(tokenizer.decode(c.ids)).toBe(c.text);
    }
  });

  // Identical ids, sampled ones included: every case keeps its top-2 gaps and sampling bucket
  // edges ≥ 1e-4 away (minMargin), far above the ~1e-6 by which ORT and PyTorch logits differ.
  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    expect(c.minMargin).toBeGreaterThanOrEqual(1e-4);
    const out = await generate(runner, { promptIds: c.promptIds, maxNewTokens: c.maxNewTokens, contextLength: fixture.contextLength, strategy: c.strategy });
    expect(tokenizer.decode(out.ids)).toBe(c.text);
    expect(out.ids).toEqual(c.ids);
    expectClose(out.probabilities, c.probabilities, { atol: 1e-5, rtol: 1e-4 }, `${c.name}: probabilities`);
  });
});

describe('predictImages on digits-vit', () => {
  const model = loadModelFromDisk('public/models/digits-vit');
  const dataset = model.dataset as ImageDataset;

  test('its correct answers are evaluate()\'s top-1, and batching changes no answer', async () => {
    const { runner } = await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 });
    const all = dataset.images.map((_, i) => i);
    const predictions = await predictImages(runner, dataset, all);
    const metrics = await evaluate(runner, dataset);
    expect(predictions.filter((p) => p.predicted === p.label).length).toBe(Math.round(metrics.top1 * all.length));
    const some = [17, 3, 300, 3];
    const again = await predictImages(runner, dataset, some, { batchSize: 1 });
    expect(again.map((p) => p.predicted)).toEqual(some.map((i) => predictions[i].predicted));
    expectClose(again.map((p) => p.probability), some.map((i) => predictions[i].probability), { atol: 1e-6, rtol: 0 }, 'probabilities');
    for (const p of predictions) expect(p.probability).toBeGreaterThanOrEqual(0.1); // an arg max of 10 classes
    await runner.release();
  });
});
