// Optimum's merged decoder (decoder_model_merged.onnx, written by
// optimum.onnx.graph_transformations.merge_decoders) holds the decoder twice, as the two branches
// of one If on the `use_cache_branch` input, with the weights shared as top-level initializers.
// The analysis finds no linear layer inside an If branch and the block cut refuses subgraphs, so
// the lab "unmerges" it at open time: the no-cache branch (use_cache_branch = false, the If's
// else_branch) becomes a plain graph — the outer initializers and inputs it reads, its nodes, its
// outputs renamed to the If's — which is analysed, compressed and exported as a plain decoder.
import type { GraphProto, ModelProto, NodeProto } from '../onnx/types.ts';

export const USE_CACHE_BRANCH = 'use_cache_branch';

export interface UnmergedDecoder {
  model: ModelProto;
  /** The folder note: what was taken, and what the export will be. */
  note: string;
}

/** Every tensor name the nodes read, their subgraphs' outer-scope reads included. */
function namesRead(nodes: readonly NodeProto[], into = new Set<string>()): Set<string> {
  for (const node of nodes) {
    for (const input of node.input ?? []) if (input) into.add(input);
    for (const attribute of node.attribute ?? []) {
      for (const graph of [attribute.g, ...(attribute.graphs ?? [])]) if (graph) namesRead(graph.node ?? [], into);
    }
  }
  return into;
}

/** The no-cache branch of a merged decoder as a plain model; null when `model` is not one. */
export function unmergeDecoder(model: ModelProto, file: string): UnmergedDecoder | null {
  const graph = model.graph;
  const merge = (graph?.node ?? []).filter((node) => node.opType === 'If' && node.input?.[0] === USE_CACHE_BRANCH);
  if (!graph || merge.length !== 1) return null;
  const [ifNode] = merge;
  const branch: GraphProto | undefined = ifNode.attribute?.find((a) => a.name === 'else_branch')?.g;
  if (!branch) return null;

  // The branch's outputs become the If's outputs (the graph outputs), by position.
  const produced = new Set((branch.node ?? []).flatMap((node) => node.output ?? []));
  const rename = new Map<string, string>();
  const passThrough: NodeProto[] = [];
  (branch.output ?? []).forEach((output, i) => {
    const from = output.name ?? '';
    const to = ifNode.output?.[i] ?? '';
    if (!to || from === to) return;
    if (produced.has(from)) rename.set(from, to);
    else passThrough.push({ opType: 'Identity', name: `unmerged/${to}`, input: [from], output: [to] });
  });
  const renamed = (name: string) => rename.get(name) ?? name;
  const branchNodes = (branch.node ?? []).map((node) => ({ ...node, input: node.input?.map(renamed), output: node.output?.map(renamed) }));
  const nodes = [...(graph.node ?? []).filter((node) => node !== ifNode), ...branchNodes, ...passThrough];
  const read = namesRead(nodes);
  const inputs = (graph.input ?? []).filter((input) => input.name !== USE_CACHE_BRANCH && read.has(input.name ?? ''));
  const dropped = (graph.input ?? []).filter((input) => input.name !== USE_CACHE_BRANCH && !read.has(input.name ?? ''));
  const cacheDropped = dropped.some((input) => input.name?.startsWith('past_key_values'));
  const unmerged: GraphProto = {
    ...graph,
    node: nodes,
    input: inputs,
    initializer: [...(graph.initializer ?? []).filter((t) => read.has(t.name ?? '')), ...(branch.initializer ?? [])],
    valueInfo: [...(graph.valueInfo ?? []), ...(branch.valueInfo ?? []).map((v) => ({ ...v, name: renamed(v.name ?? '') }))],
  };
  const cache = cacheDropped ? ' It reads no past_key_values, so generation recomputes the window each step.' : '';
  return {
    model: { ...model, graph: unmerged },
    note: `${file} is Optimum's merged decoder: its no-cache branch (${USE_CACHE_BRANCH} = false) is the graph the lab analyses and compresses, and the export is that plain decoder (onnx/model.onnx), not a merged one.${cache}`,
  };
}
