// `lab compare <baseline> <candidate>`: both models on the same evaluation set, each metric's
// change with its 95 % paired bootstrap interval (src/core/eval/bootstrap.ts), and whether the
// change is within noise. The set is the baseline's (its folder's model.json) or --dataset.
import { pairedBootstrap, type PairedInterval, type PairedMetric } from '../core/eval/bootstrap';
import { evaluateWithSamples, type EvalWithSamples } from '../core/eval/evaluate';
import type { Dataset } from '../core/eval/datasets';
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
