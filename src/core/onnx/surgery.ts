// Graph surgery for the shape-changing stages (issue 14: structured pruning, SliceGPT, low rank):
// an editable copy of a model that shares every tensor and node it does not change, slicing a
// tensor along an axis in its own element type, int64 shape constants (initializers or Constant
// nodes, or a Concat of such pieces and dynamic ones), and fresh names. Nodes are replaced, never
// edited in place, because the input model's NodeProtos are shared with the copy (and a constant
// may be shared between blocks that end up with different sizes).
import { consumerMap, initializerMap, producerMap } from './graph.ts';
import { readTensor, tensorDims } from './tensor.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './types.ts';

/** A copy of a model whose graph lists (nodes, initializers, inputs, outputs, value_info) may be edited. */
export class GraphEdit {
  readonly model: ModelProto;
  readonly graph: GraphProto;
  private readonly names: Set<string>;
  private readonly initializerIndex: Map<string, number>;

  constructor(source: ModelProto) {
    if (source.graph === undefined) throw new Error('the model has no graph');
    const g = source.graph;
    this.graph = {
      ...g,
      node: [...(g.node ?? [])],
      initializer: [...(g.initializer ?? [])],
      input: [...(g.input ?? [])],
      output: [...(g.output ?? [])],
      valueInfo: [...(g.valueInfo ?? [])],
    };
    this.model = { ...source, graph: this.graph };
    this.names = new Set<string>();
    for (const t of this.graph.initializer!) this.names.add(t.name ?? '');
    for (const n of this.graph.node!) {
      for (const o of n.output ?? []) this.names.add(o);
      if (n.name) this.names.add(n.name);
    }
    for (const v of [...this.graph.input!, ...this.graph.output!]) this.names.add(v.name ?? '');
    this.initializerIndex = new Map(this.graph.initializer!.map((t, i) => [t.name ?? '', i]));
  }

  /** `base`, or `base_1`, `base_2`… — a name no tensor or node of the graph uses yet. */
  freshName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  initializer(name: string): TensorProto | undefined {
    const i = this.initializerIndex.get(name);
    return i === undefined ? undefined : this.graph.initializer![i];
  }

  /** Replaces the initializer of the same name (the old object stays untouched). */
  replaceInitializer(tensor: TensorProto): void {
    const i = this.initializerIndex.get(tensor.name ?? '');
    if (i === undefined) throw new Error(`no initializer "${tensor.name}" to replace`);
    this.graph.initializer![i] = tensor;
  }

  addInitializer(tensor: TensorProto): void {
    this.initializerIndex.set(tensor.name ?? '', this.graph.initializer!.length);
    this.graph.initializer!.push(tensor);
  }

  /** A new int64 initializer named after `base` holding `values`; returns its name. */
  addInt64(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.freshName(base);
    this.addInitializer(int64Tensor(name, values, dims));
    return name;
  }

  /** Puts `replacement` where `node` is (same position, so the order stays topological). */
  replaceNode(node: NodeProto, replacement: NodeProto): void {
    const i = this.graph.node!.indexOf(node);
    if (i < 0) throw new Error(`node "${node.name}" is not in the graph`);
    this.graph.node![i] = replacement;
  }

  /** A copy of `node` (in its place) with input `index` reading `tensor`; returns the copy. */
  setInput(node: NodeProto, index: number, tensor: string): NodeProto {
    const input = [...(node.input ?? [])];
    input[index] = tensor;
    const copy: NodeProto = { ...node, input };
    this.replaceNode(node, copy);
    return copy;
  }

  /** Inserts `node` right before `before` (keeps topological order when its inputs precede `before`). */
  insertBefore(before: NodeProto, node: NodeProto): void {
    const i = this.graph.node!.indexOf(before);
    if (i < 0) throw new Error(`node "${before.name}" is not in the graph`);
    this.graph.node!.splice(i, 0, node);
    for (const o of node.output ?? []) this.names.add(o);
  }

  /** Removes those of `names` that no node (in any subgraph) or graph output reads any more. */
  dropUnusedInitializers(names: Iterable<string>): void {
    const read = new Set<string>();
    const walk = (graph: GraphProto) => {
      for (const node of graph.node ?? []) {
        for (const input of node.input ?? []) read.add(input);
        for (const a of node.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) walk(g);
      }
      for (const output of graph.output ?? []) read.add(output.name ?? '');
    };
    walk(this.graph);
    const unused = new Set([...names].filter((n) => !read.has(n)));
    if (unused.size === 0) return;
    this.graph.initializer = this.graph.initializer!.filter((t) => !unused.has(t.name ?? ''));
    this.initializerIndex.clear();
    this.graph.initializer.forEach((t, i) => this.initializerIndex.set(t.name ?? '', i));
  }

