// The sliced model as a plain ONNX graph (opset of the input; no custom op): every site of the
// residual stream s (the embeddings' sum, then after each block's attention and after its MLP)
// carries Q_s, the first k_s principal directions (d × k_s). Readers of site s multiply by Q_s
// (W ← W·Q_s: q/k/v, the MLP inputs, the head), writers by Q_sᵀ (W ← Q_sᵀ·W, b ← Q_sᵀ·b: the
// embedding tables, attention and MLP output projections), and each residual Add gets the
// shortcut Q_aᵀ·Q_b (k_a × k_b) between its two sites, where rotate.py keeps attn_shortcut_Q and
// mlp_shortcut_Q. A site without Q keeps the full, unrotated stream: that is the half-done model
// the reference calibrates on while it walks the blocks (rotate_and_slice_sequential).
// Each norm becomes x / sqrt(Σ_j x_j² / d + ε) with d the ORIGINAL width, as modules.py's RMSN
// (mean_dim = hidden_size) — ONNX's LayerNormalization would subtract the mean of the rotated,
// sliced stream, which is not zero, so it is written as Mul, ReduceSum, Div, Add, Sqrt, Div.
import { consumerMap, producerMap } from '../onnx/graph.ts';
import type { ModelProto, NodeProto, TensorProto } from '../onnx/types.ts';
import type { LinearLayer } from '../model/types.ts';
import { defaultOpset, floatTensor, int64Tensor, intAttribute, removeUnused, takenNames, uniqueName, workingCopy } from '../quant/export/graphEdit.ts';
import type { DenseLinear, FusedModel } from './fuse.ts';
import type { NormSite, ResidualStream } from './structure.ts';

/** Q_s: (d, width) row-major, orthonormal columns. */
export interface Rotation {
  matrix: Float64Array;
  width: number;
}

/** One entry per stream site: [embeddings, block 0 middle, block 0 output, block 1 middle, …]; null: untouched. */
export type SiteRotations = readonly (Rotation | null)[];

/** The stream tensors in site order. */
export function siteTensors(stream: ResidualStream): string[] {
  return [stream.blocks[0].input, ...stream.blocks.flatMap((b) => [b.middle, b.output])];
}

// sliceModel rewrites the model once per site with the rotations found so far: a layer's product
// with a given Q is computed once (keyed by the Q and the fused weight objects, both fixed).
const rotatedCache = new WeakMap<Rotation, WeakMap<Float64Array, { out: number; in: number; weight: Float64Array; bias: Float64Array | null }>>();
function cached<T extends { out: number; in: number; weight: Float64Array }>(q: Rotation, weight: Float64Array, compute: () => T): T {
  let byWeight = rotatedCache.get(q);
  if (byWeight === undefined) rotatedCache.set(q, (byWeight = new WeakMap()));
  const hit = byWeight.get(weight);
  if (hit !== undefined) return hit as unknown as T;
  const result = compute();
  byWeight.set(weight, result as unknown as { out: number; in: number; weight: Float64Array; bias: Float64Array | null });
  return result;
}

/** W·Q: (out, d) · (d, k) → (out, k). */
function readRotated(linear: { out: number; in: number; weight: Float64Array }, q: Rotation | null): { out: number; in: number; weight: Float64Array } {
  if (q === null) return { out: linear.out, in: linear.in, weight: linear.weight };
  return cached(q, linear.weight, () => multiplyRight(linear, q));
}

function multiplyRight(linear: { out: number; in: number; weight: Float64Array }, q: Rotation): { out: number; in: number; weight: Float64Array } {
  const { out, in: d } = linear;
  const k = q.width;
  const weight = new Float64Array(out * k);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < d; i++) {
      const w = linear.weight[o * d + i];
      if (w === 0) continue;
      for (let j = 0; j < k; j++) weight[o * k + j] += w * q.matrix[i * k + j];
    }
  }
  return { out, in: k, weight };
}

/** Qᵀ·W, Qᵀ·b: (k, d) · (d, in) → (k, in). */
function writeRotated(linear: DenseLinear, q: Rotation | null): { out: number; in: number; weight: Float64Array; bias: Float64Array | null } {
  if (q === null) return { out: linear.out, in: linear.in, weight: linear.weight, bias: linear.bias };
  return cached(q, linear.weight, () => multiplyLeftTransposed(linear, q));
}

