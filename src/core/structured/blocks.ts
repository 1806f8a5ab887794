// Which structures a transformer block offers structured pruning, read from the model analysis:
// attention heads (grouped as key-value groups under grouped-query attention) and MLP neurons.
//
// A "head group" is the unit removed from attention: one key/value head and the query heads that
// share it (HF's repeat_kv: query head i reads kv head ⌊i / (heads/kvHeads)⌋). Without GQA a group
// is one head. Removing a group removes its rows of Q, K, V (and biases) and its columns of the
// output projection's input; removing only query heads of a GQA group would leave the group's
// K/V rows in place and change no K/V shape, so the lab removes whole groups (documented in
// docs/structured.md).
import type { AttentionSite, LinearLayer, ModelAnalysis } from '../model/types.ts';

export interface AttentionStructure {
  site: AttentionSite;
  /** Separate Q, K, V projections, or one fused QKV (GPT-2's c_attn) split after the product. */
  q: LinearLayer | null;
  k: LinearLayer | null;
  v: LinearLayer | null;
  qkv: LinearLayer | null;
  out: LinearLayer;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Query heads per key/value head. */
  groupSize: number;
}

export interface MlpStructure {
  up: LinearLayer;
  gate: LinearLayer | null;
  down: LinearLayer;
  neurons: number;
}

export interface StructuredBlock {
  block: number;
  attention: AttentionStructure | null;
  mlp: MlpStructure | null;
}

/** Columns of the output projection's input (or Q rows) of head group g: its query heads, consecutive. */
export function groupColumns(a: Pick<AttentionStructure, 'groupSize' | 'headDim'>, group: number): number[] {
  const width = a.groupSize * a.headDim;
  return Array.from({ length: width }, (_, i) => group * width + i);
}

/** Rows of K (or V) of head group g. */
export function kvRows(a: Pick<AttentionStructure, 'headDim'>, group: number): number[] {
  return Array.from({ length: a.headDim }, (_, i) => group * a.headDim + i);
}

const isFloatDense = (layer: LinearLayer) => layer.opType !== 'MatMulNBits' && !layer.weightPath.includes('DequantizeLinear') && (layer.weightDtype === 'float32' || layer.weightDtype === 'float16' || layer.weightDtype === 'bfloat16');

function layerProblem(layer: LinearLayer): string | null {
  if (!isFloatDense(layer)) return `${layer.name} stores its weight as ${layer.opType === 'MatMulNBits' ? 'MatMulNBits' : layer.weightDtype}${layer.weightPath.length ? ` through ${layer.weightPath.join(', ')}` : ''}, not as a float initializer (structured pruning must come before quantization)`;
  if (layer.sharedWith.length > 0) return `${layer.name}'s weight is shared with ${layer.sharedWith.join(', ')}, so it cannot be sliced alone`;
  if (layer.uses.length !== 1) return `${layer.name}'s weight feeds ${layer.uses.length} products`;
  return null;
}

function attentionOf(analysis: ModelAnalysis, block: number, byId: Map<string, LinearLayer>): AttentionStructure | string {
  const sites = analysis.attention.filter((s) => s.block === block);
  if (sites.length !== 1) return `block ${block} has ${sites.length} attention sites (structured pruning needs exactly one)`;
  const site = sites[0];
  if (site.heads === null || site.kvHeads === null || site.headDim === null) return `the heads of block ${block}'s attention are unknown (neither a Reshape constant nor value_info tells)`;
  const get = (id: string | null) => (id === null ? null : byId.get(id) ?? null);
  const out = get(site.out);
  if (out === null) return `block ${block}'s attention output projection was not found`;
  const fused = site.q !== null && site.q === site.k && site.k === site.v;
  const qkv = fused ? get(site.q) : null;
  const [q, k, v] = fused ? [null, null, null] : [get(site.q), get(site.k), get(site.v)];
  if (!fused && (q === null || k === null || v === null)) return `block ${block}'s Q, K and V projections were not all found`;
  const { heads, kvHeads, headDim } = site;
  if (heads % kvHeads !== 0) return `block ${block} has ${heads} query heads for ${kvHeads} key-value heads (not a whole number per group)`;
  if (out.inFeatures !== heads * headDim) return `block ${block}'s output projection reads ${out.inFeatures} features, not heads × head size = ${heads * headDim}`;
  for (const layer of [q, k, v, qkv, out]) {
    if (layer === null) continue;
    const problem = layerProblem(layer);
    if (problem) return problem;
  }
  if (qkv && qkv.outFeatures !== (heads + 2 * kvHeads) * headDim) return `${qkv.name} gives ${qkv.outFeatures} features, not (heads + 2·kv heads) × head size`;
  if (q && q.outFeatures !== heads * headDim) return `${q.name} gives ${q.outFeatures} features, not heads × head size = ${heads * headDim}`;
  for (const kv of [k, v]) if (kv && kv.outFeatures !== kvHeads * headDim) return `${kv.name} gives ${kv.outFeatures} features, not kv heads × head size = ${kvHeads * headDim}`;
  return { site, q, k, v, qkv, out, heads, kvHeads, headDim, groupSize: heads / kvHeads };
}

function mlpOf(block: number, layers: LinearLayer[]): MlpStructure | string {
  const role = (r: LinearLayer['role']) => layers.filter((l) => l.role === r);
  const [ups, gates, downs] = [role('mlp.up'), role('mlp.gate'), role('mlp.down')];
  if (downs.length !== 1 || ups.length !== 1 || gates.length > 1) return `block ${block} has ${ups.length} MLP up, ${gates.length} gate and ${downs.length} down projections (structured pruning needs one up, at most one gate, one down)`;
  const [up, down] = [ups[0], downs[0]];
  const gate = gates[0] ?? null;
  for (const layer of [up, gate, down]) {
    if (layer === null) continue;
    const problem = layerProblem(layer);
    if (problem) return problem;
  }
  if (up.outFeatures !== down.inFeatures || (gate && gate.outFeatures !== up.outFeatures)) return `block ${block}'s MLP widths disagree (up ${up.outFeatures}, ${gate ? `gate ${gate.outFeatures}, ` : ''}down reads ${down.inFeatures})`;
  return { up, gate, down, neurons: up.outFeatures };
}

/**
 * The model's blocks with their prunable structures, or the first reason one cannot be pruned,
 * as one sentence. `want` says which structures are needed (a block without them is a problem).
 */
export function structuredBlocks(analysis: ModelAnalysis, want: { heads: boolean; neurons: boolean }): StructuredBlock[] | string {
  if (analysis.blocks.length === 0) return 'the analysis found no transformer blocks (structured pruning removes heads and neurons per block)';
  const byId = new Map(analysis.linears.map((l) => [l.id, l]));
  const blocks: StructuredBlock[] = [];
  for (const info of analysis.blocks) {
    const layers = info.linears.map((id) => byId.get(id)).filter((l): l is LinearLayer => l !== undefined);
    let attention: AttentionStructure | null = null;
    let mlp: MlpStructure | null = null;
    if (want.heads) {
      const found = attentionOf(analysis, info.index, byId);
      if (typeof found === 'string') return found;
      attention = found;
    }
    if (want.neurons) {
      const found = mlpOf(info.index, layers);
      if (typeof found === 'string') return found;
      mlp = found;
    }
    blocks.push({ block: info.index, attention, mlp });
  }
  return blocks;
}