  /** Drops declared value_info for `tensors` (their shapes changed; ORT infers them again). */
  dropValueInfo(tensors: ReadonlySet<string>): void {
    this.graph.valueInfo = this.graph.valueInfo!.filter((v) => !tensors.has(v.name ?? ''));
  }

  /** Replaces the declared type of graph input or output `name`, dim `axis` becoming `size`. */
  setIoDim(name: string, axis: number, size: number): boolean {
    let changed = false;
    for (const list of [this.graph.input!, this.graph.output!]) {
      const i = list.findIndex((v) => v.name === name);
      if (i < 0) continue;
      list[i] = withDim(list[i], axis, size);
      changed = true;
    }
    return changed;
  }
}

function withDim(info: ValueInfoProto, axis: number, size: number): ValueInfoProto {
  const tensorType = info.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  if (!tensorType || !dims || axis >= dims.length) return info;
  const dim = dims.map((d, i) => (i === axis ? { dimValue: size } : d));
  return { ...info, type: { ...info.type, tensorType: { ...tensorType, shape: { ...tensorType.shape, dim } } } };
}

export function int64Tensor(name: string, values: readonly number[], dims: readonly number[] = [values.length]): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT64, int64Data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

/**
 * `tensor` with only the `keep` indices along `axis` (in the given order), in its own element type
 * (float32, float16, bfloat16, … copied bit for bit). Returns a new TensorProto named `name`.
 */
export function sliceTensorAxis(tensor: TensorProto, axis: number, keep: readonly number[], name = tensor.name ?? ''): TensorProto {
  const dims = tensorDims(tensor);
  const { data } = readTensor(tensor);
  if (!ArrayBuffer.isView(data)) throw new Error(`sliceTensorAxis: "${tensor.name}" holds strings`);
  if (axis < 0 || axis >= dims.length) throw new Error(`sliceTensorAxis: axis ${axis} outside [0, ${dims.length}) for "${tensor.name}"`);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const size = dims[axis];
  for (const k of keep) if (!(k >= 0 && k < size)) throw new Error(`sliceTensorAxis: index ${k} outside [0, ${size}) along axis ${axis} of "${tensor.name}"`);
  const Ctor = data.constructor as new (n: number) => Exclude<typeof data, string[]>;
  const out = new Ctor(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < keep.length; j++) {
      const from = (o * size + keep[j]) * inner;
      const to = (o * keep.length + j) * inner;
      for (let i = 0; i < inner; i++) (out as Float32Array)[to + i] = (data as Float32Array)[from + i];
    }
  }
  const newDims = dims.map((d, i) => (i === axis ? keep.length : d));
  return tensorWithData(tensor, name, newDims, out);
}

/** A tensor of `like`'s element type holding `data` (the typed array readTensor gives for that type). */
function tensorWithData(like: TensorProto, name: string, dims: number[], data: ArrayBufferView & { length: number }): TensorProto {
  const copy: TensorProto = { name, dims, dataType: like.dataType };
  if (like.docString !== undefined) copy.docString = like.docString;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // raw_data is little-endian; typed arrays are host order (every platform the lab runs on is little-endian,
  // as float32ToRawData checks).
  if (like.dataType === DataType.INT64) copy.int64Data = data as unknown as BigInt64Array;
  else copy.rawData = bytes.slice();
  return copy;
}

/** Ordered integer entries of a shape tensor: a number, or null where the value is computed at run time. */
export type ShapeEntry = number | null;

/** One input of a Concat that builds a shape: a constant (its values) or a run-time piece of one entry. */
export interface ShapePiece {
  tensor: string;
  values: number[] | null;
}

/** The values of an int64/int32 constant tensor (an initializer or a Constant node's output), else undefined. */
export function constantInts(graph: GraphProto, tensor: string, producers = producerMap(graph), initializers = initializerMap(graph)): number[] | undefined {
  const init = initializers.get(tensor);
  const fromTensor = (t: TensorProto) => {
    const { dtype, data } = readTensor(t);
    if (dtype !== 'int64' && dtype !== 'int32') return undefined;
    return Array.from(data as ArrayLike<number | bigint>, Number);
  };
  if (init) return fromTensor(init);
  const node = producers.get(tensor);
  if (node?.opType === 'Constant') {
    const value = (node.attribute ?? []).find((a) => a.name === 'value');
    if (value?.t) return fromTensor(value.t);
    const ints = (node.attribute ?? []).find((a) => a.name === 'value_ints');
    if (ints?.ints) return ints.ints.map(Number);
  }
  return undefined;
}