function multiplyLeftTransposed(linear: DenseLinear, q: Rotation): { out: number; in: number; weight: Float64Array; bias: Float64Array | null } {
  const { out: d, in: inF } = linear;
  const k = q.width;
  const weight = new Float64Array(k * inF);
  for (let o = 0; o < d; o++) {
    for (let j = 0; j < k; j++) {
      const qoj = q.matrix[o * k + j];
      for (let i = 0; i < inF; i++) weight[j * inF + i] += qoj * linear.weight[o * inF + i];
    }
  }
  let bias: Float64Array | null = null;
  if (linear.bias !== null) {
    bias = new Float64Array(k);
    for (let o = 0; o < d; o++) for (let j = 0; j < k; j++) bias[j] += q.matrix[o * k + j] * linear.bias[o];
  }
  return { out: k, in: inF, weight, bias };
}

/** Q_aᵀ·Q_b (k_a × k_b) with an absent Q read as the identity; null when both are absent. */
export function shortcutMatrix(a: Rotation | null, b: Rotation | null, d: number): { rows: number; cols: number; values: Float64Array } | null {
  if (a === null && b === null) return null;
  const rows = a?.width ?? d;
  const cols = b?.width ?? d;
  const at = (q: Rotation | null, i: number, j: number) => (q === null ? (i === j ? 1 : 0) : q.matrix[i * q.width + j]);
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < d; i++) for (let r = 0; r < rows; r++) {
    const air = at(a, i, r);
    if (air === 0) continue;
    for (let c = 0; c < cols; c++) values[r * cols + c] += air * at(b, i, c);
  }
  return { rows, cols, values };
}

/** The stored form of an (out, in) weight in the layer's layout. */
function stored(layer: LinearLayer, out: number, inF: number, weight: Float64Array): { dims: number[]; values: Float32Array } {
  if (layer.layout === 'out_in') return { dims: [out, inF], values: Float32Array.from(weight) };
  const values = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) values[i * out + o] = weight[o * inF + i];
  return { dims: [inF, out], values };
}

export interface SlicedGraphInfo {
  /** Initializer names of the shortcut matrices, with their shapes (k_a, k_b). */
  shortcuts: { name: string; block: number; where: 'attention' | 'mlp'; rows: number; cols: number }[];
}

