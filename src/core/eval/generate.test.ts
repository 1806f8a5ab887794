// generate() with hand-written runners whose next-token distributions are known in closed form:
// the strategies, the context crop and the failure cases, independently of ORT. The match with
// PyTorch on the bundled LM is src/runtime/teachingModels.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { firstDivergence, generate, sampleToken, type DecodingStrategy } from './generate';
import type { HostTensor, ModelRunner } from './runner';
import { Cancelled } from '../job/cancel';
import { mulberry32 } from '../calibrate/random';
import { expectClose } from '../testing/expectClose';

/** A runner whose logits at every position are `rowFor(ids so far at that position)`; records each window it is fed. */
function tableRunner(vocab: number, rowFor: (prefix: number[]) => number[]): ModelRunner & { windows: number[][] } {
  const windows: number[][] = [];
  return {
    windows,
    inputNames: ['input_ids'],
    outputNames: ['logits'],
    backend: 'wasm',
    async run(feeds: Record<string, HostTensor>) {
      const ids = Array.from(feeds.input_ids.data as BigInt64Array, Number);
      windows.push(ids);
      const logits = new Float32Array(ids.length * vocab);
      ids.forEach((_, t) => logits.set(rowFor(ids.slice(0, t + 1)), t * vocab));
      return { logits: { dtype: 'float32', dims: [1, ids.length, vocab], data: logits } };
    },
    release: async () => {},
  };
}

/** Next token (last + 1) mod 5 with logit 2, all others 0. */
const successor = () => tableRunner(5, (prefix) => Array.from({ length: 5 }, (_, v) => (v === (prefix[prefix.length - 1] + 1) % 5 ? 2 : 0)));
const greedy: DecodingStrategy = { kind: 'greedy' };

describe('generate', () => {
  test('greedy follows the arg max and reports its softmax probability', async () => {
    const out = await generate(successor(), { promptIds: [3], maxNewTokens: 6, contextLength: 8, strategy: greedy });
    expect(out.ids).toEqual([4, 0, 1, 2, 3, 4]);
    const p = Math.exp(2) / (Math.exp(2) + 4);
    expectClose(out.probabilities, Array(6).fill(p), { atol: 1e-12, rtol: 0 }, 'probabilities');
  });

  test('greedy breaks ties toward the lowest id', async () => {
    const tied = tableRunner(4, () => [0, 3, 3, 1]);
    expect((await generate(tied, { promptIds: [0], maxNewTokens: 2, contextLength: 4, strategy: greedy })).ids).toEqual([1, 1]);
  });

  test('feeds the latest contextLength ids, cropping the left once the text is longer', async () => {
    const runner = successor();
    await generate(runner, { promptIds: [0, 1, 2], maxNewTokens: 4, contextLength: 4, strategy: greedy });
    expect(runner.windows).toEqual([[0, 1, 2], [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 0]]);
  });

  test('a prompt longer than the context is cropped from the first step', async () => {
    const runner = successor();
    await generate(runner, { promptIds: [0, 1, 2, 3, 4, 0], maxNewTokens: 1, contextLength: 2, strategy: greedy });
    expect(runner.windows).toEqual([[4, 0]]);
  });

  test('maxNewTokens 0 runs nothing', async () => {
    const runner = successor();
    expect(await generate(runner, { promptIds: [1], maxNewTokens: 0, contextLength: 4, strategy: greedy })).toEqual({ ids: [], probabilities: [] });
    expect(runner.windows).toEqual([]);
  });

  test('a seed reproduces a sampled text, another seed changes it, topK 1 is greedy', async () => {
    const flat = () => tableRunner(6, () => [0.1, 0.2, 0.3, 0.2, 0.1, 0]);
    const run = (strategy: DecodingStrategy) => generate(flat(), { promptIds: [0], maxNewTokens: 30, contextLength: 8, strategy });
    const a = await run({ kind: 'sample', temperature: 1, seed: 1 });
    expect((await run({ kind: 'sample', temperature: 1, seed: 1 })).ids).toEqual(a.ids);
    expect((await run({ kind: 'sample', temperature: 1, seed: 2 })).ids).not.toEqual(a.ids);
    expect(new Set(a.ids).size).toBeGreaterThan(3);
    expect((await run({ kind: 'sample', temperature: 5, topK: 1, seed: 9 })).ids).toEqual(Array(30).fill(2));
  });

  test('progress counts steps; a cancel stops between steps', async () => {
    const cancel = { aborted: false };
    const seen: number[] = [];
    const run = generate(successor(), {
      promptIds: [0],
      maxNewTokens: 5,
      contextLength: 4,
      strategy: greedy,
      cancel,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done === 2) cancel.aborted = true;
      },
    });
    await expect(run).rejects.toBeInstanceOf(Cancelled);
    expect(seen).toEqual([0, 1, 2]);
  });

  test.each([
    [{ promptIds: [] }, 'at least one token'],
    [{ promptIds: [1.5] }, 'prompt token 1.5 is not a token id'],
    [{ promptIds: [7] }, 'prompt token 7 is outside the model\'s vocabulary (0..4)'],
    [{ maxNewTokens: -1 }, 'maxNewTokens must be a non-negative integer'],
    [{ contextLength: 0 }, 'contextLength must be a positive integer'],
    [{ strategy: { kind: 'sample', temperature: 0, seed: 1 } }, 'temperature must be a positive number'],
    [{ strategy: { kind: 'sample', temperature: 1, topK: 0, seed: 1 } }, 'topK must be a positive integer'],
    [{ strategy: { kind: 'sample', temperature: 1, seed: 0.5 } }, 'seed must be an integer'],
  ] as const)('refuses %j', async (patch, message) => {
    const options = { promptIds: [1], maxNewTokens: 2, contextLength: 4, strategy: greedy, ...patch } as Parameters<typeof generate>[1];
    await expect(generate(successor(), options)).rejects.toThrow(message);
  });

  test('refuses NaN logits rather than choosing from them', async () => {
    const broken = tableRunner(3, () => [0, Number.NaN, 1]);
    await expect(generate(broken, { promptIds: [0], maxNewTokens: 1, contextLength: 4, strategy: greedy })).rejects.toThrow('NaN');
  });
});

