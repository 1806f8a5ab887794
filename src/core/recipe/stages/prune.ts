// The prune stage: magnitude, Wanda or SparseGPT at a sparsity pattern, with a per-layer sparsity
// allocator. Its fields, defaults (ALGORITHMS.md: SparseGPT blocksize 128, percdamp 0.01) and the
// checks that make a prune stage impossible on a model. The pipeline side is
// src/core/compress/pruneStage.ts.
import type { LinearLayer, ModelAnalysis } from '../../model/types.ts';
import { MAX_LAYER_SPARSITY } from '../../prune/allocation/redistribute.ts';
import { SENSITIVITY_MAX_SPARSITY } from '../../prune/allocation/sensitivity.ts';
import { PRUNE_METHODS, type PruneMethod } from '../../prune/methods.ts';
import { describePattern, patternGroupColumns, patternProblems, patternSparsity, VNM_KEPT_PER_ROW, type BlockCols, type BlockRows, type SparsityPattern } from '../../prune/patterns.ts';
import { defaultLayerSelection, listLayers, LISTED_LAYERS, prunableLayers, readLayerSelection, WRITABLE_DTYPES, type LayerSelection } from '../layers.ts';
import { describeValue, FieldReader, isJsonObject } from '../reader.ts';
import type { StageCheck, StageKind, StageNeeds, StageProblem, Statistic } from '../stage.ts';
import type { StageSpec } from '../types.ts';
import { defaultQuantizeStage, describeQuantFormat, gridFieldProblems, groupFitProblems, packProblem, QUANT_EXPORTS, QUANT_GRANULARITIES, type QuantExport, type QuantGranularity, type QuantizeStage } from './quantize.ts';

/** Magnitude's comparison group: each layer (wanda's prune_magnitude), each output row, or all prunable layers together. */
export type MagnitudeScope = 'layer' | 'row' | 'global';
export const MAGNITUDE_SCOPES: readonly MagnitudeScope[] = ['layer', 'row', 'global'];

export type AllocationKind = 'uniform' | 'owl' | 'tamp' | 'sensitivity';
export const ALLOCATION_KINDS: readonly AllocationKind[] = ['uniform', 'owl', 'tamp', 'sensitivity'];

export interface AllocationRecipe {
  kind: AllocationKind;
  /** TAMP's AMIA: Wanda's ‖X_j‖ over attention-selected tokens (allocation 'tamp', method 'wanda'). */
  tokenSelection: boolean;
}

export interface SparseGptOptions {
  blockSize: number;
  percDamp: number;
}

/**
 * SparseGPT's joint quantization (the reference's `--wbits`): every kept weight quantized in the
 * same sweep, the later columns compensating both errors. The quantize stage's integer-grid
 * fields, validated by the same functions; packed as MatMulNBits where the format allows.
 */
export interface JointQuantize {
  bits: number;
  symmetric: boolean;
  granularity: QuantGranularity;
  /** Inputs per group along C_in when granularity is 'group'. */
  groupSize: number;
  /** GPTQ's MSE clip search for the grid. */
  mseClip: boolean;
  export: QuantExport;
}

export interface PruneStage extends StageSpec {
  kind: 'prune';
  method: PruneMethod;
  magnitudeScope: MagnitudeScope;
  /**
   * Which weights may survive. For unstructured, `sparsity` is the target: the mean over the
   * pruned layers as the allocator defines it. N:M and V:N:M prune 1 − N/M and 1 − 2/M.
   */
  pattern: SparsityPattern;
  allocation: AllocationRecipe;
  sparseGpt: SparseGptOptions;
  /** Method sparsegpt only: quantize the kept weights in the same sweep. */
  quantize?: JointQuantize;
  layers: LayerSelection;
}

export const isPruneStage = (stage: StageSpec): stage is PruneStage => stage.kind === 'prune';

export function defaultPruneStage(): PruneStage {
  return {
    kind: 'prune',
    method: 'wanda',
    magnitudeScope: 'layer',
    pattern: { kind: 'unstructured', sparsity: 0.5 },
    allocation: { kind: 'uniform', tokenSelection: false },
    sparseGpt: { blockSize: 128, percDamp: 0.01 },
    layers: defaultLayerSelection(),
  };
}

/** The stage's target sparsity: the pattern's. */
export const targetSparsity = (stage: Pick<PruneStage, 'pattern'>): number => patternSparsity(stage.pattern);

// ---- parse -----------------------------------------------------------------------------------

