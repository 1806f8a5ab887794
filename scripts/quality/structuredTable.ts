// The shape-changing methods' quality and latency table (issue 14): every registered shape-changing
// stage kind (structured ZipLM / CFSP, SliceGPT, low rank, BitStack — the METHODS table below; a row
// whose kind is not registered is skipped, so a branch adds a method by adding a row) at 10, 30 and
// 50 % size reduction on the bundled LM and ViT: the metric of the written file, its measured bytes,
// and its MEASURED latency per token (per image for the ViT) beside the dense model's on
// onnxruntime-web wasm in Node (one thread, the two models timed in interleaved rounds). Then the
// latency alone for a generated GPT-2-small-shaped model (npm run gen:hf: d 768, 12 heads of 64,
// MLP 3072, 2 blocks, a 512-token vocabulary so the LM head does not swamp the blocks) at 30 %.
// A program, not a test: it takes minutes. Output: Markdown on stdout (docs/latency.md quotes it).
//
//   npm run quality:structured [-- --levels 0.1,0.3,0.5 --repeats 10 --models kjv-charlm,digits-vit --no-gpt2
//        --methods 'structured,SliceGPT' --gpt2-methods 'structured CFSP,SliceGPT,low,BitStack']
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomTokens } from '../../src/core/calibrate/fixtures/models';
import { compressModel } from '../../src/core/compress';
import { latencyWindow, measureModelLatencies, type ModelLatency } from '../../src/core/latency';
import { analyzeModel } from '../../src/core/model';
import { readModel } from '../../src/core/onnx';
import { parseRecipe, stageKindNames, validateRecipe } from '../../src/core/recipe';
import { datasetSize } from '../../src/core/eval/datasets';
import { evaluateBytes, headline, loadBundled, openWasm, ortVersion, root, type Bundled } from './common';

type StageJson = Record<string, unknown>;

/** One method: its stage kind and its stage at a size reduction r (the share of linear parameters or bytes to remove). */
interface Method {
  label: string;
  kind: string;
  stage: (r: number) => StageJson;
  /** What r sets in the stage, for the notes. */
  meaning: string;
}

const METHODS: Method[] = [
  { label: 'structured ZipLM (heads + neurons)', kind: 'structured', stage: (r) => ({ kind: 'structured', method: 'ziplm', remove: 'both', target: { size: 1 - r } }), meaning: 'target.size = 1 − r (linear parameters kept)' },
  { label: 'structured CFSP (neurons)', kind: 'structured', stage: (r) => ({ kind: 'structured', method: 'cfsp', remove: 'neurons', target: { size: 1 - r } }), meaning: 'target.size = 1 − r' },
  { label: 'SliceGPT', kind: 'slice', stage: (r) => ({ kind: 'slice', keep: 1 - r, rounding: 8 }), meaning: 'keep = 1 − r (embedding dimension kept)' },
  { label: 'low rank SVD-LLM', kind: 'lowrank', stage: (r) => ({ kind: 'lowrank', method: 'svd-llm', rank: { kind: 'ratio', ratio: 1 - r } }), meaning: 'rank.ratio = 1 − r' },
  { label: 'BitStack (packed)', kind: 'bitstack', stage: (r) => ({ kind: 'bitstack', budget: { kind: 'fraction', fraction: 1 - r }, steps: 16, k: 1, export: 'packed' }), meaning: 'budget.fraction = 1 − r' },
];

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '0.1,0.3,0.5' },
    repeats: { type: 'string', default: '10' },
    samples: { type: 'string', default: '32' },
    models: { type: 'string', default: 'kjv-charlm,digits-vit' },
    'no-gpt2': { type: 'boolean', default: false },
    /** Labels' first words to keep (e.g. 'SliceGPT,low,BitStack'); all by default. */
    methods: { type: 'string' },
    /** The GPT-2-small part's methods (its ZipLM database over 3072 neurons takes long on two cores). */
    'gpt2-methods': { type: 'string' },
  },
});
const levels = values.levels!.split(',').map(Number);
const repeats = Number(values.repeats);
const samples = Number(values.samples);
const registered = new Set(stageKindNames());
const pick = (list: string | undefined) => (m: Method) => list === undefined || list.split(',').some((word) => m.label.startsWith(word));
const methods = METHODS.filter((m) => registered.has(m.kind)).filter(pick(values.methods));
const progress = (line: string) => console.error(`[structured table] ${line}`);
const ms = (v: number) => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const recipeOf = (stage: StageJson, calibrationSamples = samples) => parseRecipe({ version: 2, seed: 0, calibration: { samples: calibrationSamples, mode: 'one-pass' }, stages: [stage] });
const oneLine = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 160);

async function latencyPair(dense: Uint8Array, compressed: Uint8Array, seq: number): Promise<[ModelLatency, ModelLatency]> {
  const [a, b] = await measureModelLatencies([dense, compressed], openWasm, { seq, repeats, warmup: 2 });
  return [a, b];
}

