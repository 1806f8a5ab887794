// The `structured` stage through compressModel on the bundled LM (and a generated Llama): ZipLM and
// CFSP plans meet their targets, the exports are dense smaller models ORT runs, the OBS update is
// one toggle away (and lowers each consumer's output error on the calibration set), a speedup
// target uses a latency table measured here, and impossible targets are refused by field.
import { describe, expect, test } from 'vitest';
import { bundledModel, lmPerplexity, openRunner, randomTokens } from '../calibrate/fixtures/models.ts';
import { loadModelFromDisk } from '../../cli/loadModelDir.ts';
import { generatedFolder } from '../hf/testing/generatedFolders.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { parseRecipe, RecipeError } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { compressModel } from './pipeline.ts';
import { isStructuredStageReport, type StructuredStageReport } from './structuredStage.ts';

const lm = bundledModel('kjv-charlm');
const recipe = (stage: Record<string, unknown>, more: unknown[] = []) => parseRecipe({ version: 2, seed: 7, calibration: { samples: 8 }, stages: [{ kind: 'structured', ...stage }, ...more] });
const run = (stage: Record<string, unknown>, more: unknown[] = []) => compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe(stage, more), calibSet: lm.calib, createRunner: openRunner });
const structuredReport = (stages: { kind: string }[]) => stages.find(isStructuredStageReport) as StructuredStageReport;

describe('structured stage', () => {
  let densePerplexity = 0;

  test('ZipLM, heads and neurons, size 0.7: the export keeps ≤ 70 % of the linear parameters, ORT runs it, perplexity stays near the dense one', async () => {
    densePerplexity = await lmPerplexity(lm.bytes, lm.eval);
    const out = await run({ method: 'ziplm', remove: 'both', target: { size: 0.7 } });
    const report = structuredReport(out.report.stages);
    const after = analyzeModel(out.model);
    const params = (a: typeof after) => a.linears.reduce((s, l) => s + l.params, 0);
    expect(params(after)).toBe(report.linearParamsAfter);
    expect(report.linearParamsAfter / report.linearParamsBefore).toBeLessThanOrEqual(0.7);
    expect(report.linearParamsAfter / report.linearParamsBefore).toBeGreaterThan(0.65);
    // Kept neurons are multiples of 8 (neuronMultiple 'auto' on a 512-wide MLP); heads 1..4.
    for (const b of report.plan.blocks) {
      expect(b.neurons.kept % 8).toBe(0);
      expect(b.heads.kept).toBeGreaterThanOrEqual(1);
      const site = after.attention.find((s) => s.block === b.block)!;
      expect(site.heads).toBe(b.heads.kept);
      expect(after.linears.find((l) => l.block === b.block && l.role === 'mlp.down')!.inFeatures).toBe(b.neurons.kept);
    }
    expect(out.report.reshaped!.length).toBeGreaterThan(0);
    expect(out.report.reshaped!.filter((r) => r.role === 'attn.out' || r.role === 'mlp.down').every((r) => r.relativeError !== null && r.relativeError < 1)).toBe(true);
    const perplexity = await lmPerplexity(out.bytes, lm.eval);
    expect(perplexity).toBeGreaterThan(densePerplexity);
    expect(perplexity).toBeLessThan(3 * densePerplexity);
  });

  test('the OBS update lowers every consumer\'s output error, with the same structures removed', async () => {
    const stage = { method: 'ziplm', remove: 'both', target: { sparsity: 0.4 } };
    const [on, off] = await Promise.all([run({ ...stage, update: true }), run({ ...stage, update: false })]);
    const rows = (o: typeof on) => o.report.reshaped!.filter((r) => r.role === 'attn.out' || r.role === 'mlp.down');
    expect(rows(on).map((r) => [r.name, r.removed])).toEqual(rows(off).map((r) => [r.name, r.removed]));
    rows(on).forEach((r, i) => expect(r.relativeError!).toBeLessThan(rows(off)[i].relativeError!));
    const [pOn, pOff] = [await lmPerplexity(on.bytes, lm.eval), await lmPerplexity(off.bytes, lm.eval)];
    expect(pOn).toBeLessThan(pOff);
  });

  test('CFSP, neurons, sparsity 0.3: per-block counts from the block angles, multiples of 8, about 30 % of the MLP neurons removed', async () => {
    const out = await run({ method: 'cfsp', remove: 'neurons', target: { sparsity: 0.3 } });
    const report = structuredReport(out.report.stages);
    const kept = report.plan.blocks.map((b) => b.neurons.kept);
    expect(kept.every((k) => k % 8 === 0)).toBe(true);
    expect(report.plan.blocks.every((b) => b.heads.kept === b.heads.of)).toBe(true);
    const removedShare = 1 - kept.reduce((a, b) => a + b, 0) / (6 * 512);
    expect(removedShare).toBeGreaterThanOrEqual(0.3);
    expect(removedShare).toBeLessThan(0.33);
    expect(report.plan.cfsp!.importances).toHaveLength(6);
    expect(new Set(kept).size).toBeGreaterThan(1);
    expect(await lmPerplexity(out.bytes, lm.eval)).toBeLessThan(3 * densePerplexity);
  });

  test('speedup 1.5: planned on a latency table measured here; the prediction meets the target', async () => {
    const out = await run({ method: 'ziplm', remove: 'both', target: { speedup: 1.5 } });
    const { plan } = structuredReport(out.report.stages);
    expect(plan.unit).toBe('ms');
    expect(plan.predicted!.speedup).toBeGreaterThanOrEqual(1.5 - 1e-9);
    expect(plan.predicted!.backend).toBe('wasm');
    expect(plan.cost).toBeLessThanOrEqual(plan.budget + 1e-9);
  });

  test('impossible targets and methods are refused by field, before or at planning', async () => {
    const problems = (stage: Record<string, unknown>) => validateRecipe(recipe(stage), lm.analysis);
    expect(problems({ method: 'cfsp', remove: 'heads', target: { sparsity: 0.3 } })).toEqual([expect.stringMatching(/^stages\[0\]\.remove: CFSP prunes MLP neurons only/)]);
    expect(problems({ target: { sparsity: 1.2 } })).toEqual([expect.stringMatching(/^stages\[0\]\.target\.sparsity: must be in \(0, 1\)/)]);
    expect(problems({ target: { speedup: 0.5 } })).toEqual([expect.stringMatching(/^stages\[0\]\.target\.speedup: must be a number > 1/)]);
    expect(() => recipe({ target: { size: 0.5, speedup: 2 } })).toThrow(/stages\[0\]\.target: must give exactly one of sparsity, size, speedup/);
    await expect(run({ remove: 'heads', target: { size: 0.2 } })).rejects.toThrow(/stages\[0\]\.target\.size: 0\.2 cannot be met/);
    await expect(run({ remove: 'both', target: { speedup: 50 } })).rejects.toThrow(/stages\[0\]\.target\.speedup: 50× cannot be met on wasm: the measured floor is \d+\.\d\d×/);
  });

  test('heads → GPTQ 4-bit: the quantize stage runs on the smaller model', async () => {
    const out = await run({ method: 'ziplm', remove: 'heads', target: { sparsity: 0.25 } }, [{ kind: 'quantize', method: 'gptq', bits: 4, granularity: 'group', groupSize: 32 }]);
    const after = analyzeModel(readModel(out.bytes));
    const outs = after.linears.filter((l) => l.role === 'attn.out');
    expect(outs.reduce((s, l) => s + l.inFeatures, 0)).toBe(0.75 * 6 * 128);
    expect(out.report.stages.map((s) => s.kind)).toEqual(['structured', 'quantize']);
    expect(await lmPerplexity(out.bytes, lm.eval)).toBeLessThan(4 * densePerplexity);
  });
});

