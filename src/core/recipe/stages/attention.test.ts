// The attention stage's fields: defaults, parse problems and model checks named by field path,
// a fused-attention model refused with the reason and the export hint, description and file tag.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../../calibrate/fixtures/models.ts';
import { analyzeModel } from '../../model/analyze.ts';
import { floatInit, model, node } from '../../model/testGraphs.ts';
import { compressedFileName } from '../fileName.ts';
import { parseRecipe, RecipeError } from '../parse.ts';
import { validateRecipe } from '../validate.ts';
import { actParams, describeAttentionStage, type AttentionStage } from './attention.ts';

const lm = bundledModel('kjv-charlm');
const recipe = (...stages: unknown[]) => ({ version: 2, seed: 0, stages });
const parseProblems = (json: unknown): string[] => {
  try {
    parseRecipe(json);
    return [];
  } catch (e) {
    if (e instanceof RecipeError) return e.problems;
    throw e;
  }
};

describe('attention stage: parse', () => {
  test('defaults are the reference (β 0.4, τ 0.1, search, first two and last layer skipped, 8 samples) with the interval guard', () => {
    const stage = parseRecipe(recipe({ kind: 'attention' })).stages[0] as AttentionStage;
    expect(stage).toEqual({ kind: 'attention', method: 'act', beta: 0.4, sink: { kind: 'tau', tau: 0.1 }, heads: 'search', skipLayers: 'reference', search: { samples: 8, guard: 'interval' } });
    expect(describeAttentionStage(stage)).toBe('ACT, β 0.4, sinks τ 0.1, heads searched on 8 calibration samples (kept when the 95 % interval of the gain excludes 0), skipping the first two and the last layer');
    const strict = parseRecipe(recipe({ kind: 'attention', search: { samples: 4, guard: 'none' } })).stages[0] as AttentionStage;
    expect(strict.search).toEqual({ samples: 4, guard: 'none' });
    expect(describeAttentionStage(strict)).toContain('(kept when the mean improves)');
    expect(actParams(stage)).toEqual({ threshold: { kind: 'absolute', tau: 0.1 }, beta: 0.4 });
    expect(validateRecipe(parseRecipe(recipe({ kind: 'attention' })), lm.analysis)).toEqual([]);
  });

  test('the α/T sink form and explicit heads', () => {
    const stage = parseRecipe(recipe({ kind: 'attention', sink: { kind: 'alpha', alpha: 3 }, heads: [{ block: 2, head: 1 }] })).stages[0] as AttentionStage;
    expect(actParams(stage).threshold).toEqual({ kind: 'relative', alpha: 3 });
    expect(stage.heads).toEqual([{ block: 2, head: 1 }]);
    expect(describeAttentionStage(stage)).toBe('ACT, β 0.4, sinks α/T, α 3, heads 2.1');
  });

  test('wrong fields are named by their path', () => {
    expect(
      parseProblems(recipe({ kind: 'attention', method: 'acts', beta: '0.4', sink: { kind: 'tau', tau: 0.1, alpha: 2 }, heads: [{ block: 2 }, 3, { block: 1, head: 0, x: 1 }], skipLayers: [0, 'last'], search: { samples: 4, n: 1, guard: 'bootstrap' } })),
    ).toEqual([
      'stages[0].method: must be one of "act", got a string ("acts")',
      'stages[0].beta: must be a finite number, got a string ("0.4")',
      'stages[0].sink.alpha: unknown field',
      'stages[0].heads[0].head: is required',
      'stages[0].heads[1]: must be an object, got 3',
      'stages[0].heads[2].x: unknown field',
      'stages[0].skipLayers[1]: must be an integer layer number, got a string ("last")',
      'stages[0].search.guard: must be one of "interval", "none", got a string ("bootstrap")',
      'stages[0].search.n: unknown field',
    ]);
    expect(parseProblems(recipe({ kind: 'attention', heads: 'all' }))).toEqual(['stages[0].heads: must be "search" or an array of { block, head }, got a string ("all")']);
  });
});

describe('attention stage: checked against the model', () => {
  test('heads and layers out of range, a bad β or τ, a stage after it', () => {
    const r = parseRecipe(
      recipe(
        { kind: 'attention', beta: 1.5, sink: { kind: 'tau', tau: 0 }, heads: [{ block: 2, head: 4 }, { block: 9, head: 0 }, { block: 2, head: 4 }], skipLayers: [7], search: { samples: 0 } },
        { kind: 'prune', method: 'magnitude', pattern: { kind: 'unstructured', sparsity: 0.5 } },
      ),
    );
    expect(validateRecipe(r, lm.analysis)).toEqual([
      'stages[0].beta: must be in [0, 1], got 1.5',
      'stages[0].sink.tau: must be in (0, 1), got 0',
      'stages[0].search.samples: must be an integer >= 1, got 0',
      'stages[0]: must be the last stage (ACT calibrates the model the earlier stages left), but prune follows',
      'stages[0].heads[0].head: 4 is outside 0..3 (layer 2 has 4 heads)',
      'stages[0].heads[1].block: 9 is not an attention layer of the model (attention layers 0, 1, 2, 3, 4, 5)',
      'stages[0].heads[2].head: 4 is outside 0..3 (layer 2 has 4 heads)',
      'stages[0].heads[2]: layer 2 head 4 is listed twice',
      'stages[0].skipLayers[0]: 7 is not an attention layer of the model (attention layers 0, 1, 2, 3, 4, 5)',
    ]);
    // A stage built in memory (the UI's store) is checked too, not only parsed JSON.
    const built = parseRecipe(recipe({ kind: 'attention' }));
    (built.stages[0] as AttentionStage).search.guard = 'loose' as AttentionStage['search']['guard'];
    expect(validateRecipe(built, lm.analysis)).toEqual(['stages[0].search.guard: must be one of "interval", "none", got a string ("loose")']);
    const all = parseRecipe(recipe({ kind: 'attention', skipLayers: [0, 1, 2, 3, 4, 5] }));
    expect(validateRecipe(all, lm.analysis)).toEqual(['stages[0].skipLayers: skips every attention layer: the search has no candidate head']);
  });

  test('search samples beyond the calibration set are refused before the run, where its size is known', () => {
    const r = parseRecipe(recipe({ kind: 'attention', search: { samples: 80 } }));
    expect(validateRecipe(r, lm.analysis, 64)).toEqual(['stages[0].search.samples: 80 is more than the calibration set holds (64)']);
    expect(validateRecipe(r, lm.analysis)).toEqual([]);
    // Given heads draw no samples.
    expect(validateRecipe(parseRecipe(recipe({ kind: 'attention', heads: [{ block: 2, head: 0 }], search: { samples: 80 } })), lm.analysis, 64)).toEqual([]);
  });

  test('a fused-attention model is refused with the reason and what export gives unfused attention', () => {
    const fused = analyzeModel(
      model({
        nodes: [node('Attention', ['x', 'qkv_weight', 'qkv_bias'], ['y'], { name: 'attn', domain: 'com.microsoft', attrs: { num_heads: 4 } })],
        initializers: [floatInit('qkv_weight', [32, 96]), floatInit('qkv_bias', [96])],
      }),
    );
    const [problem, ...rest] = validateRecipe(parseRecipe(recipe({ kind: 'attention' })), fused);
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^stages\[0\]: ACT needs attention probabilities in the graph: the attention is fused \(1 node\(s\)\).*attn_implementation="eager"/);
  });

  test('file tag', () => {
    expect(compressedFileName('kjv-charlm', parseRecipe(recipe({ kind: 'attention' })))).toContain('act-b0.4');
  });
});
