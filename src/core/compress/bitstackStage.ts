// The `bitstack` stage as the pipeline runs it (a ReshapingStageRunner): one calibration pass for
// each layer's input statistics, the activation-aware scale, the decomposition of every chosen
// layer into `steps` blocks, the stack order, the prefix within the budget, and the export
// (lowrank/bitstackGraph.ts: packed sign blocks, or the reconstruction as floats).
//
// Two departures from xinghaow99/BitStack, both for a browser's budget (docs/lowrank.md#bitstack):
// - the scale: the reference's get_act_scale is mean over samples of ‖x_j‖ over each sample's
//   tokens (+1e-3); calibration here keeps Σ x_j² over all tokens, so s_j = √(Σ x_j² / samples) +
//   1e-3 (the root mean square of the per-sample norms, ≥ their mean). The reference folds 1/s into
//   the preceding LayerNorm or linear; here it goes into each block's vᵀ (sign ⊙ (u vᵀ) · diag(1/s)
//   = sign ⊙ (u (vᵀ diag(1/s)))), which needs no graph change outside the layer.
// - the score: the reference ranks a layer's next block by the perplexity of the whole model with
//   that block added ((steps − 1) · layers evaluations); here by how much the block lowers the
//   activation-weighted error ‖(W − Ŵ) diag(s)‖²_F, the quantity the decomposition works on.
import type { CalibrationStats } from '../calibrate/collect.ts';
import { throwIfCancelled } from '../job/cancel.ts';
import { bitStackBlockBytes, bitStackOrder, blocksWithinBudget, decomposeBitStack, reconstructBitStack, type BitStackBlock } from '../lowrank/bitstack.ts';
import { writePackedBitStack } from '../lowrank/bitstackGraph.ts';
import { outputEnergy } from '../lowrank/factorize.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { float16ToFloat32, float32ToFloat16 } from '../onnx/float16.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { bitStackLayers, budgetBytes, describeBitStackStage, type BitStackStage } from '../recipe/stages/bitstack.ts';
import { reshapeCalibration } from './calibration.ts';
import { shapeRowOf, type LayerShapeReport } from './report.ts';
import type { ReshapeContext, ReshapeOutcome, ReshapingStageRunner } from './stage.ts';
import { WorkingModel, weightFromStored } from './weights.ts';

const now = () => performance.now();
const roundToFloat16 = (v: number) => float16ToFloat32(float32ToFloat16(v));

/** BitStack's activation scale per input channel (see the header on how it departs from get_act_scale). */
export function bitStackScale(stats: CalibrationStats, layer: LinearLayer): Float64Array {
  const layerStats = stats.layers.get(layer.id);
  if (layerStats === undefined) throw new Error(`${layer.name}: calibration collected nothing`);
  const samples = Math.max(1, stats.samples);
  return Float64Array.from(layerStats.sqNorm, (sq) => Math.sqrt(sq / samples) + 1e-3);
}

interface LayerStack {
  layer: LinearLayer;
  weight: Float32Array;
  /** Blocks of W with 1/s folded into vᵀ (float16-rounded again). */
  blocks: BitStackBlock[];
  /** ‖(W − Ŵ_b) diag(s)‖²_F for b = 0 … steps blocks. */
  scaledErrors: number[];
  blockBytes: number;
}

function decomposeLayer(stage: BitStackStage, layer: LinearLayer, weight: Float32Array, scale: Float64Array): LayerStack {
  const { outFeatures: cOut, inFeatures: cIn } = layer;
  const { k, steps } = stage;
  const scaled = Float64Array.from(weight, (w, e) => w * scale[e % cIn]);
  const blocks = decomposeBitStack(scaled, cOut, cIn, steps, k);
  const scaledErrors = [scaled.reduce((sum, v) => sum + v * v, 0)];
  const residual = Float64Array.from(scaled);
  for (const block of blocks) {
    const part = reconstructBitStack([block], 1, cOut, cIn, k);
    let error = 0;
    for (let e = 0; e < residual.length; e++) {
      residual[e] -= part[e];
      error += residual[e] * residual[e];
    }
    scaledErrors.push(error);
  }
  const unscaled = blocks.map((block) => ({ ...block, vt: Float32Array.from(block.vt, (v, i) => roundToFloat16(v / scale[i % cIn])) }));
  return { layer, weight, blocks: unscaled, scaledErrors, blockBytes: bitStackBlockBytes(cOut, cIn, k) };
}

const linearParams = (analysis: ModelAnalysis) => analysis.linears.reduce((sum, l) => sum + l.params, 0);

function gramOf(stats: CalibrationStats, layer: LinearLayer): Float64Array | null {
  const layerStats = stats.layers.get(layer.id);
  if (!layerStats || layerStats.hessian.length === 0) return null;
  return layerStats.hessian.map((h) => (h * layerStats.tokens) / 2);
}

