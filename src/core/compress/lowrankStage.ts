// The `lowrank` stage as the pipeline runs it (a ReshapingStageRunner, compress/stage.ts): one
// calibration pass over the chosen layers of the model the earlier stages left (X Xᵀ for SVD-LLM's
// whitening, the sensitivity allocation and the report's errors; an input sample for ASVD's
// mean |x|), each layer's scaled spectrum, the ranks, then the two-MatMul graph (lowrank/graph.ts).
import type { CalibrationStats } from '../calibrate/collect.ts';
import { throwIfCancelled } from '../job/cancel.ts';
import { asvdScaling, layerSpectrum, lowRankFactors, outputEnergy, svdLlmWhitening, truncationErrors, type InputScaling, type LayerSpectrum } from '../lowrank/factorize.ts';
import { factoriseLayers, type FactorisedLayer } from '../lowrank/graph.ts';
import { allocateRanks, energyRank, factorParams, maxSavingRank, ratioRank, type AllocatedRank } from '../lowrank/rank.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import type { Statistic } from '../recipe/stage.ts';
import { describeLowRankStage, lowRankCalibrates, lowRankLayers, type LowRankStage } from '../recipe/stages/lowrank.ts';
import { reshapeCalibration } from './calibration.ts';
import { shapeRowOf, type LayerShapeReport } from './report.ts';
import type { ReshapeContext, ReshapeOutcome, ReshapingStageRunner } from './stage.ts';
import { weightFromStored } from './weights.ts';

const now = () => performance.now();

/** One layer's spectrum with what calibration says about it. */
interface LayerPlan {
  layer: LinearLayer;
  weight: Float32Array;
  spectrum: LayerSpectrum;
  /** X Xᵀ (C_in × C_in), when calibrated. */
  gram: Float64Array | null;
  /** Per-triplet output errors and ‖W X‖², when calibrated. */
  errors: Float64Array | null;
  energy: number | null;
  damping: number | null;
}

/** Mean |x_j| over the sampled input tokens (ASVD's abs_mean; see docs/lowrank.md on the sample). */
function absMeanOfSample(stats: CalibrationStats, layer: LinearLayer): Float64Array {
  const sample = stats.layers.get(layer.id)?.inputSample;
  if (sample === undefined || sample.rows === 0) throw new Error(`${layer.name}: calibration kept no input tokens for ASVD's scaling`);
  const mean = new Float64Array(sample.cols);
  for (let t = 0; t < sample.rows; t++) for (let j = 0; j < sample.cols; j++) mean[j] += Math.abs(sample.data[t * sample.cols + j]);
  return mean.map((v) => v / sample.rows);
}

/** X Xᵀ from the collected H = 2/n X Xᵀ (n tokens): SVD-LLM's damping is absolute, so the scale matters. */
function gramOf(stats: CalibrationStats, layer: LinearLayer): Float64Array {
  const layerStats = stats.layers.get(layer.id);
  if (layerStats === undefined || layerStats.hessian.length === 0) throw new Error(`${layer.name}: calibration collected no X Xᵀ`);
  const scale = layerStats.tokens / 2;
  return layerStats.hessian.map((h) => h * scale);
}

function scalingFor(stage: LowRankStage, layer: LinearLayer, stats: CalibrationStats | null, gram: Float64Array | null): { scaling: InputScaling; damping: number | null } {
  if (stage.method === 'svd') return { scaling: { kind: 'identity' }, damping: null };
  if (stage.method === 'asvd') return { scaling: asvdScaling(absMeanOfSample(stats!, layer), stage.alpha), damping: null };
  const { scaling, damping } = svdLlmWhitening(gram!, layer.inFeatures);
  return { scaling, damping };
}

/** Each layer's rank (null: stays dense, it would not get smaller). */
function chooseRanks(stage: LowRankStage, plans: readonly LayerPlan[]): AllocatedRank[] {
  const { rank } = stage;
  if (rank.kind === 'sensitivity') {
    const dense = plans.reduce((sum, p) => sum + p.layer.outFeatures * p.layer.inFeatures, 0);
    return allocateRanks(plans.map((p) => ({ cOut: p.layer.outFeatures, cIn: p.layer.inFeatures, errors: p.errors!, energy: p.energy! })), rank.ratio * dense);
  }
  return plans.map(({ layer, spectrum }) => {
    const r = rank.kind === 'rank' ? rank.rank : rank.kind === 'energy' ? energyRank(spectrum.svd.s, rank.energy) : ratioRank(rank.ratio, layer.outFeatures, layer.inFeatures);
    return r >= 1 && r <= maxSavingRank(layer.outFeatures, layer.inFeatures) ? r : null;
  });
}

