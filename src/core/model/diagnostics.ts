// Plain-language reports of what the analysis did not recognise (warnings) and of graph
// features it does not handle (unsupported), so the lab can tell the user why a view is empty.
import type { ModelProto } from '../onnx/types.ts';
import { fusedAttentionNodes, packsQkvWeights, type AttentionScan } from './attention.ts';
import { nodeLabel, type GraphIndex } from './graphIndex.ts';
import { resolveWeight, type LinearScan } from './linear.ts';
import { hasSubgraph, isExternal } from './proto.ts';
import { shortName } from '../onnx/display.ts';
import type { AttentionSite, FusedAttentionNode, LinearLayer } from './types.ts';

const NEEDS_UNFUSED = 'the lab needs unfused attention for attention views and ACT';

/** "'a', 'b', 'c' and 4 more", each name cut to a readable length (see shortName). */
export function listNames(names: readonly string[], shown = 3): string {
  const quoted = names.slice(0, shown).map((name) => `'${shortName(name)}'`).join(', ');
  return names.length > shown ? `${quoted} and ${names.length - shown} more` : quoted;
}

/** Ops whose weights are packed or quantized in a way the lab does not read as a linear layer (a
 * MatMulNBits with a stored B and an activation A is one: linear.ts). */
const QUANTIZED_OPS = new Set([
  'MatMulNBits', 'MatMulInteger', 'QLinearMatMul', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul',
  'QGemm', 'MatMulFpQ4', 'MatMulBnb4', 'GatherBlockQuantized', 'QLinearConv', 'ConvInteger',
]);
const FUSED_MATMUL_OPS = new Set(['FusedMatMul', 'FusedGemm']);

function labelsWhere(index: GraphIndex, test: (nodeIndex: number) => boolean): string[] {
  return index.order.filter(test).map((nodeIndex) => nodeLabel(index, nodeIndex));
}

/** "3 MatMulNBits node(s) ('a', 'b', 'c'): <what>", one line per op type; `recognised` nodes are left out. */
function perOpMessages(index: GraphIndex, ops: ReadonlySet<string>, what: string, recognised: ReadonlyMap<number, string> = new Map()): string[] {
  const byOp = new Map<string, string[]>();
  for (const nodeIndex of index.order) {
    const opType = index.nodes[nodeIndex].opType ?? '';
    if (!ops.has(opType) || recognised.has(nodeIndex)) continue;
    const labels = byOp.get(opType);
    if (labels) labels.push(nodeLabel(index, nodeIndex));
    else byOp.set(opType, [nodeLabel(index, nodeIndex)]);
  }
  return [...byOp].map(([opType, labels]) => `${labels.length} ${opType} node(s) (${listNames(labels)}): ${what}`);
}

/** What a fused attention kernel hides, per op (see packsQkvWeights); the output projection is always a MatMul after it. */
function fusedAttentionMessage({ label, opType, domain }: FusedAttentionNode): string {
  const weights = packsQkvWeights(opType)
    ? 'its packed Q/K/V weight is a kernel input, not a linear layer (the output projection is one)'
    : 'its Q/K/V and output projections are MatMuls and can be compressed';
  return `${shortName(domain)} ${opType} node '${shortName(label)}': fused attention — ${weights}; its probabilities are no tensor, so cannot be seen or calibrated`;
}

function fusedAttentionMessages(index: GraphIndex): string[] {
  return fusedAttentionNodes(index).map(fusedAttentionMessage);
}

function einsumMessages(index: GraphIndex): string[] {
  const withWeight = labelsWhere(index, (nodeIndex) => {
    const node = index.nodes[nodeIndex];
    const inputs = node.input ?? [];
    return (
      node.opType === 'Einsum' &&
      inputs.some((input) => index.dataDependent.has(input)) &&
      inputs.some((input) => resolveWeight(index, input) !== null)
    );
  });
  if (withWeight.length === 0) return [];
  return [`${withWeight.length} Einsum node(s) with a weight operand (${listNames(withWeight)}): linear layers written as Einsum are not recognised`];
}

function containerMessages(model: ModelProto, index: GraphIndex): string[] {
  const messages: string[] = [];
  const external = (model.graph?.initializer ?? []).filter(isExternal).map((tensor) => tensor.name ?? '');
  if (external.length > 0) {
    messages.push(`Weights are external data: ${external.length} initializer(s) (${listNames(external)}) keep their values outside the .onnx file`);
  }
  const withSubgraphs = labelsWhere(index, (nodeIndex) => hasSubgraph(index.nodes[nodeIndex]));
  if (withSubgraphs.length > 0) {
    messages.push(`${withSubgraphs.length} node(s) carry subgraphs (If/Loop/Scan: ${listNames(withSubgraphs)}); the analysis does not look inside them`);
  }
  const functions = new Set((model.functions ?? []).map((fn) => `${fn.domain ?? ''}:${fn.name ?? ''}`));
  const calls = labelsWhere(index, (i) => functions.has(`${index.nodes[i].domain ?? ''}:${index.nodes[i].opType ?? ''}`));
  if (calls.length > 0) {
    messages.push(`${calls.length} node(s) call model-local functions (${listNames(calls)}); function bodies are not analysed`);
  }
  const sparse = model.graph?.sparseInitializer?.length ?? 0;
  if (sparse > 0) messages.push(`${sparse} sparse initializer(s): not counted and not analysed`);
  return messages;
}

