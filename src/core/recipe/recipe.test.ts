// Recipes: version-2 documents with defaults, version-1 documents migrated, field-path errors for
// every wrong type, unknown field or version (hostile input included), and validation messages
// for every impossible value, checked on the digits ViT's analysis (no session is opened).
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../calibrate/fixtures/models.ts';
import { DEFAULT_RECIPE, defaultRecipe } from './defaults.ts';
import { describeRecipe } from './describe.ts';
import { prunableLayers } from './layers.ts';
import { modelMismatch } from './model.ts';
import { parseRecipe, parseRecipeText, RecipeError } from './parse.ts';
import { defaultPruneStage, type PruneStage } from './stages/prune.ts';
import type { Recipe } from './types.ts';
import { neededStatistics, needsCalibration, validateRecipe } from './validate.ts';

const { analysis } = bundledModel('digits-vit');
/** A version-2 document with one prune stage holding `stage`'s fields. */
const v2 = (stage: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) => ({ version: 2, stages: [{ kind: 'prune', ...stage }], ...rest });
const stageOf = (recipe: Recipe) => recipe.stages[0] as PruneStage;
const problems = (stage: Record<string, unknown>, rest: Record<string, unknown> = {}, calibSize = 128) => validateRecipe(parseRecipe(v2(stage, rest)), analysis, calibSize);

/** The RecipeError parseRecipe throws for `json`. */
function refusal(json: unknown): RecipeError {
  try {
    parseRecipe(json);
  } catch (e) {
    if (e instanceof RecipeError) return e;
    throw e;
  }
  throw new Error('parseRecipe accepted a broken recipe');
}

describe('parseRecipe: version 2', () => {
  test('one prune stage with no fields is the defaults; the defaults round-trip through JSON', () => {
    expect(parseRecipe(v2())).toEqual(DEFAULT_RECIPE);
    expect(parseRecipe(JSON.parse(JSON.stringify(DEFAULT_RECIPE)))).toEqual(DEFAULT_RECIPE);
    expect(DEFAULT_RECIPE).toMatchObject({ version: 2, seed: 0, calibration: { samples: 32, mode: 'sequential' }, stages: [{ kind: 'prune', method: 'wanda', pattern: { kind: 'unstructured', sparsity: 0.5 } }] });
    expect(stageOf(DEFAULT_RECIPE).sparseGpt).toEqual({ blockSize: 128, percDamp: 0.01 });
    expect(defaultRecipe()).not.toBe(defaultRecipe());
  });

  test('patterns as text or objects; structured patterns imply their sparsity', () => {
    const pattern = (stage: Record<string, unknown>) => stageOf(parseRecipe(v2(stage))).pattern;
    expect(pattern({ pattern: '2:4' })).toEqual({ kind: 'nm', n: 2, m: 4 });
    expect(pattern({ pattern: '64:2:8' })).toEqual({ kind: 'vnm', v: 64, n: 2, m: 8 });
    expect(pattern({ pattern: { kind: 'nm', n: 4, m: 8 }, sparsity: 0.5 })).toEqual({ kind: 'nm', n: 4, m: 8 });
    expect(pattern({ pattern: 'unstructured', sparsity: 0.3 })).toEqual({ kind: 'unstructured', sparsity: 0.3 });
    expect(pattern({ pattern: { kind: 'unstructured', sparsity: 0.3 } })).toEqual({ kind: 'unstructured', sparsity: 0.3 });
    expect(pattern({ sparsity: 0.7 })).toEqual({ kind: 'unstructured', sparsity: 0.7 });
  });

  test('model, seed and calibration', () => {
    const sha256 = 'a'.repeat(64);
    expect(parseRecipe(v2({}, { model: { id: 'digits-vit', sha256 }, seed: 7, calibration: { samples: 4, mode: 'one-pass' } }))).toMatchObject({
      model: { id: 'digits-vit', sha256 },
      seed: 7,
      calibration: { samples: 4, mode: 'one-pass', batchSize: 8, outputSample: 256 },
    });
    expect(modelMismatch({ id: 'kjv-charlm' }, { id: 'digits-vit' })).toBe('model.id: the recipe is for "kjv-charlm", not "digits-vit"');
    expect(modelMismatch({ sha256 }, { sha256 })).toBeUndefined();
    expect(modelMismatch(undefined, { id: 'x' })).toBeUndefined();
  });
});

