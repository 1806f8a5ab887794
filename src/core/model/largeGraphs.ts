// Generators of very large or oddly shaped graphs, for the tests that analysis stays linear in
// nodes and edges (largeGraphs.test.ts) and for scripts/largeGraphTimings.ts, which times the
// sizes too slow for a unit test. Each was found by a user's hostile input (issue 7).
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';
import { attentionBlock, floatInit, model, node, tensorValue } from './testGraphs.ts';

/** The model's node list repeated verbatim (same names, same tensors) up to `count` nodes. */
export function repeatNodes(source: ModelProto, count: number): ModelProto {
  const nodes = source.graph?.node ?? [];
  const repeated: NodeProto[] = [];
  for (let i = 0; nodes.length > 0 && repeated.length < count; i = (i + 1) % nodes.length) repeated.push(nodes[i]);
  return { ...source, graph: { ...source.graph, node: repeated } };
}

/**
 * Independent copies of the model's graph side by side, `count` nodes in all: copy k renames
 * every node, tensor and initializer with a `~k` suffix and reads the same graph inputs. The
 * initializer copies share their payload (the analysis reads dims, not values).
 */
export function renamedCopies(source: ModelProto, count: number): ModelProto {
  const graph = source.graph ?? {};
  const nodes = graph.node ?? [];
  const inputs = new Set((graph.input ?? []).map((info) => info.name));
  const initializers: TensorProto[] = [...(graph.initializer ?? [])];
  const copies: NodeProto[] = [];
  for (let k = 0; copies.length < count; k++) {
    const rename = (name: string) => (k === 0 || name === '' || inputs.has(name) ? name : `${name}~${k}`);
    if (k > 0) for (const tensor of graph.initializer ?? []) initializers.push({ ...tensor, name: rename(tensor.name ?? '') });
    for (const n of nodes) {
      if (copies.length === count) break;
      copies.push({ ...n, name: n.name && rename(n.name), input: n.input?.map(rename), output: n.output?.map(rename) });
    }
  }
  return { ...source, graph: { ...graph, node: copies, initializer: initializers } };
}

/**
 * One attention block whose Softmax output also feeds an Identity with `width` outputs, whose
 * scores pass through an Add of `width` inputs, and whose graph has `width` extra inputs and
 * outputs: every list the analysis walks is `width` long.
 */
export function wideAttention(width: number): ModelProto {
  const block = attentionBlock();
  const graph = block.graph!;
  const names = (prefix: string) => Array.from({ length: width }, (_, i) => `${prefix}${i}`);
  const nodes = graph.node!.map((n) => (n.name === 'softmax' ? { ...n, input: ['scores_wide'] } : n));
  nodes.push(
    node('Add', ['scaled', ...names('extra_in')], ['scores_wide'], { name: 'wide_add' }),
    node('Identity', ['probs'], names('probs_copy'), { name: 'wide_identity' }),
  );
  const extraInputs = names('extra_in').map((name) => tensorValue(name, DataType.FLOAT, [1]));
  const extraOutputs = names('probs_copy').map((name) => tensorValue(name, DataType.FLOAT, ['batch', 4, 'seq', 'seq']));
  return {
    ...block,
    graph: { ...graph, node: nodes, input: [...graph.input!, ...extraInputs], output: [...graph.output!, ...extraOutputs] },
  };
}

/** `count` linear layers in a chain x → W0 → W1 → …, after one attention block. */
export function linearChain(count: number): ModelProto {
  const block = attentionBlock();
  const graph = block.graph!;
  const nodes = [...graph.node!];
  const initializers = [...graph.initializer!];
  let current = 'y';
  for (let i = 0; i < count; i++) {
    nodes.push(node('MatMul', [current, `chain_w${i}`], [`chain_${i}`]));
    initializers.push(floatInit(`chain_w${i}`, [32, 32]));
    current = `chain_${i}`;
  }
  return { ...block, graph: { ...graph, node: nodes, initializer: initializers, output: [tensorValue(current, DataType.FLOAT, ['batch', 'seq', 32])] } };
}

/**
 * An up projection whose output has `readers` pointwise readers (one Gelu, then Relus), the
 * Gelu read by the down projection: the MLP-role walk must visit each reader once.
 */
export function fanOutMlp(readers: number): ModelProto {
  const nodes: NodeProto[] = [...attentionBlock().graph!.node!, node('MatMul', ['y', 'W_up'], ['up'], { name: 'up_mm' })];
  const initializers = [...attentionBlock().graph!.initializer!, floatInit('W_up', [32, 64])];
  for (let i = 0; i < readers; i++) {
    nodes.push(node(i === 0 ? 'Gelu' : 'Relu', ['up'], [`act_${i}`]));
  }
  nodes.push(node('MatMul', ['act_0', 'W_down'], ['z'], { name: 'down_mm' }), node('Add', ['y', 'z'], ['out'], { name: 'residual2' }));
  initializers.push(floatInit('W_down', [64, 32]));
  return model({ nodes, initializers, outputs: [tensorValue('out', DataType.FLOAT, ['batch', 'seq', 32])] });
}
