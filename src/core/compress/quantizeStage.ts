// The quantize stage in the pipeline: at each step, every layer of the step quantized (RTN, GPTQ
// on the step's H, or an MX format) in layer order, its dequantized weight Ŵ written into the
// working model (what later blocks are calibrated on, and what the simulated export stores); at
// the end, the packed export — MatMulNBits for every layer ONNX Runtime can run — and a report row
// per layer. Its fields and checks are src/core/recipe/stages/quantize.ts; see docs/quantization.md.
import { throwIfCancelled } from '../job/cancel.ts';
import { cpuUse } from '../job/backend.ts';
import type { LinearLayer } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import type { Matrix } from '../prune/types.ts';
import { analyticPackedBytes, formatOf, matMulNBitsLayerProblem, quikPackedBytes, quikWriteProblem, writeMatMulNBits, writeQuik } from '../quant/export/index.ts';
import { activationQuantizedError, quikQuantize, type QuikResult } from '../quant/quik.ts';
import { gptqQuantize } from '../quant/gptq.ts';
import { MX_BLOCK_SIZE, MX_FORMATS, mxQuantize } from '../quant/mx.ts';
import { activationScale, scaleColumns, searchAwqScale } from '../quant/awq.ts';
import { quantizeRtn } from '../quant/rtn.ts';
import { dequantize, groupOfColumn, type Granularity, type QuantizedWeight } from '../quant/types.ts';
import { describeQuantFormat, describeQuantizeStage, packProblem, type QuantizeStage } from '../recipe/stages/quantize.ts';
import type { CalibrationStats } from '../calibrate/collect.ts';
import { measuredError, type MeasuredError } from './jobs.ts';
import { mixedReport, planWidths, type WidthPlan } from './mixedPrecision.ts';
import type { LayerQuantReport, QuantizeStageReport } from './report.ts';
import type { StageContext, StageRun, StageRunner, StageStep } from './stage.ts';

const now = () => performance.now();

