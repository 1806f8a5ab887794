// The quantize stage through compressModel on the bundled LM, with real onnxruntime-web: every
// quantize example in recipes/ runs; the packed file (MatMulNBits) is within 3 % of its analytic
// size and scores what the simulated file scores; pruned weights stay exactly zero after GPTQ;
// the file, opened again, is recognised as quantized (and pruned) with its layers read back.
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
import { expectClose } from '../testing/expectClose.ts';

const lm = bundledModel('kjv-charlm');
const recipesDir = join(import.meta.dirname, '../../../recipes');
const read = (name: string): Recipe => {
  const recipe = parseRecipe(JSON.parse(readFileSync(join(recipesDir, name), 'utf8')));
  recipe.calibration.samples = 8; // the suite's budget; the CLI runs the recipe's 32
  return recipe;
};
const run = (recipe: Recipe) => compressModel({ model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calib, createRunner: openRunner, sourceModel: 'kjv-charlm' });

const perplexity = (bytes: Uint8Array) => bundledPerplexity(lm, bytes);

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

  test('AWQ 4-bit, groups of 32: shared scales, 1/s folded into ln1/ln2 or a Mul, packed; the file computes what the lab evaluated', async () => {
    const awq = await run(read('awq-4bit-g32.json'));
    const simulatedRecipe = read('awq-4bit-g32.json');
    (simulatedRecipe.stages[0] as QuantizeStage).export = 'simulated';
    const simulated = await run(simulatedRecipe);
    const rtnRecipe = read('awq-4bit-g32.json');
    (rtnRecipe.stages[0] as QuantizeStage).method = 'rtn';
    const rtn = await run(rtnRecipe);
    const rows = awq.report.quantized;
    expect(rows.every((q) => q.export === 'packed' && q.relativeErrorBasis === 'sampled')).toBe(true);
    const byRole = (role: string) => rows.filter((q) => q.role === role).map((q) => q.awq!.inverseScale);
    expect(new Set([...byRole('attn.q'), ...byRole('attn.v')]).size).toBe(6); // one ln1 per block
    expect(byRole('attn.q').every((text, b) => text === `scale folded into /blocks.${b}/ln1/LayerNormalization`)).toBe(true);
    expect(byRole('mlp.up').every((text, b) => text === `scale folded into /blocks.${b}/ln2/LayerNormalization`)).toBe(true);
    expect([...byRole('attn.out'), ...byRole('mlp.down')].every((text) => text.startsWith('explicit Mul on input'))).toBe(true);
    expect(rows.filter((q) => q.role === 'attn.k').every((q) => q.awq!.sharedWith.length === 3)).toBe(true);
    expect(awq.report.notes).toEqual(expect.arrayContaining(['AWQ: 12 scales folded into a LayerNormalization', 'AWQ: 12 scales written as an explicit Mul on the input']));
    // The working model holds Ŵ = Q(W·s)/s: the same weights whichever way the file stores them.
    expect(awq.report.weightsSha256).toBe(simulated.report.weightsSha256);
    const measured = awq.bytes.byteLength;
    const analytic = awq.report.totals.analyticQuantizedFileBytes!;
    expect(Math.abs(measured / analytic - 1)).toBeLessThan(0.03);
    // Logits of the packed file (folded norms, Muls, MatMulNBits) against the simulated file (the
    // lab's evaluation of the same recipe): float32 order only, 2e-5 seen on logits of magnitude ~10.
    const tokens = BigInt64Array.from({ length: 64 }, (_, i) => BigInt((i * 7 + 3) % lm.analysis.embeddings[0].weightDims[0]));
    const logits = async (bytes: Uint8Array) => {
      const runner = await openRunner(bytes);
      try {
        const out = await runner.run({ [runner.inputNames[0]]: { dtype: 'int64', dims: [1, 64], data: tokens } });
        return out[runner.outputNames[0]].data as Float32Array;
      } finally {
        await runner.release();
      }
    };
    expectClose(await logits(awq.bytes), await logits(simulated.bytes), { atol: 2e-4, rtol: 1e-4 }, 'AWQ packed vs simulated logits');
    const [pplAwq, pplSimulated, pplRtn] = [await perplexity(awq.bytes), await perplexity(simulated.bytes), await perplexity(rtn.bytes)];
    const mean = (r: typeof rows) => r.reduce((s, q) => s + (q.relativeError ?? NaN), 0) / r.length;
    console.log(`[quantize] w4 g32: AWQ mean rel. error ${mean(rows).toFixed(4)} (sampled), perplexity packed ${pplAwq.toFixed(5)}, simulated ${pplSimulated.toFixed(5)}; RTN ${pplRtn.toFixed(5)}; file ${measured} bytes, analytic ${analytic}`);
    expect(Math.abs(pplAwq / pplSimulated - 1)).toBeLessThan(1e-5);
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
