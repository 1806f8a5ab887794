// The ACT-calibrated model: the original graph with standard ONNX operators inserted after the
// Softmax of every edited attention site, computing act.ts's edit per input (any T, any batch),
// so the file runs in onnxruntime-web and anywhere else with no custom op. Per site, on the
// probabilities P [batch, heads, T, T]:
//   T         = Gather(Shape(P), -1)                    keys = queries
//   score     = ReduceSum(P, axis −2) / (T − j | T)     [b, h, 1, T]  (causal | not)
//   isSink    = score > τ  (or α / T)
//   S         = isSink ∧ CumSum(isSink, exclusive) > 0  every sink but the first
//   removed   = (1 − β)·ReduceSum(Where(S, P, 0), axis −1)           [b, h, T, 1]
//   C         = Where(S, 0, P);  mass = ReduceSum(C, axis −1)
//   edited    = P·Where(S, β, 1) + removed·(C / mass)
//   out       = Where(headSelected ∧ mass > 0, edited, P)
// and every reader of P reads `out`. Unselected heads (and rows with no mass outside S, where
// the reference divides 0 by 0) take P itself, bit for bit.
//
// The reference's row-0 special case (copy keeps row 0's sink columns; A[0, 0] = 1) is not
// built: on a causal map row 0 is [1, 0, …] and both are no-ops there; for a non-causal map
// act.ts treats row 0 like the others too.
import type { AttentionSite } from '../model/types.ts';
import { AttributeType, DataType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';
import { valueInfoShape } from '../onnx/graph.ts';
import { defaultOpset, findNodeIndex, floatTensor, takenNames, uniqueName, workingCopy } from '../quant/export/graphEdit.ts';
import { ACT_REFERENCE_PARAMS, type ActParams } from './act.ts';

/** One attention site and the heads ACT edits there. */
export interface ActSiteSelection {
  site: AttentionSite;
  heads: readonly number[];
}

export interface ActGraphSite {
  softmaxNode: string;
  /** The Softmax's own output (the unedited probabilities). */
  original: string;
  /** The edited probabilities every former reader of `original` now reads. */
  edited: string;
  heads: number[];
  /** Nodes inserted for this site. */
  nodes: number;
}

export interface ActGraphResult {
  model: ModelProto;
  sites: ActGraphSite[];
}

export class ActGraphError extends Error {
  override name = 'ActGraphError';
}

/** CumSum and negative Gather indices need opset 11. */
export const ACT_MIN_OPSET = 11;

const int64Scalar = (name: string, value: number): TensorProto => ({ name, dims: [], dataType: DataType.INT64, int64Data: BigInt64Array.of(BigInt(value)) });
const floatScalar = (name: string, value: number): TensorProto => floatTensor(name, [], Float32Array.of(value));
const intAttr = (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i });
const intsAttr = (name: string, ints: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints });

/** Builds one site's nodes and constants with unique names under `prefix`. */
class SiteBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  constructor(
    private readonly taken: Set<string>,
    private readonly prefix: string,
    private readonly opset: number,
  ) {}

  name(base: string): string {
    return uniqueName(this.taken, `${this.prefix}/${base}`);
  }

  constant(tensor: (name: string) => TensorProto, base: string): string {
    const t = tensor(this.name(base));
    this.initializers.push(t);
    return t.name!;
  }

  op(opType: string, inputs: string[], base: string, attribute: AttributeProto[] = []): string {
    const output = this.name(base);
    this.nodes.push({ opType, name: this.name(`${opType}_${base}`), input: inputs, output: [output], attribute, domain: '' });
    return output;
  }

  /** ReduceSum over one axis, kept: axes became an input at opset 13. */
  reduceSum(input: string, axis: number, base: string): string {
    if (this.opset >= 13) return this.op('ReduceSum', [input, this.constant((n) => ({ name: n, dims: [1], dataType: DataType.INT64, int64Data: BigInt64Array.of(BigInt(axis)) }), `axis${axis}`)], base, [intAttr('keepdims', 1)]);
    return this.op('ReduceSum', [input], base, [intsAttr('axes', [axis]), intAttr('keepdims', 1)]);
  }
}