describe('structured stage on a generated Llama (grouped-query attention)', () => {
  test('ZipLM removes whole key-value groups and neurons; ORT runs the export', async () => {
    const folder = loadModelFromDisk(generatedFolder('llama'));
    const model = readModel(folder.bytes);
    const analysis = analyzeModel(model);
    const calibSet = randomTokens(8, 32, 32000, 1);
    const r = parseRecipe({ version: 2, seed: 1, calibration: { samples: 8 }, stages: [{ kind: 'structured', method: 'ziplm', remove: 'both', target: { sparsity: 0.5 } }] });
    const out = await compressModel({ model, analysis, recipe: r, calibSet, createRunner: openRunner });
    const after = analyzeModel(out.model);
    for (const site of after.attention) expect(site.heads! / site.kvHeads!).toBe(2);
    expect(structuredReport(out.report.stages).linearParamsAfter).toBeLessThan(structuredReport(out.report.stages).linearParamsBefore);
    const perplexity = await lmPerplexity(out.bytes, randomTokens(2, 16, 32000, 9));
    expect(Number.isFinite(perplexity)).toBe(true);
  });

  test('a fused attention is refused in validate with one sentence naming the field', () => {
    const r = parseRecipe({ version: 2, seed: 1, stages: [{ kind: 'structured', remove: 'heads', target: { sparsity: 0.3 } }] });
    const noAttention = { ...lm.analysis, attention: [] };
    const problems = validateRecipe(r, noAttention);
    expect(problems).toEqual([expect.stringMatching(/^stages\[0\]\.remove: cannot remove heads from this model: block 0 has 0 attention sites/)]);
    expect(RecipeError).toBeDefined();
  });
});
