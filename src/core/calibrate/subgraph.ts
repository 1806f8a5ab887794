// Cutting a model at its block boundaries for sequential calibration, as the reference code walks
// a model (IST-DASLab/sparsegpt `llama_sequential`/`opt_sequential`, locuslab/wanda `prune_wanda`):
// a prefix (embeddings) runs once, then each stage — one block's linears — runs on the
// activations stored at the boundary before it, once for its statistics and once more after it
// was pruned, to produce the boundary after it. Cost grows linearly with depth.
//
// The cut works on the topological node order. Stage s owns a range of positions [c_s, c_{s+1});
// c_s lies between the last node of stage s−1 (the last product or bias Add of its linears) and
// the first product of stage s, where the fewest input-dependent tensors cross (in a pre-LN
// transformer: one, the residual stream). Nodes that depend on no graph input (Constant, the
// Transpose or Identity of an initializer) are never carried across a cut: every run that needs
// them computes them from the current initializers, so a pruned weight is always seen as it is now.
//
// Each run is the part of its range that its outputs need (dead nodes dropped), reading the
// tensors earlier runs stored: the boundary, and whatever else the block reads that was computed
// before it (a mask or position ids computed once in the prefix).
import { buildGraphIndex, nodeLabel, type GraphIndex } from '../model/graphIndex.ts';
import type { LinearLayer } from '../model/types.ts';
import type { GraphProto, ModelProto, TypeProto, ValueInfoProto } from '../onnx/types.ts';

/** One session run over part of the graph. */
export interface SegmentRun {
  /** Indices into graph.node, in topological order. Empty: nothing to run (all it needs is stored). */
  nodes: number[];
  /** Tensors it reads from the boundary store: graph inputs, or what an earlier run returned. */
  inputs: string[];
  /** Tensors it returns. */
  outputs: string[];
}

export interface StageSegment {
  /** The stage's taps, computed from the boundary before it (its own weights as they are now). */
  stats: SegmentRun;
  /** After the stage was pruned: the tensors later runs read. null for the last stage. */
  advance: SegmentRun | null;
  /** What the store holds once this stage advanced: everything a later run reads. */
  keep: string[];
}

export interface BlockCut {
  prefix: SegmentRun;
  /** What the store holds after the prefix. */
  keep: string[];
  stages: StageSegment[];
  /** First topological position of each stage's range (for tests and the docs). */
  cuts: number[];
  /** Input-dependent tensors crossing each cut: the boundary's width in tensors. */
  crossing: number[];
}

export type CutPlan = { ok: true; cut: BlockCut } | { ok: false; reason: string };

export interface StageTaps {
  /** The layers pruned in this stage (their products and bias Adds lie inside it). */
  layers: readonly LinearLayer[];
  /** Every tensor its statistics read (layer inputs, outputs, attention probabilities). */
  tensors: readonly string[];
}

/** Why the graph cannot be cut into runs, or undefined when it can. */
function uncuttable(graph: GraphProto): string | undefined {
  const nested = (graph.node ?? []).find((node) => (node.attribute ?? []).some((a) => a.g !== undefined || (a.graphs?.length ?? 0) > 0));
  if (nested) return `node ${nested.name || nested.opType} (${nested.opType}) has a subgraph, whose body may read any outer tensor`;
  if ((graph.sparseInitializer?.length ?? 0) > 0) return 'the graph has sparse initializers';
  return undefined;
}

/** Tensors that depend on a graph input (value or shape): what a cut may have to carry. */
function inputDependent(index: GraphIndex): Set<string> {
  const dynamic = new Set(index.graphInputs);
  for (const n of index.order) {
    const node = index.nodes[n];
    if ((node.input ?? []).some((input) => dynamic.has(input))) for (const output of node.output ?? []) if (output) dynamic.add(output);
  }
  return dynamic;
}

/** crossing[c]: input-dependent tensors produced before position c and read at c or later. */
function crossingCounts(index: GraphIndex, dynamic: ReadonlySet<string>): Int32Array {
  const diff = new Int32Array(index.order.length + 2);
  for (const tensor of dynamic) {
    const producer = index.producer.get(tensor);
    const from = producer === undefined ? -1 : index.position[producer];
    let last = -1;
    for (const consumer of index.consumers.get(tensor) ?? []) last = Math.max(last, index.position[consumer]);
    if (last <= from) continue;
    diff[from + 1]++;
    diff[last + 1]--;
  }
  const counts = new Int32Array(index.order.length + 1);
  for (let c = 0, running = 0; c <= index.order.length; c++) counts[c] = running += diff[c];
  return counts;
}

