// `lab export-llmcompressor <recipe.json> [--script]`: the YAML on stdout, the same text as the
// core exporter; what is not exported on stderr too; --script prints the Python script instead;
// a missing recipe is one short error.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { llmCompressorRecipe } from '../core/experiments/llmCompressor.ts';
import { parseRecipeText } from '../core/recipe/index.ts';
import { runLab } from './testing';

const lab = runLab;

describe('lab export-llmcompressor', () => {
  test('prints the YAML the exporter writes; the not-exported list goes to stderr as well', async () => {
    const path = 'recipes/sparsegpt50-gptq4-act.json';
    const r = await lab('export-llmcompressor', path);
    expect(r.code).toBe(0);
    const expected = llmCompressorRecipe(parseRecipeText(readFileSync(path, 'utf8')));
    expect(r.stdout).toBe(expected.yaml);
    expect(r.stdout).toMatch(/^prune_stage:\n  prune_modifiers:\n    SparseGPTModifier:/m);
    expect(r.stderr).toMatch(/^not exported: stage 3 \(attention\): ACT/m);
  }, 60_000);

  test('--script prints the oneshot script with the recipe calibration samples and seed', async () => {
    const r = await lab('export-llmcompressor', 'recipes/wanda-owl-4of8.json', '--script');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('from llmcompressor import oneshot');
    expect(r.stdout).toContain('parser.add_argument("model"');
    expect(r.stdout).toContain('"--num-calibration-samples", type=int, default=32');
    expect(r.stdout).not.toContain('prune_stage');
  }, 60_000);

  test('a missing recipe argument or file is refused in one line', async () => {
    const none = await lab('export-llmcompressor');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: export-llmcompressor: <recipe.json> is required/);
    const missing = await lab('export-llmcompressor', 'recipes/no-such-recipe.json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*no-such-recipe\.json: no such file/);
  }, 60_000);
});
