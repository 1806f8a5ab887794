// The llm-compressor export: every example recipe converts; every modifier and field it writes is
// one llm-compressor's source declares (fixtures/llmcompressor_fields.json, extracted from the
// source by scripts/fixtures/llmcompressor_fields.py); the N:M count flips from kept to pruned;
// OWL's fields; what has no equivalent is listed, not dropped; the YAML reads back as the object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseRecipeText, type Recipe } from '../recipe/index.ts';
import fields from './fixtures/llmcompressor_fields.json';
import { emitYaml, llmCompressorRecipe, llmCompressorRecipeObject, yamlNumber, type LlmcModifier, type YamlMap, type YamlValue } from './llmCompressor.ts';

const recipesDir = 'recipes';
const exampleFiles = readdirSync(recipesDir).filter((f) => f.endsWith('.json')).sort();
const example = (file: string): Recipe => parseRecipeText(readFileSync(join(recipesDir, file), 'utf8'));
const recipeOf = (stages: object[]): Recipe => parseRecipeText(JSON.stringify({ version: 2, seed: 0, calibration: { samples: 32 }, stages }));

const modifierFields = fields.modifiers as Record<string, string[]>;
const isMap = (v: YamlValue): v is YamlMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every field name, and every nested QuantizationScheme / QuantizationArgs key, against the fixture's lists. */
function unknownFields(modifier: LlmcModifier): string[] {
  const known = modifierFields[modifier.type];
  if (!known) return [`modifier ${modifier.type}`];
  const unknown = Object.keys(modifier.fields).filter((k) => !known.includes(k));
  const groups = modifier.fields.config_groups;
  if (groups !== undefined) {
    if (!isMap(groups)) return [...unknown, 'config_groups is not a map'];
    for (const [name, scheme] of Object.entries(groups)) {
      if (!isMap(scheme)) return [...unknown, `config_groups.${name} is not a map`];
      unknown.push(...Object.keys(scheme).filter((k) => !fields.QuantizationScheme.includes(k)).map((k) => `${name}.${k}`));
      const weights = scheme.weights;
      if (!isMap(weights)) return [...unknown, `${name}.weights is not a map`];
      unknown.push(...Object.keys(weights).filter((k) => !fields.QuantizationArgs.includes(k)).map((k) => `${name}.weights.${k}`));
      if (!fields.QuantizationStrategy.includes(String(weights.strategy))) unknown.push(`strategy ${String(weights.strategy)}`);
      if (!fields.QuantizationType.includes(String(weights.type))) unknown.push(`type ${String(weights.type)}`);
    }
  }
  const scheme = modifier.fields.scheme;
  if (typeof scheme === 'string' && !fields.presetSchemes.includes(scheme)) unknown.push(`scheme ${scheme}`);
  const actorder = modifier.fields.actorder;
  if (typeof actorder === 'string' && !fields.ActivationOrdering.includes(actorder)) unknown.push(`actorder ${actorder}`);
  return unknown;
}

