// `npm run lab -- run <recipe.json> <hf-folder> --text FILE [--seq-len 128] [--calib-share 0.5]
// [--export-folder OUT]` and `npm run lab -- generate <hf-folder> --prompt "…"`: a Hugging Face
// export folder (Optimum's or a transformers.js repository's layout) opened through
// src/core/hf/openFolder.ts, calibrated and evaluated on the user's own text (windows dealt
// disjointly by splitText), compressed with the same compressModel as the page, and written back
// in the layout transformers.js loads (exportFolder.ts).
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { metricInterval, pairedBootstrap, type MetricInterval, type PairedInterval } from '../core/eval/bootstrap';
import { datasetMismatch } from '../core/eval/compat';
import type { LmTokenDataset } from '../core/eval/datasets';
import { evaluateWithSamples, type EvalWithSamples } from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import type { BackendPreference } from '../core/eval/runner';
import { exportDtype } from '../core/hf/exportDtype';
import { exportFolderFiles, exportGraph, type TransformersDtype } from '../core/hf/exportFolder';
import { resolveModelWeights, weightSources } from '../core/onnx/lazyTensors';
import type { OpenedHfFolder } from '../core/hf/openFolder';
import { bitsPerByte, jsonlText, splitText, type TextSplit } from '../core/hf/textData';
import type { HfTokenizer } from '../core/hf/tokenizer';
import type { Progress } from '../core/job';
import { isJsonObject } from '../core/recipe/reader';
import { writeModel } from '../core/onnx';
import { createRunner } from '../runtime/ort';
import { MAX_JSON_BYTES, readRegularFile, showPath } from './files';
import { fitCalibrationSamples, openFolderOnDisk } from './hfFolder';
import { choosePath, printStreamed, recipeStreamProblems, runStreamed, type RunPath } from './hfStreamed';
import { modelWeightSources } from './weightFiles';
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
  /** Always one block at a time (refused in one line when the recipe cannot). */
  streamed?: boolean;
  /** Never one block at a time. */
  whole?: boolean;
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

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(2) : v.toFixed(4));
const line = (label: string, e: TextEvaluation) =>
  `${label.padEnd(16)}perplexity ${fmt(e.perplexity.value)} [${fmt(e.perplexity.low)}, ${fmt(e.perplexity.high)}] (95 % bootstrap over ${e.perplexity.samples} windows), ${e.bitsPerByte.toFixed(4)} bits per byte`;

