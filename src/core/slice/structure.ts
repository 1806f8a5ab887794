// Where SliceGPT acts in an ONNX graph: the residual stream of a pre-norm decoder. It is written
// by the embedding tables, read by each block's first norm (attention inputs), written by the
// attention output projection (residual Add), read by the second norm (MLP inputs), written by the
// MLP output projection, and read at the end by the final norm and the head — the same roles
// TransformerCompression's ModelAdapter/LayerAdapter name (get_embeddings, get_attention_inputs,
// get_attention_output, get_mlp_inputs, get_mlp_output, get_pre_head_layernorm, get_lm_head).
// Anything else that reads or writes the stream makes the graph unsupported: `findResidualStream`
// then returns one sentence saying what is missing, before any work starts.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { consumerMap, getAttrFloat, getAttrInt, initializerMap, producerMap } from '../onnx/graph.ts';
import { tensorDims, tensorToFloat32 } from '../onnx/tensor.ts';
import type { GraphProto, ModelProto, NodeProto, TensorProto } from '../onnx/types.ts';

/** A LayerNorm (one LayerNormalization node) or an RMSNorm written out op by op. */
export interface NormSite {
  kind: 'layernorm' | 'rmsnorm';
  /** The residual-stream tensor it normalises. */
  input: string;
  output: string;
  /** γ and β initializers (β: LayerNorm only, may be absent). */
  weight: string;
  bias: string | null;
  epsilon: number;
  /** The nodes that compute it (removed by the rewrite). */
  nodes: NodeProto[];
}

export interface EmbeddingWriter {
  /** The Gather node and its table initializer [rows, d]. */
  node: NodeProto;
  table: string;
  rows: number;
}

export interface ResidualBlock {
  index: number;
  /** The stream entering the block, after attention (the MLP's input), and leaving it. */
  input: string;
  middle: string;
  output: string;
  attentionNorm: NormSite;
  attentionInputs: LinearLayer[];
  attentionOutput: LinearLayer;
  attentionAdd: NodeProto;
  mlpNorm: NormSite;
  mlpInputs: LinearLayer[];
  mlpOutput: LinearLayer;
  mlpAdd: NodeProto;
}

export interface ResidualStream {
  /** Width of the residual stream (the embedding dimension). */
  hidden: number;
  embeddings: EmbeddingWriter[];
  /** The nodes that add the embeddings (their outputs are stream tensors too). */
  embeddingAdds: NodeProto[];
  blocks: ResidualBlock[];
  finalNorm: NormSite;
  head: LinearLayer;
}

export type StreamOutcome = { ok: true; stream: ResidualStream } | { ok: false; problem: string };

class Unsupported extends Error {}
const fail = (message: string): never => {
  throw new Unsupported(message);
};

/** Values of a constant tensor: an initializer or a Constant node's `value`. */
function constantValues(name: string, inits: Map<string, TensorProto>, producers: Map<string, NodeProto>): Float32Array | undefined {
  const init = inits.get(name);
  if (init !== undefined) return tensorToFloat32(init);
  const node = producers.get(name);
  if (node?.opType !== 'Constant') return undefined;
  const value = node.attribute?.find((a) => a.name === 'value')?.t;
  return value === undefined ? undefined : tensorToFloat32(value);
}

function isScalar(values: Float32Array | undefined, expected?: number): values is Float32Array {
  return values !== undefined && values.length === 1 && (expected === undefined || values[0] === expected);
}

interface GraphView {
  graph: GraphProto;
  inits: Map<string, TensorProto>;
  producers: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  hidden: number;
}

function vectorInit(view: GraphView, name: string, what: string): string {
  const t = view.inits.get(name);
  const dims = t === undefined ? undefined : tensorDims(t);
  if (dims === undefined || dims.length !== 1 || dims[0] !== view.hidden) fail(`${what} is not a [${view.hidden}] initializer`);
  return name;
}

