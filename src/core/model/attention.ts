// Attention sites: Softmax nodes whose input comes from a MatMul of two activations (Q·Kᵀ,
// possibly scaled, masked or cast on the way) and whose output is multiplied by a third
// activation (V). The lab needs attention unfused like this for attention views and ACT.
import { constantTensor, isOnnxDomain, nodeLabel, someAncestor, type GraphIndex } from './graphIndex.ts';
import type { LinearScan } from './linear.ts';
import { elementCount, tensorDims, typeShape } from './proto.ts';
import { shapeTensorValues } from './shapeValues.ts';
import { dataInputs, traceBackToLinear, traceForwardToLinear, type BackwardTrace } from './trace.ts';
import type { AttentionSite, LinearLayer } from './types.ts';

/** Ops between Q·Kᵀ and the Softmax: scale, mask, soft-capping, dtype casts. */
const SCORE_OPS = new Set(['Div', 'Mul', 'Add', 'Sub', 'Where', 'Cast', 'Identity', 'Reshape', 'Tanh', 'Clip']);
/** Ops between the Softmax and the MatMul with V. */
const PROBS_OPS = new Set(['Cast', 'Dropout', 'Identity', 'Where', 'Reshape']);
const MAX_STEPS = 16;
/**
 * Edges (readers or inputs) one search looks at. Real graphs give a probability tensor one or
 * two readers; the cap keeps a hostile node with 10⁵ inputs or readers from making every
 * search, and so the analysis, quadratic.
 */
const MAX_EDGES = 1024;

export interface AttentionScan {
  sites: AttentionSite[];
  /** Q·Kᵀ and probabilities·V MatMuls of recognised sites. */
  explainedMatMuls: Set<number>;
  /** Softmax nodes that are not attention (no Q·Kᵀ before, or no MatMul with V after). */
  otherSoftmaxes: { nodeName: string; output: string }[];
}

/** An activation × activation MatMul that is not a linear layer. */
function isActivationMatMul(index: GraphIndex, scan: LinearScan, nodeIndex: number): boolean {
  const node = index.nodes[nodeIndex];
  return node.opType === 'MatMul' && isOnnxDomain(node) && scan.activationMatMuls.has(nodeIndex);
}

/** The MatMul that multiplies the probabilities by V, following casts and dropout. */
function findContextMatMul(index: GraphIndex, scan: LinearScan, probs: string): { node: number; values: string } | null {
  const queue = [probs];
  let edges = 0;
  for (let head = 0; head < queue.length && head < MAX_STEPS; head++) {
    for (const consumer of index.consumers.get(queue[head]) ?? []) {
      if (++edges > MAX_EDGES) return null;
      const node = index.nodes[consumer];
      if (isActivationMatMul(index, scan, consumer)) {
        const values = (node.input ?? []).find((input) => input !== queue[head]) ?? '';
        return { node: consumer, values };
      }
      if (!isOnnxDomain(node) || !PROBS_OPS.has(node.opType ?? '')) continue;
      for (const output of node.output ?? []) {
        if (queue.length >= MAX_STEPS) break;
        if (output) queue.push(output);
      }
    }
  }
  return null;
}

/** Q·Kᵀ upstream of the Softmax, and whether an input-independent mask is applied on the way. */
function findScoresMatMul(
  index: GraphIndex,
  scan: LinearScan,
  scoresInput: string,
): { node: number; causalMask: boolean } | null {
  const queue = [scoresInput];
  let causalMask = false;
  let edges = 0;
  for (let head = 0; head < queue.length && head < MAX_STEPS; head++) {
    const producer = index.producer.get(queue[head]);
    if (producer === undefined) continue;
    if (isActivationMatMul(index, scan, producer)) return { node: producer, causalMask };
    const node = index.nodes[producer];
    if (!isOnnxDomain(node) || !SCORE_OPS.has(node.opType ?? '')) continue;
    edges += node.input?.length ?? 0;
    if (edges > MAX_EDGES) return null;
    causalMask ||= appliesStaticMask(index, producer);
    for (const input of dataInputs(index, producer)) {
      if (queue.length >= MAX_STEPS) break;
      queue.push(input);
    }
  }
  return null;
}

/** Where with a constant condition, or Add/Sub of a non-scalar tensor that no input changes. */
function appliesStaticMask(index: GraphIndex, nodeIndex: number): boolean {
  const node = index.nodes[nodeIndex];
  const inputs = node.input ?? [];
  if (node.opType === 'Where') return !index.dataDependent.has(inputs[0] ?? '') || buildsCausalTriangle(index, inputs[0] ?? '');
  if (node.opType !== 'Add' && node.opType !== 'Sub') return false;
  return inputs.some((input) => {
    if (!input) return false;
    if (index.dataDependent.has(input)) return buildsCausalTriangle(index, input);
    const constant = constantTensor(index, input);
    return !constant || elementCount(tensorDims(constant)) > 1;
  });
}

const POSITION_COMPARISONS = new Set(['Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual']);

/**
 * The mask HF builds when a KV cache and an attention_mask are fed combines the causal triangle
 * with the padding keys, so it depends on an input; it is still causal when a Trilu or a
 * comparison of two input-independent position ranges (key position > query position, offset by
 * the past length; modeling_attn_mask_utils, masking_utils.causal_mask_function) made it.
 */
function buildsCausalTriangle(index: GraphIndex, mask: string): boolean {
  return someAncestor(index, mask, (n) => {
    const node = index.nodes[n];
    if (node.opType === 'Trilu') return true;
    return POSITION_COMPARISONS.has(node.opType ?? '') && (node.input ?? []).every((input) => !index.dataDependent.has(input));
  });
}

