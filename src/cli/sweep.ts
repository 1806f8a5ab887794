// `lab sweep <recipe.json> <model> --param <path> --values <list | from:to:step> [--json]`: one
// recipe over a range of one parameter (src/core/experiments/sweep.ts), each point compressed and
// evaluated like `lab run --json`, the dense model evaluated once. Prints one row per point (the
// metric, its change against dense with the 95 % paired interval, the measured file size, the time
// it took) or, with --json, every point's experiment record.
import { parseSweepValues, sweepProblems, sweepRecipes, type ExperimentRecord } from '../core/experiments';
import { datasetSize } from '../core/eval/datasets';
import { analyzeModel } from '../core/model';
import { RecipeError } from '../core/recipe';
import type { BackendPreference } from '../core/eval/runner';
import { loadModelFromDisk } from './loadModelDir';
import { calibrationSet, cliRecord, compressOnDisk, evaluateBytes, readRecipeFile } from './run';
import { resolve } from 'node:path';

export interface SweepCommandOptions {
  param: string;
  values: string;
  calibPath?: string;
  backend: BackendPreference;
  json: boolean;
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

export async function sweepCommand(recipePath: string, target: string, options: SweepCommandOptions): Promise<void> {
  const recipe = readRecipeFile(resolve(recipePath));
  const values = parseSweepValues(options.values);
  const recipes = sweepRecipes(recipe, options.param, values);
  const onDisk = loadModelFromDisk(target);
  const calib = calibrationSet(target, options.calibPath, onDisk.card?.files.calib);
  const problems = sweepProblems(recipes, values, analyzeModel(onDisk.model), calib.dataset ? datasetSize(calib.dataset) : undefined);
  if (problems.length > 0) throw new RecipeError(problems);
  const dense = onDisk.dataset ? await evaluateBytes(onDisk.bytes, onDisk.dataset, options.backend) : undefined;
  const records: ExperimentRecord[] = [];
  const seconds: number[] = [];
  if (!options.json) console.log(`sweep of ${options.param} over ${values.length} values on ${onDisk.card?.name ?? onDisk.onnxPath}`);
  for (const [i, pointRecipe] of recipes.entries()) {
    const startedAt = Date.now();
    const started = performance.now();
    const outcome = await compressOnDisk(onDisk, pointRecipe, calib.dataset, options.backend, () => undefined);
    const record = await cliRecord({ onDisk, recipe: pointRecipe, report: outcome.report, bytes: outcome.bytes, backend: options.backend, startedAt, started, number: i + 1, dense });
    records.push(record);
    seconds.push((performance.now() - started) / 1000);
    if (!options.json) console.error(`  ${i + 1}/${recipes.length} ${options.param} = ${JSON.stringify(values[i])} done in ${seconds[i].toFixed(1)} s`);
  }
  if (options.json) {
    console.log(JSON.stringify({ param: options.param, values, seconds, records }, null, 2));
    return;
  }
  const metric = records[0]?.interval?.metric ?? (dense?.metrics.task === 'image-classification' ? 'top1' : 'perplexity');
  const w = Math.max(14, options.param.length);
  console.log(`\n${options.param.padEnd(w)} ${metric.padStart(10)}  change against dense [95 % interval]   file bytes   time (s)`);
  if (dense) console.log(`${'dense'.padEnd(w)} ${fixed(metric === 'top1' ? dense.metrics.top1 : (dense.metrics as { perplexity: number }).perplexity, 4).padStart(10)}  ${''.padEnd(36)} ${String(onDisk.bytes.byteLength).padStart(10)}`);
  records.forEach((r, i) => {
    const m = r.metrics ? (metric === 'top1' ? r.metrics.top1 : (r.metrics as { perplexity: number }).perplexity) : Number.NaN;
    const change = r.interval ? `${r.interval.delta >= 0 ? '+' : ''}${fixed(r.interval.delta, 4)} [${fixed(r.interval.low, 4)}, ${fixed(r.interval.high, 4)}]` : '-';
    console.log(`${JSON.stringify(values[i]).padEnd(w)} ${fixed(m, 4).padStart(10)}  ${change.padEnd(36)} ${String(r.report!.totals.denseFileBytes).padStart(10)} ${seconds[i].toFixed(1).padStart(10)}`);
  });
}
