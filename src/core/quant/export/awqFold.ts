// Where AWQ's inverse scale goes in the exported graph. Packed AWQ layers store the codes of
// W·diag(s), so their input must be divided by s: folded into the LayerNormalization that feeds
// them when its output is theirs alone (llm-awq auto_scale.py `scale_ln_fcs`), otherwise an
// explicit Mul(input, 1/s) in front of them (standard ONNX; the reference's `ScaledActivation`
// for fc2 after GELU). The reference folds out_proj's scale into v_proj's rows (`scale_fc_fc`);
// the lab writes a Mul there instead, since the attention between them reshapes heads.
// See docs/quantization.md, "AWQ".
import { buildGraphIndex, nodeLabel } from '../../model/graphIndex.ts';
import { foldInverseScale } from '../awq.ts';
import type { LinearLayer } from '../../model/types.ts';
import { tensorToFloat32 } from '../../onnx/tensor.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto } from '../../onnx/types.ts';
import { findNodeIndex, floatTensor, takenNames, uniqueName } from './graphEdit.ts';

/** How the inverse scale of one group of layers (those reading `input`) is applied. */
export type AwqInputScaling =
  /** Divide the LayerNormalization's scale and bias initializers by s. */
  | { kind: 'norm'; node: string; weight: string; bias: string | null }
  /** Insert Mul(input, 1/s) and let the group read its output; `why` says what ruled out a fold. */
  | { kind: 'mul'; why: string }
  /** Neither fits (a weight used on several inputs): the layers stay simulated, Ŵ = Q(W·diag(s))·diag(s)⁻¹. */
  | { kind: 'none'; why: string };

/** Ops that read only a tensor's shape, so a fold that rescales its values does not change them. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

/**
 * Whether the `input` the `group` reads can absorb 1/s in the LayerNormalization that produces it:
 * a float32 scale (and bias) initializer read by that node only, and an output read only by the
 * group's products (or by Shape/Size). Otherwise a Mul, with the reason.
 */
export function planAwqInputScaling(model: ModelProto, input: string, group: readonly LinearLayer[]): AwqInputScaling {
  const graph = model.graph;
  if (graph === undefined) throw new Error('the model has no graph');
  const index = buildGraphIndex(graph);
  const producerIndex = index.producer.get(input);
  if (producerIndex === undefined) return { kind: 'mul', why: 'the input is a graph input' };
  const producer = index.nodes[producerIndex];
  const label = nodeLabel(index, producerIndex);
  if (producer.opType !== 'LayerNormalization' || (producer.domain ?? '') !== '') return { kind: 'mul', why: `the input comes from ${producer.opType} (${label}), which cannot absorb a scale` };
  if (producer.output?.[0] !== input) return { kind: 'mul', why: `the input is not ${label}'s normalised output` };
  const products = new Set(group.flatMap((layer) => layer.uses.map((use) => use.nodeName)));
  const others = (index.consumers.get(input) ?? []).filter((n) => !products.has(nodeLabel(index, n)) && !SHAPE_ONLY.has(index.nodes[n].opType ?? ''));
  if (others.length > 0) return { kind: 'mul', why: `${label}'s output is also read by ${nodeLabel(index, others[0])}` };
  if (index.graphOutputs.has(input)) return { kind: 'mul', why: `${label}'s output is a graph output` };
  const overridable = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  const [, weight = '', bias = ''] = producer.input ?? [];
  for (const name of [weight, bias].filter(Boolean)) {
    const tensor = index.initializers.get(name);
    if (tensor === undefined) return { kind: 'mul', why: `${label}'s parameter ${name} is not an initializer` };
    if (tensor.dataType !== DataType.FLOAT) return { kind: 'mul', why: `${label}'s parameter ${name} is not float32` };
    if (overridable.has(name)) return { kind: 'mul', why: `${label}'s parameter ${name} is also a graph input` };
    if ((index.consumers.get(name) ?? []).length !== 1) return { kind: 'mul', why: `${label}'s parameter ${name} is read by other nodes too` };
  }
  if (!weight) return { kind: 'mul', why: `${label} has no scale input` };
  return { kind: 'norm', node: label, weight, bias: bias || null };
}

