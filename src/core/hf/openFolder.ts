// A dropped Hugging Face export folder, opened: the plan (folder.ts) carried out. The graph is read
// with its external data, analysed, and checked against config.json and tokenizer.json
// (agreement.ts); the LM inputs are planned (eval/lmInputs.ts). The same function serves the CLI
// (entries read from disk) and the page (entries read from dropped Files): each entry reads its own
// bytes when asked, and only the files the plan uses are read.
import { analyzeModel } from '../model/analyze.ts';
import type { ModelAnalysis } from '../model/types.ts';
import { checkedRefs, externalDataRefs, resolveExternalData } from '../onnx/external.ts';
import { readModel } from '../onnx/read.ts';
import type { ModelProto } from '../onnx/types.ts';
import { planLmInputs, type LmInputPlanResult } from '../eval/lmInputs.ts';
import { folderDisagreements } from './agreement.ts';
import { readHfConfig, type HfConfig } from './config.ts';
import type { ExportFile } from './exportFolder.ts';
import { planFolder, type FolderFile, type FolderPlan } from './folder.ts';
import { loadHfTokenizer, type HfTokenizer } from './tokenizer.ts';
import { unmergeDecoder } from './unmerge.ts';

/** One file of the folder: its path inside it, its size, and a reader (File.arrayBuffer, fs.readFile). */
export interface HfFolderEntry extends FolderFile {
  read(): Promise<Uint8Array>;
}

export interface OpenedHfFolder {
  plan: FolderPlan;
  /** The graph with its external data resolved into it (zero-copy views of the data files), or left external when opened 'lazy'. */
  model: ModelProto;
  analysis: ModelAnalysis;
  /** Bytes of external data the graph read; 0 when its weights were inline. */
  externalDataBytes: number;
  config?: { file: string; config: HfConfig; json: unknown };
  tokenizer?: { file: string; tokenizer: HfTokenizer };
  /** What each graph input is, or one sentence naming the input the lab cannot feed. */
  lmInputs: LmInputPlanResult;
  /** Lines naming a file and field that disagrees with the graph (the graph is trusted). */
  disagreements: string[];
  /** The small files an export copies as they were (tokenizer*, generation_config, preprocessor_config). */
  copied: ExportFile[];
}

/** A folder that cannot be opened; the message names the file and, where there is one, the field. */
export class HfFolderError extends Error {
  override name = 'HfFolderError';
}

async function readJson(entry: HfFolderEntry): Promise<unknown> {
  const bytes = await entry.read();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HfFolderError(`${entry.path}: not a UTF-8 text file (expected JSON)`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HfFolderError(`${entry.path}: not valid JSON`);
  }
}

/** The error's message on one line, prefixed with the file unless it already names it. */
function fileError(path: string, error: unknown): HfFolderError {
  const message = (error as Error).message.split('\n')[0];
  return new HfFolderError(message.startsWith(`${path}:`) ? message : `${path}: ${message}`);
}

/** Opens a folder's graph and pieces; a bad file is an HfFolderError naming it (nothing else is changed). */
export interface OpenHfOptions {
  /**
   * 'lazy': the graph keeps its external-data references and no data file is read (analysis needs
   * only shapes); the caller reads weights by range (lazyTensors.ts), as the streamed path does.
   */
  externalData?: 'resolve' | 'lazy';
}

export async function openHfFolder(entries: readonly HfFolderEntry[], options: OpenHfOptions = {}): Promise<OpenedHfFolder> {
  const planned = planFolder(entries);
  if (!planned.ok) throw new HfFolderError(planned.message);
  let { plan } = planned;
  const entry = (file: FolderFile) => entries.find((e) => e.path === file.path)!;

  let model: ModelProto;
  let externalDataBytes = 0;
  try {
    model = readModel(await entry(plan.model).read());
    const needed = new Set(externalDataRefs(model).map((ref) => ref.location.replace(/^(\.\/)+/, '')));
    const files = new Map<string, Uint8Array>();
    const sizes = new Map<string, number>();
    for (const file of plan.externalData) {
      const name = file.path.slice(file.path.lastIndexOf('/') + 1);
      if (!needed.has(name)) continue;
      if (options.externalData === 'lazy') {
        sizes.set(name, file.size);
        externalDataBytes += file.size;
        continue;
      }
      const bytes = await entry(file).read();
      files.set(name, bytes);
      externalDataBytes += bytes.byteLength;
    }
    // Lazy: the ranges are checked against the files' sizes now, their bytes read when a block needs them.
    if (needed.size > 0 && options.externalData === 'lazy') checkedRefs(model, sizes);
    else if (needed.size > 0) resolveExternalData(model, files);
  } catch (error) {
    throw fileError(plan.model.path, error);
  }
  // Optimum's merged decoder: its no-cache branch, as a plain graph the lab can compress (unmerge.ts).
  const unmerged = unmergeDecoder(model, plan.model.path);
  if (unmerged) {
    model = unmerged.model;
    plan = { ...plan, notes: [...plan.notes, unmerged.note] };
  }

  let config: OpenedHfFolder['config'];
  if (plan.pieces.config) {
    const file = plan.pieces.config.path;
    const json = await readJson(entry(plan.pieces.config));
    try {
      config = { file, config: readHfConfig(json, file), json };
    } catch (error) {
      throw fileError(file, error);
    }
  }

  let tokenizer: OpenedHfFolder['tokenizer'];
  if (plan.pieces.tokenizer) {
    const file = plan.pieces.tokenizer.path;
    const tokenizerConfig = plan.pieces.tokenizerConfig ? await readJson(entry(plan.pieces.tokenizerConfig)) : {};
    try {
      tokenizer = { file, tokenizer: loadHfTokenizer(await readJson(entry(plan.pieces.tokenizer)), tokenizerConfig, file) };
    } catch (error) {
      throw fileError(file, error);
    }
  }

  const analysis = analyzeModel(model);
  const disagreements = folderDisagreements(analysis, {
    ...(config ? { config: { file: config.file, config: config.config } } : {}),
    ...(tokenizer ? { tokenizer: { file: tokenizer.file, vocabSize: tokenizer.tokenizer.vocabSize } } : {}),
  });
  const copied: ExportFile[] = [];
  for (const key of ['tokenizer', 'tokenizerConfig', 'generationConfig', 'preprocessorConfig'] as const) {
    const file = plan.pieces[key];
    if (file) copied.push({ path: file.path, bytes: await entry(file).read() });
  }
  return { plan, model, analysis, externalDataBytes, config, tokenizer, lmInputs: planLmInputs(analysis.inputs), disagreements, copied };
}