/** "unstructured", "2:4" (N kept of M), "64:2:8" (V:N:M), "1x4" / "4x1" (blocks); undefined when the text is none of them. */
function patternFromText(text: string, sparsity: number): SparsityPattern | undefined {
  if (text === 'unstructured') return { kind: 'unstructured', sparsity };
  const block = /^(\d+)[x×](\d+)$/.exec(text);
  if (block) return { kind: 'block', rows: Number(block[1]) as BlockRows, cols: Number(block[2]) as BlockCols, sparsity };
  const parts = text.split(':');
  if (!parts.every((p) => /^\d+$/.test(p))) return undefined;
  const [a, b, c] = parts.map(Number);
  if (parts.length === 2) return { kind: 'nm', n: a, m: b };
  if (parts.length === 3) return { kind: 'vnm', v: a, n: b as 2, m: c };
  return undefined;
}

const PATTERN_KINDS = ['unstructured', 'nm', 'vnm', 'block'] as const;

function patternFromObject(fields: FieldReader, sparsity: number): SparsityPattern {
  if (!fields.has('kind')) fields.problem('kind', 'required ("unstructured", "nm", "vnm" or "block")');
  const kind = fields.choice('kind', PATTERN_KINDS, 'unstructured');
  const required = (key: string) => {
    if (!fields.has(key)) fields.problem(key, `required for a pattern of kind "${kind}"`);
    return fields.number(key, NaN);
  };
  let pattern: SparsityPattern;
  if (kind === 'unstructured') pattern = { kind, sparsity: fields.number('sparsity', sparsity) };
  else if (kind === 'nm') pattern = { kind, n: required('n'), m: required('m') };
  else if (kind === 'block') pattern = { kind, rows: required('rows') as BlockRows, cols: required('cols') as BlockCols, sparsity: fields.number('sparsity', sparsity) };
  else pattern = { kind, v: required('v'), n: fields.number('n', VNM_KEPT_PER_ROW) as 2, m: required('m') };
  fields.finish();
  return pattern;
}

/** `pattern` (text or object) and the stage's `sparsity`, which only unstructured may set freely. */
function readPattern(fields: FieldReader): SparsityPattern {
  const sparsityGiven = fields.has('sparsity');
  const sparsity = fields.number('sparsity', 0.5);
  const raw = fields.raw('pattern');
  let pattern: SparsityPattern = { kind: 'unstructured', sparsity };
  if (typeof raw === 'string') {
    const parsed = patternFromText(raw, sparsity);
    if (parsed) pattern = parsed;
    else fields.problem('pattern', `${describeValue(raw)} is not "unstructured", "N:M", "V:N:M", "1x4" or "4x1"`);
  } else if (isJsonObject(raw)) {
    pattern = patternFromObject(new FieldReader(raw, fields.pathOf('pattern'), fields.problems), sparsity);
    if ((pattern.kind === 'unstructured' || pattern.kind === 'block') && sparsityGiven && isJsonObject(raw) && raw.sparsity !== undefined && raw.sparsity !== sparsity) {
      fields.problem('sparsity', `${sparsity} contradicts pattern.sparsity ${String(raw.sparsity)}; give one of them`);
    }
  } else if (raw !== undefined) {
    fields.problem('pattern', `must be a string ("2:4") or an object ({"kind": "nm", "n": 2, "m": 4}), got ${describeValue(raw)}`);
  }
  // Unstructured and block patterns carry their sparsity (checked against the stage's above).
  if (pattern.kind !== 'unstructured' && pattern.kind !== 'block' && sparsityGiven) {
    const implied = patternSparsity(pattern);
    if (Math.abs(sparsity - implied) > 1e-12) {
      fields.problem('sparsity', `${sparsity} contradicts pattern ${describePattern(pattern)}, which prunes ${implied}; leave sparsity out or set it to ${implied}`);
    }
  }
  return pattern;
}

/** `quantize`'s fields, with the quantize stage's defaults (4-bit asymmetric, groups of 32). */
function readJointQuantize(fields: FieldReader): JointQuantize {
  const defaults = defaultQuantizeStage();
  return {
    bits: fields.number('bits', defaults.bits),
    symmetric: fields.boolean('symmetric', defaults.symmetric),
    granularity: fields.choice('granularity', QUANT_GRANULARITIES, defaults.granularity),
    groupSize: fields.number('groupSize', defaults.groupSize),
    mseClip: fields.boolean('mseClip', defaults.mseClip),
    export: fields.choice('export', QUANT_EXPORTS, defaults.export),
  };
}