/** Graph features the analysis does not handle; `linearNodes` (LinearScan.nodeToLinear) are handled. */
export function unsupportedFeatures(model: ModelProto, index: GraphIndex, linearNodes: ReadonlyMap<number, string> = new Map()): string[] {
  return [
    ...fusedAttentionMessages(index),
    ...perOpMessages(index, QUANTIZED_OPS, 'quantized/packed weights, not analysed as linear layers', linearNodes),
    ...perOpMessages(index, FUSED_MATMUL_OPS, 'fused contrib ops are not analysed as linear layers'),
    ...einsumMessages(index),
    ...containerMessages(model, index),
  ];
}

function noAttentionMessage(index: GraphIndex, attention: AttentionScan): string {
  const others = attention.otherSoftmaxes.map((softmax) => softmax.nodeName);
  const present =
    others.length > 0
      ? ` (${others.length} Softmax node(s) present but not between Q·Kᵀ and a MatMul with V: ${listNames(others)})`
      : '';
  const fused = fusedAttentionNodes(index)
    .slice(0, 3)
    .map((f) => `${shortName(f.domain)} ${f.opType} node '${shortName(f.label)}'`);
  const why = fused.length > 0 ? `attention may be fused (${fused.join(', ')} found)` : 'the model may have no attention';
  return `Found 0 Softmax nodes feeding a MatMul${present}: ${why} — ${NEEDS_UNFUSED}`;
}

function siteWarnings(site: AttentionSite): string[] {
  const warnings: string[] = [];
  if (site.heads === null) {
    warnings.push(
      `Attention '${shortName(site.softmaxNode)}': number of heads unknown (no Reshape to [.., .., heads, headDim] ` +
        'with constant sizes on the Q path, no value_info shape for the probabilities)',
    );
  }
  const missing = (['q', 'k', 'v', 'out'] as const).filter((slot) => site[slot] === null);
  if (missing.length > 0) {
    warnings.push(`Attention '${shortName(site.softmaxNode)}': could not trace ${missing.join(', ')} to a linear layer`);
  }
  return warnings;
}

function attentionWarnings(index: GraphIndex, attention: AttentionScan): string[] {
  if (attention.sites.length === 0) return [noAttentionMessage(index, attention)];
  const warnings = attention.sites.flatMap(siteWarnings);
  const strays = attention.otherSoftmaxes
    .filter((softmax) => !index.graphOutputs.has(softmax.output))
    .map((softmax) => softmax.nodeName);
  if (strays.length > 0) {
    warnings.push(`${strays.length} Softmax node(s) are not attention (no Q·Kᵀ before or no MatMul with V after): ${listNames(strays)}`);
  }
  return warnings;
}

function linearWarnings(index: GraphIndex, linears: readonly LinearLayer[], scan: LinearScan, attention: AttentionScan): string[] {
  const warnings = [...scan.notes];
  if (linears.length === 0) {
    warnings.push(
      'No linear layers found: no MatMul or Gemm multiplies an activation by a 2-D initializer ' +
        '(directly or through Transpose/Cast/DequantizeLinear)',
    );
  }
  for (const nodeIndex of scan.activationMatMuls) {
    if (attention.explainedMatMuls.has(nodeIndex)) continue;
    warnings.push(
      `MatMul '${shortName(nodeLabel(index, nodeIndex))}' has no initializer operand: activation × activation, ` +
        'not a linear layer (and not part of a recognised attention)',
    );
  }
  const unplaced = linears.filter((layer) => layer.block === null && /^(attn|mlp)\./.test(layer.role));
  if (unplaced.length > 0) {
    warnings.push(`${unplaced.length} attention/MLP linear layer(s) have no block index: ${listNames(unplaced.map((l) => l.name))}`);
  }
  const unknownInBlock = linears.filter((layer) => layer.block !== null && layer.role === 'other');
  if (unknownInBlock.length > 0) {
    warnings.push(`${unknownInBlock.length} linear layer(s) inside blocks have no recognised role: ${listNames(unknownInBlock.map((l) => l.name))}`);
  }
  return warnings;
}

function blockWarnings(sites: readonly AttentionSite[], blockCount: number): string[] {
  const warnings: string[] = [];
  const perBlock = new Map<number, number>();
  for (const site of sites) if (site.block !== null) perBlock.set(site.block, (perBlock.get(site.block) ?? 0) + 1);
  const crowded = [...perBlock].filter(([, count]) => count > 1).map(([block]) => block);
  if (crowded.length > 0) {
    const shown = crowded.length > 8 ? `${crowded.slice(0, 8).join(', ')} and ${crowded.length - 8} more` : crowded.join(', ');
    warnings.push(
      `Blocks ${shown} hold more than one attention Softmax ` +
        '(cross-attention, per-head softmaxes, or encoder and decoder numbered alike)',
    );
  }
  if (sites.length > 0 && perBlock.size !== blockCount) {
    warnings.push(`${sites.length} attention site(s) spread over ${perBlock.size} of ${blockCount} blocks`);
  }
  return warnings;
}

export function analysisWarnings(
  index: GraphIndex,
  linears: readonly LinearLayer[],
  scan: LinearScan,
  attention: AttentionScan,
  placedSites: readonly AttentionSite[],
  blockCount: number,
): string[] {
  return [
    ...linearWarnings(index, linears, scan, attention),
    ...attentionWarnings(index, attention),
    ...blockWarnings(placedSites, blockCount),
  ];
}
