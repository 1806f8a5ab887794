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
import { analyticPackedBytes, formatOf, matMulNBitsLayerProblem, writeMatMulNBits } from '../quant/export/index.ts';
import { MX_BLOCK_SIZE, MX_FORMATS, mxQuantize } from '../quant/mx.ts';
import { activationScale, scaleColumns, searchAwqScale } from '../quant/awq.ts';
import { quantizeRtn } from '../quant/rtn.ts';
import { dequantize, groupOfColumn, type Granularity, type QuantizedWeight } from '../quant/types.ts';
import { describeQuantFormat, describeQuantizeStage, packProblem, type QuantizeStage } from '../recipe/stages/quantize.ts';
import type { CalibrationStats } from '../calibrate/collect.ts';
import { measuredError, type MeasuredError } from './jobs.ts';
import type { LayerQuantReport, QuantizeStageReport } from './report.ts';
import type { StageContext, StageRun, StageRunner, StageStep } from './stage.ts';
import { runQuantizeJob, type QuantizeJob, type QuantizeLayerFn } from './quantJobs.ts';

const now = () => performance.now();

interface LayerOutcome {
  quantized?: QuantizedWeight;
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

function quantizeLayer(stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): { weight: Matrix; quantized?: QuantizedWeight } {
  switch (stage.method) {
    case 'rtn':
    case 'gptq': {
      // The job a quantizeLayer hook would get, run here on the CPU (AWQ below shares the RTN grid).
      const job = quantizeJobOf(stage, weight, stats, layer);
      if (!job) throw new Error(`quantize ${layer.name}: GPTQ needs the layer's Hessian, which calibration did not provide`);
      return runQuantizeJob(job);
    }
    case 'awq':
      return awqLayer(stage, weight, stats, layer);
    case 'mx':
      return { weight: mxQuantize(weight, stage.mxFormat).weight };
  }
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
async function quantizeLayerOn(run: QuantizeLayerFn | undefined, cancel: CancelSignal | undefined, stage: QuantizeStage, weight: Matrix, stats: CalibrationStats | undefined, layer: LinearLayer): Promise<{ weight: Matrix; quantized?: QuantizedWeight; backend?: BackendUse }> {
  const job = run ? quantizeJobOf(stage, weight, stats, layer) : null;
  return run && job ? run(job, { cancel }) : quantizeLayer(stage, weight, stats, layer);
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

/** Analytic bytes and bits per weight of a layer in the stage's format. */
function sizeOf(stage: QuantizeStage, layer: LinearLayer, quantized: QuantizedWeight | undefined): { bytes: number; bitsPerWeight: number } {
  const numel = layer.outFeatures * layer.inFeatures;
  if (stage.method === 'mx') {
    const elementBits = MX_FORMATS[stage.mxFormat].elementBits;
    const blocks = layer.outFeatures * Math.ceil(layer.inFeatures / MX_BLOCK_SIZE);
    const bytes = Math.ceil((numel * elementBits) / 8) + blocks;
    return { bytes, bitsPerWeight: (bytes * 8) / numel };
  }
  // AWQ also stores its per-input-channel scale s (float32), folded or as a Mul.
  const bytes = analyticPackedBytes(formatOf(quantized!)).total + (stage.method === 'awq' ? layer.inFeatures * 4 : 0);
  return { bytes, bitsPerWeight: (bytes * 8) / numel };
}

class QuantizeRun implements StageRun {
  private readonly outcomes = new Map<string, LayerOutcome>();
  private ms = 0;

  constructor(
    private readonly stage: QuantizeStage,
    private readonly context: StageContext,
  ) {}

  async apply(step: StageStep): Promise<void> {
    const start = now();
    const { stage, context } = this;
    let done = 0;
    for (const layer of step.layers) {
      throwIfCancelled(context.cancel, 'quantization');
      const t0 = now();
      const before = context.working.readWeight(layer);
      const result = await quantizeLayerOn(context.quantizeLayer, context.cancel, stage, before, step.stats, layer);
      const zeros = keepZeros(before, result.weight, result.quantized);
      context.working.writeWeight(layer, result.weight);
      const size = sizeOf(stage, layer, result.quantized);
      const why = stage.export === 'simulated' ? 'export "simulated" was asked for' : (packProblem(stage, layer) ?? (result.quantized ? (matMulNBitsLayerProblem(layer, result.quantized) ?? undefined) : 'no integer codes'));
      this.outcomes.set(layer.id, {
        quantized: result.quantized,
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
          ...errorOf(before, result.weight, step.stats, layer),
          zerosKept: zeros.kept,
          rezeroed: zeros.rezeroed,
          ms: now() - t0,
          backend: result.backend ?? cpuUse(),
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
    const packed = this.context.layers.flatMap((layer) => {
      const outcome = this.outcomes.get(layer.id);
      return outcome?.row.export === 'packed' && outcome.quantized ? [{ layer, weight: outcome.quantized }] : [];
    });
    if (packed.length === 0) return { model, notes: [] };
    const written = writeMatMulNBits(model, packed);
    // One line per kind of layer written ("36 layers: MatMulNBits 4-bit, block 32, …"), not per layer.
    const kinds = new Map<string, number>();
    for (const note of written.notes) {
      const what = note.replace(/^[^:]*: /, '');
      kinds.set(what, (kinds.get(what) ?? 0) + 1);
    }
    return { model: written.model, notes: [...kinds].map(([what, count]) => `${count} ${count === 1 ? 'layer' : 'layers'}: ${what}`) };
  }

  finish(): QuantizeStageReport {
    const quantized = this.context.layers.map((layer) => {
      const outcome = this.outcomes.get(layer.id);
      if (!outcome) throw new Error(`report: layer ${layer.id} was not quantized`);
      return outcome.row;
    });
    return { kind: 'quantize', index: this.context.index, summary: describeQuantizeStage(this.stage), layers: [], quantized, ms: this.ms };
  }
}

export const quantizeStageRunner: StageRunner<QuantizeStage> = {
  kind: 'quantize',
  async start(stage, context) {
    return new QuantizeRun(stage, context);
  },
};
