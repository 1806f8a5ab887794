// Recipes: parsing with defaults and field-naming errors, and validation messages for every
// impossible value, checked on the digits ViT's analysis (no session is opened).
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../calibrate/fixtures/models.ts';
import { DEFAULT_RECIPE, defaultRecipe, needsCalibration } from './defaults.ts';
import { describeRecipe } from './describe.ts';
import { prunableLayers } from './layers.ts';
import { parseRecipe, RecipeError } from './parse.ts';
import type { PruneRecipe } from './types.ts';
import { validateRecipe } from './validate.ts';

const { analysis } = bundledModel('digits-vit');
const recipe = (json: unknown): PruneRecipe => parseRecipe(json);
const problems = (json: unknown, calibSize = 128) => validateRecipe(recipe(json), analysis, calibSize);

describe('parseRecipe', () => {
  test('an empty object is the defaults; the defaults round-trip through JSON', () => {
    expect(parseRecipe({})).toEqual(DEFAULT_RECIPE);
    expect(parseRecipe(JSON.parse(JSON.stringify(DEFAULT_RECIPE)))).toEqual(DEFAULT_RECIPE);
    expect(DEFAULT_RECIPE).toMatchObject({ method: 'wanda', sparsity: 0.5, calibration: { samples: 32, seed: 0, mode: 'sequential' }, sparseGpt: { blockSize: 128, percDamp: 0.01 } });
    expect(defaultRecipe()).not.toBe(defaultRecipe());
  });

  test('patterns as text or objects; structured patterns imply their sparsity', () => {
    expect(recipe({ pattern: '2:4' })).toMatchObject({ pattern: { kind: 'nm', n: 2, m: 4 }, sparsity: 0.5 });
    expect(recipe({ pattern: '1:4' }).sparsity).toBe(0.75);
    expect(recipe({ pattern: '64:2:8' })).toMatchObject({ pattern: { kind: 'vnm', v: 64, n: 2, m: 8 }, sparsity: 0.75 });
    expect(recipe({ pattern: { kind: 'nm', n: 4, m: 8 } }).sparsity).toBe(0.5);
    expect(recipe({ pattern: 'unstructured', sparsity: 0.3 }).pattern).toEqual({ kind: 'unstructured' });
  });

  test('wrong types and unknown fields are all reported, each by its path', () => {
    const error = (() => {
      try {
        parseRecipe({ method: 'obd', sparsity: '50%', calibration: { samples: 'many', sede: 1 }, pattern: '2-4', extra: true });
      } catch (e) {
        return e as RecipeError;
      }
      throw new Error('parseRecipe accepted a broken recipe');
    })();
    expect(error).toBeInstanceOf(RecipeError);
    expect(error.problems).toEqual([
      'recipe.extra is not a recipe field (known: version, method, magnitudeScope, pattern, sparsity, allocation, calibration, sparseGpt, layers)',
      'pattern "2-4" is not "unstructured", "N:M" or "V:N:M"',
      'calibration.sede is not a recipe field (known: samples, seed, mode, batchSize, outputSample)',
      'recipe.method must be one of "magnitude", "wanda", "sparsegpt", got "obd"',
      'recipe.sparsity must be a finite number, got "50%"',
      'calibration.samples must be a finite number, got "many"',
    ]);
    expect(() => parseRecipe([])).toThrow(/recipe must be an object/);
    expect(() => parseRecipe({ version: 2 })).toThrow(/version 2 is not supported/);
  });
});

