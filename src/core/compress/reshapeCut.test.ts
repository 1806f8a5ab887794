// The pipeline's cut at a shape-changing stage (compress/stage.ts ReshapingStageRunner): a toy
// "trim" kind, registered here, drops the last `count` MLP neurons of every block of the bundled
// LM (up rows and bias, down columns) — a shape change the stages after it must see. The weight
// stages after it run on the re-analysed, smaller model; a stage that no longer fits the new shapes
// is refused by field before it runs; a shape change after a quantize stage is refused up front.
import { describe, expect, test } from 'vitest';
import { bundledModel, countingRunnerFactory, lmPerplexity, openRunner } from '../calibrate/fixtures/models.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { LinearLayer } from '../model/types.ts';
import { makeFloatTensor, tensorDims, tensorToFloat32 } from '../onnx/tensor.ts';
import type { ModelProto, TensorProto } from '../onnx/types.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { registerStageKind } from '../recipe/stage.ts';
import type { StageSpec } from '../recipe/types.ts';
import { validateRecipe } from '../recipe/validate.ts';
import { reshapeCalibration } from './calibration.ts';
import { compressModel, recipeSegments } from './pipeline.ts';
import { registerReshapingStage, type ReshapeStageReport } from './stage.ts';

interface TrimStage extends StageSpec {
  kind: 'trim';
  count: number;
}

/** The first `keep` rows of a row-major [rows, cols] tensor, or its first `keep` columns. */
function keepRows(tensor: TensorProto, keep: number): TensorProto {
  const [, cols = 1] = tensorDims(tensor);
  const dims = tensorDims(tensor).length === 1 ? [keep] : [keep, cols];
  return makeFloatTensor(tensor.name!, dims, tensorToFloat32(tensor).slice(0, keep * cols));
}
function keepColumns(tensor: TensorProto, keep: number): TensorProto {
  const [rows, cols] = tensorDims(tensor);
  const values = tensorToFloat32(tensor);
  const out = new Float32Array(rows * keep);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * cols, r * cols + keep), r * keep);
  return makeFloatTensor(tensor.name!, [rows, keep], out);
}

/** Σx² the trim stage saw for each up layer, to check it calibrated through the run. */
const calibrated: string[] = [];

registerStageKind<TrimStage>({
  kind: 'trim',
  reshapes: true,
  calibrates: () => true,
  defaults: () => ({ kind: 'trim', count: 8 }),
  parse: (fields) => ({ kind: 'trim', count: fields.number('count', 8) }),
  validate: () => [],
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  describe: (stage) => `trim ${stage.count} neurons`,
});

registerReshapingStage<TrimStage>({
  kind: 'trim',
  async reshape(stage, context) {
    const { analysis, model } = context;
    const ups = analysis.linears.filter((l) => l.role === 'mlp.up');
    const stats = await reshapeCalibration(context, ups).pass(model, ups, new Set(['sqNorm']), { label: 'trim', step: { index: 0, count: 1 } });
    calibrated.push(...[...stats.layers.keys()]);
    const replace = new Map<string, TensorProto>();
    const rows: ReshapeStageReport['reshaped'] = [];
    const slice = (layer: LinearLayer, side: 'out' | 'in', keep: number) => {
      const tensor = model.graph!.initializer!.find((t) => t.name === layer.weight)!;
      // in_out stores [C_in, C_out]: its outputs are columns, its inputs rows.
      const outputsAreRows = layer.layout === 'out_in';
      replace.set(tensor.name!, side === 'out' === outputsAreRows ? keepRows(tensor, keep) : keepColumns(tensor, keep));
      if (side === 'out' && layer.biasInitializer) replace.set(layer.biasInitializer, keepRows(model.graph!.initializer!.find((t) => t.name === layer.biasInitializer)!, keep));
    };
    for (const up of ups) {
      const down = analysis.linears.find((l) => l.block === up.block && l.role === 'mlp.down')!;
      const keep = up.outFeatures - stage.count;
      slice(up, 'out', keep);
      slice(down, 'in', keep);
      rows.push({ id: down.id, name: down.name, block: down.block, role: down.role, stage: context.index, before: [down.outFeatures, down.inFeatures], after: [down.outFeatures, keep], change: 'neurons', removed: [], paramsBefore: down.params, paramsAfter: down.outFeatures * keep, relativeError: null, detail: `trimmed ${stage.count}` });
    }
    const graph = model.graph!;
    const out: ModelProto = { ...model, graph: { ...graph, initializer: graph.initializer!.map((t) => replace.get(t.name!) ?? t) } };
    const params = (m: ModelProto) => analyzeModel(m).linears.reduce((n, l) => n + l.outFeatures * l.inFeatures, 0);
    return { model: out, report: { kind: 'trim', index: context.index, summary: `trim ${stage.count} neurons`, layers: [], ms: 0, reshaped: rows, linearParamsBefore: params(model), linearParamsAfter: params(out) } };
  },
});

