// Intents for a user's own Hugging Face export folder: open it (planFolder here, on names and sizes,
// refuses what cannot be opened at all; openHfFolder in the model worker reads the files its plan
// uses and checks them against the graph, all or nothing), turn the user's text into the evaluation and calibration sets (splitText in the
// worker, with the folder's tokenizer), and pack a run's result as a folder transformers.js loads.
// The folder's bytes that the download copies stay here, not in the store.
import { planFolder, type FolderPlan } from '../core/hf/folder';
import { defaultWindowLength } from '../core/hf/contextLength';
import { exportFolderFiles, exportGraph, zipFolder, type ExportFile } from '../core/hf/exportFolder';
import { readModel } from '../core/onnx';
import { exportDtype } from '../core/hf/exportDtype';
import { jsonlText } from '../core/hf/textData';
import { corpusText } from '../core/hf/corpusText';
import type { CompressReport } from '../core/compress';
import { compressedFileName, type Recipe } from '../core/recipe';
import { fetchBundledCorpus } from '../services/bundled';
import { readText, type PathedFile } from '../services/folderFiles';
import { downloadUrl, offerDownload, withdrawDownload } from '../services/downloads';
import { cancelEvaluation, runEvaluation, setEvalSet, worker } from './controller';
import { releaseAllRuns, setCalibration } from './runController';
import { patchModel, setEvaluation, useLab, type HfFolderInfo, type TextDataSlice } from './store';

/**
 * One ArrayBuffer holds the graph with its external data inlined for ONNX Runtime, and a protobuf
 * message is limited to 2 GiB: a larger model is opened for analysis only (no data file read).
 */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/** Why the folder's model cannot be one session here (graph + external data over 2 GiB), or undefined. */
export function sessionLimitReason(plan: FolderPlan): string | undefined {
  const heavy = [plan.model, ...plan.externalData];
  const total = heavy.reduce((sum, f) => sum + f.size, 0);
  if (total <= MAX_MODEL_BYTES) return undefined;
  return `${heavy.map((f) => f.path).join(' + ')} are ${(total / 2 ** 30).toFixed(2)} GiB together, over the 2 GiB one ONNX Runtime session in this page takes (the graph with its weights inlined), so the page shows its analysis (read from the graph; the weights stay in their files) but neither evaluates nor compresses it. The CLI compresses it one block at a time: npm run lab -- run <recipe.json> <folder> --text FILE --streamed.`;
}

/**
 * What the download copies from the loaded folder: its config.json (parsed) and tokenizer files,
 * and whether its weights came as external data (the download keeps them so).
 */
let folderExport: { configJson?: unknown; copied: ExportFile[]; externalData: boolean } | undefined;

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** A folder (paths with a directory) or JSON pieces picked with the graph: planFolder's work. */
export function isFolderDrop(files: readonly PathedFile[]): boolean {
  return files.some((f) => f.path.includes('/') || f.path.toLowerCase().endsWith('.json'));
}

/** The model loaded is not a folder any more: its download files go. */
export function forgetFolder(): void {
  folderExport = undefined;
}

function folderName(files: readonly PathedFile[], plan?: FolderPlan): string {
  const first = files.find((f) => f.path.includes('/'));
  if (first) return first.path.slice(0, first.path.indexOf('/'));
  return baseName(plan?.model.path ?? files[0]?.path ?? 'model').replace(/\.onnx$/i, '');
}

/** How a load error names what was given: the folder, or the graph and the files picked with it. */
function droppedName(files: readonly PathedFile[], plan: FolderPlan): string {
  return files.some((f) => f.path.includes('/')) ? folderName(files, plan) : `${plan.model.path} and the ${files.length - 1} file(s) picked with it`;
}

