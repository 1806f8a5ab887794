// A lab recipe as an llm-compressor `oneshot` recipe (github.com/vllm-project/llm-compressor,
// checked against 0.13.0-37-gab1ba3eff and compressed-tensors 0.18.0; the field names are in
// fixtures/llmcompressor_fields.json, written from their source by
// scripts/fixtures/llmcompressor_fields.py). What has no llm-compressor equivalent is listed in
// `notExported`, one line each, never dropped silently; what is exported but behaves differently
// there is listed in `notes`. See docs/llm-compressor.md.
//
// Recipe layout (recipe/recipe.py Recipe.from_dict): `<name>_stage: { <name>_modifiers: { Type: {...} } }`;
// keys ending otherwise are ignored there, so the layout is fixed here. All stages' modifiers run
// in one oneshot call, in file order.
import { OWL_HYPER_M, OWL_LAMBDA } from '../prune/allocation/owl.ts';
import { isPruneStage, type JointQuantize, type PruneStage } from '../recipe/stages/prune.ts';
import { isQuantizeStage, type QuantizeStage } from '../recipe/stages/quantize.ts';
import { isAttentionStage } from '../recipe/stages/attention.ts';
import type { LayerSelection } from '../recipe/layers.ts';
import type { Recipe } from '../recipe/types.ts';

export const LLMC_CHECKED_VERSION = 'llm-compressor 0.13.0-37-gab1ba3eff, compressed-tensors 0.18.0';

/** A YAML value the emitter writes: JSON's types, maps in insertion order. */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
export type YamlMap = { [key: string]: YamlValue };

/** One modifier: its class name (the key in the YAML) and its fields. */
export interface LlmcModifier {
  type: string;
  fields: YamlMap;
}

/** One llm-compressor stage: written as `<name>_stage: { <name>_modifiers: {...} }`. */
export interface LlmcStage {
  name: string;
  modifiers: LlmcModifier[];
}

export interface LlmCompressorExport {
  stages: LlmcStage[];
  /** What the lab recipe asks for and the export leaves out, one line each with the reason. */
  notExported: string[];
  /** Exported, but llm-compressor does it differently; one line each. */
  notes: string[];
  /** The recipe YAML, headed by the two lists as comments. */
  yaml: string;
  /** A Python script that runs the YAML with oneshot on a Hugging Face model id. */
  script: string;
}

export interface ExportOptions {
  /** Where the script reads the YAML from (its --recipe default). */
  recipePath?: string;
}

// ---- the mapping ---------------------------------------------------------------------------

/** Modifiers target Linear layers; the lab leaves the output head dense unless includeHead. */
function targetsAndIgnore(layers: LayerSelection): YamlMap {
  return { targets: ['Linear'], ignore: [...(layers.includeHead ? [] : ['lm_head']), ...layers.skip] };
}

function skipNote(stage: string, layers: LayerSelection): string[] {
  if (layers.skip.length === 0) return [];
  return [`${stage}: layers.skip (${layers.skip.length}) written to ignore as the lab names them (ONNX layers); llm-compressor matches Hugging Face module names or "re:" patterns, so rename them for the model you run`];
}

/**
 * compressed-tensors' weight-only integer presets (quantization/quant_scheme.py PRESET_SCHEMES):
 * WnA16 is n-bit symmetric in groups of 128 (_int_wnam), W4A16_ASYM its asymmetric 4-bit form.
 */
function presetFor(grid: Pick<JointQuantize, 'bits' | 'symmetric' | 'granularity' | 'groupSize'>): string | undefined {
  if (grid.granularity !== 'group' || grid.groupSize !== 128) return undefined;
  if (grid.symmetric && Number.isInteger(grid.bits) && grid.bits >= 2 && grid.bits <= 8) return `W${grid.bits}A16`;
  if (!grid.symmetric && grid.bits === 4) return 'W4A16_ASYM';
  return undefined;
}

