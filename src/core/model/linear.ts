// Linear layers: MatMul and Gemm nodes that multiply an activation by a 2-D initializer, found
// directly or through Transpose / Cast / Identity / DequantizeLinear of the initializer.
import type { NodeProto, TensorProto } from '../onnx/types.ts';
import {
  consumerNodes,
  constantTensor,
  isOnnxDomain,
  nodeLabel,
  resolveConstant,
  type GraphIndex,
} from './graphIndex.ts';
import { modulePathFromNode, modulePathFromWeight } from './names.ts';
import { attrFloat, attrInt, attrInts, dtypeName, elementCount, tensorDims } from './proto.ts';
import type { LinearLayer, LinearUse, WeightLayout } from './types.ts';
import { shortName } from '../onnx/display.ts';

/** The initializer behind a weight operand and the ops between it and the product. */
export interface WeightSource {
  initializer: string;
  tensor: TensorProto;
  dims: number[];
  path: string[];
  /** Nodes on the path (Transpose, Cast, ...), so that they are not counted as other users. */
  pathNodes: number[];
  /** An odd number of 2-D transposes on the path. */
  transposed: boolean;
}

const WEIGHT_PASSTHROUGH = new Set(['Identity', 'Cast', 'DequantizeLinear']);

export function resolveWeight(index: GraphIndex, name: string): WeightSource | null {
  const path: string[] = [];
  const pathNodes: number[] = [];
  let transposed = false;
  let current = name;
  for (let step = 0; step < 6; step++) {
    const tensor = constantTensor(index, current);
    if (tensor) {
      return { initializer: current, tensor, dims: tensorDims(tensor), path, pathNodes, transposed };
    }
    const producer = index.producer.get(current);
    if (producer === undefined) return null;
    const node = index.nodes[producer];
    if (!isOnnxDomain(node)) return null;
    if (node.opType === 'Transpose') {
      const perm = attrInts(node, 'perm');
      if (perm && perm.length !== 2) return null;
      if (!perm || perm[0] === 1) transposed = !transposed;
    } else if (!WEIGHT_PASSTHROUGH.has(node.opType ?? '')) {
      return null;
    }
    path.unshift(node.opType ?? '');
    pathNodes.push(producer);
    current = node.input?.[0] ?? '';
  }
  return null;
}

interface Candidate {
  nodeIndex: number;
  operand: 'A' | 'B';
  source: WeightSource;
  activation: string;
}

/** The weight operand of a MatMul/Gemm, or null (and why, when it is worth saying). */
function linearCandidate(index: GraphIndex, nodeIndex: number, notes: string[]): Candidate | null {
  const node = index.nodes[nodeIndex];
  const [a = '', b = ''] = node.input ?? [];
  const isData = (name: string) => index.dataDependent.has(name);
  const sourceB = resolveWeight(index, b);
  const sourceA = resolveWeight(index, a);
  if (sourceB?.dims.length === 2 && isData(a)) return { nodeIndex, operand: 'B', source: sourceB, activation: a };
  if (sourceA?.dims.length === 2 && isData(b)) return { nodeIndex, operand: 'A', source: sourceA, activation: b };
  const odd = [sourceA, sourceB].find((source) => source && source.dims.length !== 2);
  if (odd && (isData(a) || isData(b))) {
    notes.push(
      `${node.opType} '${shortName(nodeLabel(index, nodeIndex))}' multiplies by the ${odd.dims.length}-D ` +
        `initializer '${shortName(odd.initializer)}' [${odd.dims.join(', ')}]: not a 2-D linear weight, not analysed`,
    );
  }
  return null;
}

/**
 * The stored tensor's layout as W (C_out × C_in). The product sees B as [in, out] and A as
 * [out, in]; a Gemm trans attribute and a Transpose node each flip that.
 */
export function weightLayout(operand: 'A' | 'B', transAttr: boolean, transposedByNode: boolean): WeightLayout {
  const base: WeightLayout = operand === 'B' ? 'in_out' : 'out_in';
  const flipped = transAttr !== transposedByNode;
  if (!flipped) return base;
  return base === 'in_out' ? 'out_in' : 'in_out';
}

interface FoundBias {
  bias: string | null;
  biasInitializer: string | null;
  output: string;
}

/** `name` as a bias of width outFeatures ([out] or [1, out]), resolved to its initializer. */
function asBias(index: GraphIndex, name: string, outFeatures: number): { bias: string; biasInitializer: string } | null {
  const constant = name ? resolveConstant(index, name) : undefined;
  if (!constant) return null;
  const dims = tensorDims(constant.tensor);
  if (dims.length < 1 || dims.length > 2 || elementCount(dims) !== outFeatures) return null;
  return { bias: name, biasInitializer: constant.initializer };
}

/** A bias is Gemm's C, or a constant added by the only consumer of a MatMul's output. */
function findBias(index: GraphIndex, node: NodeProto, outFeatures: number): FoundBias {
  const output = node.output?.[0] ?? '';
  const none = { bias: null, biasInitializer: null, output };
  if (node.opType === 'Gemm') {
    const found = asBias(index, node.input?.[2] ?? '', outFeatures);
    return found ? { ...found, output } : none;
  }
  const consumers = consumerNodes(index, output);
  if (consumers.length !== 1 || index.graphOutputs.has(output)) return none;
  const add = index.nodes[consumers[0]];
  if (add.opType !== 'Add' || !isOnnxDomain(add)) return none;
  const found = asBias(index, (add.input ?? []).find((input) => input !== output) ?? '', outFeatures);
  return found ? { ...found, output: add.output?.[0] ?? output } : none;
}

