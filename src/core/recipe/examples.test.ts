// Every example in recipes/ parses, is valid on the bundled ViT (the smaller model; e2e/prune.e2e.ts runs the LM) and runs through compressModel
// (with 4 calibration samples instead of 32, to keep the suite short): each layer holds its
// pattern and the allocator's mean is the stage's target, and the file, opened again, is
// recognised as pruned with each layer's pattern. The required examples exist.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { compressModel } from '../compress/pipeline.ts';
import { isPruneStageReport } from '../compress/report.ts';
import { datasetSize } from '../eval/datasets.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { describePattern } from '../prune/patterns.ts';
import { parseRecipe } from './parse.ts';
import { isPruneStage, targetSparsity } from './stages/prune.ts';
import { validateRecipe } from './validate.ts';

const folder = join(import.meta.dirname, '../../../recipes');
const examples = readdirSync(folder).filter((name) => name.endsWith('.json')).sort();
/** Recipes with a prune stage: checked here for patterns; the quantize examples in quantizeExamples.test.ts. */
const pruneOnly = examples.filter((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')).stages.every((s: { kind: string }) => s.kind === 'prune'));
const vit = bundledModel('digits-vit');

describe('recipes/', () => {
  test('holds SparseGPT 2:4, Wanda 50 %, magnitude 50 %, Wanda OWL 4:8 and SparseGPT V:N:M, all version 2', () => {
    expect(examples).toEqual(expect.arrayContaining(['sparsegpt-2of4.json', 'wanda-50.json', 'magnitude-50.json', 'wanda-owl-4of8.json', 'sparsegpt-vnm-64-2-8.json']));
    for (const name of examples) expect(JSON.parse(readFileSync(join(folder, name), 'utf8')).version).toBe(2);
  });

  test.each(pruneOnly)('%s runs on the bundled ViT', async (name) => {
    const recipe = parseRecipe(JSON.parse(readFileSync(join(folder, name), 'utf8')));
    expect(validateRecipe(recipe, vit.analysis, datasetSize(vit.calib))).toEqual([]);
    recipe.calibration.samples = 4;
    const { report, bytes } = await compressModel({ model: vit.model, analysis: vit.analysis, recipe, calibSet: vit.calib, createRunner: openRunner });
    expect(report.layers.length).toBeGreaterThan(0);
    for (const layer of report.layers) expect(layer.patternCheck).toMatchObject({ ok: true, violations: [] });
    const stage = recipe.stages.find(isPruneStage)!;
    const allocation = report.stages.filter(isPruneStageReport)[0].allocation;
    expect(allocation.mean).toBeCloseTo(targetSparsity(stage), 9);
    const recognised = analyzeModel(readModel(bytes)).compression;
    // A prune stage that quantized its kept weights in the sweep (joint SparseGPT + GPTQ) writes both.
    expect(recognised.verdict).toBe(stage.quantize ? 'sparse+quantized' : 'sparse');
    // By name: a packed layer's weight (its id) is the new MatMulNBits tensor.
    // Block groups are recognised with their measured sparsity: compare the group shape only.
    const shapeOnly = (pattern: string) => pattern.replace(/ blocks .*$/, ' blocks');
    const found = new Map(recognised.layers.map((layer) => [layer.name, layer.pattern ? shapeOnly(describePattern(layer.pattern)) : 'unstructured']));
    const asked = (pattern: string) => (pattern.startsWith('unstructured') ? 'unstructured' : shapeOnly(pattern));
    expect(report.layers.map((layer) => [layer.name, found.get(layer.name)])).toEqual(report.layers.map((layer) => [layer.name, asked(layer.pattern)]));
  });
});