/** The GPTQ reference's MSE clip search (quant.py: grid 100, maxshrink 0.8, norm 2.4) as an observer's kwargs. */
const GPTQ_MSE_CLIP: YamlMap = { maxshrink: 0.8, grid: 100, norm: 2.4 };

/** QuantizationArgs for an integer weight grid: row → channel, group → group + group_size, tensor → tensor. */
function weightArgs(grid: Pick<JointQuantize, 'bits' | 'symmetric' | 'granularity' | 'groupSize' | 'mseClip'>): YamlMap {
  const strategy = grid.granularity === 'row' ? 'channel' : grid.granularity;
  return {
    num_bits: grid.bits,
    type: 'int',
    symmetric: grid.symmetric,
    strategy,
    ...(grid.granularity === 'group' ? { group_size: grid.groupSize } : {}),
    ...(grid.mseClip ? { observer: 'memoryless_mse', observer_kwargs: GPTQ_MSE_CLIP } : {}),
  };
}

/** `scheme: W4A16` where a preset is exactly the grid (and no MSE clip), else one config group. */
function quantScheme(grid: Pick<JointQuantize, 'bits' | 'symmetric' | 'granularity' | 'groupSize' | 'mseClip'>, layers: LayerSelection): YamlMap {
  const preset = grid.mseClip ? undefined : presetFor(grid);
  const { targets, ignore } = targetsAndIgnore(layers);
  if (preset) return { scheme: preset, targets, ignore };
  return { config_groups: { group_0: { targets, weights: weightArgs(grid) } }, ignore };
}

/** GPTQ's own fields: the lab's actOrder off is `actorder: null` (llm-compressor's default is "static"). */
function gptqFields(blockSize: number, percDamp: number, actorder: string | null): YamlMap {
  return { block_size: blockSize, dampening_frac: percDamp, actorder };
}

function mseNote(stage: string, mseClip: boolean): string[] {
  return mseClip ? [`${stage}: mseClip → observer memoryless_mse with the GPTQ reference's grid 100, maxshrink 0.8, norm 2.4; llm-compressor's search also stops early (patience, default 5), the lab's does not`] : [];
}

const GPTQ_REFILLS = "llm-compressor's GPTQ keeps no sparsity mask (modifiers/gptq/gptq_quantize.py), so its updates refill pruned weights; the lab sets them back to zero";

interface Mapped {
  modifiers: LlmcModifier[];
  notExported: string[];
  notes: string[];
}

const PRUNE_MODIFIERS = { sparsegpt: 'SparseGPTModifier', wanda: 'WandaPruningModifier' } as const;

