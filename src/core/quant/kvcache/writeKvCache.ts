// Simulated KV-cache (and activation) quantization written into the graph: dynamic fake
// quantization (fakeQuant.ts: QuantizeLinear → DequantizeLinear, scale computed in the graph) on
// every attention site's keys and values where the cache holds them (cacheTensors.ts), and,
// optionally, per token on the inputs of linear layers (the "A" of W4A4KV4). No weight changes.
//
// Sinks (IntactKV, Liu et al. 2024, ruikangliu/IntactKV: the first tokens' K/V kept in full
// precision): the quantized tensor becomes Concat(Slice(x, 0:k), Slice(Q(x), k:)) on the token
// axis, k = keepSinks; with a cache the call's tokens start at position P = the past's length, so
// k = max(keepSinks − P, 0). keepSinks ≥ the sequence length leaves every value as it was.
import type { AttentionSite, LinearLayer } from '../../model/types.ts';
import type { ModelProto, NodeProto } from '../../onnx/types.ts';
import { INT4_IR_VERSION } from '../export/dequantizeLinear.ts';
import { takenNames, workingCopy, intAttribute } from '../export/graphEdit.ts';
import { raiseOpset } from '../export/opset.ts';
import { cacheTensor, producersOf, type CacheTensor, type KvTensorKind } from './cacheTensors.ts';
import { emitFakeQuant, emitNode, FAKE_QUANT_OPSET, int64Constant, type GraphEmitter } from './fakeQuant.ts';

export type KvGranularity = 'per-token' | 'per-head';

export interface KvQuantOptions {
  bits: 4 | 8;
  symmetric: boolean;
  /**
   * 'per-token': one scale per (batch, head, token) over the head dimension (QuaRot's K/V groups of
   * head_dim). 'per-head': one per (batch, head) over all tokens of the call and the head dimension.
   */
  granularity: KvGranularity;
  /** The first tokens kept in full precision (IntactKV); 0 = none. */
  keepSinks: number;
  tensors: readonly KvTensorKind[];
}

export interface ActivationQuantOptions {
  bits: 4 | 8;
  symmetric: boolean;
  /** The layers whose inputs are fake-quantized per token (over C_in). */
  layers: readonly LinearLayer[];
}

/** One K or V tensor as written: where, and whether it is the cache's (present.*) or a MatMul's operand. */
export interface KvSiteWrite {
  site: string;
  block: number | null;
  kind: KvTensorKind;
  tensor: string;
  /** The present output that now holds quantized values; absent without a cache. */
  present?: string;
}

export interface KvWriteResult {
  model: ModelProto;
  sites: KvSiteWrite[];
  /** Linear-layer inputs fake-quantized (distinct tensors), and the layers reading them. */
  activationTensors: number;
  activationLayers: number;
  notes: string[];
}

const INT64_MAX = 2n ** 63n - 1n;

/** keepSinks: Concat(first k of x, the rest of the quantized x) on the token axis (see the header). */
function keepSinks(e: GraphEmitter, x: string, quantized: string, t: CacheTensor, sinks: number): string {
  let k = int64Constant(e, 'sinks', [sinks]);
  if (t.cache) {
    const positive = (t.tokenAxis + t.cache.rank) % t.cache.rank;
    const past = emitNode(e, 'Shape', [t.cache.past], 'past_length', [intAttribute('start', positive), intAttribute('end', positive + 1)]);
    k = emitNode(e, 'Max', [emitNode(e, 'Sub', [k, past], 'sinks_left'), int64Constant(e, 'zero_i64', [0])], 'sinks_here');
  }
  const axes = int64Constant(e, 'token_axis', [t.tokenAxis]);
  const head = emitNode(e, 'Slice', [x, int64Constant(e, 'start', [0]), k, axes], 'sinks_kept');
  const end = `${e.base}/end`;
  e.graph.initializer!.push({ name: end, dims: [1], dataType: 7, int64Data: BigInt64Array.of(INT64_MAX) });
  e.taken.add(end);
  const tail = emitNode(e, 'Slice', [quantized, k, end, axes], 'rest_quantized');
  return emitNode(e, 'Concat', [head, tail], 'with_sinks', [intAttribute('axis', t.tokenAxis)]);
}

/** Inserts `nodes` just before `before` (the graph stays topologically sorted). */
function insertBefore(nodes: NodeProto[], before: NodeProto, added: NodeProto[]): void {
  nodes.splice(nodes.indexOf(before), 0, ...added);
}

/** Replaces `node` by a copy reading `input` at `index` (nodes are shared with the input model). */
function rewire(nodes: NodeProto[], node: NodeProto, index: number, input: string): NodeProto {
  const copy = { ...node, input: [...(node.input ?? [])] };
  copy.input[index] = input;
  nodes[nodes.indexOf(node)] = copy;
  return copy;
}

