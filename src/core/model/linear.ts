// Linear layers: MatMul and Gemm nodes that multiply an activation by a 2-D initializer, found
// directly or through Transpose / Cast / Identity / DequantizeLinear of the initializer, and
// onnxruntime's com.microsoft MatMulNBits nodes, whose packed B stores W (N × K) row by row.
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
import type { LinearLayer, LinearOp, LinearUse, NBitsStorage, WeightLayout } from './types.ts';
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

/** Gemm's C and MatMulNBits' bias: the input that holds the bias, when the op has one. */
const BIAS_INPUT: Partial<Record<string, number>> = { Gemm: 2, MatMulNBits: 5 };

/**
 * Fused ops (onnxruntime contrib ops, ContribOperators.md) that add a layer's bias inside their
 * kernel, and which of their inputs holds it: the ORT transformer optimizer moves GPT-2's c_fc and
 * BERT's intermediate bias into FastGelu/BiasGelu, and a dense layer's bias before a residual into
 * SkipLayerNormalization's `bias` (SkipSimplifiedLayerNormalization's for RMSNorm models).
 */
const FUSED_BIAS_INPUT: Partial<Record<string, number>> = { FastGelu: 1, BiasGelu: 1, SkipLayerNormalization: 4, SkipSimplifiedLayerNormalization: 3 };

/** The bias a fused consumer adds to `output`; the layer's output stays the product (the sum never exists as a tensor). */
function fusedBias(index: GraphIndex, consumer: NodeProto, output: string, outFeatures: number): FoundBias | null {
  const at = FUSED_BIAS_INPUT[consumer.opType ?? ''];
  const inputs = consumer.input ?? [];
  if (at === undefined || consumer.domain !== 'com.microsoft' || !inputs[at] || inputs.indexOf(output) > 1 || inputs.indexOf(output) < 0) return null;
  const found = asBias(index, inputs[at], outFeatures);
  return found ? { ...found, output } : null;
}

/**
 * A bias is Gemm's C or MatMulNBits' bias input, a constant added by the only consumer of a
 * MatMul's (or a bias-less MatMulNBits') output, or the bias input of a fused op that consumes it.
 */