function mapPruneStage(stage: PruneStage, label: string): Mapped {
  const notExported: string[] = [];
  const notes: string[] = [];
  const { pattern, allocation } = stage;
  if (stage.method === 'magnitude') {
    notExported.push(`${label}: magnitude pruning — MagnitudePruningModifier is a training-time schedule (init_sparsity → final_sparsity over optimizer steps); by default its masks reach the weights only at optimizer steps, and oneshot takes none`);
    return { modifiers: [], notExported, notes };
  }
  if (pattern.kind === 'vnm') {
    notExported.push(`${label}: V:N:M pattern ${pattern.v}:${pattern.n}:${pattern.m} (VENOM) — llm-compressor's mask_structure is unstructured or N:M only${stage.quantize ? '; its joint quantization is not exported either' : ''}`);
    return { modifiers: [], notExported, notes };
  }
  const fields: YamlMap = {};
  if (pattern.kind === 'unstructured') fields.sparsity = pattern.sparsity;
  else {
    // llm-compressor's "P:M" counts PRUNED weights per M (SparseGPT's prunen); the lab's N counts kept ones.
    const pruned = pattern.m - pattern.n;
    fields.sparsity = pruned / pattern.m;
    fields.mask_structure = `${pruned}:${pattern.m}`;
  }
  if (allocation.kind === 'owl') {
    Object.assign(fields, { sparsity_profile: 'owl', owl_m: OWL_HYPER_M, owl_lmbda: OWL_LAMBDA });
    if (pattern.kind === 'nm') notes.push(`${label}: OWL with N:M — llm-compressor computes OWL's per-layer sparsities but its N:M path prunes every layer exactly ${pattern.m - pattern.n}:${pattern.m} (prune_n), where the lab mixes N per block`);
  } else if (allocation.kind !== 'uniform') {
    notExported.push(`${label}: ${allocation.kind} allocation${allocation.tokenSelection ? ' with token selection' : ''} — llm-compressor allocates per-layer sparsity with OWL only; exported as uniform sparsity`);
  }
  if (stage.method === 'sparsegpt') Object.assign(fields, { block_size: stage.sparseGpt.blockSize, dampening_frac: stage.sparseGpt.percDamp });
  Object.assign(fields, targetsAndIgnore(stage.layers));
  notes.push(...skipNote(label, stage.layers));
  const modifiers: LlmcModifier[] = [{ type: PRUNE_MODIFIERS[stage.method], fields }];
  if (stage.quantize) {
    const q = stage.quantize;
    modifiers.push({ type: 'GPTQModifier', fields: { ...gptqFields(stage.sparseGpt.blockSize, stage.sparseGpt.percDamp, null), ...quantScheme(q, stage.layers) } });
    notes.push(`${label}: joint quantization → SparseGPTModifier then GPTQModifier, two passes where the lab prunes and quantizes in one sweep; ${GPTQ_REFILLS}`);
    notes.push(...mseNote(label, q.mseClip));
  }
  return { modifiers, notExported, notes };
}

/** GPTQ's activation order: off → null; with static groups → "static"; with act-order groups (g_idx) → "group". */
function actorderOf(stage: QuantizeStage): string | null {
  if (!stage.gptq.actOrder) return null;
  return stage.gptq.staticGroups || stage.granularity !== 'group' ? 'static' : 'group';
}

/** The lab's MX formats that compressed-tensors has as a weight-only preset (E2M1 / E4M3 elements, 32-blocks, E8M0 scales). */
const MX_PRESETS: Partial<Record<QuantizeStage['mxFormat'], string>> = { mxfp4: 'MXFP4A16', 'mxfp8-e4m3': 'MXFP8A16' };

function mapQuantizeStage(stage: QuantizeStage, label: string, afterPruning: boolean): Mapped {
  const notExported: string[] = [];
  const notes: string[] = [];
  const none = (reason: string): Mapped => ({ modifiers: [], notExported: [`${label}: ${reason}`], notes });
  if (stage.mixed || (stage.bitsByLayer && Object.keys(stage.bitsByLayer).length > 0)) {
    return none(`mixed precision (per-layer widths${stage.mixed ? ` allocated for ${stage.mixed.targetBits} bits on average` : ''}) — the widths are decided by the lab's sensitivity measurement on its model; llm-compressor would need one config group per layer name`);
  }
  if (stage.method === 'binary') return none(`1-bit binarization (BiBench's ${stage.binarizer ?? 'xnor'} baseline, simulated in the lab) — compressed-tensors has no 1-bit weight scheme`);
  if (stage.method === 'quik') return none(`QUIK (${stage.quik.outlierColumns} outlier input columns kept in float) — llm-compressor has no modifier that keeps outlier columns unquantized`);
  notes.push(...skipNote(label, stage.layers));
  if (stage.method === 'mx') {
    const preset = MX_PRESETS[stage.mxFormat];
    if (!preset) return none(`MX format ${stage.mxFormat} — compressed-tensors' MX presets are MXFP4 and MXFP8 (E4M3) only`);
    notes.push(`${label}: ${stage.mxFormat} → ${preset}: same element type, 32-blocks and E8M0 scales, but compressed-tensors rounds the block maximum up to the next power of two when its mantissa is ≥ 1.75 (utils/mxfp_utils.py round_to_power_2), where the lab (OCP MX v1.0) takes ⌊log₂ amax⌋`);
    const { targets, ignore } = targetsAndIgnore(stage.layers);
    return { modifiers: [{ type: 'QuantizationModifier', fields: { scheme: preset, targets, ignore } }], notExported, notes };
  }
  notes.push(...mseNote(label, stage.mseClip));
  const scheme = quantScheme(stage, stage.layers);
  if (stage.method === 'gptq') {
    if (afterPruning) notes.push(`${label}: GPTQ after pruning — ${GPTQ_REFILLS}`);
    return { modifiers: [{ type: 'GPTQModifier', fields: { ...gptqFields(stage.gptq.blockSize, stage.gptq.percDamp, actorderOf(stage)), ...scheme } }], notExported, notes };
  }
  if (stage.method === 'awq') {
    // Since 0.11 AWQModifier only rescales; recipe.py refuses it without a later QuantizationMixin.
    // The lab follows llm-awq's search on activations alone (no duo scaling), 20 grid points.
    notes.push(`${label}: AWQ → AWQModifier (duo_scaling false, n_grid 20, llm-compressor's default mappings for the architecture) then QuantizationModifier with the grid`);
    return { modifiers: [{ type: 'AWQModifier', fields: { duo_scaling: false, n_grid: 20 } }, { type: 'QuantizationModifier', fields: scheme }], notExported, notes };
  }
  return { modifiers: [{ type: 'QuantizationModifier', fields: scheme }], notExported, notes };
}