interface LayerOutcome {
  quantized?: QuantizedWeight;
  /** QUIK: the split (quantized columns, float outlier columns); `quantized` is its integer part. */
  quik?: QuikResult;
  row: LayerQuantReport;
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

function quantizeLayer(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): LayerResult {
  const grid = { bits: stage.bits, symmetric: stage.symmetric };
  switch (stage.method) {
    case 'rtn': {
      // (AWQ below shares this grid.)
      const quantized = quantizeRtn(weight, grid, granularityOf(stage), { mseClip: stage.mseClip });
      return { weight: dequantize(quantized), quantized };
    }
    case 'gptq': {
      const hessian = stats?.layers.get(layer.id)?.hessian;
      if (!hessian || hessian.length === 0) throw new Error(`quantize ${layer.name}: GPTQ needs the layer's Hessian, which calibration did not provide`);
      const result = gptqQuantize(weight, hessian, { grid, granularity: granularityOf(stage), ...stage.gptq, mseClip: stage.mseClip });
      return { weight: result.weight, quantized: result.quantized };
    }
    case 'awq':
      return awqLayer(stage, weight, stats, layer);
    case 'mx':
      return { weight: mxQuantize(weight, stage.mxFormat).weight };
    case 'quik':
      return quikLayer(stage, weight, stats, layer);
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

/**
 * AWQ (auto_scale): s = s_X^α with α searched on the layer's sampled inputs, the codes those of
 * W·diag(s) on the stage's RTN grid, and Ŵ = Q(W·diag(s))·diag(s)⁻¹ — what the layer computes once
 * 1/s is applied to its input. One scale per layer (the reference shares one across q/k/v).
 */
function awqLayer(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): { weight: Matrix; quantized?: QuantizedWeight } {
  const sample = stats?.layers.get(layer.id)?.inputSample;
  if (!sample || sample.rows === 0) throw new Error(`quantize ${layer.name}: AWQ needs a sample of the layer's inputs, which calibration did not provide`);
  const grid = { bits: stage.bits, symmetric: stage.symmetric };
  const granularity = granularityOf(stage);
  const quantizer = (w: Matrix) => dequantize(quantizeRtn(w, grid, granularity, { mseClip: stage.mseClip }));
  const search = searchAwqScale(weight, sample, activationScale(sample), quantizer);
  const quantized = quantizeRtn(scaleColumns(weight, search.scales), grid, granularity, { mseClip: stage.mseClip });
  const scaled = dequantize(quantized);
  const data = new Float32Array(scaled.data.length);
  for (let r = 0; r < scaled.rows; r++) for (let c = 0; c < scaled.cols; c++) data[r * scaled.cols + c] = scaled.data[r * scaled.cols + c] / search.scales[c];
  return { weight: { rows: scaled.rows, cols: scaled.cols, data }, quantized };
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
function sizeOf(stage: QuantizeStage, layer: LinearLayer, quantized: QuantizedWeight | undefined, quik?: QuikResult): { bytes: number; bitsPerWeight: number } {
  const numel = layer.outFeatures * layer.inFeatures;
  if (stage.method === 'mx') {
    const elementBits = MX_FORMATS[stage.mxFormat].elementBits;
    const blocks = layer.outFeatures * Math.ceil(layer.inFeatures / MX_BLOCK_SIZE);
    const bytes = Math.ceil((numel * elementBits) / 8) + blocks;
    return { bytes, bitsPerWeight: (bytes * 8) / numel };
  }
  // AWQ also stores its per-input-channel scale s (float32), folded or as a Mul.
  // QUIK also stores its float outlier columns and both column lists (export/quik.ts).
  const bytes = quik ? quikPackedBytes(quik) : analyticPackedBytes(formatOf(quantized!)).total + (stage.method === 'awq' ? layer.inFeatures * 4 : 0);
  return { bytes, bitsPerWeight: (bytes * 8) / numel };
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
    for (const layer of step.layers) {
      throwIfCancelled(context.cancel, 'quantization');
      const t0 = now();
      // The stage at this layer's width: quantizer, size, format and packing all follow it.
      const width = this.widths?.widths.get(layer.id);
      const stage = width ? { ...this.stage, bits: width.bits } : this.stage;
      const before = context.working.readWeight(layer);
      const result = quantizeLayer(stage, before, step.stats, layer);
      const zeros = keepZeros(before, result.weight, result.quantized);
      context.working.writeWeight(layer, result.weight);
      const size = sizeOf(stage, layer, result.quantized, result.quik);
      const layerProblem = (q: QuantizedWeight) => (result.quik ? quikWriteProblem(layer, q, true) : matMulNBitsLayerProblem(layer, q));
      const why = stage.export === 'simulated' ? 'export "simulated" was asked for' : (packProblem(stage, layer) ?? (result.quantized ? (layerProblem(result.quantized) ?? undefined) : 'no integer codes'));
      this.outcomes.set(layer.id, {
        quantized: result.quantized,
        quik: result.quik,
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
          ...(result.quik && stage.quik.activationBits > 0 ? quikErrorOf(stage, before, result.weight, result.quik, step.stats, layer) : errorOf(before, result.weight, step.stats, layer)),
          zerosKept: zeros.kept,
          rezeroed: zeros.rezeroed,
          ms: now() - t0,
          backend: cpuUse(),
          ...(width ? { width } : {}),
        },
      });
      done++;
      // Let a cancel message and progress through between layers.
      await Promise.resolve();
      context.onProgress({ phase: 'quantize', label: step.label, step: { index: step.index, count: step.count }, stage: context.index, done, total: step.layers.length, layerId: layer.id });
    }
    this.ms += now() - start;
  }

  /** The packed export: MatMulNBits for every layer that can be packed; the others stay simulated (their Ŵ is already in the model). */
  exportGraph(model: ModelProto): { model: ModelProto; notes: string[] } {
    const quik = writeQuikLayers(model, this.stage, this.context.layers, this.outcomes);
    model = quik.model;
    const packed = this.context.layers.flatMap((layer) => {
      const outcome = this.outcomes.get(layer.id);
      return outcome?.row.export === 'packed' && outcome.quantized && !outcome.quik ? [{ layer, weight: outcome.quantized }] : [];
    });
    if (packed.length === 0) return { model, notes: quik.notes };
    const written = writeMatMulNBits(model, packed);
    // One line per kind of layer written ("36 layers: MatMulNBits 4-bit, block 32, …"), not per layer.
    const kinds = new Map<string, number>();
    for (const note of written.notes) {
      const what = note.replace(/^[^:]*: /, '');
      kinds.set(what, (kinds.get(what) ?? 0) + 1);
    }
    return { model: written.model, notes: [...quik.notes, ...[...kinds].map(([what, count]) => `${count} ${count === 1 ? 'layer' : 'layers'}: ${what}`)] };
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
