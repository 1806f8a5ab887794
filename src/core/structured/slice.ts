// The structured export: a dense ONNX model with smaller shapes. Removing head groups slices
// Q/K/V rows (and biases; GPT-2's fused c_attn in its three parts) and the output projection's
// input columns, and rewrites every head count the attention's Reshape / Split constants and the
// KV-cache inputs and outputs carry; removing neurons slices the MLP up/gate rows (and biases)
// and the down projection's input columns. ONNX Runtime runs the result with no custom op, and
// different blocks may keep different numbers of heads and neurons.
//
// Which Reshapes carry a head count: those on a path from the Q/K/V products to the output
// projection's input (nodesBetween). In a shape whose last entry is the head size, an inner entry
// equal to the heads (or kv heads) count is one (torch's view(b, t, h, d), HF's repeat_kv merge
// [b, h, -1, d]); a last entry equal to heads × head size (or run-time, on the Reshape that
// feeds the output projection) is the merged width.
import { shapeRowOf, type LayerShapeReport } from '../compress/report.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { float32ToFloat16, float32ToBfloat16 } from '../onnx/float16.ts';
import { GraphEdit, nodesBetween, rewriteShapeInput, shapeEntries, shapePieces, sliceTensorAxis, type ShapeEntry } from '../onnx/surgery.ts';
import { float32ToRawData } from '../onnx/tensor.ts';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';
import { producerMap } from '../onnx/graph.ts';
import type { Matrix } from '../prune/types.ts';
import { groupColumns, kvRows, type AttentionStructure, type MlpStructure, type StructuredBlock } from './blocks.ts';

export interface StructuredKeep {
  /** Block → the head groups it keeps (indices in the input model); a block not listed keeps all. */
  groups: ReadonlyMap<number, readonly number[]>;
  /** Block → the MLP neurons it keeps. */
  neurons: ReadonlyMap<number, readonly number[]>;
  /**
   * New weights W (C_out × kept C_in) of consuming layers (output and down projections), by layer
   * id: the OBS-updated weights. A consumer not listed keeps its columns as they are.
   */
  consumerWeights?: ReadonlyMap<string, Matrix>;
}

export interface SliceOutcome {
  model: ModelProto;
  reshaped: LayerShapeReport[];
}

export class StructuredSliceError extends Error {
  override name = 'StructuredSliceError';
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Stored axis of a layer's output features (0 for out_in [C_out, C_in], 1 for in_out). */
const outAxis = (layer: LinearLayer) => (layer.layout === 'out_in' ? 0 : 1);
const inAxis = (layer: LinearLayer) => (layer.layout === 'out_in' ? 1 : 0);

/** A tensor named like `like` in its element type holding W (rows × cols) in the layer's layout. */
function storedTensor(layer: LinearLayer, like: TensorProto, weight: Matrix): TensorProto {
  const { rows, cols, data } = weight;
  const stored = new Float32Array(data.length);
  if (layer.layout === 'in_out') for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) stored[c * rows + r] = data[r * cols + c];
  else stored.set(data);
  const dims = layer.layout === 'in_out' ? [cols, rows] : [rows, cols];
  const tensor: TensorProto = { name: like.name, dims, dataType: like.dataType };
  if (like.dataType === DataType.FLOAT16 || like.dataType === DataType.BFLOAT16) {
    const cast = like.dataType === DataType.FLOAT16 ? float32ToFloat16 : float32ToBfloat16;
    const half = Uint16Array.from(stored, cast);
    tensor.rawData = new Uint8Array(half.buffer);
  } else {
    tensor.dataType = DataType.FLOAT;
    tensor.rawData = float32ToRawData(stored);
  }
  return tensor;
}

class Slicer {
  readonly edit: GraphEdit;
  readonly reshaped: LayerShapeReport[] = [];
  /** Tensors whose shape changed (their value_info is dropped). */
  readonly changed = new Set<string>();
  /** Bias initializers that sliced copies replaced (dropped at the end when nothing reads them). */
  private readonly replacedBiases = new Set<string>();

  constructor(
    model: ModelProto,
    private readonly stage: number,
  ) {
    this.edit = new GraphEdit(model);
  }