/** The recipe's stages as llm-compressor stages, with what is left out and what differs. */
export function llmCompressorStages(recipe: Recipe): Pick<LlmCompressorExport, 'stages' | 'notExported' | 'notes'> {
  const stages: LlmcStage[] = [];
  const notExported: string[] = [];
  const notes: string[] = [];
  const used = new Map<string, number>();
  let pruned = false;
  recipe.stages.forEach((stage, i) => {
    const label = `stage ${i + 1} (${stage.kind})`;
    let mapped: Mapped;
    if (isPruneStage(stage)) mapped = mapPruneStage(stage, label);
    else if (isQuantizeStage(stage)) mapped = mapQuantizeStage(stage, label, pruned);
    else if (isAttentionStage(stage)) mapped = { modifiers: [], notExported: [`${label}: ACT attention calibration — changes the attention graph, not weights; llm-compressor has no attention-sink modifier`], notes: [] };
    else mapped = { modifiers: [], notExported: [`${label}: stage kind "${stage.kind}" has no llm-compressor equivalent`], notes: [] };
    notExported.push(...mapped.notExported);
    notes.push(...mapped.notes);
    if (mapped.modifiers.length === 0) return;
    if (isPruneStage(stage)) pruned = true;
    const count = (used.get(stage.kind) ?? 0) + 1;
    used.set(stage.kind, count);
    stages.push({ name: count === 1 ? stage.kind : `${stage.kind}_${count}`, modifiers: mapped.modifiers });
  });
  return { stages, notExported, notes };
}

/** The stages as the dict recipe.py reads. */
export function llmCompressorRecipeObject(stages: readonly LlmcStage[]): YamlMap {
  const out: YamlMap = {};
  for (const stage of stages) {
    const group: YamlMap = {};
    for (const modifier of stage.modifiers) group[modifier.type] = modifier.fields;
    out[`${stage.name}_stage`] = { [`${stage.name}_modifiers`]: group };
  }
  return out;
}

export function llmCompressorRecipe(recipe: Recipe, options: ExportOptions = {}): LlmCompressorExport {
  const { stages, notExported, notes } = llmCompressorStages(recipe);
  const header = [
    `llm-compressor oneshot recipe written by the Compression Lab (checked against ${LLMC_CHECKED_VERSION})`,
    ...(notExported.length > 0 ? ['not exported:', ...notExported.map((line) => `  - ${line}`)] : []),
    ...(notes.length > 0 ? ['differs from the lab:', ...notes.map((line) => `  - ${line}`)] : []),
  ];
  const yaml = `${header.map((line) => `# ${line}`).join('\n')}\n${emitYaml(llmCompressorRecipeObject(stages))}`;
  return { stages, notExported, notes, yaml, script: oneshotScript(recipe, options.recipePath ?? 'recipe.yaml') };
}