const linearParams = (analysis: ModelAnalysis) => analysis.linears.reduce((sum, l) => sum + l.params, 0);

function shapeRow(stage: LowRankStage, index: number, plan: LayerPlan, rank: number): LayerShapeReport {
  const { layer, spectrum, errors, energy } = plan;
  const { outFeatures: cOut, inFeatures: cIn } = layer;
  const bias = layer.params - cOut * cIn;
  let total = 0;
  let kept = 0;
  spectrum.svd.s.forEach((s, i) => {
    total += s * s;
    if (i < rank) kept += s * s;
  });
  // ‖(W − Ŵ) X‖ / ‖W X‖: the square root of the tail's share of the output energy.
  const relativeError = errors && energy ? Math.sqrt(Math.max(0, errors.slice(rank).reduce((a, b) => a + b, 0)) / energy) : null;
  const energyNote = total > 0 ? ` (${(100 * (kept / total)).toFixed(1)} % of σ²${stage.method === 'svd' ? '' : ' of W S'})` : '';
  return {
    ...shapeRowOf(layer, index),
    after: [cOut, cIn],
    change: 'rank',
    rank,
    paramsAfter: factorParams(rank, cOut, cIn) + bias,
    relativeError,
    detail: `rank ${rank} of ${Math.min(cOut, cIn)}${energyNote}${plan.damping !== null ? `, X Xᵀ damped by ${plan.damping.toExponential(2)}` : ''}`,
  };
}

async function reshapeLowRank(stage: LowRankStage, context: ReshapeContext): Promise<ReshapeOutcome> {
  const started = now();
  const { model, analysis, index, notes } = context;
  const layers = lowRankLayers(stage, analysis);
  let stats: CalibrationStats | null = null;
  let calibrationMs = 0;
  if (lowRankCalibrates(stage)) {
    const statistics = new Set<Statistic>(['hessian', ...(stage.method === 'asvd' ? (['inputTokens'] as const) : [])]);
    const calibrationStart = now();
    stats = await reshapeCalibration(context, layers).pass(model, layers, statistics, { label: 'low rank: layer inputs', step: { index: 0, count: 1 } });
    calibrationMs = now() - calibrationStart;
  }
  const initializers = initializerMap(model.graph!);
  const plans: LayerPlan[] = [];
  for (const [i, layer] of layers.entries()) {
    throwIfCancelled(context.cancel, 'compression');
    context.onProgress({ phase: 'compress', label: `low rank: ${layer.name}`, done: i, total: layers.length });
    const weight = weightFromStored(layer, tensorToFloat32(initializers.get(layer.weight)!)).data;
    const gram = stats ? gramOf(stats, layer) : null;
    const { scaling, damping } = scalingFor(stage, layer, stats, gram);
    const spectrum = layerSpectrum(weight, layer.outFeatures, layer.inFeatures, scaling);
    const errors = gram ? truncationErrors(spectrum, gram) : null;
    const energy = gram ? outputEnergy(weight, layer.outFeatures, layer.inFeatures, gram) : null;
    plans.push({ layer, weight, spectrum, gram, errors, energy, damping });
  }
  const ranks = chooseRanks(stage, plans);
  const factorised: FactorisedLayer[] = [];
  const reshaped: LayerShapeReport[] = [];
  const dense: string[] = [];
  plans.forEach((plan, i) => {
    const rank = ranks[i];
    if (rank === null) {
      dense.push(plan.layer.name);
      return;
    }
    factorised.push({ layer: plan.layer, factors: lowRankFactors(plan.spectrum, rank) });
    reshaped.push(shapeRow(stage, index, plan, rank));
  });
  if (dense.length > 0) notes.push(`low rank: ${dense.length} layer(s) stay dense, their chosen rank would not make them smaller: ${dense.slice(0, 4).join(', ')}${dense.length > 4 ? ', …' : ''}`);
  const out = factoriseLayers(model, factorised);
  const after = analyzeModel(out);
  return {
    model: out,
    report: {
      kind: 'lowrank',
      index,
      summary: describeLowRankStage(stage),
      layers: [],
      ms: now() - started - calibrationMs,
      reshaped,
      linearParamsBefore: linearParams(analysis),
      linearParamsAfter: linearParams(after),
    },
  };
}

export const lowRankStageRunner: ReshapingStageRunner<LowRankStage> = { kind: 'lowrank', reshape: reshapeLowRank };