export async function hfRunCommand(folderArg: string, options: HfRunOptions): Promise<void> {
  const folder = resolve(folderArg);
  const asWritten = readRecipeFile(resolve(options.recipePath));
  // Lazy: no data file is read until a path needs it (the streamed one reads block by block).
  const opened = await openFolderOnDisk(folder, { externalData: 'lazy' });
  if (opened.config?.config.family === 'bert') {
    if (options.exportFolder) throw new Error('run: --export-folder is not offered for encoders yet');
    // The encoder run holds the whole model: opened again with its external data read.
    return maskedLmRun(folder, opened.externalDataBytes > 0 ? await openFolderOnDisk(folder) : opened, asWritten, { text: readTextFile(resolve(options.textPath)), seqLen: options.seqLen, calibShare: options.calibShare, backend: options.backend, json: options.json });
  }
  const tokenizer = requireTokenizer(folder, opened);
  const split = splitText(readTextFile(resolve(options.textPath)), tokenizer, { seqLen: options.seqLen, calibShare: options.calibShare, seed: asWritten.seed });
  requireFeedable(folder, opened, split.eval);
  const log = (text: string) => (options.json ? console.error(text) : console.log(text));
  const recipe = fitCalibrationSamples(asWritten, split.calib.sequences.length, log);
  const chosen = choosePath({ streamed: options.streamed ?? false, whole: options.whole ?? false, recipePath: options.recipePath, externalDataBytes: opened.externalDataBytes, problems: recipeStreamProblems(opened, recipe, split.calib) });
  log(`folder          ${showPath(folder)}: ${opened.plan.model.path}${opened.externalDataBytes > 0 ? ` + ${opened.externalDataBytes.toLocaleString('en')} bytes of external data` : ''}${opened.config ? `, ${opened.config.config.modelType} (${opened.config.config.layers} layers)` : ''}`);
  for (const note of [...opened.plan.notes, ...opened.plan.missing]) log(`note            ${note}`);
  for (const problem of opened.disagreements) log(`WARNING         ${problem}`);
  log(`text            ${split.tokens.toLocaleString('en')} tokens → ${split.calibWindows.length + split.evalWindows.length} windows of ${options.seqLen + 1}: ${split.calibWindows.length} for calibration, ${split.evalWindows.length} for evaluation (disjoint; ${split.leftOver} tokens left over)`);
  log(`path            ${chosen.path === 'streamed' ? 'streamed, one block at a time' : 'whole model in memory'} (${chosen.why})`);
  const onProgress = (p: Progress) => {
    if (!options.json && p.done === p.total && p.phase !== 'report') console.error(`  ${p.phase}: ${p.label} (${p.total})`);
  };

  let evaluation: { dense: Uint8Array; compressed: Uint8Array } | { skipped: string };
  let exported: { folder: string; dtype: TransformersDtype; files: string[] } | undefined;
  let printCompression: () => void;
  let compressionJson: Record<string, unknown>;
  let scratch: string | undefined;
  if (chosen.path === 'streamed') {
    const run = await runStreamed({ folder, opened, recipe, calib: split.calib, backend: options.backend, exportFolder: options.exportFolder ? resolve(options.exportFolder) : undefined, onProgress });
    evaluation = run.evaluation;
    if (run.scratch) scratch = run.folder;
    else exported = { folder: run.folder, dtype: run.dtype, files: run.files };
    printCompression = () => printStreamed(run);
    const { onnx: _graph, ...figures } = run.outcome;
    compressionJson = { report: null, streamed: figures };
  } else {
    const sources = await modelWeightSources(opened.model, dirname(join(folder, opened.plan.model.path)));
    let model = opened.model;
    try {
      if (sources.length > 0) model = await resolveModelWeights(model, weightSources(sources));
    } finally {
      for (const source of sources) await source.close();
    }
    const denseBytes = writeModel(model);
    const onDisk = { onnxPath: join(folder, opened.plan.model.path), bytes: denseBytes, model };
    const outcome = await compressOnDisk(onDisk, recipe, split.calib, options.backend, onProgress);
    evaluation = { dense: denseBytes, compressed: outcome.bytes };
    if (options.exportFolder) {
      const out = resolve(options.exportFolder);
      const dtype = exportDtype(outcome.report);
      const graph = exportGraph(outcome.model, dtype, opened.externalDataBytes > 0);
      const files = exportFolderFiles({ ...graph, dtype, config: opened.config?.json, copied: opened.copied });
      for (const file of files) {
        mkdirSync(dirname(join(out, file.path)), { recursive: true });
        writeFileSync(join(out, file.path), file.bytes);
      }
      exported = { folder: out, dtype, files: files.map((f) => f.path) };
    }
    printCompression = () => printReport(outcome.report, exported ? exported.folder : null);
    compressionJson = { report: outcome.report };
  }

  let figures: { dense: TextEvaluation; compressed: TextEvaluation; change: PairedInterval } | undefined;
  try {
    if ('dense' in evaluation) {
      const dense = await evaluateText(evaluation.dense, split, options.backend);
      const compressed = await evaluateText(evaluation.compressed, split, options.backend);
      figures = { dense: textEvaluation(dense, split, recipe.seed), compressed: textEvaluation(compressed, split, recipe.seed), change: pairedBootstrap(dense.samples, compressed.samples, { seed: recipe.seed }) };
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  // The process's high-water mark (kB on Linux's getrusage), not a sample: what the run needed.
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const path: RunPath = chosen.path;

  if (options.json) {
    console.log(JSON.stringify({ folder, model: opened.plan.model.path, path, pathReason: chosen.why, peakRssBytes, split: { calibWindows: split.calibWindows, evalWindows: split.evalWindows, seqLen: options.seqLen }, dense: figures?.dense ?? null, compressed: figures?.compressed ?? null, change: figures?.change ?? null, evaluationSkipped: 'skipped' in evaluation ? evaluation.skipped : null, ...compressionJson, exported: exported ?? null }, null, 2));
    return;
  }
  printCompression();
  console.log(`${'peak memory'.padEnd(16)}${(peakRssBytes / 1e6).toFixed(0)} MB resident (process high-water mark, ${path} path)`);
  console.log('');
  if (figures) {
    console.log(line('dense', figures.dense));
    console.log(line('compressed', figures.compressed));
    const change = figures.change;
    console.log(`${'change'.padEnd(16)}perplexity ${change.delta >= 0 ? '+' : ''}${fmt(change.delta)} [${fmt(change.low)}, ${fmt(change.high)}] (paired 95 % bootstrap${change.withinNoise ? ', within noise' : ''})`);
  } else if ('skipped' in evaluation) console.log(`${'evaluation'.padEnd(16)}${evaluation.skipped}`);
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
