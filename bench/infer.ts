// Section "infer": is it faster? Time per evaluated token of the bundled LM as written by the lab —
// dense, pruned (SparseGPT 2:4, zeros stored densely), packed (GPTQ 4-bit, groups of 32, as
// MatMulNBits) and both — on the same runtime (onnxruntime-web wasm, one thread), each against the
// dense model measured in the same process. The compressed files come from the recipes in recipes/
// (8 calibration samples: the weights' values do not change the kernels' cost).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledModel, openRunner } from '../src/core/calibrate/fixtures/models.ts';
import { compressModel } from '../src/core/compress/pipeline.ts';
import { evaluatedItems } from '../src/core/eval/datasets.ts';
import { evaluate } from '../src/core/eval/evaluate.ts';
import { parseRecipe } from '../src/core/recipe/parse.ts';
import { createRunner } from '../src/runtime/ort.ts';
import { formatMs, measure, ratio, type Table } from './measure.ts';

const FILES: [label: string, recipe: string | null][] = [
  ['dense', null],
  ['pruned: SparseGPT 2:4 (zeros stored densely)', 'sparsegpt-2of4.json'],
  ['packed: GPTQ 4-bit g32 (MatMulNBits)', 'gptq-4bit-g32.json'],
  ['pruned + packed: SparseGPT 2:4 → GPTQ 4-bit', 'sparsegpt-2of4+gptq-4bit.json'],
  ['low rank: SVD-LLM, 70 % per layer (two MatMuls)', 'lowrank-svdllm-0.7.json'],
  ['BitStack 50 % (packed sign blocks, rebuilt at session start)', 'bitstack-50.json'],
  ['low rank rank 32 → GPTQ 4-bit (MatMulNBits factors)', 'lowrank-r32+gptq-4bit.json'],
];

export async function inferSection(): Promise<Table> {
  const lm = bundledModel('kjv-charlm');
  const tokens = evaluatedItems(lm.eval);
  const rows: string[][] = [];
  let denseMs = NaN;
  for (const [label, recipeFile] of FILES) {
    let bytes = lm.bytes;
    if (recipeFile) {
      const recipe = parseRecipe(JSON.parse(readFileSync(join('recipes', recipeFile), 'utf8')));
      recipe.calibration.samples = 8;
      bytes = (await compressModel({ model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calib, createRunner: openRunner })).bytes;
    }
    const { runner } = await createRunner(bytes, { backend: 'wasm', numThreads: 1 });
    const timing = await measure(() => evaluate(runner, lm.eval), { minMs: 1500 });
    await runner.release();
    if (recipeFile === null) denseMs = timing.ms;
    rows.push([label, `${(bytes.byteLength / 1024).toFixed(0)} KiB`, formatMs(timing.ms), `${((timing.ms / tokens) * 1000).toFixed(1)} µs`, ratio(timing.ms, denseMs)]);
  }
  return {
    title: `Inference time per token: the bundled LM as written by the lab (${tokens} tokens, onnxruntime-web wasm, 1 thread)`,
    notes: ['Baseline: the dense model, evaluated in the same process. Median of repeated full evaluations after a warm-up.', 'Pruned weights are stored densely, so only packed (MatMulNBits) files use different kernels.', 'Low rank runs two smaller products per layer; BitStack\'s packed weights are rebuilt once when the session opens (not in these times), then run dense.'],
    columns: [{ header: 'model file' }, { header: 'size', align: 'right' }, { header: 'eval ms', align: 'right' }, { header: 'per token', align: 'right' }, { header: 'vs dense', align: 'right' }],
    rows,
  };
}