// ---- YAML ------------------------------------------------------------------------------------

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A number as YAML 1.1 (PyYAML) reads it back as the same number: its float pattern needs a dot
 * and a signed exponent, so 1e-7 is written 1.0e-7 (plain "1e-7" would be a string).
 */
export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`YAML: ${n} is not a finite number`);
  const text = String(n);
  const exp = /^(-?\d+)(\.\d+)?e([+-]?)(\d+)$/.exec(text);
  if (!exp) return text;
  return `${exp[1]}${exp[2] ?? '.0'}e${exp[3] || '+'}${exp[4]}`;
}

/** Strings are always double-quoted (JSON's escapes are YAML's): "2:4" never reads as a number. */
function scalar(value: string | number | boolean | null): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return yamlNumber(value);
  return String(value);
}

const isMap = (value: YamlValue): value is YamlMap => typeof value === 'object' && value !== null && !Array.isArray(value);

function flow(value: YamlValue): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (isMap(value)) return `{${Object.entries(value).map(([k, v]) => `${key(k)}: ${flow(v)}`).join(', ')}}`;
  return scalar(value);
}

const key = (k: string) => (PLAIN_KEY.test(k) ? k : JSON.stringify(k));

/** Block maps, flow lists; deterministic (insertion order), two spaces per level. */
export function emitYaml(value: YamlMap, indent = ''): string {
  const entries = Object.entries(value);
  if (entries.length === 0) return `${indent}{}\n`;
  return entries
    .map(([k, v]) => (isMap(v) && Object.keys(v).length > 0 ? `${indent}${key(k)}:\n${emitYaml(v, `${indent}  `)}` : `${indent}${key(k)}: ${flow(v)}\n`))
    .join('');
}

// ---- the script ------------------------------------------------------------------------------

/** Calibration text set the script defaults to: one of llm-compressor's registered datasets (transformers/data/). */
export const DEFAULT_CALIBRATION_DATASET = 'open_platypus';

function oneshotScript(recipe: Recipe, recipePath: string): string {
  return `#!/usr/bin/env python3
"""Runs the Compression Lab's recipe with llm-compressor's oneshot on a Hugging Face causal LM.

    python run_llmcompressor.py <model-id> [--recipe ${recipePath}] [--output-dir DIR]

Checked against ${LLMC_CHECKED_VERSION}. The lab calibrates on its own
model's calib.json; here the calibration text is a Hugging Face dataset (--dataset)."""
import argparse

from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

from llmcompressor import oneshot

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("model", help="Hugging Face model id or local folder")
parser.add_argument("--recipe", default=${JSON.stringify(recipePath)}, help="the recipe YAML (npm run lab -- export-llmcompressor)")
parser.add_argument("--dataset", default=${JSON.stringify(DEFAULT_CALIBRATION_DATASET)}, help="calibration dataset (an llm-compressor dataset name or a Hugging Face dataset id)")
parser.add_argument("--num-calibration-samples", type=int, default=${recipe.calibration.samples}, help="the lab recipe's calibration.samples")
parser.add_argument("--max-seq-length", type=int, default=2048)
parser.add_argument("--seed", type=int, default=${recipe.seed}, help="the lab recipe's seed (it seeds a different draw here)")
parser.add_argument("--output-dir", default=None, help="default: <model name>-lab")
args = parser.parse_args()

set_seed(args.seed)
model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype="auto")
tokenizer = AutoTokenizer.from_pretrained(args.model)
output_dir = args.output_dir or args.model.rstrip("/").split("/")[-1] + "-lab"

oneshot(
    model=model,
    tokenizer=tokenizer,
    dataset=args.dataset,
    recipe=args.recipe,
    num_calibration_samples=args.num_calibration_samples,
    max_seq_length=args.max_seq_length,
    output_dir=output_dir,
)
print(f"wrote {output_dir}")
`;
}
