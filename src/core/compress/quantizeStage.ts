// The quantize stage in the pipeline: at each step, every layer of the step quantized (RTN, GPTQ
// on the step's H, or an MX format) in layer order, its dequantized weight Ŵ written into the
// working model (what later blocks are calibrated on, and what the simulated export stores); at
// the end, the packed export — MatMulNBits for every layer ONNX Runtime can run — and a report row
// per layer. Its fields and checks are src/core/recipe/stages/quantize.ts; see docs/quantization.md.
import { throwIfCancelled, type CancelSignal } from '../job/cancel.ts';
import { cpuUse, type BackendUse } from '../job/backend.ts';
import type { LinearLayer } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import type { Matrix } from '../prune/types.ts';
import { analyticPackedBytes, formatOf, matMulNBitsLayerProblem, quikExtraBytes, quikIntegerBytes, quikWriteProblem, writeQuik } from '../quant/export/index.ts';
import { activationQuantizedError, quikQuantize, type QuikResult } from '../quant/quik.ts';
import { MX_BLOCK_SIZE, MX_FORMATS, mxQuantize } from '../quant/mx.ts';
import { binarize, binarySize } from '../quant/binary.ts';
import { activationScale, scaleColumns, searchAwqScale, type WeightQuantizer } from '../quant/awq.ts';
import type { AwqInputScale } from '../quant/export/awqFold.ts';
import { quantizeRtn } from '../quant/rtn.ts';
import { dequantize, groupOfColumn, type Granularity, type QuantizedWeight } from '../quant/types.ts';
import { describeQuantFormat, describeQuantizeStage, packProblem, type QuantizeStage } from '../recipe/stages/quantize.ts';
import type { CalibrationStats } from '../calibrate/collect.ts';
import { searchAwqStep, type AwqLayerScale } from './awqStep.ts';
import { measuredError, type MeasuredError } from './jobs.ts';
import { mixedReport, planWidths, type WidthPlan } from './mixedPrecision.ts';
import { writePackedLayers } from './packedExport.ts';
import { layerPartsTotal, packedParts } from './sizeParts.ts';
import type { LayerPackedParts, LayerQuantReport, QuantizeStageReport } from './report.ts';
import type { StageContext, StageRun, StageRunner, StageStep } from './stage.ts';
import { runQuantizeJob, type QuantizeJob, type QuantizeLayerFn } from './quantJobs.ts';

const now = () => performance.now();

interface LayerOutcome {
  quantized?: QuantizedWeight;
  /** QUIK: the split (quantized columns, float outlier columns); `quantized` is its integer part. */
  quik?: QuikResult;
  row: LayerQuantReport;
  awq?: AwqLayerScale;
}

function granularityOf(stage: QuantizeStage): Granularity {
  return stage.granularity === 'group' ? { kind: 'group', size: stage.groupSize } : { kind: stage.granularity };
}

/**
 * Pruned weights stay exactly zero: RTN and MX map 0 to 0 (0 is on every grid), but GPTQ's updates
 * move them; those are set back to zero, code = zero point, and counted.
 */
function keepZeros(before: Matrix, after: Matrix, quantized: QuantizedWeight | undefined): { kept: number; rezeroed: number } {
  let kept = 0;
  let rezeroed = 0;
  for (let i = 0; i < before.data.length; i++) {
    if (before.data[i] !== 0) continue;
    kept++;
    if (after.data[i] === 0) continue;
    rezeroed++;
    after.data[i] = 0;
    if (quantized) {
      const r = Math.floor(i / before.cols);
      const c = i % before.cols;
      quantized.codes[i] = quantized.zeroPoints[r * quantized.groups + groupOfColumn(quantized, c)];
    }
  }
  return { kept, rezeroed };
}

interface LayerResult {
  weight: Matrix;
  quantized?: QuantizedWeight;
  quik?: QuikResult;
}

function quantizeLayer(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer, awq?: AwqLayerScale): LayerResult {
  switch (stage.method) {
    case 'rtn':
    case 'gptq': {
      // The job a quantizeLayer hook would get, run here on the CPU (AWQ below shares the RTN grid).
      const job = quantizeJobOf(stage, weight, stats, layer);
      if (!job) throw new Error(`quantize ${layer.name}: GPTQ needs the layer's Hessian, which calibration did not provide`);
      return runQuantizeJob(job);
    }
    case 'awq':
      return awqLayer(stage, weight, awq?.scales ?? awqScaleAlone(stage, weight, stats, layer));
    case 'mx':
      return { weight: mxQuantize(weight, stage.mxFormat).weight };
    case 'quik':
      return quikLayer(stage, weight, stats, layer);
    case 'binary':
      // BiBench's post-training baselines: simulated, the working model holds the ±α floats.
      return { weight: binarize(weight, stage.binarizer ?? 'xnor', granularityOf(stage)).weight };
  }
}

