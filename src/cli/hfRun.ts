// `npm run lab -- run <recipe.json> <hf-folder> --text FILE [--seq-len 128] [--calib-share 0.5]
// [--export-folder OUT]` and `npm run lab -- generate <hf-folder> --prompt "…"`: a Hugging Face
// export folder (Optimum's or a transformers.js repository's layout) opened through
// src/core/hf/openFolder.ts, calibrated and evaluated on the user's own text (windows dealt
// disjointly by splitText), compressed with the same compressModel as the page, and written back
// in the layout transformers.js loads (exportFolder.ts).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CompressReport } from '../core/compress';
import { metricInterval, pairedBootstrap, type MetricInterval, type PairedInterval } from '../core/eval/bootstrap';
import { datasetMismatch } from '../core/eval/compat';
import type { LmTokenDataset } from '../core/eval/datasets';
import { evaluateWithSamples, type EvalWithSamples } from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import type { BackendPreference } from '../core/eval/runner';
import { exportFolderFiles, exportGraph, type TransformersDtype } from '../core/hf/exportFolder';
import type { OpenedHfFolder } from '../core/hf/openFolder';
import { bitsPerByte, jsonlText, splitText, type TextSplit } from '../core/hf/textData';
import type { HfTokenizer } from '../core/hf/tokenizer';
import type { Progress } from '../core/job';
import { analyzeModel } from '../core/model';
import { isJsonObject } from '../core/recipe/reader';
import { writeModel } from '../core/onnx';
import { createRunner } from '../runtime/ort';
import { MAX_JSON_BYTES, readRegularFile, showPath } from './files';
import { openFolderOnDisk } from './hfFolder';
import { maskedLmRun } from './hfEncoderRun';
import { printAnalysis } from './printAnalysis';
import { loadModelFromDisk } from './loadModelDir';
import { compressOnDisk, printReport, readRecipeFile } from './run';

export interface HfRunOptions {
  recipePath: string;
  textPath: string;
  seqLen: number;
  calibShare: number;
  exportFolder?: string;
  backend: BackendPreference;
  json: boolean;
}

/** One model's figures on the evaluation windows. */
export interface TextEvaluation {
  perplexity: MetricInterval;
  bitsPerByte: number;
  tokens: number;
}