describe('parseRecipe: version 1 migrates', () => {
  test('a flat version-1 recipe becomes one prune stage; its seed moves to the top', () => {
    const v1 = { version: 1, method: 'sparsegpt', pattern: '2:4', calibration: { samples: 16, seed: 3, mode: 'one-pass' }, layers: { includeHead: true } };
    const expected: Recipe = {
      version: 2,
      seed: 3,
      calibration: { samples: 16, mode: 'one-pass', batchSize: 8, outputSample: 256 },
      stages: [{ ...defaultPruneStage(), method: 'sparsegpt', pattern: { kind: 'nm', n: 2, m: 4 }, layers: { includeHead: true, skip: [] } } as PruneStage],
    };
    expect(parseRecipe(v1)).toEqual(expected);
    const { version: _, ...withoutVersion } = v1;
    expect(parseRecipe(withoutVersion)).toEqual(expected);
    expect(parseRecipe({})).toEqual(DEFAULT_RECIPE);
  });

  test("a version-1 recipe's problems keep its own paths", () => {
    expect(refusal({ method: 'obd', calibration: { sede: 1 } }).problems).toEqual(['calibration.sede: unknown field', 'method: must be one of "magnitude", "wanda", "sparsegpt", got a string ("obd")']);
  });
});

describe('parseRecipe refuses, naming the path', () => {
  test('an unknown field in a stage, exactly', () => {
    const error = refusal(v2({ bogusField: 1 }));
    expect(error.problems).toEqual(['stages[0].bogusField: unknown field']);
    expect(error.message).toBe('invalid recipe: stages[0].bogusField: unknown field');
  });

  test('wrong types, unknown fields and kinds are all reported, each by its path', () => {
    const error = refusal({
      version: 2,
      extra: true,
      seed: '1',
      calibration: { samples: 'many', seed: 1 },
      stages: [{ kind: 'prune', method: 'obd', sparsity: '50%', pattern: '2-4', allocation: { kind: 'owl', x: 1 }, layers: { skip: ['a', 3] } }, { kind: 'quantise' }, 5],
    });
    expect(error.problems).toEqual([
      'seed: must be a finite number, got a string ("1")',
      'calibration.samples: must be a finite number, got a string ("many")',
      'calibration.seed: unknown field',
      'stages[0].method: must be one of "magnitude", "wanda", "sparsegpt", got a string ("obd")',
      'stages[0].sparsity: must be a finite number, got a string ("50%")',
      'stages[0].pattern: a string ("2-4") is not "unstructured", "N:M" or "V:N:M"',
      'stages[0].layers.skip[1]: must be a string, got 3',
      'stages[0].allocation.x: unknown field',
      'stages[1].kind: unknown stage kind "quantise" (known: prune, quantize, attention, structured, slice, lowrank, bitstack)',
      'stages[2]: must be an object, got 5',
      'extra: unknown field',
    ]);
    expect(error.message.split('\n')[0]).toBe('invalid recipe: seed: must be a finite number, got a string ("1")');
  });

  test('unknown versions, missing stages, non-objects', () => {
    expect(refusal({ version: 3 }).message).toBe('invalid recipe: version: 3 is not supported (this lab reads versions 1 and 2)');
    expect(refusal({ version: '2' }).problems).toEqual(['version: a string ("2") is not supported (this lab reads versions 1 and 2)']);
    expect(refusal({ version: 2 }).problems).toEqual(['stages: required: a list of stages, e.g. [{"kind": "prune", "method": "wanda"}]']);
    expect(refusal({ version: 2, stages: [] }).problems).toEqual(['stages: must hold at least one stage']);
    expect(refusal({ version: 2, stages: [{ method: 'wanda' }] }).problems[0]).toBe('stages[0].kind: required: one of "prune", "quantize", "attention", "structured", "slice", "lowrank", "bitstack", got undefined');
    expect(refusal([]).message).toBe('invalid recipe: a recipe must be a JSON object, got an array of 0');
    expect(refusal(null).message).toBe('invalid recipe: a recipe must be a JSON object, got null');
  });

  test('a pattern object and a contradicting sparsity', () => {
    expect(refusal(v2({ pattern: { n: 2, m: 4 } })).problems).toEqual(['stages[0].pattern.kind: required ("unstructured", "nm" or "vnm")', 'stages[0].pattern.n: unknown field', 'stages[0].pattern.m: unknown field']);
    expect(refusal(v2({ pattern: { kind: 'nm', n: 2 } })).problems).toEqual(['stages[0].pattern.m: required for a pattern of kind "nm"']);
    expect(refusal(v2({ pattern: '2:4', sparsity: 0.6 })).problems).toEqual(['stages[0].sparsity: 0.6 contradicts pattern 2:4, which prunes 0.5; leave sparsity out or set it to 0.5']);
  });

  test('hostile input: deep nesting, huge strings and arrays give short messages, never a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    const text = `{"version": 2, "stages": [{"kind": "prune", "layers": ${'['.repeat(100_000)}${']'.repeat(100_000)}}], "calibration": ${'{"x":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
    const manyKeys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    const cases = [
      () => parseRecipe(v2({ allocation: deep, pattern: deep })),
      () => parseRecipeText(text),
      () => parseRecipe(v2({ method: 'x'.repeat(1_000_000) })),
      () => parseRecipe(v2({ ['y'.repeat(1_000_000)]: 1 })),
      () => parseRecipe(v2({ kind: 'z'.repeat(1_000_000) })),
      () => parseRecipe(v2(manyKeys)),
    ];
    for (const run of cases) {
      const error = (() => {
        try {
          run();
        } catch (e) {
          return e as Error;
        }
        throw new Error('accepted');
      })();
      expect(error).toBeInstanceOf(RecipeError);
      expect(error.message.length).toBeLessThan(1000);
      expect(error.message.split('\n')[0].length).toBeLessThan(200);
    }
    expect(() => parseRecipeText(text)).toThrow('invalid recipe: calibration.x: unknown field\n  - stages[0].layers: must be an object, got an array of 1');
    expect(() => parseRecipeText('{"version": 2,')).toThrow(/^invalid recipe: not valid JSON/);
  });
});

