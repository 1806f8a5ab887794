// Raising a model's default-domain opset so that a newer operator version is available (blocked
// DequantizeLinear needs opset 21). Between opset 13 and 21 most operators only gained types or
// attributes whose defaults keep the old behaviour; the ones whose meaning changed are rewritten
// here or refused (ONNX docs/Changelog.md):
//   Reduce{Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare}-18  axes attribute → input
//   Split-18        with neither a split input nor num_outputs, num_outputs is required
//   DFT-20          axis attribute → input                       refused
//   GridSample-20   mode names changed                           refused
//   GroupNormalization-21  per-group → per-channel scale, bias   refused
import type { AttributeProto, GraphProto, ModelProto, NodeProto } from '../../onnx/types.ts';
import { defaultOpset, int64Tensor, intAttribute, takenNames, uniqueName } from './graphEdit.ts';
import { QuantExportError } from './pack.ts';

const AXES_TO_INPUT_AT_18 = new Set([
  'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare',
]);

/** Ops whose meaning changed on the way, with the opset of the change. */
const REFUSED: ReadonlyMap<string, number> = new Map([
  ['DFT', 20],
  ['GridSample', 20],
  ['GroupNormalization', 21],
]);

/** The oldest opset this rewrite starts from: below 13, Squeeze/Unsqueeze/Split/ReduceSum change too. */
export const MIN_RAISABLE_OPSET = 13;

const isDefaultDomain = (node: NodeProto) => !node.domain || node.domain === 'ai.onnx';

function attributeInts(node: NodeProto, name: string): number[] | undefined {
  return node.attribute?.find((a) => a.name === name)?.ints?.map(Number);
}

function withSubgraphsRaised(a: AttributeProto, raise: (g: GraphProto) => GraphProto): AttributeProto {
  if (!a.g && !a.graphs) return a;
  const copy = { ...a };
  if (a.g) copy.g = raise(a.g);
  if (a.graphs) copy.graphs = a.graphs.map(raise);
  return copy;
}

function rewriteGraph(graph: GraphProto, from: number, target: number, taken: Set<string>, notes: string[]): GraphProto {
  const initializer = [...(graph.initializer ?? [])];
  const node = (graph.node ?? []).map((original) => {
    const n: NodeProto = { ...original };
    if (original.attribute) n.attribute = original.attribute.map((a) => withSubgraphsRaised(a, (g) => rewriteGraph(g, from, target, taken, notes)));
    if (!isDefaultDomain(n)) return n;
    const op = n.opType ?? '';
    const changedAt = REFUSED.get(op);
    if (changedAt !== undefined && from < changedAt && target >= changedAt) {
      throw new QuantExportError(`raising opset ${from} → ${target} would change the meaning of ${op} '${n.name ?? ''}' (changed at opset ${changedAt}); the lab does not rewrite it`);
    }
    if (from < 18 && target >= 18 && AXES_TO_INPUT_AT_18.has(op)) {
      const axes = attributeInts(n, 'axes');
      if (axes !== undefined) {
        const name = uniqueName(taken, `${n.name || op}_axes`);
        initializer.push(int64Tensor(name, axes));
        n.attribute = n.attribute!.filter((a) => a.name !== 'axes');
        n.input = [n.input?.[0] ?? '', name];
        notes.push(`${op} '${n.name ?? ''}': axes moved from attribute to input (opset 18)`);
      }
    }
    if (from < 18 && target >= 18 && op === 'Split' && !n.input?.[1] && attributeInts(n, 'split') === undefined && !n.attribute?.some((a) => a.name === 'num_outputs')) {
      n.attribute = [...(n.attribute ?? []), intAttribute('num_outputs', n.output?.length ?? 1)];
    }
    return n;
  });
  return { ...graph, node, initializer };
}

/**
 * A copy of the model importing default-domain opset `target` (nothing changes when it already
 * does), with the nodes whose meaning changed rewritten. Throws QuantExportError for models below
 * opset 13 and for ops it does not rewrite.
 */
export function raiseOpset(model: ModelProto, target: number): { model: ModelProto; notes: string[] } {
  const from = defaultOpset(model);
  if (from >= target) return { model, notes: [] };
  if (from < MIN_RAISABLE_OPSET) throw new QuantExportError(`the model imports opset ${from}; the lab raises opset ${MIN_RAISABLE_OPSET} or newer to ${target}, not older ones`);
  if (model.graph === undefined) throw new QuantExportError('the model has no graph');
  const notes = [`default opset raised ${from} → ${target}`];
  const graph = rewriteGraph(model.graph, from, target, takenNames(model.graph), notes);
  const opsetImport = (model.opsetImport ?? []).map((o) => (!o.domain || o.domain === 'ai.onnx' ? { ...o, version: target } : o));
  return { model: { ...model, graph, opsetImport }, notes };
}