/** The norm that produces `output` (the shared input of the layers it feeds). */
function findNorm(view: GraphView, output: string, where: string): NormSite {
  const { producers, inits } = view;
  const node = producers.get(output);
  if (node?.opType === 'LayerNormalization') {
    if (getAttrInt(node, 'axis', -1) !== -1) fail(`${where}: LayerNormalization '${node.name}' normalises more than the last axis`);
    const [input, weight, bias] = node.input ?? [];
    return {
      kind: 'layernorm',
      input,
      output,
      weight: vectorInit(view, weight, `${where}: the LayerNorm weight`),
      bias: bias ? vectorInit(view, bias, `${where}: the LayerNorm bias`) : null,
      epsilon: getAttrFloat(node, 'epsilon', 1e-5),
      nodes: [node],
    };
  }
  // RMSNorm as torch writes it out: Mul(γ, Mul(x, Div(1, Sqrt(Add(ReduceMean(Pow(x, 2)), ε))))).
  const unsupported = `${where}: the norm before these layers is neither a LayerNormalization node nor an RMSNorm written out as Pow → ReduceMean → Add ε → Sqrt → Div → Mul → Mul γ`;
  if (node?.opType !== 'Mul') return fail(unsupported);
  const weightSide = (node.input ?? []).findIndex((name) => inits.has(name));
  if (weightSide < 0) return fail(unsupported);
  const weight = vectorInit(view, node.input![weightSide], `${where}: the RMSNorm weight`);
  const scaled = producers.get(node.input![1 - weightSide]);
  if (scaled === undefined) return fail(unsupported);
  let x: string;
  let rms: string;
  const nodes: NodeProto[] = [node, scaled];
  if (scaled.opType === 'Div') {
    [x, rms] = scaled.input ?? [];
  } else if (scaled.opType === 'Mul') {
    const [left, right] = scaled.input ?? [];
    const inverseSide = [left, right].findIndex((name) => ['Div', 'Reciprocal'].includes(producers.get(name)?.opType ?? ''));
    if (inverseSide < 0) return fail(unsupported);
    const inverse = producers.get(inverseSide === 0 ? left : right)!;
    x = inverseSide === 0 ? right : left;
    nodes.push(inverse);
    if (inverse.opType === 'Div') {
      if (!isScalar(constantValues(inverse.input![0], inits, producers), 1)) return fail(unsupported);
      rms = inverse.input![1];
    } else rms = inverse.input![0];
  } else return fail(unsupported);
  const sqrt = producers.get(rms);
  const addEps = sqrt?.opType === 'Sqrt' ? producers.get(sqrt.input![0]) : undefined;
  if (addEps?.opType !== 'Add') return fail(unsupported);
  const epsSide = addEps.input!.findIndex((name) => isScalar(constantValues(name, inits, producers)));
  if (epsSide < 0) return fail(unsupported);
  const epsilon = constantValues(addEps.input![epsSide], inits, producers)![0];
  const mean = producers.get(addEps.input![1 - epsSide]);
  const square = mean?.opType === 'ReduceMean' ? producers.get(mean.input![0]) : undefined;
  const squares = square !== undefined && square.input![0] === x &&
    ((square.opType === 'Pow' && isScalar(constantValues(square.input![1], inits, producers), 2)) || (square.opType === 'Mul' && square.input![1] === x));
  if (!squares) return fail(unsupported);
  nodes.push(sqrt!, addEps, mean!, square!);
  return { kind: 'rmsnorm', input: x, output, weight, bias: null, epsilon, nodes };
}

/** The one input all `layers` read (the norm's output). */
function sharedInput(layers: LinearLayer[], what: string): string {
  const inputs = new Set(layers.map((l) => l.input));
  if (inputs.size !== 1) fail(`${what} do not read one shared normalised input`);
  return layers[0].input;
}

/** The Add of `branch` (a writer's result) onto the stream tensor `stream`. */
function residualAdd(view: GraphView, stream: string, branch: LinearLayer, where: string): NodeProto {
  const add = (view.consumers.get(branch.output) ?? []).find((n) => n.opType === 'Add' && n.input?.includes(stream));
  if (add === undefined || (view.consumers.get(branch.output) ?? []).length !== 1) {
    return fail(`${where}: ${branch.name}'s result is not added straight onto the residual stream`);
  }
  return add;
}