function shapeRow(stage: BitStackStage, index: number, stack: LayerStack, kept: number, reconstruction: Float64Array, gram: Float64Array | null): LayerShapeReport {
  const { layer, blockBytes } = stack;
  const { outFeatures: cOut, inFeatures: cIn } = layer;
  const bias = layer.params - cOut * cIn;
  let relativeError: number | null = null;
  if (gram) {
    const difference = Float64Array.from(stack.weight, (w, e) => w - reconstruction[e]);
    const energy = outputEnergy(stack.weight, cOut, cIn, gram);
    relativeError = energy > 0 ? Math.sqrt(outputEnergy(difference, cOut, cIn, gram) / energy) : null;
  }
  const bytes = kept * blockBytes;
  return {
    ...shapeRowOf(layer, index),
    after: [cOut, cIn],
    change: 'bitstack',
    rank: kept,
    // The float16 u, v values; the sign bits are in the detail's bytes.
    paramsAfter: kept * stage.k * (cOut + cIn) + bias,
    relativeError,
    detail: `${kept} of ${stage.steps} blocks, ${bytes.toLocaleString('en')} bytes (ANALYTIC: 1 sign bit per weight + u, v in float16 per block), ${((8 * bytes) / (cOut * cIn)).toFixed(2)} bits/weight`,
  };
}

async function reshapeBitStack(stage: BitStackStage, context: ReshapeContext): Promise<ReshapeOutcome> {
  const started = now();
  const { model, analysis, index, notes } = context;
  const layers = bitStackLayers(stage, analysis);
  const calibrationStart = now();
  const stats = await reshapeCalibration(context, layers).pass(model, layers, new Set(['sqNorm', 'hessian']), { label: 'BitStack: layer inputs', step: { index: 0, count: 1 } });
  const calibrationMs = now() - calibrationStart;
  const initializers = initializerMap(model.graph!);
  const stacks: LayerStack[] = [];
  for (const [i, layer] of layers.entries()) {
    throwIfCancelled(context.cancel, 'compression');
    context.onProgress({ phase: 'compress', label: `BitStack: ${layer.name}`, done: i, total: layers.length });
    const weight = weightFromStored(layer, tensorToFloat32(initializers.get(layer.weight)!)).data;
    stacks.push(decomposeLayer(stage, layer, weight, bitStackScale(stats, layer)));
  }
  // scores[level][layer]: the scaled error after the layer's (level + 2)-th block, relative to
  // before it — lower is a larger gain, as a lower perplexity is in the reference.
  const scores = Array.from({ length: stage.steps - 1 }, (_, level) => stacks.map((s) => s.scaledErrors[level + 2] - s.scaledErrors[level + 1]));
  const order = bitStackOrder(scores);
  const budget = budgetBytes(stage, layers);
  const kept = blocksWithinBudget(order, stacks.map((s) => s.blockBytes), budget);
  if (kept === null) throw new Error(`stages[${index}].budget: ${budget.toLocaleString('en')} bytes is less than one block per layer needs`);
  const reconstructions = stacks.map((s, i) => reconstructBitStack(s.blocks, kept[i], s.layer.outFeatures, s.layer.inFeatures, stage.k));
  const reshaped = stacks.map((s, i) => shapeRow(stage, index, s, kept[i], reconstructions[i], gramOf(stats, s.layer)));
  let out = model;
  if (stage.export === 'packed') {
    out = writePackedBitStack(model, stacks.map((s, i) => ({ layer: s.layer, blocks: s.blocks.slice(0, kept[i]), k: stage.k })));
  } else {
    const working = new WorkingModel(model);
    stacks.forEach((s, i) => working.writeWeight(s.layer, { rows: s.layer.outFeatures, cols: s.layer.inFeatures, data: Float32Array.from(reconstructions[i]) }));
    out = working.model;
  }
  const used = stacks.reduce((sum, s, i) => sum + kept[i] * s.blockBytes, 0);
  notes.push(`BitStack: ${used.toLocaleString('en')} of ${budget.toLocaleString('en')} budget bytes used by ${stacks.reduce((n, _, i) => n + kept[i], 0)} blocks (ANALYTIC size of the blocks${stage.export === 'dense' ? '; the file stores the reconstruction as floats, so it is not smaller' : '; the packed file stores exactly these bytes plus the rebuild ops'})`);
  const before = linearParams(analysis);
  const changedBefore = reshaped.reduce((sum, r) => sum + r.paramsBefore, 0);
  const changedAfter = reshaped.reduce((sum, r) => sum + r.paramsAfter, 0);
  return {
    model: out,
    report: {
      kind: 'bitstack',
      index,
      summary: describeBitStackStage(stage),
      layers: [],
      ms: now() - started - calibrationMs,
      reshaped,
      linearParamsBefore: before,
      // Float values the linear layers store (BitStack's u, v; sign bits are not counted as parameters).
      linearParamsAfter: stage.export === 'packed' ? before - changedBefore + changedAfter : before,
    },
  };
}

export const bitStackStageRunner: ReshapingStageRunner<BitStackStage> = { kind: 'bitstack', reshape: reshapeBitStack };
