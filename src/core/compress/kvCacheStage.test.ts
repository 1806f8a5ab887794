// The kvcache stage in recipes and the pipeline: its refusals name the field in one line, and
// recipes/w4a4kv4.json (GPTQ 4-bit + per-token A4 + KV4) runs on the bundled LM through
// compressModel into a file ONNX Runtime runs: MatMulNBits, and standard Q/DQ on K, V and the
// linear layers' inputs, labelled simulated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, fixtureModel, lmPerplexity, openRunner } from '../calibrate/fixtures/models.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';
import { readModel } from '../onnx/index.ts';
import { compressedFileName } from '../recipe/fileName.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { isKvCacheStageReport } from './kvCacheStage.ts';
import { compressModel } from './pipeline.ts';

const lm = bundledModel('kjv-charlm');
const recipe = (stages: object[]) => parseRecipe({ version: 2, seed: 0, calibration: { samples: 4, mode: 'sequential' }, stages });
const kv = (fields: object = {}) => ({ kind: 'kvcache', ...fields });

describe('kvcache stage: refusals', () => {
  test.each([
    [[kv({ bits: 3 })], 'stages[0].bits: must be 4 or 8, got 3'],
    [[kv({ keepSinks: -1 })], 'stages[0].keepSinks: must be an integer >= 0, got -1'],
    [[kv({ activations: { bits: 2 } })], 'stages[0].activations.bits: must be 4 or 8, got 2'],
    [[kv(), { kind: 'quantize', method: 'rtn' }], 'stages[0]: must come after the weight stages (it quantizes K/V in the graph they export), but quantize follows'],
  ])('%j → %s', (stages, message) => {
    expect(validateRecipe(recipe(stages), lm.analysis, 100)).toEqual([message]);
  });

  test('an unknown field or value is refused by path when parsing', () => {
    expect(() => recipe([kv({ granularity: 'per-block' })])).toThrow(/stages\[0\]\.granularity/);
    expect(() => recipe([kv({ bogus: 1 })])).toThrow('stages[0].bogus: unknown field');
  });

  test('a model without attention is refused in one sentence naming what is missing', () => {
    const mlp = fixtureModel('mlp-gemm');
    const problems = validateRecipe(recipe([kv()]), mlp.analysis, 100);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^stages\[0\]: KV-cache quantization needs the attention's keys and values in the graph: no attention found/);
  });
});

describe('recipes/w4a4kv4.json on the bundled LM', () => {
  test('GPTQ 4-bit packed, activations and K/V 4-bit simulated: ORT runs it, and it costs more than GPTQ alone', async () => {
    const json = JSON.parse(readFileSync(join(import.meta.dirname, '../../../recipes/w4a4kv4.json'), 'utf8'));
    json.calibration.samples = 4;
    const full = parseRecipe(json);
    expect(validateRecipe(full, lm.analysis, 100)).toEqual([]);
    expect(compressedFileName('kjv-charlm', full)).toBe('kjv-charlm.gptq-w4g32+a4kv4.onnx');
    const evalSet = { ...(lm.eval as LmTokenDataset), sequences: (lm.eval as LmTokenDataset).sequences.slice(0, 4) };
    const run = async (stages: object[]) => compressModel({ model: lm.model, analysis: lm.analysis, recipe: parseRecipe({ ...json, stages }), calibSet: lm.calib, createRunner: openRunner });
    const w4a4kv4 = await run(json.stages);
    const w4 = await run([json.stages[0]]);
    const report = w4a4kv4.report.stages.find(isKvCacheStageReport)!;
    expect(report).toMatchObject({ simulated: true, activationLayers: 36, cacheBytesPerToken: { float: 6 * 2 * 128 * 4 } });
    expect(report.sites).toHaveLength(12);
    expect(w4a4kv4.report.totals.packedLayers).toBe(36);
    expect(w4a4kv4.report.notes.join('\n')).toMatch(/KV cache SIMULATED: 12 K\/V tensors/);
    const ops = readModel(w4a4kv4.bytes).graph!.node!.map((n) => n.opType);
    expect(ops.filter((op) => op === 'QuantizeLinear')).toHaveLength(12 + 24);
    expect(ops.filter((op) => op === 'MatMulNBits')).toHaveLength(36);
    const [withKv, weightsOnly] = [await lmPerplexity(w4a4kv4.bytes, evalSet), await lmPerplexity(w4.bytes, evalSet)];
    expect(Number.isFinite(withKv)).toBe(true);
    expect(withKv).toBeGreaterThan(weightsOnly);
  }, 180_000);
});
