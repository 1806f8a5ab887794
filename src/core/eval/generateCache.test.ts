// KV-cache generation on generated 2-block Optimum-shaped exports (npm run gen:hf) through
// onnxruntime-web: greedy ids with the cache equal the ids of the recomputing path on the same
// model, the cached path really feeds one token per step (recorded), and a context shorter than
// the generation crops and starts a fresh prefill exactly where the recomputing path crops. And
// Optimum's merged decoder: use_cache_branch false on the prefill, true on the cached steps.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRunner, randomTokens } from '../calibrate/fixtures/models.ts';
import { mergedDecoder } from '../hf/testing/mergedDecoder.ts';
import { evaluate } from './evaluate.ts';
import { openHfFolder } from '../hf/openFolder.ts';
import { diskEntries, generatedFolder } from '../hf/testing/generatedFolders.ts';
import { writeModel } from '../onnx/write.ts';
import { generate, type GenerateOptions } from './generate.ts';
import type { HostTensor, ModelRunner } from './runner.ts';

/** The runner, recording the length of input_ids and the past length (mask − ids) of every run. */
function recording(runner: ModelRunner): ModelRunner & { fed: { ids: number; past: number }[] } {
  const fed: { ids: number; past: number }[] = [];
  return {
    fed,
    inputNames: runner.inputNames,
    outputNames: runner.outputNames,
    inputInfo: runner.inputInfo,
    outputInfo: runner.outputInfo,
    backend: runner.backend,
    run(feeds: Record<string, HostTensor>, fetches?: readonly string[]) {
      fed.push({ ids: feeds.input_ids.dims[1], past: feeds.attention_mask.dims[1] - feeds.input_ids.dims[1] });
      return runner.run(feeds, fetches);
    },
    release: () => runner.release(),
  };
}

describe.each(['llama', 'gpt2'] as const)('generate with the KV cache on a generated 2-block %s', (which) => {
  let runner: ModelRunner;
  beforeAll(async () => {
    const folder = await openHfFolder(diskEntries(generatedFolder(which)));
    runner = await openRunner(writeModel(folder.model));
  });
  afterAll(() => runner.release());

  const prompt = [464, 3290, 318, 257, 1332]; // ids inside both vocabularies

  test('greedy ids with the cache equal those of the recomputing path; one token per cached step', async () => {
    const options: GenerateOptions = { promptIds: prompt, maxNewTokens: 12, contextLength: 128, strategy: { kind: 'greedy' } };
    const cached = recording(runner);
    const withCache = await generate(cached, options);
    const recompute = recording(runner);
    const without = await generate(recompute, { ...options, useCache: false });
    expect(withCache.ids).toEqual(without.ids);
    for (let i = 0; i < without.probabilities.length; i++) expect(Math.abs(withCache.probabilities[i] - without.probabilities[i])).toBeLessThan(1e-4);
    expect(cached.fed).toEqual([{ ids: 5, past: 0 }, ...Array.from({ length: 11 }, (_, s) => ({ ids: 1, past: 5 + s }))]);
    expect(recompute.fed.map((f) => f.ids)).toEqual(Array.from({ length: 12 }, (_, s) => 5 + s));
  });

  test('seeded sampling gives the same text with and without the cache', async () => {
    const options: GenerateOptions = { promptIds: prompt, maxNewTokens: 8, contextLength: 128, strategy: { kind: 'sample', temperature: 0.7, topK: 40, seed: 11 } };
    expect((await generate(runner, options)).ids).toEqual((await generate(runner, { ...options, useCache: false })).ids);
  });

  test('past the context length the cropped window is prefilled afresh, as the recomputing path feeds it', async () => {
    const options: GenerateOptions = { promptIds: prompt, maxNewTokens: 6, contextLength: 7, strategy: { kind: 'greedy' } };
    const cached = recording(runner);
    const withCache = await generate(cached, options);
    expect(withCache.ids).toEqual((await generate(runner, { ...options, useCache: false })).ids);
    // 5 + 1 + 1 fill the context; every later step crops to the last 7 ids and prefills them.
    expect(cached.fed).toEqual([
      { ids: 5, past: 0 },
      { ids: 1, past: 5 },
      { ids: 1, past: 6 },
      { ids: 7, past: 0 },
      { ids: 7, past: 0 },
      { ids: 7, past: 0 },
    ]);
  });
});

describe("Optimum's merged decoder (an If on use_cache_branch)", () => {
  test('fed false with the empty cache, then true with the carried one; the same ids and perplexity as the plain decoder', async () => {
    const folder = await openHfFolder(diskEntries(generatedFolder('llama')));
    const merged = await openRunner(writeModel(mergedDecoder(folder.model)));
    const plain = await openRunner(writeModel(folder.model));
    try {
      const branches: number[] = [];
      const recorded: ModelRunner = { ...merged, run: (feeds, fetches) => (branches.push((feeds.use_cache_branch.data as Uint8Array)[0]), merged.run(feeds, fetches)) };
      const options: GenerateOptions = { promptIds: [464, 3290, 318, 257, 1332], maxNewTokens: 6, contextLength: 128, strategy: { kind: 'greedy' } };
      expect((await generate(recorded, options)).ids).toEqual((await generate(plain, options)).ids);
      expect(branches).toEqual([0, 1, 1, 1, 1, 1]);
      const windows = randomTokens(3, 10, 1000, 2);
      const [a, b] = [await evaluate(merged, windows), await evaluate(plain, windows)];
      if (a.task !== 'causal-lm' || b.task !== 'causal-lm') throw new Error('expected LM metrics');
      expect(a.perplexity).toBe(b.perplexity);
    } finally {
      await Promise.all([merged.release(), plain.release()]);
    }
  });
});
