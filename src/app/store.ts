// The app's one store of serialisable domain state, built from slices. Workers, ORT sessions and
// datasets live in services (src/services), never here.
import { create } from 'zustand';
import type { ModelAnalysis } from '../core/model';
import type { ModelCard } from '../core/catalog/modelCard';
import type { EvalMetrics } from '../core/eval/metrics';
import type { BackendPreference, BackendReport } from '../core/eval/runner';

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
    progress?: { done: number; total: number; stage: string };
    metrics?: EvalMetrics;
    backend?: BackendReport;
    datasetLabel?: string;
    message?: string;
    evalMs?: number;
  };
}

export interface SettingsSlice {
  backend: BackendPreference;
}

export type LabState = ModelSlice & EvalSlice & SettingsSlice;

export const useLab = create<LabState>()(() => ({
  bundledIds: [],
  model: { status: 'idle' },
  evaluation: { status: 'idle' },
  backend: 'auto',
}));

export function patchModel(patch: Partial<ModelSlice['model']>): void {
  useLab.setState((s) => ({ model: { ...s.model, ...patch } }));
}

export function setEvaluation(evaluation: EvalSlice['evaluation']): void {
  useLab.setState({ evaluation });
}