/** A reader for exactly the emitted subset: block maps by two-space indent, flow lists, JSON-quoted strings. */
function readYaml(text: string): YamlMap {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  let at = 0;
  const scalarOf = (s: string): YamlValue => {
    if (s.startsWith('"')) return JSON.parse(s) as string;
    if (s === 'null' || s === 'true' || s === 'false') return JSON.parse(s) as null | boolean;
    if (s.startsWith('[') || s.startsWith('{')) return JSON.parse(s.replace(/([{,]\s*)([A-Za-z_][A-Za-z0-9_]*):/g, '$1"$2":')) as YamlValue;
    if (/^-?\d+(\.\d+)?(e[+-]\d+)?$/.test(s)) return Number(s);
    throw new Error(`unexpected scalar ${s}`);
  };
  const block = (indent: number): YamlMap => {
    const out: YamlMap = {};
    while (at < lines.length) {
      const line = lines[at];
      const depth = line.length - line.trimStart().length;
      if (depth < indent) break;
      const m = /^("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*):(?: (.*))?$/.exec(line.trim());
      if (!m) throw new Error(`unexpected line ${line}`);
      const k = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
      at++;
      out[k] = m[2] === undefined ? block(indent + 2) : scalarOf(m[2]);
    }
    return out;
  };
  return lines.length === 1 && lines[0] === '{}' ? {} : block(0);
}

const modifiersOf = (recipe: Recipe): LlmcModifier[] => llmCompressorRecipe(recipe).stages.flatMap((s) => s.modifiers);
const only = (recipe: Recipe, type: string): YamlMap => {
  const found = modifiersOf(recipe).filter((m) => m.type === type);
  expect(found).toHaveLength(1);
  return found[0].fields;
};

describe('llm-compressor export', () => {
  test('the fixture cites the source it was read from', () => {
    expect(fields.header.llmCompressor.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(fields.header.llmCompressor.describe).toMatch(/^0\.13\.0/);
    expect(fields.header.compressedTensors.describe).toBe('0.18.0');
  });

  test.each(exampleFiles)('%s converts, with only fields llm-compressor declares, and reads back as written', (file) => {
    const recipe = example(file);
    const out = llmCompressorRecipe(recipe);
    expect(out.stages.length + out.notExported.length).toBeGreaterThan(0);
    for (const modifier of out.stages.flatMap((s) => s.modifiers)) expect(unknownFields(modifier), modifier.type).toEqual([]);
    expect(readYaml(out.yaml)).toEqual(llmCompressorRecipeObject(out.stages));
    for (const stage of out.stages) expect(Object.keys(llmCompressorRecipeObject([stage]))).toEqual([`${stage.name}_stage`]);
    expect(out.script).toContain('from llmcompressor import oneshot');
    expect(out.script).toContain(`default=${recipe.calibration.samples}`);
  });

  test('N:M flips from kept to pruned: the lab 2:4 is "2:4", its 1:4 is "3:4", quoted in the YAML', () => {
    const twoOfFour = only(recipeOf([{ kind: 'prune', method: 'sparsegpt', pattern: '2:4' }]), 'SparseGPTModifier');
    expect(twoOfFour).toMatchObject({ mask_structure: '2:4', sparsity: 0.5 });
    const oneOfFour = llmCompressorRecipe(recipeOf([{ kind: 'prune', method: 'wanda', pattern: '1:4' }]));
    expect(oneOfFour.stages[0].modifiers[0].fields).toMatchObject({ mask_structure: '3:4', sparsity: 0.75 });
    expect(oneOfFour.yaml).toContain('mask_structure: "3:4"');
    expect(oneOfFour.yaml).not.toMatch(/mask_structure: \d/);
  });

  test("a 4-of-8 OWL recipe gets OWL's fields, and the note that N:M ignores OWL's per-layer ratios", () => {
    const out = llmCompressorRecipe(example('wanda-owl-4of8.json'));
    expect(out.stages[0].modifiers[0]).toEqual({
      type: 'WandaPruningModifier',
      fields: { sparsity: 0.5, mask_structure: '4:8', sparsity_profile: 'owl', owl_m: 5, owl_lmbda: 0.08, targets: ['Linear'], ignore: ['lm_head'] },
    });
    expect(out.notes.join('\n')).toMatch(/OWL with N:M/);
  });

  test('V:N:M, TAMP, ACT, QUIK, mixed precision and magnitude are listed as not exported', () => {
    const listed = (file: string) => llmCompressorRecipe(example(file)).notExported.join('\n');
    expect(listed('sparsegpt-vnm-64-2-8.json')).toMatch(/V:N:M/);
    expect(listed('wanda-tamp-60.json')).toMatch(/tamp allocation with token selection/);
    expect(listed('act-lm.json')).toMatch(/ACT/);
    expect(listed('sparsegpt50-gptq4-act.json')).toMatch(/stage 3 \(attention\): ACT/);
    expect(listed('quik-4bit-outliers.json')).toMatch(/QUIK/);
    expect(listed('mixed-4.0.json')).toMatch(/mixed precision/);
    expect(listed('magnitude-50.json')).toMatch(/MagnitudePruningModifier is a training-time schedule/);
    expect(modifiersOf(example('sparsegpt-vnm-64-2-8.json'))).toEqual([]);
    // TAMP is dropped to uniform, and says so; the pruning itself is still exported.
    expect(only(example('wanda-tamp-60.json'), 'WandaPruningModifier')).toMatchObject({ sparsity: 0.6 });
  });

  test('a quantization grid is a preset only when it is exactly one (W4A16 = 4-bit symmetric groups of 128)', () => {
    const gptq = (grid: object) => only(recipeOf([{ kind: 'quantize', method: 'gptq', ...grid }]), 'GPTQModifier');
    expect(gptq({ bits: 4, symmetric: true, granularity: 'group', groupSize: 128 })).toMatchObject({ scheme: 'W4A16', targets: ['Linear'], actorder: null });
    expect(gptq({ bits: 4, symmetric: false, granularity: 'group', groupSize: 128 })).toMatchObject({ scheme: 'W4A16_ASYM' });
    expect(gptq({ bits: 4, symmetric: true, granularity: 'group', groupSize: 32 }).config_groups).toEqual({
      group_0: { targets: ['Linear'], weights: { num_bits: 4, type: 'int', symmetric: true, strategy: 'group', group_size: 32 } },
    });
    expect(gptq({ bits: 3, granularity: 'row' }).config_groups).toMatchObject({ group_0: { weights: { num_bits: 3, strategy: 'channel', symmetric: false } } });
    expect(gptq({ bits: 4, granularity: 'group', groupSize: 128, gptq: { actOrder: true, staticGroups: true } })).toMatchObject({ actorder: 'static' });
    // Every preset the exporter names means, in compressed-tensors, exactly the grid it came from.
    for (const [bits, symmetric] of [[2, true], [3, true], [4, true], [8, true], [4, false]] as const) {
      const fieldsOut = gptq({ bits, symmetric, granularity: 'group', groupSize: 128 });
      const preset = (fields.weightOnlyPresets as Record<string, object>)[String(fieldsOut.scheme)];
      expect(preset).toEqual({ num_bits: bits, type: 'int', strategy: 'group', group_size: 128, symmetric });
    }
  });

  test('AWQ is AWQModifier followed by a QuantizationModifier; MXFP4 is the MXFP4A16 preset', () => {
    expect(modifiersOf(example('awq-4bit-g32.json')).map((m) => m.type)).toEqual(['AWQModifier', 'QuantizationModifier']);
    expect(only(example('mxfp4.json'), 'QuantizationModifier')).toMatchObject({ scheme: 'MXFP4A16' });
    expect(fields.weightOnlyPresets.MXFP4A16).toEqual({ num_bits: 4, type: 'float', strategy: 'group', group_size: 32, symmetric: true });
    expect(llmCompressorRecipe(recipeOf([{ kind: 'quantize', method: 'mx', mxFormat: 'mxfp6-e2m3' }])).notExported.join('\n')).toMatch(/mxfp6-e2m3/);
  });

  test('joint SparseGPT + quantization is SparseGPTModifier then GPTQModifier, noted as two passes', () => {
    const out = llmCompressorRecipe(example('sparsegpt-2of4-joint-gptq-4bit.json'));
    expect(out.stages[0].modifiers.map((m) => m.type)).toEqual(['SparseGPTModifier', 'GPTQModifier']);
    expect(out.stages[0].modifiers[0].fields).toMatchObject({ block_size: 128, dampening_frac: 0.01 });
    expect(out.notes.join('\n')).toMatch(/two passes/);
  });

  test('layer selection: skips go to ignore (with a note), includeHead keeps lm_head targeted', () => {
    const out = llmCompressorRecipe(recipeOf([{ kind: 'prune', method: 'wanda', layers: { includeHead: true, skip: ['/blocks.0/attn/q/MatMul'] } }]));
    expect(out.stages[0].modifiers[0].fields.ignore).toEqual(['/blocks.0/attn/q/MatMul']);
    expect(out.notes.join('\n')).toMatch(/layers\.skip/);
  });

  test('YAML: strings quoted, numbers PyYAML reads as floats, empty recipe is {}', () => {
    expect(emitYaml({ a: { b: '2:4', c: ['Linear'], d: null, e: 1e-7 } })).toBe('a:\n  b: "2:4"\n  c: ["Linear"]\n  d: null\n  e: 1.0e-7\n');
    expect(yamlNumber(1e21)).toBe('1.0e+21');
    expect(yamlNumber(0.5)).toBe('0.5');
    expect(emitYaml({})).toBe('{}\n');
    expect(readYaml(llmCompressorRecipe(example('act-lm.json')).yaml)).toEqual({});
  });
});