/**
 * A shape tensor as pieces: one constant piece, or the inputs of the Concat (axis 0) that builds it,
 * each constant or a run-time scalar (an Unsqueeze of a Gather of a Shape, as torch.onnx writes
 * `x.view(b, t, h, d)`). Undefined when the shape is built any other way.
 */
export function shapePieces(graph: GraphProto, tensor: string, producers = producerMap(graph), initializers = initializerMap(graph)): ShapePiece[] | undefined {
  const whole = constantInts(graph, tensor, producers, initializers);
  if (whole) return [{ tensor, values: whole }];
  const node = producers.get(tensor);
  if (node?.opType !== 'Concat') return undefined;
  const pieces: ShapePiece[] = [];
  for (const input of node.input ?? []) {
    const values = constantInts(graph, input, producers, initializers);
    if (values) pieces.push({ tensor: input, values });
    else if (producers.get(input)?.opType === 'Unsqueeze') pieces.push({ tensor: input, values: null });
    else return undefined;
  }
  return pieces;
}

export const shapeEntries = (pieces: readonly ShapePiece[]): ShapeEntry[] => pieces.flatMap((p) => p.values ?? [null]);

/**
 * Rewires `consumer`'s input `index` (a shape tensor made of `pieces`) to a new shape whose entries
 * are `entries` (null keeps a run-time piece as it was). A constant shape becomes a new initializer;
 * a Concat becomes a new Concat reading the same run-time pieces and new constants.
 */
export function rewriteShapeInput(edit: GraphEdit, consumer: NodeProto, index: number, pieces: readonly ShapePiece[], entries: readonly ShapeEntry[], label: string): NodeProto {
  const old = shapeEntries(pieces);
  if (entries.length !== old.length) throw new Error(`${label}: a shape of ${old.length} entries cannot become ${entries.length}`);
  if (pieces.length === 1 && pieces[0].values) {
    if (entries.some((e) => e === null)) throw new Error(`${label}: a constant shape cannot take a run-time entry`);
    return edit.setInput(consumer, index, edit.addInt64(`${label}_shape`, entries as number[]));
  }
  const producer = producerMap(edit.graph).get(consumer.input![index]);
  if (producer?.opType !== 'Concat') throw new Error(`${label}: the shape is neither a constant nor a Concat`);
  let at = 0;
  const inputs = pieces.map((piece) => {
    const width = piece.values?.length ?? 1;
    const wanted = entries.slice(at, at + width);
    const before = old.slice(at, at + width);
    at += width;
    if (wanted.every((e, i) => e === before[i])) return piece.tensor;
    if (wanted.some((e) => e === null)) throw new Error(`${label}: a constant piece cannot become a run-time one`);
    return edit.addInt64(`${label}_piece`, wanted as number[]);
  });
  const output = edit.freshName(`${label}_shape`);
  const concat: NodeProto = { ...producer, name: edit.freshName(`${label}_Concat`), input: inputs, output: [output] };
  edit.insertBefore(consumer, concat);
  return edit.setInput(consumer, index, output);
}

/**
 * Nodes on a path from any of `from` (tensors) to `to` (a tensor), `to`'s producer included: the
 * region whose shapes change when the tensors between them do. Walks forward from `from` and
 * backward from `to` and intersects.
 */
export function nodesBetween(graph: GraphProto, from: readonly string[], to: string): NodeProto[] {
  const consumers = consumerMap(graph);
  const producers = producerMap(graph);
  const forward = new Set<NodeProto>();
  const stack = [...from];
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const n of consumers.get(t) ?? []) {
      if (forward.has(n)) continue;
      forward.add(n);
      if ((n.output ?? []).includes(to)) continue;
      stack.push(...(n.output ?? []));
    }
  }
  const backward = new Set<NodeProto>();
  const back = [to];
  while (back.length > 0) {
    const t = back.pop()!;
    const n = producers.get(t);
    if (!n || backward.has(n)) continue;
    backward.add(n);
    back.push(...(n.input ?? []));
  }
  return (graph.node ?? []).filter((n) => forward.has(n) && backward.has(n));
}