describe('sampleToken', () => {
  test('chooses the bucket of u · total over ascending ids (weights 1, 2, 3, 4)', () => {
    const row = Float32Array.from([1, 2, 3, 4], Math.log);
    const uniforms = Array.from({ length: 200 }, mulberry32(11));
    const random = mulberry32(11);
    const bucket = (u: number) => [0.1, 0.3, 0.6, 1].findIndex((edge) => u < edge);
    for (const u of uniforms) {
      if ([0.1, 0.3, 0.6].some((edge) => Math.abs(u - edge) < 1e-6)) continue; // float32 log/exp rounding
      expect(sampleToken(row, { temperature: 1 }, random)).toBe(bucket(u));
    }
  });

  test('topK keeps the K largest logits, ties to the lower id', () => {
    const row = Float32Array.from([5, 1, 5, 5, 0]);
    const random = mulberry32(3);
    const drawn = new Set(Array.from({ length: 200 }, () => sampleToken(row, { temperature: 1, topK: 2 }, random)));
    expect([...drawn].sort()).toEqual([0, 2]);
  });

  test('a -Infinity logit is never drawn', () => {
    const row = Float32Array.from([-Infinity, 0, 0]);
    const random = mulberry32(5);
    for (let i = 0; i < 100; i++) expect(sampleToken(row, { temperature: 0.7 }, random)).not.toBe(0);
  });
});

describe('the fixture script ports mulberry32 faithfully', () => {
  test('its first draws for seed 1234 are core\'s', () => {
    const fixture = JSON.parse(readFileSync('src/core/eval/fixtures/generate_kjv_charlm.json', 'utf8'));
    const random = mulberry32(fixture.mulberry32.seed);
    expect(fixture.mulberry32.first.map(() => random())).toEqual(fixture.mulberry32.first);
  });
});

describe('firstDivergence', () => {
  test('finds the first differing token, or the end of the shorter text', () => {
    expect(firstDivergence([1, 2, 3], [1, 2, 3])).toBeUndefined();
    expect(firstDivergence([1, 2, 3], [1, 4, 3])).toBe(1);
    expect(firstDivergence([1, 2], [1, 2, 3])).toBe(2);
    expect(firstDivergence([], [])).toBeUndefined();
  });
});
