// Section "prune model": a whole pruneModel run on the bundled LM (kjv-charlm; digits-vit when
// the LM is not on disk), per method and pattern, with the per-layer jobs on the CPU (the
// baseline, measured in the same run) and on WebGPU (gpuPruneLayer). Calibration is the same in
// both: ORT wasm with one thread and the CPU statistics accumulator.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFromDisk } from '../src/cli/loadModelDir.ts';
import { pruneModel, type PruneLayerFn, type PruneOutcome } from '../src/core/compress/index.ts';
import { parseDataset, type Dataset } from '../src/core/eval/datasets.ts';
import { analyzeModel } from '../src/core/model/index.ts';
import { readModel } from '../src/core/onnx/index.ts';
import { defaultRecipe } from '../src/core/recipe/defaults.ts';
import type { PruneMethod, RecipePattern } from '../src/core/recipe/types.ts';
import { createRunner } from '../src/runtime/ort.ts';
import type { GpuOutcome } from './gpu.ts';
import { formatMs, median, ratio, reason, type Table } from './measure.ts';

/** The LM first; the ViT when the LM has not been trained into public/models yet. */
const PREFERRED_MODELS = ['kjv-charlm', 'digits-vit'];
const METHODS: PruneMethod[] = ['magnitude', 'wanda', 'sparsegpt'];
const PATTERNS: { label: string; pattern: RecipePattern }[] = [
  { label: 'unstructured 50 %', pattern: { kind: 'unstructured' } },
  { label: '2:4', pattern: { kind: 'nm', n: 2, m: 4 } },
];
const RUNS = 3;

/** Why a model folder cannot be benchmarked, or undefined when it can. */
export function missingModelFiles(id: string): string | undefined {
  const dir = join('public/models', id);
  if (!existsSync(join(dir, 'model.json'))) return `${dir}/model.json not found`;
  return undefined;
}

interface Runs {
  totalMs: number;
  pruneMs: number;
  calibrationMs: number;
  outcome: PruneOutcome;
}

/** One warm-up run, then RUNS timed runs; medians of the wall time and of the report's parts. */
async function timeRuns(run: () => Promise<PruneOutcome>): Promise<Runs> {
  await run();
  const samples: { wall: number; outcome: PruneOutcome }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const outcome = await run();
    samples.push({ wall: performance.now() - t0, outcome });
  }
  return {
    totalMs: median(samples.map((s) => s.wall)),
    pruneMs: median(samples.map((s) => s.outcome.report.timings.pruneMs)),
    calibrationMs: median(samples.map((s) => s.outcome.report.timings.calibrationMs)),
    outcome: samples[samples.length - 1].outcome,
  };
}

export interface ModelSectionOptions {
  gpu: GpuOutcome;
  /** A model id from the command line; otherwise the first of PREFERRED_MODELS on disk. */
  modelId?: string;
}