  private initializerOf(layer: LinearLayer): TensorProto {
    const t = this.edit.initializer(layer.weight);
    if (!t) throw new StructuredSliceError(`${layer.name}: weight "${layer.weight}" is not an initializer`);
    return t;
  }

  /** Slices the bias into a new initializer and points the node that adds it there. */
  private sliceBias(layer: LinearLayer, keep: readonly number[]): void {
    if (layer.bias === null || layer.biasInitializer === null) return;
    const source = this.edit.initializer(layer.biasInitializer);
    if (!source) throw new StructuredSliceError(`${layer.name}: bias "${layer.biasInitializer}" is not an initializer`);
    const name = this.edit.freshName(`${layer.biasInitializer}.sliced`);
    this.replacedBiases.add(layer.biasInitializer);
    this.edit.addInitializer(sliceTensorAxis(source, 0, keep, name));
    const producers = producerMap(this.edit.graph);
    for (const use of layer.uses) {
      const adder = producers.get(use.output);
      const at = adder?.input?.indexOf(layer.bias) ?? -1;
      if (!adder || at < 0) throw new StructuredSliceError(`${layer.name}: the node adding bias "${layer.bias}" was not found`);
      this.edit.setInput(adder, at, name);
    }
  }

  /** Keeps output features `keep` of a producing layer (Q, K, V, QKV, up, gate). */
  sliceOutputs(layer: LinearLayer, keep: readonly number[], change: 'heads' | 'neurons', removed: number[], detail: string): void {
    const weight = this.initializerOf(layer);
    this.edit.replaceInitializer(sliceTensorAxis(weight, outAxis(layer), keep));
    this.sliceBias(layer, keep);
    for (const use of layer.uses) this.changed.add(use.output);
    const biasAfter = layer.bias ? keep.length : 0;
    this.report(layer, [keep.length, layer.inFeatures], change, removed, keep.length * layer.inFeatures + biasAfter, detail);
  }

  /** Keeps input features `keep` of a consuming layer (output projection, down), or writes its updated W. */
  sliceInputs(layer: LinearLayer, keep: readonly number[], updated: Matrix | undefined, change: 'heads' | 'neurons', removed: number[], detail: string): void {
    const weight = this.initializerOf(layer);
    if (updated) {
      if (updated.rows !== layer.outFeatures || updated.cols !== keep.length) throw new StructuredSliceError(`${layer.name}: updated weight is ${updated.rows}×${updated.cols}, expected ${layer.outFeatures}×${keep.length}`);
      this.edit.replaceInitializer(storedTensor(layer, weight, updated));
    } else {
      this.edit.replaceInitializer(sliceTensorAxis(weight, inAxis(layer), keep));
    }
    for (const use of layer.uses) this.changed.add(use.input);
    const bias = layer.bias ? layer.outFeatures : 0;
    this.report(layer, [layer.outFeatures, keep.length], change, removed, layer.outFeatures * keep.length + bias, detail);
  }

  private report(layer: LinearLayer, after: [number, number], change: 'heads' | 'neurons', removed: number[], paramsAfter: number, detail: string): void {
    this.reshaped.push({
      ...shapeRowOf(layer, this.stage),
      after,
      change,
      removed,
      paramsAfter,
      relativeError: null,
      detail,
    });
  }

  /** New entries of a head-carrying shape, or null when it carries no head count. */
  private headShape(entries: ShapeEntry[], a: AttentionStructure, heads: number, kvHeads: number, feedsOut: boolean): ShapeEntry[] | null {
    const { headDim } = a;
    const last = entries.length - 1;
    const next = entries.map((e, i) => {
      if (i === last) {
        if (e === headDim) return e;
        if (e === a.heads * headDim) return heads * headDim;
        if (e === a.kvHeads * headDim) return kvHeads * headDim;
        if (e === null && feedsOut) return heads * headDim;
        return e;
      }
      if (i === 0 || entries[last] !== headDim) return e;
      if (e === a.heads) return heads;
      if (e === a.kvHeads) return kvHeads;
      return e;
    });
    return next.some((e, i) => e !== entries[i]) ? next : null;
  }

