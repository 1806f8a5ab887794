// Roles of linear layers read from the graph alone, for exports whose names say nothing:
// Q/K/V/out from the attention trace, up/gate/down from how activations flow between linear
// layers, the head from the graph outputs, embeddings from what precedes the first block.
import { isOnnxDomain, type GraphIndex } from './graphIndex.ts';
import { typeShape } from './proto.ts';
import { dataInputs } from './trace.ts';
import type { AttentionSite, LinearLayer, LinearRole } from './types.ts';

/** Ops that transform an activation element by element (or only move it): the MLP's inside. */
const POINTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Neg', 'Abs', 'Exp', 'Log', 'Reciprocal', 'Cast',
  'Identity', 'Dropout', 'Clip', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten',
]);
const NONLINEAR = new Set([
  'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Gelu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Softplus',
  'Softsign', 'HardSigmoid', 'HardSwish', 'Mish', 'PRelu', 'ThresholdedRelu', 'FastGelu',
  'BiasGelu', 'QuickGelu',
]);
/** Ops a head's logits may pass on the way to a graph output. */
const OUTPUT_OPS = new Set([
  'Reshape', 'Transpose', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten', 'Dropout',
  'Softmax', 'LogSoftmax', 'Sigmoid',
]);

interface Closure {
  tensors: Set<string>;
  nonlinear: boolean;
}

/**
 * Node indices popped in topological position order (a binary min-heap), each at most once per
 * walk. "Queued" marks live in one array per graph, stamped with the walk's number, so starting
 * one of the 10⁵ walks of a large model allocates nothing.
 */
class PositionQueue {
  private readonly heap: number[] = [];
  private readonly stamps: Int32Array;
  private stamp = 0;

  constructor(private readonly position: readonly number[]) {
    this.stamps = new Int32Array(position.length);
  }

  /** Empties the queue and forgets what was queued. */
  reset(): void {
    this.heap.length = 0;
    this.stamp++;
  }

  get size(): number {
    return this.heap.length;
  }

  push(nodeIndex: number): void {
    if (this.stamps[nodeIndex] === this.stamp) return;
    this.stamps[nodeIndex] = this.stamp;
    const { heap, position } = this;
    let i = heap.push(nodeIndex) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (position[heap[parent]] <= position[nodeIndex]) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = nodeIndex;
  }

