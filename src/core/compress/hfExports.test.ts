// Wanda, SparseGPT and GPTQ 4-bit (packed) on generated 2-block Hugging Face exports (npm run
// gen:hf: GPT-2 and a Llama shape with grouped-query attention and external data), calibrated on
// windows of the bundled corpus's text through every input the graph takes (mask, positions, an
// empty KV cache). Each run must take the block-by-block path, and the compressed model must run
// in onnxruntime-web with finite logits and a perplexity close to the dense model's (random
// weights: both near the vocabulary size).
import { beforeAll, describe, expect, test } from 'vitest';
import { lmPerplexity, openRunner } from '../calibrate/fixtures/models.ts';
import { datasetMismatch } from '../eval/compat.ts';
import { exportGraph } from '../hf/exportFolder.ts';
import { openHfFolder, type OpenedHfFolder } from '../hf/openFolder.ts';
import { corpusText, diskEntries, generatedFolder } from '../hf/testing/generatedFolders.ts';
import { splitText, type TextSplit } from '../hf/textData.ts';
import { readModel, resolveExternalData, writeModel } from '../onnx/index.ts';
import { parseRecipe } from '../recipe/index.ts';
import { compressModel } from './pipeline.ts';

const RECIPES = {
  wanda: { version: 2, seed: 0, calibration: { samples: 6, mode: 'sequential' }, stages: [{ kind: 'prune', method: 'wanda', pattern: 'unstructured', sparsity: 0.5 }] },
  sparsegpt: { version: 2, seed: 0, calibration: { samples: 6, mode: 'sequential' }, stages: [{ kind: 'prune', method: 'sparsegpt', pattern: 'unstructured', sparsity: 0.5 }] },
  'gptq 4-bit': { version: 2, seed: 0, calibration: { samples: 6, mode: 'sequential' }, stages: [{ kind: 'quantize', method: 'gptq', bits: 4, granularity: 'group', groupSize: 16, export: 'packed' }] },
} as const;

describe.each(['gpt2', 'llama'] as const)('generated 2-block %s export', (which) => {
  let folder: OpenedHfFolder;
  let split: TextSplit;
  let dense: number;
  beforeAll(async () => {
    folder = await openHfFolder(diskEntries(generatedFolder(which)));
    split = splitText(corpusText(), folder.tokenizer!.tokenizer, { seqLen: 24, calibShare: 0.4, seed: 0 });
    dense = await lmPerplexity(writeModel(folder.model), split.eval);
  });

  test('the evaluation set fits its inputs (no "takes N inputs" refusal)', () => {
    expect(folder.analysis.inputs.length).toBeGreaterThan(1);
    expect(datasetMismatch(folder.analysis, split.eval)).toBeUndefined();
    expect(Number.isFinite(dense)).toBe(true);
  });

  test.each(Object.keys(RECIPES) as (keyof typeof RECIPES)[])('%s: block by block; the export runs in ORT with a plausible perplexity', async (method) => {
    const outcome = await compressModel({ model: folder.model, analysis: folder.analysis, recipe: parseRecipe(RECIPES[method]), calibSet: split.calib, createRunner: openRunner });
    expect(outcome.report.calibration).toMatchObject({ sequence: 'blockwise', samples: 6 });
    expect(outcome.report.notes.join(' ')).not.toContain('ran the whole model');
    if (method === 'gptq 4-bit') expect(outcome.report.totals.packedLayers).toBe(which === 'gpt2' ? 8 : 14);
    else expect(outcome.report.totals.achievedSparsityPruned).toBeCloseTo(0.5, 2);
    // The graph as the export folder writes it (external data for the Llama folder), read back.
    const graph = exportGraph(outcome.model, method === 'gptq 4-bit' ? 'q4' : 'fp32', folder.externalDataBytes > 0);
    expect(graph.externalData !== undefined).toBe(which === 'llama');
    const reread = readModel(graph.model);
    if (graph.externalData) resolveExternalData(reread, new Map([[method === 'gptq 4-bit' ? 'model_q4.onnx_data' : 'model.onnx_data', graph.externalData]]));
    const compressed = await lmPerplexity(writeModel(reread), split.eval);
    expect(Number.isFinite(compressed)).toBe(true);
    expect(compressed / dense).toBeGreaterThan(0.8);
    expect(compressed / dense).toBeLessThan(1.25);
  }, 120_000);
});
