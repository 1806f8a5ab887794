// The app's one store of serialisable domain state, built from slices. Workers, ORT sessions and
// datasets live in services (src/services), never here. A run record has the shape the experiments
// issue will persist: everything needed to show, compare and reproduce it, nothing live.
import { create } from 'zustand';
import type { ModelAnalysis } from '../core/model';
import type { ModelCard } from '../core/catalog/modelCard';
import type { EvalMetrics } from '../core/eval/metrics';
import type { BackendPreference, BackendReport } from '../core/eval/runner';
import type { CompressReport } from '../core/compress';
import type { ComputeBackend, Progress } from '../core/job';
import { defaultRecipe, type Recipe } from '../core/recipe';
import type { RecordInterval } from '../core/experiments/record';
import type { SharedState } from './share';
import type { HfConfig } from '../core/hf/config';
import type { TextMetrics } from '../core/hf/textMetrics';
import type { MaskedLmMetrics } from '../core/hf/maskedLm';

export type ModelSource = { kind: 'bundled'; id: string } | { kind: 'file'; name: string };

/** The model's name in file names: the bundled id, or the user's file name without .onnx. */
export function modelStem(source: ModelSource): string {
  return source.kind === 'bundled' ? source.id : source.name.replace(/\.onnx$/i, '');
}

export interface ModelSlice {
  bundledIds: string[];
  model: {
    status: 'idle' | 'loading' | 'ready';
    source?: ModelSource;
    card?: ModelCard;
    analysis?: ModelAnalysis;
    sizeBytes?: number;
    externalFiles?: string[];
    parseMs?: number;
    /** SHA-256 of the .onnx file as given (the worker hashes it at load): records and links name it. */
    sha256?: string;
    /** Counts loads: a run belongs to the load it was made from. */
    loadId: number;
    /** A Hugging Face export folder: what was recognised in it and what is missing. */
    hf?: HfFolderInfo;
  };
  /** The last load failure; the previously loaded model stays usable. */
  loadError?: { fileName: string; message: string };
}

/** What the page shows of a loaded Hugging Face folder (its bytes live in the controller). */
export interface HfFolderInfo {
  /** The dropped folder's name, or the graph's when files were picked alone. */
  folder: string;
  /** The graph opened, by its path in the folder. */
  modelPath: string;
  /** Every file used: the graph, its external data, the JSON pieces. */
  used: string[];
  config?: HfConfig;
  contextLength?: number;
  tokenizer?: { file: string; vocabSize: number; eosId?: number };
  /** One sentence per missing piece, with what it costs. */
  missing: string[];
  notes: string[];
}

/** The user's text as the evaluation and calibration sets, and how it was split. */
export interface TextDataSlice {
  textData: {
    status: 'idle' | 'splitting' | 'ready' | 'error';
    /** "pasted text (1,234 characters)", "notes.jsonl", "the bundled KJV text". */
    source?: string;
    message?: string;
    split?: {
      seqLen: number;
      tokens: number;
      leftOver: number;
      calibWindows: number[];
      evalWindows: number[];
      evalBytes: number;
      /** An encoder's windows: [CLS] … [SEP] included in seqLen, and the positions BERT's rule chose for masking. */
      masked?: { positions: number };
      /** The recipe's calibration samples were lowered to the windows there are. */
      samplesCappedTo?: number;
    };
  };
}

export interface Evaluation {
  status: 'idle' | 'running' | 'done' | 'error' | 'cancelled' | 'unavailable';
  progress?: Progress;
  metrics?: EvalMetrics;
  backend?: BackendReport;
  datasetLabel?: string;
  message?: string;
  evalMs?: number;
  /** Creating the ONNX Runtime session (0 when it was reused). */
  sessionMs?: number;
  /** On the user's text: perplexity and bits per byte with their bootstrap intervals over windows. */
  text?: TextMetrics;
  /** An encoder on the user's text: masked-token accuracy and NLL with their intervals over windows. */
  masked?: MaskedLmMetrics;
}

export interface EvalSlice {
  /** The loaded (dense) model on its evaluation set. */
  evaluation: Evaluation;
}

/** Where layer jobs run by default, and why: decided once from the adapter the page finds. */
export interface ComputeDefault {
  backend: ComputeBackend;
  reason: string;
}

export interface SettingsSlice {
  backend: BackendPreference;
  /** Workers in the prune pool (default: navigator.hardwareConcurrency, at most 8). */
  poolSize: number;
  computeBackend: ComputeBackend;
  computeDefault?: ComputeDefault;
}

/** 'interrupted': read back from the history, cut off by a closed or crashed tab. */
export type RunStatus = 'running' | 'done' | 'error' | 'cancelled' | 'interrupted';