/** One group's searched scale and where it goes. */
export interface AwqInputScale {
  /** The tensor the group reads in the source graph. */
  input: string;
  /** (C_in) s: the group's weights are stored as codes of W·diag(s). */
  scales: Float32Array;
  scaling: AwqInputScaling;
}

/**
 * Applies the inverse scales on an editable graph (a working copy), before the products are
 * rewritten: LayerNormalization parameters divided by s (new tensors), or a Mul(input, 1/s)
 * appended at the end of the node list — so that the analysis' `opType#index` labels still name
 * the same nodes — with the group's products reading its output. `placeAwqMuls` moves the Muls
 * where they run once the products are rewritten. Returns the tensor each group now reads.
 */
export function applyAwqInputScales(graph: GraphProto, groups: readonly AwqInputScale[], layers: readonly (readonly LinearLayer[])[]): { readAs: string[]; muls: NodeProto[] } {
  const initializers = (graph.initializer ??= []);
  const nodes = (graph.node ??= []);
  const taken = takenNames(graph);
  const muls: NodeProto[] = [];
  const readAs = groups.map((group, g) => {
    const { scales, scaling } = group;
    if (scaling.kind === 'none') throw new Error(`AWQ: the scale of ${group.input} has no place in the graph: ${scaling.why}`);
    if (scaling.kind === 'norm') {
      const at = (name: string) => initializers.findIndex((t) => t.name === name);
      const bias = scaling.bias === null ? undefined : tensorToFloat32(initializers[at(scaling.bias)]);
      // The fold the fixture checks against llm-awq's scale_ln_fcs (awq.test.ts); no consumers: their codes are already of W·diag(s).
      const { source } = foldInverseScale(scales, { kind: 'norm', weight: tensorToFloat32(initializers[at(scaling.weight)]), ...(bias ? { bias } : {}) }, []);
      if (source.kind !== 'norm') throw new Error('AWQ fold: expected a norm');
      initializers[at(scaling.weight)] = floatTensor(scaling.weight, [scales.length], source.weight);
      if (scaling.bias !== null) initializers[at(scaling.bias)] = floatTensor(scaling.bias, [scales.length], source.bias!);
      return group.input;
    }
    const output = uniqueName(taken, `${group.input}_awq_scaled`);
    const inverse = uniqueName(taken, `${group.input}_awq_inv_scale`);
    initializers.push(floatTensor(inverse, [scales.length], Float32Array.from(scales, (s) => 1 / s)));
    const products = layers[g].flatMap((layer) => layer.uses.map((use) => findNodeIndex(graph, use.nodeName)));
    for (const n of products) nodes[n] = { ...nodes[n], input: (nodes[n].input ?? []).map((name) => (name === group.input ? output : name)) };
    const mul: NodeProto = { opType: 'Mul', name: uniqueName(taken, `${group.input}_awq_mul`), input: [group.input, inverse], output: [output] };
    nodes.push(mul);
    muls.push(mul);
    return output;
  });
  return { readAs, muls };
}

/** Moves each of `muls` (appended by applyAwqInputScales) to just before the first node that reads its output. */
export function placeAwqMuls(graph: GraphProto, muls: readonly NodeProto[]): void {
  const nodes = graph.node!;
  for (const mul of muls) {
    nodes.splice(nodes.indexOf(mul), 1);
    const first = nodes.findIndex((node) => (node.input ?? []).includes(mul.output![0]));
    if (first < 0) throw new Error(`AWQ: nothing reads ${mul.output![0]}`);
    nodes.splice(first, 0, mul);
  }
}