/** The user's text file: a .jsonl file's `text` fields, or the file as UTF-8 text. */
export function readTextFile(path: string): string {
  const bytes = readRegularFile(path, 'a text file (.txt or .jsonl)', MAX_JSON_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${showPath(path)}: not a UTF-8 text file`);
  }
  return path.toLowerCase().endsWith('.jsonl') ? jsonlText(text, showPath(path)) : text;
}

function requireTokenizer(folder: string, opened: OpenedHfFolder): HfTokenizer {
  if (!opened.tokenizer) throw new Error(`${showPath(folder)}: no tokenizer.json: you can still compress the weights, but not evaluate on text or generate`);
  return opened.tokenizer.tokenizer;
}

/** The graph inputs the lab must feed, refused in one line before any session is opened. */
function requireFeedable(folder: string, opened: OpenedHfFolder, dataset: LmTokenDataset): void {
  const mismatch = datasetMismatch(opened.analysis, dataset);
  if (mismatch) throw new Error(`${showPath(join(folder, opened.plan.model.path))}: ${mismatch}`);
}

async function evaluateText(bytes: Uint8Array, split: TextSplit, backend: BackendPreference): Promise<EvalWithSamples> {
  const { runner } = await createRunner(bytes, { backend, numThreads: 1 });
  try {
    return await evaluateWithSamples(runner, split.eval);
  } finally {
    await runner.release();
  }
}

function textEvaluation(result: EvalWithSamples, split: TextSplit, seed: number): TextEvaluation {
  if (result.samples.task !== 'causal-lm') throw new Error('expected a causal LM evaluation');
  const totalNll = result.samples.nll.reduce((a, b) => a + b, 0);
  return { perplexity: metricInterval(result.samples, { seed }), bitsPerByte: bitsPerByte(totalNll, split.evalTargetBytes), tokens: split.eval.sequences.length * split.eval.seqLen };
}

/** q4 when every packed layer is a 4-bit MatMulNBits (what transformers.js's q4 files hold), else fp32. */
function exportDtype(report: CompressReport, packedBits: number[]): TransformersDtype {
  return report.totals.packedLayers > 0 && packedBits.length > 0 && packedBits.every((b) => b === 4) ? 'q4' : 'fp32';
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(2) : v.toFixed(4));
const line = (label: string, e: TextEvaluation) =>
  `${label.padEnd(16)}perplexity ${fmt(e.perplexity.value)} [${fmt(e.perplexity.low)}, ${fmt(e.perplexity.high)}] (95 % bootstrap over ${e.perplexity.samples} windows), ${e.bitsPerByte.toFixed(4)} bits per byte`;

export async function hfRunCommand(folderArg: string, options: HfRunOptions): Promise<void> {
  const folder = resolve(folderArg);
  const recipe = readRecipeFile(resolve(options.recipePath));
  const opened = await openFolderOnDisk(folder);
  if (opened.config?.config.family === 'bert') {
    if (options.exportFolder) throw new Error('run: --export-folder is not offered for encoders yet');
    return maskedLmRun(folder, opened, recipe, { text: readTextFile(resolve(options.textPath)), seqLen: options.seqLen, calibShare: options.calibShare, backend: options.backend, json: options.json });
  }
  const tokenizer = requireTokenizer(folder, opened);
  const split = splitText(readTextFile(resolve(options.textPath)), tokenizer, { seqLen: options.seqLen, calibShare: options.calibShare, seed: recipe.seed });
  requireFeedable(folder, opened, split.eval);
  const log = (text: string) => (options.json ? console.error(text) : console.log(text));
  log(`folder          ${showPath(folder)}: ${opened.plan.model.path}${opened.externalDataBytes > 0 ? ` + ${opened.externalDataBytes.toLocaleString('en')} bytes of external data` : ''}${opened.config ? `, ${opened.config.config.modelType} (${opened.config.config.layers} layers)` : ''}`);
  for (const note of [...opened.plan.notes, ...opened.plan.missing]) log(`note            ${note}`);
  for (const problem of opened.disagreements) log(`WARNING         ${problem}`);
  log(`text            ${split.tokens.toLocaleString('en')} tokens → ${split.calibWindows.length + split.evalWindows.length} windows of ${options.seqLen + 1}: ${split.calibWindows.length} for calibration, ${split.evalWindows.length} for evaluation (disjoint; ${split.leftOver} tokens left over)`);

  const denseBytes = writeModel(opened.model);
  const onDisk = { onnxPath: join(folder, opened.plan.model.path), bytes: denseBytes, model: opened.model };
  const outcome = await compressOnDisk(onDisk, recipe, split.calib, options.backend, (p: Progress) => {
    if (!options.json && p.done === p.total && p.phase !== 'report') console.error(`  ${p.phase}: ${p.label} (${p.total})`);
  });
  const dense = await evaluateText(denseBytes, split, options.backend);
  const compressed = await evaluateText(outcome.bytes, split, options.backend);
  const denseFigures = textEvaluation(dense, split, recipe.seed);
  const compressedFigures = textEvaluation(compressed, split, recipe.seed);
  const change: PairedInterval = pairedBootstrap(dense.samples, compressed.samples, { seed: recipe.seed });

  let exported: { folder: string; dtype: TransformersDtype; files: string[] } | undefined;
  if (options.exportFolder) {
    const out = resolve(options.exportFolder);
    const packedBits = analyzeModel(outcome.model).linears.flatMap((l) => (l.nBits ? [l.nBits.bits] : []));
    const dtype = exportDtype(outcome.report, packedBits);
    const graph = exportGraph(outcome.model, dtype, opened.externalDataBytes > 0);
    const files = exportFolderFiles({ ...graph, dtype, config: opened.config?.json, copied: opened.copied });
    for (const file of files) {
      mkdirSync(dirname(join(out, file.path)), { recursive: true });
      writeFileSync(join(out, file.path), file.bytes);
    }
    exported = { folder: out, dtype, files: files.map((f) => f.path) };
  }

  if (options.json) {
    console.log(JSON.stringify({ folder, model: opened.plan.model.path, split: { calibWindows: split.calibWindows, evalWindows: split.evalWindows, seqLen: options.seqLen }, dense: denseFigures, compressed: compressedFigures, change, report: outcome.report, exported: exported ?? null }, null, 2));
    return;
  }
  printReport(outcome.report, exported ? exported.folder : null);
  console.log('');
  console.log(line('dense', denseFigures));
  console.log(line('compressed', compressedFigures));
  console.log(`${'change'.padEnd(16)}perplexity ${change.delta >= 0 ? '+' : ''}${fmt(change.delta)} [${fmt(change.low)}, ${fmt(change.high)}] (paired 95 % bootstrap${change.withinNoise ? ', within noise' : ''})`);
  if (exported) console.log(`${'exported'.padEnd(16)}${showPath(exported.folder)} (dtype ${exported.dtype}): ${exported.files.join(', ')}`);
}

/** `lab info <hf-folder>`: the analysis of the graph the folder plan opens, then what the folder says about itself. */
export async function hfInfoCommand(folderArg: string, json: boolean): Promise<void> {
  const folder = resolve(folderArg);
  const opened = await openFolderOnDisk(folder);
  const file = join(folder, opened.plan.model.path);
  const size = opened.plan.model.size + opened.externalDataBytes;
  const inputs = opened.lmInputs.ok ? opened.lmInputs.plan.roles.map((r) => `${r.name}: ${r.role}`) : [opened.lmInputs.message];
  if (json) {
    console.log(JSON.stringify({ file, sizeBytes: size, analysis: opened.analysis, folder: { notes: opened.plan.notes, missing: opened.plan.missing, disagreements: opened.disagreements, inputs } }, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
    return;
  }
  printAnalysis(file, size, opened.analysis);
  console.log('');
  console.log(`inputs fed      ${inputs.join('; ')}`);
  for (const note of [...opened.plan.notes, ...opened.plan.missing]) console.log(`note            ${note}`);
  for (const problem of opened.disagreements) console.log(`WARNING         ${problem}`);
}

export interface HfGenerateOptions {
  prompt: string;
  maxNew: number;
  /** An exported folder or .onnx file of the compressed model, generated beside the dense one. */
  compressed?: string;
  backend: BackendPreference;
}

/** The model's context window from config.json (GPT-2's n_positions, else max_position_embeddings). */
function contextLength(opened: OpenedHfFolder): number {
  const json = opened.config?.json;
  const value = isJsonObject(json) ? (json.n_positions ?? json.max_position_embeddings) : undefined;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 1024;
}

async function greedyText(bytes: Uint8Array, tokenizer: HfTokenizer, promptIds: number[], maxNew: number, context: number, backend: BackendPreference): Promise<string> {
  const { runner } = await createRunner(bytes, { backend, numThreads: 1 });
  try {
    const { ids } = await generate(runner, { promptIds, maxNewTokens: maxNew, contextLength: context, strategy: { kind: 'greedy' } });
    return tokenizer.decode(ids);
  } finally {
    await runner.release();
  }
}

export async function hfGenerateCommand(folderArg: string, options: HfGenerateOptions): Promise<void> {
  const folder = resolve(folderArg);
  const opened = await openFolderOnDisk(folder);
  const tokenizer = requireTokenizer(folder, opened);
  if (!opened.lmInputs.ok) throw new Error(`${showPath(join(folder, opened.plan.model.path))}: ${opened.lmInputs.message}`);
  const promptIds = tokenizer.encode(options.prompt);
  if (promptIds.length === 0) throw new Error('generate: --prompt gives no tokens');
  const context = contextLength(opened);
  const cache = opened.lmInputs.plan.past.length > 0 ? 'with its KV cache' : 'recomputing the window each step';
  console.log(`prompt          ${JSON.stringify(options.prompt)} (${promptIds.length} tokens; greedy, ${options.maxNew} new tokens, ${cache})`);
  console.log(`dense           ${JSON.stringify(await greedyText(writeModel(opened.model), tokenizer, promptIds, options.maxNew, context, options.backend))}`);
  if (options.compressed) {
    const target = resolve(options.compressed);
    const bytes = statSync(target).isDirectory() ? writeModel((await openFolderOnDisk(target)).model) : loadModelFromDisk(target).bytes;
    console.log(`${`compressed (${basename(target)})`.padEnd(15)} ${JSON.stringify(await greedyText(bytes, tokenizer, promptIds, options.maxNew, context, options.backend))}`);
  }
}
