// `npm run lab -- run <recipe.json> <model-dir | model.onnx> -o out.onnx [--json]` (and its alias
// `prune --recipe`): any staged recipe through the same compressModel as the browser (calibration
// on ORT's wasm backend, one thread), so the same recipe gives the same weight hash in both, and
// the same bytes on every run.
import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { analyticPartRows, compressModel, describeAwqScale, describeRelativeErrorBasis, formatRelativeError, formatSignedPercent, isPruneStageReport, measuredVsAnalyticPercent, sha256Hex, type CompressReport } from '../core/compress';
import { parseDataset, type Dataset } from '../core/eval/datasets';
import type { BackendPreference } from '../core/eval/runner';
import { describeBackendUse, type Progress } from '../core/job';
import { analyzeModel } from '../core/model';
import { checkModelPayloads } from '../core/onnx';
import { modelMismatch, parseRecipe, RecipeError, type Recipe } from '../core/recipe';
import { createRunner } from '../runtime/ort';
import { describeMixedReport } from '../core/compress/mixedPrecision';
import { isQuantizeStageReport } from '../core/compress/report';
import { isAttentionStageReport } from '../core/compress/attentionStage';
import { readJsonFile } from './files';
import { attentionStageLines } from './printAttention';
import { loadModelFromDisk, modelFolder } from './loadModelDir';

export interface RunCommandOptions {
  recipePath: string;
  outputPath: string;
  calibPath?: string;
  backend: BackendPreference;
  json: boolean;
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
function calibrationSet(target: string, calibPath: string | undefined, cardCalib: string | undefined): { path?: string; dataset?: Dataset } {
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

function printReport(report: CompressReport, outputPath: string): void {
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
    console.log(`calibration     ${report.calibration.samples} samples, seed ${report.calibration.seed}, ${report.calibration.mode}, ${report.calibration.passes} session(s) on ${report.backends.calibrationInference ?? 'wasm'}${hessians}, ${(report.calibration.ms / 1000).toFixed(2)} s`);
  }
  console.log(`time            ${(report.timings.totalMs / 1000).toFixed(2)} s total, ${(report.timings.stagesMs / 1000).toFixed(2)} s in stages`);
  for (const note of report.notes) console.log(`note            ${note}`);
  console.log(`weights SHA-256 ${report.weightsSha256}`);
  console.log(`file SHA-256    ${report.fileSha256}`);
  console.log(`wrote           ${outputPath}`);
}

export async function runCommand(target: string, options: RunCommandOptions): Promise<void> {
  const recipe = readRecipeFile(resolve(options.recipePath));
  const onDisk = loadModelFromDisk(target);
  if (recipe.model) {
    const mismatch = modelMismatch(recipe.model, { id: onDisk.card?.id, sha256: recipe.model.sha256 ? await sha256Hex(onDisk.bytes) : undefined });
    if (mismatch) throw new RecipeError([mismatch]);
  }
  const calib = calibrationSet(target, options.calibPath, onDisk.card?.files.calib);
  const model = onDisk.model;
  // Compression rewrites some weights and copies the others: a tensor ONNX Runtime would refuse
  // (raw_data shorter than its shape, say) is refused here, as `eval` refuses it.
  try {
    checkModelPayloads(model);
  } catch (error) {
    throw new Error(`${onDisk.onnxPath}: ${(error as Error).message}`);
  }
  const outcome = await compressModel({
    model,
    analysis: analyzeModel(model),
    recipe,
    calibSet: calib.dataset,
    // Written into the file's metadata_props (compression_lab.source_model).
    sourceModel: onDisk.card?.id ?? basename(onDisk.onnxPath).replace(/\.onnx$/i, ''),
    createRunner: async (bytes) => (await createRunner(bytes, { backend: options.backend, numThreads: 1 })).runner,
    backends: { calibrationInference: `onnxruntime-web ${options.backend}, 1 thread`, hessian: { requested: 'cpu', ran: 'cpu' } },
    onProgress: (p) => {
      const line = options.json ? undefined : progressLine(p);
      if (line) console.error(line);
    },
  });
  const outputPath = resolve(options.outputPath);
  writeFileSync(outputPath, outcome.bytes);
  if (options.json) console.log(JSON.stringify({ file: outputPath, model: onDisk.onnxPath, calibration: calib.path ?? null, report: outcome.report }, null, 2));
  else printReport(outcome.report, outputPath);
}
