// The structured stage's quality/latency table (docs/structured.md): a bundled model compressed by
// ZipLM (OBS update on and off, heads and neurons; heads only) and CFSP (neurons) to 90 … 50 % of
// its linear parameters, each export's quality on the model's eval set (LM perplexity, ViT top-1)
// and its latency against the dense model, timed interleaved in the same rounds on ORT WASM.
// A program, not a test: it prints Markdown rows.
//
//   node --import tsx bench/structured.ts [kjv-charlm | digits-vit] [0.9,0.8,0.7,0.6,0.5]
import { bundledModel, openRunner } from '../src/core/calibrate/fixtures/models.ts';
import { compressModel } from '../src/core/compress/pipeline.ts';
import type { ReshapeStageReport } from '../src/core/compress/stage.ts';
import { evaluate } from '../src/core/eval/evaluate.ts';
import { measureModelLatencies } from '../src/core/latency/index.ts';
import { parseRecipe } from '../src/core/recipe/parse.ts';

const which = process.argv[2] ?? 'kjv-charlm';
const sizes = (process.argv[3] ?? '0.9,0.8,0.7,0.6,0.5').split(',').map(Number);
const model = bundledModel(which);

async function quality(bytes: Uint8Array): Promise<string> {
  const runner = await openRunner(bytes);
  try {
    const metrics = await evaluate(runner, model.eval);
    return metrics.task === 'causal-lm' ? `perplexity ${metrics.perplexity.toFixed(3)}` : metrics.task === 'image-classification' ? `top-1 ${(metrics.top1 * 100).toFixed(1)} %` : metrics.task;
  } finally {
    await runner.release();
  }
}

const variants = [
  ['ZipLM, heads and neurons', { method: 'ziplm', remove: 'both', update: true }],
  ['ZipLM, no OBS update', { method: 'ziplm', remove: 'both', update: false }],
  ['ZipLM, heads only', { method: 'ziplm', remove: 'heads', update: true }],
  ['CFSP, neurons', { method: 'cfsp', remove: 'neurons' }],
] as const;

console.log(`${which}: dense ${await quality(model.bytes)}`);
console.log('| size kept | method | linear params kept | file bytes | quality | latency dense → compressed (median ms per pass) | × | stage |');
console.log('|---|---|---|---|---|---|---|---|');
for (const size of sizes) {
  for (const [name, stage] of variants) {
    const recipe = parseRecipe({ version: 2, seed: 0, calibration: { samples: 32, mode: 'one-pass' }, stages: [{ kind: 'structured', ...stage, target: { size } }] });
    try {
      const out = await compressModel({ model: model.model, analysis: model.analysis, recipe, calibSet: model.calib, createRunner: openRunner });
      const [dense, compressed] = await measureModelLatencies([model.bytes, out.bytes], openRunner, { seq: 128, repeats: 30 });
      const report = out.report.stages[0] as ReshapeStageReport;
      const kept = (report.linearParamsAfter / report.linearParamsBefore).toFixed(3);
      console.log(`| ${size} | ${name} | ${kept} | ${out.bytes.length} | ${await quality(out.bytes)} | ${dense.medianMs.toFixed(2)} → ${compressed.medianMs.toFixed(2)} | ${(dense.medianMs / compressed.medianMs).toFixed(2)} | ${report.summary} |`);
    } catch (e) {
      console.log(`| ${size} | ${name} | refused: ${(e as Error).message.split('\n')[0]} | | | | | |`);
    }
  }
}
