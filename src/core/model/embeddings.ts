// Embeddings: lookup tables (Gather of a 2-D float initializer by computed indices) and patch
// embeddings (Conv of an image graph input). They are not linear layers; a tied LM head
// shows up as a linear layer whose weight is also an embedding table.
import { constantTensor, isOnnxDomain, nodeLabel, someAncestor, type GraphIndex } from './graphIndex.ts';
import { isFloatType, tensorDims } from './proto.ts';
import type { EmbeddingInfo, LinearLayer } from './types.ts';

function embeddingOf(index: GraphIndex, nodeIndex: number): Omit<EmbeddingInfo, 'tiedTo'> | null {
  const node = index.nodes[nodeIndex];
  if ((node.opType !== 'Gather' && node.opType !== 'Conv') || !isOnnxDomain(node)) return null;
  const [data = '', second = ''] = node.input ?? [];
  if (node.opType === 'Gather') {
    const table = index.initializers.get(data);
    const dims = table ? tensorDims(table) : [];
    if (!table || dims.length !== 2 || !isFloatType(table.dataType) || constantTensor(index, second)) return null;
    const kind = index.dataDependent.has(second) && !isPositionIds(index, second) ? 'token' : 'position';
    return { nodeName: nodeLabel(index, nodeIndex), kind, weight: data, weightDims: dims };
  }
  if (node.opType === 'Conv' && index.graphInputs.has(data)) {
    const kernel = constantTensor(index, second);
    if (!kernel) return null;
    return { nodeName: nodeLabel(index, nodeIndex), kind: 'patch', weight: second, weightDims: tensorDims(kernel) };
  }
  return null;
}

/**
 * Indices that are (or come from) a `position_ids` graph input: Optimum's exports with a KV cache
 * feed positions as an input (GPT-2's wpe is gathered by it), so they depend on an input and are
 * still positions.
 */
function isPositionIds(index: GraphIndex, name: string): boolean {
  const fromPositions = (input: string) => index.graphInputs.has(input) && /position/i.test(input);
  if (fromPositions(name)) return true;
  return someAncestor(index, name, (n) => (index.nodes[n].input ?? []).some(fromPositions), 8);
}

export function findEmbeddings(index: GraphIndex, linears: readonly LinearLayer[]): EmbeddingInfo[] {
  const linearByWeight = new Map(linears.map((layer) => [layer.weight, layer.id]));
  const embeddings: EmbeddingInfo[] = [];
  for (const nodeIndex of index.order) {
    const found = embeddingOf(index, nodeIndex);
    if (found) embeddings.push({ ...found, tiedTo: linearByWeight.get(found.weight) ?? null });
  }
  return embeddings;
}
