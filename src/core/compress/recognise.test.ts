// A model the lab pruned, opened again, is recognised for what it is: compressModel's file,
// re-read and analysed, comes out sparse with the share and pattern the recipe asked for, and its
// metadata_props name the recipe (sorted-key JSON that parses back to the same recipe) and the
// source model. Metadata leaves the weights, and so the weights hash, as they were.
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { CompressionState } from '../model/types.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import { describeRecipe } from '../recipe/describe.ts';
import { parseRecipe, parseRecipeText } from '../recipe/parse.ts';
import { compressModel, type CompressOutcome } from './pipeline.ts';
import { sha256Hex } from './sha256.ts';

const vit = bundledModel('digits-vit');
const calibration = { samples: 8, batchSize: 8, mode: 'sequential' };

async function compress(recipe: unknown, sourceModel?: string, model = vit.model): Promise<CompressOutcome> {
  return compressModel({ model, analysis: analyzeModel(model), recipe: parseRecipe(recipe), calibSet: vit.calib, createRunner: openRunner, sourceModel });
}

function reopened(outcome: CompressOutcome): CompressionState {
  return analyzeModel(readModel(outcome.bytes)).compression;
}

describe('a model pruned by the lab is recognised when opened again', () => {
  test('SparseGPT 2:4: 50 % zeros, 2:4 in all 24 prunable layers, the recipe in its metadata', async () => {
    const outcome = await compress({ version: 2, seed: 1, calibration, stages: [{ kind: 'prune', method: 'sparsegpt', pattern: '2:4' }] }, 'digits-vit');
    const state = reopened(outcome);
    expect(state).toMatchObject({ verdict: 'sparse', zeroShare: 0.5, prunableLayers: 24, patterns: [{ pattern: '2:4', layers: 24 }], packedLayers: 0 });
    // patch_embed and the head stay dense.
    expect(state.layers.filter((layer) => !layer.prunable).map((layer) => [layer.name, layer.zeros])).toEqual([['patch_embed', 0], ['head', 0]]);
    expect(state.description).toBe(
      `pruned: 50.0 % of prunable linear weights are zero (2:4 in 24 of 24 layers); made by the lab on digits-vit: ${describeRecipe(outcome.report.recipe)}`,
    );
    expect(parseRecipeText(state.labMetadata!.recipe!)).toEqual(outcome.report.recipe);
  }, 120_000);

  test('Wanda 50 % unstructured: 50 % zeros, no N:M pattern, the mean over layers 50 % too', async () => {
    const state = reopened(await compress({ version: 2, seed: 1, calibration, stages: [{ kind: 'prune', method: 'wanda', sparsity: 0.5 }] }));
    expect(state).toMatchObject({ verdict: 'sparse', zeroShare: 0.5, meanLayerZeroShare: 0.5, patterns: [] });
    expect(state.description).toMatch(/^pruned: 50\.0 % of prunable linear weights are zero \(unstructured, 24 layers\); made by the lab: wanda, unstructured/);
    expect(state.labMetadata?.sourceModel).toBeNull();
  }, 120_000);

  test('magnitude V:N:M 16:2:8 is recognised with its V', async () => {
    const state = reopened(await compress({ version: 2, seed: 1, calibration, stages: [{ kind: 'prune', method: 'magnitude', pattern: '16:2:8' }] }, 'digits-vit'));
    expect(state).toMatchObject({ verdict: 'sparse', zeroShare: 0.75, patterns: [{ pattern: '16:2:8', layers: 24 }] });
  }, 60_000);
});

describe('the metadata_props compressModel writes', () => {
  const magnitude = { method: 'magnitude', pattern: '2:4' };

  test('one recipe, however written (version 1 or 2, any key order), gives the same bytes', async () => {
    const v2 = await compress({ stages: [{ pattern: '2:4', kind: 'prune', method: 'magnitude' }], version: 2, seed: 1, calibration }, 'digits-vit');
    const v1 = await compress({ ...magnitude, calibration: { mode: 'sequential', seed: 1, batchSize: 8, samples: 8 } }, 'digits-vit');
    expect(Buffer.from(v1.bytes).equals(Buffer.from(v2.bytes))).toBe(true);
    expect(v1.report.weightsSha256).toBe(v2.report.weightsSha256);
  }, 60_000);

  test('are the only change to the file: weights hash and metadata-free file as before they were written', async () => {
    const outcome = await compress({ version: 2, seed: 1, calibration, stages: [{ kind: 'prune', ...magnitude }] });
    expect(readModel(outcome.bytes).metadataProps!.map((entry) => entry.key)).toEqual(['compression_lab.recipe', 'compression_lab.recipe_summary']);
    // Both measured on this recipe with the lab before it wrote metadata_props (commit 9038d8f).
    expect(outcome.report.weightsSha256).toBe('11f18f79cabe110e522a881bafc66661687edac145a7706abe957f87c3e9b17c');
    const { metadataProps: _, ...withoutMetadata } = outcome.model;
    expect(await sha256Hex(writeModel(withoutMetadata))).toBe('5fa4bf7a1fb6f6bcc224dc63dd35f4f1fd36ac97a92931b5915787e8c9894849');
    expect(outcome.report.fileSha256).not.toBe('5fa4bf7a1fb6f6bcc224dc63dd35f4f1fd36ac97a92931b5915787e8c9894849');
  }, 60_000);

  test("compressing a compressed model replaces the lab's entries and keeps the file's own", async () => {
    const first = await compress({ version: 2, seed: 1, calibration, stages: [{ kind: 'prune', ...magnitude }] }, 'digits-vit');
    const withAuthor = { ...first.model, metadataProps: [{ key: 'author', value: 'someone' }, ...first.model.metadataProps!] };
    const second = await compress({ version: 2, seed: 1, calibration, stages: [{ kind: 'prune', method: 'magnitude', pattern: '1:4' }] }, 'digits-vit.magnitude-2of4', withAuthor);
    const state = reopened(second);
    expect(readModel(second.bytes).metadataProps!.map((entry) => entry.key)).toEqual(['author', 'compression_lab.recipe', 'compression_lab.recipe_summary', 'compression_lab.source_model']);
    expect(state).toMatchObject({ zeroShare: 0.75, patterns: [{ pattern: '1:4', layers: 24 }], labMetadata: { sourceModel: 'digits-vit.magnitude-2of4' } });
    expect(state.labMetadata?.recipeSummary).toContain('1:4');
  }, 60_000);
});
