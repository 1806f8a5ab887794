// The prefix run reads embedding tables only at the rows the calibration samples index. A GPT-2
// token table is 50257 × 768 floats (154 MB), and onnxruntime-web holds about three copies of a
// session's initializers while it loads one; 16 samples of 128 tokens read at most 2048 of its
// rows. So before the prefix session is made, each Gather(table, ids) whose ids are a graph input
// becomes Gather(rows, positions): `rows` the table's rows at the distinct ids in ascending order,
// `positions` each id's index among them, fed as a new graph input (the original ids still feed
// every other reader, e.g. a padding mask). Gather copies rows, so the output is bit-identical.
import type { HostTensor } from '../eval/runner.ts';
import { getAttrInt } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';

export interface CompactedEmbeddings {
  model: ModelProto;
  /** The extra feeds of each batch (the positions of its ids among the kept rows). */
  feeds: Record<string, HostTensor>[];
}

/** Distinct ids of all batches in ascending order, or undefined when one is out of range. */
function distinctIds(batches: readonly BigInt64Array[], rows: number): number[] | undefined {
  const seen = new Set<number>();
  for (const ids of batches) {
    for (const id of ids) {
      // ONNX Gather accepts negative indices counted from the end.
      const row = Number(id < 0n ? id + BigInt(rows) : id);
      if (row < 0 || row >= rows) return undefined;
      seen.add(row);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * `model` (a prefix run) with its Gathers of float32 tables by graph-input ids reading only the
 * rows `feeds` index. Gathers that do not fit (another axis or dtype, ids out of range) stay.
 */
export function compactEmbeddings(model: ModelProto, feeds: readonly Record<string, HostTensor>[]): CompactedEmbeddings {
  const graph = model.graph!;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  const graphInputs = new Set((graph.input ?? []).map((input) => input.name));
  const nodes: NodeProto[] = [...(graph.node ?? [])];
  const added: TensorProto[] = [];
  const replaced = new Set<string>();
  const extra: Record<string, HostTensor>[] = feeds.map(() => ({}));
  const inputs = [...(graph.input ?? [])];
  nodes.forEach((node, n) => {
    const [tableName, idsName] = node.input ?? [];
    const table = initializers.get(tableName);
    if (node.opType !== 'Gather' || (node.domain && node.domain !== 'ai.onnx') || getAttrInt(node, 'axis', 0) !== 0) return;
    if (table?.dataType !== DataType.FLOAT || table.dims?.length !== 2 || !graphInputs.has(idsName)) return;
    if (!feeds.every((batch) => batch[idsName]?.dtype === 'int64')) return;
    const [rows, width] = table.dims.map(Number);
    const batches = feeds.map((batch) => batch[idsName].data as BigInt64Array);
    const kept = distinctIds(batches, rows);
    if (kept === undefined) return;
    const values = tensorToFloat32(table);
    const compact = new Float32Array(kept.length * width);
    kept.forEach((row, k) => compact.set(values.subarray(row * width, (row + 1) * width), k * width));
    const [rowsName, positionsName] = [`${tableName}::rows@${n}`, `${idsName}::positions@${n}`];
    added.push({ name: rowsName, dims: [kept.length, width], dataType: DataType.FLOAT, rawData: new Uint8Array(compact.buffer) });
    inputs.push({ name: positionsName, type: { tensorType: { elemType: DataType.INT64 } } });
    const index = new Map(kept.map((row, k) => [row, k]));
    feeds.forEach((batch, b) => {
      const ids = batch[idsName];
      const positions = BigInt64Array.from(ids.data as BigInt64Array, (id) => BigInt(index.get(Number(id < 0n ? id + BigInt(rows) : id))!));
      extra[b][positionsName] = { dtype: 'int64', dims: ids.dims, data: positions };
    });
    nodes[n] = { ...node, input: [rowsName, positionsName] };
    replaced.add(tableName);
  });
  if (added.length === 0) return { model, feeds: extra };
  // A table still read by another node of the run stays.
  const stillRead = new Set(nodes.flatMap((node) => node.input ?? []));
  const initializer = [...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '') || stillRead.has(t.name ?? '')), ...added];
  return { model: { ...model, graph: { ...graph, node: nodes, initializer, input: inputs } }, feeds: extra };
}