/** QUIK on the step's H and the activation scale max_t |x_tj| calibration collects with it. */
function quikLayer(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): LayerResult {
  const layerStats = stats?.layers.get(layer.id);
  if (!layerStats?.hessian.length) throw new Error(`quantize ${layer.name}: QUIK needs the layer's Hessian and activation scales, which calibration did not provide`);
  const quik = quikQuantize(weight, layerStats.hessian, layerStats.maxAbs, {
    grid: { bits: stage.bits, symmetric: stage.symmetric },
    granularity: granularityOf(stage),
    outlierColumns: stage.quik.outlierColumns,
    blockSize: stage.gptq.blockSize,
    percDamp: stage.gptq.percDamp,
  });
  return { weight: quik.weight, quantized: quik.quantized, quik };
}

/** The stage's RTN grid as a quantize-dequantize function (AWQ's search quantizes W·diag(s) with it). */
function rtnQuantizer(stage: QuantizeStage): WeightQuantizer {
  const grid = { bits: stage.bits, symmetric: stage.symmetric };
  return (w: Matrix) => dequantize(quantizeRtn(w, grid, granularityOf(stage), { mseClip: stage.mseClip }));
}

/** RTN and GPTQ as a job for the run's quantizeLayer hook; null for what stays here (AWQ, MX, a missing Hessian's error). */
function quantizeJobOf(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): QuantizeJob | null {
  const grid = { bits: stage.bits, symmetric: stage.symmetric };
  const hessian = stats?.layers.get(layer.id)?.hessian;
  if (stage.method === 'rtn') return { method: 'rtn', layerId: layer.id, weight, grid, granularity: granularityOf(stage), mseClip: stage.mseClip };
  if (stage.method === 'gptq' && hessian && hessian.length > 0) return { method: 'gptq', layerId: layer.id, weight, hessian, options: { grid, granularity: granularityOf(stage), ...stage.gptq, mseClip: stage.mseClip } };
  return null;
}

/** quantizeLayer, with RTN and GPTQ on the run's hook when there is one (a worker pool, WebGPU: gpuQuantJobs.ts), which says what ran. */
async function quantizeLayerOn(run: QuantizeLayerFn | undefined, cancel: CancelSignal | undefined, stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer, awq?: AwqLayerScale): Promise<LayerResult & { backend?: BackendUse }> {
  const job = run ? quantizeJobOf(stage, weight, stats, layer) : null;
  return run && job ? run(job, { cancel }) : quantizeLayer(stage, weight, stats, layer, awq);
}

/**
 * A layer's own scale, searched on its input sample alone: for a probe outside the step's walk
 * (a sensitivity measurement), where no group search ran.
 */
function awqScaleAlone(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): Float32Array {
  const sample = stats?.layers.get(layer.id)?.inputSample;
  if (!sample || sample.rows === 0) throw new Error(`quantize ${layer.name}: AWQ needs a sample of the layer's inputs, which calibration did not provide`);
  return searchAwqScale(weight, sample, activationScale(sample), rtnQuantizer(stage)).scales;
}

/**
 * AWQ (auto_scale) with the group's searched s (awqStep.ts): the codes are those of W·diag(s) on
 * the stage's RTN grid — what the packed file stores, its input divided by s — and the working
 * model holds Ŵ = Q(W·diag(s))·diag(s)⁻¹, the same function up to float32 rounding.
 */
function awqLayer(stage: QuantizeStage, weight: Matrix, scales: Float32Array): { weight: Matrix; quantized?: QuantizedWeight } {
  const grid = { bits: stage.bits, symmetric: stage.symmetric };
  const quantized = quantizeRtn(scaleColumns(weight, scales), grid, granularityOf(stage), { mseClip: stage.mseClip });
  const scaled = dequantize(quantized);
  const data = new Float32Array(scaled.data.length);
  for (let r = 0; r < scaled.rows; r++) for (let c = 0; c < scaled.cols; c++) data[r * scaled.cols + c] = scaled.data[r * scaled.cols + c] / scales[c];
  return { weight: { rows: scaled.rows, cols: scaled.cols, data }, quantized };
}

