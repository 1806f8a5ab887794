// The quantize stage through compressModel on the bundled LM, with real onnxruntime-web: every
// quantize example in recipes/ runs; the packed file (MatMulNBits) is within 3 % of its analytic
// size and scores what the simulated file scores; pruned weights stay exactly zero after GPTQ;
// the file, opened again, is recognised as quantized (and pruned) with its layers read back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { evaluate } from '../eval/evaluate.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { parseRecipe } from '../recipe/parse.ts';
import type { Recipe } from '../recipe/types.ts';
import type { QuantizeStage } from '../recipe/stages/quantize.ts';
import { compressModel } from './pipeline.ts';

const lm = bundledModel('kjv-charlm');
const recipesDir = join(import.meta.dirname, '../../../recipes');
const read = (name: string): Recipe => {
  const recipe = parseRecipe(JSON.parse(readFileSync(join(recipesDir, name), 'utf8')));
  recipe.calibration.samples = 8; // the suite's budget; the CLI runs the recipe's 32
  return recipe;
};
const run = (recipe: Recipe) => compressModel({ model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calib, createRunner: openRunner, sourceModel: 'kjv-charlm' });

async function perplexity(bytes: Uint8Array): Promise<number> {
  const runner = await openRunner(bytes);
  try {
    const metrics = await evaluate(runner, lm.eval);
    if (metrics.task !== 'causal-lm') throw new Error('expected an LM');
    return metrics.perplexity;
  } finally {
    await runner.release();
  }
}

describe('the quantize stage on the bundled LM', () => {
  test('GPTQ 4-bit, groups of 32, packed: MatMulNBits within 3 % of the analytic size, scoring what the simulated file scores', async () => {
    const packedRecipe = read('gptq-4bit-g32.json');
    const packed = await run(packedRecipe);
    const simulatedRecipe = structuredClone(packedRecipe);
    (simulatedRecipe.stages[0] as QuantizeStage).export = 'simulated';
    const simulated = await run(simulatedRecipe);
    const { totals, quantized } = packed.report;
    expect(quantized).toHaveLength(36);
    expect(totals.packedLayers).toBe(36);
    expect(totals.simulatedLayers).toBe(0);
    expect(quantized.every((q) => q.export === 'packed' && q.relativeErrorBasis === 'hessian')).toBe(true);
    // Same weights either way; only the storage differs.
    expect(packed.report.weightsSha256).toBe(simulated.report.weightsSha256);
    const measured = packed.bytes.byteLength;
    const analytic = totals.analyticQuantizedFileBytes!;
    console.log(`[quantize] GPTQ w4 g32: file ${measured} bytes, analytic ${analytic} (${((measured / analytic - 1) * 100).toFixed(2)} %), simulated file ${simulated.bytes.byteLength}, dense ${lm.bytes.byteLength}`);
    expect(Math.abs(measured / analytic - 1)).toBeLessThan(0.03);
    expect(measured).toBeLessThan(lm.bytes.byteLength / 3);
    const [pplPacked, pplSimulated] = [await perplexity(packed.bytes), await perplexity(simulated.bytes)];
    console.log(`[quantize] perplexity packed ${pplPacked}, simulated ${pplSimulated}`);
    expect(Math.abs(pplPacked / pplSimulated - 1)).toBeLessThan(1e-5);
    expect(pplSimulated).toBeGreaterThan(3.49);
    expect(pplSimulated).toBeLessThan(3.7);
    const recognised = analyzeModel(readModel(packed.bytes));
    expect(recognised.unsupported).toEqual([]);
    expect(recognised.compression.verdict).toBe('quantized');
    expect(recognised.linears.filter((l) => l.opType === 'MatMulNBits')).toHaveLength(36);
  }, 120_000);

  test('SparseGPT 2:4 then GPTQ 4-bit: pruned weights stay exactly zero, and the file says both', async () => {
    const { report, bytes } = await run(read('sparsegpt-2of4+gptq-4bit.json'));
    expect(report.layers.every((l) => l.patternCheck.ok)).toBe(true);
    for (const q of report.quantized) expect(q.zerosKept).toBe(q.shape[0] * q.shape[1] / 2);
    const recognised = analyzeModel(readModel(bytes)).compression;
    expect(recognised.verdict).toBe('sparse+quantized');
    expect(recognised.patterns).toEqual([{ pattern: '2:4', layers: 36 }]);
    const ppl = await perplexity(bytes);
    expect(ppl).toBeGreaterThan(3.49);
    expect(ppl).toBeLessThan(6);
  }, 120_000);

  test('AWQ 4-bit, groups of 32: scales searched on sampled inputs, stored simulated (said why), against RTN on the same grid', async () => {
    const awq = await run(read('awq-4bit-g32.json'));
    const rtnRecipe = read('awq-4bit-g32.json');
    (rtnRecipe.stages[0] as QuantizeStage).method = 'rtn';
    const rtn = await run(rtnRecipe);
    expect(awq.report.quantized.every((q) => q.export === 'simulated' && /AWQ/.test(q.simulatedBecause ?? '') && q.relativeErrorBasis === 'sampled')).toBe(true);
    const mean = (rows: typeof awq.report.quantized) => rows.reduce((s, q) => s + (q.relativeError ?? NaN), 0) / rows.length;
    const [pplAwq, pplRtn] = [await perplexity(awq.bytes), await perplexity(rtn.bytes)];
    console.log(`[quantize] w4 g32: AWQ mean rel. error ${mean(awq.report.quantized).toFixed(4)} (sampled), perplexity ${pplAwq.toFixed(4)}; RTN perplexity ${pplRtn.toFixed(4)}`);
    expect(Number.isFinite(pplAwq)).toBe(true);
    expect(pplAwq).toBeLessThan(pplRtn * 1.05);
  }, 120_000);

  test.each(['gptq-3bit-row.json', 'rtn-3bit-row.json', 'mxfp4.json'])('%s: simulated, labelled so, runs in ONNX Runtime', async (name) => {
    const recipe = read(name);
    const { report, bytes } = await run(recipe);
    expect(report.quantized).toHaveLength(36);
    expect(report.quantized.every((q) => q.export === 'simulated')).toBe(true);
    expect(report.totals.simulatedLayers).toBe(36);
    // The would-be packed file: the analytic size, smaller than the float file written.
    expect(report.totals.analyticQuantizedFileBytes!).toBeLessThan(bytes.byteLength / 4);
    const ppl = await perplexity(bytes);
    expect(ppl).toBeGreaterThan(3.49);
    expect(Number.isFinite(ppl)).toBe(true);
  }, 120_000);

  test('the same recipe writes the same bytes twice', async () => {
    const recipe = read('rtn-3bit-row.json');
    const [a, b] = [await run(recipe), await run(recipe)];
    expect(a.report.fileSha256).toBe(b.report.fileSha256);
  }, 120_000);
});
