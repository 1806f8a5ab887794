// The prune stage's block pattern (SparseByteNN's 1×4 / 4×1 groups) in recipes: text and object
// forms, contradictions refused with the field's path, the file tag, and validation on a model.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../../calibrate/fixtures/models.ts';
import { parseRecipe, RecipeError } from '../parse.ts';
import { validateRecipe } from '../validate.ts';
import { describePruneStage, pruneFileTag, type PruneStage } from './prune.ts';

const v2 = (stage: Record<string, unknown>) => ({ version: 2, stages: [{ kind: 'prune', ...stage }] });
const stageOf = (json: unknown) => parseRecipe(json).stages[0] as PruneStage;

function refusal(json: unknown): string[] {
  try {
    parseRecipe(json);
  } catch (e) {
    if (e instanceof RecipeError) return e.problems;
    throw e;
  }
  throw new Error('parseRecipe accepted a broken recipe');
}

describe('block pattern in recipes', () => {
  test('"1x4" with the stage sparsity, and the object form, read the same', () => {
    const fromText = stageOf(v2({ method: 'wanda', pattern: '1x4', sparsity: 0.6 }));
    expect(fromText.pattern).toEqual({ kind: 'block', rows: 1, cols: 4, sparsity: 0.6 });
    expect(stageOf(v2({ method: 'wanda', pattern: { kind: 'block', rows: 1, cols: 4, sparsity: 0.6 } })).pattern).toEqual(fromText.pattern);
    expect(stageOf(v2({ pattern: '4×1' })).pattern).toEqual({ kind: 'block', rows: 4, cols: 1, sparsity: 0.5 });
  });

  test('a round trip through JSON keeps the pattern', () => {
    const stage = stageOf(v2({ method: 'sparsegpt', pattern: { kind: 'block', rows: 4, cols: 1, sparsity: 0.7 } }));
    expect(stageOf({ version: 2, stages: [JSON.parse(JSON.stringify(stage))] })).toEqual(stage);
  });

  test('contradictions and missing fields name the field', () => {
    expect(refusal(v2({ pattern: { kind: 'block', rows: 1, cols: 4, sparsity: 0.6 }, sparsity: 0.5 }))).toEqual([expect.stringMatching(/^stages\[0\]\.sparsity: 0\.5 contradicts pattern\.sparsity 0\.6/)]);
    expect(refusal(v2({ pattern: { kind: 'block', rows: 1 } }))).toEqual([expect.stringMatching(/^stages\[0\]\.pattern\.cols: required for a pattern of kind "block"/)]);
  });

  test('describe and file tag', () => {
    const stage = stageOf(v2({ method: 'wanda', pattern: '1x4', sparsity: 0.5 }));
    expect(describePruneStage(stage)).toBe('wanda, 1×4 blocks 0.5, 50.0% target, uniform allocation');
    expect(pruneFileTag(stage)).toBe('wanda-block1x4-50');
  });

  test('validation on the bundled ViT: a good pattern passes, an impossible one is one sentence on `pattern`', () => {
    const { analysis } = bundledModel('digits-vit');
    expect(validateRecipe(parseRecipe(v2({ method: 'wanda', pattern: '4x1', sparsity: 0.5 })), analysis, 128)).toEqual([]);
    const problems = validateRecipe(parseRecipe(v2({ method: 'wanda', pattern: '2x2', sparsity: 0.5 })), analysis, 128);
    expect(problems).toEqual(["stages[0].pattern: block groups are 1×4 or 4×1 (SparseByteNN's groups), got 2×2"]);
    expect(validateRecipe(parseRecipe(v2({ method: 'sparsegpt', pattern: '1x4', sparseGpt: { blockSize: 126 } })), analysis, 128)).toEqual([expect.stringMatching(/^stages\[0\]\.sparseGpt\.blockSize: SparseGPT needs the 4 columns of each group/)]);
  });
});
