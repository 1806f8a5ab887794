// `npm run lab -- run <recipe.json> <model-dir | model.onnx> -o out.onnx [--json]` (and its alias
// `prune --recipe`): any staged recipe through the same compressModel as the browser (calibration
// on ORT's wasm backend, one thread), so the same recipe gives the same weight hash in both, and
// the same bytes on every run.
import { isReshapeStageReport, reshapeStageLines } from './printReshaped.ts';
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { analyticPartRows, compressModel, type CompressOutcome, describeAwqScale, describeRelativeErrorBasis, formatRelativeError, formatSignedPercent, isPruneStageReport, measuredVsAnalyticPercent, sha256Hex, type CompressReport } from '../core/compress';
import { parseDataset, type Dataset } from '../core/eval/datasets';
import type { BackendPreference } from '../core/eval/runner';
import { describeBackendUse, type Progress } from '../core/job';
import { analyzeModel } from '../core/model';
import { checkModelPayloads, readModel } from '../core/onnx';
import { describeRunLatency, latencyWindow, measureModelLatencies, predictedLatencyOf, runLatency, type RunLatency } from '../core/latency';
import { modelMismatch, parseRecipe, RecipeError, type Recipe } from '../core/recipe';
import { createRunner } from '../runtime/ort';
import { describeMixedReport } from '../core/compress/mixedPrecision';
import { isQuantizeStageReport } from '../core/compress/report';
import { isAttentionStageReport } from '../core/compress/attentionStage';
import { readJsonFile } from './files';
import { attentionStageLines } from './printAttention';
import { loadModelFromDisk, modelFolder, type ModelOnDisk } from './loadModelDir';
import { decodeShareToken, LAB_VERSION, recordInterval, reproduction, shareTokenOf, type ExperimentRecord, type SharePayload } from '../core/experiments';
import { evaluateWithSamples, type EvalWithSamples } from '../core/eval/evaluate';
import { showPath } from './files';

/** The bundled models' folder of this checkout. */
const BUNDLED_MODELS = join(import.meta.dirname, '../../public/models');

export interface RunCommandOptions {
  /** A recipe file, or a share link (…#share=1.…) whose recipe and model are run. */
  recipePath: string;
  /** Where to write the compressed model; nothing is written without it. */
  outputPath?: string;
  calibPath?: string;
  backend: BackendPreference;
  json: boolean;
  /** Skip timing the dense and the compressed model (--no-latency). */
  noLatency?: boolean;
}

/**
 * The recipe file, parsed and migrated. The file is read as every CLI input is (a regular file of
 * bounded size and depth, never quoted: src/cli/files.ts); a wrong field names the file and the field.
 */
export function readRecipeFile(path: string): Recipe {
  const json = readJsonFile(path, 'a recipe');
  try {
    return parseRecipe(json);
  } catch (e) {
    if (e instanceof RecipeError) throw new RecipeError(e.problems.map((p, i) => (i === 0 ? `${p} (in ${path})` : p)));
    throw e;
  }
}

/** --calib, else the card's files.calib beside the model (parseModelCard kept it inside the folder). */
export function calibrationSet(target: string, calibPath: string | undefined, cardCalib: string | undefined): { path?: string; dataset?: Dataset } {
  const path = calibPath ? resolve(calibPath) : cardCalib ? join(modelFolder(target), cardCalib) : undefined;
  if (path === undefined) return {};
  return { path, dataset: parseDataset(readJsonFile(path, 'a calibration set'), path) };
}

function progressLine(p: Progress): string | undefined {
  if (p.done !== p.total) return undefined;
  if (p.phase === 'calibrate') return `  calibrated ${p.label} (${p.total} samples)`;
  if (p.phase === 'allocate') return `  ${p.label} measured (${p.total} ${p.label.startsWith('mixed') ? 'layers at every candidate width' : 'prunings'})`;
  if (p.phase === 'report') return undefined;
  if (p.phase === 'attention') return `  ACT head search: ${p.total} sets scored`;
  return `  ${p.phase}: ${p.label} (${p.total} layers)`;
}

const percent = (v: number) => `${(v * 100).toFixed(2)}%`;

