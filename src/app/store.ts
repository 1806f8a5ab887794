// The app's one store of serialisable domain state, built from slices. Workers, ORT sessions and
// datasets live in services (src/services), never here.
import { create } from 'zustand';
import type { ModelAnalysis } from '../core/model';
import type { ModelCard } from '../core/catalog/modelCard';
import type { EvalMetrics } from '../core/eval/metrics';
import type { BackendPreference, BackendReport } from '../core/eval/runner';
import type { CompressReport } from '../core/compress';
import type { ComputeBackend, Progress } from '../core/job';
import { defaultRecipe, type Recipe } from '../core/recipe';

export type ModelSource = { kind: 'bundled'; id: string } | { kind: 'file'; name: string };

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
  };
  /** The last load failure; the previously loaded model stays usable. */
  loadError?: { fileName: string; message: string };
}

export interface EvalSlice {
  evaluation: {
    status: 'idle' | 'running' | 'done' | 'error' | 'cancelled' | 'unavailable';
    progress?: Progress;
    metrics?: EvalMetrics;
    backend?: BackendReport;
    datasetLabel?: string;
    message?: string;
    evalMs?: number;
    /** Creating the ONNX Runtime session (0 when it was reused). */
    sessionMs?: number;
  };
}

export interface SettingsSlice {
  backend: BackendPreference;
}

export interface PruneRun {
  status: 'idle' | 'running' | 'done' | 'error' | 'cancelled';
  progress?: Progress;
  /** Layer ids whose job finished, in completion order. */
  layersDone: string[];
  /** Includes where every part ran (report.backends, each layer's backend). */
  report?: CompressReport;
  message?: string;
  /** The pruned model's metrics on the same evaluation set. */
  evaluation?: EvalSlice['evaluation'];
}

export interface PruneSlice {
  /** A staged recipe (version 2); the recipe panel edits its first prune stage. */
  recipe: Recipe;
  /** Workers in the prune pool (default: navigator.hardwareConcurrency). */
  poolSize: number;
  computeBackend: ComputeBackend;
  pruneRun: PruneRun;
  /** Layer shown in the mask view. */
  maskLayer?: string;
}

export type LabState = ModelSlice & EvalSlice & SettingsSlice & PruneSlice;

export const useLab = create<LabState>()(() => ({
  bundledIds: [],
  model: { status: 'idle' },
  evaluation: { status: 'idle' },
  backend: 'auto',
  recipe: defaultRecipe(),
  poolSize: Math.max(1, Math.min(8, globalThis.navigator?.hardwareConcurrency ?? 2)),
  computeBackend: 'webgpu',
  pruneRun: { status: 'idle', layersDone: [] },
}));

export function patchPruneRun(patch: Partial<PruneRun>): void {
  useLab.setState((s) => ({ pruneRun: { ...s.pruneRun, ...patch } }));
}

export function patchModel(patch: Partial<ModelSlice['model']>): void {
  useLab.setState((s) => ({ model: { ...s.model, ...patch } }));
}

export function setEvaluation(evaluation: EvalSlice['evaluation']): void {
  useLab.setState({ evaluation });
}
