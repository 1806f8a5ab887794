// Per weight matrix: how it is stored (packed, low precision) and how many of its weights are
// exactly zero, with the structured pattern those zeros form. Two sources: the linear layers
// (MatMul/Gemm, possibly behind DequantizeLinear or a low-precision float, and MatMulNBits) and
// the other nodes that multiply by a packed weight themselves (MatMulInteger, QLinearMatMul, a
// MatMulNBits whose A or B the analysis could not place), which are not linear layers.
import { dtypeInfo } from '../onnx/dtypes.ts';
import type { NodeProto, TensorProto } from '../onnx/types.ts';
import { detectPattern, MIN_PATTERN_ZERO_SHARE } from './detectPattern.ts';
import { consumerNodes, constantTensor, isOnnxDomain, nodeLabel, resolveConstant, type GraphIndex } from './graphIndex.ts';
import { modulePathFromNode, modulePathFromWeight } from './names.ts';
import { attrInt, dtypeName, isFloatType, tensorDims } from './proto.ts';
import { roleFromName } from './roles.ts';
import {
  countZeroFlags,
  keepMaskOfStored,
  nBitsNonZero,
  payloadProblem,
  plainNonZero,
  quantizedNonZero,
  UnreadableWeight,
} from './storedZeros.ts';
import type { LayerCompression, LinearLayer, LinearRole, PackedWeight, WeightLayout } from './types.ts';

/** The roles a prune stage leaves dense by default (recipe/layers.ts prunableLayers). */
export const prunableRole = (role: LinearRole | null): boolean => role !== 'embed' && role !== 'head';

interface WeightToMeasure {
  id: string;
  name: string;
  prunable: boolean;
  rows: number;
  cols: number;
  layout: WeightLayout;
  packed: PackedWeight | null;
  /** The main stored tensor, checked for a payload before anything is decoded. */
  stored: TensorProto;
  /** One flag per stored element, 1 = non-zero; throws UnreadableWeight. */
  nonZero: () => Uint8Array;
  order: number;
}

function measure(weight: WeightToMeasure): LayerCompression {
  const { id, name, prunable, packed } = weight;
  const elements = weight.rows * weight.cols;
  const unknown = (reason: string): LayerCompression => ({ id, name, prunable, elements, zeros: null, zeroShare: null, pattern: null, packed, unreadable: reason });
  const missing = payloadProblem(weight.stored);
  if (missing !== null) return unknown(missing);
  let flags: Uint8Array;
  try {
    flags = weight.nonZero();
  } catch (error) {
    // Any reason at all (a malformed payload too) makes the zeros unknown, not the analysis fail.
    return unknown(error instanceof Error ? error.message : String(error));
  }
  if (flags.length !== elements) return unknown(`${flags.length} values do not fill ${weight.rows} x ${weight.cols}`);
  const zeros = countZeroFlags(flags);
  const zeroShare = elements === 0 ? 0 : zeros / elements;
  const pattern = zeroShare >= MIN_PATTERN_ZERO_SHARE ? detectPattern(keepMaskOfStored(flags, weight.layout, weight.rows, weight.cols)) : null;
  return { id, name, prunable, elements, zeros, zeroShare, pattern, packed, unreadable: null };
}

function packedOf(tensor: TensorProto, via: string): PackedWeight {
  return { via, dtype: dtypeName(tensor.dataType), bits: dtypeInfo(tensor.dataType ?? 0)?.bits ?? 0 };
}

/** DequantizeLinear, or a stored type narrower than float32 (float16 storage, an integer Cast). */
function linearPacked(layer: LinearLayer, tensor: TensorProto): PackedWeight | null {
  if (layer.weightPath.includes('DequantizeLinear')) return packedOf(tensor, 'DequantizeLinear');
  const bits = dtypeInfo(tensor.dataType ?? 0)?.bits ?? 32;
  if (bits >= 32) return null;
  return packedOf(tensor, isFloatType(tensor.dataType) ? 'storage' : layer.weightPath.find((op) => op !== 'Transpose' && op !== 'Identity') ?? 'storage');
}

function dequantizeNode(index: GraphIndex, weight: string): NodeProto | undefined {
  return consumerNodes(index, weight)
    .map((nodeIndex) => index.nodes[nodeIndex])
    .find((node) => node.opType === 'DequantizeLinear' && isOnnxDomain(node) && node.input?.[0] === weight);
}

/** An optional constant input: undefined when omitted, an error when present but not constant. */
function optionalConstant(index: GraphIndex, name: string | undefined, what: string): TensorProto | undefined {
  if (!name) return undefined;
  const constant = resolveConstant(index, name);
  if (constant === undefined) throw new UnreadableWeight(`its ${what} '${name}' is computed, not stored`);
  return constant.tensor;
}

function linearWeight(index: GraphIndex, layer: LinearLayer, nodeByLabel: () => ReadonlyMap<string, number>): WeightToMeasure | null {
  if (layer.opType === 'MatMulNBits') {
    const nodeIndex = nodeByLabel().get(layer.nodeName);
    const weight = nodeIndex === undefined ? null : nBitsWeight(index, nodeIndex);
    return weight && { ...weight, id: layer.id, name: layer.name, prunable: prunableRole(layer.role), order: layer.order };
  }
  const tensor = constantTensor(index, layer.weight);
  if (tensor === undefined) return null;
  const nonZero = () => {
    if (!layer.weightPath.includes('DequantizeLinear')) return plainNonZero(tensor);
    const node = dequantizeNode(index, layer.weight);
    if (node === undefined) throw new UnreadableWeight('its DequantizeLinear does not read the stored tensor directly');
    const zeroPoint = optionalConstant(index, node.input?.[2], 'zero point');
    return quantizedNonZero(tensor, zeroPoint, attrInt(node, 'axis', 1), attrInt(node, 'block_size', 0));
  };
  return {
    id: layer.id,
    name: layer.name,
    prunable: prunableRole(layer.role),
    rows: layer.outFeatures,
    cols: layer.inFeatures,
    layout: layer.layout,
    packed: linearPacked(layer, tensor),
    stored: tensor,
    nonZero,
    order: layer.order,
  };
}

