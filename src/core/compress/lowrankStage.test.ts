// The `lowrank` stage through compressModel: the file ORT reloads is the factorised model whose
// logits equal the dense graph holding the product of its own factors; ranks follow the rank
// choice; the report's rows say what changed; impossible recipes are refused by field.
import { beforeAll, describe, expect, test } from 'vitest';
import { bundledModel, lmPerplexity, openRunner, type BundledModel } from '../calibrate/fixtures/models.ts';
import { factorProduct } from '../lowrank/factorize.ts';
import { lmLogits, tokenWindows, withReconstructedWeights } from '../lowrank/fixtures/logits.ts';
import { analyzeModel } from '../model/analyze.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { readModel } from '../onnx/read.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { expectClose } from '../testing/expectClose.ts';
import { compressModel } from './pipeline.ts';
import type { LayerShapeReport } from './report.ts';

const recipe = (stage: Record<string, unknown>, extra: unknown[] = []) => parseRecipe({ version: 2, seed: 0, calibration: { samples: 4, mode: 'one-pass' }, stages: [{ kind: 'lowrank', ...stage }, ...extra] });
let lm: BundledModel;
let vit: BundledModel;
beforeAll(() => {
  lm = bundledModel('kjv-charlm');
  vit = bundledModel('digits-vit');
});

describe('lowrank stage on the bundled LM (SVD-LLM, 70 % per layer)', () => {
  test('factorises every block layer at SVD-LLM ratio ranks; ORT logits equal the product of the file’s own factors', async () => {
    const out = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe({ method: 'svd-llm', rank: { kind: 'ratio', ratio: 0.7 } }), calibSet: lm.calib, createRunner: openRunner });
    const rows = out.report.reshaped as LayerShapeReport[];
    expect(rows).toHaveLength(36);
    expect(new Set(rows.map((r) => `${r.before.join('x')}:${r.rank}`))).toEqual(new Set(['128x128:44', '512x128:71', '128x512:71']));
    for (const row of rows) {
      expect(row.change).toBe('rank');
      expect(row.relativeError).toBeGreaterThan(0);
      expect(row.relativeError).toBeLessThan(1);
      expect(row.paramsAfter).toBeLessThan(row.paramsBefore);
    }
    expect(out.bytes.length).toBeLessThan(lm.bytes.length * 0.75);
    // The math's model: the dense graph with each W replaced by (first factor · second factor)ᵀ read back from the file.
    const file = readModel(out.bytes);
    const tensors = initializerMap(file.graph!);
    const products = new Map(
      lm.analysis.linears
        .filter((l) => l.block !== null)
        .map((layer) => {
          const rank = rows.find((r) => r.id === layer.id)!.rank!;
          const first = tensorToFloat32(tensors.get(`${layer.name}.lowrank_in.weight`)!); // [C_in, r]: Rᵀ
          const second = tensorToFloat32(tensors.get(`${layer.name}.lowrank_out.weight`)!); // [r, C_out]: Lᵀ
          const left = Float64Array.from({ length: layer.outFeatures * rank }, (_, e) => second[(e % rank) * layer.outFeatures + Math.floor(e / rank)]);
          const right = Float64Array.from({ length: rank * layer.inFeatures }, (_, e) => first[(e % layer.inFeatures) * rank + Math.floor(e / layer.inFeatures)]);
          return [layer.id, factorProduct({ rank, left, right }, layer.outFeatures, layer.inFeatures)] as const;
        }),
    );
    const math = withReconstructedWeights(lm.model, lm.analysis.linears, products);
    const windows = tokenWindows(2, 32, 63);
    expectClose(await lmLogits(out.bytes, windows), await lmLogits(math, windows), { atol: 2e-4, rtol: 1e-4 }, 'file vs math logits');
    const [dense, compressed] = [await lmPerplexity(lm.bytes, lm.eval), await lmPerplexity(out.bytes, lm.eval)];
    expect(compressed).toBeGreaterThan(dense);
    expect(compressed).toBeLessThan(1.5 * dense);
    // The analysis of the file sees both factors of each layer.
    expect(analyzeModel(file).linears.filter((l) => l.block !== null)).toHaveLength(72);
  });
});

describe('lowrank stage on the bundled ViT', () => {
  test('sensitivity allocation meets the global parameter target with different ranks per layer', async () => {
    const out = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe({ method: 'svd', rank: { kind: 'sensitivity', ratio: 0.6 } }), calibSet: vit.calib, createRunner: openRunner });
    const rows = out.report.reshaped as LayerShapeReport[];
    const chosen = vit.analysis.linears.filter((l) => l.role !== 'embed' && l.role !== 'head');
    const dense = chosen.reduce((sum, l) => sum + l.outFeatures * l.inFeatures, 0);
    const factorised = new Set(rows.map((r) => r.id));
    const kept = chosen.reduce((sum, l) => sum + (factorised.has(l.id) ? rows.find((r) => r.id === l.id)!.rank! * (l.outFeatures + l.inFeatures) : l.outFeatures * l.inFeatures), 0);
    expect(kept).toBeLessThanOrEqual(0.6 * dense);
    expect(kept).toBeGreaterThan(0.55 * dense);
    expect(new Set(rows.map((r) => r.rank)).size).toBeGreaterThan(2);
  });

  test('ASVD at 90 % energy runs and reports the energy it kept', async () => {
    const out = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: recipe({ method: 'asvd', rank: { kind: 'energy', energy: 0.9 } }), calibSet: vit.calib, createRunner: openRunner });
    const rows = out.report.reshaped as LayerShapeReport[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.detail).toMatch(/^rank \d+ of \d+ \((9\d|100)\.\d % of σ² of W S\)/);
  });

  test('impossible recipes are refused by field, before any work', () => {
    const problems = (stage: Record<string, unknown>, extra: unknown[] = []) => validateRecipe(recipe(stage, extra), vit.analysis, 128);
    expect(problems({ rank: { kind: 'ratio', ratio: 1.5 } })).toEqual(['stages[0].rank.ratio: must be in (0, 1), got 1.5']);
    expect(problems({ rank: { kind: 'rank', rank: 0 } })).toEqual(['stages[0].rank.rank: must be an integer >= 1, got 0']);
    expect(problems({ rank: { kind: 'sensitivity', ratio: 0.01 } })[0]).toMatch(/^stages\[0\]\.rank\.ratio: 0\.01 keeps fewer parameters than rank 1 in every layer needs/);
    expect(problems({ roles: ['attn.qkv'] })).toEqual(['stages[0].roles: no linear layer is left to factorise (embeddings and the head are excluded unless layers.includeHead)']);
    expect(() => recipe({ roles: ['attn.query'] })).toThrow(/stages\[0\]\.roles\[0\]: must be one of/);
    // A graph shape the export cannot rewrite: the weight behind a Transpose.
    const transposed = { ...vit.analysis, linears: vit.analysis.linears.map((l, i) => (i === 1 ? { ...l, weightPath: ['Transpose'] } : l)) };
    expect(validateRecipe(recipe({}), transposed, 128)).toEqual([`stages[0].layers: cannot be written as two MatMuls: ${vit.analysis.linears[1].name} (its weight reaches the product through Transpose, not as a plain initializer); list them in layers.skip`]);
  });
});
