// `lab compare <baseline> <candidate>`: both models on the same evaluation set, each metric's
// change with its 95 % paired bootstrap interval (src/core/eval/bootstrap.ts), and whether the
// change is within noise. The set is the baseline's (its folder's model.json) or --dataset.
import { pairedBootstrap, type PairedInterval, type PairedMetric } from '../core/eval/bootstrap';
import { evaluateWithSamples, type EvalWithSamples } from '../core/eval/evaluate';
import type { Dataset } from '../core/eval/datasets';
import { parseArgs } from 'node:util';
import { createRunner } from '../runtime/ort';
import { loadModelFromDisk } from './loadModelDir';
import { showPath } from './files';

export interface CompareOptions {
  datasetPath?: string;
  resamples?: number;
  seed?: number;
  json: boolean;
}

async function evaluateFile(bytes: Uint8Array, dataset: Dataset): Promise<EvalWithSamples> {
  const { runner } = await createRunner(bytes, { backend: 'wasm', numThreads: 1 });
  try {
    return await evaluateWithSamples(runner, dataset);
  } finally {
    await runner.release();
  }
}

export async function compareCommand(baselinePath: string, candidatePath: string, options: CompareOptions): Promise<void> {
  const baseline = loadModelFromDisk(baselinePath, options.datasetPath);
  if (!baseline.dataset || !baseline.datasetPath)
    throw new Error(`compare: no evaluation set for ${showPath(baseline.onnxPath)}: put a model.json beside it or pass --dataset <eval.json>`);
  const candidate = loadModelFromDisk(candidatePath, baseline.datasetPath);
  const a = await evaluateFile(baseline.bytes, baseline.dataset);
  const b = await evaluateFile(candidate.bytes, baseline.dataset);
  const metrics: PairedMetric[] = a.samples.task === 'causal-lm' ? ['perplexity', 'meanNll'] : ['top1', 'meanNll'];
  const intervals = metrics.map((metric) => pairedBootstrap(a.samples, b.samples, { metric, resamples: options.resamples, seed: options.seed }));
  if (options.json) {
    console.log(JSON.stringify({ baseline: baseline.onnxPath, candidate: candidate.onnxPath, dataset: baseline.datasetPath, baselineMetrics: a.metrics, candidateMetrics: b.metrics, intervals }, null, 2));
    return;
  }
  const first = intervals[0];
  console.log(`${candidate.onnxPath}\nagainst ${baseline.onnxPath}\non ${baseline.datasetPath} (${first.samples} samples; ${Math.round(first.level * 100)} % paired bootstrap, B = ${first.resamples}, seed ${first.seed})`);
  for (const r of intervals) console.log(`  ${r.metric.padEnd(12)} ${describeInterval(r)}`);
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;

/** "Δ +0.2894 [+0.2317, +0.3597]" and the verdict people read. */
export function describeInterval(r: PairedInterval): string {
  return `Δ ${signed(r.delta)} [${signed(r.low)}, ${signed(r.high)}] ${r.withinNoise ? 'within noise' : 'outside noise'}`;
}

const usage = `Usage:
  npm run lab -- compare <baseline> <candidate> [--dataset eval.json] [--seed 0] [--resamples 2000] [--json]

Evaluates both models (ORT wasm, one thread) on the baseline's evaluation set (its model.json's,
or --dataset) and prints each metric's change, candidate minus baseline, with its 95 % paired
bootstrap interval over the set's samples; "within noise" when the interval contains 0
(docs/attention.md, "Honest comparisons").`;

function nonNegativeInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a non-negative integer, not "${text.slice(0, 40)}"`);
  return Number(text);
}

/** `lab compare …` (its arguments after the command name); parses its own options. */
export async function compareMain(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, dataset: { type: 'string' }, seed: { type: 'string' }, resamples: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const [baseline, candidate, extra] = positionals;
  if (!baseline || !candidate) throw new Error(`compare: <baseline> and <candidate> models are required\n\n${usage}`);
  if (extra !== undefined) throw new Error(`compare: unexpected argument "${extra.slice(0, 80)}"\n\n${usage}`);
  await compareCommand(baseline, candidate, {
    datasetPath: values.dataset,
    seed: nonNegativeInteger('seed', values.seed),
    resamples: nonNegativeInteger('resamples', values.resamples),
    json: values.json!,
  });
  return 0;
}
