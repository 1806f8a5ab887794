// The typed message protocol between the UI thread and the model worker. Every request carries a
// job id; every response names the job it answers, so the UI can drop stale results.
import type { Dataset, ImageDataset } from '../src/core/eval/datasets';
import type { DecodingStrategy, Generation } from '../src/core/eval/generate';
import type { EvalMetrics } from '../src/core/eval/metrics';
import type { ImagePrediction } from '../src/core/eval/predict';
import type { BackendPreference, BackendReport } from '../src/core/eval/runner';
import type { ModelAnalysis } from '../src/core/model';
import type { CompressReport, LayerQuantInspection, QuantScope, StoredLayer } from '../src/core/compress';
import type { MxFormat } from '../src/core/quant/mx';
import type { ComputeBackend, Progress } from '../src/core/job';
import type { KeepMask } from '../src/core/prune';
import type { RecordInterval } from '../src/core/experiments/record';
import type { Recipe } from '../src/core/recipe';
import type { AttentionInput, CapturedAttention, LayerStats } from '../src/core/attention';
import type { SampleValues } from '../src/core/eval/samples';
import type { HfConfig } from '../src/core/hf/config';
import type { ExportFile } from '../src/core/hf/exportFolder';
import type { TextSplit, TextSplitOptions } from '../src/core/hf/textData';
import type { MaskedSplitOptions, MaskedTextSplit, MaskedWindow } from '../src/core/hf/maskedLm';

export type JobId = number;

/**
 * Which model a request reads: the loaded one, or the result of a run. The worker holds the last
 * few runs' results (MAX_HELD_RUNS); an older run's is gone, and a request for it says so.
 */
export type ModelTarget = 'dense' | { runId: string };

export const MAX_HELD_RUNS = 4;

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
      /**
       * A Hugging Face export folder: the dropped Files themselves (a handle each, not their bytes),
       * opened by openHfFolder here, where only the files its plan uses are read and the tokenizer
       * (megabytes of JSON) is built. The loaded model is replaced only when all of it agrees.
       */
      type: 'loadFolder';
      jobId: JobId;
      entries: { path: string; file: File }[];
      /**
       * The graph and its data exceed what one ONNX Runtime session takes: open it for analysis
       * only (no data file read; docs/hf-memory.md), and refuse sessions with this reason.
       */
      tooLarge?: string;
    }
  | {
      /** The loaded folder's text as windows dealt to calibration and evaluation (its tokenizer). */
      type: 'splitText';
      jobId: JobId;
      text: string;
      options: TextSplitOptions;
    }
  | {
      /** An encoder folder's text as wrapped, masked windows (src/core/hf/maskedLm.ts), with its tokenizer. */
      type: 'splitMaskedText';
      jobId: JobId;
      text: string;
      options: MaskedSplitOptions;
    }
  | {
      /** Text → token ids with the loaded folder's tokenizer (generation prompts). */
      type: 'encodeText';
      jobId: JobId;
      text: string;
    }
  | {
      /** Token ids → text with the loaded folder's tokenizer (generated continuations). */
      type: 'decodeIds';
      jobId: JobId;
      ids: number[];
    }
  | {
      /** Runs a staged recipe (any stage kinds) on the loaded model. */
      type: 'compress';
      jobId: JobId;
      /** The run this result belongs to: later requests name it (evaluate, mask, …). */
      runId: string;
      /** The model's name (bundled id or file stem), written into the result's metadata. */
      sourceModel?: string;
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
      /** The loaded (dense) model, or a run's compressed model. */
      target: ModelTarget;
      dataset: Dataset;
      backend: BackendPreference;
      numThreads: number;
      wasmPaths?: string;
      /** Seeds the bootstrap of a run's interval against dense (the recipe's seed). */
      seed?: number;
      /** An encoder on the user's text: masked-token accuracy on these windows instead of `dataset`'s next-token metrics. */
      masked?: { windows: MaskedWindow[]; seqLen: number };
    }
  | {
      /** Continues a prompt with a causal LM: the loaded model or a run's result (teaching view). */
      type: 'generate';
      jobId: JobId;
      target: ModelTarget;
      /** Token ids (the UI tokenizes with the model's vocabulary; the worker needs none). */
      promptIds: number[];
      maxNewTokens: number;
      /** The model's context window (its card's architecture.context). */
      contextLength: number;
      strategy: DecodingStrategy;
      backend: BackendPreference;
      numThreads: number;
      wasmPaths?: string;
    }
  | {
      /** Per-image predictions of a classifier for the images `indices` of `dataset` (teaching view). */
      type: 'predict';
      jobId: JobId;
      target: ModelTarget;
      dataset: ImageDataset;
      indices: number[];
      backend: BackendPreference;
      numThreads: number;
      wasmPaths?: string;
    }
  | {
      /** One layer of a run's result for the mask view: its keep mask and its weights' magnitudes. */
      type: 'mask';
      jobId: JobId;
      runId: string;
      layerId: string;
    }
  | {
      /**
       * One quantized layer of a run's result for the weight-histogram view: the dense weights of
       * the scope, the values the run's file stores, and the grid read from the file.
       */
      type: 'quantLayer';
      jobId: JobId;
      runId: string;
      layerId: string;
      /** The quantize stage's method, and its MX element format for 'mx'. */
      method: string;
      mxFormat?: MxFormat;
      scope: QuantScope;
    }
  | {
      /**
       * Every attention site's post-softmax maps for one input (the attention view): LM token ids
       * (tokenized on the UI thread, as for 'generate') or one image (send a one-image set).
       */
      type: 'attention';
      jobId: JobId;
      target: ModelTarget;
      input: AttentionInput;
      backend: BackendPreference;
      numThreads: number;
      wasmPaths?: string;
    }
  | {
      /** Loads and compiles ONNX Runtime's WASM build now, while the page still fetches the model. */
      type: 'warmUp';
      jobId: JobId;
      numThreads: number;
      wasmPaths?: string;
    }
  | {
      /**
       * Inference time per evaluated token (or image) of the dense model and a run's result, measured
       * alike: the same batch, alternating, after a warm-up, on the same backend.
       */
      type: 'timeInference';
      jobId: JobId;
      runId: string;
      dataset: Dataset;
      backend: BackendPreference;
      numThreads: number;
      wasmPaths?: string;
    }
  | { type: 'cancel'; jobId: JobId };