describe('validateRecipe', () => {
  test('the defaults and the usual recipes are valid on the digits ViT', () => {
    for (const stage of [{}, { method: 'sparsegpt', pattern: '2:4' }, { method: 'magnitude', magnitudeScope: 'global' }, { pattern: '4:8', allocation: { kind: 'owl' } }, { pattern: '32:2:8' }]) {
      expect(problems(stage)).toEqual([]);
    }
  });

  test('sparsity outside [0, 1)', () => {
    expect(problems({ sparsity: 1 })).toContain('stages[0].pattern: sparsity must be in [0, 1), got 1');
    expect(problems({ sparsity: -0.1 })).toContain('stages[0].pattern: sparsity must be in [0, 1), got -0.1');
  });

  test('N >= M', () => {
    expect(problems({ pattern: '4:4' })).toEqual(['stages[0].pattern: N:M needs N < M (N is the number kept per group of M), got 4:4']);
  });

  test('M not dividing C_in names the layers', () => {
    const found = problems({ pattern: '2:6' });
    expect(found).toHaveLength(2); // C_in 64 (attention, fc1) and 256 (fc2)
    expect(found[0]).toMatch(/^stages\[0\]\.pattern: N:M: M = 6 must divide C_in = 64 \(ragged tail groups are not supported\) in blocks\.0\.attn\.q_proj \(64 x 64\); .*; and \d+ more$/);
    expect(problems({ method: 'sparsegpt', pattern: '2:4', sparseGpt: { blockSize: 6 } })).toContain('stages[0].sparseGpt.blockSize: SparseGPT needs M = 4 of pattern 2:4 to divide its blockSize 6');
  });

  test('V not dividing the rows of a layer names it', () => {
    expect(problems({ pattern: '64:2:8', layers: { includeHead: true } })).toEqual(['stages[0].pattern: V:N:M needs V to divide C_out: V = 64 does not divide 10 rows in head (10 x 64)']);
    expect(problems({ pattern: '7:2:8' })[0]).toMatch(/^stages\[0\]\.pattern: V:N:M needs V to divide C_out: V = 7 does not divide/);
  });

  test('layers: unknown names, nothing left', () => {
    const all = analysis.linears.map((l) => l.name);
    expect(problems({ layers: { skip: all } })).toContain('stages[0].layers: no layer is left to prune (embeddings and the head are excluded unless layers.includeHead; see layers.skip)');
    expect(problems({ layers: { skip: ['blocks.9.mlp'] } })).toContain('stages[0].layers.skip: names no linear layer: "blocks.9.mlp"');
  });

  test('calibration samples: at least 1, at most what the set holds', () => {
    expect(problems({}, { calibration: { samples: 0 } })).toContain('calibration.samples: must be an integer >= 1, got 0');
    expect(problems({}, { calibration: { samples: 200 } })).toContain('calibration.samples = 200 is more than the calibration set holds (128)');
    expect(problems({}, { calibration: { samples: 2.5 } })).toContain('calibration.samples: must be an integer >= 1, got 2.5');
    expect(problems({}, { seed: -1 })).toContain('seed: must be an integer in [0, 2^32), got -1');
    // Magnitude with uniform allocation runs no calibration, so its settings do not matter.
    expect(problems({ method: 'magnitude' }, { calibration: { samples: 0 } })).toEqual([]);
  });

  test('unknown method or stage kind (a recipe built in code, not parsed)', () => {
    const recipe = defaultRecipe();
    recipe.stages = [{ ...defaultPruneStage(), method: 'obs' as PruneStage['method'] } as PruneStage, { kind: 'quantise' }];
    expect(validateRecipe(recipe, analysis)).toEqual(['stages[0].method: unknown method "obs" (known: magnitude, wanda, sparsegpt)', 'stages[1].kind: unknown stage kind "quantise" (known: prune, quantize, attention, structured, slice, lowrank, bitstack)']);
  });

  test('allocation combinations that cannot work', () => {
    expect(problems({ pattern: '32:2:8', allocation: { kind: 'owl' } })).toContain('stages[0].allocation.kind: owl needs per-layer sparsities, which V:N:M (fixed density 2/M) cannot express; use uniform');
    expect(problems({ method: 'magnitude', magnitudeScope: 'global', pattern: '2:4' })).toContain('stages[0].magnitudeScope: global compares all layers at once: it needs the unstructured pattern');
    expect(problems({ allocation: { kind: 'owl', tokenSelection: true } })).toContain('stages[0].allocation.tokenSelection: is TAMP\'s token selection: it needs allocation "tamp", not "owl"');
    expect(problems({ method: 'sparsegpt', allocation: { kind: 'tamp', tokenSelection: true } })).toContain("stages[0].allocation.tokenSelection: changes Wanda's ‖X_j‖ only; method sparsegpt does not use it");
    expect(problems({ allocation: { kind: 'sensitivity' }, sparsity: 0.97 })).toContain('stages[0].allocation.kind: sensitivity caps layers at 0.95: target 0.97 is too high');
    expect(problems({ allocation: { kind: 'tamp' } }, { calibration: { outputSample: 1 } })).toContain('stages[0].allocation.kind: tamp needs calibration.outputSample >= 2 output tokens per layer');
  });
});