async function bundledTable(bundled: Bundled): Promise<string[]> {
  const seq = latencyWindow(bundled.analysis);
  const unit = seq === 1 ? 'image' : 'token';
  const denseMetric = headline(await evaluateBytes(bundled, bundled.bytes));
  const lines = [
    `### ${bundled.card.id}: dense ${denseMetric.label} ${denseMetric.text}, ${bundled.bytes.length.toLocaleString('en-US')} bytes`,
    '',
    `| method | r | ${denseMetric.label} | file bytes (measured) | file vs dense | latency ms/${unit} (measured, median) | dense ms/${unit} | speedup (measured) | compress s |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const method of methods) {
    for (const r of levels) {
      progress(`${bundled.card.id}: ${method.label} at ${r}`);
      const recipe = recipeOf(method.stage(r));
      const problems = validateRecipe(recipe, bundled.analysis, datasetSize(bundled.calibSet));
      if (problems.length > 0) {
        lines.push(`| ${method.label} | ${r} | refused: ${oneLine(problems.join('; '))} | | | | | | |`);
        continue;
      }
      const t0 = performance.now();
      let outcome;
      try {
        outcome = await compressModel({ model: bundled.model, analysis: bundled.analysis, recipe, calibSet: bundled.calibSet, createRunner: openWasm });
      } catch (error) {
        // A target the stage cannot meet is refused at planning, in one line naming the field.
        lines.push(`| ${method.label} | ${r} | refused: ${oneLine((error as Error).message)} | | | | | | |`);
        continue;
      }
      const run = { fileBytes: outcome.bytes.length, metrics: await evaluateBytes(bundled, outcome.bytes), seconds: (performance.now() - t0) / 1000 };
      const [dense, measured] = await latencyPair(bundled.bytes, outcome.bytes, seq);
      const metric = headline(run.metrics);
      lines.push(`| ${method.label} | ${r} | ${metric.text} | ${run.fileBytes.toLocaleString('en-US')} | ${((run.fileBytes / bundled.bytes.length) * 100).toFixed(1)} % | ${ms(measured.perTokenMs)} | ${ms(dense.perTokenMs)} | ×${(dense.medianMs / measured.medianMs).toFixed(2)} | ${run.seconds.toFixed(1)} |`);
    }
  }
  return lines;
}

async function gpt2Table(): Promise<string[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'lab-latency-gpt2-')), 'gpt2');
  progress('generating a GPT-2-small-shaped model (2 blocks, vocabulary 512)…');
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen/hf/main.ts'), '--preset', 'gpt2', '--blocks', '2', '--vocab', '512', '--max-positions', '128', '--layout', 'flat', '--seed', '3', '--out', out], { cwd: root, stdio: 'pipe' });
  const bytes = new Uint8Array(readFileSync(join(out, 'model.onnx')));
  const model = readModel(bytes);
  const analysis = analyzeModel(model);
  const calibSet = randomTokens(16, 64, 512, 7);
  const lines = [
    `### generated GPT-2-small-shaped model (d 768, 12 heads × 64, MLP 3072, 2 blocks, vocabulary 512; seeded weights: latency only)`,
    '',
    '| method | r | file bytes (measured) | latency ms/token (measured, median) | dense ms/token | speedup (measured) |',
    '|---|---|---|---|---|---|',
  ];
  for (const method of methods.filter(pick(values['gpt2-methods']))) {
    const r = 0.3;
    progress(`GPT-2 small: ${method.label} at ${r}`);
    const recipe = recipeOf(method.stage(r), 16);
    const problems = validateRecipe(recipe, analysis, calibSet.sequences.length);
    if (problems.length > 0) {
      lines.push(`| ${method.label} | ${r} | refused: ${oneLine(problems.join('; '))} | | | |`);
      continue;
    }
    try {
      const outcome = await compressModel({ model, analysis, recipe, calibSet, createRunner: openWasm });
      const [dense, measured] = await latencyPair(bytes, outcome.bytes, 128);
      lines.push(`| ${method.label} | ${r} | ${outcome.bytes.length.toLocaleString('en-US')} (dense ${bytes.length.toLocaleString('en-US')}) | ${ms(measured.perTokenMs)} | ${ms(dense.perTokenMs)} | ×${(dense.medianMs / measured.medianMs).toFixed(2)} |`);
    } catch (error) {
      lines.push(`| ${method.label} | ${r} | failed: ${oneLine((error as Error).message)} | | | |`);
    }
  }
  return lines;
}

const started = performance.now();
const load0 = loadavg();
// Each model's table goes out as soon as it is done (a later failure loses nothing).
console.log([
  `## Shape-changing methods: quality, size and measured latency`,
  '',
  `onnxruntime-web ${ortVersion()} wasm in Node ${process.version}, one thread, on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; load average ${load0.map((v) => v.toFixed(2)).join(' / ')} at start (the cores are shared: latencies are medians of ${repeats} interleaved runs, dense and compressed alike, and move with the load). Calibration: ${samples} samples, one-pass, seed 0. r: ${methods.map((m) => `${m.label}: ${m.meaning}`).join('; ')}.`,
  `Methods registered when this ran: ${methods.map((m) => m.label).join(', ')}${METHODS.length > methods.length ? ` (not registered: ${METHODS.filter((m) => !registered.has(m.kind)).map((m) => m.label).join(', ')})` : ''}.`,
  '',
].join('\n'));
for (const id of values.models!.split(',').filter(Boolean)) console.log([...(await bundledTable(loadBundled(join(root, 'public/models', id)))), ''].join('\n'));
if (!values['no-gpt2']) console.log([...(await gpt2Table()), ''].join('\n'));
console.log(`Wall time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end ${loadavg().map((v) => v.toFixed(2)).join(' / ')}.`);
