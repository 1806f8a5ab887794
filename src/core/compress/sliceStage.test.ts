// The `slice` stage through compressModel, as the CLI and the page run it: SliceGPT at 25 % on the
// bundled LM (its report rows, the shortcut parameters counted, a smaller file ORT runs), composed
// with GPTQ 4-bit after it on the re-analysed model; and the refusals, each one line naming the
// field, before any calibration session opens.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { bundledModel, countingRunnerFactory, fixtureModel, lmPerplexity, randomTokens } from '../calibrate/fixtures/models.ts';
import { datasetSize } from '../eval/datasets.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { parseRecipe, RecipeError } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { compressModel } from './pipeline.ts';

const lm = bundledModel('kjv-charlm');
const recipe = (name: string, samples = 8) => {
  const json = JSON.parse(readFileSync(`recipes/${name}`, 'utf8'));
  json.calibration.samples = samples;
  return parseRecipe(json);
};

describe('the slice stage', () => {
  test('recipes/slicegpt-25.json: 128 → 96, every layer reported, shortcuts counted, a smaller file ORT runs', async () => {
    const { open, counts } = countingRunnerFactory();
    const { report, bytes } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe('slicegpt-25.json'), calibSet: lm.calib, createRunner: open });
    // One session per stream site: the embeddings and two per block.
    expect(counts.created).toBe(13);
    expect(report.calibration?.passes).toBe(13);
    const stage = report.stages[0] as typeof report.stages[0] & { linearParamsBefore: number; linearParamsAfter: number };
    const rows = report.reshaped!;
    const q0 = rows.find((r) => r.name === 'blocks.0.attn.q_proj')!;
    expect(q0).toMatchObject({ before: [128, 128], after: [128, 96], change: 'slice', stage: 0 });
    expect(rows.find((r) => r.name === 'blocks.5.mlp.fc2')).toMatchObject({ before: [128, 512], after: [128, 512] });
    expect(rows.find((r) => r.name === 'blocks.4.mlp.fc2')).toMatchObject({ before: [128, 512], after: [96, 512] });
    const shortcuts = rows.filter((r) => r.paramsBefore === 0);
    expect(shortcuts.length).toBe(12);
    // 11 shortcuts of 96 × 96 and the last MLP's 96 × 128 (the head keeps 128).
    const shortcutParams = shortcuts.reduce((n, r) => n + r.paramsAfter, 0);
    expect(shortcutParams).toBe(11 * 96 * 96 + 96 * 128);
    expect(stage.linearParamsAfter).toBe(rows.reduce((n, r) => n + r.paramsAfter, 0) + lm.analysis.linears.filter((l) => !rows.some((r) => r.id === l.id)).reduce((n, l) => n + l.params, 0));
    expect(stage.linearParamsAfter).toBeLessThan(stage.linearParamsBefore);
    expect(report.notes.join(' ')).toMatch(/of which 113,664 are the 12 residual shortcut matrices/);
    expect(bytes.length).toBeLessThan(lm.bytes.length * 0.9);
    const [dense, sliced] = [await lmPerplexity(lm.bytes, lm.eval), await lmPerplexity(bytes, lm.eval)];
    console.log(`SliceGPT 25 %: perplexity ${dense.toFixed(4)} → ${sliced.toFixed(4)}, file ${lm.bytes.length} → ${bytes.length} bytes`);
    expect(sliced).toBeLessThan(dense * 1.1);
  }, 300_000);

  test('recipes/slicegpt-25+gptq-4bit.json: GPTQ runs on the sliced model, shortcuts included', async () => {
    const { report, bytes } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe('slicegpt-25+gptq-4bit.json', 4), calibSet: lm.calib, createRunner: countingRunnerFactory().open });
    const quantized = analyzeModel(readModel(bytes)).linears.filter((l) => l.opType === 'MatMulNBits');
    expect(quantized.map((l) => [l.name, l.inFeatures])).toContainEqual(['blocks.0.attn.q_proj', 96]);
    expect(quantized.some((l) => l.name.includes('shortcut'))).toBe(true);
    expect(report.reshaped!.length).toBeGreaterThan(0);
    expect(Number.isFinite(await lmPerplexity(bytes, lm.eval))).toBe(true);
  }, 300_000);

  test('refusals name the field, in one line, before any work', async () => {
    const calibSize = datasetSize(lm.calib);
    const bad = parseRecipe({ version: 2, stages: [{ kind: 'slice', keep: 1.5, rounding: 0 }] });
    expect(validateRecipe(bad, lm.analysis, calibSize)).toEqual(['stages[0].keep: must be in (0, 1], got 1.5', 'stages[0].rounding: must be an integer >= 1, got 0']);
    const nothing = parseRecipe({ version: 2, stages: [{ kind: 'slice', keep: 0.05, rounding: 8 }] });
    expect(validateRecipe(nothing, lm.analysis, calibSize)).toEqual(['stages[0].keep: keeps no dimension: int(0.05 × 128) rounded down to a multiple of 8 is 0']);
    const vit = bundledModel('digits-vit');
    const onVit = validateRecipe(parseRecipe({ version: 2, stages: [{ kind: 'slice' }] }), vit.analysis, datasetSize(vit.calib));
    expect(onVit).toEqual(["stages[0]: SliceGPT cannot run on this model: SliceGPT here supports causal language models with token embeddings; this model's task is image-classification"]);
    const afterQuantize = parseRecipe({ version: 2, stages: [{ kind: 'quantize', method: 'rtn', bits: 4 }, { kind: 'slice' }] });
    expect(validateRecipe(afterQuantize, lm.analysis, calibSize).join('\n')).toMatch(/stages\[1\]/);

    // The torch export of GPT-2 writes LayerNorm out op by op: the graph check refuses it, no session opened.
    const gpt2 = fixtureModel('gpt2');
    const { open, counts } = countingRunnerFactory();
    const run = compressModel({ model: gpt2.model, analysis: gpt2.analysis, recipe: parseRecipe({ version: 2, calibration: { samples: 2 }, stages: [{ kind: 'slice' }] }), calibSet: randomTokens(4, 8, 48, 0), createRunner: open });
    await expect(run).rejects.toThrow(RecipeError);
    await expect(run).rejects.toThrow(/^invalid recipe: stages\[0\]: SliceGPT cannot run on this model: block 0: the norm before these layers is neither a LayerNormalization node nor an RMSNorm written out/);
    expect(counts.created).toBe(0);
  }, 120_000);
});
