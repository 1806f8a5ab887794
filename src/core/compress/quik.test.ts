// QUIK through compressModel on the bundled LM, with real onnxruntime-web: the packed split file
// (Gather + MatMulNBits + float outlier MatMul) scores what the simulated file (Ŵ as floats)
// scores, is smaller than the dense file and within 3 % of the analytic size; with simulated
// activation quantization the file carries the fake-quantize ops (noted in the report), so the
// evaluation, which runs the file, pays their cost.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, bundledPerplexity, openRunner } from '../calibrate/fixtures/models.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { parseRecipe } from '../recipe/parse.ts';
import type { Recipe } from '../recipe/types.ts';
import type { QuantizeStage } from '../recipe/stages/quantize.ts';
import { compressModel } from './pipeline.ts';

const lm = bundledModel('kjv-charlm');
const recipe = (): Recipe => {
  const parsed = parseRecipe(JSON.parse(readFileSync(join(import.meta.dirname, '../../../recipes/quik-4bit-outliers.json'), 'utf8')));
  parsed.calibration.samples = 8; // the suite's budget; the CLI runs the recipe's 32
  return parsed;
};
const stageOf = (r: Recipe) => r.stages[0] as QuantizeStage;
const run = (r: Recipe) => compressModel({ model: lm.model, analysis: lm.analysis, recipe: r, calibSet: lm.calib, createRunner: openRunner, sourceModel: 'kjv-charlm' });

const perplexity = (bytes: Uint8Array) => bundledPerplexity(lm, bytes);

/** MatMulNBits and float MatMuls sum in different orders (bundledLm.test.ts measured 4e-9 relative). */
const PERPLEXITY_RTOL = 1e-5;

describe('QUIK on the bundled LM', () => {
  test('4-bit per row, 8 outlier columns: packed split file = simulated file, smaller, analytic size within 3 %', async () => {
    const packed = await run(recipe());
    const simulatedRecipe = recipe();
    stageOf(simulatedRecipe).export = 'simulated';
    const simulated = await run(simulatedRecipe);
    const { totals, quantized } = packed.report;
    expect(quantized).toHaveLength(36);
    expect(totals.packedLayers).toBe(36);
    expect(quantized.every((q) => q.method === 'quik' && q.export === 'packed' && q.relativeErrorBasis === 'hessian')).toBe(true);
    expect(packed.report.weightsSha256).toBe(simulated.report.weightsSha256);
    expect(packed.report.notes.some((n) => /36 layers: QUIK split, 8 outlier input columns in float32/.test(n))).toBe(true);
    const measured = packed.bytes.byteLength;
    const analytic = totals.analyticQuantizedFileBytes!;
    console.log(`[quik] w4 row k8: file ${measured} bytes, analytic ${analytic} (${((measured / analytic - 1) * 100).toFixed(2)} %), dense ${lm.bytes.byteLength}`);
    expect(Math.abs(measured / analytic - 1)).toBeLessThan(0.03);
    expect(measured).toBeLessThan(lm.bytes.byteLength / 4);
    const [pplPacked, pplSimulated] = [await perplexity(packed.bytes), await perplexity(simulated.bytes)];
    console.log(`[quik] perplexity packed ${pplPacked}, simulated ${pplSimulated}`);
    expect(Math.abs(pplPacked / pplSimulated - 1)).toBeLessThan(PERPLEXITY_RTOL);
    expect(pplSimulated).toBeLessThan(3.6);
    const back = analyzeModel(readModel(packed.bytes));
    expect(back.unsupported).toEqual([]);
    expect(back.linears.filter((l) => l.opType === 'MatMulNBits')).toHaveLength(36);
  }, 120_000);

  test('W4A4 (simulated): the file carries the fake quantization, the report says so, and the evaluation pays for it', async () => {
    const w4 = await run(recipe());
    const a4Recipe = recipe();
    stageOf(a4Recipe).quik.activationBits = 4;
    const a4 = await run(a4Recipe);
    // Same weights: only the activations differ.
    expect(a4.report.weightsSha256).toBe(w4.report.weightsSha256);
    expect(a4.report.notes.some((n) => /activation quantization SIMULATED: .* 4 bits/.test(n))).toBe(true);
    expect(a4.report.stages[0].summary).toMatch(/activations 4-bit per token \(simulated\)/);
    // The error column includes the activation quantization: measured on the sampled input tokens
    // (calibration keeps them for QUIK's activation bits, 'inputTokens', even though it collects H).
    expect(a4.report.quantized.every((r) => r.relativeErrorBasis === 'sampled')).toBe(true);
    const meanError = (rows: typeof a4.report.quantized) => rows.reduce((n, r) => n + r.relativeError!, 0) / rows.length;
    expect(meanError(a4.report.quantized)).toBeGreaterThan(2 * meanError(w4.report.quantized));
    expect(a4.report.notes.some((n) => /no input sample was collected/.test(n))).toBe(false);
    const ops = readModel(a4.bytes).graph!.node!.map((n) => n.opType);
    expect(ops.filter((op) => op === 'ReduceMin')).toHaveLength(36);
    const [pplW4, pplA4] = [await perplexity(w4.bytes), await perplexity(a4.bytes)];
    console.log(`[quik] perplexity W4 ${pplW4}, W4A4 ${pplA4}`);
    expect(pplA4).toBeGreaterThan(pplW4 * 1.01);
  }, 120_000);
});