/** Where a layer's 1/s is, in words, for the report. */
function awqInverseScaleText(awq: AwqLayerScale, packed: boolean): string {
  if (!packed) return 'in the stored float weights (simulated export)';
  return awq.scaling.kind === 'norm' ? `scale folded into ${awq.scaling.node}` : `explicit Mul on input${awq.scaling.kind === 'mul' ? ` (${awq.scaling.why})` : ''}`;
}

function errorOf(weight: Matrix, compressed: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): MeasuredError {
  const layerStats = stats?.layers.get(layer.id);
  return measuredError(weight, compressed, { hessian: layerStats?.hessian, hessianTokens: layerStats?.tokens, inputSample: layerStats?.inputSample });
}

/**
 * With simulated activation quantization the error is W x against Ŵ Q_a(x), on the sampled tokens.
 * Calibration collects no sample where it collects H (compress/calibration.ts), so without one the
 * weight-only error from H is reported and the stage's note says the activations are not in it.
 */
function quikErrorOf(stage: QuantizeStage, weight: Matrix, compressed: Matrix, quik: QuikResult, stats: CalibrationStats | undefined, layer: LinearLayer): MeasuredError {
  const sample = stats?.layers.get(layer.id)?.inputSample;
  if (!sample || sample.rows === 0) return errorOf(weight, compressed, stats, layer);
  return { relativeError: activationQuantizedError(weight, compressed, sample, quik.quantizedColumns, stage.quik.activationBits), relativeErrorBasis: 'sampled', relativeErrorTokens: sample.rows };
}

/** Analytic bytes and bits per weight of a layer in the stage's format. */
function sizeOf(stage: QuantizeStage, layer: LinearLayer, quantized: QuantizedWeight | undefined, quik?: QuikResult): { bytes: number; bitsPerWeight: number; parts: LayerPackedParts } {
  const numel = layer.outFeatures * layer.inFeatures;
  let parts: LayerPackedParts;
  if (stage.method === 'mx') {
    const elementBits = MX_FORMATS[stage.mxFormat].elementBits;
    const blocks = layer.outFeatures * Math.ceil(layer.inFeatures / MX_BLOCK_SIZE);
    parts = { weights: Math.ceil((numel * elementBits) / 8), scales: blocks, zeroPoints: 0, groupIndex: 0, floatColumns: 0 };
  } else if (stage.method === 'binary') {
    const size = binarySize(layer.outFeatures, layer.inFeatures, stage.binarizer ?? 'xnor', granularityOf(stage));
    parts = { weights: size.weights, scales: size.scales, zeroPoints: 0, groupIndex: 0, floatColumns: 0 };
  } else if (quik) {
    // QUIK also stores its float outlier columns and both column lists (export/quik.ts).
    parts = { ...packedParts(quikIntegerBytes(quik)), floatColumns: quikExtraBytes(quik) };
  } else {
    // AWQ's 1/s is counted once per group where it is a Mul (settleAwqGroups), nothing where it is folded.
    parts = packedParts(analyticPackedBytes(formatOf(quantized!)));
  }
  const bytes = layerPartsTotal(parts);
  return { bytes, bitsPerWeight: (bytes * 8) / numel, parts };
}

class QuantizeRun implements StageRun {
  private readonly outcomes = new Map<string, LayerOutcome>();
  private ms = 0;

  constructor(
    private readonly stage: QuantizeStage,
    private readonly context: StageContext,
    /** Per-layer widths (mixed precision, bitsByLayer); absent: stage.bits for all. */
    private readonly widths?: WidthPlan,
  ) {
    this.ms = widths?.mixed?.ms ?? 0;
  }

