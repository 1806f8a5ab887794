// The quantize stage's fields and checks, read and validated as the parser and the builder do.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../../model/analyze.ts';
import { readModel } from '../../onnx/index.ts';
import { FieldReader, RecipeProblems, type JsonObject } from '../reader.ts';
import { defaultRecipe } from '../defaults.ts';
import { defaultQuantizeStage, describeQuantizeStage, packProblem, quantizeFileTag, quantizeStageKind, type QuantizeStage } from './quantize.ts';

const analysis = analyzeModel(readModel(new Uint8Array(readFileSync('public/models/kjv-charlm/model.onnx'))));

function parse(json: JsonObject): { stage: QuantizeStage; problems: string[] } {
  const problems = new RecipeProblems();
  const fields = new FieldReader(json, 'stages[1]', problems);
  fields.string('kind'); // read by the recipe parser before the kind's own fields
  const stage = quantizeStageKind.parse(fields);
  fields.finish();
  return { stage, problems: problems.list };
}

const check = (stage: QuantizeStage) => quantizeStageKind.validate(stage, { analysis, recipe: { ...defaultRecipe(), stages: [stage] } }).map((p) => `${p.field ?? ''}: ${p.message}`);

describe('the quantize stage', () => {
  test('defaults: GPTQ 4-bit asymmetric, groups of 32, packed where possible', () => {
    const { stage, problems } = parse({ kind: 'quantize' });
    expect(problems).toEqual([]);
    expect(stage).toEqual(defaultQuantizeStage());
    expect(check(stage)).toEqual([]);
    expect(describeQuantizeStage(stage)).toBe('gptq, 4-bit asym, groups of 32, export auto');
    expect(quantizeFileTag(stage)).toBe('gptq-w4g32');
  });

  test('unknown fields and bad choices are refused by path', () => {
    expect(parse({ kind: 'quantize', method: 'awq2', bitz: 4 }).problems).toEqual([expect.stringMatching(/^stages\[1\]\.method: /), 'stages[1].bitz: unknown field']);
  });

  test('impossible combinations are refused before any work starts', () => {
    const base = defaultQuantizeStage();
    expect(check({ ...base, bits: 1 })).toEqual([expect.stringMatching(/^bits: must be an integer from 2 to 8, got 1 \(1 bit/)]);
    expect(check({ ...base, groupSize: 48 })).toEqual([expect.stringMatching(/^groupSize: 48 does not divide C_in of blocks\.0\./)]);
    expect(check({ ...base, bits: 3, export: 'packed' })).toEqual([expect.stringMatching(/^export: "packed" is impossible here: MatMulNBits packs 2, 4, 8 bits, not 3/)]);
    expect(check({ ...base, method: 'gptq', granularity: 'tensor' })).toEqual([expect.stringMatching(/^granularity: GPTQ quantizes per row or per group/)]);
    expect(check({ ...base, bits: 3, export: 'auto' })).toEqual([]);
  });

  test('what can be packed as MatMulNBits', () => {
    const base = defaultQuantizeStage();
    expect(packProblem(base, { inFeatures: 128 })).toBeUndefined();
    expect(packProblem({ ...base, granularity: 'row' }, { inFeatures: 128 })).toBeUndefined();
    // The writer's rules: a per-row weight takes one padded block (96 → 128), or blocks of 256
    // repeating the row's scale (512); 2 bits pack; groups must be powers of two ≥ 16.
    expect(packProblem({ ...base, granularity: 'row' }, { inFeatures: 96 })).toBeUndefined();
    expect(packProblem({ ...base, granularity: 'row', bits: 8 }, { inFeatures: 512 })).toBeUndefined();
    expect(packProblem({ ...base, bits: 2 }, { inFeatures: 128 })).toBeUndefined();
    expect(packProblem({ ...base, bits: 3 }, { inFeatures: 128 })).toMatch(/packs 2, 4, 8 bits, not 3/);
    expect(packProblem({ ...base, groupSize: 8 }, { inFeatures: 128 })).toMatch(/not a power of two ≥ 16/);
    expect(packProblem({ ...base, groupSize: 48 }, { inFeatures: 96 })).toMatch(/not a power of two ≥ 16/);
    expect(packProblem({ ...base, bits: 8, gptq: { ...base.gptq, actOrder: true } }, { inFeatures: 128 })).toMatch(/g_idx\) at 8 bits/);
    expect(packProblem({ ...base, method: 'mx' }, { inFeatures: 128 })).toMatch(/no ONNX Runtime kernel/);
  });

  test('GPTQ needs H; RTN and MX need no calibration data', () => {
    expect(quantizeStageKind.needs(defaultQuantizeStage()).step).toEqual(['hessian']);
    expect(quantizeStageKind.needs({ ...defaultQuantizeStage(), method: 'rtn' }).step).toEqual([]);
    expect(quantizeStageKind.needs({ ...defaultQuantizeStage(), method: 'mx' }).step).toEqual([]);
    expect(quantizeFileTag({ ...defaultQuantizeStage(), method: 'rtn', bits: 3, granularity: 'row' })).toBe('rtn-w3');
    expect(quantizeFileTag({ ...defaultQuantizeStage(), method: 'mx' })).toBe('mxfp4');
  });
});
