// Walks along data-carrying tensors between attention and the linear layers around it. Only
// data-dependent inputs are followed, so shape computations (Shape → Gather → Concat) and
// constants such as rotary cos/sin tables are never entered.
import { isOnnxDomain, type GraphIndex } from './graphIndex.ts';

/** Ops that move or combine activations between a projection and Q·Kᵀ (reshape into heads,
 * rotary embeddings, repeat_kv, KV-cache Concat, scaling). */
const BACKWARD_OPS = new Set([
  'Reshape', 'Transpose', 'Split', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze', 'Expand', 'Tile',
  'Cast', 'Identity', 'Dropout', 'Concat', 'Mul', 'Div', 'Add', 'Sub', 'Neg', 'Where', 'Flatten',
]);

/** Ops between the context MatMul and the out projection (merge heads). */
const FORWARD_OPS = new Set(['Transpose', 'Reshape', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten', 'Concat', 'Dropout']);

/** The nodes of a linear layer that multiply (not its bias Add). */
const PRODUCT_OPS = new Set(['MatMul', 'Gemm', 'MatMulNBits']);

/** Ops whose first input is the data and the rest are shapes, indices or axes. */
const FIRST_INPUT_IS_DATA = new Set([
  'Reshape', 'Transpose', 'Split', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze', 'Expand', 'Tile',
  'Cast', 'Identity', 'Dropout', 'Flatten',
]);

/** The inputs of a node that carry activations (not shapes, indices, conditions or constants). */
export function dataInputs(index: GraphIndex, nodeIndex: number): string[] {
  const node = index.nodes[nodeIndex];
  const inputs = node.input ?? [];
  let candidates: string[];
  if (FIRST_INPUT_IS_DATA.has(node.opType ?? '')) candidates = inputs.slice(0, 1);
  else if (node.opType === 'Where') candidates = inputs.slice(1, 3);
  else candidates = inputs;
  return candidates.filter((input) => input && index.dataDependent.has(input));
}

export interface BackwardTrace {
  /** Id of the nearest linear layer upstream, or null. */
  linear: string | null;
  /** Reshape nodes passed on the way, with their distance from the start. */
  reshapes: { nodeIndex: number; depth: number }[];
}

const MAX_VISITS = 256;
/** Edges one trace looks at, so a node with 10⁵ inputs or readers keeps each trace O(1). */
const MAX_EDGES = 4096;

/** Breadth-first from `start` towards the inputs, stopping at the first linear layer node. */
export function traceBackToLinear(
  index: GraphIndex,
  nodeToLinear: ReadonlyMap<number, string>,
  start: string,
): BackwardTrace {
  const reshapes: BackwardTrace['reshapes'] = [];
  const queue: [string, number][] = [[start, 0]];
  const seen = new Set<string>([start]);
  let edges = 0;
  for (let head = 0; head < queue.length && head < MAX_VISITS; head++) {
    const [tensor, depth] = queue[head];
    const producer = index.producer.get(tensor);
    if (producer === undefined) continue;
    const linear = nodeToLinear.get(producer);
    if (linear !== undefined) return { linear, reshapes };
    const node = index.nodes[producer];
    if (!isOnnxDomain(node) || !BACKWARD_OPS.has(node.opType ?? '')) continue;
    if (node.opType === 'Reshape') reshapes.push({ nodeIndex: producer, depth });
    edges += node.input?.length ?? 0;
    if (edges > MAX_EDGES) break;
    for (const input of dataInputs(index, producer)) {
      if (!seen.has(input)) {
        seen.add(input);
        queue.push([input, depth + 1]);
      }
    }
  }
  return { linear: null, reshapes };
}

/** Breadth-first from `start` towards the outputs, to the first MatMul/Gemm/MatMulNBits linear layer. */
export function traceForwardToLinear(
  index: GraphIndex,
  nodeToLinear: ReadonlyMap<number, string>,
  start: string,
): string | null {
  const queue = [start];
  const seen = new Set(queue);
  let edges = 0;
  for (let head = 0; head < queue.length && head < MAX_VISITS; head++) {
    for (const consumer of index.consumers.get(queue[head]) ?? []) {
      if (++edges > MAX_EDGES) return null;
      const node = index.nodes[consumer];
      const linear = nodeToLinear.get(consumer);
      if (linear !== undefined && PRODUCT_OPS.has(node.opType ?? '')) return linear;
      if (!isOnnxDomain(node) || !FORWARD_OPS.has(node.opType ?? '')) continue;
      edges += node.output?.length ?? 0;
      if (edges > MAX_EDGES) return null;
      for (const output of node.output ?? []) {
        if (output && !seen.has(output)) {
          seen.add(output);
          queue.push(output);
        }
      }
    }
  }
  return null;
}
