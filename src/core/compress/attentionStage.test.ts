// The attention stage through compressModel and onnxruntime-web (wasm): the exported graph is
// applyActToGraph applied to the model the earlier stages left (same bytes, after the quantize
// stage's MatMulNBits rewrite), it runs and changes the outputs; explicit heads open no session;
// the head search scores every candidate with the calibration NLL evaluate() gives the same
// model on the same samples, is deterministic, reports progress and stops on cancel.
import { describe, expect, test } from 'vitest';
import { applyActToGraph } from '../attention/actGraph.ts';
import { siteSelections } from '../attention/headSearch.ts';
import { bundledModel, countingRunnerFactory, openRunner } from '../calibrate/fixtures/models.ts';
import { chooseSamples } from '../calibrate/random.ts';
import { pairedBootstrap } from '../eval/bootstrap.ts';
import { evaluate, evaluateWithSamples } from '../eval/evaluate.ts';
import type { Dataset, ImageDataset } from '../eval/datasets.ts';
import { Cancelled } from '../job/cancel.ts';
import type { Progress } from '../job/progress.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { actParams, type AttentionStage } from '../recipe/stages/attention.ts';
import { actModel, isAttentionStageReport, type AttentionStageReport } from './attentionStage.ts';
import { compressModel, type CompressRequest } from './pipeline.ts';

const lm = bundledModel('kjv-charlm');
const vit = bundledModel('digits-vit');
const rtn4 = { kind: 'quantize', method: 'rtn', bits: 4, granularity: 'group', groupSize: 32, export: 'packed' };
const act = (fields: object) => ({ kind: 'attention', ...fields });
const recipeOf = (...stages: object[]) => parseRecipe({ version: 2, seed: 3, calibration: { samples: 4 }, stages });
/** The file's graph without the lab's metadata_props (the recipe differs by the stage). */
const graphBytes = (model: ModelProto) => writeModel({ ...model, metadataProps: [] });
const sites = (bundled: typeof lm) => [...bundled.analysis.attention].sort((a, b) => a.order - b.order);

async function withSamples(bytes: Uint8Array, set: Dataset) {
  const runner = await openRunner(bytes);
  try {
    return await evaluateWithSamples(runner, set);
  } finally {
    await runner.release();
  }
}

async function meanNll(bytes: Uint8Array, set: Dataset): Promise<number> {
  const runner = await openRunner(bytes);
  try {
    return (await evaluate(runner, set)).meanNll;
  } finally {
    await runner.release();
  }
}

describe('attention stage with explicit heads', () => {
  test('after RTN 4-bit packed: the file is applyActToGraph of the quantized file, opens no session, and changes the outputs', async () => {
    const heads = [{ block: 2, head: 1 }, { block: 4, head: 0 }, { block: 4, head: 3 }];
    const { open, counts } = countingRunnerFactory();
    const request = (recipe: ReturnType<typeof recipeOf>): CompressRequest => ({ model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calib, createRunner: open });
    const before = await compressModel(request(recipeOf(rtn4)));
    const recipe = recipeOf(rtn4, act({ heads }));
    const after = await compressModel(request(recipe));
    expect(counts.created).toBe(0);
    const stage = recipe.stages[1] as AttentionStage;
    const selections = siteSelections(sites(lm), heads.map((h) => ({ layer: h.block, head: h.head })));
    const expected = applyActToGraph(before.model, selections, actParams(stage)).model;
    expect(after.model.graph!.node!.some((n) => n.opType === 'MatMulNBits')).toBe(true);
    expect(graphBytes(after.model)).toEqual(graphBytes(expected));
    const report = after.report.stages[1] as AttentionStageReport;
    expect(report).toMatchObject({ kind: 'attention', heads: 'given', candidates: [], evaluations: 0, selected: heads.map((h) => ({ layer: h.block, head: h.head })) });
    // Real: the calibrated file runs in ORT and its NLL differs from the uncalibrated one's.
    const few: Dataset = lm.eval.kind === 'lm-tokens' ? { ...lm.eval, sequences: lm.eval.sequences.slice(0, 2) } : lm.eval;
    const [plain, calibrated] = [await meanNll(before.bytes, few), await meanNll(after.bytes, few)];
    expect(Number.isFinite(calibrated)).toBe(true);
    expect(calibrated).not.toBe(plain);
  });
});