  async apply(step: StageStep): Promise<void> {
    const start = now();
    const { context } = this;
    let done = 0;
    // The stage at a layer's width (mixed precision): quantizer, size, format and packing all follow it.
    const stageAt = (layer: LinearLayer) => {
      const width = this.widths?.widths.get(layer.id);
      return width ? { ...this.stage, bits: width.bits } : this.stage;
    };
    const awq = this.stage.method === 'awq' ? searchAwqStep(step.layers, context.working, step.stats, (layer) => rtnQuantizer(stageAt(layer))) : undefined;
    for (const layer of step.layers) {
      throwIfCancelled(context.cancel, 'quantization');
      const t0 = now();
      const width = this.widths?.widths.get(layer.id);
      const stage = stageAt(layer);
      const before = context.working.readWeight(layer);
      const result = await quantizeLayerOn(context.quantizeLayer, context.cancel, stage, before, step.stats, layer, awq?.get(layer.id));
      const zeros = keepZeros(before, result.weight, result.quantized);
      context.working.writeWeight(layer, result.weight);
      const size = sizeOf(stage, layer, result.quantized, result.quik);
      const layerProblem = (q: QuantizedWeight) => (result.quik ? quikWriteProblem(layer, q, true) : matMulNBitsLayerProblem(layer, q));
      const awqProblem = awq?.get(layer.id)?.scaling.kind === 'none' ? `AWQ's 1/s has no place in the graph: ${(awq.get(layer.id)!.scaling as { why: string }).why}` : undefined;
      const why = stage.export === 'simulated' ? 'export "simulated" was asked for' : (packProblem(stage, layer) ?? awqProblem ?? (result.quantized ? (layerProblem(result.quantized) ?? undefined) : 'no integer codes'));
      this.outcomes.set(layer.id, {
        quantized: result.quantized,
        quik: result.quik,
        awq: awq?.get(layer.id),
        row: {
          id: layer.id,
          name: layer.name,
          block: layer.block,
          role: layer.role,
          stage: context.index,
          shape: [layer.outFeatures, layer.inFeatures],
          method: stage.method,
          format: describeQuantFormat(stage),
          bitsPerWeight: size.bitsPerWeight,
          export: why === undefined ? 'packed' : 'simulated',
          ...(why !== undefined && stage.export !== 'simulated' ? { simulatedBecause: why } : {}),
          packedBytes: size.bytes,
          parts: size.parts,
          ...(result.quik && stage.quik.activationBits > 0 ? quikErrorOf(stage, before, result.weight, result.quik, step.stats, layer) : errorOf(before, result.weight, step.stats, layer)),
          zerosKept: zeros.kept,
          rezeroed: zeros.rezeroed,
          ms: now() - t0 + (awq?.get(layer.id)?.searchMs ?? 0),
          backend: result.backend ?? cpuUse(),
          ...(width ? { width } : {}),
        },
      });
      done++;
      // Let a cancel message and progress through between layers.
      await Promise.resolve();
      context.onProgress({ phase: 'quantize', label: step.label, step: { index: step.index, count: step.count }, stage: context.index, done, total: step.layers.length, layerId: layer.id });
    }
    if (awq) this.settleAwqGroups(step.layers);
    this.ms += now() - start;
  }

  /**
   * A group shares one input scale, so it is packed only when all its layers are: otherwise the
   * others stay simulated too. Then each row says where its 1/s is.
   */
  private settleAwqGroups(layers: readonly LinearLayer[]): void {
    for (const layer of layers) {
      const outcome = this.outcomes.get(layer.id)!;
      const awq = outcome.awq!;
      const simulated = layers.find((other) => other.id !== layer.id && awq.group.includes(other.name) && this.outcomes.get(other.id)!.row.export === 'simulated');
      if (outcome.row.export === 'packed' && simulated) {
        outcome.row.export = 'simulated';
        outcome.row.simulatedBecause = `it shares its AWQ scale with ${simulated.name}, which is stored simulated`;
      }
      // A Mul stores 1/s (float32) once per group: counted with its first layer; a fold stores nothing.
      const scaleBytes = outcome.row.export === 'packed' && awq.scaling.kind === 'mul' && awq.group[0] === layer.name ? layer.inFeatures * 4 : 0;
      outcome.row.awq = { alpha: awq.alpha, sharedWith: awq.group, inverseScale: awqInverseScaleText(awq, outcome.row.export === 'packed'), scaleBytes };
      outcome.row.packedBytes += scaleBytes;
      outcome.row.parts.scales += scaleBytes;
      outcome.row.bitsPerWeight = (outcome.row.packedBytes * 8) / (layer.outFeatures * layer.inFeatures);
    }
  }

