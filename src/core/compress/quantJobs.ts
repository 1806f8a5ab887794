// One layer's RTN or GPTQ as a job, so the quantize stage can hand it to a backend through
// StageContext.quantizeLayer, as prune stages hand PruneJobs to pruneLayer: a worker pool
// (workers/prune.worker.ts), WebGPU (gpuQuantJobs.ts), or `cpuQuantizeLayer`. Without a hook the
// stage runs the same job here with runQuantizeJob. The result says what ran.
import { cpuUse, type BackendUse, type ComputeBackend } from '../job/backend.ts';
import type { CancelSignal } from '../job/cancel.ts';
import { gptqQuantize, type GptqOptions } from '../quant/gptq.ts';
import { quantizeRtn } from '../quant/rtn.ts';
import { dequantize, type Granularity, type IntGrid, type Matrix, type QuantizedWeight } from '../quant/types.ts';

export type QuantizeJob =
  | { method: 'rtn'; layerId: string; weight: Matrix; grid: IntGrid; granularity: Granularity; mseClip?: boolean }
  | { method: 'gptq'; layerId: string; weight: Matrix; hessian: Float64Array; options: GptqOptions };

export interface QuantizeJobResult {
  /** Ŵ, the dequantized weight. */
  weight: Matrix;
  quantized: QuantizedWeight;
  backend: BackendUse;
}

/** Runs one job; `cancel` is checked where the backend can stop (between GPTQ blocks on the GPU). */
export type QuantizeLayerFn = (job: QuantizeJob, options?: { cancel?: CancelSignal }) => Promise<QuantizeJobResult>;

/** The CPU path: quantizeRtn / gptqQuantize, labelled with what was requested and, if it differs, why not. */
export function runQuantizeJob(job: QuantizeJob, backend: BackendUse = cpuUse()): QuantizeJobResult {
  if (job.method === 'rtn') {
    const quantized = quantizeRtn(job.weight, job.grid, job.granularity, { mseClip: job.mseClip });
    return { weight: dequantize(quantized), quantized, backend };
  }
  const result = gptqQuantize(job.weight, job.hessian, job.options);
  return { weight: result.weight, quantized: result.quantized, backend };
}

/** A quantizeLayer on the CPU; with requested 'webgpu' and a reason, every row says why it ran here. */
export function cpuQuantizeLayer(requested: ComputeBackend = 'cpu', fallbackReason?: string): QuantizeLayerFn {
  return async (job) => runQuantizeJob(job, cpuUse(requested, fallbackReason));
}