/** The rewritten model (the input is never mutated; unchanged initializers are shared). */
export function writeSlicedModel(model: ModelProto, stream: ResidualStream, fused: FusedModel, rotations: SiteRotations): { model: ModelProto; info: SlicedGraphInfo } {
  const { model: copy, graph } = workingCopy(model);
  const original = model.graph!;
  const d = stream.hidden;
  const opset = defaultOpset(model);
  const taken = takenNames(graph);
  const producers = producerMap(original);
  const consumers = consumerMap(original);
  // Nodes are edited as copies; `edited` maps an original node to its copy in `graph.node`.
  const edited = new Map<NodeProto, NodeProto>();
  graph.node = graph.node!.map((node) => {
    const clone = { ...node, input: [...(node.input ?? [])], output: [...(node.output ?? [])] };
    edited.set(node, clone);
    return clone;
  });
  const before = new Map<NodeProto, NodeProto[]>();
  const after = new Map<NodeProto, NodeProto[]>();
  const insert = (where: Map<NodeProto, NodeProto[]>, anchor: NodeProto, nodes: NodeProto[]) => where.set(anchor, [...(where.get(anchor) ?? []), ...nodes]);
  const removed = new Set<NodeProto>();
  const replaced = new Map<string, TensorProto>();
  const addInit = (t: TensorProto) => {
    graph.initializer!.push(t);
    return t.name!;
  };
  const newName = (base: string) => uniqueName(taken, base);
  const node = (opType: string, input: string[], output: string[], attribute = [] as NodeProto['attribute']): NodeProto => ({ opType, name: newName(`/slicegpt/${opType}`), domain: '', input, output, attribute });
  const replaceInit = (name: string, dims: number[], values: Float32Array) => replaced.set(name, floatTensor(name, dims, values));

  const linearNode = (layer: LinearLayer): NodeProto => {
    const use = layer.uses[0];
    const found = original.node!.find((n) => n.opType === use.opType && (n.name ?? '') === use.nodeName && n.input?.includes(use.input));
    const byStructure = found ?? original.node!.find((n) => n.opType === use.opType && n.input?.includes(use.input) &&
      n.input.some((name) => name === layer.weight || (producers.get(name)?.input ?? []).includes(layer.weight)));
    if (byStructure === undefined) throw new Error(`slice: the node of ${layer.name} was not found`);
    return byStructure;
  };

  // A linear layer with new weights (and bias). The weight is replaced under its own name unless it
  // is shared (a tied head), which gets its own initializer, as fuse_modules clones the head.
  const setLinear = (layer: LinearLayer, out: number, inF: number, weight: Float64Array, bias: Float64Array | null) => {
    const { dims, values } = stored(layer, out, inF, weight);
    const matmul = linearNode(layer);
    if (layer.sharedWith.length === 0) replaceInit(layer.weight, dims, values);
    else {
      const name = addInit(floatTensor(newName(`${layer.weight}.slicegpt`), dims, values));
      const weightReader = (consumers.get(layer.weight) ?? []).find((n) => n === matmul || n.output?.some((o) => matmul.input?.includes(o)));
      const clone = edited.get(weightReader!)!;
      clone.input = clone.input!.map((x) => (x === layer.weight ? name : x));
    }
    if (bias === null) return;
    const biasName = addInit(floatTensor(newName(`${layer.id}.slicegpt_bias`), [out], Float32Array.from(bias)));
    if (layer.bias !== null) {
      const adder = layer.opType === 'Gemm' ? matmul : producers.get(layer.output)!;
      const clone = edited.get(adder)!;
      clone.input = clone.input!.map((x) => (x === layer.bias ? biasName : x));
    } else if (layer.opType === 'Gemm') {
      edited.get(matmul)!.input![2] = biasName;
    } else {
      const clone = edited.get(matmul)!;
      const result = clone.output![0];
      const unbiased = newName(`${result}/slicegpt_unbiased`);
      clone.output![0] = unbiased;
      insert(after, matmul, [node('Add', [unbiased, biasName], [result])]);
    }
  };

  // Norms → weightless RMSNorm over the original width.
  const hiddenConst = addInit(floatTensor(newName('slicegpt.hidden_size'), [], Float32Array.of(d)));
  const axesConst = opset >= 13 ? addInit(int64Tensor(newName('slicegpt.last_axis'), [-1])) : '';
  const rmsNorm = (norm: NormSite) => {
    const x = norm.input;
    const anchor = producers.get(norm.output)!;
    for (const n of norm.nodes) removed.add(n);
    const eps = addInit(floatTensor(newName('slicegpt.epsilon'), [], Float32Array.of(norm.epsilon)));
    const t = (base: string) => newName(`${norm.output}/slicegpt_${base}`);
    const [squared, sum, meanSquare, variance, rms] = ['squared', 'sum', 'mean_square', 'variance', 'rms'].map(t);
    const reduce = opset >= 13
      ? node('ReduceSum', [squared, axesConst], [sum], [intAttribute('keepdims', 1)])
      : node('ReduceSum', [squared], [sum], [{ name: 'axes', type: 7, ints: [-1] }, intAttribute('keepdims', 1)]);
    insert(before, anchor, [
      node('Mul', [x, x], [squared]),
      reduce,
      node('Div', [sum, hiddenConst], [meanSquare]),
      node('Add', [meanSquare, eps], [variance]),
      node('Sqrt', [variance], [rms]),
      node('Div', [x, rms], [norm.output]),
    ]);
  };

  const shortcuts: SlicedGraphInfo['shortcuts'] = [];
  const shortcut = (add: NodeProto, stream: string, a: Rotation | null, b: Rotation | null, block: number, where: 'attention' | 'mlp') => {
    const matrix = shortcutMatrix(a, b, d);
    if (matrix === null) return;
    const name = addInit(floatTensor(newName(`blocks.${block}.${where === 'attention' ? 'attn' : 'mlp'}_shortcut_Q`), [matrix.rows, matrix.cols], Float32Array.from(matrix.values)));
    const rotated = newName(`${stream}/slicegpt_shortcut`);
    insert(before, add, [{ ...node('MatMul', [stream, name], [rotated]), name: newName(`/blocks.${block}/${where === 'attention' ? 'attn' : 'mlp'}_shortcut/MatMul`) }]);
    const clone = edited.get(add)!;
    clone.input = clone.input!.map((x) => (x === stream ? rotated : x));
    shortcuts.push({ name, block, where, rows: matrix.rows, cols: matrix.cols });
  };

  // Embeddings: E ← E·Q₀.
  const q0 = rotations[0];
  stream.embeddings.forEach((e, i) => {
    const table = fused.embeddings[i];
    const rotated = readRotated({ out: e.rows, in: d, weight: table }, q0);
    replaceInit(e.table, [e.rows, rotated.in], Float32Array.from(rotated.weight));
  });

  stream.blocks.forEach((block, b) => {
    const [qIn, qMid, qOut] = [rotations[2 * b], rotations[2 * b + 1], rotations[2 * b + 2]];
    const f = fused.blocks[b];
    for (const linear of f.attentionInputs) {
      const r = readRotated(linear, qIn);
      setLinear(linear.layer, r.out, r.in, r.weight, linear.bias);
    }
    const attentionOut = writeRotated(f.attentionOutput, qMid);
    setLinear(block.attentionOutput, attentionOut.out, attentionOut.in, attentionOut.weight, attentionOut.bias);
    for (const linear of f.mlpInputs) {
      const r = readRotated(linear, qMid);
      setLinear(linear.layer, r.out, r.in, r.weight, linear.bias);
    }
    const mlpOut = writeRotated(f.mlpOutput, qOut);
    setLinear(block.mlpOutput, mlpOut.out, mlpOut.in, mlpOut.weight, mlpOut.bias);
    shortcut(block.attentionAdd, block.input, qIn, qMid, block.index, 'attention');
    shortcut(block.mlpAdd, block.middle, qMid, qOut, block.index, 'mlp');
    rmsNorm(block.attentionNorm);
    rmsNorm(block.mlpNorm);
  });
  const head = readRotated(fused.head, rotations[rotations.length - 1]);
  setLinear(stream.head, head.out, head.in, head.weight, fused.head.bias);
  rmsNorm(stream.finalNorm);

  // Shapes read from a stream tensor keep reporting d: the graph took them for the attention's
  // width (the bundled LM's merge-heads Reshape reads the norm output's last dim), which is unchanged.
  const narrowed = new Set([
    ...siteTensors(stream),
    ...stream.embeddings.map((e) => e.node.output![0]),
    ...stream.embeddingAdds.map((n) => n.output![0]),
    ...stream.blocks.flatMap((b) => [b.attentionNorm.output, b.mlpNorm.output, b.attentionOutput.output, b.mlpOutput.output]),
    stream.finalNorm.output,
  ]);
  const lastDim = addInit(int64Tensor(newName('slicegpt.original_width'), [d]));
  const [zero, minusOne] = [addInit(int64Tensor(newName('slicegpt.zero'), [0])), addInit(int64Tensor(newName('slicegpt.minus_one'), [-1]))];
  for (const n of original.node!) {
    if (n.opType !== 'Shape' || !narrowed.has(n.input![0])) continue;
    if ((n.attribute ?? []).length > 0) throw new Error(`slice: Shape '${n.name}' with start/end reads the residual stream`);
    const clone = edited.get(n)!;
    const result = clone.output![0];
    const actual = newName(`${result}/slicegpt_actual`);
    const leading = newName(`${result}/slicegpt_leading`);
    clone.output![0] = actual;
    insert(after, n, [node('Slice', [actual, zero, minusOne], [leading]), node('Concat', [leading, lastDim], [result], [intAttribute('axis', 0)])]);
  }

  graph.initializer = graph.initializer!.map((t) => replaced.get(t.name ?? '') ?? t);
  graph.node = original.node!.flatMap((n) => [...(before.get(n) ?? []), ...(removed.has(n) ? [] : [edited.get(n)!]), ...(after.get(n) ?? [])]);
  // value_info may still give the old width for a narrowed tensor: ORT would reject it.
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => !narrowed.has(v.name ?? '') && !(v.type?.tensorType?.shape?.dim ?? []).some((dim) => Number(dim.dimValue) === d));
  removeUnused(graph, new Set(graph.node), new Set((graph.initializer ?? []).map((t) => t.name ?? '')));
  return { model: copy, info: { shortcuts } };
}