export async function modelSection({ gpu, modelId }: ModelSectionOptions): Promise<Table> {
  const skipped = modelId ? [] : PREFERRED_MODELS.map((id) => ({ id, why: missingModelFiles(id) })).filter((m) => m.why !== undefined);
  const id = modelId ?? PREFERRED_MODELS.find((m) => missingModelFiles(m) === undefined);
  if (id === undefined) throw new Error(`no bundled model on disk (${skipped.map((s) => `${s.id}: ${s.why}`).join('; ')})`);
  const dir = join('public/models', id);
  const onDisk = loadModelFromDisk(dir);
  const calibFile = onDisk.card?.files.calib;
  if (!calibFile) throw new Error(`${dir}/model.json names no calibration set (files.calib)`);
  const calibSet: Dataset = parseDataset(JSON.parse(readFileSync(join(dir, calibFile), 'utf8')), join(dir, calibFile));
  const model = readModel(onDisk.bytes);
  const analysis = analyzeModel(model);

  const ctx = gpu.ok ? new gpu.gpu.modules.GpuContext(gpu.gpu.device) : undefined;
  const gpuLayer: PruneLayerFn | undefined = gpu.ok && ctx ? gpu.gpu.modules.gpuPruneLayer(ctx) : undefined;
  const rows: string[][] = [];
  let recipeSummary = '';
  let layerCount = 0;
  for (const method of METHODS) {
    for (const { label, pattern } of PATTERNS) {
      const recipe = defaultRecipe();
      recipe.method = method;
      recipe.pattern = pattern;
      const prune = (pruneLayer?: PruneLayerFn) => () =>
        pruneModel({
          model,
          analysis,
          recipe,
          calibSet,
          preprocess: onDisk.card?.preprocess,
          createRunner: async (bytes) => (await createRunner(bytes, { backend: 'wasm', numThreads: 1 })).runner,
          ...(pruneLayer ? { pruneLayer } : {}),
        });
      const cpu = await timeRuns(prune());
      const report = cpu.outcome.report;
      layerCount = report.layers.length;
      recipeSummary = `calibration ${recipe.calibration.samples} samples of ${calibFile}, ${recipe.calibration.mode}, seed ${recipe.calibration.seed}; SparseGPT blocksize ${recipe.sparseGpt.blockSize}, percdamp ${recipe.sparseGpt.percDamp}`;
      const calibration = report.calibration ? formatMs(cpu.calibrationMs) : '-';
      rows.push([method, label, 'CPU jobs (default pruneLayer)', formatMs(cpu.totalMs), '1.00×', formatMs(cpu.pruneMs), '1.00×', calibration, 'baseline', report.layers[0]?.backend ?? '-']);
      if (!gpuLayer) {
        rows.push([method, label, 'WebGPU jobs (gpuPruneLayer)', 'n/a', '', '', '', '', '', `no WebGPU adapter: ${gpu.ok ? '' : gpu.reason}`]);
        continue;
      }
      try {
        const onGpu = await timeRuns(prune(gpuLayer));
        const backends = [...new Set(onGpu.outcome.report.layers.map((l) => l.backend))].join('; ');
        const same = onGpu.outcome.report.weightsSha256 === report.weightsSha256 ? 'identical' : 'differ';
        rows.push([
          method,
          label,
          'WebGPU jobs (gpuPruneLayer)',
          formatMs(onGpu.totalMs),
          ratio(onGpu.totalMs, cpu.totalMs),
          formatMs(onGpu.pruneMs),
          ratio(onGpu.pruneMs, cpu.pruneMs),
          report.calibration ? formatMs(onGpu.calibrationMs) : '-',
          same,
          backends,
        ]);
      } catch (error) {
        rows.push([method, label, 'WebGPU jobs (gpuPruneLayer)', 'n/a', '', '', '', '', '', `failed: ${reason(error)}`]);
      }
    }
  }
  ctx?.destroy();

  const substitute = skipped.length > 0 ? ` — ${skipped.map((s) => `${s.id} is not on disk (${s.why})`).join('; ')}, so this is ${id}` : '';
  return {
    title: `Pruning the bundled model ${id} with pruneModel (${layerCount} prunable layers)${substitute}`,
    notes: [
      `Default recipe (uniform allocation) per method and pattern; ${recipeSummary}. Calibration runs ORT wasm, 1 thread, in both rows.`,
      `Baseline per method and pattern: pruneModel with the CPU jobs = 1.00×. "total" is the wall time of pruneModel (median of ${RUNS} after a warm-up); "jobs" is the report's pruneMs (per-layer pruning, calibration excluded).`,
      '"weights": whether the WebGPU run\'s pruned-weights SHA-256 equals the CPU run\'s (the equivalence contract is in docs/gpu-kernels.md).',
    ],
    columns: [
      { header: 'method' },
      { header: 'pattern' },
      { header: 'path' },
      { header: 'total ms', align: 'right' },
      { header: 'vs CPU', align: 'right' },
      { header: 'jobs ms', align: 'right' },
      { header: 'vs CPU', align: 'right' },
      { header: 'calib. ms', align: 'right' },
      { header: 'weights' },
      { header: 'ran on' },
    ],
    rows,
  };
}