function printLayers(report: CompressReport): void {
  const header = ['block', 'layer', 'role', 'pattern', 'target', 'achieved', 'rel. error', 'error on', 'ms', 'ran on', 'check'];
  const rows = report.layers.map((l) => [
    l.block === null ? '-' : String(l.block),
    l.name,
    l.role,
    l.pattern,
    percent(l.targetSparsity),
    percent(l.achievedSparsity),
    formatRelativeError(l),
    describeRelativeErrorBasis(l),
    l.ms.toFixed(1),
    describeBackendUse(l.backend),
    l.patternCheck.ok ? 'ok' : `FAIL: ${l.patternCheck.violations[0]}`,
  ]);
  const left = new Set([1, 2, 3, 7, 9, 10]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => console.log(line(r)));
  const sampled = report.layers.filter((l) => l.relativeErrorBasis === 'sampled');
  if (sampled.length > 0) {
    const sizes = [...new Set(sampled.map((l) => l.relativeErrorTokens))].join('/');
    console.log(`≈ rel. error ESTIMATED on a seeded sample of ${sizes} calibration input tokens per layer (no Hessian was collected); the others are exact on all tokens (H)`);
  }
}

function printQuantizedLayers(report: CompressReport): void {
  const awq = report.quantized.some((q) => q.awq);
  const header = ['block', 'layer', 'role', 'format', 'bits/weight', 'stored as', 'rel. error', 'error on', 'zeros kept', 'ms', ...(awq ? ['AWQ scale'] : [])];
  const rows = report.quantized.map((q) => [
    q.block === null ? '-' : String(q.block),
    q.name,
    q.role,
    q.format,
    q.bitsPerWeight.toFixed(3),
    q.export === 'packed' ? 'packed' : `SIMULATED${q.simulatedBecause ? ` (${q.simulatedBecause})` : ''}`,
    formatRelativeError(q),
    describeRelativeErrorBasis(q),
    q.rezeroed > 0 ? `${q.zerosKept} (${q.rezeroed} reset)` : String(q.zerosKept),
    q.ms.toFixed(1),
    ...(awq ? [q.awq ? describeAwqScale(q.awq) : ''] : []),
  ]);
  const left = new Set([1, 2, 3, 5, 7, 10]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => console.log(line(r)));
  console.log('bits/weight: ANALYTIC, the format\'s codes plus its scales and zero points; SIMULATED layers are stored as dequantized floats');
}

export function printReport(report: CompressReport, outputPath: string | null): void {
  console.log(`\n${report.summary}`);
  if (report.layers.length > 0) printLayers(report);
  if (report.quantized.length > 0) printQuantizedLayers(report);
  const t = report.totals;
  console.log('');
  for (const stage of report.stages) {
    console.log(`stage ${stage.index}         ${stage.kind}: ${stage.summary} (${(stage.ms / 1000).toFixed(2)} s)`);
    if (isPruneStageReport(stage)) console.log(`  allocation    ${stage.allocation.kind}: ${stage.allocation.meanKind} mean ${stage.allocation.mean.toFixed(6)} (target ${stage.allocation.target})`);
    if (isQuantizeStageReport(stage) && stage.mixed) console.log(`  mixed         ${describeMixedReport(stage.mixed, stage.quantized)}`);
    if (isAttentionStageReport(stage)) attentionStageLines(stage).forEach((line) => console.log(line));
    if (isReshapeStageReport(stage)) reshapeStageLines(stage).forEach((line) => console.log(line));
  }
  const pruned = report.layers.length > 0;
  if (pruned) console.log(`sparsity        ${percent(t.achievedSparsityPruned)} of the ${t.prunedLayers} changed layers (${t.prunedZeros.toLocaleString('en')} of ${t.prunedParams.toLocaleString('en')} weights); ${percent(t.achievedSparsityAllLinear)} of all linear weights`);
  const storage = t.packedLayers > 0 ? `${t.packedLayers} layers packed as MatMulNBits${t.simulatedLayers > 0 ? `, ${t.simulatedLayers} SIMULATED as floats` : ''}` : t.simulatedLayers > 0 ? `${t.simulatedLayers} quantized layers SIMULATED as floats` : 'dense storage';
  console.log(`file            ${t.denseFileBytes.toLocaleString('en')} bytes written (${storage}; measured)`);
  if (t.analyticQuantizedFileBytes !== null) {
    const off = formatSignedPercent(measuredVsAnalyticPercent(t.denseFileBytes, t.analyticQuantizedFileBytes));
    console.log(`packed analytic ${t.analyticQuantizedFileBytes.toLocaleString('en')} bytes (ANALYTIC: every quantized layer in its format, the rest as stored; the file measures ${off}${t.simulatedLayers > 0 ? ', SIMULATED layers stored as floats' : ''})`);
    for (const part of t.analyticParts ? analyticPartRows(t.analyticParts) : []) console.log(`  ${part.label.padEnd(20)} ${part.bytes.toLocaleString('en').padStart(12)} bytes`);
  }
  if (pruned && t.packedLayers === 0) console.log(`sparse estimate ${t.estimatedSparseFileBytes.toLocaleString('en')} bytes (ESTIMATED: the pruned weights in a sparse encoding; no such file is written)`);
  if (report.calibration) {
    const hessians = report.backends.hessian ? `, statistics on ${describeBackendUse(report.backends.hessian)}` : '';
    console.log(`calibration     ${report.calibration.samples} samples, seed ${report.calibration.seed}, ${report.calibration.mode}${report.calibration.sequence ? ` (${report.calibration.sequence})` : ''}, ${report.calibration.passes} session(s) on ${report.backends.calibrationInference ?? 'wasm'}${hessians}, ${(report.calibration.ms / 1000).toFixed(2)} s`);
  }
  if (report.latency) console.log(`latency         ${describeRunLatency(report.latency)} (median of ${report.latency.repeats} runs on ${report.latency.seq === 1 && report.latency.unit === 'image' ? 'one image' : `a ${report.latency.seq}-token window`}, batch 1)`);
  console.log(`time            ${(report.timings.totalMs / 1000).toFixed(2)} s total, ${(report.timings.stagesMs / 1000).toFixed(2)} s in stages`);
  for (const note of report.notes) console.log(`note            ${note}`);
  console.log(`weights SHA-256 ${report.weightsSha256}`);
  console.log(`file SHA-256    ${report.fileSha256}`);
  console.log(outputPath === null ? "wrote           nothing (no -o given)" : `wrote           ${outputPath}`);
}

