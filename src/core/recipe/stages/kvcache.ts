// The `kvcache` stage: SIMULATED quantization of the attention keys and values (and optionally of
// the linear layers' input activations), so W4A4KV4 (COMET's question) on the bundled LM or a
// user's model is one stage after GPTQ. It changes no weight: its runner rewrites the exported
// graph with QuantizeLinear/DequantizeLinear nodes (quant/kvcache; docs/kv-binary.md).
//
//   { kind: 'kvcache', bits: 4 | 8, granularity: 'per-token' | 'per-head', symmetric: false,
//     keepSinks: 0, tensors: 'kv' | 'k' | 'v', activations?: { bits: 4 | 8, symmetric: true } }
import type { LinearLayer, ModelAnalysis } from '../../model/types.ts';
import type { KvGranularity } from '../../quant/kvcache/writeKvCache.ts';
import { defaultLayerSelection, prunableLayers } from '../layers.ts';
import { describeValue, type FieldReader } from '../reader.ts';
import { stageKind, type StageCheck, type StageKind, type StageProblem } from '../stage.ts';
import type { Recipe, StageSpec } from '../types.ts';
import { noAttentionSites } from './attention.ts';

export const KV_BITS = [4, 8] as const;
export type KvBits = (typeof KV_BITS)[number];
export const KV_GRANULARITIES: readonly KvGranularity[] = ['per-token', 'per-head'];
export type KvTensors = 'kv' | 'k' | 'v';
export const KV_TENSORS: readonly KvTensors[] = ['kv', 'k', 'v'];

export interface KvCacheStage extends StageSpec {
  kind: 'kvcache';
  bits: KvBits;
  /**
   * 'per-token': a scale per (batch, head, token) over the head dimension — QuaRot's K/V groups
   * of head_dim. 'per-head': a scale per (batch, head) over every token of the call.
   */
  granularity: KvGranularity;
  /** Asymmetric (min/max with a zero point, QuaRot's K/V default) unless true. */
  symmetric: boolean;
  /** The first n tokens' K/V kept in full precision (IntactKV); 0 = none. */
  keepSinks: number;
  tensors: KvTensors;
  /** Per-token fake quantization of the inputs of the quantized linear layers (the A of W4A4KV4). */
  activations?: { bits: KvBits; symmetric: boolean };
}

export const isKvCacheStage = (stage: StageSpec): stage is KvCacheStage => stage.kind === 'kvcache';

export function defaultKvCacheStage(): KvCacheStage {
  return { kind: 'kvcache', bits: 4, granularity: 'per-token', symmetric: false, keepSinks: 0, tensors: 'kv' };
}

function parseKvCacheStage(fields: FieldReader): KvCacheStage {
  const defaults = defaultKvCacheStage();
  const activations = fields.object('activations');
  const stage: KvCacheStage = {
    kind: 'kvcache',
    bits: fields.number('bits', defaults.bits) as KvBits,
    granularity: fields.choice('granularity', KV_GRANULARITIES, defaults.granularity),
    symmetric: fields.boolean('symmetric', defaults.symmetric),
    keepSinks: fields.number('keepSinks', defaults.keepSinks),
    tensors: fields.choice('tensors', KV_TENSORS, defaults.tensors),
    ...(activations ? { activations: { bits: activations.number('bits', 4) as KvBits, symmetric: activations.boolean('symmetric', true) } } : {}),
  };
  activations?.finish();
  return stage;
}

/**
 * The layers whose inputs the activation quantization covers: those of the quantize stages before
 * this one (the quantized layers of W4A4), or, with none, every layer a quantize stage would take.
 */
