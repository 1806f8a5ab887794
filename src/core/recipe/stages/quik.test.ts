// The quantize stage's QUIK fields (quik.outlierColumns, quik.activationBits): read with defaults,
// and refused by field path, before any work starts, where the model makes them impossible.
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
  const fields = new FieldReader(json, 'stages[0]', problems);
  fields.string('kind');
  const stage = quantizeStageKind.parse(fields);
  fields.finish();
  return { stage, problems: problems.list };
}

const check = (stage: QuantizeStage) => quantizeStageKind.validate(stage, { analysis, recipe: { ...defaultRecipe(), stages: [stage] } }).map((p) => `${p.field ?? ''}: ${p.message}`);
const quik = (extra: Partial<QuantizeStage> = {}): QuantizeStage => ({ ...defaultQuantizeStage(), method: 'quik', granularity: 'row', ...extra });

describe('QUIK in the quantize stage', () => {
  test('defaults: 8 outlier columns (1/16 of the bundled LM 128-wide layers, as QUIK keeps 256 of 4096), activations in float', () => {
    const { stage, problems } = parse({ kind: 'quantize', method: 'quik', granularity: 'row' });
    expect(problems).toEqual([]);
    expect(stage.quik).toEqual({ outlierColumns: 8, activationBits: 0 });
    expect(check(stage)).toEqual([]);
    expect(describeQuantizeStage(stage)).toBe('quik, 4-bit asym, per row, 8 outlier columns in float, export auto');
    expect(quantizeFileTag({ ...stage, quik: { outlierColumns: 8, activationBits: 8 } })).toBe('quik-w4-k8-a8');
    expect(quantizeStageKind.needs(stage).step).toEqual(['hessian']);
    expect(quantizeStageKind.needs({ ...stage, quik: { outlierColumns: 8, activationBits: 4 } }).step).toEqual(['hessian', 'inputTokens']);
  });

  test('unknown QUIK fields are refused by path', () => {
    expect(parse({ kind: 'quantize', method: 'quik', quik: { outliers: 8 } }).problems).toEqual(['stages[0].quik.outliers: unknown field']);
  });

  test('impossible combinations, with field paths', () => {
    expect(check(quik({ quik: { outlierColumns: 128, activationBits: 0 } }))).toEqual([expect.stringMatching(/^quik\.outlierColumns: 128 must be less than C_in of blocks\.0\.attn\.q_proj \(128\)/)]);
    expect(check(quik({ quik: { outlierColumns: -1, activationBits: 0 } }))).toEqual(['quik.outlierColumns: must be an integer >= 0, got -1']);
    expect(check(quik({ quik: { outlierColumns: 8, activationBits: 6 as 4 } }))).toEqual(['quik.activationBits: must be 0 (off), 4 or 8, got 6']);
    expect(check(quik({ granularity: 'group', groupSize: 32 }))).toEqual([expect.stringMatching(/^groupSize: 32 does not divide C_in − quik\.outlierColumns of blocks\.0\.attn\.q_proj \(128 − 8 = 120\).*or granularity "row"$/)]);
    expect(check(quik({ granularity: 'group', groupSize: 16, quik: { outlierColumns: 16, activationBits: 0 } }))).toEqual([]);
    expect(check(quik({ granularity: 'tensor' }))).toEqual([expect.stringMatching(/^granularity: QUIK quantizes per row or per group/)]);
    expect(check(quik({ gptq: { ...defaultQuantizeStage().gptq, actOrder: true } }))).toEqual([expect.stringMatching(/^gptq\.actOrder: QUIK orders the columns itself/)]);
    expect(check(quik({ bits: 3, export: 'packed' }))).toEqual([expect.stringMatching(/^export: "packed" is impossible here: MatMulNBits packs 2, 4, 8 bits, not 3/)]);
  });

  test('per row packs whatever C_in − k is (a padded block); groups must be a power of two >= 16', () => {
    expect(packProblem(quik(), { inFeatures: 128 })).toBeUndefined();
    expect(packProblem(quik({ granularity: 'group', groupSize: 8 }), { inFeatures: 128 })).toMatch(/not a power of two ≥ 16/);
  });
});