  /** Rewrites the Reshape/Split constants and cache shapes of one attention for `groups` kept groups. */
  rewriteAttentionGraph(a: AttentionStructure, groups: number): void {
    const heads = groups * a.groupSize;
    const kvHeads = groups;
    const graph = this.edit.graph;
    const producers = [a.q, a.k, a.v, a.qkv].filter((l): l is LinearLayer => l !== null);
    const outInput = a.out.uses[0].input;
    const region = nodesBetween(graph, producers.flatMap((l) => l.uses.map((u) => u.output)), outInput);
    const label = `${a.out.name}.heads${heads}`;
    for (const node of region) {
      for (const o of node.output ?? []) this.changed.add(o);
      if (node.opType === 'Reshape') this.rewriteReshape(node, a, heads, kvHeads, label);
      if (node.opType === 'Split' && a.qkv && (node.input ?? [])[0] === a.qkv.uses[0].output) this.rewriteSplit(node, a, heads, kvHeads, label);
      for (const t of [...(node.input ?? []), ...(node.output ?? [])]) {
        const io = [...graph.input!, ...graph.output!].find((v) => v.name === t);
        const dims = io?.type?.tensorType?.shape?.dim;
        if (dims && dims.length === 4 && Number(dims[1]?.dimValue) === a.kvHeads) this.edit.setIoDim(t, 1, kvHeads);
      }
    }
  }

  private rewriteReshape(node: NodeProto, a: AttentionStructure, heads: number, kvHeads: number, label: string): void {
    const shape = (node.input ?? [])[1];
    const pieces = shapePieces(this.edit.graph, shape);
    if (!pieces) throw new StructuredSliceError(`${node.name}: its target shape is computed at run time in a way the lab does not rewrite (not a constant, nor a Concat of constants and Unsqueezed scalars)`);
    const entries = shapeEntries(pieces);
    const next = this.headShape(entries, a, heads, kvHeads, (node.output ?? [])[0] === a.out.uses[0].input);
    if (next === null) return;
    const allowZero = (node.attribute ?? []).find((x) => x.name === 'allowzero');
    if (allowZero && Number(allowZero.i) === 1 && next.includes(0)) throw new StructuredSliceError(`${node.name}: allowzero=1 with a 0 entry`);
    rewriteShapeInput(this.edit, node, 1, pieces, next, label);
  }

  private rewriteSplit(node: NodeProto, a: AttentionStructure, heads: number, kvHeads: number, label: string): void {
    const sizes = [heads * a.headDim, kvHeads * a.headDim, kvHeads * a.headDim];
    const current = node;
    if ((current.input ?? []).length > 1 && current.input![1] !== '') {
      this.edit.setInput(current, 1, this.edit.addInt64(`${label}_split`, sizes));
      return;
    }
    const attribute = (current.attribute ?? []).find((x) => x.name === 'split');
    if (attribute) {
      const copy: NodeProto = { ...current, attribute: (current.attribute ?? []).map((x) => (x.name === 'split' ? { ...x, ints: sizes } : x)) };
      this.edit.replaceNode(current, copy);
    } else if (a.heads !== a.kvHeads) {
      throw new StructuredSliceError(`${node.name}: an equal Split of a grouped-query QKV`);
    }
  }

  finish(): ModelProto {
    this.edit.dropValueInfo(this.changed);
    this.edit.dropUnusedInitializers(this.replacedBiases);
    return this.edit.model;
  }
}

