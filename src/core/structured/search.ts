// From the stage's target to kept counts. A target is a cost function per block — parameters for
// `sparsity` and `size`, predicted milliseconds for `speedup` — and a budget on its sum. ZipLM
// picks the least-error option per block under the budget (plan.ts); CFSP has its own per-block
// ratios from one global pruning ratio, and the search finds the smallest global ratio whose plan
// fits the budget (bisection; the cost falls as the ratio grows).
import { groupColumns, type StructuredBlock } from './blocks.ts';
import { neuronOptions, planUnderBudget, type PlanItem, type StructuredPlan } from './plan.ts';

/** What a block keeps: head groups (kv heads; query heads = groups × groupSize) and MLP neurons. */
export interface BlockKeep {
  groups: number;
  neurons: number;
}

export interface StructuredCost {
  /** 'parameters' for sparsity / size targets, 'ms' for a speedup target. */
  unit: 'parameters' | 'ms';
  /** The cost of block b keeping `keep`. */
  cost(block: StructuredBlock, keep: BlockKeep): number;
  /** The most Σ cost may be. */
  budget: number;
}

/** Full counts of a block (what it has now). */
export const fullKeep = (b: StructuredBlock, fallback: BlockKeep): BlockKeep => ({ groups: b.attention?.kvHeads ?? fallback.groups, neurons: b.mlp?.neurons ?? fallback.neurons });

/**
 * Parameters of block b that scale with what it keeps: Q/K/V (or QKV) rows with their biases and
 * the output projection's columns, per head group kept; up/gate rows with biases and the down
 * projection's columns, per neuron kept. The structures the stage does not remove count 0.
 */
export function variableParams(b: StructuredBlock, keep: BlockKeep): number {
  let params = 0;
  const a = b.attention;
  if (a) {
    const width = groupColumns(a, 0).length;
    const rows = (layer: { inFeatures: number; bias: string | null } | null, perGroup: number) => (layer ? keep.groups * perGroup * (layer.inFeatures + (layer.bias ? 1 : 0)) : 0);
    params += a.qkv ? rows(a.qkv, width + 2 * a.headDim) : rows(a.q, width) + rows(a.k, a.headDim) + rows(a.v, a.headDim);
    params += a.out.outFeatures * keep.groups * width;
  }
  const m = b.mlp;
  if (m) {
    for (const layer of [m.up, m.gate]) if (layer) params += keep.neurons * (layer.inFeatures + (layer.bias ? 1 : 0));
    params += m.down.outFeatures * keep.neurons;
  }
  return params;
}

/** Each block's error by kept count: heads[g] for g kept groups, neurons[n] for n kept neurons (NaN where not computed). */
export interface BlockErrors {
  heads: Float64Array | null;
  neurons: Float64Array | null;
}

/** ZipLM's search: the least total database error under the budget; null when nothing fits. */
export function zipLmPlan(blocks: readonly StructuredBlock[], errors: readonly BlockErrors[], cost: StructuredCost, neuronMultiple: number, steps = 2000): StructuredPlan<BlockKeep> | null {
  const items: PlanItem<BlockKeep>[] = blocks.map((b, i) => {
    const groups = b.attention && errors[i].heads ? Array.from({ length: b.attention.kvHeads }, (_, g) => g + 1) : [null];
    const neurons = b.mlp && errors[i].neurons ? neuronOptions(b.mlp.neurons, neuronMultiple) : [null];
    const options = groups.flatMap((g) =>
      neurons.map((n) => {
        const keep = { groups: g ?? b.attention?.kvHeads ?? 0, neurons: n ?? b.mlp?.neurons ?? 0 };
        const error = (g === null ? 0 : errors[i].heads![g]) + (n === null ? 0 : errors[i].neurons![n]);
        return { kept: keep, error, cost: cost.cost(b, keep) };
      }),
    );
    return { block: b.block, options };
  });
  return planUnderBudget(items, cost.budget, steps);
}

/** The cheapest plan a block may take: one group and the fewest neurons, for the structures removed. */
export function floorKeep(b: StructuredBlock, heads: boolean, neurons: boolean, neuronMultiple: number): BlockKeep {
  return {
    groups: b.attention ? (heads ? 1 : b.attention.kvHeads) : 0,
    neurons: b.mlp ? (neurons ? neuronOptions(b.mlp.neurons, neuronMultiple)[0] : b.mlp.neurons) : 0,
  };
}

/**
 * The smallest x in [0, hi] with fits(x) (fits is monotone: false below a threshold, true above),
 * by bisection to `tolerance`; null when even hi does not fit.
 */
export function smallestFitting(fits: (x: number) => boolean, hi: number, tolerance = 1e-4): number | null {
  if (!fits(hi)) return null;
  if (fits(0)) return 0;
  let [lo, up] = [0, hi];
  while (up - lo > tolerance) {
    const mid = (lo + up) / 2;
    if (fits(mid)) up = mid;
    else lo = mid;
  }
  return up;
}
