// What the quality tables share: a bundled model loaded from its card, its evaluation on
// onnxruntime-web (wasm, one thread), and the headline metric in words. The tables themselves are
// pruneTable.ts and quantTable.ts.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseModelCard, type ModelCard } from '../../src/core/catalog/modelCard';
import { compressModel, type CompressReport } from '../../src/core/compress';
import { datasetSize, parseDataset, type Dataset } from '../../src/core/eval/datasets';
import { evaluate } from '../../src/core/eval/evaluate';
import type { EvalMetrics } from '../../src/core/eval/metrics';
import { analyzeModel, type ModelAnalysis } from '../../src/core/model';
import { readModel, type ModelProto } from '../../src/core/onnx';
import { validateRecipe, type Recipe } from '../../src/core/recipe';
import { createRunner } from '../../src/runtime/ort';

export const root = resolve(import.meta.dirname, '../..');

export interface Bundled {
  dir: string;
  card: ModelCard;
  bytes: Uint8Array;
  model: ModelProto;
  analysis: ModelAnalysis;
  evalSet: Dataset;
  calibSet: Dataset;
}

export const openWasm = async (bytes: Uint8Array) => (await createRunner(bytes, { backend: 'wasm', numThreads: 1 })).runner;

export function loadBundled(dir: string): Bundled {
  const json = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const card = parseModelCard(json('model.json'), join(dir, 'model.json'));
  if (!card.files.calib) throw new Error(`${dir}: the model card names no calibration set`);
  const bytes = new Uint8Array(readFileSync(join(dir, card.files.model)));
  const model = readModel(bytes);
  return {
    dir,
    card,
    bytes,
    model,
    analysis: analyzeModel(model),
    evalSet: parseDataset(json(card.files.eval), card.files.eval),
    calibSet: parseDataset(json(card.files.calib), card.files.calib),
  };
}

export async function evaluateBytes(bundled: Bundled, bytes: Uint8Array): Promise<EvalMetrics> {
  const runner = await openWasm(bytes);
  try {
    return await evaluate(runner, bundled.evalSet);
  } finally {
    await runner.release();
  }
}

/** The headline number: perplexity for LMs (lower is better), top-1 for classifiers. */
export function headline(metrics: EvalMetrics): { label: string; value: number; text: string; better: 'lower' | 'higher' } {
  if (metrics.task === 'causal-lm') return { label: 'perplexity', value: metrics.perplexity, text: metrics.perplexity.toFixed(3), better: 'lower' };
  return { label: 'top-1', value: metrics.top1, text: `${(metrics.top1 * 100).toFixed(2)}%`, better: 'higher' };
}

export function secondary(metrics: EvalMetrics): string {
  return metrics.task === 'causal-lm' ? `${metrics.bitsPerChar.toFixed(4)} bpc` : `NLL ${metrics.meanNll.toFixed(4)}`;
}

/** The evaluation and calibration sets in words. */
export function datasetWords(bundled: Bundled): { evalSize: string; calibSize: number } {
  const evalSize = bundled.evalSet.kind === 'lm-tokens' ? `${bundled.evalSet.sequences.length} sequences of ${bundled.evalSet.seqLen} tokens` : `${bundled.evalSet.images.length} images`;
  const calibSize = bundled.calibSet.kind === 'lm-tokens' ? bundled.calibSet.sequences.length : bundled.calibSet.images.length;
  return { evalSize, calibSize };
}

export function ortVersion(): string {
  return JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version as string;
}

/** Mean relative reconstruction error over report rows (unweighted), as the tables print it; '–' when none was measured. */
export function meanRelativeError(rows: readonly { relativeError: number | null }[]): string {
  const errors = rows.map((l) => l.relativeError).filter((e): e is number => e !== null);
  return errors.length === 0 ? '–' : (errors.reduce((a, b) => a + b, 0) / errors.length).toFixed(4);
}

/** One table row's run: the recipe checked against the model, compressed, the written file evaluated. */
export type RecipeRun = { problem: string } | { report: CompressReport; fileBytes: number; metrics: EvalMetrics; seconds: number };

export async function runRecipe(bundled: Bundled, recipe: Recipe): Promise<RecipeRun> {
  const problems = validateRecipe(recipe, bundled.analysis, datasetSize(bundled.calibSet));
  if (problems.length > 0) return { problem: problems.join('; ') };
  const start = performance.now();
  const outcome = await compressModel({ model: bundled.model, analysis: bundled.analysis, recipe, calibSet: bundled.calibSet, createRunner: openWasm });
  const metrics = await evaluateBytes(bundled, outcome.bytes);
  return { report: outcome.report, fileBytes: outcome.bytes.length, metrics, seconds: (performance.now() - start) / 1000 };
}
