// The quantize stage's AWQ on a graph, against llm-awq's auto_scale_block + apply_scale run by
// src/core/quant/fixtures/make_awq_block_fixture.py (awqBlock.json): a LayerNorm feeding q/k/v
// (one scale for the three, folded into the norm) and a GELU feeding fc2 (an explicit Mul). The
// stage runs on the fixture's group inputs; its packed export runs in onnxruntime-web and must give
// the reference's outputs of the scaled and quantized block.
import { describe, expect, test } from 'vitest';
import { openRunner } from '../calibrate/fixtures/models.ts';
import type { CalibrationStats } from '../calibrate/collect.ts';
import { analyzeModel } from '../model/analyze.ts';
import { model as buildModel, node, tensorValue } from '../model/testGraphs.ts';
import type { ModelProto, TensorProto } from '../onnx/types.ts';
import { DataType } from '../onnx/types.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { writeModel } from '../onnx/write.ts';
import type { LayerStats } from '../prune/types.ts';
import { f32, fixtureMatrix, readFixture, type FixtureMatrix, type FixtureNumber } from '../quant/fixtures/mxAwqLoad.ts';
import { floatTensor } from '../quant/export/graphEdit.ts';
import { defaultRecipe } from '../recipe/defaults.ts';
import { defaultQuantizeStage, type QuantizeStage } from '../recipe/stages/quantize.ts';
import { expectClose } from '../testing/expectClose.ts';
import type { Matrix } from '../prune/types.ts';
import { quantizeStageRunner } from './quantizeStage.ts';
import type { QuantizeStageReport } from './report.ts';
import { WorkingModel, transposed } from './weights.ts';

interface AwqBlockFixture {
  x: FixtureMatrix;
  lnInput: FixtureMatrix;
  geluInput: FixtureMatrix;
  dense: { lnWeight: FixtureNumber[]; lnBias: FixtureNumber[]; weights: FixtureMatrix[] };
  groups: { layers: string[]; alpha: number; errors: number[]; scales: FixtureNumber[] }[];
  foldedLn: { weight: FixtureNumber[]; bias: FixtureNumber[] };
  outputs: FixtureMatrix[];
}

const fixture = readFixture<AwqBlockFixture>('awqBlock.json');
const names = ['q', 'k', 'v', 'fc2'];

/** x [96, 64] → LayerNormalization → q/k/v MatMuls; x → exact GELU (erf) → fc2 MatMul. Weights stored [C_in, C_out]. */
function blockModel(): ModelProto {
  const weights = fixture.dense.weights.map(fixtureMatrix);
  const initializers: TensorProto[] = [
    floatTensor('ln.weight', [64], f32(fixture.dense.lnWeight)),
    floatTensor('ln.bias', [64], f32(fixture.dense.lnBias)),
    floatTensor('sqrt2', [], Float32Array.of(Math.SQRT2)),
    floatTensor('one', [], Float32Array.of(1)),
    floatTensor('half', [], Float32Array.of(0.5)),
    ...weights.map((w, i) => floatTensor(`${names[i]}.weight`, [w.cols, w.rows], transposed(w.data, w.rows, w.cols))),
  ];
  const nodes = [
    node('LayerNormalization', ['x', 'ln.weight', 'ln.bias'], ['h'], { name: 'ln', attrs: { axis: -1, epsilon: 1e-5 } }),
    ...names.slice(0, 3).map((n) => node('MatMul', ['h', `${n}.weight`], [`y_${n}`], { name: `${n}_proj` })),
    node('Div', ['x', 'sqrt2'], ['g1'], { name: 'gelu_div' }),
    node('Erf', ['g1'], ['g2'], { name: 'gelu_erf' }),
    node('Add', ['g2', 'one'], ['g3'], { name: 'gelu_add' }),
    node('Mul', ['x', 'g3'], ['g4'], { name: 'gelu_mul' }),
    node('Mul', ['g4', 'half'], ['a'], { name: 'gelu_half' }),
    node('MatMul', ['a', 'fc2.weight'], ['y_fc2'], { name: 'fc2' }),
  ];
  return buildModel({
    nodes,
    initializers,
    inputs: [tensorValue('x', DataType.FLOAT, [96, 64])],
    outputs: weights.map((w, i) => tensorValue(`y_${names[i]}`, DataType.FLOAT, [96, w.rows])),
  });
}

const layerStats = (sample: Matrix): LayerStats => ({ tokens: sample.rows, sqNorm: new Float64Array(sample.cols), maxAbs: new Float32Array(sample.cols), hessian: new Float64Array(0), inputSample: sample });

