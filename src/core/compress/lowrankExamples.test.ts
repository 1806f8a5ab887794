// The low-rank and BitStack examples in recipes/ (examples.test.ts runs the pruning ones): each
// parses, is valid on both bundled models, and runs through compressModel to a file ORT evaluates;
// the composed one (low rank → GPTQ 4-bit) packs both factors of every factorised layer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { datasetSize } from '../eval/datasets.ts';
import { evaluate } from '../eval/evaluate.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { compressModel } from './pipeline.ts';

const folder = join(import.meta.dirname, '../../../recipes');
const read = (name: string) => parseRecipe(JSON.parse(readFileSync(join(folder, name), 'utf8')));
const lm = bundledModel('kjv-charlm');
const vit = bundledModel('digits-vit');

async function accuracy(bytes: Uint8Array): Promise<number> {
  const runner = await openRunner(bytes);
  try {
    const metrics = await evaluate(runner, vit.eval);
    if (metrics.task !== 'image-classification') throw new Error('expected a classifier');
    return metrics.top1;
  } finally {
    await runner.release();
  }
}

describe('low-rank and BitStack recipes', () => {
  const names = ['lowrank-svdllm-0.7.json', 'bitstack-50.json', 'lowrank-r32+gptq-4bit.json'];

  test.each(names)('%s is valid on the bundled LM and ViT', (name) => {
    expect(validateRecipe(read(name), lm.analysis, datasetSize(lm.calib))).toEqual([]);
    expect(validateRecipe(read(name), vit.analysis, datasetSize(vit.calib))).toEqual([]);
  });

  test.each(names.slice(0, 2))('%s runs on the bundled ViT and the file classifies about as well', async (name) => {
    const recipe = read(name);
    recipe.calibration.samples = 4;
    const { bytes, report } = await compressModel({ model: vit.model, analysis: vit.analysis, recipe, calibSet: vit.calib, createRunner: openRunner });
    expect(report.reshaped!.length).toBeGreaterThan(0);
    expect(bytes.length).toBeLessThan(vit.bytes.length);
    expect(await accuracy(bytes)).toBeGreaterThan((await accuracy(vit.bytes)) - 0.1);
  });

  test('lowrank-r32+gptq-4bit on the LM: GPTQ packs both factors of every block layer', async () => {
    const recipe = read('lowrank-r32+gptq-4bit.json');
    recipe.calibration.samples = 4;
    const { bytes, report } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calib, createRunner: openRunner });
    expect(report.reshaped!.map((r) => r.rank)).toEqual(Array(36).fill(32));
    expect(report.quantized).toHaveLength(72);
    expect(report.quantized.every((q) => q.export === 'packed')).toBe(true);
    const after = analyzeModel(readModel(bytes));
    expect(after.linears.filter((l) => l.nBits !== undefined)).toHaveLength(72);
    expect(bytes.length).toBeLessThan(lm.bytes.length / 8);
  });
});