function findBias(index: GraphIndex, node: NodeProto, outFeatures: number): FoundBias {
  const output = node.output?.[0] ?? '';
  const none = { bias: null, biasInitializer: null, output };
  const biasInput = BIAS_INPUT[node.opType ?? ''];
  if (biasInput !== undefined && (node.opType === 'Gemm' || node.input?.[biasInput])) {
    const found = asBias(index, node.input?.[biasInput] ?? '', outFeatures);
    return found ? { ...found, output } : none;
  }
  const consumers = consumerNodes(index, output);
  if (consumers.length !== 1 || index.graphOutputs.has(output)) return none;
  const add = index.nodes[consumers[0]];
  if (add.opType !== 'Add' || !isOnnxDomain(add)) return fusedBias(index, add, output, outFeatures) ?? none;
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

function describeUse(index: GraphIndex, candidate: Candidate, notes: string[]): DescribedUse {
  const node = index.nodes[candidate.nodeIndex];
  const opType = node.opType as LinearOp;
  const transAttr = opType === 'Gemm' && attrInt(node, candidate.operand === 'B' ? 'transB' : 'transA', 0) !== 0;
  const layout = weightLayout(candidate.operand, transAttr, candidate.source.transposed);
  const [d0, d1] = candidate.source.dims;
  const [inFeatures, outFeatures] = layout === 'in_out' ? [d0, d1] : [d1, d0];
  const { bias, biasInitializer, output } = findBias(index, node, outFeatures);
  if (opType === 'Gemm') gemmNotes(index, candidate.nodeIndex, bias !== null, notes);
  const use: LinearUse = { nodeName: nodeLabel(index, candidate.nodeIndex), opType, input: candidate.activation, output, bias };
  return { use, layout, inFeatures, outFeatures, biasInitializer };
}

interface DescribedUse {
  use: LinearUse;
  layout: WeightLayout;
  inFeatures: number;
  outFeatures: number;
  biasInitializer: string | null;
  nBits?: NBitsStorage;
}

const attrOf = (node: NodeProto, name: string) => attrInt(node, name, 0);

/**
 * A com.microsoft MatMulNBits node with a constant B and an activation A, as a linear layer:
 * W is N × K ('out_in', B holds row n's blocks), bits 4 unless the attribute says otherwise.
 */
function nBitsUse(index: GraphIndex, nodeIndex: number, notes: string[]): { candidate: Candidate; described: DescribedUse } | null {
  const node = index.nodes[nodeIndex];
  const [a = '', b = '', scales = '', zeroPoints = '', groupIndex = ''] = node.input ?? [];
  const constant = b ? resolveConstant(index, b) : undefined;
  const [k, n, blockSize] = [attrOf(node, 'K'), attrOf(node, 'N'), attrOf(node, 'block_size')];
  if (constant === undefined || !index.dataDependent.has(a) || !(k > 0 && n > 0 && blockSize > 0)) {
    notes.push(`MatMulNBits '${shortName(nodeLabel(index, nodeIndex))}' has no stored B, no activation A or no K, N, block_size: not analysed as a linear layer`);
    return null;
  }
  const source: WeightSource = { initializer: constant.initializer, tensor: constant.tensor, dims: tensorDims(constant.tensor), path: [], pathNodes: [], transposed: false };
  const { bias, biasInitializer, output } = findBias(index, node, n);
  const use: LinearUse = { nodeName: nodeLabel(index, nodeIndex), opType: 'MatMulNBits', input: a, output, bias };
  const nBits: NBitsStorage = { bits: attrInt(node, 'bits', 4), blockSize, scales, zeroPoints: zeroPoints || null, groupIndex: groupIndex || null };
  return { candidate: { nodeIndex, operand: 'B', source, activation: a }, described: { use, layout: 'out_in', inFeatures: k, outFeatures: n, biasInitializer, nBits } };
}

function newLayer(index: GraphIndex, candidate: Candidate, described: DescribedUse): LinearLayer {
  const { source } = candidate;
  const { use } = described;
  const biasTensor = described.biasInitializer ? constantTensor(index, described.biasInitializer) : undefined;
  const biasCount = biasTensor ? elementCount(tensorDims(biasTensor)) : 0;
  const weightElements = described.nBits ? described.inFeatures * described.outFeatures : elementCount(source.dims);
  const layer: LinearLayer = {
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
    params: weightElements + biasCount,
    input: use.input,
    output: use.output,
    uses: [use],
    sharedWith: [],
    block: null,
    role: 'other',
    roleSource: 'none',
    order: index.position[candidate.nodeIndex],
  };
  if (described.nBits) layer.nBits = described.nBits;
  return layer;
}

/** Nodes other than the layer's own uses and weight paths that read the initializer. */
function otherReaders(index: GraphIndex, weight: string, own: ReadonlySet<number>): string[] {
  return consumerNodes(index, weight)
    .filter((nodeIndex) => !own.has(nodeIndex))
    .map((nodeIndex) => nodeLabel(index, nodeIndex));
}

export interface LinearScan {
  linears: LinearLayer[];
  /** Node index → id of the linear layer it belongs to (MatMul/Gemm/MatMulNBits and bias Add nodes). */
  nodeToLinear: Map<number, string>;
  /** MatMul nodes whose two operands both depend on the input (attention or unknown). */
  activationMatMuls: Set<number>;
  notes: string[];
}

const isNBits = (node: NodeProto) => node.opType === 'MatMulNBits' && node.domain === 'com.microsoft';

/** The node as a use of a linear layer's weight, or null. */
function linearUse(index: GraphIndex, nodeIndex: number, notes: string[]): { candidate: Candidate; described: DescribedUse } | null {
  const node = index.nodes[nodeIndex];
  if (isNBits(node)) return nBitsUse(index, nodeIndex, notes);
  if ((node.opType !== 'MatMul' && node.opType !== 'Gemm') || !isOnnxDomain(node)) return null;
  const candidate = linearCandidate(index, nodeIndex, notes);
  return candidate ? { candidate, described: describeUse(index, candidate, notes) } : null;
}

export function findLinearLayers(index: GraphIndex): LinearScan {
  const byWeight = new Map<string, LinearLayer>();
  const ownNodes = new Map<string, Set<number>>();
  const nodeToLinear = new Map<number, string>();
  const activationMatMuls = new Set<number>();
  const notes: string[] = [];
  for (const nodeIndex of index.order) {
    const node = index.nodes[nodeIndex];
    const found = linearUse(index, nodeIndex, notes);
    if (!found) {
      const [a = '', b = ''] = node.input ?? [];
      if ((node.opType === 'MatMul' || node.opType === 'Gemm') && isOnnxDomain(node) && index.dataDependent.has(a) && index.dataDependent.has(b)) activationMatMuls.add(nodeIndex);
      continue;
    }
    const { candidate, described } = found;
    const id = candidate.source.initializer;
    const existing = byWeight.get(id);
    if (existing) addSharedUse(existing, described, notes);
    else byWeight.set(id, newLayer(index, candidate, described));
    const own = ownNodes.get(id) ?? new Set<number>();
    own.add(nodeIndex);
    candidate.source.pathNodes.forEach((pathNode) => own.add(pathNode));
    ownNodes.set(id, own);
    nodeToLinear.set(nodeIndex, id);
    // A bias added after the product: its Add belongs to the layer too.
    const biasAdd = described.use.bias && described.use.output !== node.output?.[0] ? index.producer.get(described.use.output) : undefined;
    if (biasAdd !== undefined) nodeToLinear.set(biasAdd, id);
  }
  const linears = [...byWeight.values()].map((layer) => ({
    ...layer,
    sharedWith: otherReaders(index, layer.weight, ownNodes.get(layer.id) ?? new Set()),
  }));
  return { linears, nodeToLinear, activationMatMuls, notes };
}

/** A second node multiplying by the same weight: reported once, with every node named. */
function addSharedUse(layer: LinearLayer, described: DescribedUse, notes: string[]): void {
  layer.uses.push(described.use);
  layer.nodeNames.push(described.use.nodeName);
  if (described.layout !== layer.layout || described.inFeatures !== layer.inFeatures) {
    notes.push(
      `Weight '${shortName(layer.weight)}' is used by '${shortName(layer.nodeName)}' as ${layer.layout} and by ` +
        `'${shortName(described.use.nodeName)}' as ${described.layout}: reported once with the first layout`,
    );
  }
}
