// The quantize stage's 'binary' method (BiBench's post-training baselines) through compressModel:
// every layer SIMULATED with its analytic 1-bit size (1 bit per weight + one float32 α per row),
// the working weights ±α exactly as quant/binary.ts makes them, and refusals by field. Quality on
// the bundled LM and ViT is printed (it is far below dense: no fine-tuning).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, bundledPerplexity, classifierAccuracy, openRunner } from '../calibrate/fixtures/models.ts';
import { readModel, tensorToFloat32 } from '../onnx/index.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { compressModel } from './pipeline.ts';

const recipeFile = JSON.parse(readFileSync(join(import.meta.dirname, '../../../recipes/binary-xnor.json'), 'utf8'));
const binary = (fields: object) => parseRecipe({ ...recipeFile, stages: [{ ...recipeFile.stages[0], ...fields }] });

describe('binary quantize method', () => {
  const lm = bundledModel('kjv-charlm');

  test('refuses a packed export and mixed precision by field', () => {
    expect(validateRecipe(binary({ export: 'packed' }), lm.analysis, 100)).toEqual(['stages[0].export: "packed" is impossible here: binary (1-bit) weights have no ONNX Runtime kernel (36 layers); use "auto" or "simulated"']);
    expect(validateRecipe(binary({ mixed: { targetBits: 3 } }), lm.analysis, 100)[0]).toMatch(/^stages\[0\]\.mixed: binary weights are 1 bit/);
    expect(() => binary({ binarizer: 'ternary' })).toThrow(/stages\[0\]\.binarizer/);
  });

  test('recipes/binary-xnor.json on the bundled LM: ±α rows, simulated, 1-bit analytic size', async () => {
    const { report, bytes } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: binary({}), calibSet: lm.calib, createRunner: openRunner });
    expect(report.quantized).toHaveLength(36);
    for (const row of report.quantized) {
      expect(row.export).toBe('simulated');
      expect(row.bitsPerWeight).toBeCloseTo(1 + 32 / row.shape[1], 12);
      expect(row.parts).toEqual({ weights: (row.shape[0] * row.shape[1]) / 8, scales: row.shape[0] * 4, zeroPoints: 0, groupIndex: 0, floatColumns: 0 });
    }
    expect(report.totals.simulatedLayers).toBe(36);
    // Each stored row of a layer holds two values, ±α (the file stores W as [C_in, C_out]: a row of W is a column).
    const file = readModel(bytes);
    const fc1 = report.quantized.find((q) => q.name === 'blocks.0.mlp.fc1')!;
    const layer = lm.analysis.linears.find((l) => l.name === fc1.name)!;
    const stored = tensorToFloat32(file.graph!.initializer!.find((t) => t.name === layer.weight)!);
    const [cIn, cOut] = [layer.inFeatures, layer.outFeatures];
    for (let r = 0; r < cOut; r++) {
      const values = new Set<number>();
      for (let c = 0; c < cIn; c++) values.add(Math.abs(stored[c * cOut + r]));
      expect(values.size).toBe(1);
    }
    const [dense, binarized] = [await bundledPerplexity(lm, lm.bytes), await bundledPerplexity(lm, bytes)];
    console.log(`[binary] bundled LM perplexity: dense ${dense.toFixed(3)}, XNOR per row ${binarized.toFixed(3)}; analytic ${report.totals.analyticQuantizedFileBytes} bytes, file ${bytes.byteLength} (simulated)`);
    expect(binarized).toBeGreaterThan(dense);
  }, 120_000);

  test('the bundled ViT: every binarizer runs below the dense accuracy (printed)', async () => {
    const vit = bundledModel('digits-vit');
    const accuracy = (bytes: Uint8Array) => classifierAccuracy(bytes, vit.eval);
    const dense = await accuracy(vit.bytes);
    const line = [`dense ${dense.toFixed(4)}`];
    for (const [binarizer, granularity] of [['xnor', 'row'], ['dorefa', 'row'], ['dorefa', 'tensor'], ['bnn', 'row']] as const) {
      const { bytes } = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: binary({ binarizer, granularity }), calibSet: vit.calib, createRunner: openRunner });
      const acc = await accuracy(bytes);
      // No fine-tuning: 1 bit loses much of what the ViT knew.
      expect(acc).toBeLessThan(dense);
      line.push(`${binarizer}/${granularity} ${acc.toFixed(4)}`);
    }
    console.log(`[binary] bundled ViT accuracy: ${line.join(', ')}`);
  }, 180_000);
});
