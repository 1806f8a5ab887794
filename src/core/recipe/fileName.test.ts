// Download names say what a file is: model stem, then each stage's method, allocation and
// pattern, joined with '+', in [a-z0-9._+-] only, whatever the model name or a stage holds.
import { describe, expect, test } from 'vitest';
import { compressedFileName, sanitiseFileName } from './fileName.ts';
import { parseRecipe } from './parse.ts';
import type { Recipe } from './types.ts';

const recipe = (...stages: object[]): Recipe => parseRecipe({ version: 2, stages: stages.map((stage) => ({ kind: 'prune', ...stage })) });

describe('compressedFileName', () => {
  test.each([
    ['kjv-charlm', { method: 'sparsegpt', pattern: '2:4' }, 'kjv-charlm.sparsegpt-2of4.onnx'],
    ['kjv-charlm', { method: 'wanda', sparsity: 0.5 }, 'kjv-charlm.wanda-50.onnx'],
    ['digits-vit', { method: 'magnitude', pattern: '16:2:8' }, 'digits-vit.magnitude-vnm-16-2of8.onnx'],
    ['kjv-charlm', { method: 'wanda', sparsity: 0.6, allocation: { kind: 'owl' } }, 'kjv-charlm.wanda-owl-60.onnx'],
    ['kjv-charlm', { method: 'wanda', pattern: '4:8', allocation: { kind: 'owl' } }, 'kjv-charlm.wanda-owl-4of8.onnx'],
    ['kjv-charlm', { method: 'wanda', sparsity: 0.6, allocation: { kind: 'tamp', tokenSelection: true } }, 'kjv-charlm.wanda-tamp-tokensel-60.onnx'],
    ['digits-vit', { method: 'magnitude', magnitudeScope: 'global', sparsity: 0.625 }, 'digits-vit.magnitude-global-62.5.onnx'],
    ['digits-vit', { method: 'magnitude', sparsity: 0.7, layers: { includeHead: true } }, 'digits-vit.magnitude-70-head.onnx'],
    // 0.29 · 100 is 28.999999999999996 in floating point.
    ['digits-vit', { method: 'magnitude', sparsity: 0.29 }, 'digits-vit.magnitude-29.onnx'],
  ])('%s + %j → %s', (stem, stage, expected) => {
    expect(compressedFileName(stem, recipe(stage))).toBe(expected);
  });

  test('stages are joined with +', () => {
    expect(compressedFileName('kjv-charlm', recipe({ method: 'magnitude', sparsity: 0.3 }, { method: 'sparsegpt', pattern: '2:4' }))).toBe('kjv-charlm.magnitude-30+sparsegpt-2of4.onnx');
  });

  test('a file name or path as the stem loses its folder and .onnx', () => {
    expect(compressedFileName('public/models/gpt2/GPT-2 Small.ONNX', recipe({}))).toBe('gpt-2-small.wanda-50.onnx');
    expect(compressedFileName('C:\\models\\tiny.onnx', recipe({}))).toBe('tiny.wanda-50.onnx');
  });

  test('a stage kind without a file tag is named by its kind', () => {
    const unknown = { ...recipe({}), stages: [{ kind: 'Quantize (int8)' }] };
    expect(compressedFileName('m', unknown)).toBe('m.quantize-int8.onnx');
  });
});

describe('sanitiseFileName', () => {
  test.each([
    ['Ünïcödé model ☃', 'n-c-d-model'],
    ['../../etc/passwd', 'etc-passwd'],
    ['.hidden', 'hidden'],
    ['a..b', 'a.b'],
    ['', 'model'],
    ['☃☃☃', 'model'],
    ['x'.repeat(500), 'x'.repeat(80)],
    ['line\nbreak\ttab', 'line-break-tab'],
  ])('%j → %j', (input, expected) => {
    const clean = sanitiseFileName(input);
    expect(clean).toBe(expected);
    expect(clean).toMatch(/^[a-z0-9._+-]+$/);
  });
});