const lm = bundledModel('kjv-charlm');
const recipe = (stages: unknown[], mode: 'sequential' | 'one-pass' = 'sequential') => parseRecipe({ version: 2, seed: 3, calibration: { samples: 4, mode }, stages });

describe('the pipeline cut at a shape-changing stage', () => {
  test('segments: runs of weight stages, each shape change alone', () => {
    const r = recipe([{ kind: 'prune', method: 'magnitude' }, { kind: 'trim' }, { kind: 'trim' }, { kind: 'prune' }, { kind: 'quantize' }]);
    expect(recipeSegments(r)).toEqual([{ kind: 'weights', indices: [0] }, { kind: 'reshape', index: 1 }, { kind: 'reshape', index: 2 }, { kind: 'weights', indices: [3, 4] }]);
  });

  test('trim → Wanda: the prune stage runs on the smaller model, which ORT runs', async () => {
    calibrated.length = 0;
    const { open, counts } = countingRunnerFactory();
    const out = await compressModel({ model: lm.model, analysis: lm.analysis, recipe: recipe([{ kind: 'trim', count: 24 }, { kind: 'prune', method: 'wanda', sparsity: 0.5 }]), calibSet: lm.calib, createRunner: open });
    const after = analyzeModel(out.model);
    const downs = after.linears.filter((l) => l.role === 'mlp.down');
    expect(downs.map((l) => l.inFeatures)).toEqual(Array(6).fill(512 - 24));
    // The trim stage calibrated through the run: its session is in the report's count.
    expect(calibrated).toHaveLength(6);
    expect(out.report.calibration!.passes).toBe(1 + 6);
    expect(counts.created).toBeGreaterThanOrEqual(7);
    // The prune stage's rows carry the trimmed shapes and reach 50 %.
    const prunedDowns = out.report.layers.filter((row) => row.role === 'mlp.down');
    expect(prunedDowns.map((row) => row.shape)).toEqual(Array(6).fill([128, 488]));
    expect(prunedDowns.every((row) => Math.abs(row.achievedSparsity - 0.5) < 1e-3)).toBe(true);
    expect(out.report.reshaped!.map((row) => row.after)).toEqual(Array(6).fill([128, 488]));
    expect(out.report.stages.map((s) => s.kind)).toEqual(['trim', 'prune']);
    expect(out.bytes.byteLength).toBeLessThan(lm.bytes.byteLength - 6 * 2 * 24 * 128 * 4);
    const perplexity = await lmPerplexity(out.bytes, lm.eval);
    expect(perplexity).toBeGreaterThan(1);
    expect(perplexity).toBeLessThan(2 * (await lmPerplexity(lm.bytes, lm.eval)));
  });

  test('a later stage that no longer fits the new shapes is refused by field, naming the shape change', async () => {
    // 512 − 3 = 509 inputs: no 2:4 groups.
    const r = recipe([{ kind: 'trim', count: 3 }, { kind: 'prune', method: 'magnitude', pattern: '2:4' }], 'one-pass');
    expect(validateRecipe(r, lm.analysis)).toEqual([]);
    await expect(compressModel({ model: lm.model, analysis: lm.analysis, recipe: r, calibSet: lm.calib, createRunner: openRunner })).rejects.toThrow(/stages\[1\]\.pattern: .*\(on the model stages\[0\] returned\)/);
  });

  test('a shape change after a quantize stage is refused before any work', () => {
    const r = recipe([{ kind: 'quantize', method: 'rtn', bits: 4 }, { kind: 'trim' }]);
    expect(validateRecipe(r, lm.analysis)).toEqual(['stages[1]: "trim" changes the model\'s shapes, so it must come before stages[0] ("quantize"): only prune stages and other shape changes may precede it']);
  });
});
