// One layer's pruning as a job: a plain object (numbers, strings, typed arrays) that can be
// posted to a worker as is, and a pure function that runs it. The pipeline hands jobs to an
// injected `pruneLayer` (a worker pool in the browser) and writes results back in layer order,
// so the weights do not depend on how many workers ran the jobs or in which order they finished.
import { magnitudePrune } from '../prune/magnitude.ts';
import { relativeReconstructionError } from '../prune/reconstruction.ts';
import { sparseGptPrune } from '../prune/sparsegpt.ts';
import { wandaPrune } from '../prune/wanda.ts';
import type { PruneMethod } from '../prune/methods.ts';
import type { SparsityPattern } from '../prune/patterns.ts';
import { cpuUse, describeBackendUse, type BackendUse } from '../job/backend.ts';
import type { KeepMask, Matrix, PruneResult } from '../prune/types.ts';
import type { Granularity, IntGrid, QuantizedWeight } from '../quant/types.ts';

export interface PruneJob {
  /** Index of the job within its batch; results are matched by it. */
  index: number;
  layerId: string;
  /** 'prune' writes the result into the model; 'sensitivity' only measures its error. */
  purpose: 'prune' | 'sensitivity';
  method: PruneMethod;
  pattern: SparsityPattern;
  /** Magnitude's comparison group (global scope is not a per-layer job). */
  magnitudeGroup: 'layer' | 'row';
  /** W (C_out × C_in), row-major float32. */
  weight: Matrix;
  /** (C_in) Σ x_j² (Wanda; with token selection, over the selected tokens). */
  sqNorm?: Float64Array;
  /** (C_in × C_in) H = 2/n·X Xᵀ (SparseGPT; and the exact reconstruction error of any method). */
  hessian?: Float64Array;
  /** n, the calibration tokens H was accumulated over (for the report). */
  hessianTokens?: number;
  /** (tokens × C_in) a seeded sample of input tokens: the estimated error when there is no H. */
  inputSample?: Matrix;
  sparseGpt: { blockSize: number; percDamp: number };
  /** SparseGPT only: quantize the kept weights in the same sweep (the reference's wbits path). */
  quantize?: { grid: IntGrid; granularity: Granularity; mseClip: boolean };
}

/**
 * What a relative error was measured on: `hessian`, exact on all n calibration tokens; `sampled`,
 * an estimate on a seeded sample of that many input tokens (calibration.outputSample at most).
 */
export type RelativeErrorBasis = 'hessian' | 'sampled';

export interface PruneJobResult {
  index: number;
  layerId: string;
  weight: Matrix;
  keep: KeepMask;
  /**
   * ‖WX − ŴX‖_F / ‖WX‖_F on the calibration data: exact from H, or estimated on the input sample;
   * null with neither.
   */
  relativeError: number | null;
  /** What relativeError was measured on (null with it), and on how many tokens. */
  relativeErrorBasis: RelativeErrorBasis | null;
  relativeErrorTokens: number | null;
  ms: number;
  /** What ran the job, typed: requested, ran, CPU steps, fallback reason. */
  ran: BackendUse;
  /** describeBackendUse(ran), e.g. 'cpu', 'webgpu', 'webgpu+cpu (|W|)', for tables. */
  backend: string;
  /** With job.quantize: the codes of `weight` (pruned weights hold the zero point). */
  quantized?: QuantizedWeight;
}

export type PruneLayerFn = (job: PruneJob) => Promise<PruneJobResult>;

/** The error for a job whose method needs a statistic that calibration did not collect. */
export function missingStatistic(job: PruneJob, what: string): never {
  throw new Error(`prune job ${job.layerId}: method ${job.method} needs ${what}, which calibration did not provide`);
}

export type MeasuredError = Pick<PruneJobResult, 'relativeError' | 'relativeErrorBasis' | 'relativeErrorTokens'>;

/**
 * The relative error of `compressed` against `weight` (any stage's): exact from H where calibration
 * collected it, else estimated on the layer's sampled input tokens, else not measured.
 */
export function measuredError(weight: Matrix, compressed: Matrix, data: { hessian?: Float64Array; hessianTokens?: number; inputSample?: Matrix }): MeasuredError {
  if (data.hessian && data.hessian.length > 0) {
    return { relativeError: relativeReconstructionError(weight, compressed, { hessian: data.hessian }), relativeErrorBasis: 'hessian', relativeErrorTokens: data.hessianTokens ?? null };
  }
  const sample = data.inputSample;
  if (sample && sample.rows > 0) {
    return { relativeError: relativeReconstructionError(weight, compressed, { tokenRows: sample }), relativeErrorBasis: 'sampled', relativeErrorTokens: sample.rows };
  }
  return { relativeError: null, relativeErrorBasis: null, relativeErrorTokens: null };
}

const relativeErrorOf = (job: PruneJob, compressed: Matrix): MeasuredError => measuredError(job.weight, compressed, job);

/** The job's result from what ran it, with the error measure on the job's statistics (any backend). */
export function pruneJobResult(job: PruneJob, result: PruneResult & { quantized?: QuantizedWeight }, start: number, ran: BackendUse): PruneJobResult {
  return {
    index: job.index,
    layerId: job.layerId,
    weight: result.weight,
    keep: result.keep,
    ...relativeErrorOf(job, result.weight),
    ms: performance.now() - start,
    ran,
    backend: describeBackendUse(ran),
    ...(result.quantized ? { quantized: result.quantized } : {}),
  };
}

/**
 * The CPU reference path: runs the job synchronously with src/core/prune. `ran` says what was
 * asked (a pool worker without a device runs this for a WebGPU request, and says why).
 */
export function runPruneJob(job: PruneJob, ran: BackendUse = cpuUse()): PruneJobResult {
  const start = performance.now();
  const result =
    job.method === 'magnitude'
      ? magnitudePrune(job.weight, job.pattern, job.magnitudeGroup)
      : job.method === 'wanda'
        ? wandaPrune(job.weight, { sqNorm: job.sqNorm ?? missingStatistic(job, 'sqNorm') }, job.pattern)
        : sparseGptPrune(job.weight, { hessian: job.hessian ?? missingStatistic(job, 'a Hessian') }, job.pattern, { ...job.sparseGpt, ...(job.quantize ? { quantize: job.quantize } : {}) });
  return pruneJobResult(job, result, start, ran);
}

/** The default `pruneLayer`: the CPU path in this thread. */
export const cpuPruneLayer: PruneLayerFn = async (job) => runPruneJob(job);
