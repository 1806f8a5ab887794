// Writes quantized linear layers the standard-ONNX way: the float weight becomes an int4/uint4 or
// int8/uint8 initializer read by a blocked DequantizeLinear (opset 21: block_size along C_in),
// whose float output takes the weight's place, so the MatMul/Gemm (and any Transpose on the way)
// stay as they were. The same QDQ form ORT's quantizer writes with quant_format=QDQ; ORT may fuse
// it into MatMulNBits at load. The model's default opset is raised to 21 (opset.ts) and its IR
// version to 10, the first with 4-bit types.
import { DataType, type GraphProto, type ModelProto, type NodeProto } from '../../onnx/types.ts';
import { findNodeIndex, floatTensor, intAttribute, rawTensor, removeUnused, takenNames, uniqueName, workingCopy } from './graphEdit.ts';
import { layerWriteProblem, type ExportResult, type LayerToExport } from './matMulNBits.ts';
import { raiseOpset } from './opset.ts';
import { dequantizeLinearProblem, packDequantizeLinear, QuantExportError, type BlockedPacked } from './pack.ts';

/** Blocked DequantizeLinear arrived in this default-domain opset. */
export const BLOCKED_DEQUANTIZE_OPSET = 21;
/** IR version 10 added int4/uint4. */
export const INT4_IR_VERSION = 10;

const DATA_TYPE: Record<BlockedPacked['dtype'], number> = { int4: DataType.INT4, uint4: DataType.UINT4, int8: DataType.INT8, uint8: DataType.UINT8 };

/** Points the layer's reads of `weight` (at the product or up its Transpose/Identity path) at `replacement`. */
function rewireReads(graph: GraphProto, product: NodeProto, activation: string, weight: string, replacement: string): void {
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const output of node.output ?? []) producer.set(output, node);
  let node: NodeProto | undefined = product;
  for (let step = 0; step < 8 && node !== undefined; step++) {
    const inputs: string[] = node.input ?? [];
    if (inputs.includes(weight)) {
      node.input = inputs.map((input) => (input === weight ? replacement : input));
      return;
    }
    node = producer.get(inputs.find((input, i) => (step > 0 ? i === 0 : i < 2 && input !== activation)) ?? '');
  }
  throw new QuantExportError(`the node reading '${weight}' was not found on the weight path`);
}

/**
 * A copy of `model` in which each layer's float weight is stored quantized behind a blocked
 * DequantizeLinear. Throws QuantExportError naming the first layer it cannot write and why.
 */
export function writeDequantizeLinear(model: ModelProto, layers: readonly LayerToExport[]): ExportResult {
  for (const { layer, weight } of layers) {
    const problem = layerWriteProblem(layer, weight) ?? dequantizeLinearProblem(weight);
    if (problem) throw new QuantExportError(`${layer.name}: ${problem}`);
  }
  const raised = raiseOpset(model, BLOCKED_DEQUANTIZE_OPSET);
  const { model: copy, graph } = workingCopy(raised.model);
  copy.irVersion = Math.max(Number(copy.irVersion ?? 0), INT4_IR_VERSION);
  const taken = takenNames(graph);
  const notes = [...raised.notes];
  const products = layers.map(({ layer }) => layer.uses.map((use) => graph.node![findNodeIndex(graph, use.nodeName)]));
  // Copies of the nodes that are edited, so that the input model's nodes stay as they were.
  const copied = new Map<NodeProto, NodeProto>();
  graph.node = graph.node!.map((node) => {
    const own = { ...node, input: [...(node.input ?? [])] };
    copied.set(node, own);
    return own;
  });
  const oldWeights = new Set<string>();
  layers.forEach(({ layer, weight }, l) => {
    const p = packDequantizeLinear(weight, layer.layout);
    const names = {
      data: uniqueName(taken, `${layer.weight}_q${weight.bits}`),
      scale: uniqueName(taken, `${layer.weight}_scale`),
      zeroPoint: p.zeroPoints ? uniqueName(taken, `${layer.weight}_zero_point`) : '',
      output: uniqueName(taken, `${layer.weight}_dequantized`),
    };
    graph.initializer!.push(rawTensor(names.data, p.dims, DATA_TYPE[p.dtype], p.data), floatTensor(names.scale, p.scaleDims, p.scales));
    if (p.zeroPoints) graph.initializer!.push(rawTensor(names.zeroPoint, p.scaleDims, DATA_TYPE[p.dtype], p.zeroPoints));
    const dequantize: NodeProto = {
      opType: 'DequantizeLinear',
      name: uniqueName(taken, `${layer.name}/DequantizeLinear`),
      input: p.zeroPoints ? [names.data, names.scale, names.zeroPoint] : [names.data, names.scale],
      output: [names.output],
      attribute: [intAttribute('axis', p.axis), intAttribute('block_size', p.blockSize)],
    };
    // Its inputs are initializers, so the first position is in topological order.
    graph.node!.unshift(dequantize);
    layer.uses.forEach((use, u) => rewireReads(graph, copied.get(products[l][u])!, use.input, layer.weight, names.output));
    oldWeights.add(layer.weight);
    notes.push(`${layer.name}: DequantizeLinear ${p.dtype}, block ${p.blockSize} along axis ${p.axis}`);
  });
  const removed = new Set(removeUnused(graph, new Set(), oldWeights));
  for (const name of oldWeights) if (!removed.has(name)) notes.push(`the float weight '${name}' stays: other nodes still read it`);
  return { model: copy, notes };
}
