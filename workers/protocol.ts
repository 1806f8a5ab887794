// The typed message protocol between the UI thread and the model worker. Every request carries a
// job id; every response names the job it answers, so the UI can drop stale results.
import type { Dataset } from '../src/core/eval/datasets';
import type { EvalMetrics } from '../src/core/eval/metrics';
import type { BackendPreference, BackendReport } from '../src/core/eval/runner';
import type { ModelAnalysis } from '../src/core/model';
import type { CompressReport } from '../src/core/compress';
import type { ComputeBackend, Progress } from '../src/core/job';
import type { KeepMask } from '../src/core/prune';
import type { Recipe } from '../src/core/recipe';

export type JobId = number;

export type WorkerRequest =
  | {
      type: 'load';
      jobId: JobId;
      bytes: ArrayBuffer;
      fileName: string;
      /** Files loaded alongside the model, e.g. its external-data `.data` file. */
      sideFiles?: { name: string; bytes: ArrayBuffer }[];
    }
  | {
      /** Runs a staged recipe (any stage kinds) on the loaded model. */
      type: 'compress';
      jobId: JobId;
      /** A staged recipe; the worker parses it again, so version-1 documents migrate. */
      recipe: Recipe;
      calibSet: Dataset;
      /** Per-layer jobs run in this many pool workers. */
      poolSize: number;
      /**
       * Where per-layer jobs and the calibration Hessians run. Calibration inference always runs on
       * WASM (deterministic); with 'cpu' the whole run is bit-identical to the CLI.
       */
      computeBackend: ComputeBackend;
      numThreads: number;
      wasmPaths?: string;
    }
  | {
      type: 'evaluate';
      jobId: JobId;
      /** The loaded (dense) model, or the last pruning result. */
      target: 'dense' | 'pruned';
      dataset: Dataset;
      backend: BackendPreference;
      numThreads: number;
      wasmPaths?: string;
    }
  | {
      /** The keep mask (non-zero pattern) of one layer of the last pruning result, for the mask view. */
      type: 'mask';
      jobId: JobId;
      layerId: string;
    }
  | { type: 'cancel'; jobId: JobId };

export interface LoadResult {
  analysis: ModelAnalysis;
  /** Measured bytes of the model file, plus any external-data files it uses. */
  sizeBytes: number;
  /** Names of the external-data files that were resolved into the model. */
  externalFiles: string[];
  parseMs: number;
}

export interface EvalResult {
  metrics: EvalMetrics;
  backend: BackendReport;
  sessionMs: number;
  evalMs: number;
}

export interface CompressResultMessage {
  /** Includes `backends`: where calibration, its statistics and each layer job ran, and why anything fell back. */
  report: CompressReport;
  /** The compressed model as written (a copy: the worker keeps its own for evaluation). */
  bytes: ArrayBuffer;
}

export type WorkerResponse =
  | { type: 'progress'; jobId: JobId; progress: Progress }
  | { type: 'compressed'; jobId: JobId; result: CompressResultMessage }
  | { type: 'loaded'; jobId: JobId; result: LoadResult }
  | { type: 'evaluated'; jobId: JobId; result: EvalResult }
  | { type: 'mask'; jobId: JobId; result: KeepMask }
  | { type: 'error'; jobId: JobId; message: string; errorName: string }
  | { type: 'cancelled'; jobId: JobId };
