// Where an attention site's keys and values are, as the cache would hold them. From the Q·Kᵀ
// MatMul's second operand (Kᵀ: token axis last, head dim before it) and the probabilities·V
// MatMul's second operand (V: token axis −2, head dim last), walk back over the head transposes
// (tracking the two axes through each perm) and over grouped-query attention's repeat
// (Unsqueeze → Expand → Reshape, which only adds axes in front of the last two: HF repeat_kv) to
// the Concat that appends the new keys to `past_key_values.*`, whose output is `present.*`. The
// new keys (that Concat's other operand) are what a quantized cache stores: quantizing them puts
// quantized values in `present.*` and leaves the past, quantized by the call that wrote it, as it
// is. Without such a Concat (no cache: the bundled LM, a ViT) the MatMul's operand is quantized.
import type { AttentionSite } from '../../model/types.ts';
import type { GraphProto, NodeProto } from '../../onnx/types.ts';
import { findNodeIndex } from '../export/graphEdit.ts';

export type KvTensorKind = 'k' | 'v';

export interface CacheTensor {
  kind: KvTensorKind;
  /** The tensor to quantize. */
  tensor: string;
  /** The node input that reads it (rewired to the quantized tensor). */
  consumer: { node: NodeProto; input: number };
  /** Axes of `tensor`, negative (from the back): the tokens, and the head dimension. */
  tokenAxis: number;
  headDimAxis: number;
  /** With a cache: the past graph input, its rank, and the present output the Concat writes. */
  cache?: { past: string; rank: number; present: string };
}

const ints = (node: NodeProto, name: string): number[] | undefined => node.attribute?.find((a) => a.name === name)?.ints?.map(Number);
const int = (node: NodeProto, name: string): number | undefined => {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i === undefined ? undefined : Number(a.i);
};

/** Rank of a graph input from its declared shape; undefined when it declares none. */
function inputRank(graph: GraphProto, name: string): number | undefined {
  return graph.input?.find((v) => v.name === name)?.type?.tensorType?.shape?.dim?.length;
}

/** The site's K or V tensor where a cache would hold it (see the header). */
export function cacheTensor(graph: GraphProto, producers: ReadonlyMap<string, NodeProto>, site: AttentionSite, kind: KvTensorKind): CacheTensor {
  const node = graph.node![findNodeIndex(graph, kind === 'k' ? site.scoresNode : site.contextNode)];
  const start: CacheTensor = { kind, tensor: node.input![1], consumer: { node, input: 1 }, tokenAxis: kind === 'k' ? -1 : -2, headDimAxis: kind === 'k' ? -2 : -1 };
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const graphInputs = new Set((graph.input ?? []).map((v) => v.name).filter((name) => !initializers.has(name)));
  let tensor = start.tensor;
  let tokenAxis = start.tokenAxis;
  let headDimAxis = start.headDimAxis;
  for (let steps = 0; steps < 16; steps++) {
    const p = producers.get(tensor);
    if (!p) break;
    if (p.opType === 'Transpose') {
      const perm = ints(p, 'perm');
      if (!perm) break;
      const rank = perm.length;
      const from = (axis: number) => perm[(axis + rank) % rank] - rank;
      tokenAxis = from(tokenAxis);
      headDimAxis = from(headDimAxis);
      tensor = p.input![0];
      continue;
    }
    if (p.opType === 'Reshape') {
      const expand = producers.get(p.input![0]);
      const unsqueeze = expand?.opType === 'Expand' ? producers.get(expand.input![0]) : undefined;
      if (unsqueeze?.opType !== 'Unsqueeze') break;
      tensor = unsqueeze.input![0];
      continue;
    }
    if (p.opType === 'Concat') {
      const past = (p.input ?? []).findIndex((name) => graphInputs.has(name));
      const rank = past >= 0 ? inputRank(graph, p.input![past]) : undefined;
      const axis = int(p, 'axis');
      if (past < 0 || rank === undefined || axis === undefined || p.input!.length !== 2) break;
      if ((axis + rank) % rank !== (tokenAxis + rank) % rank) break;
      const fresh = 1 - past;
      return { kind, tensor: p.input![fresh], consumer: { node: p, input: fresh }, tokenAxis, headDimAxis, cache: { past: p.input![past], rank, present: p.output![0] } };
    }
    break;
  }
  return start;
}

/** Tensor name → the node that writes it. */
export function producersOf(graph: GraphProto): Map<string, NodeProto> {
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const out of node.output ?? []) if (out) producers.set(out, node);
  return producers;
}