/**
 * A copy of `model` with K/V fake quantization on every site in `sites` (and activation
 * quantization when asked). The input model is never mutated. Throws when a site's head
 * dimension is unknown (the stage's validation refuses such models first).
 */
export function writeKvCacheQuant(model: ModelProto, sites: readonly AttentionSite[], kv: KvQuantOptions, activations?: ActivationQuantOptions): KvWriteResult {
  const raised = raiseOpset(model, FAKE_QUANT_OPSET);
  const { model: copy, graph } = workingCopy(raised.model);
  copy.irVersion = Math.max(Number(copy.irVersion ?? 0), INT4_IR_VERSION);
  const taken = takenNames(graph);
  const nodes = graph.node!;
  const producers = producersOf(graph);
  // Locate every tensor first: rewiring replaces nodes, and the walk reads the original ones.
  const located = sites.flatMap((site) => kv.tensors.map((kind) => ({ site, t: cacheTensor(graph, producers, site, kind) })));
  const written: KvSiteWrite[] = [];
  for (const { site, t } of located) {
    if (site.headDim === null) throw new Error(`attention ${site.softmaxNode}: the head dimension is unknown`);
    const e: GraphEmitter = { graph, taken, nodes: [], base: `${site.softmaxNode}/kv_quant_${t.kind}` };
    let y = emitFakeQuant(e, t.tensor, { bits: kv.bits, symmetric: kv.symmetric, axis: t.headDimAxis, blockSize: site.headDim, ...(kv.granularity === 'per-head' ? { sharedAxes: [t.tokenAxis] } : {}) });
    if (kv.keepSinks > 0) y = keepSinks(e, t.tensor, y, t, kv.keepSinks);
    const consumer = nodes.includes(t.consumer.node) ? t.consumer.node : nodes.find((n) => n.name === t.consumer.node.name && n.output?.[0] === t.consumer.node.output?.[0])!;
    insertBefore(nodes, consumer, e.nodes);
    rewire(nodes, consumer, t.consumer.input, y);
    written.push({ site: site.softmaxNode, block: site.block, kind: t.kind, tensor: t.tensor, ...(t.cache ? { present: t.cache.present } : {}) });
  }
  const acts = activations ? writeActivationQuant(graph, taken, nodes, activations) : { tensors: 0, layers: 0, missing: [] as string[] };
  const notes = [...raised.notes];
  if (acts.missing.length > 0) notes.push(`activation quantization: ${acts.missing.length} layer use(s) no longer read their input directly (${acts.missing.slice(0, 3).join(', ')}${acts.missing.length > 3 ? ', …' : ''}); those inputs stay float`);
  return { model: copy, sites: written, activationTensors: acts.tensors, activationLayers: acts.layers, notes };
}

/** Per-token fake quantization of each distinct input tensor of `layers`, shared by the layers that read it. */
function writeActivationQuant(graph: ModelProto['graph'] & object, taken: Set<string>, nodes: NodeProto[], options: ActivationQuantOptions): { tensors: number; layers: number; missing: string[] } {
  const byInput = new Map<string, { width: number; uses: { nodeName: string; layer: string }[] }>();
  for (const layer of options.layers) {
    for (const use of layer.uses) {
      const entry = byInput.get(use.input) ?? { width: layer.inFeatures, uses: [] };
      entry.uses.push({ nodeName: use.nodeName, layer: layer.name });
      byInput.set(use.input, entry);
    }
  }
  const missing: string[] = [];
  const quantizedLayers = new Set<string>();
  let tensors = 0;
  for (const [input, { width, uses }] of byInput) {
    const readers = uses.flatMap(({ nodeName, layer }) => {
      const node = nodes.find((n) => n.name === nodeName && n.input?.includes(input));
      if (!node) missing.push(layer);
      return node ? [{ node, layer }] : [];
    });
    if (readers.length === 0) continue;
    const e: GraphEmitter = { graph, taken, nodes: [], base: `${input}/act_quant` };
    const y = emitFakeQuant(e, input, { bits: options.bits, symmetric: options.symmetric, axis: -1, blockSize: width });
    const first = readers.map((r) => r.node).sort((a, b) => nodes.indexOf(a) - nodes.indexOf(b))[0];
    insertBefore(nodes, first, e.nodes);
    for (const { node, layer } of readers) {
      const current = nodes.find((n) => n === node) ?? node;
      rewire(nodes, current, current.input!.indexOf(input), y);
      quantizedLayers.add(layer);
    }
    tensors++;
  }
  return { tensors, layers: quantizedLayers.size, missing };
}