/** Every reader of a stream tensor must be one of `allowed` (or a Shape: the rewrite keeps its value). */
function checkReaders(view: GraphView, tensor: string, allowed: NodeProto[], where: string): void {
  for (const reader of view.consumers.get(tensor) ?? []) {
    if (allowed.includes(reader) || reader.opType === 'Shape') continue;
    fail(`${where}: the residual stream is also read by ${reader.opType} '${reader.name ?? ''}', which SliceGPT cannot rotate`);
  }
  if ((view.graph.output ?? []).some((o) => o.name === tensor)) fail(`${where}: the residual stream is a graph output`);
}

function checkWeight(layer: LinearLayer): void {
  if (layer.nBits !== undefined || layer.weightPath.some((op) => op !== 'Transpose') || layer.weightDtype !== 'float32') {
    fail(`${layer.name} is not a float32 weight (quantize after SliceGPT, not before)`);
  }
  if (layer.uses.length !== 1) fail(`${layer.name} is used by ${layer.uses.length} nodes; SliceGPT needs one`);
}

function embeddingWriters(view: GraphView, tensor: string, adds: NodeProto[], writers: EmbeddingWriter[]): void {
  const node = view.producers.get(tensor);
  if (node?.opType === 'Add') {
    adds.push(node);
    for (const input of node.input ?? []) embeddingWriters(view, input, adds, writers);
    return;
  }
  const table = node?.opType === 'Gather' ? view.inits.get(node.input![0]) : undefined;
  const dims = table === undefined ? [] : tensorDims(table);
  if (node === undefined || table === undefined || dims.length !== 2 || dims[1] !== view.hidden || getAttrInt(node, 'axis', 0) !== 0) {
    fail(`the first block's input is not a sum of embedding tables (found ${node?.opType ?? 'a graph input'} '${node?.name ?? tensor}')`);
  }
  writers.push({ node: node!, table: node!.input![0], rows: dims[0] });
}

interface BlockLayers {
  attentionInputs: LinearLayer[];
  attentionOutput: LinearLayer;
  mlpInputs: LinearLayer[];
  mlpOutput: LinearLayer;
}

/** What the analysis alone tells (the page validates a recipe against the analysis, not the graph). */
function analysedLayers(analysis: ModelAnalysis): { head: LinearLayer; blocks: BlockLayers[] } {
  if (analysis.task !== 'causal-lm') fail(`SliceGPT here supports causal language models with token embeddings; this model's task is ${analysis.task}`);
  if (analysis.numBlocks === 0) fail('no transformer blocks were found');
  if (analysis.embeddings.some((e) => e.kind === 'patch')) fail('the model embeds patches, not tokens');
  const byId = new Map(analysis.linears.map((l) => [l.id, l]));
  const heads = analysis.linears.filter((l) => l.role === 'head');
  if (heads.length !== 1) fail(`SliceGPT needs one LM head; the analysis found ${heads.length}`);
  checkWeight(heads[0]);
  const blocks = analysis.blocks.map((info) => {
    const where = `block ${info.index}`;
    const layers = info.linears.map((id) => byId.get(id)!).filter(Boolean);
    const withRole = (...roles: string[]) => layers.filter((l) => roles.includes(l.role));
    const attentionInputs = withRole('attn.q', 'attn.k', 'attn.v', 'attn.qkv');
    const attentionOutputs = withRole('attn.out');
    const mlpInputs = withRole('mlp.up', 'mlp.gate');
    const mlpOutputs = withRole('mlp.down');
    if (attentionInputs.length === 0 || attentionOutputs.length !== 1 || mlpInputs.length === 0 || mlpOutputs.length !== 1) {
      fail(`${where}: SliceGPT needs attention q/k/v and out projections and MLP up/down projections; found roles ${layers.map((l) => l.role).join(', ')}`);
    }
    const other = layers.filter((l) => ![...attentionInputs, ...attentionOutputs, ...mlpInputs, ...mlpOutputs].includes(l));
    if (other.length > 0) fail(`${where}: layer ${other[0].name} is neither an attention nor an MLP projection (a model SliceGPT already sliced has shortcut matrices there)`);
    for (const l of layers) checkWeight(l);
    return { attentionInputs, attentionOutput: attentionOutputs[0], mlpInputs, mlpOutput: mlpOutputs[0] };
  });
  return { head: heads[0], blocks };
}

