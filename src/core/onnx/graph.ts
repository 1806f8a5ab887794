// Graph helpers used by analysis: lookups by tensor name, attribute values, declared shapes.

import {
  AttributeType,
  type AttributeProto,
  type GraphProto,
  type Int64,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
  type TypeProto,
} from './types.ts';
import { decodeUtf8 } from './utf8.ts';

export function initializerMap(graph: GraphProto): Map<string, TensorProto> {
  const map = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) map.set(t.name ?? '', t);
  return map;
}

/** Tensor name → the node that outputs it. Empty names (omitted optional outputs) are skipped. */
export function producerMap(graph: GraphProto): Map<string, NodeProto> {
  const map = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const name of node.output ?? []) if (name !== '') map.set(name, node);
  return map;
}

/** Tensor name → nodes reading it, in graph order (a node listing an input twice appears once). */
export function consumerMap(graph: GraphProto): Map<string, NodeProto[]> {
  const map = new Map<string, NodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const name of new Set(node.input ?? [])) {
      if (name === '') continue;
      let list = map.get(name);
      if (list === undefined) map.set(name, (list = []));
      list.push(node);
    }
  }
  return map;
}

export type AttrValue =
  | number
  | Int64
  | string
  | TensorProto
  | GraphProto
  | SparseTensorProto
  | TypeProto
  | number[]
  | Int64[]
  | string[]
  | TensorProto[]
  | GraphProto[]
  | SparseTensorProto[]
  | TypeProto[];

const utf8 = (bytes: Uint8Array): string => decodeUtf8(bytes, 0, bytes.length);

/** IR version 1 had no `type`; infer it from whichever value field is present, as onnx does. */
function attributeType(a: AttributeProto): number {
  if (a.type !== undefined && a.type !== AttributeType.UNDEFINED) return a.type;
  if (a.f !== undefined) return AttributeType.FLOAT;
  if (a.i !== undefined) return AttributeType.INT;
  if (a.s !== undefined) return AttributeType.STRING;
  if (a.t !== undefined) return AttributeType.TENSOR;
  if (a.g !== undefined) return AttributeType.GRAPH;
  if (a.floats !== undefined) return AttributeType.FLOATS;
  if (a.ints !== undefined) return AttributeType.INTS;
  if (a.strings !== undefined) return AttributeType.STRINGS;
  return AttributeType.UNDEFINED;
}

/** An attribute's value decoded by its type (strings as text), or undefined when absent. */
export function attributeValue(a: AttributeProto): AttrValue | undefined {
  switch (attributeType(a)) {
    case AttributeType.FLOAT:
      return a.f ?? 0;
    case AttributeType.INT:
      return a.i ?? 0;
    case AttributeType.STRING:
      return a.s === undefined ? '' : utf8(a.s);
    case AttributeType.TENSOR:
      return a.t;
    case AttributeType.GRAPH:
      return a.g;
    case AttributeType.SPARSE_TENSOR:
      return a.sparseTensor;
    case AttributeType.TYPE_PROTO:
      return a.tp;
    case AttributeType.FLOATS:
      return a.floats ?? [];
    case AttributeType.INTS:
      return a.ints ?? [];
    case AttributeType.STRINGS:
      return (a.strings ?? []).map(utf8);
    case AttributeType.TENSORS:
      return a.tensors ?? [];
    case AttributeType.GRAPHS:
      return a.graphs ?? [];
    case AttributeType.SPARSE_TENSORS:
      return a.sparseTensors ?? [];
    case AttributeType.TYPE_PROTOS:
      return a.typeProtos ?? [];
    default:
      return undefined;
  }
}

export function findAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** The decoded value of the node's attribute `name`, or undefined if the node has none. */
export function attr(node: NodeProto, name: string): AttrValue | undefined {
  const a = findAttribute(node, name);
  return a === undefined ? undefined : attributeValue(a);
}

