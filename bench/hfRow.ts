// One row of `npm run bench:hf` (bench/hf.ts), in its own process so its peak memory is its own
// (WebAssembly memory never shrinks, so a process that ran one model's sessions cannot measure
// the next). Loads a model (.onnx, with external data when it has some), analyses it, compresses
// it with one method on 16 × 128 calibration tokens, and writes the result to --out:
//   --path streamed   compressStreamed: weights read by range, written to --out as produced
//   --path whole      compressModel on the model read whole (external data inlined), writeModel
// Prints one JSON line on stdout: times, peak RSS (VmHWM) and the sampled RSS curve's maximum.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { compressModel } from '../src/core/compress/index.ts';
import { compressStreamed } from '../src/core/compress/streamed.ts';
import { parseDataset, type LmTokenDataset } from '../src/core/eval/datasets.ts';
import type { ModelRunner } from '../src/core/eval/runner.ts';
import { mulberry32 } from '../src/core/calibrate/random.ts';
import { analyzeModel } from '../src/core/model/index.ts';
import { readModel } from '../src/core/onnx/index.ts';
import { resolveModelWeights, weightSources } from '../src/core/onnx/lazyTensors.ts';
import { defaultRecipe } from '../src/core/recipe/defaults.ts';
import { defaultQuantizeStage } from '../src/core/recipe/stages/quantize.ts';
import type { Recipe } from '../src/core/recipe/types.ts';
import { fileWeightSink, modelWeightSources } from '../src/cli/weightFiles.ts';
import { createRunner } from '../src/runtime/ort.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    method: { type: 'string' },
    path: { type: 'string', default: 'streamed' },
    samples: { type: 'string', default: '16' },
    'seq-len': { type: 'string', default: '128' },
    out: { type: 'string' },
  },
});
const modelPath = values.model!;
const method = values.method as 'wanda' | 'sparsegpt' | 'gptq';
const samples = Number(values.samples);
const seqLen = Number(values['seq-len']);
const log = (line: string) => console.error(`[bench hf] ${line}`);

function vmHwm(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** RSS sampled every 100 ms: the curve's maximum, and where in the run it was reached. */
const rss = { max: 0, at: '' };
let phase = 'start';
const sampler = setInterval(() => {
  const now = process.memoryUsage.rss();
  if (now > rss.max) Object.assign(rss, { max: now, at: phase });
}, 100);

function recipeFor(): Recipe {
  const recipe = defaultRecipe();
  recipe.calibration = { ...recipe.calibration, samples, batchSize: 8 };
  if (method === 'gptq') recipe.stages = [defaultQuantizeStage()];
  else (recipe.stages[0] as unknown as { method: string }).method = method;
  return recipe;
}

/** The model folder's calib.json when it has one (gen:gpt2), else seeded uniform token ids over the vocabulary (gen:hf folders have none). */
function calibration(vocab: number): { set: LmTokenDataset; source: string } {
  const card = join(dirname(modelPath), 'calib.json');
  if (existsSync(card)) {
    const set = parseDataset(JSON.parse(readFileSync(card, 'utf8')), 'calib.json') as LmTokenDataset;
    return { set, source: 'calib.json' };
  }
  const random = mulberry32(7);
  const sequences = Array.from({ length: Math.max(samples, 16) }, () => Array.from({ length: seqLen + 1 }, () => Math.floor(random() * vocab)));
  return { set: { kind: 'lm-tokens', seqLen, sequences }, source: `uniform random ids < ${vocab} (mulberry32(7))` };
}

async function openSession(bytes: Uint8Array): Promise<ModelRunner> {
  return (await createRunner(bytes, { backend: 'wasm', numThreads: 1 })).runner;
}

const t0 = performance.now();
const load = loadavg()[0];
const model = readModel(new Uint8Array(readFileSync(modelPath)));
const analysis = analyzeModel(model);
const vocab = analysis.linears.find((l) => l.role === 'head')?.outFeatures ?? 50257;
const loadMs = performance.now() - t0;
phase = 'load';
const sources = await modelWeightSources(model, dirname(modelPath));
// The weights' bytes: the external data, or (no external data) the .onnx file itself.
const weightBytes = sources.length > 0 ? sources.reduce((n, s) => n + s.size, 0) : readFileSync(modelPath).byteLength;
const { set, source: calibSource } = calibration(vocab);
const recipe = recipeFor();
const outDir = values.out!;
mkdirSync(outDir, { recursive: true });
log(`${modelPath}: ${analysis.linears.length} linears, ${analysis.numBlocks} blocks, weights ${(weightBytes / 1e9).toFixed(2)} GB; ${method}, ${values.path}`);
let lastStep = -1;
const onProgress = (p: { phase: string; step?: { index: number; count: number } }) => {
  phase = `${p.phase} ${p.step ? `${p.step.index + 1}/${p.step.count}` : ''}`.trim();
  if (p.step && p.step.index !== lastStep) {
    lastStep = p.step.index;
    log(`  step ${p.step.index + 1}/${p.step.count} at ${((performance.now() - t0) / 1000).toFixed(1)} s, RSS ${(process.memoryUsage.rss() / 1e9).toFixed(2)} GB, peak ${(vmHwm() / 1e9).toFixed(2)} GB`);
  }
};
const start = performance.now();
let calibrationMs = 0;
let outBytes = 0;
if (values.path === 'whole') {
  const whole = await resolveModelWeights(model, weightSources(sources));
  const outcome = await compressModel({ model: whole, analysis, recipe, calibSet: set, createRunner: openSession, onProgress });
  calibrationMs = outcome.report.timings.calibrationMs;
  writeFileSync(join(outDir, 'model.onnx'), outcome.bytes);
  outBytes = outcome.bytes.byteLength;
} else {
  const sink = await fileWeightSink(join(outDir, 'model.onnx_data'));
  const outcome = await compressStreamed({ model, analysis, recipe, calibSet: set, createRunner: openSession, sources: weightSources(sources), sink, onProgress });
  calibrationMs = outcome.timings.calibrationMs;
  writeFileSync(join(outDir, 'model.onnx'), outcome.onnx);
  outBytes = outcome.onnx.byteLength + outcome.dataBytes;
}
const wallMs = performance.now() - start;
clearInterval(sampler);
for (const s of sources) await s.close();
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    model: modelPath,
    method,
    path: values.path,
    linears: analysis.linears.length,
    blocks: analysis.numBlocks,
    weightBytes,
    calibSource,
    samples,
    seqLen,
    loadMs,
    wallMs,
    calibrationMs,
    outBytes,
    peakRss: vmHwm(),
    maxRssKb: usage.maxRSS,
    sampledMax: rss.max,
    sampledMaxAt: rss.at,
    loadAverage: [load, loadavg()[0]],
  }),
);