/** Why the analysed model cannot be sliced (one sentence), or null: the stage's validate() check. */
export function sliceAnalysisProblem(analysis: ModelAnalysis): string | null {
  try {
    analysedLayers(analysis);
    return null;
  } catch (error) {
    if (error instanceof Unsupported) return error.message;
    throw error;
  }
}

function findStream(model: ModelProto, analysis: ModelAnalysis): ResidualStream {
  const graph = model.graph ?? fail('the model has no graph');
  const { head, blocks: layersOf } = analysedLayers(analysis);
  const hidden = head.inFeatures;
  const view: GraphView = { graph, inits: initializerMap(graph), producers: producerMap(graph), consumers: consumerMap(graph), hidden };

  const blocks: ResidualBlock[] = [];
  let previous: string | undefined;
  analysis.blocks.forEach((info, b) => {
    const where = `block ${info.index}`;
    const { attentionInputs, attentionOutput, mlpInputs, mlpOutput } = layersOf[b];
    const attentionNorm = findNorm(view, sharedInput(attentionInputs, `${where}: the attention projections`), where);
    const input = attentionNorm.input;
    if (previous !== undefined && input !== previous) fail(`${where}: its input is not the previous block's output (a parallel attention/MLP block is not supported)`);
    const attentionAdd = residualAdd(view, input, attentionOutput, where);
    const middle = attentionAdd.output![0];
    const mlpNorm = findNorm(view, sharedInput(mlpInputs, `${where}: the MLP input projections`), where);
    if (mlpNorm.input !== middle) fail(`${where}: the MLP's norm does not read the stream after attention (not a sequential pre-norm block)`);
    if (mlpNorm.kind !== attentionNorm.kind) fail(`${where}: its two norms are of different kinds`);
    const mlpAdd = residualAdd(view, middle, mlpOutput, where);
    checkReaders(view, input, [...attentionNorm.nodes, attentionAdd], where);
    checkReaders(view, middle, [...mlpNorm.nodes, mlpAdd], where);
    blocks.push({ index: info.index, input, middle, output: mlpAdd.output![0], attentionNorm, attentionInputs, attentionOutput, attentionAdd, mlpNorm, mlpInputs, mlpOutput, mlpAdd });
    previous = mlpAdd.output![0];
  });

  if (head.bias !== null && head.opType !== 'MatMul') fail(`the head ${head.name} is a ${head.opType} with a bias; SliceGPT supports a MatMul head`);
  const finalNorm = findNorm(view, head.input, 'the head');
  if (finalNorm.input !== previous) fail("the head's norm does not read the last block's output");
  if (finalNorm.kind !== blocks[0].attentionNorm.kind) fail('the final norm is of a different kind than the blocks\' norms');
  checkReaders(view, previous!, finalNorm.nodes, 'the last block');

  const embeddings: EmbeddingWriter[] = [];
  const embeddingAdds: NodeProto[] = [];
  embeddingWriters(view, blocks[0].input, embeddingAdds, embeddings);
  for (const add of embeddingAdds) checkReaders(view, add.output![0], [...embeddingAdds, ...blocks[0].attentionNorm.nodes, blocks[0].attentionAdd], 'the embeddings');
  for (const e of embeddings) {
    const readers = view.consumers.get(e.table) ?? [];
    if (readers.some((r) => r !== e.node && !(head.sharedWith.length > 0 && r.input?.includes(head.weight)))) {
      fail(`the embedding table ${e.table} is read by other nodes than its Gather and a tied head`);
    }
  }
  return { hidden, embeddings, embeddingAdds, blocks, finalNorm, head };
}

/** The residual stream of `model`, or one sentence saying why SliceGPT cannot run on it. */
export function findResidualStream(model: ModelProto, analysis: ModelAnalysis): StreamOutcome {
  try {
    return { ok: true, stream: findStream(model, analysis) };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, problem: error.message };
    throw error;
  }
}