/** Topological positions a stage's layers occupy: first product, last product or bias Add. */
function stageSpan(index: GraphIndex, labels: ReadonlyMap<string, number>, stage: StageTaps): { lo: number; hi: number } | string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const layer of stage.layers) {
    for (const use of layer.uses) {
      const product = labels.get(use.nodeName);
      const output = index.producer.get(use.output);
      if (product === undefined || output === undefined) return `layer ${layer.name}: its product node "${use.nodeName}" is not in the graph`;
      lo = Math.min(lo, index.position[product]);
      hi = Math.max(hi, index.position[output]);
    }
  }
  for (const tensor of stage.tensors) {
    const producer = index.producer.get(tensor);
    if (producer !== undefined) hi = Math.max(hi, index.position[producer]);
  }
  return { lo, hi };
}

/**
 * The part of positions [start, end) that computes `wanted`, reading input-dependent tensors
 * produced before `start` from the store; constant-only nodes come along from anywhere.
 */
function collectRun(index: GraphIndex, dynamic: ReadonlySet<string>, start: number, end: number, wanted: readonly string[]): SegmentRun | string {
  const nodes = new Set<number>();
  const inputs = new Set<string>();
  const outputs: string[] = [];
  const pending: string[] = [];
  for (const tensor of new Set(wanted)) {
    const producer = index.producer.get(tensor);
    if (producer !== undefined && index.position[producer] >= start) outputs.push(tensor);
    pending.push(tensor);
  }
  const seen = new Set<string>();
  while (pending.length > 0) {
    const tensor = pending.pop()!;
    if (!tensor || seen.has(tensor) || index.initializers.has(tensor)) continue;
    seen.add(tensor);
    const producer = index.producer.get(tensor);
    if (producer === undefined) {
      if (!index.graphInputs.has(tensor)) return `tensor "${tensor}" has no producer`;
      inputs.add(tensor);
      continue;
    }
    const position = index.position[producer];
    if (dynamic.has(tensor) && position < start) {
      inputs.add(tensor);
      continue;
    }
    if (dynamic.has(tensor) && position >= end) return `tensor "${tensor}" is computed after the range that needs it`;
    if (nodes.has(producer)) continue;
    nodes.add(producer);
    pending.push(...(index.nodes[producer].input ?? []));
  }
  return { nodes: [...nodes].sort((a, b) => index.position[a] - index.position[b]), inputs: [...inputs], outputs };
}

/**
 * Positions of input-dependent nodes that read an initializer larger than every pruned weight
 * (an embedding table): a cut is placed after them, so the table is read once, in the run before
 * the stage, not in both of the stage's sessions.
 */