/** The joint quantization as the quantize stage's GPTQ with the same grid (for packProblem, describeQuantFormat). */
export function jointQuantizeStage(quantize: JointQuantize): QuantizeStage {
  return { ...defaultQuantizeStage(), method: 'gptq', ...quantize };
}

function parsePruneStage(fields: FieldReader): PruneStage {
  const defaults = defaultPruneStage();
  const allocation = fields.object('allocation');
  const sparseGpt = fields.object('sparseGpt');
  const layers = fields.object('layers');
  const quantize = fields.object('quantize');
  const stage: PruneStage = {
    kind: 'prune',
    method: fields.choice('method', PRUNE_METHODS, defaults.method),
    magnitudeScope: fields.choice('magnitudeScope', MAGNITUDE_SCOPES, defaults.magnitudeScope),
    pattern: readPattern(fields),
    allocation: {
      kind: allocation?.choice('kind', ALLOCATION_KINDS, defaults.allocation.kind) ?? defaults.allocation.kind,
      tokenSelection: allocation?.boolean('tokenSelection', defaults.allocation.tokenSelection) ?? defaults.allocation.tokenSelection,
    },
    sparseGpt: {
      blockSize: sparseGpt?.number('blockSize', defaults.sparseGpt.blockSize) ?? defaults.sparseGpt.blockSize,
      percDamp: sparseGpt?.number('percDamp', defaults.sparseGpt.percDamp) ?? defaults.sparseGpt.percDamp,
    },
    ...(quantize ? { quantize: readJointQuantize(quantize) } : {}),
    layers: readLayerSelection(layers),
  };
  for (const nested of [allocation, sparseGpt, quantize, layers]) nested?.finish();
  return stage;
}

// ---- validate --------------------------------------------------------------------------------

const isPositiveInteger = (v: number) => Number.isInteger(v) && v > 0;

function patternChecks(stage: PruneStage, layers: readonly LinearLayer[]): StageProblem[] {
  const { pattern } = stage;
  const problems: StageProblem[] = patternProblems(pattern, layers.map((l) => ({ rows: l.outFeatures, cols: l.inFeatures, name: l.name }))).map((message) => ({ field: 'pattern', message }));
  if (pattern.kind !== 'unstructured' && stage.method === 'sparsegpt' && isPositiveInteger(stage.sparseGpt.blockSize) && stage.sparseGpt.blockSize % patternGroupColumns(pattern) !== 0) {
    const what = pattern.kind === 'block' ? `the ${patternGroupColumns(pattern)} columns of each group` : `M = ${pattern.m}`;
    problems.push({ field: 'sparseGpt.blockSize', message: `SparseGPT needs ${what} of pattern ${describePattern(pattern)} to divide its blockSize ${stage.sparseGpt.blockSize}` });
  }
  return problems;
}

function allocationChecks(stage: PruneStage, check: StageCheck): StageProblem[] {
  const { allocation, pattern, method } = stage;
  const { analysis } = check;
  const sparsity = targetSparsity(stage);
  const problems: StageProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const kind = allocation.kind;
  if (kind === 'owl' && analysis.numBlocks === 0) problem('allocation.kind', 'owl works per transformer block, and this model has no blocks the analysis could find');
  if (kind !== 'uniform' && pattern.kind === 'vnm') problem('allocation.kind', `${kind} needs per-layer sparsities, which V:N:M (fixed density 2/M) cannot express; use uniform`);
  if (kind === 'sensitivity' && sparsity > SENSITIVITY_MAX_SPARSITY) problem('allocation.kind', `sensitivity caps layers at ${SENSITIVITY_MAX_SPARSITY}: target ${sparsity} is too high`);
  else if (kind !== 'uniform' && sparsity > MAX_LAYER_SPARSITY) problem('allocation.kind', `${kind} caps layers at ${MAX_LAYER_SPARSITY}: target ${sparsity} is too high`);
  if (kind === 'tamp' && check.recipe.calibration.outputSample < 2) problem('allocation.kind', 'tamp needs calibration.outputSample >= 2 output tokens per layer');
  if (allocation.tokenSelection) {
    if (kind !== 'tamp') problem('allocation.tokenSelection', `is TAMP's token selection: it needs allocation "tamp", not "${kind}"`);
    if (method !== 'wanda') problem('allocation.tokenSelection', `changes Wanda's ‖X_j‖ only; method ${method} does not use it`);
    if (analysis.attention.length === 0) problem('allocation.tokenSelection', 'needs attention probabilities, and this model has no attention site');
  }
  if (method === 'magnitude' && stage.magnitudeScope === 'global') {
    if (pattern.kind !== 'unstructured') problem('magnitudeScope', 'global compares all layers at once: it needs the unstructured pattern');
    if (kind !== 'uniform') problem('magnitudeScope', `global sets each layer's sparsity itself: allocation must be uniform, not ${kind}`);
  }
  return problems;
}