  pop(): number {
    const { heap, position } = this;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && position[heap[child + 1]] < position[heap[child]]) child++;
      if (position[heap[child]] >= position[last]) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

const queues = new WeakMap<GraphIndex, PositionQueue>();

/**
 * Everything computed from `start` alone by pointwise ops (every data input inside the set),
 * visited in topological order. A residual Add has one input from outside, so it ends the set;
 * the gated product of SwiGLU has one input from each of two closures. A heap keeps the walk
 * O((V + E) log V) when one tensor has tens of thousands of readers.
 */
export function pointwiseClosure(index: GraphIndex, start: string): Closure {
  const tensors = new Set([start]);
  let nonlinear = false;
  let pending = queues.get(index);
  if (pending === undefined) queues.set(index, (pending = new PositionQueue(index.position)));
  pending.reset();
  for (const consumer of index.consumers.get(start) ?? []) pending.push(consumer);
  while (pending.size > 0) {
    const next = pending.pop();
    const op = index.nodes[next].opType ?? '';
    if (!POINTWISE.has(op) && !NONLINEAR.has(op)) continue;
    if (!dataInputs(index, next).every((input) => tensors.has(input))) continue;
    nonlinear ||= NONLINEAR.has(op);
    for (const output of index.nodes[next].output ?? []) {
      if (!output || tensors.has(output)) continue;
      tensors.add(output);
      for (const consumer of index.consumers.get(output) ?? []) pending.push(consumer);
    }
  }
  return { tensors, nonlinear };
}

const OUTPUT_DEPTH = 8;

/**
 * Whether `tensor` ends in graph outputs only, through at most OUTPUT_DEPTH reshapes, casts or a
 * final softmax. Answers are memoised per (tensor, depth), so a findHead over every layer stays
 * linear in the graph however its readers fan out and join again.
 */
function outputFeedTest(index: GraphIndex): (tensor: string) => boolean {
  const memo = Array.from({ length: OUTPUT_DEPTH + 2 }, () => new Map<string, boolean>());
  const feeds = (tensor: string, depth: number): boolean => {
    if (index.graphOutputs.has(tensor)) return true;
    const known = memo[depth].get(tensor);
    if (known !== undefined) return known;
    const consumers = index.consumers.get(tensor) ?? [];
    const result =
      consumers.length > 0 &&
      depth <= OUTPUT_DEPTH &&
      consumers.every((consumer) => {
        const node = index.nodes[consumer];
        if (!isOnnxDomain(node) || !OUTPUT_OPS.has(node.opType ?? '')) return false;
        return (node.output ?? []).some((output) => output && feeds(output, depth + 1));
      });
    memo[depth].set(tensor, result);
    return result;
  };
  return (tensor) => feeds(tensor, 0);
}

function outputWidth(index: GraphIndex): Set<number | null> {
  const widths = new Set<number | null>();
  for (const name of index.graphOutputs) {
    const shape = typeShape(index.valueInfo.get(name)?.type);
    const last = shape?.[shape.length - 1];
    widths.add(typeof last === 'number' ? last : null);
  }
  return widths;
}

/** The last linear layer whose result only feeds graph outputs, with a matching width. */
export function findHead(index: GraphIndex, linears: readonly LinearLayer[]): LinearLayer | null {
  const widths = outputWidth(index);
  const feedsOnlyGraphOutputs = outputFeedTest(index);
  const candidates = linears.filter(
    (layer) => feedsOnlyGraphOutputs(layer.output) && (widths.has(layer.outFeatures) || widths.has(null)),
  );
  return candidates.reduce<LinearLayer | null>((last, layer) => (!last || layer.order > last.order ? layer : last), null);
}

function attentionRoles(sites: readonly AttentionSite[], roles: Map<string, LinearRole>): void {
  for (const site of sites) {
    const slots: [string | null, LinearRole][] = [[site.q, 'attn.q'], [site.k, 'attn.k'], [site.v, 'attn.v']];
    for (const [id, role] of slots) {
      if (id === null || roles.has(id)) continue;
      const fused = slots.filter(([other]) => other === id).length > 1;
      roles.set(id, fused ? 'attn.qkv' : role);
    }
    if (site.out !== null && !roles.has(site.out)) roles.set(site.out, 'attn.out');
  }
}

function setIfFree(roles: Map<string, LinearRole>, id: string, role: LinearRole): void {
  if (!roles.has(id)) roles.set(id, role);
}

/** up → nonlinearity → down, and gate/up pairs multiplied before down (SwiGLU, GeGLU). */
function mlpRoles(index: GraphIndex, layers: readonly LinearLayer[], roles: Map<string, LinearRole>): void {
  const layerRank = new Map(layers.map((layer, rank) => [layer, rank]));
  const closures = new Map(layers.map((layer) => [layer.id, pointwiseClosure(index, layer.output)]));
  const owner = new Map<string, string>();
  for (const [id, closure] of closures) for (const tensor of closure.tensors) owner.set(tensor, id);
  const readersOf = new Map<string, LinearLayer[]>();
  for (const layer of layers) {
    const readers = readersOf.get(layer.input);
    if (readers) readers.push(layer);
    else readersOf.set(layer.input, [layer]);
  }
  // Layers reading a tensor of the closure, in `layers` order (looked up per tensor, not per layer).
  const consumersOf = (closure: Closure) => {
    const found: LinearLayer[] = [];
    for (const tensor of closure.tensors) for (const layer of readersOf.get(tensor) ?? []) found.push(layer);
    if (found.length > 1) found.sort((a, b) => layerRank.get(a)! - layerRank.get(b)!);
    return found.filter((layer) => roles.get(layer.id) !== 'head');
  };
  for (const layer of layers) {
    const closure = closures.get(layer.id)!;
    if (!closure.nonlinear) continue;
    for (const down of consumersOf(closure)) {
      setIfFree(roles, layer.id, 'mlp.up');
      setIfFree(roles, down.id, 'mlp.down');
    }
  }
  const byId = new Map(layers.map((layer) => [layer.id, layer]));
  for (const nodeIndex of index.order) {
    const node = index.nodes[nodeIndex];
    if (node.opType !== 'Mul') continue;
    const inputs = dataInputs(index, nodeIndex);
    if (inputs.length !== 2) continue;
    const [a, b] = inputs.map((input) => byId.get(owner.get(input) ?? ''));
    if (!a || !b || a === b || a.input !== b.input) continue;
    const [gate, up] = closures.get(a.id)!.nonlinear ? [a, b] : [b, a];
    if (!closures.get(gate.id)!.nonlinear || closures.get(up.id)!.nonlinear) continue;
    setIfFree(roles, gate.id, 'mlp.gate');
    setIfFree(roles, up.id, 'mlp.up');
    for (const down of consumersOf(pointwiseClosure(index, node.output?.[0] ?? ''))) setIfFree(roles, down.id, 'mlp.down');
  }
}

/** Where the first block starts: its first Q/K/V projection, or its Softmax. */
export function firstBlockStart(sites: readonly AttentionSite[], linears: readonly LinearLayer[]): number | null {
  const orderOf = new Map(linears.map((layer) => [layer.id, layer.order]));
  const starts = sites.flatMap((site) =>
    [site.q, site.k, site.v].map((id) => (id === null ? site.order : (orderOf.get(id) ?? site.order))),
  );
  // A loop, not Math.min(...starts): a spread of 10⁵ arguments overflows the stack.
  let first: number | null = null;
  for (const start of starts) if (first === null || start < first) first = start;
  return first;
}

/**
 * Roles the structure shows. MLP and embedding roles are given only in a transformer (at least
 * one attention site), so a plain MLP classifier's layers stay 'other'.
 */
export function structuralRoles(
  index: GraphIndex,
  linears: readonly LinearLayer[],
  sites: readonly AttentionSite[],
): Map<string, LinearRole> {
  const roles = new Map<string, LinearRole>();
  attentionRoles(sites, roles);
  const head = findHead(index, linears.filter((layer) => !roles.has(layer.id)));
  if (head) roles.set(head.id, 'head');
  const start = firstBlockStart(sites, linears);
  if (start === null) return roles;
  mlpRoles(index, linears.filter((layer) => layer.order >= start), roles);
  for (const layer of linears) if (layer.order < start) setIfFree(roles, layer.id, 'embed');
  return roles;
}
