// The quantize stage's mixed-precision fields (`mixed`, `bitsByLayer`): read, checked on the
// bundled LM (36 layers: 4 of 128 x 128 and 2 of 128 x 512 per block) with field paths, and the
// needs, description and file tag they change.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../../model/analyze.ts';
import { readModel } from '../../onnx/index.ts';
import { FieldReader, RecipeProblems, type JsonObject } from '../reader.ts';
import { defaultRecipe } from '../defaults.ts';
import { defaultQuantizeStage, describeQuantizeStage, quantizeFileTag, quantizeStageKind, type QuantizeStage } from './quantize.ts';

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
const mixed = (targetBits: number, candidates = [2, 3, 4, 8]): QuantizeStage => ({ ...defaultQuantizeStage(), mixed: { targetBits, candidates } });

describe('mixed precision fields', () => {
  test('read with defaults; absent fields leave the stage as it was', () => {
    expect(parse({ kind: 'quantize' }).stage).toEqual(defaultQuantizeStage());
    const { stage, problems } = parse({ kind: 'quantize', mixed: { targetBits: 3.5 }, bitsByLayer: { 'blocks.0.mlp.fc2': 8 } });
    expect(problems).toEqual([]);
    expect(stage.mixed).toEqual({ targetBits: 3.5, candidates: [3, 4, 8] });
    expect(stage.bitsByLayer).toEqual({ 'blocks.0.mlp.fc2': 8 });
    expect(check(stage)).toEqual([]);
  });

  test('bad values are refused by path', () => {
    expect(parse({ kind: 'quantize', mixed: { targetBits: 'four', candidates: 4, extra: 1 }, bitsByLayer: { x: 'eight' } }).problems).toEqual([
      expect.stringMatching(/^stages\[0\]\.mixed\.candidates: must be an array of bit widths/),
      expect.stringMatching(/^stages\[0\]\.mixed\.targetBits: must be a finite number/),
      'stages[0].mixed.extra: unknown field',
      expect.stringMatching(/^stages\[0\]\.bitsByLayer\.x: must be a finite number/),
    ]);
  });

  test('impossible targets, widths and names are refused before any work starts', () => {
    expect(check(mixed(1.5))).toEqual(['mixed.targetBits: 1.5 is below the narrowest candidate, 2 bits']);
    expect(check(mixed(4, [3, 9]))).toEqual(['mixed.candidates[1]: must be an integer from 2 to 8, got 9']);
    expect(check(mixed(4, [4, 4]))).toEqual(['mixed.candidates: lists a width twice: 4, 4']);
    expect(check(mixed(4, []))).toEqual(['mixed.candidates: must list at least one width']);
    expect(check({ ...mixed(4), bitsByLayer: { 'blocks.9.mlp.fc1': 4, 'blocks.0.mlp.fc1': 1 } })).toEqual([
      expect.stringMatching(/^bitsByLayer\.blocks\.9\.mlp\.fc1: no layer named "blocks\.9\.mlp\.fc1" among the stage's layers \(blocks\.0\.attn\.q_proj;/),
      'bitsByLayer.blocks.0.mlp.fc1: must be an integer from 2 to 8, got 1',
    ]);
    // All six MLP layers (2/3 of the weights) at 8 bits: the rest at 2 bits still average 6.
    const mlpAt8 = Object.fromEntries(analysis.linears.filter((l) => l.role.startsWith('mlp')).map((l) => [l.name, 8]));
    expect(check({ ...mixed(4), bitsByLayer: mlpAt8 })).toEqual(['mixed.targetBits: 4 bits per weight is impossible with bitsByLayer: the least average is 6.000 (the set layers at their widths, the others at 2)']);
    expect(check({ ...mixed(6), bitsByLayer: mlpAt8 })).toEqual([]);
    expect(check({ ...mixed(4), method: 'mx' })).toEqual([expect.stringMatching(/^mixed: MX formats have a fixed element width/)]);
    expect(check({ ...mixed(4), export: 'packed' })).toEqual([expect.stringMatching(/^export: "packed" is impossible here: MatMulNBits packs 2, 4, 8 bits, not 3 \(36 layers\)/)]);
    expect(check({ ...mixed(5, [4, 8]), export: 'packed' })).toEqual([]);
    expect(check({ ...defaultQuantizeStage(), bitsByLayer: { 'blocks.0.mlp.fc2': 3 }, export: 'packed' })).toEqual([expect.stringMatching(/^export: "packed" is impossible here: MatMulNBits packs 2, 4, 8 bits, not 3/)]);
  });

  test('mixed needs H of the dense model; describes and tags itself', () => {
    expect(quantizeStageKind.needs(mixed(4)).dense).toEqual(['hessian']);
    expect(quantizeStageKind.needs({ ...mixed(4), method: 'awq' }).dense).toEqual(['hessian', 'inputTokens']);
    expect(quantizeStageKind.needs(defaultQuantizeStage()).dense).toEqual([]);
    expect(describeQuantizeStage({ ...mixed(4), bitsByLayer: { 'blocks.0.mlp.fc2': 8 } })).toBe('gptq, asym, groups of 32, mixed 4 avg code bits from 2/3/4/8, 1 layer set by hand, export auto');
    expect(quantizeFileTag(mixed(4))).toBe('gptq-mixed4g32');
  });
});