/** A share link's model: its bundled folder, or the file given, checked against the link's hash. */
async function linkedModel(link: SharePayload, target: string | undefined): Promise<string> {
  if (link.model.kind === 'bundled') {
    const folder = target ?? join(BUNDLED_MODELS, link.model.id);
    if (target === undefined && !existsSync(join(folder, 'model.json'))) throw new Error(`the link's model "${link.model.id}" is not one of this lab's bundled models (public/models)`);
    return folder;
  }
  if (target === undefined) throw new Error(`the link was made with your own model "${link.model.name}": pass that file after the link`);
  const actual = await sha256Hex(loadModelFromDisk(target).bytes);
  if (actual !== link.model.sha256) throw new Error(`${showPath(target)} has SHA-256 ${actual.slice(0, 12)}…, but the link's model "${link.model.name}" has ${link.model.sha256.slice(0, 12)}…: pass the file the link was made from`);
  return target;
}

/** The recipe (and the link it came in, if it came in one) named on the command line. */
function recipeSource(arg: string): { recipe: Recipe; link?: SharePayload } {
  if (!arg.includes('#share=') && !arg.startsWith('share=')) return { recipe: readRecipeFile(resolve(arg)) };
  const decoded = decodeShareToken(shareTokenOf(arg) ?? '');
  if (!decoded.ok) throw new Error(decoded.message);
  return { recipe: decoded.payload.recipe, link: decoded.payload };
}

export async function evaluateBytes(bytes: Uint8Array, dataset: Dataset, backend: BackendPreference): Promise<EvalWithSamples> {
  const { runner } = await createRunner(bytes, { backend, numThreads: 1 });
  try {
    return await evaluateWithSamples(runner, dataset);
  } finally {
    await runner.release();
  }
}

export async function runCommand(modelArg: string | undefined, options: RunCommandOptions): Promise<void> {
  const { recipe, link } = recipeSource(options.recipePath);
  if (!link && modelArg === undefined) throw new Error('run: a <model> is required after a recipe file');
  const target = link ? await linkedModel(link, modelArg) : modelArg!;
  const onDisk = loadModelFromDisk(target);
  if (recipe.model) {
    const mismatch = modelMismatch(recipe.model, { id: onDisk.card?.id, sha256: recipe.model.sha256 ? await sha256Hex(onDisk.bytes) : undefined });
    if (mismatch) throw new RecipeError([mismatch]);
  }
  const startedAt = Date.now();
  const started = performance.now();
  const calib = calibrationSet(target, options.calibPath, onDisk.card?.files.calib);
  const outcome = await compressOnDisk(onDisk, recipe, calib.dataset, options.backend, (p) => {
    const line = options.json ? undefined : progressLine(p);
    if (line) console.error(line);
  });
  const outputPath = options.outputPath === undefined ? null : resolve(options.outputPath);
  if (outputPath !== null) writeFileSync(outputPath, outcome.bytes);
  if (!options.noLatency) {
    if (!options.json) console.error('  timing the dense and the compressed model (--no-latency skips it)');
    outcome.report.latency = await measureRunLatency(onDisk.bytes, outcome.bytes, outcome.report, options.backend);
  }
  const reproduced = link?.result ? reproduction(link.result, outcome.report.weightsSha256) : undefined;
  if (options.json) {
    const record = await cliRecord({ onDisk, recipe, report: outcome.report, bytes: outcome.bytes, backend: options.backend, startedAt, started });
    console.log(JSON.stringify({ file: outputPath, model: onDisk.onnxPath, calibration: calib.path ?? null, report: outcome.report, record, ...(reproduced ? { reproduced } : {}) }, null, 2));
  } else {
    printReport(outcome.report, outputPath);
    if (reproduced) console.log(reproduced.text);
  }
  if (reproduced && !reproduced.ok) throw new Error(reproduced.text);
}

