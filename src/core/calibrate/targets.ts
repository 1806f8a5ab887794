// Where a linear layer's tokens live in the tensors calibration taps. A MatMul(x, W) sees x as
// [..., T, C_in] (channels on the last axis); MatMul(W, x) sees x as [..., C_in, N] (channels on
// the second-to-last axis); a Gemm's trans attributes decide for its 2-D operands. The same
// holds for the result: [..., T, C_out] or [..., C_out, N].
import { getAttrInt } from '../onnx/graph.ts';
import type { GraphProto, ModelProto, NodeProto } from '../onnx/types.ts';
import type { LinearLayer } from '../model/types.ts';

/** The axis holding the channels, counted from the end: -1 (last) or -2 (second to last). */
export type ChannelAxis = -1 | -2;

export interface TappedActivation {
  tensor: string;
  channelAxis: ChannelAxis;
}

/** What calibration needs to know about one linear layer: plain data, no graph references. */
export interface CalibrationTarget {
  id: string;
  inFeatures: number;
  outFeatures: number;
  /** One entry per use of the weight (a weight multiplied twice contributes both inputs). */
  inputs: TappedActivation[];
  outputs: TappedActivation[];
}

/** The node a LinearUse names: by name, or by the `OpType#index` label analysis gives unnamed nodes. */
function findNode(graph: GraphProto, label: string): NodeProto {
  const nodes = graph.node ?? [];
  const named = nodes.find((node) => node.name === label);
  if (named) return named;
  const index = /#(\d+)$/.exec(label);
  const node = index ? nodes[Number(index[1])] : undefined;
  if (!node) throw new Error(`calibration: node "${label}" is not in the graph`);
  return node;
}

function axes(node: NodeProto, operand: 'A' | 'B'): { input: ChannelAxis; output: ChannelAxis } {
  if (node.opType === 'Gemm') {
    // Y = A'·B'. Weight B: x = A, A' = (transA ? Aᵀ : A) is [tokens, C_in]. Weight A: x = B,
    // B' = (transB ? Bᵀ : B) is [C_in, tokens], and Y is [C_out, tokens].
    if (operand === 'B') return { input: getAttrInt(node, 'transA', 0) ? -2 : -1, output: -1 };
    return { input: getAttrInt(node, 'transB', 0) ? -1 : -2, output: -2 };
  }
  return operand === 'B' ? { input: -1, output: -1 } : { input: -2, output: -2 };
}

export function calibrationTarget(model: ModelProto, layer: LinearLayer): CalibrationTarget {
  const graph = model.graph ?? {};
  const inputs: TappedActivation[] = [];
  const outputs: TappedActivation[] = [];
  for (const use of layer.uses) {
    const node = findNode(graph, use.nodeName);
    // Which operand is the weight for this use: the one that is not the activation.
    const operand = (node.input ?? [])[0] === use.input ? 'B' : 'A';
    const axis = axes(node, operand);
    inputs.push({ tensor: use.input, channelAxis: axis.input });
    outputs.push({ tensor: use.output, channelAxis: axis.output });
  }
  return { id: layer.id, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, inputs, outputs };
}