describe('validateRecipe', () => {
  test('the defaults and the usual recipes are valid on the digits ViT', () => {
    for (const json of [{}, { method: 'sparsegpt', pattern: '2:4' }, { method: 'magnitude', magnitudeScope: 'global' }, { pattern: '4:8', allocation: { kind: 'owl' } }, { pattern: '32:2:8' }]) {
      expect(problems(json)).toEqual([]);
    }
  });

  test('sparsity outside [0, 1)', () => {
    expect(problems({ sparsity: 1 })).toContain('sparsity must be in [0, 1), got 1');
    expect(problems({ sparsity: -0.1 })).toContain('sparsity must be in [0, 1), got -0.1');
  });

  test('N >= M, and a sparsity that contradicts the pattern', () => {
    expect(problems({ pattern: '4:4' })).toContain('pattern 4:4: N (weights kept per group) must be less than M, got N = 4 >= M = 4');
    expect(problems({ pattern: '2:4', sparsity: 0.6 })).toContain('sparsity 0.6 contradicts pattern 2:4, which prunes 0.5; leave sparsity out or set it to 0.5');
  });

  test('M not dividing C_in names the layers', () => {
    const found = problems({ pattern: '2:6' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^pattern 2:6: M = 6 does not divide C_in of blocks\.0\.attn\.q_proj \(64 x 64\); .*; and 20 more$/);
    expect(problems({ method: 'sparsegpt', pattern: '2:4', sparseGpt: { blockSize: 6 } })).toContain('pattern 2:4: SparseGPT needs M = 4 to divide its blockSize 6');
  });

  test('V not dividing the rows of a layer names it', () => {
    expect(problems({ pattern: '64:2:8', layers: { includeHead: true } })).toEqual(['pattern 64:2:8: V = 64 does not divide the rows (C_out) of head (10 x 64)']);
    expect(problems({ pattern: '32:3:8' })).toContain("pattern 32:3:8: V:N:M keeps N = 2 per row (VENOM's format), got N = 3");
  });

  test('no linear layers, nothing left to prune, unknown skip names', () => {
    expect(validateRecipe(defaultRecipe(), { ...analysis, linears: [] })).toContain('the model has no linear layers (MatMul/Gemm by a 2-D weight) to prune');
    const all = analysis.linears.map((l) => l.name);
    expect(problems({ layers: { skip: all } })[0]).toMatch(/^no layer is left to prune/);
    expect(problems({ layers: { skip: ['blocks.9.mlp'] } })).toContain('layers.skip names no linear layer: "blocks.9.mlp"');
  });

  test('calibration samples: at least 1, at most what the set holds', () => {
    expect(problems({ calibration: { samples: 0 } })).toContain('calibration.samples must be an integer >= 1, got 0');
    expect(problems({ calibration: { samples: 200 } })).toContain('calibration.samples = 200 is more than the calibration set holds (128)');
    expect(problems({ calibration: { samples: 2.5 } })).toContain('calibration.samples must be an integer >= 1, got 2.5');
  });

  test('unknown method (a recipe built in code, not parsed)', () => {
    expect(validateRecipe({ ...defaultRecipe(), method: 'obs' as PruneRecipe['method'] }, analysis)).toContain('unknown method "obs" (known: magnitude, wanda, sparsegpt)');
  });

  test('allocation combinations that cannot work', () => {
    expect(problems({ pattern: '32:2:8', allocation: { kind: 'owl' } })).toContain('allocation owl needs per-layer sparsities, which V:N:M (fixed density 2/M) cannot express; use uniform');
    expect(problems({ method: 'magnitude', magnitudeScope: 'global', pattern: '2:4' })).toContain('magnitude with global scope compares all layers at once: it needs the unstructured pattern');
    expect(problems({ allocation: { kind: 'owl', tokenSelection: true } })).toContain('allocation.tokenSelection is TAMP\'s token selection: it needs allocation "tamp", not "owl"');
    expect(problems({ method: 'sparsegpt', allocation: { kind: 'tamp', tokenSelection: true } })).toContain("allocation.tokenSelection changes Wanda's ‖X_j‖ only; method sparsegpt does not use it");
    expect(problems({ allocation: { kind: 'sensitivity' }, sparsity: 0.97 })).toContain('allocation sensitivity caps layers at 0.95: target 0.97 is too high');
  });
});

describe('layer selection and summaries', () => {
  test('embeddings always stay dense, the head unless includeHead', () => {
    const names = (json: unknown) => prunableLayers(analysis, recipe(json)).map((l) => l.name);
    expect(names({})).toHaveLength(24);
    expect(names({})).not.toContain('patch_embed');
    expect(names({ layers: { includeHead: true } })).toContain('head');
    expect(names({ layers: { skip: ['blocks.0.mlp.fc1'] } })).toHaveLength(23);
  });
  test('describeRecipe and needsCalibration', () => {
    expect(describeRecipe(recipe({ method: 'magnitude' }))).toBe('magnitude (layer), unstructured, 50.0% target, uniform allocation, no calibration');
    expect(describeRecipe(recipe({ method: 'sparsegpt', pattern: '2:4', calibration: { mode: 'one-pass', samples: 16 } }))).toBe(
      'sparsegpt, 2:4, 50.0% target, uniform allocation, 16 samples, seed 0, one-pass',
    );
    expect(needsCalibration(recipe({ method: 'magnitude' }))).toBe(false);
    expect(needsCalibration(recipe({ method: 'magnitude', allocation: { kind: 'owl' } }))).toBe(true);
  });
});