function layerChecks(stage: PruneStage, analysis: ModelAnalysis, layers: readonly LinearLayer[]): StageProblem[] {
  if (analysis.linears.length === 0) return [{ message: 'the model has no linear layers (MatMul/Gemm by a 2-D weight) to prune' }];
  const problems: StageProblem[] = [];
  const known = new Set(analysis.linears.flatMap((layer) => [layer.id, layer.name]));
  const unknown = stage.layers.skip.filter((name) => !known.has(name));
  if (unknown.length > 0) problems.push({ field: 'layers.skip', message: `names no linear layer: ${unknown.slice(0, LISTED_LAYERS).map((n) => JSON.stringify(n.slice(0, 80))).join(', ')}${unknown.length > LISTED_LAYERS ? ` and ${unknown.length - LISTED_LAYERS} more` : ''}` });
  if (layers.length === 0) problems.push({ field: 'layers', message: 'no layer is left to prune (embeddings and the head are excluded unless layers.includeHead; see layers.skip)' });
  const quantised = layers.filter((layer) => layer.weightPath.includes('DequantizeLinear') || layer.nBits !== undefined);
  if (quantised.length > 0) problems.push({ message: `quantised weights cannot be pruned in place (start from the float model): ${listLayers(quantised, (l) => (l.nBits ? `${l.name} is MatMulNBits ${l.nBits.bits}-bit` : l.name))}` });
  const otherDtype = layers.filter((layer) => !WRITABLE_DTYPES.has(layer.weightDtype) && !layer.weightPath.includes('DequantizeLinear') && layer.nBits === undefined);
  if (otherDtype.length > 0) problems.push({ message: `only float32 and float16 weights can be pruned: ${listLayers(otherDtype, (l) => `${l.name} is ${l.weightDtype}`)}` });
  return problems;
}

/** The quantize stage's grid checks under `quantize.`, and what joint quantization needs. */
function jointQuantizeChecks(stage: PruneStage, quantize: JointQuantize, layers: readonly LinearLayer[]): StageProblem[] {
  const at = (p: StageProblem): StageProblem => ({ field: p.field ? `quantize.${p.field}` : 'quantize', message: p.message });
  if (stage.method !== 'sparsegpt') return [{ field: 'quantize', message: `joint quantization is SparseGPT's wbits path (prune and quantize in one sweep); method ${stage.method} has no sweep: add a quantize stage after it instead` }];
  const problems = gridFieldProblems(quantize).map(at);
  if (quantize.granularity === 'tensor') problems.push({ field: 'quantize.granularity', message: 'the SparseGPT/GPTQ sweep quantizes per row or per group (its quantizer is per channel); use "row" or "group"' });
  if (!QUANT_EXPORTS.includes(quantize.export)) problems.push({ field: 'quantize.export', message: `unknown export "${quantize.export}" (known: ${QUANT_EXPORTS.join(', ')})` });
  problems.push(...groupFitProblems(quantize, layers).map(at));
  if (quantize.export === 'packed' && problems.length === 0) {
    const why = layers.map((l) => packProblem(jointQuantizeStage(quantize), l)).find((w) => w !== undefined);
    if (why) problems.push({ field: 'quantize.export', message: `"packed" is impossible here: ${why}; use "auto" or "simulated"` });
  }
  return problems;
}

function validatePruneStage(stage: PruneStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  // A stage built in code (the UI, a script) never went through the parser's checks.
  if (!PRUNE_METHODS.includes(stage.method)) problem('method', `unknown method "${stage.method}" (known: ${PRUNE_METHODS.join(', ')})`);
  if (!MAGNITUDE_SCOPES.includes(stage.magnitudeScope)) problem('magnitudeScope', `unknown scope "${stage.magnitudeScope}"`);
  if (!ALLOCATION_KINDS.includes(stage.allocation.kind)) problem('allocation.kind', `unknown allocation "${stage.allocation.kind}"`);
  if (stage.method === 'sparsegpt') {
    if (!isPositiveInteger(stage.sparseGpt.blockSize)) problem('sparseGpt.blockSize', `must be a positive integer, got ${stage.sparseGpt.blockSize}`);
    if (!(stage.sparseGpt.percDamp >= 0)) problem('sparseGpt.percDamp', `must be >= 0, got ${stage.sparseGpt.percDamp}`);
  }
  const layers = prunableLayers(check.analysis, stage);
  if (stage.quantize) problems.push(...jointQuantizeChecks(stage, stage.quantize, layers));
  problems.push(...layerChecks(stage, check.analysis, layers));
  if (layers.length > 0) problems.push(...patternChecks(stage, layers));
  problems.push(...allocationChecks(stage, check));
  return problems;
}

