// Masked-token accuracy: the masking rule, the scoring and the intervals against
// src/core/hf/fixtures/make_masked_lm_fixture.py (numpy); then on a generated 2-block BERT folder
// (npm run gen:hf --preset bert-base, narrowed) through onnxruntime-web, with the windows wrapped
// as its tokenizer.json's post-processor says.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRunner } from '../calibrate/fixtures/models.ts';
import type { ModelRunner } from '../eval/runner.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { evaluateMaskedLm, maskedLmMetrics, maskingTokens, maskWindow, scoreMaskedRows, splitMaskedText, type MaskedLmSamples, type MaskedTextSplit } from './maskedLm.ts';
import { openHfFolder, type OpenedHfFolder } from './openFolder.ts';
import { corpusText, diskEntries, generatedFolder } from './testing/generatedFolders.ts';

interface Interval {
  value: number;
  low: number;
  high: number;
}
interface Case {
  name: string;
  vocab: number;
  seqLen: number;
  tokens: { cls: number; sep: number; mask: number };
  seed: number;
  resamples: number;
  level: number;
  wrapped: number[][];
  masked: { inputs: number[]; positions: number[]; labels: number[] }[];
  logits: number[];
  samples: { chosen: number[]; correct: number[]; nll: number[] };
  accuracy: Interval;
  nll: Interval;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/masked_lm.json', import.meta.url), 'utf8')) as { cases: Case[] };
const emptySamples = (n: number): MaskedLmSamples => ({ task: 'masked-lm', chosen: new Int32Array(n), correct: new Int32Array(n), nll: new Float64Array(n) });
const flat = (x: Interval) => [x.value, x.low, x.high];

/** The lab's per-window samples and their metrics (95 % bootstrap intervals) against a reference's; NLLs within `rtol`. */
function expectSamplesAndMetrics(samples: MaskedLmSamples, ref: Pick<Case, 'samples' | 'seed' | 'resamples' | 'level' | 'accuracy' | 'nll'>, rtol: { window: number; metric: number }, what: string): void {
  expect(Array.from(samples.chosen)).toEqual(ref.samples.chosen);
  expect(Array.from(samples.correct)).toEqual(ref.samples.correct);
  expectClose(Array.from(samples.nll), ref.samples.nll, { rtol: rtol.window, atol: rtol.window }, what);
  const m = maskedLmMetrics(samples, { seed: ref.seed, resamples: ref.resamples, level: ref.level });
  expectClose(flat(m.accuracy), flat(ref.accuracy), { rtol: 1e-12, atol: 0 }, 'accuracy');
  expectClose(flat(m.nll), flat(ref.nll), { rtol: rtol.metric, atol: 0 }, 'NLL');
}

describe('masked-LM metrics against numpy', () => {
  for (const c of fixture.cases) {
    test(`${c.name}: masking, per-window scores, accuracy and NLL with their intervals`, () => {
      const tokens = { template: { prefix: [c.tokens.cls], suffix: [c.tokens.sep] }, maskId: c.tokens.mask, vocabSize: c.vocab };
      const masked = c.wrapped.map((w, i) => maskWindow(w, tokens, c.seed, i));
      expect(masked).toEqual(c.masked);
      const samples = emptySamples(masked.length);
      scoreMaskedRows(Float32Array.from(c.logits), c.vocab, c.seqLen, masked, samples);
      expectSamplesAndMetrics(samples, c, { window: 1e-12, metric: 1e-12 }, 'per-window NLL');
    });
  }

  test("BERT's rule over many windows: about 15 % chosen, of them about 80 % [MASK], 10 % replaced, 10 % kept; specials never chosen", () => {
    const tokens = { template: { prefix: [97], suffix: [98] }, maskId: 99, vocabSize: 100 };
    const counts = { chosen: 0, masked: 0, kept: 0, positions: 0 };
    for (let w = 0; w < 2000; w++) {
      const wrapped = [97, ...Array.from({ length: 30 }, (_, i) => (w + i * 7) % 90), 98];
      const window = maskWindow(wrapped, tokens, 0, w);
      expect(window.positions.every((p) => p > 0 && p < wrapped.length - 1)).toBe(true);
      counts.positions += 30;
      counts.chosen += window.positions.length;
      window.positions.forEach((p) => {
        if (window.inputs[p] === 99) counts.masked++;
        else if (window.inputs[p] === wrapped[p]) counts.kept++;
      });
    }
    expect(counts.chosen / counts.positions).toBeGreaterThan(0.14);
    expect(counts.chosen / counts.positions).toBeLessThan(0.16);
    expect(counts.masked / counts.chosen).toBeGreaterThan(0.78);
    expect(counts.masked / counts.chosen).toBeLessThan(0.82);
    // A random replacement may draw the original id (1 in 100), as in the collator.
    expect(counts.kept / counts.chosen).toBeGreaterThan(0.085);
    expect(counts.kept / counts.chosen).toBeLessThan(0.115);
  });
});

describe('masked-token accuracy of a generated BERT folder in onnxruntime-web', () => {
  let opened: OpenedHfFolder;
  let runner: ModelRunner;
  let split: MaskedTextSplit;
  beforeAll(async () => {
    opened = await openHfFolder(diskEntries(generatedFolder('bert')));
    runner = await openRunner(writeModel(opened.model));
    const tokenizer = opened.tokenizer!.tokenizer;
    split = splitMaskedText(corpusText(), tokenizer, maskingTokens(tokenizer, 'tokenizer_config.json'), { seqLen: 32, seed: 0 });
  }, 120_000);

  test('windows are wrapped in [CLS] … [SEP] as the post-processor says; calibration and evaluation are disjoint', () => {
    const tokenizer = opened.tokenizer!.tokenizer;
    expect(tokenizer.template).toEqual({ prefix: [30519], suffix: [30520] });
    expect(tokenizer.maskId).toBe(30521);
    for (const w of split.eval) {
      expect(w.inputs).toHaveLength(32);
      expect([w.inputs[0], w.inputs[31]]).toEqual([30519, 30520]);
    }
    expect(split.calib.sequences.every((s) => s.length === 33 && s[0] === 30519 && s[31] === 30520)).toBe(true);
    expect(split.calibWindows.filter((w) => split.evalWindows.includes(w))).toEqual([]);
    expect(split.maskedPositions).toBeGreaterThan(30);
  });

  test('batched evaluation scores each window at its own chosen positions, as one window at a time does', async () => {
    const samples = await evaluateMaskedLm(runner, split.eval, 32, 4);
    const one = emptySamples(split.eval.length);
    for (let i = 0; i < split.eval.length; i++) {
      const out = await evaluateMaskedLm(runner, [split.eval[i]], 32, 1);
      one.chosen[i] = out.chosen[0];
      one.correct[i] = out.correct[0];
      one.nll[i] = out.nll[0];
    }
    expect(Array.from(samples.chosen)).toEqual(Array.from(one.chosen));
    expect(Array.from(samples.correct)).toEqual(Array.from(one.correct));
    expectClose(Array.from(samples.nll), Array.from(one.nll), { rtol: 1e-5, atol: 1e-5 }, 'NLL, batched vs one window');
    const m = maskedLmMetrics(samples);
    expect(m.chosen).toBe(split.maskedPositions);
    expect(m.accuracy.low).toBeLessThanOrEqual(m.accuracy.value);
    expect(m.accuracy.high).toBeGreaterThanOrEqual(m.accuracy.value);
  }, 120_000);
});

interface ModelFixture {
  gen: string[];
  tokens: { cls: number; sep: number; mask: number };
  seqLen: number;
  seed: number;
  resamples: number;
  level: number;
  wrapped: number[][];
  samples: { chosen: number[]; correct: number[]; nll: number[] };
  accuracy: Interval;
  nll: Interval;
}

describe('masked-token accuracy against an independent torch forward (make_masked_lm_model_fixture.py)', () => {
  const ref = JSON.parse(readFileSync(new URL('./fixtures/masked_lm_model.json', import.meta.url), 'utf8')) as ModelFixture;
  const scratch = mkdtempSync(join(tmpdir(), 'lab-mlm-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('the same windows masked, scored in onnxruntime-web: chosen and correct exactly, NLL to 1e-4', async () => {
    const folder = join(scratch, 'bert');
    execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../scripts/gen/hf/main.ts'), ...ref.gen, '--layout', 'flat', '--out', folder], { stdio: 'pipe' });
    const opened = await openHfFolder(diskEntries(folder));
    const tokens = maskingTokens(opened.tokenizer!.tokenizer, 'tokenizer_config.json');
    expect(tokens.template).toEqual({ prefix: [ref.tokens.cls], suffix: [ref.tokens.sep] });
    expect(tokens.maskId).toBe(ref.tokens.mask);
    const windows = ref.wrapped.map((w, i) => maskWindow(w, tokens, ref.seed, i));
    const model = await openRunner(writeModel(opened.model));
    const samples = await evaluateMaskedLm(model, windows, ref.seqLen);
    await model.release();
    expectSamplesAndMetrics(samples, ref, { window: 1e-4, metric: 1e-4 }, 'per-window NLL, ORT vs torch');
  }, 120_000);
});