describe('layer selection and summaries', () => {
  test('embeddings always stay dense, the head unless includeHead', () => {
    const names = (stage: Record<string, unknown>) => prunableLayers(analysis, stageOf(parseRecipe(v2(stage)))).map((l) => l.name);
    expect(names({})).toHaveLength(24);
    expect(names({})).not.toContain('patch_embed');
    expect(names({ layers: { includeHead: true } })).toContain('head');
    expect(names({ layers: { skip: ['blocks.0.mlp.fc1'] } })).toHaveLength(23);
  });

  test('describeRecipe and needsCalibration', () => {
    expect(describeRecipe(parseRecipe(v2({ method: 'magnitude' })))).toBe('magnitude (layer), unstructured, 50.0% target, uniform allocation, no calibration');
    expect(describeRecipe(parseRecipe(v2({ method: 'sparsegpt', pattern: '2:4' }, { calibration: { mode: 'one-pass', samples: 16 } })))).toBe(
      'sparsegpt, 2:4, 50.0% target, uniform allocation, 16 samples, seed 0, one-pass',
    );
    expect(needsCalibration(parseRecipe(v2({ method: 'magnitude' })))).toBe(false);
    expect(needsCalibration(parseRecipe(v2({ method: 'magnitude', allocation: { kind: 'owl' } })))).toBe(true);
  });

  test('only SparseGPT and the sensitivity allocator ask for H; the others keep an input sample for the estimated error', () => {
    const needs = (stage: Record<string, unknown>) => {
      const { dense, step } = neededStatistics(parseRecipe(v2(stage)));
      return { dense: [...dense].sort(), step: [...step].sort() };
    };
    expect(needs({ method: 'wanda' })).toEqual({ dense: [], step: ['inputSample', 'sqNorm'] });
    expect(needs({ method: 'magnitude' })).toEqual({ dense: [], step: [] });
    expect(needs({ method: 'sparsegpt' })).toEqual({ dense: [], step: ['hessian', 'sqNorm'] });
    expect(needs({ method: 'wanda', allocation: { kind: 'owl' } })).toEqual({ dense: ['inputSample', 'sqNorm'], step: ['inputSample', 'sqNorm'] });
    expect(needs({ method: 'magnitude', allocation: { kind: 'tamp' } })).toEqual({ dense: ['inputSample', 'outputs', 'sqNorm'], step: [] });
    expect(needs({ method: 'wanda', allocation: { kind: 'tamp', tokenSelection: true } })).toEqual({ dense: ['attention', 'inputSample', 'outputs', 'sqNorm'], step: ['attention', 'inputSample', 'sqNorm'] });
    // Sensitivity measures every layer's error at seven ratios from H: exact, as before.
    expect(needs({ method: 'wanda', allocation: { kind: 'sensitivity' } }).dense).toEqual(['hessian', 'sqNorm']);
  });
});