/** The dense and the compressed model timed in interleaved rounds on the run's backend (one thread, as the CLI calibrates). */
export async function measureRunLatency(denseBytes: Uint8Array, compressedBytes: Uint8Array, report: CompressReport, backend: BackendPreference): Promise<RunLatency> {
  const open = async (bytes: Uint8Array) => (await createRunner(bytes, { backend, numThreads: 1 })).runner;
  const seq = latencyWindow(analyzeModel(readModel(compressedBytes)));
  const [dense, compressed] = await measureModelLatencies([denseBytes, compressedBytes], open, { seq, repeats: 20, warmup: 3 });
  return runLatency(dense, compressed, predictedLatencyOf(report.stages));
}

/** The recipe applied to a model read from disk, as the browser applies it (calibration on ORT wasm, one thread). */
export async function compressOnDisk(onDisk: ModelOnDisk, recipe: Recipe, calibSet: Dataset | undefined, backend: BackendPreference, onProgress: (p: Progress) => void): Promise<CompressOutcome> {
  const model = onDisk.model;
  // Compression rewrites some weights and copies the others: a tensor ONNX Runtime would refuse
  // (raw_data shorter than its shape, say) is refused here, as `eval` refuses it.
  try {
    checkModelPayloads(model);
  } catch (error) {
    throw new Error(`${onDisk.onnxPath}: ${(error as Error).message}`);
  }
  return compressModel({
    model,
    analysis: analyzeModel(model),
    recipe,
    calibSet,
    // Written into the file's metadata_props (compression_lab.source_model).
    sourceModel: onDisk.card?.id ?? basename(onDisk.onnxPath).replace(/\.onnx$/i, ''),
    createRunner: async (bytes) => (await createRunner(bytes, { backend, numThreads: 1 })).runner,
    backends: { calibrationInference: `onnxruntime-web ${backend}, 1 thread`, hessian: { requested: 'cpu', ran: 'cpu' } },
    onProgress,
  });
}

/**
 * The run as an experiment record: both models evaluated on the model's evaluation set, when it
 * has one (`dense` reuses an evaluation of the dense model already made, as a sweep does).
 */
export async function cliRecord(input: { onDisk: ModelOnDisk; recipe: Recipe; report: CompressReport; bytes: Uint8Array; backend: BackendPreference; startedAt: number; started: number; number?: number; dense?: EvalWithSamples }): Promise<ExperimentRecord> {
  const { onDisk, report } = input;
  const dataset = onDisk.dataset;
  const evaluated = dataset ? { dense: input.dense ?? (await evaluateBytes(onDisk.bytes, dataset, input.backend)), run: await evaluateBytes(input.bytes, dataset, input.backend) } : undefined;
  const id = onDisk.card?.id;
  return {
    id: `cli-${input.startedAt.toString(36)}-${input.number ?? 1}`,
    number: input.number ?? 1,
    status: 'done',
    startedAt: input.startedAt,
    finishedAt: input.startedAt + Math.round(performance.now() - input.started),
    labVersion: LAB_VERSION,
    model: { label: onDisk.card?.name ?? basename(onDisk.onnxPath), source: id ? { kind: 'bundled', id } : { kind: 'file', name: basename(onDisk.onnxPath) }, sha256: await sha256Hex(onDisk.bytes), sizeBytes: onDisk.bytes.byteLength },
    recipe: input.recipe,
    compute: { backend: 'cpu', poolSize: 1 },
    report,
    ...(evaluated ? { dense: evaluated.dense.metrics, metrics: evaluated.run.metrics, interval: recordInterval(evaluated.dense.samples, evaluated.run.samples, input.recipe.seed) } : {}),
  };
}
