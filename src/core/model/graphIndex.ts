// Lookup tables over one GraphProto that every analysis pass shares: who produces and who
// consumes each tensor, constants, topological positions, and which tensors carry data.
import type { GraphProto, NodeProto, TensorProto, ValueInfoProto } from '../onnx/types.ts';
import { constantNodeTensor } from './proto.ts';

export interface GraphIndex {
  nodes: readonly NodeProto[];
  /** Node indices in topological order, and each node's position in it. */
  order: readonly number[];
  position: readonly number[];
  initializers: ReadonlyMap<string, TensorProto>;
  /** Outputs of Constant nodes that hold a tensor. */
  constants: ReadonlyMap<string, TensorProto>;
  producer: ReadonlyMap<string, number>;
  consumers: ReadonlyMap<string, readonly number[]>;
  /** Graph inputs that are not initializers (IR < 4 lists initializers as inputs too). */
  graphInputs: ReadonlySet<string>;
  graphOutputs: ReadonlySet<string>;
  valueInfo: ReadonlyMap<string, ValueInfoProto>;
  /**
   * Tensors whose values depend on the values of a graph input. Shape/Size outputs and what is
   * computed from them alone (Reshape targets, Range position ids, ConstantOfShape) do not:
   * those are constants for every input of the same shape.
   */
  dataDependent: ReadonlySet<string>;
}

export function buildGraphIndex(graph: GraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  const initializers = new Map<string, TensorProto>();
  for (const tensor of graph.initializer ?? []) {
    if (tensor.name) initializers.set(tensor.name, tensor);
  }
  const { producer, consumers, constants } = linkNodes(nodes);
  const graphInputs = new Set(
    (graph.input ?? []).map((info) => info.name ?? '').filter((name) => name && !initializers.has(name)),
  );
  const graphOutputs = new Set((graph.output ?? []).map((info) => info.name ?? ''));
  const valueInfo = new Map<string, ValueInfoProto>();
  for (const info of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    if (info.name) valueInfo.set(info.name, info);
  }
  const order = topologicalOrder(nodes, producer);
  const position = new Array<number>(nodes.length);
  order.forEach((nodeIndex, pos) => (position[nodeIndex] = pos));
  const dataDependent = findDataDependent(nodes, order, graphInputs);
  return {
    nodes, order, position, initializers, constants, producer, consumers,
    graphInputs, graphOutputs, valueInfo, dataDependent,
  };
}

function linkNodes(nodes: readonly NodeProto[]) {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  const constants = new Map<string, TensorProto>();
  nodes.forEach((node, index) => {
    for (const output of node.output ?? []) if (output) producer.set(output, index);
    for (const input of node.input ?? []) {
      if (!input) continue; // '' marks an omitted optional input
      const list = consumers.get(input);
      if (list === undefined) consumers.set(input, [index]);
      else if (list[list.length - 1] !== index) list.push(index);
    }
    if (node.opType === 'Constant' && node.output?.[0]) {
      const tensor = constantNodeTensor(node);
      if (tensor) constants.set(node.output[0], tensor);
    }
  });
  return { producer, consumers, constants };
}

/** Whether every node's inputs are produced earlier in the file (ONNX requires it; most files are). */
function isSorted(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>): boolean {
  for (let index = 0; index < nodes.length; index++) {
    for (const input of nodes[index].input ?? []) {
      const from = producer.get(input);
      if (from !== undefined && from >= index) return false;
    }
  }
  return true;
}

/**
 * Depth-first post-order; file order when the file is already sorted, as ONNX requires. The
 * stack is two typed arrays, not an array of pairs: a 10⁶-node graph allocates nothing per node.
 */
function topologicalOrder(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>): number[] {
  if (isSorted(nodes, producer)) return Array.from(nodes, (_, index) => index);
  const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
  const stackNode = new Int32Array(nodes.length);
  const stackInput = new Int32Array(nodes.length);
  const order: number[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] !== 0) continue;
    let depth = 0;
    stackNode[0] = root;
    stackInput[0] = 0;
    state[root] = 1;
    while (depth >= 0) {
      const top = stackNode[depth];
      const inputs = nodes[top].input ?? [];
      if (stackInput[depth] < inputs.length) {
        const dependency = producer.get(inputs[stackInput[depth]++]);
        if (dependency !== undefined && state[dependency] === 0) {
          state[dependency] = 1;
          depth++;
          stackNode[depth] = dependency;
          stackInput[depth] = 0;
        }
        continue; // a cycle (state 1) is left as found; ONNX graphs are acyclic
      }
      state[top] = 2;
      order.push(top);
      depth--;
    }
  }
  return order;
}

const SHAPE_ONLY_OPS = new Set(['Shape', 'Size', 'ConstantOfShape', 'EyeLike']);

function findDataDependent(
  nodes: readonly NodeProto[],
  order: readonly number[],
  graphInputs: ReadonlySet<string>,
): Set<string> {
  const data = new Set(graphInputs);
  for (const index of order) {
    const node = nodes[index];
    if (SHAPE_ONLY_OPS.has(node.opType ?? '')) continue;
    if ((node.input ?? []).some((input) => data.has(input))) {
      for (const output of node.output ?? []) if (output) data.add(output);
    }
  }
  return data;
}

/** A node's display name: its name, or `opType#index` for unnamed nodes. */
export function nodeLabel(index: GraphIndex, nodeIndex: number): string {
  const node = index.nodes[nodeIndex];
  return node.name || `${node.opType ?? 'node'}#${nodeIndex}`;
}

/** The tensor behind an initializer or a Constant node output, if the name is one. */
export function constantTensor(index: GraphIndex, name: string): TensorProto | undefined {
  return index.initializers.get(name) ?? index.constants.get(name);
}

/**
 * The constant behind `name`, through Identity nodes: torch.onnx.export stores equal tensors
 * once and gives the other parameter names as Identity outputs.
 */
export function resolveConstant(index: GraphIndex, name: string): { initializer: string; tensor: TensorProto } | undefined {
  let current = name;
  for (let step = 0; step < 8; step++) {
    const tensor = constantTensor(index, current);
    if (tensor) return { initializer: current, tensor };
    const node = producerNode(index, current);
    if (node?.opType !== 'Identity' || !isOnnxDomain(node)) return undefined;
    current = node.input?.[0] ?? '';
  }
  return undefined;
}

export function producerNode(index: GraphIndex, name: string): NodeProto | undefined {
  const producer = index.producer.get(name);
  return producer === undefined ? undefined : index.nodes[producer];
}

export function consumerNodes(index: GraphIndex, name: string): readonly number[] {
  return index.consumers.get(name) ?? [];
}

/** Whether a node belongs to the default ONNX domain. */
export function isOnnxDomain(node: NodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

/**
 * Whether a node upstream of `name` satisfies `test`: a breadth-first walk back through
 * producers, bounded to `limit` nodes so a hostile graph cannot make it quadratic. Used to read
 * what a mask or an index tensor is built from (a position comparison, a `position_ids` input).
 */
export function someAncestor(index: GraphIndex, name: string, test: (nodeIndex: number) => boolean, limit = 64): boolean {
  const queue = [name];
  const seen = new Set<number>();
  for (let head = 0; head < queue.length && seen.size < limit; head++) {
    const producer = index.producer.get(queue[head]);
    if (producer === undefined || seen.has(producer)) continue;
    seen.add(producer);
    if (test(producer)) return true;
    for (const input of index.nodes[producer].input ?? []) if (input) queue.push(input);
  }
  return false;
}
