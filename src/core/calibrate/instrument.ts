// Instrumentation: a copy of the model that also returns chosen intermediate tensors (the inputs
// and outputs of linear layers, attention probabilities, block boundaries) as graph outputs, so
// one ORT session run yields what calibration needs. The copy shares every initializer and node
// object with the original; only the graph's output list is new.
//
// ONNX wants a type on every graph output. When the file has value_info for the tensor its type
// is copied; otherwise the output is added without a type and onnxruntime infers it (checked in
// instrument.test.ts with onnxruntime-web 1.30). No elem_type is guessed: a wrong guess (float32
// on a float16 model) would make the session fail, an absent one does not.
import type { AttentionSite, LinearLayer } from '../model/types.ts';
import type { GraphProto, ModelProto, ValueInfoProto } from '../onnx/types.ts';

export interface TapPlan {
  /** Layers whose activation operands (every use's input) are tapped. */
  linearInputs?: readonly LinearLayer[];
  /** Layers whose results (after the bias) are tapped, e.g. for TAMP's output diversity. */
  linearOutputs?: readonly LinearLayer[];
  /** Attention sites whose post-softmax probabilities are tapped. */
  attention?: readonly AttentionSite[];
  /** Any other tensors, e.g. a block's residual-stream output. */
  tensors?: readonly string[];
}

export class InstrumentError extends Error {
  override name = 'InstrumentError';
}

/** The tensor names a plan taps, each once, in plan order. */
export function tappedTensorNames(plan: TapPlan): string[] {
  const names = [
    ...(plan.linearInputs ?? []).flatMap((layer) => layer.uses.map((use) => use.input)),
    ...(plan.linearOutputs ?? []).flatMap((layer) => layer.uses.map((use) => use.output)),
    ...(plan.attention ?? []).map((site) => site.output),
    ...(plan.tensors ?? []),
  ];
  return [...new Set(names)];
}

/** Every tensor a node produces or the graph takes as input: what may become an output. */
function activationNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const input of graph.input ?? []) if (input.name) names.add(input.name);
  for (const node of graph.node ?? []) for (const output of node.output ?? []) if (output) names.add(output);
  return names;
}

function declaredType(graph: GraphProto, name: string): ValueInfoProto['type'] {
  const info = [...(graph.valueInfo ?? []), ...(graph.input ?? [])].find((v) => v.name === name);
  return info?.type;
}

/**
 * A copy of `model` whose graph also outputs the tapped tensors (after its own outputs, in
 * `tappedTensorNames` order). Tensors that already are outputs are not added twice.
 */
export function instrumentModel(model: ModelProto, taps: TapPlan | readonly string[]): ModelProto {
  const graph = model.graph;
  if (graph === undefined) throw new InstrumentError('instrumentModel: the model has no graph');
  const names = Array.isArray(taps) ? [...new Set(taps as readonly string[])] : tappedTensorNames(taps as TapPlan);
  const available = activationNames(graph);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  const added: ValueInfoProto[] = [];
  for (const name of names) {
    if (existing.has(name)) continue;
    if (!available.has(name)) {
      const why = initializers.has(name) ? 'it is an initializer, not an activation' : 'no node produces it';
      throw new InstrumentError(`instrumentModel: cannot tap "${name}": ${why}`);
    }
    const type = declaredType(graph, name);
    added.push(type === undefined ? { name } : { name, type });
    existing.add(name);
  }
  return { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...added] } };
}
