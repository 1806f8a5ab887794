// `lab run <recipe.json> <model> -o out.onnx`: the same recipe on the same model writes the same
// bytes on every run (the CPU path is deterministic), through `run`, its alias `prune --recipe`
// and the version-1 form of the recipe alike; the text report labels Wanda's errors as estimates
// on sampled tokens; broken recipes exit non-zero with one short message that names the field,
// never a stack trace.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-run-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const lab = runLab;

function file(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

const vit = 'public/models/digits-vit';

describe('lab run', () => {
  test('the same recipe on the same model writes byte-identical files: twice, via prune --recipe, and from its version-1 form', async () => {
    const recipe = JSON.parse(readFileSync('recipes/wanda-50.json', 'utf8'));
    recipe.calibration.samples = 8;
    const v2 = file('wanda.json', JSON.stringify(recipe));
    const v1 = file('wanda-v1.json', JSON.stringify({ method: 'wanda', pattern: 'unstructured', sparsity: 0.5, calibration: { samples: 8, seed: 0, mode: 'sequential' } }));
    const runs = [
      ['run', v2, vit, '-o', join(scratch, 'a.onnx'), '--json'],
      ['run', v2, vit, '-o', join(scratch, 'b.onnx'), '--json'],
      ['prune', '--recipe', v2, vit, '-o', join(scratch, 'c.onnx')],
      ['run', v1, vit, '-o', join(scratch, 'd.onnx'), '--json'],
    ];
    const results = [];
    for (const args of runs) results.push(await lab(...args));
    // --json runs are silent on stderr; the text run (c) prints its progress there.
    results.forEach((result, i) => expect(result).toMatchObject(i === 2 ? { code: 0 } : { code: 0, stderr: '' }));
    const [a, ...others] = ['a', 'b', 'c', 'd'].map((name) => readFileSync(join(scratch, `${name}.onnx`)));
    for (const other of others) expect(other.equals(a)).toBe(true);
    const report = JSON.parse(results[0].stdout).report;
    expect(report.recipe).toMatchObject({ version: 2, stages: [{ kind: 'prune', method: 'wanda' }] });
    expect(report.totals.achievedSparsityPruned).toBeCloseTo(0.5, 3);
    expect(report.backends.hessian).toEqual({ requested: 'cpu', ran: 'cpu' });
    // Wanda collects no H: every error is an estimate on the 8 × 17 tokens (fewer than the sample's 256).
    for (const layer of report.layers) expect([layer.relativeErrorBasis, layer.relativeErrorTokens]).toEqual(['sampled', 136]);
    const text = results[2].stdout;
    expect(text).toMatch(/≈0\.\d{4}\s+estimate, 136 sampled tokens/);
    expect(text).toContain('≈ rel. error ESTIMATED on a seeded sample of 136 calibration input tokens per layer');
  }, 120_000);

  test('broken recipes: non-zero exit, a short message naming the field, no stack trace', async () => {
    let deep = '1';
    for (let i = 0; i < 100_000; i++) deep = `{"a":${deep}}`;
    const cases: [string, string | RegExp][] = [
      [file('bogus.json', JSON.stringify({ version: 2, stages: [{ kind: 'prune', bogusField: 1 }] })), /^error: invalid recipe: stages\[0\]\.bogusField: unknown field/],
      [file('version.json', JSON.stringify({ version: 3, stages: [] })), /^error: invalid recipe: version: 3 is not supported/],
      [file('type.json', JSON.stringify({ version: 2, stages: [{ kind: 'prune', sparsity: '50%' }] })), /^error: invalid recipe: stages\[0\]\.sparsity: must be a finite number, got a string \("50%"\)/],
      [file('deep.json', `{"version": 2, "stages": [{"kind": "prune", "allocation": ${deep}}]}`), /^error: .*deep\.json: JSON nested deeper than 100 levels at line 1, column \d+ \(expected a recipe\); refused/],
      [file('syntax.json', '{"version": 2, "stages": ['), /^error: .*syntax\.json: not valid JSON at line 1, column 27 \(expected a recipe\)/],
      [file('other-model.json', JSON.stringify({ version: 2, model: { id: 'kjv-charlm' }, stages: [{ kind: 'prune', method: 'magnitude' }] })), /^error: invalid recipe: model\.id: the recipe is for "kjv-charlm", not "digits-vit"/],
      [join(scratch, 'missing.json'), /^error: .*missing\.json: no such file \(expected a recipe\)/],
      ['/dev/zero', /^error: \/dev\/zero: is a device, not a regular file \(expected a recipe\); refused/],
    ];
    const results = await Promise.all(cases.map(([recipe]) => lab('run', recipe, vit, '-o', join(scratch, 'never.onnx'))));
    results.forEach((result, i) => {
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(cases[i][1]);
      expect(result.stderr.length).toBeLessThan(500);
      expect(result.stderr).not.toMatch(/\n\s+at |Maximum call stack/);
    });
  }, 120_000);
});