// ---- needs and description -------------------------------------------------------------------

function pruneNeeds(stage: PruneStage): StageNeeds {
  // Only SparseGPT, and sensitivity's errors, need H. The other layers' report error is estimated
  // on a sample of input tokens instead: accumulating XᵀX for every layer was most of a Wanda
  // run's calibration time. Calibration skips the sample where H is collected anyway.
  const attention: Statistic[] = stage.allocation.tokenSelection ? ['attention'] : [];
  const step: Statistic[] = stage.method === 'magnitude' ? [] : stage.method === 'sparsegpt' ? ['sqNorm', 'hessian'] : ['sqNorm', 'inputSample', ...attention];
  return { dense: allocationNeeds(stage, attention), step };
}

/**
 * What the allocator reads from the dense model (OWL: Wanda scores; TAMP: outputs; sensitivity:
 * errors from H). The input sample rides along so that magnitude, which has no step statistics and
 * is pruned on this pass, still reports an estimated error.
 */
function allocationNeeds(stage: PruneStage, attention: readonly Statistic[]): Statistic[] {
  switch (stage.allocation.kind) {
    case 'uniform':
      return [];
    case 'owl':
      return ['sqNorm', 'inputSample'];
    case 'tamp':
      return ['sqNorm', 'inputSample', 'outputs', ...attention];
    case 'sensitivity':
      return ['sqNorm', 'hessian'];
  }
}

export function describePruneStage(stage: PruneStage): string {
  const method = stage.method === 'magnitude' ? `magnitude (${stage.magnitudeScope})` : stage.method;
  const pattern = stage.pattern.kind === 'unstructured' ? 'unstructured' : describePattern(stage.pattern);
  const allocation = stage.allocation.kind + (stage.allocation.tokenSelection ? ' + token selection' : '');
  const joint = stage.quantize ? `, kept weights quantized in the sweep (${describeQuantFormat(jointQuantizeStage(stage.quantize))}, export ${stage.quantize.export})` : '';
  return `${method}, ${pattern}, ${(targetSparsity(stage) * 100).toFixed(1)}% target, ${allocation} allocation${joint}`;
}

/** 'wanda-50', 'sparsegpt-2of4', 'magnitude-vnm-16-2of8', 'wanda-owl-60', 'magnitude-row-50-head'. */
export function pruneFileTag(stage: PruneStage): string {
  const { pattern, allocation } = stage;
  const method = stage.method === 'magnitude' && stage.magnitudeScope !== 'layer' ? `magnitude-${stage.magnitudeScope}` : stage.method;
  const allocated = allocation.kind === 'uniform' ? [] : [allocation.kind, ...(allocation.tokenSelection ? ['tokensel'] : [])];
  let kept: string;
  if (pattern.kind === 'nm') kept = `${pattern.n}of${pattern.m}`;
  else if (pattern.kind === 'vnm') kept = `vnm-${pattern.v}-${pattern.n}of${pattern.m}`;
  else if (pattern.kind === 'block') kept = `block${pattern.rows}x${pattern.cols}-${Number((pattern.sparsity * 100).toFixed(2))}`;
  else kept = String(Number((pattern.sparsity * 100).toFixed(2))); // 0.625 → '62.5', never '62.50000000000001'
  const joint = stage.quantize ? [`w${stage.quantize.bits}${stage.quantize.granularity === 'group' ? `g${stage.quantize.groupSize}` : ''}`] : [];
  return [method, ...allocated, kept, ...joint, ...(stage.layers.includeHead ? ['head'] : [])].join('-');
}

export const pruneStageKind: StageKind<PruneStage> = {
  kind: 'prune',
  defaults: defaultPruneStage,
  parse: parsePruneStage,
  validate: validatePruneStage,
  layers: (stage, analysis) => prunableLayers(analysis, stage),
  needs: pruneNeeds,
  describe: describePruneStage,
  fileTag: pruneFileTag,
};