export function activationLayers(recipe: Recipe, stage: KvCacheStage, analysis: ModelAnalysis): LinearLayer[] {
  const index = recipe.stages.indexOf(stage);
  const earlier = recipe.stages.slice(0, index < 0 ? recipe.stages.length : index).filter((s) => s.kind === 'quantize');
  if (earlier.length === 0) return prunableLayers(analysis, { layers: defaultLayerSelection() });
  const ids = new Set(earlier.flatMap((s) => stageKind('quantize')!.layers(s, analysis).map((l) => l.id)));
  return analysis.linears.filter((l) => ids.has(l.id));
}

function validateKvCacheStage(stage: KvCacheStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string | undefined, message: string) => problems.push({ field, message });
  if (!KV_BITS.includes(stage.bits)) problem('bits', `must be 4 or 8, got ${describeValue(stage.bits)}`);
  if (!Number.isInteger(stage.keepSinks) || stage.keepSinks < 0) problem('keepSinks', `must be an integer >= 0, got ${describeValue(stage.keepSinks)}`);
  if (stage.activations && !KV_BITS.includes(stage.activations.bits)) problem('activations.bits', `must be 4 or 8, got ${describeValue(stage.activations.bits)}`);
  // It rewrites the graph the weight stages export, after them; ACT (which must be last) may follow.
  const index = check.recipe.stages.indexOf(stage);
  const later = index < 0 ? [] : check.recipe.stages.slice(index + 1).filter((s) => s.kind !== 'attention');
  if (later.length > 0) problem(undefined, `must come after the weight stages (it quantizes K/V in the graph they export), but ${later.map((s) => s.kind).join(', ')} follow${later.length === 1 ? 's' : ''}`);
  const { analysis } = check;
  if (analysis.attention.length === 0) problem(undefined, `KV-cache quantization needs the attention's keys and values in the graph: ${noAttentionSites(analysis)}`);
  const unknown = analysis.attention.filter((s) => s.headDim === null);
  if (unknown.length > 0) problem(undefined, `the head dimension of ${unknown.map((s) => s.softmaxNode).join(', ')} is unknown (neither a Reshape constant nor value_info tells), so the per-head scale groups cannot be formed`);
  if (stage.activations && activationLayers(check.recipe, stage, analysis).length === 0) problem('activations', 'no linear layer to quantize the inputs of');
  return problems;
}

const KV_FIELDS = ['bits', 'granularity', 'symmetric', 'keepSinks', 'tensors', 'activations', 'activations.bits'] as const;

/** The stage's validation paths (the recipe builder files problems under them); none without a kvcache stage. */
export function kvCacheFieldKeys(recipe: Recipe): string[] {
  const index = recipe.stages.findIndex(isKvCacheStage);
  return index < 0 ? [] : KV_FIELDS.map((field) => `stages[${index}].${field}`);
}

export function describeKvCacheStage(stage: KvCacheStage): string {
  const which = stage.tensors === 'kv' ? 'K and V' : stage.tensors.toUpperCase();
  const sinks = stage.keepSinks > 0 ? `, first ${stage.keepSinks} token${stage.keepSinks === 1 ? '' : 's'} kept in float (IntactKV)` : '';
  const acts = stage.activations ? `; activations ${stage.activations.bits}-bit per token ${stage.activations.symmetric ? 'sym' : 'asym'}` : '';
  return `KV cache (simulated): ${which} ${stage.bits}-bit ${stage.symmetric ? 'sym' : 'asym'} ${stage.granularity}${sinks}${acts}`;
}

export const kvCacheStageKind: StageKind<KvCacheStage> = {
  kind: 'kvcache',
  defaults: defaultKvCacheStage,
  parse: parseKvCacheStage,
  validate: validateKvCacheStage,
  // It changes no weight: the graph gets Q/DQ nodes on K, V (and layer inputs) at export.
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  describe: describeKvCacheStage,
  fileTag: (stage) => `${stage.activations ? `a${stage.activations.bits}` : ''}${stage.tensors}${stage.bits}${stage.granularity === 'per-head' ? 'h' : ''}${stage.keepSinks > 0 ? `-sink${stage.keepSinks}` : ''}`,
};