async function outputsOf(model: ModelProto): Promise<Float32Array[]> {
  const runner = await openRunner(writeModel(model));
  try {
    const x = fixtureMatrix(fixture.x);
    const out = await runner.run({ x: { dtype: 'float32', dims: [x.rows, x.cols], data: x.data } });
    return names.map((n) => out[`y_${n}`].data as Float32Array);
  } finally {
    await runner.release();
  }
}

describe('AWQ in the quantize stage: shared scales, 1/s folded or a Mul, packed (llm-awq auto_scale_block)', async () => {
  const source = blockModel();
  const analysis = analyzeModel(source);
  const layers = names.map((n) => analysis.linears.find((l) => l.weight === `${n}.weight`)!);
  const working = new WorkingModel(source);
  const stage: QuantizeStage = { ...defaultQuantizeStage(), method: 'awq', bits: 4, symmetric: false, granularity: 'group', groupSize: 32 };
  const recipe = { ...defaultRecipe(), stages: [stage] };
  const run = await quantizeStageRunner.start(stage, { recipe, index: 0, analysis, working, layers, pruneLayer: () => Promise.reject(new Error('unused')), onProgress: () => {}, notes: [] });
  const lnInput = fixtureMatrix(fixture.lnInput);
  const stats: CalibrationStats = {
    samples: 1,
    layers: new Map(layers.map((l, i) => [l.id, layerStats(i < 3 ? lnInput : fixtureMatrix(fixture.geluInput))])),
    selectedSqNorm: new Map(),
    attention: new Map(),
  };
  await run.apply({ index: 0, count: 1, label: 'block', layers, stats });
  const report = (await run.finish()) as QuantizeStageReport;
  const exported = run.exportGraph!(working.model);

  test('q/k/v share one scale, searched on their concatenated outputs: the reference ratio; fc2 alone', () => {
    const rows = report.quantized;
    expect(rows.map((r) => r.awq?.alpha)).toEqual([...new Array(3).fill(fixture.groups[0].alpha), fixture.groups[1].alpha]);
    for (const row of rows.slice(0, 3)) expect(row.awq?.sharedWith).toEqual(layers.slice(0, 3).map((l) => l.name));
    expect(rows[3].awq?.sharedWith).toEqual([layers[3].name]);
    expect(rows.map((r) => r.export)).toEqual(['packed', 'packed', 'packed', 'packed']);
    expect(rows[0].awq?.inverseScale).toBe('scale folded into ln');
    // A Mul's 1/s (64 float32) is in the analytic size of its group's first layer; a fold costs nothing.
    expect(rows.map((r) => r.awq?.scaleBytes)).toEqual([0, 0, 0, 64 * 4]);
    expect(rows[3].awq?.inverseScale).toMatch(/^explicit Mul on input \(the input comes from Mul \(gelu_half\)/);
  });

  test("the LayerNorm's folded weight and bias are the reference's scale_ln_fcs", () => {
    const init = (name: string) => tensorToFloat32(exported.model.graph!.initializer!.find((t) => t.name === name)!);
    // The scales match the reference's to one float32 ulp (torch's powf vs Math.pow; awq.test.ts), so the quotients do too.
    expectClose(init('ln.weight'), f32(fixture.foldedLn.weight), { atol: 0, rtol: 3e-7 }, 'ln.weight / s');
    expectClose(init('ln.bias'), f32(fixture.foldedLn.bias), { atol: 0, rtol: 3e-7 }, 'ln.bias / s');
    expect(init('ln.weight')).not.toEqual(f32(fixture.dense.lnWeight));
    expect(exported.notes).toEqual(['4 layers: MatMulNBits 4-bit, block 32, packed zero points', 'AWQ: 1 scale folded into a LayerNormalization', 'AWQ: 1 scale written as an explicit Mul on the input']);
  });

  test('the packed file runs in onnxruntime-web and gives the reference block outputs; the working model computes the same', async () => {
    const ops = exported.model.graph!.node!.map((n) => n.opType);
    expect(ops.filter((op) => op === 'MatMulNBits')).toHaveLength(4);
    expect(ops.filter((op) => op === 'MatMul')).toHaveLength(0);
    const [packed, simulated] = [await outputsOf(exported.model), await outputsOf(working.model)];
    fixture.outputs.forEach((want, i) => {
      // Same codes and scales; what differs is float32 order (ORT's LayerNorm and MatMulNBits vs
      // torch): 3e-6 seen. A code one step off moves an output by ~1e-3.
      expectClose(packed[i], f32(want.data), { atol: 2e-5, rtol: 1e-4 }, `${names[i]}: packed export vs llm-awq`);
      expectClose(simulated[i], packed[i], { atol: 2e-5, rtol: 1e-4 }, `${names[i]}: working model (Ŵ = Q(W·s)/s) vs packed export`);
    });
  });
});