export async function loadFolder(files: PathedFile[]): Promise<void> {
  const planned = planFolder(files.map((f) => ({ path: f.path, size: f.file.size })));
  if (!planned.ok) {
    useLab.setState({ loadError: { fileName: folderName(files), message: planned.message } });
    return;
  }
  const plan = planned.plan;
  const tooLarge = sessionLimitReason(plan);
  const previous = useLab.getState().model;
  cancelEvaluation();
  patchModel({ status: 'loading' });
  try {
    // The Files go to the worker as handles; it reads only the ones the plan uses.
    const { hf, ...model } = await worker.loadFolder({ entries: files.map(({ path, file }) => ({ path, file })), ...(tooLarge ? { tooLarge } : {}) }).done;
    if (!hf) throw new Error('the worker did not open the folder as a Hugging Face folder');
    folderExport = { configJson: hf.config?.json, copied: hf.copied, externalData: model.externalFiles.length > 0 };
    const info: HfFolderInfo = {
      folder: folderName(files, plan),
      modelPath: hf.modelPath,
      used: hf.used,
      ...(hf.config ? { config: hf.config.config } : {}),
      ...(hf.contextLength !== undefined ? { contextLength: hf.contextLength } : {}),
      ...(hf.tokenizer ? { tokenizer: hf.tokenizer } : {}),
      missing: hf.missing,
      notes: hf.notes,
    };
    releaseAllRuns();
    setEvalSet(undefined);
    useLab.setState((s) => ({
      loadError: undefined,
      selectedRunId: undefined,
      textData: { status: 'idle' },
      model: { status: 'ready', source: { kind: 'file', name: info.folder }, card: undefined, ...model, hf: info, loadId: s.model.loadId + 1 },
    }));
    setEvaluation({
      status: 'unavailable',
      message: tooLarge
        ? `Not evaluated: ${tooLarge}`
        : info.tokenizer
        ? 'Not evaluated yet: give the model text under “Your data” (paste it, drop a .txt or .jsonl file, or use the bundled text).'
        : 'Not evaluated: the folder has no tokenizer.json, so the lab cannot turn text into this model’s tokens. Analysis and calibration-free recipes (magnitude pruning, round-to-nearest) still work.',
    });
  } catch (e) {
    // The worker keeps the previous model when anything in the folder fails, and so does the page.
    useLab.setState({ model: { ...previous, status: previous.analysis ? 'ready' : 'idle' }, loadError: { fileName: droppedName(files, plan), message: (e as Error).message } });
  }
}

/** The default window length for the loaded folder: min(128, its context). */
export function folderWindowLength(): number {
  return defaultWindowLength(useLab.getState().model.hf?.contextLength);
}

/** The text of a dropped .txt or .jsonl file (a .jsonl's `text` fields). */
export async function textOfFile(file: File): Promise<string> {
  const content = await readText({ path: file.name, file });
  return file.name.toLowerCase().endsWith('.jsonl') ? jsonlText(content, file.name) : content;
}

/** The bundled public-domain text (the KJV windows of the bundled character LM). */
export async function bundledText(): Promise<string> {
  const corpus = await fetchBundledCorpus('kjv-charlm');
  return corpusText([corpus.calibSet, corpus.dataset], corpus.vocab);
}

/** Lowers the recipe's calibration samples to the windows a text gives; the new count, or undefined when it had enough. */
function capCalibrationSamples(windows: number): number | undefined {
  if (useLab.getState().recipe.calibration.samples <= windows) return undefined;
  setCalibration({ samples: windows });
  return windows;
}

/**
 * The user's text as the lab's sets: cut into windows of seqLen + 1 tokens by the folder's
 * tokenizer, dealt disjointly to calibration and evaluation, then the dense model evaluated on it.
 * A text that cannot be used leaves the previous sets in place.
 */
