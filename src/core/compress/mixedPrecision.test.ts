// Mixed precision through compressModel on the bundled LM (recipes/mixed-4.0.json, 8 calibration
// samples), with real onnxruntime-web: widths allocated from the measured sensitivities stay under
// the target and beat uniform 4-bit on the DP's objective, each layer is quantized, sized and
// stored at its width (4 and 8 bits packed as MatMulNBits, 2 and 3 simulated), the file runs; a
// width set by hand (bitsByLayer) is kept and the others are re-allocated around it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { evaluate } from '../eval/evaluate.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { allocateBits } from '../quant/mixed.ts';
import { parseRecipe } from '../recipe/parse.ts';
import type { QuantizeStage } from '../recipe/stages/quantize.ts';
import type { Recipe } from '../recipe/types.ts';
import { describeMixedReport } from './mixedPrecision.ts';
import { compressModel } from './pipeline.ts';
import { isQuantizeStageReport } from './report.ts';

const lm = bundledModel('kjv-charlm');
const recipe = (): Recipe => {
  const r = parseRecipe(JSON.parse(readFileSync(join(import.meta.dirname, '../../../recipes/mixed-4.0.json'), 'utf8')));
  r.calibration.samples = 8;
  return r;
};
const run = (r: Recipe) => compressModel({ model: lm.model, analysis: lm.analysis, recipe: r, calibSet: lm.calib, createRunner: openRunner, sourceModel: 'kjv-charlm' });

describe('mixed precision on the bundled LM', () => {
  test('mixed-4.0: widths from sensitivity under 4 code bits, each layer stored at its width, the file runs', async () => {
    const { report, bytes } = await run(recipe());
    const stage = report.stages.find(isQuantizeStageReport)!;
    const mixed = stage.mixed!;
    const rows = stage.quantized;
    expect(rows).toHaveLength(36);
    const numel = (r: (typeof rows)[number]) => r.shape[0] * r.shape[1];
    const total = rows.reduce((s, r) => s + numel(r), 0);
    const average = rows.reduce((s, r) => s + r.width!.bits * numel(r), 0) / total;
    expect(mixed.averageCodeBits).toBeCloseTo(average, 12);
    expect(average).toBeLessThanOrEqual(4);
    expect(average).toBeGreaterThan(3.9);
    // More than one width: the allocation is not uniform on this model.
    expect(new Set(rows.map((r) => r.width!.bits)).size).toBeGreaterThan(1);
    for (const r of rows) {
      expect(r.width!.from).toBe('allocation');
      expect(r.width!.sensitivity!.map((s) => s.bits)).toEqual([3, 4, 8]);
      // Wider is better for every layer (GPTQ on the same H).
      const errors = r.width!.sensitivity!.map((s) => s.error);
      for (let k = 1; k < errors.length; k++) expect(errors[k]).toBeLessThan(errors[k - 1]);
      expect(r.format).toMatch(new RegExp(`^${r.width!.bits}-bit asym, groups of 32$`));
      expect(r.export).toBe([4, 8].includes(r.width!.bits) ? 'packed' : 'simulated');
    }
    // The DP's objective: never worse than uniform 4-bit, which also meets the target; and the
    // same allocation from the reported rows.
    const errorAt = (r: (typeof rows)[number], bits: number) => r.width!.sensitivity!.find((s) => s.bits === bits)!.error;
    const uniform4 = rows.reduce((s, r) => s + errorAt(r, 4), 0);
    expect(mixed.sensitivityTotal).toBeLessThan(uniform4);
    expect(mixed.sensitivityTotal).toBeCloseTo(rows.reduce((s, r) => s + errorAt(r, r.width!.bits), 0), 9);
    expect(allocateBits(rows.map((r) => ({ numel: numel(r), errors: r.width!.sensitivity!.map((s) => s.error) })), [3, 4, 8], 4).widths).toEqual(rows.map((r) => r.width!.bits));
    // Stored bits count the scales and zero points too.
    expect(mixed.averageStoredBits).toBeCloseTo((rows.reduce((s, r) => s + r.packedBytes, 0) * 8) / total, 9);
    expect(describeMixedReport(mixed, rows)).toMatch(/^\d\.\d{3} code bits\/weight \(target 4\), \d\.\d{3} with scales and zero points; (\d-bit ×\d+(, )?)+$/);
    const recognised = analyzeModel(readModel(bytes));
    expect(recognised.linears.filter((l) => l.opType === 'MatMulNBits').map((l) => l.name)).toEqual(rows.filter((r) => r.export === 'packed').map((r) => r.name));
    const runner = await openRunner(bytes);
    try {
      const metrics = await evaluate(runner, lm.eval);
      if (metrics.task !== 'causal-lm') throw new Error('expected an LM');
      console.log(`[mixed] ${describeMixedReport(mixed, rows)}; perplexity ${metrics.perplexity.toFixed(4)}`);
      expect(metrics.perplexity).toBeGreaterThan(3.49);
      expect(metrics.perplexity).toBeLessThan(4.5);
    } finally {
      await runner.release();
    }
  }, 120_000);

  test('a width set by hand is kept; the others are re-allocated under the same target', async () => {
    const r = recipe();
    r.calibration.mode = 'one-pass'; // one calibration pass: the widths, not the walk, are under test
    const stage = r.stages[0] as QuantizeStage;
    stage.bitsByLayer = { 'blocks.0.mlp.fc2': 8 };
    const { report } = await run(r);
    const quant = report.stages.find(isQuantizeStageReport)!;
    const set = quant.quantized.find((q) => q.name === 'blocks.0.mlp.fc2')!;
    expect(set.width).toMatchObject({ bits: 8, from: 'set' });
    expect(set.format).toBe('8-bit asym, groups of 32');
    expect(quant.mixed!.setByHand).toBe(1);
    expect(quant.mixed!.averageCodeBits).toBeLessThanOrEqual(4);
    expect(quant.quantized.filter((q) => q.width!.from === 'allocation')).toHaveLength(35);
  }, 120_000);
});
