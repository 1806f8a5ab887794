// lmInputs on real graphs through onnxruntime-web: the single-input fixtures, the BERT fixture's
// mask and token types, and generated Optimum-shaped decoders (npm run gen:hf) with their
// past_key_values. The feeds are checked by what the model computes with them: a prompt run in
// one go and the same prompt run as a prefix plus one cached step give the same last logits.
import { beforeAll, describe, expect, test } from 'vitest';
import { fixtureModel, openRunner } from '../calibrate/fixtures/models.ts';
import { openHfFolder, type OpenedHfFolder } from '../hf/openFolder.ts';
import { diskEntries, generatedFolder } from '../hf/testing/generatedFolders.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { tokenBatch } from './inputs.ts';
import { cacheFromOutputs, lmFeeds, logitsOf, logitsOutputName, planLmInputs, requireLmInputs, runnerInputInfo } from './lmInputs.ts';
import type { ModelRunner } from './runner.ts';

const ids = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) % 40);

describe('planLmInputs on the fixtures', () => {
  test('a single input is token ids whatever its name: feeds equal the old tokenBatch', () => {
    const plan = requireLmInputs(fixtureModel('llama').analysis.inputs);
    expect(plan).toMatchObject({ tokenIds: 'input_ids', past: [], roles: [{ name: 'input_ids', role: 'tokenIds' }] });
    const rows = [ids(6, 1), ids(6, 2)];
    expect(lmFeeds(plan, rows, 6)).toEqual({ input_ids: tokenBatch(rows, 6) });
  });

  test('BERT: attention_mask all ones, token_type_ids zeros; ORT runs the model on them', async () => {
    const bert = fixtureModel('bert');
    const plan = requireLmInputs(bert.analysis.inputs);
    expect(plan.roles.map((r) => r.role)).toEqual(['tokenIds', 'attentionMask', 'tokenTypeIds']);
    const feeds = lmFeeds(plan, [ids(5, 1), ids(5, 2)], 5);
    expect(Array.from(feeds.attention_mask.data as BigInt64Array, Number)).toEqual(Array(10).fill(1));
    expect(Array.from(feeds.token_type_ids.data as BigInt64Array, Number)).toEqual(Array(10).fill(0));
    const runner = await openRunner(bert.bytes);
    try {
      const logits = logitsOf(runner, await runner.run(feeds, [logitsOutputName(runner)]));
      expect(logits.dims).toEqual([2, 3]);
      expect([...(logits.data as Float32Array)].every(Number.isFinite)).toBe(true);
    } finally {
      await runner.release();
    }
  });

  test('an input it cannot name is one sentence naming it', () => {
    const result = planLmInputs([
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'pixel_mask', dtype: 'int64', shape: ['batch', 'seq'] },
    ]);
    expect(result).toEqual({ ok: false, message: expect.stringContaining('"pixel_mask"') });
    expect(result.ok || result.message.includes('\n')).toBe(false);
    const symbolic = planLmInputs([
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'past_key_values.0.key', dtype: 'float32', shape: ['batch', 'kv_heads', 'past', 64] },
    ]);
    expect(symbolic).toEqual({ ok: false, message: expect.stringContaining('past_key_values.0.key') });
    expect(planLmInputs([{ name: 'pixel_values', dtype: 'float32', shape: [1, 3, 8, 8] }])).toEqual({ ok: false, message: expect.stringContaining('"pixel_values"') });
  });

  test("use_cache_branch (Optimum's merged decoder) is false with the empty cache, true with a carried one", () => {
    const plan = requireLmInputs([
      { name: 'input_ids', dtype: 'int64', shape: ['b', 's'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['b', 't'] },
      { name: 'past_key_values.0.key', dtype: 'float32', shape: ['b', 2, 'p', 8] },
      { name: 'past_key_values.0.value', dtype: 'float32', shape: ['b', 2, 'p', 8] },
      { name: 'use_cache_branch', dtype: 'bool', shape: [1] },
    ]);
    const empty = lmFeeds(plan, [[1, 2, 3]], 3);
    expect(empty.use_cache_branch).toEqual({ dtype: 'bool', dims: [1], data: new Uint8Array([0]) });
    expect(empty['past_key_values.0.key'].dims).toEqual([1, 2, 0, 8]);
    const past = { dtype: 'float32' as const, dims: [1, 2, 3, 8], data: new Float32Array(48) };
    const step = lmFeeds(plan, [[4]], 1, { length: 3, tensors: { 'past_key_values.0.key': past, 'past_key_values.0.value': past } });
    expect(step.use_cache_branch.data).toEqual(new Uint8Array([1]));
    expect(step.attention_mask.dims).toEqual([1, 4]);
  });

  test('logits: the output named logits, else the first float32 output', () => {
    expect(logitsOutputName({ outputNames: ['present.0.key', 'logits'] })).toBe('logits');
    const outputInfo = [
      { name: 'lengths', dtype: 'int64', shape: [1] },
      { name: 'scores', dtype: 'float32', shape: [1, 4] },
    ];
    expect(logitsOutputName({ outputNames: ['lengths', 'scores'], outputInfo })).toBe('scores');
  });
});

