// validateRecipe: every reason a recipe cannot run on a model, as sentences, before any work
// starts (no session, no calibration). An empty list means the pipeline will accept it.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { MAX_LAYER_SPARSITY } from '../prune/allocation/redistribute.ts';
import { SENSITIVITY_MAX_SPARSITY } from '../prune/allocation/sensitivity.ts';
import { VNM_KEPT_PER_ROW, VNM_SHARED_COLUMNS } from '../prune/patterns.ts';
import { structuredSparsity } from './defaults.ts';
import { layerLabel, prunableLayers } from './layers.ts';
import { ALLOCATION_KINDS, CALIBRATION_MODES, MAGNITUDE_SCOPES, PRUNE_METHODS, type PruneRecipe } from './types.ts';

const LISTED_LAYERS = 4;
const isPositiveInteger = (v: number) => Number.isInteger(v) && v > 0;
const WRITABLE_DTYPES = new Set(['float32', 'float16']);

/** "a, b, c and 5 more" */
function listLayers(layers: readonly LinearLayer[], describe: (layer: LinearLayer) => string): string {
  const shown = layers.slice(0, LISTED_LAYERS).map(describe).join('; ');
  return layers.length > LISTED_LAYERS ? `${shown}; and ${layers.length - LISTED_LAYERS} more` : shown;
}

function patternProblems(recipe: PruneRecipe, layers: readonly LinearLayer[]): string[] {
  const { pattern } = recipe;
  const problems: string[] = [];
  if (pattern.kind === 'unstructured') return problems;
  const { n, m } = pattern;
  const name = pattern.kind === 'nm' ? `${n}:${m}` : `${pattern.v}:${n}:${m}`;
  if (!isPositiveInteger(n) || !isPositiveInteger(m)) return [`pattern ${name}: N and M must be positive integers`];
  if (pattern.kind === 'nm' && n >= m) problems.push(`pattern ${name}: N (weights kept per group) must be less than M, got N = ${n} >= M = ${m}`);
  if (pattern.kind === 'vnm') {
    if (n !== VNM_KEPT_PER_ROW) problems.push(`pattern ${name}: V:N:M keeps N = ${VNM_KEPT_PER_ROW} per row (VENOM's format), got N = ${n}`);
    if (m < VNM_SHARED_COLUMNS) problems.push(`pattern ${name}: V:N:M needs M >= ${VNM_SHARED_COLUMNS}, got ${m}`);
    if (!isPositiveInteger(pattern.v)) problems.push(`pattern ${name}: V must be a positive integer`);
    else {
      const bad = layers.filter((layer) => layer.outFeatures % pattern.v !== 0);
      if (bad.length > 0) problems.push(`pattern ${name}: V = ${pattern.v} does not divide the rows (C_out) of ${listLayers(bad, layerLabel)}`);
    }
  }
  const ragged = layers.filter((layer) => layer.inFeatures % m !== 0);
  if (ragged.length > 0) problems.push(`pattern ${name}: M = ${m} does not divide C_in of ${listLayers(ragged, layerLabel)}`);
  if (recipe.method === 'sparsegpt' && isPositiveInteger(recipe.sparseGpt.blockSize) && recipe.sparseGpt.blockSize % m !== 0) {
    problems.push(`pattern ${name}: SparseGPT needs M = ${m} to divide its blockSize ${recipe.sparseGpt.blockSize}`);
  }
  const implied = structuredSparsity(pattern) ?? recipe.sparsity;
  if (Math.abs(recipe.sparsity - implied) > 1e-12) {
    problems.push(`sparsity ${recipe.sparsity} contradicts pattern ${name}, which prunes ${implied}; leave sparsity out or set it to ${implied}`);
  }
  return problems;
}

function allocationProblems(recipe: PruneRecipe, analysis: ModelAnalysis): string[] {
  const { allocation, pattern, method, sparsity } = recipe;
  const problems: string[] = [];
  const kind = allocation.kind;
  if (kind === 'owl' && analysis.numBlocks === 0) problems.push('allocation owl works per transformer block, and this model has no blocks the analysis could find');
  if (kind !== 'uniform' && pattern.kind === 'vnm') problems.push(`allocation ${kind} needs per-layer sparsities, which V:N:M (fixed density 2/M) cannot express; use uniform`);
  if (kind === 'sensitivity' && sparsity > SENSITIVITY_MAX_SPARSITY) problems.push(`allocation sensitivity caps layers at ${SENSITIVITY_MAX_SPARSITY}: target ${sparsity} is too high`);
  else if (kind !== 'uniform' && sparsity > MAX_LAYER_SPARSITY) problems.push(`allocation ${kind} caps layers at ${MAX_LAYER_SPARSITY}: target ${sparsity} is too high`);
  if (allocation.tokenSelection) {
    if (kind !== 'tamp') problems.push(`allocation.tokenSelection is TAMP's token selection: it needs allocation "tamp", not "${kind}"`);
    if (method !== 'wanda') problems.push(`allocation.tokenSelection changes Wanda's ‖X_j‖ only; method ${method} does not use it`);
    if (analysis.attention.length === 0) problems.push('allocation.tokenSelection needs attention probabilities, and this model has no attention site');
  }
  if (method === 'magnitude' && recipe.magnitudeScope === 'global') {
    if (pattern.kind !== 'unstructured') problems.push('magnitude with global scope compares all layers at once: it needs the unstructured pattern');
    if (kind !== 'uniform') problems.push(`magnitude with global scope sets each layer's sparsity itself: allocation must be uniform, not ${kind}`);
  }
  return problems;
}