export interface LoadResult {
  analysis: ModelAnalysis;
  /** Measured bytes of the model file, plus any external-data files it uses. */
  sizeBytes: number;
  /** Names of the external-data files that were resolved into the model. */
  externalFiles: string[];
  parseMs: number;
  /** SHA-256 (hex) of the .onnx file as given. */
  sha256: string;
  /** What a Hugging Face folder's JSON files said, once they agreed with the graph. */
  hf?: HfLoadResult;
}

export interface HfLoadResult {
  /** The graph opened and every file used, by their paths in the folder. */
  modelPath: string;
  used: string[];
  /** planFolder's missing pieces (with what each costs) and notes, and any input the lab cannot feed. */
  missing: string[];
  notes: string[];
  config?: { file: string; config: HfConfig; json: unknown };
  /** Positions the config gives (n_positions, max_position_embeddings). */
  contextLength?: number;
  tokenizer?: { file: string; vocabSize: number; eosId?: number };
  /** The small files a download copies as they were (tokenizer*, generation_config, …). */
  copied: ExportFile[];
}

import type { ModelLatency } from '../src/core/latency/model';

export interface InferenceTiming {
  /** Median milliseconds per evaluated token (LM) or image (classifier). */
  denseMsPerItem: number;
  runMsPerItem: number;
  /** Items per timed batch, and batches timed for each model. */
  items: number;
  rounds: number;
  backend: BackendReport;
  /**
   * MEASURED latency per forward pass of a context window (batch 1; src/core/latency): the dense
   * model's measured once per model and backend and kept, the run's measured now. Absent when it
   * could not be measured (latencyError says why).
   */
  latency?: { dense: ModelLatency; compressed: ModelLatency };
  latencyError?: string;
}

export interface EvalResult {
  metrics: EvalMetrics;
  backend: BackendReport;
  sessionMs: number;
  evalMs: number;
  /** A run's headline change against the dense model's last evaluation, with its paired 95 % interval. */
  interval?: RecordInterval;
  /** Per-sample values of this evaluation (per window for an LM): the page's own intervals resample them. */
  samples: SampleValues;
}

export interface GenerateResult {
  generation: Generation;
  backend: BackendReport;
  /** Wall time of the generation itself, session creation excluded. */
  generateMs: number;
}

export interface PredictResult {
  predictions: ImagePrediction[];
  backend: BackendReport;
}

/** The maps and their statistics, or why this model's attention cannot be captured (fused, or none found). */
export type AttentionResult = { ok: true; captured: CapturedAttention; stats: LayerStats[]; backend: BackendReport } | { ok: false; reason: string };

export interface CompressResultMessage {
  /** Includes `backends`: where calibration, its statistics and each layer job ran, and why anything fell back. */
  report: CompressReport;
  /** The compressed model as written (a copy: the worker keeps its own for evaluation). */
  bytes: ArrayBuffer;
}

/**
 * One layer of a run's result, as the mask view draws it: a KeepMask (`data`: row-major, 1 = kept,
 * i.e. w ≠ 0) plus |w|. It extends KeepMask rather than renaming `data`, so every reader of the
 * keep mask goes on working. Both buffers are transferred, not copied.
 */
export interface LayerWeights extends KeepMask {
  /** Row-major |w| of W (C_out × C_in); 0 where pruned. */
  magnitude: Float32Array;
  /**
   * How the file stores the layer: 'float' (the mask is w ≠ 0), or 'packed' in MatMulNBits (the
   * mask is code ≠ zero point, |w| of the dequantized weight).
   */
  storage: StoredLayer['storage'];
}

export type WorkerResponse =
  | { type: 'progress'; jobId: JobId; progress: Progress }
  | { type: 'compressed'; jobId: JobId; result: CompressResultMessage }
  | { type: 'loaded'; jobId: JobId; result: LoadResult }
  | { type: 'evaluated'; jobId: JobId; result: EvalResult }
  | { type: 'generated'; jobId: JobId; result: GenerateResult }
  | { type: 'predicted'; jobId: JobId; result: PredictResult }
  | { type: 'mask'; jobId: JobId; result: LayerWeights }
  | { type: 'quantLayer'; jobId: JobId; result: LayerQuantInspection }
  | { type: 'attention'; jobId: JobId; result: AttentionResult }
  | { type: 'warm'; jobId: JobId; result: { ms: number } }
  | { type: 'timed'; jobId: JobId; result: InferenceTiming }
  | { type: 'textSplit'; jobId: JobId; result: TextSplit }
  | { type: 'maskedTextSplit'; jobId: JobId; result: MaskedTextSplit }
  | { type: 'encoded'; jobId: JobId; result: number[] }
  | { type: 'decoded'; jobId: JobId; result: string }
  | { type: 'error'; jobId: JobId; message: string; errorName: string }
  | { type: 'cancelled'; jobId: JobId };