export async function applyText(text: string, source: string, seqLen: number): Promise<void> {
  const model = useLab.getState().model;
  const setText = (textData: TextDataSlice['textData']) => useLab.setState({ textData });
  const before = useLab.getState().textData;
  setText({ ...before, status: 'splitting' });
  try {
    if (model.hf?.config?.family === 'bert') {
      await applyMaskedText(text, source, seqLen);
      return;
    }
    const split = await worker.splitText({ text, options: { seqLen, calibShare: 0.5, seed: 0 } }).done;
    if (useLab.getState().model.loadId !== model.loadId) return; // another model loaded meanwhile
    const capped = capCalibrationSamples(split.calib.sequences.length);
    setEvalSet({ dataset: split.eval, calibSet: split.calib, label: `text you gave (${source})`, targetBytes: split.evalTargetBytes, contextLength: model.hf?.contextLength ?? seqLen });
    setText({
      status: 'ready',
      source,
      split: { seqLen, tokens: split.tokens, leftOver: split.leftOver, calibWindows: split.calibWindows, evalWindows: split.evalWindows, evalBytes: split.evalTargetBytes.reduce((a, b) => a + b, 0), ...(capped !== undefined ? { samplesCappedTo: capped } : {}) },
    });
    await runEvaluation();
  } catch (e) {
    // The sets in use stay as they were; so does the split shown for them.
    setText({ ...before, status: 'error', message: `${source}: ${(e as Error).message}` });
  }
}

/**
 * An encoder's text: windows of seqLen ids wrapped as its tokenizer's post-processor says
 * ([CLS] … [SEP]), BERT's 15 % of positions chosen for masking (src/core/hf/maskedLm.ts), dealt
 * disjointly; the dense model's masked-token accuracy is measured on the evaluation windows.
 */
async function applyMaskedText(text: string, source: string, seqLen: number): Promise<void> {
  const model = useLab.getState().model;
  const split = await worker.splitMaskedText({ text, options: { seqLen, calibShare: 0.5, seed: 0 } }).done;
  if (useLab.getState().model.loadId !== model.loadId) return;
  const capped = capCalibrationSamples(split.calib.sequences.length);
  // The dataset holds the masked inputs (with one never-fed id after each), for timing and the run list's size.
  const dataset = { kind: 'lm-tokens' as const, seqLen, sequences: split.eval.map((w) => [...w.inputs, w.inputs[w.inputs.length - 1]]) };
  setEvalSet({ dataset, calibSet: split.calib, label: `text you gave (${source}), masked-token accuracy`, masked: { windows: split.eval, seqLen }, contextLength: model.hf?.contextLength ?? seqLen });
  useLab.setState({
    textData: {
      status: 'ready',
      source,
      split: { seqLen, tokens: split.tokens, leftOver: split.leftOver, calibWindows: split.calibWindows, evalWindows: split.evalWindows, evalBytes: 0, masked: { positions: split.maskedPositions }, ...(capped !== undefined ? { samplesCappedTo: capped } : {}) },
    },
  });
  await runEvaluation();
}

const folderSlot = (runId: string) => `${runId}/folder`;

/** After a run on a folder's model: its result as a zipped folder in transformers.js's layout. */
export function offerFolderDownload(runId: string, model: ArrayBuffer | Uint8Array, report: Pick<CompressReport, 'quantized'>, root: string): void {
  if (!folderExport) return;
  const dtype = exportDtype(report);
  // A folder that came with external data goes back with it, under the name transformers.js
  // derives from the dtype (exportGraph sets use_external_data_format to match).
  const graph = exportGraph(readModel(new Uint8Array(model)), dtype, folderExport.externalData);
  const files = exportFolderFiles({ ...graph, dtype, config: folderExport.configJson, copied: folderExport.copied });
  offerDownload(folderSlot(runId), zipFolder(root, files));
}

export function withdrawFolderDownload(runId: string): void {
  withdrawDownload(folderSlot(runId));
}

/** The zip of a run's folder, when it was made: its URL and file name. */
export function folderDownload(run: { id: string; model: { stem: string }; recipe: Recipe }): { url: string; fileName: string } | undefined {
  const url = downloadUrl(folderSlot(run.id));
  return url ? { url, fileName: `${folderRoot(run.model.stem, run.recipe)}.zip` } : undefined;
}

/** The folder inside the zip: the compressed model's file stem. */
export const folderRoot = (stem: string, recipe: Recipe) => compressedFileName(stem, recipe).replace(/\.onnx$/i, '');