/** The ops of one site (see the header); returns the edited tensor's name. */
function buildSite(b: SiteBuilder, probs: string, heads: number, selected: readonly number[], causal: boolean, params: ActParams): string {
  const shape = b.op('Shape', [probs], 'shape');
  const tokens = b.op('Gather', [shape, b.constant((n) => int64Scalar(n, -1), 'last')], 'tokens', [intAttr('axis', 0)]);
  const tokensF = b.op('Cast', [tokens], 'tokens_f', [intAttr('to', DataType.FLOAT)]);

  const columnSum = b.reduceSum(probs, -2, 'column_sum');
  let seenBy = tokensF;
  if (causal) {
    const key = b.op('Range', [b.constant((n) => int64Scalar(n, 0), 'zero_i64'), tokens, b.constant((n) => int64Scalar(n, 1), 'one_i64')], 'key_index');
    const keyF = b.op('Cast', [key], 'key_index_f', [intAttr('to', DataType.FLOAT)]);
    seenBy = b.op('Sub', [tokensF, keyF], 'queries_seeing_key');
  }
  const score = b.op('Div', [columnSum, seenBy], 'sink_score');
  const spec = params.threshold;
  const threshold =
    spec.kind === 'absolute'
      ? b.constant((n) => floatScalar(n, spec.tau), 'tau')
      : b.op('Div', [b.constant((n) => floatScalar(n, spec.alpha), 'alpha'), tokensF], 'alpha_over_t');
  const isSink = b.op('Greater', [score, threshold], 'is_sink');
  const sinkCount = b.op('Cast', [isSink], 'is_sink_f', [intAttr('to', DataType.FLOAT)]);
  const before = b.op('CumSum', [sinkCount, b.constant((n) => int64Scalar(n, -1), 'key_axis')], 'sinks_before', [intAttr('exclusive', 1)]);
  const zero = b.constant((n) => floatScalar(n, 0), 'zero');
  const one = b.constant((n) => floatScalar(n, 1), 'one');
  const notFirst = b.op('Greater', [before, zero], 'after_first_sink');
  const edited = b.op('And', [isSink, notFirst], 'edited_sink');

  const sinkMass = b.reduceSum(b.op('Where', [edited, probs, zero], 'sink_probs'), -1, 'sink_mass');
  const removed = b.op('Mul', [sinkMass, b.constant((n) => floatScalar(n, 1 - params.beta), 'one_minus_beta')], 'removed_mass');
  const columnScale = b.op('Where', [edited, b.constant((n) => floatScalar(n, params.beta), 'beta'), one], 'column_scale');
  const scaled = b.op('Mul', [probs, columnScale], 'scaled');
  const kept = b.op('Where', [edited, zero, probs], 'non_sink_probs');
  const keptMass = b.reduceSum(kept, -1, 'non_sink_mass');
  const ratio = b.op('Div', [kept, keptMass], 'ratio');
  const given = b.op('Mul', [removed, ratio], 'given_back');
  const result = b.op('Add', [scaled, given], 'act');

  const selector = Uint8Array.from({ length: heads }, (_, h) => (selected.includes(h) ? 1 : 0));
  const headSelected = b.constant((n) => ({ name: n, dims: [1, heads, 1, 1], dataType: DataType.BOOL, rawData: selector }), 'head_selected');
  const rowOk = b.op('Greater', [keptMass, zero], 'row_has_non_sink_mass');
  const use = b.op('And', [headSelected, rowOk], 'use_act');
  return b.op('Where', [use, result, probs], 'probs');
}

function checkSite(graph: GraphProto, selection: ActSiteSelection): number {
  const { site, heads } = selection;
  if (site.heads === null) throw new ActGraphError(`ACT: the number of heads of ${site.softmaxNode} is unknown`);
  for (const h of heads) {
    if (!Number.isInteger(h) || h < 0 || h >= site.heads) throw new ActGraphError(`ACT: head ${h} outside 0..${site.heads - 1} at ${site.softmaxNode}`);
  }
  const shape = valueInfoShape(graph, site.output);
  if (shape !== undefined && shape.length !== 4) throw new ActGraphError(`ACT: ${site.output} has rank ${shape.length}; expected [batch, heads, T, T]`);
  const elemType = [...(graph.valueInfo ?? []), ...(graph.output ?? [])].find((v) => v.name === site.output)?.type?.tensorType?.elemType;
  if (elemType !== undefined && elemType !== DataType.FLOAT) throw new ActGraphError(`ACT: ${site.output} is not float32 (elem_type ${elemType})`);
  return findNodeIndex(graph, site.softmaxNode);
}

export interface ActGraphOptions {
  /**
   * Build the ops for a site with no selected head too (its selector all false): the outputs
   * must then equal the original model's bit for bit, which the tests check. Default false.
   */
  keepEmptySites?: boolean;
}

/**
 * A copy of `model` with ACT after the Softmax of each selected site (sites with no heads are
 * left out unless asked). The input model is not mutated; initializers are shared.
 */
export function applyActToGraph(
  model: ModelProto,
  selections: readonly ActSiteSelection[],
  params: ActParams = ACT_REFERENCE_PARAMS,
  options: ActGraphOptions = {},
): ActGraphResult {
  const opset = defaultOpset(model);
  if (opset < ACT_MIN_OPSET) throw new ActGraphError(`ACT needs opset ${ACT_MIN_OPSET} (CumSum); the model imports opset ${opset}`);
  if (!(params.beta >= 0 && params.beta <= 1)) throw new ActGraphError(`ACT: beta ${params.beta} outside [0, 1]`);
  const { model: copy, graph } = workingCopy(model);
  const taken = takenNames(graph);
  const chosen = selections.filter((s) => options.keepEmptySites || s.heads.length > 0).map((s) => ({ ...s, at: checkSite(graph, s) }));
  // Highest position first, so inserting nodes never moves a Softmax still to be edited.
  chosen.sort((a, b) => b.at - a.at);
  const sites: ActGraphSite[] = [];
  for (const { site, heads, at } of chosen) {
    const builder = new SiteBuilder(taken, `${site.softmaxNode}/act`, opset);
    const edited = buildSite(builder, site.output, site.heads!, heads, site.causalMask, params);
    for (let k = 0; k < graph.node!.length; k++) {
      const node = graph.node![k];
      if (!(node.input ?? []).includes(site.output)) continue;
      graph.node![k] = { ...node, input: node.input!.map((name) => (name === site.output ? edited : name)) };
    }
    graph.node!.splice(at + 1, 0, ...builder.nodes);
    graph.initializer!.push(...builder.initializers);
    sites.push({ softmaxNode: site.softmaxNode, original: site.output, edited, heads: [...heads].sort((x, y) => x - y), nodes: builder.nodes.length });
  }
  return { model: copy, sites: sites.reverse() };
}