interface HeadSplit {
  heads: number;
  headDim: number;
}

/**
 * Heads from the Reshape that splits a projection into [.., .., heads, headDim]: the one
 * nearest the projection (deepest in the trace). A -1 entry is inferred from the projection's
 * width when it is known.
 */
function headSplit(index: GraphIndex, trace: BackwardTrace, width: number | null): HeadSplit | null {
  const deepestFirst = [...trace.reshapes].sort((a, b) => b.depth - a.depth);
  for (const { nodeIndex } of deepestFirst) {
    const values = shapeTensorValues(index, index.nodes[nodeIndex].input?.[1] ?? '');
    if (!values || values.length !== 4) continue;
    let [heads, headDim] = [values[2], values[3]];
    const known = (v: number | null): v is number => v !== null && v > 0;
    if (!known(heads) && known(headDim) && width) heads = width / headDim;
    if (!known(headDim) && known(heads) && width) headDim = width / heads;
    if (known(heads) && known(headDim) && Number.isInteger(heads) && Number.isInteger(headDim)) return { heads, headDim };
  }
  return null;
}

/** Width of one of Q/K/V coming out of a projection; a fused QKV projection holds three. */
function branchWidth(layer: LinearLayer | undefined, fused: boolean): number | null {
  if (!layer) return null;
  return fused ? layer.outFeatures / 3 : layer.outFeatures;
}

/** Heads from value_info when the exporter kept the probabilities' shape [b, heads, t, t]. */
function headsFromValueInfo(index: GraphIndex, probs: string): number | null {
  const shape = typeShape(index.valueInfo.get(probs)?.type);
  return shape?.length === 4 && typeof shape[1] === 'number' ? shape[1] : null;
}

interface SiteMatch {
  site: AttentionSite;
  scoresNode: number;
  contextNode: number;
}

function describeSite(
  index: GraphIndex,
  scan: LinearScan,
  byId: ReadonlyMap<string, LinearLayer>,
  softmax: number,
): SiteMatch | null {
  const node = index.nodes[softmax];
  const probs = node.output?.[0] ?? '';
  const context = findContextMatMul(index, scan, probs);
  const scores = findScoresMatMul(index, scan, node.input?.[0] ?? '');
  if (!context || !scores) return null;
  const [qInput = '', kInput = ''] = index.nodes[scores.node].input ?? [];
  const qTrace = traceBackToLinear(index, scan.nodeToLinear, qInput);
  const kTrace = traceBackToLinear(index, scan.nodeToLinear, kInput);
  const vTrace = traceBackToLinear(index, scan.nodeToLinear, context.values);
  const out = traceForwardToLinear(index, scan.nodeToLinear, index.nodes[context.node].output?.[0] ?? '');
  const fused = qTrace.linear !== null && (qTrace.linear === kTrace.linear || qTrace.linear === vTrace.linear);
  const qSplit = headSplit(index, qTrace, branchWidth(byId.get(qTrace.linear ?? ''), fused));
  const kSplit = headSplit(index, kTrace, branchWidth(byId.get(kTrace.linear ?? ''), fused));
  const infoHeads = headsFromValueInfo(index, probs);
  const heads = qSplit?.heads ?? infoHeads;
  const site: AttentionSite = {
    softmaxNode: nodeLabel(index, softmax),
    output: probs,
    scoresNode: nodeLabel(index, scores.node),
    contextNode: nodeLabel(index, context.node),
    block: null,
    heads,
    kvHeads: kSplit?.heads ?? heads,
    headDim: qSplit?.headDim ?? kSplit?.headDim ?? null,
    headsSource: qSplit ? 'reshape' : infoHeads !== null ? 'value_info' : 'unknown',
    q: qTrace.linear,
    k: kTrace.linear,
    v: vTrace.linear,
    out,
    causalMask: scores.causalMask,
    order: index.position[softmax],
  };
  return { site, scoresNode: scores.node, contextNode: context.node };
}

export function findAttention(index: GraphIndex, scan: LinearScan): AttentionScan {
  const sites: AttentionSite[] = [];
  const explainedMatMuls = new Set<number>();
  const otherSoftmaxes: AttentionScan['otherSoftmaxes'] = [];
  const byId = new Map(scan.linears.map((layer) => [layer.id, layer]));
  for (const nodeIndex of index.order) {
    const node = index.nodes[nodeIndex];
    if (node.opType !== 'Softmax' || !isOnnxDomain(node)) continue;
    const match = describeSite(index, scan, byId, nodeIndex);
    if (!match) {
      otherSoftmaxes.push({ nodeName: nodeLabel(index, nodeIndex), output: node.output?.[0] ?? '' });
      continue;
    }
    sites.push(match.site);
    explainedMatMuls.add(match.scoresNode).add(match.contextNode);
  }
  return { sites, explainedMatMuls, otherSoftmaxes };
}

/** Fused attention kernels (ONNX Runtime contrib ops, ONNX 23 Attention) the analysis cannot open. */
const FUSED_ATTENTION_OPS = new Set([
  'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'DecoderAttention', 'SparseAttention',
  'LongformerAttention', 'QAttention', 'PagedAttention',
]);

export function fusedAttentionNodes(index: GraphIndex): { label: string; opType: string; domain: string }[] {
  return index.order
    .filter((nodeIndex) => FUSED_ATTENTION_OPS.has(index.nodes[nodeIndex].opType ?? ''))
    .map((nodeIndex) => {
      const node = index.nodes[nodeIndex];
      return { label: nodeLabel(index, nodeIndex), opType: node.opType ?? '', domain: node.domain || 'ai.onnx' };
    });
}
