// The search that turns per-block error databases into kept counts: choose one option per block
// (its kept heads and neurons) so that the total cost stays within the budget and the total error
// is least. ZipLM (Kurtić et al. 2023, §3.2) solves the same problem with a dynamic programme over
// layers on a discretised budget (its structured SPDY-style search); this is that programme, a
// multiple-choice knapsack, generic in the cost: parameters for a size target, predicted latency
// from a measured table (src/core/latency) for a speedup target.
//
// Costs are rounded to budget/steps units. Rounded to the nearest unit (with a slack of up to one
// unit per block, tried from the most slack down) the programme finds plans right at the budget; a
// plan is accepted only when its real Σ cost is within the budget. Rounded up (the last try) every
// plan the programme finds fits, at the price of rejecting plans within a unit per block of it.

export interface PlanOption<K = unknown> {
  /** What the option keeps (e.g. { heads, neurons }). */
  kept: K;
  /** The database's error at these kept counts (summed over the block's structures). */
  error: number;
  /** Its cost (parameters, or predicted milliseconds). */
  cost: number;
}

export interface PlanItem<K = unknown> {
  block: number;
  options: PlanOption<K>[];
}

export interface StructuredPlan<K = unknown> {
  /** One chosen option per item, in item order. */
  chosen: PlanOption<K>[];
  error: number;
  cost: number;
}

/** The least-error choice with Σ cost ≤ budget, or null when even the cheapest options exceed it. */
export function planUnderBudget<K>(items: readonly PlanItem<K>[], budget: number, steps = 2000): StructuredPlan<K> | null {
  if (!(budget >= 0) || !Number.isFinite(budget)) return null;
  for (let slack = items.length; slack >= 0; slack--) {
    const plan = knapsack(items, budget, steps, (c) => Math.round(c), slack);
    if (plan && plan.cost <= budget * (1 + 1e-12)) return plan;
  }
  return knapsack(items, budget, steps, (c) => Math.ceil(c - 1e-9), 0);
}

/** The multiple-choice knapsack on a grid of budget/steps units (+ slack units), costs rounded by `round`. */
function knapsack<K>(items: readonly PlanItem<K>[], budget: number, steps: number, round: (units: number) => number, slack: number): StructuredPlan<K> | null {
  const unit = budget > 0 ? budget / steps : 1;
  const units = (cost: number) => (cost <= 0 ? 0 : round(cost / unit));
  const width = (budget > 0 ? steps + 1 : 1) + slack;
  let best = new Float64Array(width).fill(0); // min error of the items so far within b units
  const picks: Int32Array[] = [];
  for (const item of items) {
    const next = new Float64Array(width).fill(Infinity);
    const pick = new Int32Array(width).fill(-1);
    item.options.forEach((option, o) => {
      const c = units(option.cost);
      if (c >= width) return;
      for (let b = c; b < width; b++) {
        const e = best[b - c] + option.error;
        if (e < next[b]) {
          next[b] = e;
          pick[b] = o;
        }
      }
    });
    picks.push(pick);
    best = next;
  }
  let b = width - 1;
  if (!Number.isFinite(best[b])) return null;
  const chosen: PlanOption<K>[] = new Array(items.length);
  for (let i = items.length - 1; i >= 0; i--) {
    const o = picks[i][b];
    const option = items[i].options[o];
    chosen[i] = option;
    b -= units(option.cost);
  }
  return { chosen, error: chosen.reduce((s, o) => s + o.error, 0), cost: chosen.reduce((s, o) => s + o.cost, 0) };
}

/** Kept-neuron counts a block may choose: multiples of `multiple` from `multiple` up, and the full width. */
export function neuronOptions(neurons: number, multiple: number): number[] {
  const m = Math.max(1, Math.min(multiple, neurons));
  const counts: number[] = [];
  for (let k = m; k < neurons; k += m) counts.push(k);
  counts.push(neurons);
  return counts;
}

/** The default neuronMultiple: 8 when the MLP width is a multiple of 8 (tiled kernels and later N:M stages like it), else 1. */
export const defaultNeuronMultiple = (neurons: number) => (neurons % 8 === 0 && neurons >= 16 ? 8 : 1);
