// The `bitstack` stage: BitStack (xinghaow99/BitStack) — each chosen layer decomposed into ~1-bit
// blocks (sign × rank-k scale), the blocks of all layers stacked by importance, and the prefix that
// fits a memory budget kept (src/core/lowrank/bitstack.ts, docs/lowrank.md#bitstack). A
// shape-changing stage (compress/bitstackStage.ts runs it): the packed export replaces each weight
// by ops that rebuild it from its blocks.
//
//   { kind: 'bitstack', budget: { kind: 'fraction', fraction: 0.5 } | { kind: 'bytes', bytes },
//     steps: 16, k: 1, export: 'packed' | 'dense', layers: { includeHead, skip } }
import { bitStackBlockBytes } from '../../lowrank/bitstack.ts';
import { BITSTACK_PACKED_OPSET, bitStackUnsupportedReason } from '../../lowrank/bitstackGraph.ts';
import type { LinearLayer, ModelAnalysis } from '../../model/types.ts';
import { defaultLayerSelection, listLayers, LISTED_LAYERS, prunableLayers, readLayerSelection, type LayerSelection } from '../layers.ts';
import type { FieldReader } from '../reader.ts';
import type { StageCheck, StageKind, StageProblem } from '../stage.ts';
import type { StageSpec } from '../types.ts';

export type BitStackBudget = { kind: 'fraction'; fraction: number } | { kind: 'bytes'; bytes: number };
export const BITSTACK_BUDGET_KINDS = ['fraction', 'bytes'] as const;
export type BitStackExport = 'packed' | 'dense';
export const BITSTACK_EXPORTS: readonly BitStackExport[] = ['packed', 'dense'];

/** Most decomposition steps a layer may have (the reference decomposes 16). */
export const MAX_BITSTACK_STEPS = 64;

export interface BitStackStage extends StageSpec {
  kind: 'bitstack';
  /** Memory for the chosen layers' blocks: bytes, or a fraction of their dense weights' stored bytes. */
  budget: BitStackBudget;
  /** Decomposition steps per layer (blocks available to the stack). */
  steps: number;
  /** Singular triplets per block (the reference's k; its main.py default 1). */
  k: number;
  /** 'packed': sign bits and float16 u, v rebuilt by ONNX ops (a smaller file); 'dense': the reconstruction as floats. */
  export: BitStackExport;
  layers: LayerSelection;
}

export const isBitStackStage = (stage: StageSpec): stage is BitStackStage => stage.kind === 'bitstack';

export function defaultBitStackStage(): BitStackStage {
  return { kind: 'bitstack', budget: { kind: 'fraction', fraction: 0.5 }, steps: 16, k: 1, export: 'packed', layers: defaultLayerSelection() };
}

function readBudget(fields: FieldReader, fallback: BitStackBudget): BitStackBudget {
  const budget = fields.object('budget');
  if (budget === undefined) return fallback;
  const kind = budget.choice('kind', BITSTACK_BUDGET_KINDS, fallback.kind);
  const value: BitStackBudget = kind === 'fraction' ? { kind, fraction: budget.number('fraction', 0.5) } : { kind, bytes: budget.number('bytes', Number.NaN) };
  if (kind === 'bytes' && !budget.has('bytes')) budget.problem('bytes', 'is required');
  budget.finish();
  return value;
}

function parseBitStackStage(fields: FieldReader): BitStackStage {
  const defaults = defaultBitStackStage();
  const layers = fields.object('layers');
  const stage: BitStackStage = {
    kind: 'bitstack',
    budget: readBudget(fields, defaults.budget),
    steps: fields.number('steps', defaults.steps),
    k: fields.number('k', defaults.k),
    export: fields.choice('export', BITSTACK_EXPORTS, defaults.export),
    layers: readLayerSelection(layers),
  };
  layers?.finish();
  return stage;
}

export const bitStackLayers = (stage: BitStackStage, analysis: ModelAnalysis): LinearLayer[] => prunableLayers(analysis, stage);

/** Bytes the layer's weight is stored in now (float32: 4 per weight). */
export const denseWeightBytes = (layer: LinearLayer): number => layer.outFeatures * layer.inFeatures * (layer.weightDtype === 'float16' ? 2 : 4);

/** The budget in bytes for these layers. */
export function budgetBytes(stage: BitStackStage, layers: readonly LinearLayer[]): number {
  if (stage.budget.kind === 'bytes') return stage.budget.bytes;
  return Math.floor(stage.budget.fraction * layers.reduce((sum, l) => sum + denseWeightBytes(l), 0));
}

/** The range a budget can take on these layers: one block each, every step of each, and the smallest block. */
export function bitStackRange(layers: readonly LinearLayer[], steps: number, k: number): { minBytes: number; maxBytes: number; stepBytes: number; denseBytes: number } {
  const blocks = layers.map((l) => bitStackBlockBytes(l.outFeatures, l.inFeatures, k));
  const minBytes = blocks.reduce((a, b) => a + b, 0);
  return { minBytes, maxBytes: minBytes * steps, stepBytes: blocks.length ? Math.min(...blocks) : 0, denseBytes: layers.reduce((sum, l) => sum + denseWeightBytes(l), 0) };
}