  /**
   * The packed export: MatMulNBits for every layer that can be packed; the others stay simulated
   * (their Ŵ is already in the model). AWQ groups get their 1/s folded or as a Mul.
   */
  exportGraph(model: ModelProto): { model: ModelProto; notes: string[] } {
    const quik = writeQuikLayers(model, this.stage, this.context.layers, this.outcomes);
    model = quik.model;
    const packed = this.context.layers.flatMap((layer) => {
      const outcome = this.outcomes.get(layer.id);
      return outcome?.row.export === 'packed' && outcome.quantized && !outcome.quik ? [{ layer, weight: outcome.quantized, awq: outcome.awq }] : [];
    });
    const inputScales = new Map<string, AwqInputScale>();
    for (const { awq } of packed) if (awq) inputScales.set(awq.input, { input: awq.input, scales: awq.scales, scaling: awq.scaling });
    const written = writePackedLayers(model, packed, [...inputScales.values()]);
    return { model: written.model, notes: [...quik.notes, ...written.notes] };
  }

  keepsFloatWeight(layer: LinearLayer): boolean {
    const outcome = this.outcomes.get(layer.id);
    // Only the plain MatMulNBits export drops the float weight; a QUIK split is not claimed here.
    return outcome === undefined || outcome.row.export !== 'packed' || outcome.quantized === undefined || outcome.quik !== undefined;
  }

  finish(): QuantizeStageReport {
    const quantized = this.context.layers.map((layer) => {
      const outcome = this.outcomes.get(layer.id);
      if (!outcome) throw new Error(`report: layer ${layer.id} was not quantized`);
      return outcome.row;
    });
    const mixed = mixedReport(this.widths, quantized);
    return { kind: 'quantize', index: this.context.index, summary: describeQuantizeStage(this.stage), layers: [], quantized, ms: this.ms, ...(mixed ? { mixed } : {}) };
  }
}

/**
 * QUIK layers in the split form (export/quik.ts): every packed one, and, with simulated activation
 * quantization, the simulated ones too (the fake quantization needs the split). A simulated QUIK
 * layer without it keeps Ŵ in the working model's float weight.
 */
function writeQuikLayers(model: ModelProto, stage: QuantizeStage, layers: readonly LinearLayer[], outcomes: ReadonlyMap<string, LayerOutcome>): { model: ModelProto; notes: string[] } {
  const activationBits = stage.quik.activationBits;
  const split = layers.flatMap((layer) => {
    const outcome = outcomes.get(layer.id);
    const packed = outcome?.row.export === 'packed';
    if (!outcome?.quik || (!packed && activationBits === 0)) return [];
    const { quantized, quantizedColumns, outlierColumns, outlierWeight } = outcome.quik;
    return [{ layer, quantized, quantizedColumns, outlierColumns, outlierWeight, packed, activationBits }];
  });
  if (split.length === 0) return { model, notes: [] };
  const written = writeQuik(model, split);
  const packedCount = split.filter((s) => s.packed).length;
  const k = stage.quik.outlierColumns;
  const notes = [`${split.length} ${split.length === 1 ? 'layer' : 'layers'}: QUIK split, ${k} outlier input columns in float32 (Gather + MatMul), the rest ${packedCount === split.length ? 'MatMulNBits' : packedCount === 0 ? 'dequantized floats (simulated)' : `MatMulNBits in ${packedCount}, dequantized floats in ${split.length - packedCount}`}`];
  if (activationBits > 0) {
    notes.push(`activation quantization SIMULATED: each token's input to the quantized columns of ${split.length} QUIK ${split.length === 1 ? 'layer' : 'layers'} is fake-quantized to ${activationBits} bits (asymmetric per token, ONNX ops before the layer); ONNX Runtime still computes in float32, and the evaluation of this file includes its cost`);
    const weightOnly = split.filter((s) => outcomes.get(s.layer.id)?.row.relativeErrorBasis === 'hessian').length;
    if (weightOnly > 0) notes.push(`the rel. error of ${weightOnly} QUIK ${weightOnly === 1 ? 'layer is' : 'layers are'} the weight error from H: no input sample was collected, so the activation quantization is not in it (it is in the evaluation)`);
  }
  notes.push(...written.notes.filter((n) => n.startsWith('the float weight')));
  return { model: written.model, notes };
}

export const quantizeStageRunner: StageRunner<QuantizeStage> = {
  kind: 'quantize',
  async start(stage, context) {
    const widths = await planWidths(stage, context, (bits, weight, layer) => quantizeLayer({ ...stage, bits }, weight, context.dense, layer).weight);
    return new QuantizeRun(stage, context, widths);
  },
};