function sliceAttention(slicer: Slicer, a: AttentionStructure, keep: readonly number[], updated: Matrix | undefined, block: number): void {
  const groups = a.kvHeads;
  const removedGroups = Array.from({ length: groups }, (_, g) => g).filter((g) => !keep.includes(g));
  if (removedGroups.length === 0 && !updated) return;
  if (keep.length === 0) throw new StructuredSliceError(`block ${block}: removing every head of an attention leaves no graph to run (keep at least one)`);
  const queryHeads = (gs: readonly number[]) => gs.flatMap((g) => Array.from({ length: a.groupSize }, (_, i) => g * a.groupSize + i));
  const removedHeads = queryHeads(removedGroups);
  const qIndex = keep.flatMap((g) => groupColumns(a, g));
  const kvIndex = keep.flatMap((g) => kvRows(a, g));
  const detail = `removed heads ${removedHeads.length ? removedHeads.join(', ') : 'none'} of ${a.heads}${a.groupSize > 1 ? ` (key-value groups ${removedGroups.join(', ')} of ${a.kvHeads})` : ''}`;
  if (a.qkv) {
    const q = a.heads * a.headDim;
    const kv = a.kvHeads * a.headDim;
    slicer.sliceOutputs(a.qkv, [...qIndex, ...kvIndex.map((i) => q + i), ...kvIndex.map((i) => q + kv + i)], 'heads', removedHeads, detail);
  } else {
    slicer.sliceOutputs(a.q!, qIndex, 'heads', removedHeads, detail);
    slicer.sliceOutputs(a.k!, kvIndex, 'heads', removedHeads, detail);
    slicer.sliceOutputs(a.v!, kvIndex, 'heads', removedHeads, detail);
  }
  slicer.sliceInputs(a.out, qIndex, updated, 'heads', removedHeads, detail);
  slicer.rewriteAttentionGraph(a, keep.length);
}

function sliceMlp(slicer: Slicer, m: MlpStructure, keep: readonly number[], updated: Matrix | undefined, block: number): void {
  const removed = Array.from({ length: m.neurons }, (_, j) => j).filter((j) => !keep.includes(j));
  if (removed.length === 0 && !updated) return;
  if (keep.length === 0) throw new StructuredSliceError(`block ${block}: removing every MLP neuron is not supported (keep at least one)`);
  const detail = `removed ${removed.length} of ${m.neurons} neurons`;
  slicer.sliceOutputs(m.up, keep, 'neurons', removed, detail);
  if (m.gate) slicer.sliceOutputs(m.gate, keep, 'neurons', removed, detail);
  slicer.sliceInputs(m.down, keep, updated, 'neurons', removed, detail);
  const region = nodesBetween(slicer.edit.graph, [m.up, m.gate].flatMap((l) => (l ? l.uses.map((u) => u.output) : [])), m.down.uses[0].input);
  for (const node of region) {
    if (node.opType === 'Reshape') throw new StructuredSliceError(`${node.name}: a Reshape between the MLP projections is not supported`);
    for (const o of node.output ?? []) slicer.changed.add(o);
  }
}

/**
 * A copy of `model` with the head groups and neurons not in `keep` removed. Validates the kept
 * indices; the input model is never mutated (unchanged tensors are shared).
 */
export function sliceStructures(model: ModelProto, blocks: readonly StructuredBlock[], keep: StructuredKeep, stage = 0): SliceOutcome {
  const slicer = new Slicer(model, stage);
  for (const b of blocks) {
    const groups = keep.groups.get(b.block);
    if (groups && b.attention) {
      checkIndices(groups, b.attention.kvHeads, `block ${b.block} head groups`);
      sliceAttention(slicer, b.attention, groups, keep.consumerWeights?.get(b.attention.out.id), b.block);
    }
    const neurons = keep.neurons.get(b.block);
    if (neurons && b.mlp) {
      checkIndices(neurons, b.mlp.neurons, `block ${b.block} neurons`);
      sliceMlp(slicer, b.mlp, neurons, keep.consumerWeights?.get(b.mlp.down.id), b.block);
    }
  }
  return { model: slicer.finish(), reshaped: slicer.reshaped };
}

function checkIndices(indices: readonly number[], count: number, what: string): void {
  const seen = new Set<number>();
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new StructuredSliceError(`${what}: ${i} is outside 0..${count - 1}`);
    if (seen.has(i)) throw new StructuredSliceError(`${what}: ${i} is listed twice`);
    seen.add(i);
  }
  for (let k = 1; k < indices.length; k++) if (indices[k] < indices[k - 1]) throw new StructuredSliceError(`${what}: indices must be ascending`);
}

/** Parameters of all linear layers (weights and biases). */
export const linearParams = (analysis: ModelAnalysis) => sum(analysis.linears.map((l) => l.params));