/** One experiment: a recipe applied to a model, its report and its metrics against dense. */
export interface RunRecord {
  /** "run-3": names the worker's copy of the result and the download slot. */
  id: string;
  number: number;
  startedAt: number;
  /** Click → compressed metrics on screen (or → failure). */
  durationMs?: number;
  /** loadId −1: read back from the history, not made from this page's load. */
  model: { label: string; stem: string; source: ModelSource; loadId: number; sha256?: string };
  recipe: Recipe;
  computeBackend: ComputeBackend;
  poolSize: number;
  status: RunStatus;
  /** Cancel was asked for and the worker has not answered yet. */
  cancelling?: boolean;
  progress?: Progress;
  /** Time spent per progress phase so far (calibrate, prune, report, evaluate, …). */
  phaseMs: Record<string, number>;
  /** Layer ids whose job finished, in completion order. */
  layersDone: string[];
  report?: CompressReport;
  message?: string;
  /** The compressed model on the same evaluation set. */
  evaluation?: Evaluation;
  /** The dense model's metrics and size when the run started: what the run is compared with. */
  dense: { metrics?: EvalMetrics; sizeBytes?: number; text?: TextMetrics; masked?: MaskedLmMetrics };
  /** The worker still holds the result (mask view, text generation, download). */
  held: boolean;
  /** Read back from the history (IndexedDB) or an imported file, not run in this page. */
  restored?: boolean;
  /** The headline metric's change against dense, with its paired 95 % bootstrap interval. */
  interval?: RecordInterval;
  /** Inference time per token (or image), dense and compressed, measured alike after the run. */
  timing?: { status: 'running' } | { status: 'done'; denseMsPerItem: number; runMsPerItem: number; backend: string; rounds: number } | { status: 'error'; message: string };
  /** The sweep this run is a point of (not kept by the history). */
  sweep?: RunSweepTag;
}

/** A run's place in a sweep: which sweep, the parameter and the value it ran with. */
export interface RunSweepTag {
  id: string;
  /** "stage 1: sparsity" */
  param: string;
  /** "0.5", or "wanda, 0.5" in a method comparison. */
  value: string;
}

export interface RunsSlice {
  /** A staged recipe (version 2); the recipe builder edits its first prune stage. */
  recipe: Recipe;
  runs: RunRecord[];
  selectedRunId?: string;
  /** A run refused before it started (its reason); earlier runs are untouched. */
  refusal?: string;
  /** Polite announcements for screen readers (finished / failed runs). */
  announcement: string;
}

export type SweepPointStatus = 'waiting' | 'running' | 'done' | 'error' | 'cancelled' | 'skipped';

/** A sweep in progress or finished: its points run one after another as normal runs. */
export interface SweepProgress {
  id: string;
  /** "stage 1: sparsity", "pruning method × stage 1: sparsity" */
  title: string;
  points: { value: string; status: SweepPointStatus; runId?: string; ms?: number }[];
  status: 'running' | 'done' | 'cancelled' | 'error';
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt?: number;
  /** Cancel was asked for: the current point is being cancelled and no further point starts. */
  cancelling?: boolean;
  message?: string;
}

export interface SweepSlice {
  /** The latest sweep (one at a time). */
  sweep?: SweepProgress;
}

export interface HistorySlice {
  /** Whether runs are kept across reloads (IndexedDB), and why not or what went wrong. */
  history: { status: 'opening' | 'ready' | 'unavailable'; reason?: string };
}

/** What a link set: the detail tab shown, the share link opened, the tour walked. */
export interface ViewSlice {
  /** The detail tab (DetailTabs' ids): in the store so a share link or a tour step can set it. */
  detailTab: string;
  /** The layer picked in the Masks and Quantization tabs (its id): a link carries it. */
  viewLayer?: string;
  /** The head zoomed in the Attention tab: attention layer (in model order) and head. */
  viewHead?: { block: number; head: number };
  /** The share link this page was opened with, its recorded result and its reproduction. */
  shared?: SharedState;
  /** Why the link the page was opened with could not be used (shown as text, never markup). */
  linkError?: string;
  /** The guided tour being walked, and its step. */
  tour?: { id: string; step: number };
}

export type LabState = ModelSlice & TextDataSlice & EvalSlice & SettingsSlice & RunsSlice & SweepSlice & HistorySlice & ViewSlice;

/**
 * The builder's first recipe: the reference defaults with one-pass calibration, the lab's fast
 * default (docs/concepts.md#calibration: on the bundled LM, Wanda 50 % one pass scores 3.814
 * perplexity against 3.826 sequential, in a fraction of the time). The CLI keeps the reference.
 */
export function initialRecipe(): Recipe {
  const recipe = defaultRecipe();
  recipe.calibration.mode = 'one-pass';
  return recipe;
}

export const useLab = create<LabState>()(() => ({
  bundledIds: [],
  model: { status: 'idle', loadId: 0 },
  evaluation: { status: 'idle' },
  textData: { status: 'idle' },
  backend: 'auto',
  poolSize: Math.max(1, Math.min(8, globalThis.navigator?.hardwareConcurrency ?? 2)),
  computeBackend: 'cpu',
  recipe: initialRecipe(),
  runs: [],
  announcement: '',
  history: { status: 'opening' },
  detailTab: 'overview',
}));

export function patchModel(patch: Partial<ModelSlice['model']>): void {
  useLab.setState((s) => ({ model: { ...s.model, ...patch } }));
}

export function setEvaluation(evaluation: Evaluation): void {
  useLab.setState({ evaluation });
}

export function patchRun(id: string, patch: Partial<RunRecord> | ((run: RunRecord) => Partial<RunRecord>)): void {
  useLab.setState((s) => ({ runs: s.runs.map((r) => (r.id === id ? { ...r, ...(typeof patch === 'function' ? patch(r) : patch) } : r)) }));
}

/** The run the result panel shows: the one picked in the run list, else the latest of the loaded model. */
export function selectedRun(s: LabState): RunRecord | undefined {
  return s.runs.find((r) => r.id === s.selectedRunId) ?? s.runs.findLast((r) => r.model.loadId === s.model.loadId);
}

export const isRunActive = (s: LabState): boolean => s.runs.some((r) => r.status === 'running');
