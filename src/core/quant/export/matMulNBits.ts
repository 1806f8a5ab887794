// Writes quantized linear layers as com.microsoft.MatMulNBits: each MatMul (or Gemm) that
// multiplies by the layer's weight becomes one MatMulNBits node reading the packed weight (pack.ts),
// and the float weight goes when nothing else reads it. MatMulNBits computes A · Wᵀ with W stored
// row by row (N = C_out rows of K = C_in), so the lab's codes pack as they are, whatever the float
// weight's layout was; the Transpose a MatMul(x, Transpose(W)) went through goes with it.
import { tensorDims } from '../../onnx/tensor.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto } from '../../onnx/types.ts';
import type { LinearLayer } from '../../model/types.ts';
import type { QuantizedWeight } from '../types.ts';
import {
  findNodeIndex,
  floatTensor,
  int32Tensor,
  intAttribute,
  rawTensor,
  removeUnused,
  requireOpset,
  takenNames,
  uniqueName,
  workingCopy,
} from './graphEdit.ts';
import { matMulNBitsProblem, packMatMulNBits, QuantExportError, type NBitsPacked } from './pack.ts';

/** A linear layer of the analysis and the quantized weight to store for it. */
export interface LayerToExport {
  layer: LinearLayer;
  weight: QuantizedWeight;
}

export interface ExportResult {
  model: ModelProto;
  /** One line per layer written, and what else changed (opset raised, weights kept for other readers). */
  notes: string[];
}

export interface MatMulNBitsOptions {
  /** MatMulNBits' accuracy_level: 0 (default) keeps A in float32; 4 lets the CPU kernel quantize A to int8. */
  accuracyLevel?: number;
}

export const MICROSOFT_DOMAIN = 'com.microsoft';

/** Weight paths a float weight may take to the product: ops that do not change its values. */
const PLAIN_PATH = new Set(['Transpose', 'Identity']);

function attrNumber(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a === undefined ? fallback : Number(a.i ?? a.f ?? fallback);
}

/** What in the layer's graph (not its weight) keeps it from becoming MatMulNBits, or null. */
export function layerWriteProblem(layer: LinearLayer, q: QuantizedWeight): string | null {
  if (layer.opType !== 'MatMul' && layer.opType !== 'Gemm') return `it is already a ${layer.opType} node`;
  if (q.rows !== layer.outFeatures || q.cols !== layer.inFeatures) {
    return `the quantized weight is ${q.rows} x ${q.cols}, the layer's W is C_out x C_in = ${layer.outFeatures} x ${layer.inFeatures}`;
  }
  const other = layer.weightPath.find((op) => !PLAIN_PATH.has(op));
  if (other !== undefined) return `its weight reaches the product through ${other}: only a plain float32 initializer (maybe transposed) is replaced`;
  if (layer.weightDtype !== 'float32') return `its weight is ${layer.weightDtype}: the writers replace float32 weights (MatMulNBits' scales take the activation's type)`;
  return null;
}

export function gemmProblem(layer: LinearLayer, node: NodeProto): string | null {
  if (node.opType !== 'Gemm') return null;
  if (attrNumber(node, 'transA', 0) !== 0) return 'its Gemm transposes A (transA=1); MatMulNBits multiplies A as it is';
  if (attrNumber(node, 'alpha', 1) !== 1) return `its Gemm scales the product by alpha=${attrNumber(node, 'alpha', 1)}`;
  if (node.input?.[2] && attrNumber(node, 'beta', 1) !== 1) return `its Gemm scales the bias by beta=${attrNumber(node, 'beta', 1)}`;
  return layer.weightOperand === 'B' ? null : 'its Gemm multiplies W·x';
}

/** Why `layer` cannot be written as MatMulNBits with `q`, or null. */
export function matMulNBitsLayerProblem(layer: LinearLayer, q: QuantizedWeight): string | null {
  if (layer.weightOperand === 'A') return 'it multiplies W·x (the weight is the first operand); MatMulNBits computes x·Wᵀ only';
  return layerWriteProblem(layer, q) ?? matMulNBitsProblem(q);
}

export interface PackedNames {
  packed: string;
  scales: string;
  zeroPoints: string;
  groupIndex: string;
}

/** The packed tensors as initializers, named after the float weight as ORT's quantizer names them. */
export function addInitializers(graph: GraphProto, taken: Set<string>, weight: string, p: NBitsPacked): PackedNames {
  const names: PackedNames = { packed: uniqueName(taken, `${weight}_Q${p.bits}`), scales: uniqueName(taken, `${weight}_scales`), zeroPoints: '', groupIndex: '' };
  const initializers = graph.initializer!;
  initializers.push(rawTensor(names.packed, [p.n, p.blocks, p.blobSize], DataType.UINT8, p.packed));
  initializers.push(floatTensor(names.scales, [p.n, p.blocks], p.scales));
  if (p.zeroPoints) {
    names.zeroPoints = uniqueName(taken, `${weight}_zero_points`);
    initializers.push(
      p.zeroPoints.kind === 'packed'
        ? rawTensor(names.zeroPoints, [p.n, p.zeroPoints.rowBytes], DataType.UINT8, p.zeroPoints.data)
        : floatTensor(names.zeroPoints, [p.n, p.blocks], p.zeroPoints.data),
    );
  }
  if (p.groupIndex) {
    names.groupIndex = uniqueName(taken, `${weight}_g_idx`);
    initializers.push(int32Tensor(names.groupIndex, [p.k], p.groupIndex));
  }
  return names;
}