function typedAttr<T>(node: NodeProto, name: string, type: number, fallback: T | undefined, read: (a: AttributeProto) => T): T {
  const a = findAttribute(node, name);
  if (a === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${node.opType ?? 'node'} ${JSON.stringify(node.name ?? '')} has no attribute "${name}"`);
  }
  const actual = attributeType(a);
  if (actual !== type) {
    const names = Object.keys(AttributeType) as (keyof typeof AttributeType)[];
    const label = (t: number) => names.find((n) => AttributeType[n] === t) ?? String(t);
    throw new Error(`${node.opType ?? 'node'} ${JSON.stringify(node.name ?? '')} attribute "${name}" is ${label(actual)}, expected ${label(type)}`);
  }
  return read(a);
}

/**
 * An INT attribute as a number. int64 values beyond 2^53 (INT64_MAX as "to the end" in Slice)
 * become the nearest double: fine for comparisons, use attr() for the exact bigint.
 */
export function getAttrInt(node: NodeProto, name: string, fallback?: number): number {
  return typedAttr(node, name, AttributeType.INT, fallback, (a) => Number(a.i ?? 0));
}

export function getAttrInts(node: NodeProto, name: string, fallback?: number[]): number[] {
  return typedAttr(node, name, AttributeType.INTS, fallback, (a) => (a.ints ?? []).map(Number));
}

export function getAttrFloat(node: NodeProto, name: string, fallback?: number): number {
  return typedAttr(node, name, AttributeType.FLOAT, fallback, (a) => a.f ?? 0);
}

export function getAttrFloats(node: NodeProto, name: string, fallback?: number[]): number[] {
  return typedAttr(node, name, AttributeType.FLOATS, fallback, (a) => a.floats ?? []);
}

export function getAttrString(node: NodeProto, name: string, fallback?: string): string {
  return typedAttr(node, name, AttributeType.STRING, fallback, (a) => (a.s === undefined ? '' : utf8(a.s)));
}

/** One dimension: a size, a symbolic name such as "batch", or null when unknown. */
export type ShapeDim = number | string | null;

/**
 * The declared tensor shape of `name` from the graph's inputs, outputs or value_info (falling
 * back to an initializer's dims); undefined when the name is unknown or its rank is unknown.
 */
export function valueInfoShape(graph: GraphProto, name: string): ShapeDim[] | undefined {
  const infos = [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])];
  const info = infos.find((v) => v.name === name);
  if (info !== undefined) {
    const shape = info.type?.tensorType?.shape;
    if (shape === undefined) return undefined;
    return (shape.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : (d.dimParam ?? null)));
  }
  const init = graph.initializer?.find((t) => t.name === name);
  return init === undefined ? undefined : (init.dims ?? []).map(Number);
}

function* attributeGraphs(attributes: readonly AttributeProto[]): Generator<GraphProto> {
  for (const a of attributes) {
    if (a.g !== undefined) yield* graphAndSubgraphs(a.g);
    for (const g of a.graphs ?? []) yield* graphAndSubgraphs(g);
  }
}

function* nodeGraphs(nodes: readonly NodeProto[]): Generator<GraphProto> {
  for (const node of nodes) yield* attributeGraphs(node.attribute ?? []);
}

function* graphAndSubgraphs(graph: GraphProto): Generator<GraphProto> {
  yield graph;
  yield* nodeGraphs(graph.node ?? []);
}

/**
 * Every graph in the model: the main graph, subgraphs in attributes (If/Loop/Scan bodies),
 * training graphs and graphs inside functions. Recursion depth is bounded by the decoder's.
 */
export function* modelGraphs(model: ModelProto): Generator<GraphProto> {
  if (model.graph !== undefined) yield* graphAndSubgraphs(model.graph);
  for (const info of model.trainingInfo ?? []) {
    if (info.initialization !== undefined) yield* graphAndSubgraphs(info.initialization);
    if (info.algorithm !== undefined) yield* graphAndSubgraphs(info.algorithm);
  }
  for (const f of model.functions ?? []) {
    yield* nodeGraphs(f.node ?? []);
    yield* attributeGraphs(f.attributeProto ?? []);
  }
}

function* sparseParts(s: SparseTensorProto): Generator<TensorProto> {
  if (s.values !== undefined) yield s.values;
  if (s.indices !== undefined) yield s.indices;
}

function* attributeTensors(attributes: readonly AttributeProto[]): Generator<TensorProto> {
  for (const a of attributes) {
    if (a.t !== undefined) yield a.t;
    yield* a.tensors ?? [];
    if (a.sparseTensor !== undefined) yield* sparseParts(a.sparseTensor);
    for (const s of a.sparseTensors ?? []) yield* sparseParts(s);
  }
}

/** Every TensorProto stored in the model: initializers, sparse ones' parts, and attribute tensors. */
export function* modelTensors(model: ModelProto): Generator<TensorProto> {
  for (const graph of modelGraphs(model)) {
    yield* graph.initializer ?? [];
    for (const s of graph.sparseInitializer ?? []) yield* sparseParts(s);
    for (const node of graph.node ?? []) yield* attributeTensors(node.attribute ?? []);
  }
  for (const f of model.functions ?? []) {
    for (const node of f.node ?? []) yield* attributeTensors(node.attribute ?? []);
    yield* attributeTensors(f.attributeProto ?? []);
  }
}