function heavyReaders(index: GraphIndex, dynamic: ReadonlySet<string>, stages: readonly StageTaps[]): number[] {
  const numel = (dims: readonly (number | bigint)[] | undefined) => (dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  const largestWeight = Math.max(...stages.flatMap((stage) => stage.layers.map((layer) => layer.outFeatures * layer.inFeatures)));
  const positions: number[] = [];
  index.nodes.forEach((node, n) => {
    const inputs = node.input ?? [];
    if (!inputs.some((input) => dynamic.has(input))) return;
    if (inputs.some((input) => numel(index.initializers.get(input)?.dims) > largestWeight)) positions.push(index.position[n]);
  });
  return positions;
}

/**
 * Cut positions: for each stage, after its predecessor and after any heavy reader before it, the
 * least crossed position, the latest of equals.
 */
function chooseCuts(spans: readonly { lo: number; hi: number }[], crossing: Int32Array, heavy: readonly number[]): number[] | string {
  const cuts: number[] = [];
  for (let s = 0; s < spans.length; s++) {
    let from = s === 0 ? 0 : spans[s - 1].hi + 1;
    if (from > spans[s].lo) return `stage ${s}'s first product runs before stage ${s - 1}'s last node, so the stages interleave`;
    for (const position of heavy) if (position >= from && position < spans[s].lo) from = position + 1;
    let best = from;
    for (let c = from; c <= spans[s].lo; c++) if (crossing[c] <= crossing[best]) best = c;
    cuts.push(best);
  }
  return cuts;
}

/** The prefix and per-stage runs for `stages` (in model order), or why the graph cannot be cut. */
export function planBlockCut(model: ModelProto, stages: readonly StageTaps[]): CutPlan {
  const graph = model.graph;
  if (graph === undefined) return { ok: false, reason: 'the model has no graph' };
  if (stages.length === 0) return { ok: false, reason: 'no stages' };
  const why = uncuttable(graph);
  if (why) return { ok: false, reason: why };
  const index = buildGraphIndex(graph);
  const dynamic = inputDependent(index);
  const labels = new Map(index.nodes.map((_, n) => [nodeLabel(index, n), n]));
  const spans: { lo: number; hi: number }[] = [];
  for (const stage of stages) {
    const span = stageSpan(index, labels, stage);
    if (typeof span === 'string') return { ok: false, reason: span };
    spans.push(span);
  }
  const crossing = crossingCounts(index, dynamic);
  const cuts = chooseCuts(spans, crossing, heavyReaders(index, dynamic, stages));
  if (typeof cuts === 'string') return { ok: false, reason: cuts };
  const ends = [...cuts.slice(1), spans[spans.length - 1].hi + 1];
  const position = (t: string) => (index.graphInputs.has(t) ? -1 : index.position[index.producer.get(t)!]);
  // Backwards: a run's outputs are what later runs read. After stage s, the store holds what
  // later runs read and what has been computed by then.
  const segments: StageSegment[] = [];
  let later = new Set<string>();
  for (let s = stages.length - 1; s >= 0; s--) {
    const stats = collectRun(index, dynamic, cuts[s], ends[s], stages[s].tensors);
    if (typeof stats === 'string') return { ok: false, reason: `stage ${s}: ${stats}` };
    let advance: SegmentRun | null = null;
    const keep = [...later].filter((t) => position(t) < ends[s]);
    if (s < stages.length - 1) {
      const run = collectRun(index, dynamic, cuts[s], ends[s], keep.filter((t) => position(t) >= cuts[s]));
      if (typeof run === 'string') return { ok: false, reason: `stage ${s}: ${run}` };
      advance = run;
    }
    segments.unshift({ stats, advance, keep });
    later = new Set([...later, ...stats.inputs, ...(advance?.inputs ?? [])]);
  }
  const keep = [...later].filter((t) => position(t) < cuts[0]);
  const prefix = collectRun(index, dynamic, 0, cuts[0], keep.filter((t) => position(t) >= 0));
  if (typeof prefix === 'string') return { ok: false, reason: `prefix: ${prefix}` };
  return { ok: true, cut: { prefix, keep, stages: segments, cuts, crossing: cuts.map((c) => crossing[c]) } };
}

/**
 * The model that performs one run: its nodes (as the working model holds them now, so pruned
 * weights and untied copies are seen), the initializers they read, the stored tensors as graph
 * inputs of the given types, and the run's outputs.
 */
export function segmentModel(model: ModelProto, run: SegmentRun, inputTypes: ReadonlyMap<string, TypeProto>): ModelProto {
  const graph = model.graph!;
  const nodes = run.nodes.map((n) => graph.node![n]);
  const read = new Set(nodes.flatMap((node) => node.input ?? []));
  const produced = new Set(nodes.flatMap((node) => node.output ?? []));
  const info = new Map((graph.valueInfo ?? []).map((v) => [v.name, v]));
  const input: ValueInfoProto[] = run.inputs.map((name) => {
    const type = inputTypes.get(name);
    if (type === undefined) throw new Error(`segmentModel: no type for stored tensor "${name}"`);
    return { name, type };
  });
  const output: ValueInfoProto[] = run.outputs.map((name) => info.get(name) ?? { name });
  return {
    ...model,
    graph: {
      ...graph,
      node: nodes,
      initializer: (graph.initializer ?? []).filter((t) => read.has(t.name ?? '')),
      input,
      output,
      valueInfo: (graph.valueInfo ?? []).filter((v) => produced.has(v.name ?? '') && !run.outputs.includes(v.name ?? '')),
    },
  };
}
