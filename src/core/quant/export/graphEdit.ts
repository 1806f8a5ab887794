// The graph surgery the quantized writers share, on a working copy: the input ModelProto is never
// mutated, and tensors the copy does not change are shared with it (weights are large).
import { AttributeType, DataType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../../onnx/types.ts';

/** A copy of the model whose top-level graph lists (nodes, initializers, inputs, value_info) may be edited. */
export function workingCopy(model: ModelProto): { model: ModelProto; graph: GraphProto } {
  if (model.graph === undefined) throw new Error('the model has no graph');
  const graph: GraphProto = {
    ...model.graph,
    node: [...(model.graph.node ?? [])],
    initializer: [...(model.graph.initializer ?? [])],
    input: [...(model.graph.input ?? [])],
    valueInfo: [...(model.graph.valueInfo ?? [])],
  };
  return { model: { ...model, graph, opsetImport: (model.opsetImport ?? []).map((o) => ({ ...o })) }, graph };
}

/** The node the analysis calls `label`: its name, or `opType#index` for an unnamed node (nodeLabel). */
export function findNodeIndex(graph: GraphProto, label: string): number {
  const nodes = graph.node ?? [];
  const byName = nodes.findIndex((node) => node.name === label);
  if (byName >= 0) return byName;
  const unnamed = /^(.*)#(\d+)$/.exec(label);
  if (unnamed && !nodes[Number(unnamed[2])]?.name && nodes[Number(unnamed[2])]?.opType === unnamed[1]) return Number(unnamed[2]);
  throw new Error(`no node '${label}' in the graph`);
}

/** Every tensor name the graph defines or mentions (subgraphs included), to keep new names unique. */
export function takenNames(graph: GraphProto): Set<string> {
  const taken = new Set<string>();
  const visit = (g: GraphProto) => {
    for (const t of g.initializer ?? []) taken.add(t.name ?? '');
    for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) taken.add(v.name ?? '');
    for (const node of g.node ?? []) {
      for (const name of [...(node.input ?? []), ...(node.output ?? [])]) taken.add(name);
      if (node.name) taken.add(node.name);
      for (const sub of subgraphs(node)) visit(sub);
    }
  };
  visit(graph);
  return taken;
}

/** `base`, or `base_2`, `base_3`, … : the first that is not taken (and now is). */
export function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

function subgraphs(node: NodeProto): GraphProto[] {
  return (node.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
}

/** Names read by nodes of the graph and of its subgraphs (outer-scope reads included), and the graph outputs. */
function readNames(graph: GraphProto): Set<string> {
  const read = new Set<string>();
  const visit = (g: GraphProto) => {
    for (const node of g.node ?? []) {
      for (const name of node.input ?? []) if (name) read.add(name);
      for (const sub of subgraphs(node)) visit(sub);
    }
    for (const output of g.output ?? []) read.add(output.name ?? '');
  };
  visit(graph);
  return read;
}

/**
 * Removes the `candidates` nodes whose outputs nothing reads any more (repeatedly, so a chain
 * Identity → Transpose goes), then the `initializers` nothing reads, with their graph-input and
 * value_info entries. Returns the initializer names removed.
 */
export function removeUnused(graph: GraphProto, candidates: ReadonlySet<NodeProto>, initializers: ReadonlySet<string>): string[] {
  const nodes = graph.node!;
  const removedTensors = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    const read = readNames(graph);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (!candidates.has(node) || (node.output ?? []).some((name) => name && read.has(name))) continue;
      nodes.splice(i, 1);
      (node.output ?? []).forEach((name) => removedTensors.add(name));
      changed = true;
    }
  }
  const read = readNames(graph);
  const removed = [...initializers].filter((name) => !read.has(name));
  removed.forEach((name) => removedTensors.add(name));
  graph.initializer = (graph.initializer ?? []).filter((t) => !removed.includes(t.name ?? ''));
  graph.input = (graph.input ?? []).filter((v) => !removed.includes(v.name ?? ''));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => !removedTensors.has(v.name ?? ''));
  return removed;
}

/** Adds an opset import for `domain` at `version`, or raises an older one. */
export function requireOpset(model: ModelProto, domain: string, version: number): void {
  const imports = (model.opsetImport ??= []);
  const same = (d: string | undefined) => (d ?? '') === domain || (domain === '' && d === 'ai.onnx');
  const existing = imports.find((o) => same(o.domain));
  if (existing === undefined) imports.push({ domain, version });
  else if (Number(existing.version ?? 0) < version) existing.version = version;
}

/** The default-domain opset the model imports (1 when it names none, as onnx does). */
export function defaultOpset(model: ModelProto): number {
  const found = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return found ? Number(found.version ?? 1) : 1;
}

const littleEndianBytes = (array: Float32Array | Int32Array) => {
  const out = new Uint8Array(array.length * 4);
  const view = new DataView(out.buffer);
  array.forEach((v, i) => (array instanceof Float32Array ? view.setFloat32(i * 4, v, true) : view.setInt32(i * 4, v, true)));
  return out;
};

export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: littleEndianBytes(values) };
}

export function int32Tensor(name: string, dims: number[], values: Int32Array): TensorProto {
  return { name, dims, dataType: DataType.INT32, rawData: littleEndianBytes(values) };
}

/** The one int64 constant writer (onnx/surgery.ts), re-exported for the export modules here. */
export { int64Tensor } from '../../onnx/surgery.ts';

/** A tensor of `dataType` (uint8, int4, …) from its raw_data bytes. */
export function rawTensor(name: string, dims: number[], dataType: number, rawData: Uint8Array): TensorProto {
  return { name, dims, dataType, rawData };
}

export function intAttribute(name: string, value: number): AttributeProto {
  return { name, type: AttributeType.INT, i: value };
}