function calibrationProblems(recipe: PruneRecipe, calibSize: number | undefined): string[] {
  const { samples, seed, batchSize, outputSample } = recipe.calibration;
  const problems: string[] = [];
  if (!Number.isInteger(samples) || samples < 1) problems.push(`calibration.samples must be an integer >= 1, got ${samples}`);
  else if (calibSize !== undefined && samples > calibSize) problems.push(`calibration.samples = ${samples} is more than the calibration set holds (${calibSize})`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) problems.push(`calibration.seed must be an integer in [0, 2^32), got ${seed}`);
  if (!isPositiveInteger(batchSize)) problems.push(`calibration.batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(outputSample) || outputSample < 0) problems.push(`calibration.outputSample must be an integer >= 0, got ${outputSample}`);
  if (recipe.allocation.kind === 'tamp' && outputSample < 2) problems.push('allocation tamp needs calibration.outputSample >= 2 output tokens per layer');
  if (!CALIBRATION_MODES.includes(recipe.calibration.mode)) problems.push(`calibration.mode must be "sequential" or "one-pass", got "${recipe.calibration.mode}"`);
  return problems;
}

function layerProblems(recipe: PruneRecipe, analysis: ModelAnalysis, layers: readonly LinearLayer[]): string[] {
  const problems: string[] = [];
  if (analysis.linears.length === 0) return ['the model has no linear layers (MatMul/Gemm by a 2-D weight) to prune'];
  const known = new Set(analysis.linears.flatMap((layer) => [layer.id, layer.name]));
  const unknown = recipe.layers.skip.filter((name) => !known.has(name));
  if (unknown.length > 0) problems.push(`layers.skip names no linear layer: ${unknown.map((n) => `"${n}"`).join(', ')}`);
  if (layers.length === 0) problems.push('no layer is left to prune (embeddings and the head are excluded unless layers.includeHead; see layers.skip)');
  const quantised = layers.filter((layer) => layer.weightPath.includes('DequantizeLinear'));
  if (quantised.length > 0) problems.push(`quantised weights cannot be pruned in place: ${listLayers(quantised, (l) => l.name)}`);
  const otherDtype = layers.filter((layer) => !WRITABLE_DTYPES.has(layer.weightDtype) && !layer.weightPath.includes('DequantizeLinear'));
  if (otherDtype.length > 0) problems.push(`only float32 and float16 weights can be pruned: ${listLayers(otherDtype, (l) => `${l.name} is ${l.weightDtype}`)}`);
  return problems;
}

/**
 * Problems that make `recipe` impossible on the model `analysis` describes; [] when it can run.
 * `calibSize` (samples in the calibration set), when given, bounds calibration.samples.
 */
export function validateRecipe(recipe: PruneRecipe, analysis: ModelAnalysis, calibSize?: number): string[] {
  const problems: string[] = [];
  if (!PRUNE_METHODS.includes(recipe.method)) problems.push(`unknown method "${recipe.method}" (known: ${PRUNE_METHODS.join(', ')})`);
  if (!MAGNITUDE_SCOPES.includes(recipe.magnitudeScope)) problems.push(`unknown magnitudeScope "${recipe.magnitudeScope}"`);
  if (!ALLOCATION_KINDS.includes(recipe.allocation.kind)) problems.push(`unknown allocation "${recipe.allocation.kind}"`);
  if (!(recipe.sparsity >= 0 && recipe.sparsity < 1)) problems.push(`sparsity must be in [0, 1), got ${recipe.sparsity}`);
  if (recipe.method === 'sparsegpt') {
    if (!isPositiveInteger(recipe.sparseGpt.blockSize)) problems.push(`sparseGpt.blockSize must be a positive integer, got ${recipe.sparseGpt.blockSize}`);
    if (!(recipe.sparseGpt.percDamp >= 0)) problems.push(`sparseGpt.percDamp must be >= 0, got ${recipe.sparseGpt.percDamp}`);
  }
  const layers = prunableLayers(analysis, recipe);
  problems.push(...layerProblems(recipe, analysis, layers));
  if (layers.length > 0) problems.push(...patternProblems(recipe, layers));
  problems.push(...allocationProblems(recipe, analysis));
  problems.push(...calibrationProblems(recipe, calibSize));
  return problems;
}