/** Integer matmuls with a stored B [K, N] and its zero point: input positions per op. */
const INTEGER_MATMULS = new Map<string, { domain: string; weight: number; zeroPoint: number }>([
  ['MatMulInteger', { domain: 'ai.onnx', weight: 1, zeroPoint: 3 }],
  ['QLinearMatMul', { domain: 'ai.onnx', weight: 3, zeroPoint: 5 }],
  ['DynamicQuantizeMatMul', { domain: 'com.microsoft', weight: 1, zeroPoint: 3 }],
  ['MatMulIntegerToFloat', { domain: 'com.microsoft', weight: 1, zeroPoint: 5 }],
]);

const domainOf = (node: NodeProto) => (isOnnxDomain(node) ? 'ai.onnx' : node.domain);

function packedNodeBase(index: GraphIndex, nodeIndex: number, weightName: string) {
  const label = nodeLabel(index, nodeIndex);
  const name = modulePathFromNode(label) || modulePathFromWeight(weightName) || label;
  const role = roleFromName(modulePathFromNode(label)) ?? roleFromName(modulePathFromWeight(weightName));
  return { id: label, name, prunable: prunableRole(role), order: index.position[nodeIndex] };
}

function integerMatMulWeight(index: GraphIndex, nodeIndex: number): WeightToMeasure | null {
  const node = index.nodes[nodeIndex];
  const spec = INTEGER_MATMULS.get(node.opType ?? '');
  if (spec === undefined || domainOf(node) !== spec.domain) return null;
  const weightName = node.input?.[spec.weight] ?? '';
  const constant = weightName ? resolveConstant(index, weightName) : undefined;
  const dims = constant ? tensorDims(constant.tensor) : [];
  if (constant === undefined || dims.length !== 2) return null;
  const [k, n] = dims;
  return {
    ...packedNodeBase(index, nodeIndex, constant.initializer),
    rows: n,
    cols: k,
    layout: 'in_out',
    packed: packedOf(constant.tensor, node.opType ?? ''),
    stored: constant.tensor,
    // B's zero point is per tensor or per column of [K, N] (axis 1).
    nonZero: () => quantizedNonZero(constant.tensor, optionalConstant(index, node.input?.[spec.zeroPoint], 'zero point'), 1, 0),
  };
}

/** com.microsoft MatMulNBits: B [N, blocks, blob] uint8, attributes K, N, bits, block_size. */
function nBitsWeight(index: GraphIndex, nodeIndex: number): WeightToMeasure | null {
  const node = index.nodes[nodeIndex];
  if (node.opType !== 'MatMulNBits' || domainOf(node) !== 'com.microsoft') return null;
  const constant = node.input?.[1] ? resolveConstant(index, node.input[1]) : undefined;
  if (constant === undefined) return null;
  const [k, n, bits, blockSize] = [attrInt(node, 'K', 0), attrInt(node, 'N', 0), attrInt(node, 'bits', 4), attrInt(node, 'block_size', 0)];
  if (!(k > 0 && n > 0 && blockSize > 0)) return null;
  return {
    ...packedNodeBase(index, nodeIndex, constant.initializer),
    rows: n,
    cols: k,
    layout: 'out_in',
    packed: { via: 'MatMulNBits', dtype: `uint${bits}`, bits },
    stored: constant.tensor,
    nonZero: () => {
      if (node.input?.[4]) throw new UnreadableWeight('its g_idx (act-order) block map is not read');
      const zeroPoints = optionalConstant(index, node.input?.[3], 'zero points');
      return nBitsNonZero({ packed: constant.tensor, zeroPoints, n, k, bits, blockSize });
    },
  };
}

/** Every weight matrix of the model, linear layers and packed nodes, in model order. */
export function scanWeights(index: GraphIndex, linears: readonly LinearLayer[]): LayerCompression[] {
  const weights: WeightToMeasure[] = [];
  let labels: Map<string, number> | undefined;
  const nodeByLabel = () => (labels ??= new Map(index.order.map((nodeIndex) => [nodeLabel(index, nodeIndex), nodeIndex])));
  for (const layer of linears) {
    const weight = linearWeight(index, layer, nodeByLabel);
    if (weight) weights.push(weight);
  }
  const linearNodes = new Set(linears.filter((layer) => layer.opType === 'MatMulNBits').flatMap((layer) => layer.nodeNames));
  for (const nodeIndex of index.order) {
    const opType = index.nodes[nodeIndex].opType ?? '';
    if (opType !== 'MatMulNBits' && !INTEGER_MATMULS.has(opType)) continue;
    if (linearNodes.has(nodeLabel(index, nodeIndex))) continue;
    const weight = nBitsWeight(index, nodeIndex) ?? integerMatMulWeight(index, nodeIndex);
    if (weight) weights.push(weight);
  }
  return weights.sort((a, b) => a.order - b.order).map(measure);
}
