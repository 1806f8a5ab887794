// `npm run lab -- prune --recipe recipe.json <model-dir | model.onnx> -o out.onnx [--json]`:
// the same pruneModel as the browser (calibration on ORT's wasm backend, one thread), so the
// same recipe gives the same weight hash in both.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pruneModel, type PruneProgress, type PruneReport } from '../core/compress';
import { parseDataset, type Dataset } from '../core/eval/datasets';
import type { BackendPreference } from '../core/eval/runner';
import { analyzeModel } from '../core/model';
import { checkModelPayloads } from '../core/onnx';
import { parseRecipe } from '../core/recipe';
import { createRunner } from '../runtime/ort';
import { readJsonFile } from './files';
import { loadModelFromDisk, modelFolder } from './loadModelDir';

export interface PruneCommandOptions {
  recipePath: string;
  outputPath: string;
  calibPath?: string;
  backend: BackendPreference;
  json: boolean;
}

/** --calib, else the card's files.calib beside the model (parseModelCard kept it inside the folder). */
function calibrationSet(target: string, calibPath: string | undefined, cardCalib: string | undefined): { path?: string; dataset?: Dataset } {
  const path = calibPath ? resolve(calibPath) : cardCalib ? join(modelFolder(target), cardCalib) : undefined;
  if (path === undefined) return {};
  return { path, dataset: parseDataset(readJsonFile(path, 'a calibration set'), path) };
}

function progressLine(p: PruneProgress): string | undefined {
  if (p.phase === 'calibrate' && p.done === p.total) return `  calibrated ${p.label} (${p.total} samples)`;
  if (p.phase === 'prune' && p.done === p.total) return `  pruned ${p.label} (${p.total} layers)`;
  if (p.phase === 'allocate' && p.done === p.total) return `  sensitivity measured (${p.total} prunings)`;
  return undefined;
}

const percent = (v: number) => `${(v * 100).toFixed(2)}%`;

function printReport(report: PruneReport, outputPath: string): void {
  console.log(`\n${report.summary}`);
  const header = ['block', 'layer', 'role', 'pattern', 'target', 'achieved', 'rel. error', 'ms', 'check'];
  const rows = report.layers.map((l) => [
    l.block === null ? '-' : String(l.block),
    l.name,
    l.role,
    l.pattern,
    percent(l.targetSparsity),
    percent(l.achievedSparsity),
    l.relativeError === null ? '-' : l.relativeError.toFixed(4),
    l.ms.toFixed(1),
    l.patternCheck.ok ? 'ok' : `FAIL: ${l.patternCheck.violations[0]}`,
  ]);
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, r[i].length), h.length));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 2 || i === 3 || i === 8 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => console.log(line(r)));
  const t = report.totals;
  console.log(`\nsparsity        ${percent(t.achievedSparsityPruned)} of the ${t.prunedLayers} pruned layers (${t.prunedZeros.toLocaleString('en')} of ${t.prunedParams.toLocaleString('en')} weights); ${percent(t.achievedSparsityAllLinear)} of all linear weights`);
  console.log(`allocation      ${report.allocation.kind}: ${report.allocation.meanKind} mean ${report.allocation.mean.toFixed(6)} (target ${report.allocation.target})`);
  console.log(`file            ${t.denseFileBytes.toLocaleString('en')} bytes written (dense storage, measured)`);
  console.log(`sparse estimate ${t.estimatedSparseFileBytes.toLocaleString('en')} bytes (ESTIMATED: the pruned weights in a sparse encoding; no such file is written)`);
  if (report.calibration) console.log(`calibration     ${report.calibration.samples} samples, seed ${report.calibration.seed}, ${report.calibration.mode}, ${report.calibration.passes} session(s), ${(report.calibration.ms / 1000).toFixed(2)} s`);
  console.log(`time            ${(report.timings.totalMs / 1000).toFixed(2)} s total, ${(report.timings.pruneMs / 1000).toFixed(2)} s pruning`);
  for (const note of report.notes) console.log(`note            ${note}`);
  console.log(`weights SHA-256 ${report.weightsSha256}`);
  console.log(`file SHA-256    ${report.fileSha256}`);
  console.log(`wrote           ${outputPath}`);
}

export async function pruneCommand(target: string, options: PruneCommandOptions): Promise<void> {
  const recipe = parseRecipe(readJsonFile(resolve(options.recipePath), 'a pruning recipe'));
  const onDisk = loadModelFromDisk(target);
  const calib = calibrationSet(target, options.calibPath, onDisk.card?.files.calib);
  const model = onDisk.model;
  // Pruning rewrites some weights and copies the others: a tensor ONNX Runtime would refuse
  // (raw_data shorter than its shape, say) is refused here, as `eval` refuses it.
  try {
    checkModelPayloads(model);
  } catch (error) {
    throw new Error(`${onDisk.onnxPath}: ${(error as Error).message}`);
  }
  const outcome = await pruneModel({
    model,
    analysis: analyzeModel(model),
    recipe,
    calibSet: calib.dataset,
    createRunner: async (bytes) => (await createRunner(bytes, { backend: options.backend, numThreads: 1 })).runner,
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
