// The structured stage's fields: defaults, the target's three forms, the JSON round trip the page
// and the CLI rely on, and one message per bad field, by its path.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../../calibrate/fixtures/models.ts';
import { parseRecipe, RecipeError } from '../parse.ts';
import { validateRecipe } from '../validate.ts';
import { defaultStructuredStage } from './structured.ts';

const parse = (stage: Record<string, unknown>) => parseRecipe({ version: 2, stages: [{ kind: 'structured', ...stage }] });
const problemsOf = (stage: Record<string, unknown>) => {
  try {
    parse(stage);
    return [];
  } catch (e) {
    return (e as RecipeError).problems;
  }
};

describe('structured stage fields', () => {
  test('defaults: ZipLM, heads and neurons, 1.5× speedup, damping 0.01, neuron multiple auto, OBS update on', () => {
    expect(parse({}).stages[0]).toEqual(defaultStructuredStage());
    expect(defaultStructuredStage()).toEqual({ kind: 'structured', method: 'ziplm', remove: 'both', target: { kind: 'speedup', speedup: 1.5 }, dampening: 0.01, neuronMultiple: 'auto', update: true });
  });

  test('targets: { sparsity }, { size }, { speedup }; the parsed recipe written as JSON reads back the same', () => {
    for (const target of [{ sparsity: 0.3 }, { size: 0.7 }, { speedup: 2 }]) {
      const recipe = parse({ method: 'cfsp', remove: 'neurons', target, neuronMultiple: 16, update: false });
      expect(parseRecipe(JSON.parse(JSON.stringify(recipe)))).toEqual(recipe);
    }
  });

  test('bad fields are named by path, one sentence each', () => {
    expect(problemsOf({ method: 'obc' })).toEqual(['stages[0].method: must be one of "ziplm", "cfsp", got a string ("obc")']);
    expect(problemsOf({ target: {} })).toEqual(['stages[0].target: must give exactly one of sparsity, size, speedup, got none']);
    expect(problemsOf({ target: { size: 0.5, kind: 'speedup' } })).toEqual(['stages[0].target.kind: says a string ("speedup") but the target gives size']);
    expect(problemsOf({ neuronMultiple: 'eight' })).toEqual(['stages[0].neuronMultiple: must be "auto" or a whole number ≥ 1, got a string ("eight")']);
    const lm = bundledModel('kjv-charlm');
    expect(validateRecipe(parse({ neuronMultiple: 1024 }), lm.analysis)).toEqual(['stages[0].neuronMultiple: 1024 is wider than the MLP (512 neurons)']);
    expect(validateRecipe(parse({ dampening: 0 }), lm.analysis)).toEqual(['stages[0].dampening: must be in (0, 1), got 0']);
    expect(validateRecipe(parse({ remove: 'neurons', target: { size: 0.8 } }), lm.analysis)).toEqual([]);
  });

  test('a shape change after a quantize stage is refused', () => {
    const lm = bundledModel('kjv-charlm');
    const recipe = parseRecipe({ version: 2, stages: [{ kind: 'quantize' }, { kind: 'structured' }] });
    expect(validateRecipe(recipe, lm.analysis).join('\n')).toMatch(/stages\[1\]/);
  });
});