/** Gemm's C as MatMulNBits' bias input when it is a [N] initializer; otherwise an Add after. */
export function gemmBias(graph: GraphProto, node: NodeProto, n: number): { input: string; add: string | null } {
  const c = node.input?.[2] ?? '';
  if (!c) return { input: '', add: null };
  const tensor = graph.initializer?.find((t) => t.name === c);
  const dims = tensor ? tensorDims(tensor) : [];
  return dims.length === 1 && dims[0] === n ? { input: c, add: null } : { input: '', add: c };
}

export function nBitsNode(node: NodeProto, activation: string, output: string, names: PackedNames, p: NBitsPacked, bias: string, accuracyLevel: number): NodeProto {
  const inputs = [activation, names.packed, names.scales, names.zeroPoints, names.groupIndex, bias];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const built: NodeProto = {
    opType: 'MatMulNBits',
    domain: MICROSOFT_DOMAIN,
    input: inputs,
    output: [output],
    attribute: [intAttribute('K', p.k), intAttribute('N', p.n), intAttribute('bits', p.bits), intAttribute('block_size', p.blockSize), intAttribute('accuracy_level', accuracyLevel)],
  };
  // The node keeps its name: the analysis reads module paths (blocks.0.attn.q_proj) from it.
  if (node.name) built.name = node.name;
  if (node.metadataProps) built.metadataProps = node.metadataProps;
  return built;
}

/** The nodes between the initializer and the product (Transpose, Identity), which may now be dead. */
export function weightPathNodes(graph: GraphProto, product: NodeProto, activation: string, weight: string): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const output of node.output ?? []) producer.set(output, node);
  const path: NodeProto[] = [];
  let current = (product.input ?? []).find((input, i) => i < 2 && input !== activation) ?? '';
  for (let step = 0; step < 8 && current !== weight; step++) {
    const node = producer.get(current);
    if (node === undefined) break;
    path.push(node);
    current = node.input?.[0] ?? '';
  }
  return path;
}

/**
 * A copy of `model` with each layer's MatMul/Gemm nodes replaced by MatMulNBits. Throws
 * QuantExportError naming the first layer that cannot be written and why.
 */
export function writeMatMulNBits(model: ModelProto, layers: readonly LayerToExport[], options: MatMulNBitsOptions = {}): ExportResult {
  const { model: copy, graph } = workingCopy(model);
  const taken = takenNames(graph);
  const notes: string[] = [];
  const deadCandidates = new Set<NodeProto>();
  const oldWeights = new Set<string>();
  // Nodes are found before any is replaced: an unnamed node's label holds its index.
  const products = layers.map(({ layer }) => layer.uses.map((use) => graph.node![findNodeIndex(graph, use.nodeName)]));
  layers.forEach(({ layer, weight }, l) => {
    const problem = matMulNBitsLayerProblem(layer, weight) ?? products[l].map((node) => gemmProblem(layer, node)).find((p) => p !== null);
    if (problem) throw new QuantExportError(`${layer.name}: ${problem}`);
    const packed = packMatMulNBits(weight);
    const names = addInitializers(graph, taken, layer.weight, packed);
    layer.uses.forEach((use, u) => {
      const node = products[l][u];
      weightPathNodes(graph, node, use.input, layer.weight).forEach((n) => deadCandidates.add(n));
      const output = node.output?.[0] ?? '';
      const bias = node.opType === 'Gemm' ? gemmBias(graph, node, packed.n) : { input: '', add: null };
      const product = bias.add ? uniqueName(taken, `${output}_matmul`) : output;
      const replaced = [nBitsNode(node, use.input, product, names, packed, bias.input, options.accuracyLevel ?? 0)];
      if (bias.add) replaced.push({ opType: 'Add', name: uniqueName(taken, `${node.name || output}_bias`), input: [product, bias.add], output: [output] });
      graph.node!.splice(graph.node!.indexOf(node), 1, ...replaced);
    });
    oldWeights.add(layer.weight);
    const zeroPoints = packed.zeroPoints === null ? 'symmetric' : `${packed.zeroPoints.kind} zero points`;
    notes.push(`${layer.name}: MatMulNBits ${packed.bits}-bit, block ${packed.blockSize}, ${zeroPoints}${packed.groupIndex ? ', g_idx' : ''}`);
  });
  const removed = new Set(removeUnused(graph, deadCandidates, oldWeights));
  for (const name of oldWeights) if (!removed.has(name)) notes.push(`the float weight '${name}' stays: other nodes still read it`);
  requireOpset(copy, MICROSOFT_DOMAIN, 1);
  return { model: copy, notes };
}