/** Kinds that may follow a packed BitStack stage: they do not read the linear weights. */
const AFTER_PACKED = new Set(['attention', 'kvcache']);

function validateBitStackStage(stage: BitStackStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string | undefined, message: string) => problems.push({ field, message });
  const { budget } = stage;
  if (budget.kind === 'fraction' && !(budget.fraction > 0 && budget.fraction <= 1)) problem('budget.fraction', `must be in (0, 1], got ${budget.fraction}`);
  if (budget.kind === 'bytes' && !(Number.isInteger(budget.bytes) && budget.bytes > 0)) problem('budget.bytes', `must be a positive integer, got ${budget.bytes}`);
  if (!(Number.isInteger(stage.steps) && stage.steps >= 1 && stage.steps <= MAX_BITSTACK_STEPS)) problem('steps', `must be an integer in 1..${MAX_BITSTACK_STEPS}, got ${stage.steps}`);
  if (!(Number.isInteger(stage.k) && stage.k >= 1)) problem('k', `must be an integer >= 1, got ${stage.k}`);
  const index = check.recipe.stages.indexOf(stage);
  const later = check.recipe.stages.slice(index + 1).filter((s) => !AFTER_PACKED.has(s.kind));
  if (stage.export === 'packed' && index >= 0 && later.length > 0) problem('export', `"packed" stores the layers as sign blocks that ${later.map((s) => s.kind).join(', ')} after it cannot read; use export "dense" or put those stages first`);
  const opset = check.analysis.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
  if (stage.export === 'packed' && opset < BITSTACK_PACKED_OPSET) problem('export', `"packed" needs ONNX opset ${BITSTACK_PACKED_OPSET} or later (the model imports ${opset}); use export "dense"`);
  const known = new Set(check.analysis.linears.flatMap((l) => [l.id, l.name]));
  const unknown = stage.layers.skip.filter((name) => !known.has(name));
  if (unknown.length > 0) problem('layers.skip', `names no linear layer: ${unknown.slice(0, LISTED_LAYERS).map((n) => JSON.stringify(n.slice(0, 80))).join(', ')}`);
  const layers = bitStackLayers(stage, check.analysis);
  if (layers.length === 0) {
    problem('layers', 'no linear layer is left to decompose (embeddings and the head are excluded unless layers.includeHead)');
    return problems;
  }
  const refused = layers.filter((layer) => bitStackUnsupportedReason(layer) !== null);
  if (refused.length > 0) problem('layers', `cannot be stored as BitStack blocks: ${listLayers(refused, (l) => `${l.name} (${bitStackUnsupportedReason(l)})`)}; list them in layers.skip`);
  if (problems.some((p) => p.field === 'k' || p.field?.startsWith('budget'))) return problems;
  const tooWide = layers.find((l) => stage.k > Math.min(l.outFeatures, l.inFeatures));
  if (tooWide) problem('k', `${stage.k} is more than ${tooWide.name} has singular values (${Math.min(tooWide.outFeatures, tooWide.inFeatures)})`);
  const { minBytes } = bitStackRange(layers, stage.steps, stage.k);
  const bytes = budgetBytes(stage, layers);
  if (bytes < minBytes) problem(budget.kind === 'fraction' ? 'budget.fraction' : 'budget.bytes', `${bytes.toLocaleString('en')} bytes is less than one block per layer needs (${minBytes.toLocaleString('en')} bytes)`);
  return problems;
}

export function describeBitStackBudget(budget: BitStackBudget): string {
  return budget.kind === 'fraction' ? `${+(budget.fraction * 100).toFixed(2)} % of the dense weights' bytes` : `${budget.bytes.toLocaleString('en')} bytes`;
}

export function describeBitStackStage(stage: BitStackStage): string {
  return `BitStack, ${describeBitStackBudget(stage.budget)}, up to ${stage.steps} blocks per layer, k ${stage.k}, ${stage.export === 'packed' ? 'packed sign blocks' : 'stored dense'}${stage.layers.includeHead ? ', head included' : ''}`;
}

export const bitStackStageKind: StageKind<BitStackStage> = {
  kind: 'bitstack',
  defaults: defaultBitStackStage,
  parse: parseBitStackStage,
  validate: validateBitStackStage,
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  // The activation scale and the report's errors come from one calibration pass.
  calibrates: () => true,
  reshapes: true,
  describe: describeBitStackStage,
  fileTag: (stage) => `bitstack-${stage.budget.kind === 'fraction' ? `${Math.round(stage.budget.fraction * 100)}` : `${stage.budget.bytes}b`}${stage.export === 'dense' ? '-dense' : ''}`,
};
