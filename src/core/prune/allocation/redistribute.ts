// Keeping an allocation's mean on target when per-layer bounds bind. Two ways, matching how each
// method spreads its budget: OWL's allocation is additive (a common shift), Edge-LLM's and TAMP's
// are proportional to a score (water-filling).
import { PruneError } from '../types.ts';

/** Layer sparsities never reach 1: a fully pruned linear layer is not a sparsity, it is a removal. */
export const MAX_LAYER_SPARSITY = 0.99;

export function validateTarget(target: number, method: string, max = MAX_LAYER_SPARSITY): void {
  if (!(target >= 0 && target <= max)) {
    throw new PruneError(`${method}: target sparsity must be in [0, ${max}], got ${target}`);
  }
}

export const plainMean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

const clamp = (value: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, value));

/**
 * The values themselves when they already lie in [lo, hi]; otherwise clamp(v + c, lo, hi) with the
 * one shift c (found by bisection, then a last exact step) that puts the plain mean on target.
 */
export function shiftToMean(values: readonly number[], target: number, lo: number, hi: number): number[] {
  if (values.every((v) => v >= lo && v <= hi)) return [...values];
  const meanAt = (shift: number) => plainMean(values.map((v) => clamp(v + shift, lo, hi)));
  let below = lo - Math.max(...values);
  let above = hi - Math.min(...values);
  for (let step = 0; step < 200 && above - below > 0; step++) {
    const middle = (below + above) / 2;
    if (meanAt(middle) < target) below = middle;
    else above = middle;
  }
  const shifted = values.map((v) => clamp(v + above, lo, hi));
  const free = shifted.filter((v) => v > lo && v < hi).length;
  const correction = free === 0 ? 0 : ((target - plainMean(shifted)) * values.length) / free;
  return shifted.map((v) => (v > lo && v < hi ? clamp(v + correction, lo, hi) : v));
}

export interface Filling {
  values: number[];
  /** Budget no layer could take (every layer with a positive weight is at its cap). */
  unfilled: number;
}

/**
 * Water-filling: x_ℓ = min(cap_ℓ, floor_ℓ + α·w_ℓ) with Σ x_ℓ = total. Layers that reach their cap
 * are fixed and the rest of the budget is shared again in proportion to w among the others
 * (what TAMP's compute_the_sparsity_per_group iterates towards, without its integer rounding).
 */
export function fillProportional(weights: readonly number[], floors: readonly number[], caps: readonly number[], total: number): Filling {
  const values = [...floors];
  let remaining = total - floors.reduce((sum, v) => sum + v, 0);
  if (remaining < -1e-9 * Math.max(1, Math.abs(total))) {
    throw new PruneError(`allocation: the per-layer minimums (${total - remaining}) exceed the budget ${total}`);
  }
  const active = new Set(weights.flatMap((w, i) => (w > 0 && values[i] < caps[i] ? [i] : [])));
  while (remaining > 0 && active.size > 0) {
    let weightSum = 0;
    for (const i of active) weightSum += weights[i];
    const alpha = remaining / weightSum;
    const capped = [...active].filter((i) => values[i] + alpha * weights[i] >= caps[i]);
    if (capped.length === 0) {
      for (const i of active) values[i] += alpha * weights[i];
      remaining = 0;
      break;
    }
    for (const i of capped) {
      remaining -= caps[i] - values[i];
      values[i] = caps[i];
      active.delete(i);
    }
  }
  return { values, unfilled: Math.max(remaining, 0) };
}

/** fillProportional, and what is left shared evenly (weight 1) among layers still below their cap. */
export function fillProportionalThenEvenly(weights: readonly number[], floors: readonly number[], caps: readonly number[], total: number): number[] {
  const first = fillProportional(weights, floors, caps, total);
  if (first.unfilled <= 1e-12 * Math.max(1, Math.abs(total))) return first.values;
  const filled = first.values.reduce((sum, v) => sum + v, 0);
  return fillProportional(weights.map(() => 1), first.values, caps, filled + first.unfilled).values;
}