function gemmNotes(index: GraphIndex, nodeIndex: number, hasBias: boolean, notes: string[]): void {
  const node = index.nodes[nodeIndex];
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const label = shortName(nodeLabel(index, nodeIndex));
  if (alpha !== 1) notes.push(`Gemm '${label}' scales its product by alpha=${alpha}: the effective weight is alpha·W`);
  if (hasBias && beta !== 1) notes.push(`Gemm '${label}' scales its bias by beta=${beta}`);
}

function describeUse(index: GraphIndex, candidate: Candidate, notes: string[]) {
  const node = index.nodes[candidate.nodeIndex];
  const opType = node.opType as 'MatMul' | 'Gemm';
  const transAttr = opType === 'Gemm' && attrInt(node, candidate.operand === 'B' ? 'transB' : 'transA', 0) !== 0;
  const layout = weightLayout(candidate.operand, transAttr, candidate.source.transposed);
  const [d0, d1] = candidate.source.dims;
  const [inFeatures, outFeatures] = layout === 'in_out' ? [d0, d1] : [d1, d0];
  const { bias, biasInitializer, output } = findBias(index, node, outFeatures);
  if (opType === 'Gemm') gemmNotes(index, candidate.nodeIndex, bias !== null, notes);
  const use: LinearUse = { nodeName: nodeLabel(index, candidate.nodeIndex), opType, input: candidate.activation, output, bias };
  return { use, layout, inFeatures, outFeatures, biasInitializer };
}

function newLayer(index: GraphIndex, candidate: Candidate, described: ReturnType<typeof describeUse>): LinearLayer {
  const { source } = candidate;
  const { use } = described;
  const biasTensor = described.biasInitializer ? constantTensor(index, described.biasInitializer) : undefined;
  const biasCount = biasTensor ? elementCount(tensorDims(biasTensor)) : 0;
  return {
    id: source.initializer,
    name: modulePathFromNode(use.nodeName) || modulePathFromWeight(source.initializer) || use.nodeName,
    nodeName: use.nodeName,
    nodeNames: [use.nodeName],
    opType: use.opType,
    weight: source.initializer,
    weightDims: source.dims,
    weightDtype: dtypeName(source.tensor.dataType),
    weightPath: source.path,
    weightOperand: candidate.operand,
    layout: described.layout,
    inFeatures: described.inFeatures,
    outFeatures: described.outFeatures,
    bias: use.bias,
    biasInitializer: described.biasInitializer,
    params: elementCount(source.dims) + biasCount,
    input: use.input,
    output: use.output,
    uses: [use],
    sharedWith: [],
    block: null,
    role: 'other',
    roleSource: 'none',
    order: index.position[candidate.nodeIndex],
  };
}

/** Nodes other than the layer's own uses and weight paths that read the initializer. */
function otherReaders(index: GraphIndex, weight: string, own: ReadonlySet<number>): string[] {
  return consumerNodes(index, weight)
    .filter((nodeIndex) => !own.has(nodeIndex))
    .map((nodeIndex) => nodeLabel(index, nodeIndex));
}

export interface LinearScan {
  linears: LinearLayer[];
  /** Node index → id of the linear layer it belongs to (MatMul/Gemm and bias Add nodes). */
  nodeToLinear: Map<number, string>;
  /** MatMul nodes whose two operands both depend on the input (attention or unknown). */
  activationMatMuls: Set<number>;
  notes: string[];
}

export function findLinearLayers(index: GraphIndex): LinearScan {
  const byWeight = new Map<string, LinearLayer>();
  const ownNodes = new Map<string, Set<number>>();
  const nodeToLinear = new Map<number, string>();
  const activationMatMuls = new Set<number>();
  const notes: string[] = [];
  for (const nodeIndex of index.order) {
    const node = index.nodes[nodeIndex];
    if ((node.opType !== 'MatMul' && node.opType !== 'Gemm') || !isOnnxDomain(node)) continue;
    const candidate = linearCandidate(index, nodeIndex, notes);
    if (!candidate) {
      const [a = '', b = ''] = node.input ?? [];
      if (index.dataDependent.has(a) && index.dataDependent.has(b)) activationMatMuls.add(nodeIndex);
      continue;
    }
    const described = describeUse(index, candidate, notes);
    const id = candidate.source.initializer;
    const existing = byWeight.get(id);
    if (existing) addSharedUse(existing, described, notes);
    else byWeight.set(id, newLayer(index, candidate, described));
    const own = ownNodes.get(id) ?? new Set<number>();
    own.add(nodeIndex);
    candidate.source.pathNodes.forEach((pathNode) => own.add(pathNode));
    ownNodes.set(id, own);
    nodeToLinear.set(nodeIndex, id);
    const biasAdd = described.use.bias && node.opType === 'MatMul' ? index.producer.get(described.use.output) : undefined;
    if (biasAdd !== undefined) nodeToLinear.set(biasAdd, id);
  }
  const linears = [...byWeight.values()].map((layer) => ({
    ...layer,
    sharedWith: otherReaders(index, layer.weight, ownNodes.get(layer.id) ?? new Set()),
  }));
  return { linears, nodeToLinear, activationMatMuls, notes };
}

/** A second node multiplying by the same weight: reported once, with every node named. */
function addSharedUse(layer: LinearLayer, described: ReturnType<typeof describeUse>, notes: string[]): void {
  layer.uses.push(described.use);
  layer.nodeNames.push(described.use.nodeName);
  if (described.layout !== layer.layout || described.inFeatures !== layer.inFeatures) {
    notes.push(
      `Weight '${shortName(layer.weight)}' is used by '${shortName(layer.nodeName)}' as ${layer.layout} and by ` +
        `'${shortName(described.use.nodeName)}' as ${described.layout}: reported once with the first layout`,
    );
  }
}