describe.each(['llama', 'gpt2'] as const)('generated 2-block %s export (gen:hf)', (which) => {
  let folder: OpenedHfFolder;
  let runner: ModelRunner;
  beforeAll(async () => {
    folder = await openHfFolder(diskEntries(generatedFolder(which)));
    runner = await openRunner(writeModel(folder.model));
    return () => runner.release();
  });

  test('every input is named; the cache shape comes from the graph', () => {
    const plan = requireLmInputs(folder.analysis.inputs);
    const kvHeads = which === 'llama' ? 2 : 4;
    expect(plan.roles.slice(0, 3).map((r) => r.role)).toEqual(['tokenIds', 'attentionMask', 'positionIds']);
    expect(plan.past).toEqual([0, 1].flatMap((i) => ['key', 'value'].map((kind) => ({ input: `past_key_values.${i}.${kind}`, present: `present.${i}.${kind}`, kvHeads, headDim: 16 }))));
    // The runtime reports the same inputs as the analysis.
    expect(requireLmInputs(runnerInputInfo(runner))).toEqual(plan);
  });

  test('prefix + one cached step gives the last logits of the whole prompt run at once', async () => {
    const plan = requireLmInputs(runnerInputInfo(runner));
    const prompt = [ids(7, 1), ids(7, 2)];
    const all = logitsOf(runner, await runner.run(lmFeeds(plan, prompt, 7), ['logits']));
    const prefix = await runner.run(lmFeeds(plan, prompt, 6));
    const cache = cacheFromOutputs(plan, prefix);
    expect(cache.length).toBe(6);
    const step = lmFeeds(plan, prompt.map((row) => row.slice(6)), 1, cache);
    expect(Array.from(step.position_ids.data as BigInt64Array, Number)).toEqual([6, 6]);
    expect(step.attention_mask.dims).toEqual([2, 7]);
    const next = logitsOf(runner, await runner.run(step, ['logits']));
    const vocab = all.dims[2];
    const lastOfAll = prompt.flatMap((_, b) => [...(all.data as Float32Array).subarray((b * 7 + 6) * vocab, (b * 7 + 7) * vocab)]);
    expectClose(next.data as Float32Array, lastOfAll, { atol: 1e-4, rtol: 1e-4 }, `${which} cached step vs whole prompt`);
    // Positions matter: the same token fed as if at position 0 gives other logits (GPT-2's learned
    // positions, Llama's rotary ones), so the check above would catch positions that did not continue.
    const restart = logitsOf(runner, await runner.run(lmFeeds(plan, prompt.map((row) => row.slice(6)), 1), ['logits']));
    expect(() => expectClose(restart.data as Float32Array, lastOfAll, { atol: 1e-4, rtol: 1e-4 })).toThrow();
  });

  test('fetching only the logits returns only the logits', async () => {
    const plan = requireLmInputs(runnerInputInfo(runner));
    const outputs = await runner.run(lmFeeds(plan, [ids(4, 3)], 4), ['logits']);
    expect(Object.keys(outputs)).toEqual(['logits']);
  });
});
