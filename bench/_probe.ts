import { readFileSync } from 'node:fs';
import { loadModelFromDisk } from '../src/cli/loadModelDir';
import { pruneModel } from '../src/core/compress';
import { parseDataset } from '../src/core/eval/datasets';
import { analyzeModel } from '../src/core/model';
import { readModel } from '../src/core/onnx';
import { defaultRecipe } from '../src/core/recipe/defaults';
import { createRunner } from '../src/runtime/ort';
const m = loadModelFromDisk('public/models/kjv-charlm');
const calibSet = parseDataset(JSON.parse(readFileSync('public/models/kjv-charlm/calib.json', 'utf8')), 'calib');
const model = readModel(m.bytes);
const analysis = analyzeModel(model);
for (const samples of [8, 8, 16, 32]) for (const mode of ['sequential', 'one-pass'] as const) {
  const recipe = defaultRecipe(); recipe.method = 'wanda'; recipe.calibration.samples = samples; recipe.calibration.mode = mode;
  const t = performance.now();
  const out = await pruneModel({ model, analysis, recipe, calibSet, createRunner: async (bytes) => (await createRunner(bytes, { backend: 'wasm', numThreads: 1 })).runner });
  console.log(samples, mode, (performance.now() - t).toFixed(0), out.report.timings);
}
