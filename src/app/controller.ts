// User intents → services → store. The only module that drives the model worker from the UI.
import { startHistory } from './history';
import { datasetMismatch } from '../core/eval/compat';
import type { Dataset } from '../core/eval/datasets';
import type { CharVocab } from '../core/catalog/vocab';
import { cardContextLength } from '../core/catalog/modelCard';
import type { BackendPreference } from '../core/eval/runner';
import { fetchBundledModel, fetchModelIndex } from '../services/bundled';
import { ModelWorkerService } from '../services/modelWorker';
import { Cancelled } from '../core/job';
import { probeAdapter } from '../runtime/adapter';
import { isRunActive, patchModel, setEvaluation, useLab } from './store';
import { cancelAllRuns, releaseAllRuns } from './runController';
import { forgetFolder, isFolderDrop, loadFolder } from './hfController';
import { pickedFiles, type PathedFile } from '../services/folderFiles';
import { textMetrics } from '../core/hf/textMetrics';
import { maskedLmMetrics, type MaskedWindow } from '../core/hf/maskedLm';
import type { SampleValues } from '../core/eval/samples';

export const worker = new ModelWorkerService();

/**
 * The evaluation and calibration sets: the last bundled model's (also used for a user's compatible
 * model), or the text the user gave a Hugging Face folder's model (with the UTF-8 bytes each
 * evaluation window's targets spell, for bits per byte).
 */
export interface EvalSet {
  dataset: Dataset;
  calibSet: Dataset;
  label: string;
  vocab?: CharVocab;
  contextLength?: number;
  targetBytes?: number[];
  /** An encoder on the user's text: the masked windows evaluated instead of `dataset` (which holds the same inputs, for timing). */
  masked?: { windows: MaskedWindow[]; seqLen: number };
}

let evalSet: EvalSet | undefined;
let runningEval: number | undefined;

export function currentEvalSet(): EvalSet | undefined {
  return evalSet;
}

export function setEvalSet(set: EvalSet | undefined): void {
  evalSet = set;
}

/** Perplexity and bits per byte with their intervals, when the set is the user's text. */
export function textMetricsOf(set: EvalSet, result: { samples: SampleValues }, seed = 0) {
  return set.targetBytes && result.samples.task === 'causal-lm' ? textMetrics(result.samples, set.targetBytes, { seed }) : undefined;
}

/** Masked-token accuracy and NLL with their intervals, when the set is an encoder's masked windows. */
export function maskedMetricsOf(set: EvalSet, result: { samples: SampleValues }, seed = 0) {
  return set.masked && result.samples.task === 'masked-lm' ? maskedLmMetrics(result.samples, { seed }) : undefined;
}

/** A User Timing mark (performance.getEntriesByType('mark')): the e2e tests print the page's phases. */
export function mark(name: string): void {
  globalThis.performance?.mark?.(name);
}

export const wasmPaths = `${import.meta.env.BASE_URL}ort/`;

export function wasmThreads(): number {
  const forced = Number(new URLSearchParams(globalThis.location?.search ?? '').get('threads'));
  if (forced > 0) return forced;
  return globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
}

export async function start(initialModel?: string): Promise<void> {
  // ORT's runtime compiles while the model downloads; a failure here resurfaces at the first session.
  worker.warmUp({ numThreads: wasmThreads(), wasmPaths }).done.then(() => mark('lab:runtime-ready'), () => undefined);
  void chooseComputeDefault();
  // The stored runs come back before the model loads; a browser without storage says so and goes on.
  await startHistory().catch((e: Error) => useLab.setState({ history: { status: 'unavailable', reason: e.message } }));
  try {
    const index = await fetchModelIndex();
    useLab.setState({ bundledIds: index.models });
    await loadBundled(initialModel && index.models.includes(initialModel) ? initialModel : index.default);
  } catch (e) {
    useLab.setState({ loadError: { fileName: 'bundled model', message: (e as Error).message } });
  }
}

export { modelStem } from './store';

/**
 * Layer jobs run on the CPU unless a hardware adapter is present: on a software adapter (SwiftShader)
 * the WGSL kernels are several times slower than the WASM SIMD ones (docs/backend-choice.md).
 */
async function chooseComputeDefault(): Promise<void> {
  const verdict = await probeAdapter();
  const computeDefault =
    verdict.kind === 'hardware'
      ? { backend: 'webgpu' as const, reason: `GPU found (${verdict.name}): layer jobs run on WebGPU kernels` }
      : { backend: 'cpu' as const, reason: verdict.kind === 'software' ? `software GPU found (${verdict.name}); layer jobs run on the CPU, which is faster here` : `no WebGPU (${verdict.reason}); layer jobs run on the CPU` };
  useLab.setState({ computeDefault, computeBackend: computeDefault.backend });
}

/** Whether a model change may go ahead: asks first while a run is going, and cancels it. */
export function confirmModelChange(ask: (question: string) => boolean): boolean {
  if (!isRunActive(useLab.getState())) return true;
  if (!ask('A run is in progress. Cancel it and load another model?')) return false;
  cancelAllRuns();
  return true;
}

