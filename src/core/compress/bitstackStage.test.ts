// The `bitstack` stage through compressModel on the bundled LM: the packed file (sign bits and
// float16 u, v rebuilt by ONNX ops) and the dense file (the reconstruction as floats) give the same
// logits in ORT, the packed one is smaller by what the blocks save, the kept blocks fit the
// budget; impossible recipes are refused by field.
import { beforeAll, describe, expect, test } from 'vitest';
import { bundledModel, openRunner, type BundledModel } from '../calibrate/fixtures/models.ts';
import { bitStackBlockBytes } from '../lowrank/bitstack.ts';
import { lmLogits, tokenWindows } from '../lowrank/fixtures/logits.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { expectClose } from '../testing/expectClose.ts';
import { compressModel, type CompressOutcome } from './pipeline.ts';
import type { LayerShapeReport } from './report.ts';

const recipe = (stage: Record<string, unknown>, extra: unknown[] = []) => parseRecipe({ version: 2, seed: 0, calibration: { samples: 4, mode: 'one-pass' }, stages: [{ kind: 'bitstack', steps: 4, ...stage }, ...extra] });
let lm: BundledModel;
let packed: CompressOutcome;
let dense: CompressOutcome;
// 15 % of the block layers' float32 bytes: 4.8 bits per weight, 1 to 4 blocks per layer.
const budget = { kind: 'fraction', fraction: 0.15 };

beforeAll(async () => {
  lm = bundledModel('kjv-charlm');
  packed = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe({ budget }), calibSet: lm.calib, createRunner: openRunner });
  dense = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe({ budget, export: 'dense' }), calibSet: lm.calib, createRunner: openRunner });
}, 600_000);

describe('bitstack stage on the bundled LM', () => {
  test('packed and dense exports give the same logits in ORT; both keep the same blocks', async () => {
    const windows = tokenWindows(2, 32, 63);
    expectClose(await lmLogits(packed.bytes, windows), await lmLogits(dense.bytes, windows), { atol: 2e-4, rtol: 1e-4 }, 'packed vs dense BitStack logits');
    const kept = (o: CompressOutcome) => (o.report.reshaped as LayerShapeReport[]).map((r) => r.rank);
    expect(kept(packed)).toEqual(kept(dense));
  });

  test('the kept blocks fit the budget, and the packed file is smaller by what they save', () => {
    const rows = packed.report.reshaped as LayerShapeReport[];
    expect(rows).toHaveLength(36);
    const layers = lm.analysis.linears.filter((l) => l.block !== null);
    const denseBytes = layers.reduce((sum, l) => sum + 4 * l.outFeatures * l.inFeatures, 0);
    const blockBytes = rows.reduce((sum, r) => sum + r.rank! * bitStackBlockBytes(r.before[0], r.before[1], 1), 0);
    expect(blockBytes).toBeLessThanOrEqual(0.15 * denseBytes);
    // Less than one more of the largest block would have fit.
    expect(blockBytes).toBeGreaterThan(0.15 * denseBytes - bitStackBlockBytes(512, 128, 1));
    expect(rows.every((r) => r.rank! >= 1 && r.rank! <= 4 && r.change === 'bitstack')).toBe(true);
    const saved = lm.bytes.length - packed.bytes.length;
    // The rebuild ops and shape constants cost under a kilobyte per layer.
    expect(saved).toBeGreaterThan(denseBytes - blockBytes - 1000 * rows.length);
    expect(saved).toBeLessThanOrEqual(denseBytes - blockBytes);
    expect(Math.abs(dense.bytes.length - lm.bytes.length)).toBeLessThan(4096);
    expect(packed.report.notes.some((n) => n.startsWith('BitStack: ') && n.includes('ANALYTIC'))).toBe(true);
  });

  test('impossible recipes are refused by field, before any work', () => {
    const problems = (stage: Record<string, unknown>, extra: unknown[] = []) => validateRecipe(recipe(stage, extra), lm.analysis, 64);
    expect(problems({ budget: { kind: 'bytes', bytes: 1000 } })).toEqual(['stages[0].budget.bytes: 1,000 bytes is less than one block per layer needs (175,104 bytes)']);
    expect(problems({ budget: { kind: 'fraction', fraction: 0 } })).toEqual(['stages[0].budget.fraction: must be in (0, 1], got 0']);
    expect(problems({ k: 200 })).toEqual(['stages[0].k: 200 is more than blocks.0.attn.q_proj has singular values (128)']);
    expect(problems({ steps: 0 })).toEqual(['stages[0].steps: must be an integer in 1..64, got 0']);
    expect(problems({}, [{ kind: 'quantize', method: 'rtn', bits: 4 }])).toEqual(['stages[0].export: "packed" stores the layers as sign blocks that quantize after it cannot read; use export "dense" or put those stages first']);
    const old = { ...lm.analysis, opsetImports: [{ domain: '', version: 11 }] };
    expect(validateRecipe(recipe({}), old, 64)).toEqual(['stages[0].export: "packed" needs ONNX opset 13 or later (the model imports 11); use export "dense"']);
  });
});