describe('attention stage head search on the digits ViT (layer 2 only, 4 samples)', () => {
  const recipe = recipeOf(act({ skipLayers: [0, 1, 3], search: { samples: 4 } }));
  const run = (extra: Partial<CompressRequest> = {}) => compressModel({ model: vit.model, analysis: vit.analysis, recipe, calibSet: vit.calib, createRunner: openRunner, ...extra });

  test('every candidate is scored with the calibration NLL of its own model; the result is deterministic and exported', async () => {
    const progress: Progress[] = [];
    const first = await run({ onProgress: (p) => progress.push(p) });
    const second = await run();
    const report = first.report.stages.find(isAttentionStageReport)!;
    expect(report.candidates.map((c) => [c.layer, c.head])).toEqual([[2, 0], [2, 1], [2, 2], [2, 3]]);
    expect(report.skippedLayers).toEqual([0, 1, 3]);
    expect(report.samples).toBe(4);
    expect(report.evaluations).toBeGreaterThanOrEqual(5);
    // The scores are evaluate()'s on the recipe's draw of the calibration set, never the evaluation set.
    const calib = vit.calib as ImageDataset;
    const indices = chooseSamples(calib.images.length, 4, recipe.seed);
    const samples: Dataset = { ...calib, images: indices.map((i) => calib.images[i]), labels: indices.map((i) => calib.labels[i]) };
    expect(report.baseline).toBe(await meanNll(vit.bytes, samples));
    const stage = recipe.stages[0] as AttentionStage;
    const c = report.candidates[1];
    expect(c.score).toBe(await meanNll(writeModel(actModel(vit.model, sites(vit), [{ layer: 2, head: 1 }], stage)), samples));
    expect(c.delta).toBe(c.score - report.baseline!);
    // Default guard: the head improves only when its change's 95 % paired interval over the
    // 4 samples (seeded by the recipe's seed) lies below 0.
    expect(report.guard).toBe('interval');
    const base = await withSamples(vit.bytes, samples);
    const one = await withSamples(writeModel(actModel(vit.model, sites(vit), [{ layer: 2, head: 1 }], stage)), samples);
    const interval = pairedBootstrap(base.samples, one.samples, { metric: 'meanNll', seed: recipe.seed });
    expect(c.interval).toEqual({ low: interval.low, high: interval.high });
    for (const row of report.candidates) {
      expect(row.interval!.low).toBeLessThanOrEqual(row.interval!.high);
      expect(row.improves).toBe(row.interval!.high < 0);
    }
    // Deterministic: same report (but time) and same file.
    const strip = (r: AttentionStageReport) => ({ ...r, ms: 0 });
    expect(strip(second.report.stages.find(isAttentionStageReport)!)).toEqual(strip(report));
    expect(second.bytes).toEqual(first.bytes);
    // The file is the selected set's rewrite (the model itself when nothing was selected).
    const expected = actModel(vit.model, sites(vit), report.selected, stage);
    expect(graphBytes(first.model)).toEqual(graphBytes(expected));
    if (report.selected.length === 0) expect(first.report.notes.join('\n')).toMatch(/no head improved the calibration NLL alone.* leaves the model unchanged/);
    const search = progress.filter((p) => p.phase === 'attention');
    expect(search.length).toBeGreaterThan(0);
    expect(search.at(-1)).toMatchObject({ done: report.evaluations, total: report.evaluations, stage: 0 });
    console.log(`[act vit] baseline ${report.baseline} alone ${report.candidates.map((x) => x.delta.toExponential(2)).join(' ')} selected ${JSON.stringify(report.selected)}`);
  });

  test("search.guard 'none' keeps the strict rule, with the same scores and intervals", async () => {
    const guarded = (await run()).report.stages.find(isAttentionStageReport)!;
    const strictRecipe = recipeOf(act({ skipLayers: [0, 1, 3], search: { samples: 4, guard: 'none' } }));
    const strict = (await compressModel({ model: vit.model, analysis: vit.analysis, recipe: strictRecipe, calibSet: vit.calib, createRunner: openRunner })).report.stages.find(isAttentionStageReport)!;
    expect(strict.guard).toBe('none');
    expect(strict.candidates.map((c) => [c.score, c.interval])).toEqual(guarded.candidates.map((c) => [c.score, c.interval]));
    for (const row of strict.candidates) expect(row.improves).toBe(row.score < strict.baseline!);
  });

  test('cancel stops the search', async () => {
    const signal = { aborted: false };
    await expect(run({ cancel: signal, onProgress: (p) => { if (p.phase === 'attention' && p.done >= 2) signal.aborted = true; } })).rejects.toBeInstanceOf(Cancelled);
  });
});