export async function loadBundled(id: string): Promise<void> {
  cancelEvaluation();
  patchModel({ status: 'loading' });
  try {
    const bundled = await fetchBundledModel(id);
    mark('lab:model-fetched');
    const { done } = worker.load({ bytes: bundled.bytes, fileName: `${id}/${bundled.card.files.model}` });
    const loaded = await done;
    mark('lab:model-parsed');
    evalSet = { dataset: bundled.dataset, calibSet: bundled.calibSet, label: `${id} evaluation set`, vocab: bundled.vocab, contextLength: cardContextLength(bundled.card) };
    releaseAllRuns();
    forgetFolder();
    useLab.setState((s) => ({ loadError: undefined, selectedRunId: undefined, textData: { status: 'idle' }, model: { status: 'ready', source: { kind: 'bundled', id }, card: bundled.card, ...loaded, hf: undefined, loadId: s.model.loadId + 1 } }));
    await runEvaluation();
  } catch (e) {
    const state = useLab.getState();
    patchModel({ status: state.model.analysis ? 'ready' : 'idle' });
    useLab.setState({ loadError: { fileName: id, message: (e as Error).message } });
  }
}

/** Loads files picked together (a folder picked with webkitdirectory carries its paths). */
export async function loadFiles(files: File[]): Promise<void> {
  await openFiles(pickedFiles(files));
}

/**
 * Opens what the user gave: a Hugging Face folder (or its files picked together: JSON pieces
 * beside the graph) through planFolder, else one .onnx file and its external data.
 */
export async function openFiles(files: PathedFile[]): Promise<void> {
  if (isFolderDrop(files)) await loadFolder(files);
  else await loadOnnxFiles(files.map((f) => f.file));
}

/** Loads a user's model: one .onnx file, plus any external-data files picked or dropped with it. */
async function loadOnnxFiles(files: File[]): Promise<void> {
  const onnx = files.filter((f) => f.name.toLowerCase().endsWith('.onnx'));
  const file = onnx[0] ?? files[0];
  if (!file) return;
  if (onnx.length > 1) {
    useLab.setState({ loadError: { fileName: onnx.map((f) => f.name).join(', '), message: 'Load one .onnx model at a time (plus its .data files, if it has external data).' } });
    return;
  }
  const previous = useLab.getState().model;
  cancelEvaluation();
  patchModel({ status: 'loading' });
  try {
    const bytes = await file.arrayBuffer();
    const sideFiles = await Promise.all(files.filter((f) => f !== file).map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
    const loaded = await worker.load({ bytes, fileName: file.name, sideFiles }).done;
    releaseAllRuns();
    forgetFolder();
    useLab.setState((s) => ({ loadError: undefined, selectedRunId: undefined, textData: { status: 'idle' }, model: { status: 'ready', source: { kind: 'file', name: file.name }, card: undefined, ...loaded, hf: undefined, loadId: s.model.loadId + 1 } }));
    // Text tokenized by the previous folder's tokenizer says nothing about this model's tokens.
    if (evalSet?.targetBytes) evalSet = undefined;
    const mismatch = evalSet ? datasetMismatch(loaded.analysis, evalSet.dataset) : 'no evaluation set is loaded';
    if (mismatch) setEvaluation({ status: 'unavailable', message: `Not evaluated: ${mismatch}. Analysis only.` });
    else await runEvaluation();
  } catch (e) {
    // The worker keeps the previous model when parsing fails, and so does the UI.
    useLab.setState({ model: { ...previous, status: previous.analysis ? 'ready' : 'idle' }, loadError: { fileName: file.name, message: (e as Error).message } });
  }
}

export async function runEvaluation(): Promise<void> {
  if (!evalSet) return;
  const set = evalSet;
  const { dataset, label } = set;
  const backend = useLab.getState().backend;
  setEvaluation({ status: 'running', datasetLabel: label, progress: { phase: 'evaluate', label: 'Starting', done: 0, total: 1 } });
  const job = worker.evaluate(
    { target: 'dense', dataset, backend, numThreads: wasmThreads(), wasmPaths, ...(set.masked ? { masked: set.masked } : {}) },
    (progress) => {
      if (runningEval === job.jobId) setEvaluation({ ...useLab.getState().evaluation, progress });
    },
  );
  runningEval = job.jobId;
  try {
    const result = await job.done;
    if (runningEval !== job.jobId) return;
    const text = textMetricsOf(set, result);
    const masked = maskedMetricsOf(set, result);
    setEvaluation({ status: 'done', datasetLabel: label, metrics: result.metrics, backend: result.backend, evalMs: result.evalMs, ...(text ? { text } : {}), ...(masked ? { masked } : {}) });
    mark('lab:dense-metrics');
  } catch (e) {
    if (runningEval !== job.jobId) return;
    if (e instanceof Cancelled) setEvaluation({ status: 'cancelled', datasetLabel: label, message: 'Evaluation cancelled.' });
    else setEvaluation({ status: 'error', datasetLabel: label, message: (e as Error).message });
  } finally {
    if (runningEval === job.jobId) runningEval = undefined;
  }
}

export function cancelEvaluation(): void {
  if (runningEval !== undefined) worker.cancel(runningEval);
}

export function setBackend(backend: BackendPreference): void {
  useLab.setState({ backend });
}
