// Mixed precision: per-layer bit widths from measured layer sensitivity under a target average of
// code bits per weight. The sensitivity of layer l at width b is its output error on the
// calibration set when it alone is quantized at b, err_l(b) = tr((W − Ŵ_b) H (W − Ŵ_b)ᵀ) with
// H = 2/n·XXᵀ (the measure ALGORITHMS.md's sensitivity allocation uses, on the layer's own H, so no
// extra forward pass); the allocation minimises Σ_l err_l(b_l) subject to
// Σ_l b_l·numel_l ≤ target·Σ_l numel_l — a multiple-choice knapsack, solved exactly by dynamic
// programming over the budget. See docs/quantization.md, "Mixed precision".
import { quadraticTraces } from '../linalg/gemm.ts';
import type { Matrix } from './types.ts';

/**
 * Default candidate widths: 3 bits for the layers that barely feel it, 4 and 8 (MatMulNBits packs
 * both) for the rest. 2 bits is left out: the sum of per-layer output errors the allocation
 * minimises does not see how a 2-bit layer's error grows through the later blocks — on the bundled
 * LM, allowing it at 4.0 average bits gave 2 layers at 2 bits and perplexity 3.528 (worse than
 * uniform 4-bit's 3.512); without it, 3.499 (docs/quantization.md). 5–7 bits are left out too: no
 * runtime packs them, so they cost a float in the file for less accuracy than 8.
 */
export const DEFAULT_MIXED_CANDIDATES: readonly number[] = [3, 4, 8];

/** Above this many budget units the DP rounds every cost up to a coarser unit (never over the target). */
export const MAX_BUDGET_UNITS = 200_000;

/** tr((W − Ŵ) H (W − Ŵ)ᵀ): the summed squared output error over the calibration tokens, times 2/n. */
export function outputError(weight: Matrix, compressed: Matrix, hessian: ArrayLike<number>): number {
  if (compressed.rows !== weight.rows || compressed.cols !== weight.cols) throw new Error(`output error: Ŵ is ${compressed.rows} x ${compressed.cols}, W is ${weight.rows} x ${weight.cols}`);
  if (hessian.length !== weight.cols * weight.cols) throw new Error(`output error: H has ${hessian.length} entries, expected C_in² = ${weight.cols * weight.cols}`);
  const delta = new Float32Array(weight.data.length);
  for (let i = 0; i < delta.length; i++) delta[i] = weight.data[i] - compressed.data[i];
  return Math.max(0, quadraticTraces([delta], weight.rows, weight.cols, hessian)[0]);
}

/** err(b) for every candidate width b: the layer quantized alone at b (`quantizeAt` returns Ŵ). */
export function layerSensitivity(weight: Matrix, hessian: ArrayLike<number>, candidates: readonly number[], quantizeAt: (bits: number) => Matrix): number[] {
  return candidates.map((bits) => outputError(weight, quantizeAt(bits), hessian));
}

export interface MixedLayerCost {
  /** Weights of the layer (C_out · C_in). */
  numel: number;
  /** err(b) per candidate, in the candidates' order. */
  errors: readonly number[];
  /** A width the user set: the layer takes it and spends its bits; errors may then be empty. */
  fixedBits?: number;
}

export interface BitAllocation {
  /** Width per layer, in the layers' order. */
  widths: number[];
  /** Σ err_l(b_l) over the allocated (not fixed) layers. */
  error: number;
  /** Σ b_l·numel_l / Σ numel_l over all layers, fixed ones included. */
  averageBits: number;
  /** False when the budget had to be rounded to a coarser unit (still never over the target). */
  exact: boolean;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The widths minimising the summed sensitivity with the average code bits per weight ≤ targetBits.
 * Exact multiple-choice knapsack DP: costs are the bits above the smallest candidate, in units of
 * the gcd of every layer's numel times the gcd of the width steps, so for the lab's layers the DP
 * has a few thousand states per layer; ties go to the narrower width. Throws when even the
 * narrowest candidates (with the fixed layers) exceed the target.
 */
export function allocateBits(layers: readonly MixedLayerCost[], candidates: readonly number[], targetBits: number): BitAllocation {
  const widths = [...new Set(candidates)].sort((a, b) => a - b);
  if (widths.length === 0) throw new Error('mixed precision: no candidate widths');
  if (!Number.isFinite(targetBits)) throw new Error(`mixed precision: target ${targetBits} is not a number`);
  const order = candidates.map((b) => widths.indexOf(b));
  const free = layers.flatMap((layer, l) => (layer.fixedBits === undefined ? [l] : []));
  const totalNumel = layers.reduce((sum, l) => sum + l.numel, 0);
  const fixedBits = layers.reduce((sum, l) => sum + (l.fixedBits ?? 0) * l.numel, 0);
  const minBits = widths[0];
  const freeNumel = free.reduce((sum, l) => sum + layers[l].numel, 0);
  const spare = targetBits * totalNumel - fixedBits - minBits * freeNumel;
  if (spare < -1e-9 * totalNumel) {
    const floor = (fixedBits + minBits * freeNumel) / totalNumel;
    throw new Error(`mixed precision: target ${targetBits} bits per weight is below the least possible average ${floor.toFixed(3)} (every free layer at ${minBits} bits${free.length < layers.length ? ', the set layers at their widths' : ''})`);
  }
  // err per layer per sorted width.
  const errors = free.map((l) => {
    // A width listed twice counts at its smaller error.
    const row = new Array<number>(widths.length).fill(Infinity);
    candidates.forEach((_, k) => (row[order[k]] = Math.min(row[order[k]], layers[l].errors[k] ?? NaN)));
    row.forEach((e, k) => {
      if (!(e >= 0) || !Number.isFinite(e)) throw new Error(`mixed precision: layer ${l} has no finite error at ${widths[k]} bits (got ${e})`);
    });
    return row;
  });
  // Costs in integer units of `unit` bits.
  const stepGcd = widths.slice(1).reduce((g, b) => gcd(g, b - minBits), 0) || 1;
  let unit = free.reduce((g, l) => gcd(g, layers[l].numel), 0) * stepGcd || 1;
  const maxUnits = free.reduce((sum, l) => sum + ((widths[widths.length - 1] - minBits) * layers[l].numel) / unit, 0);
  let capacity = Math.min(Math.floor(spare / unit + 1e-9), maxUnits);
  let exact = true;
  if (capacity > MAX_BUDGET_UNITS) {
    // Rounding each cost up and the budget down keeps the result under the target.
    const scale = Math.ceil(capacity / MAX_BUDGET_UNITS);
    unit *= scale;
    capacity = Math.floor(spare / unit + 1e-9);
    exact = false;
  }
  capacity = Math.max(0, capacity);
  const cost = free.map((l) => widths.map((b) => Math.ceil(((b - minBits) * layers[l].numel) / unit - 1e-9)));
  // best[c]: the least error of the layers so far spending at most c units.
  let best = new Float64Array(capacity + 1);
  const choice = new Uint8Array(free.length * (capacity + 1));
  for (let i = 0; i < free.length; i++) {
    const next = new Float64Array(capacity + 1).fill(Infinity);
    for (let c = 0; c <= capacity; c++) {
      for (let k = 0; k < widths.length; k++) {
        const w = cost[i][k];
        if (w > c) continue;
        const e = best[c - w] + errors[i][k];
        if (e < next[c]) {
          next[c] = e;
          choice[i * (capacity + 1) + c] = k;
        }
      }
    }
    best = next;
  }
  const out = layers.map((layer) => layer.fixedBits ?? minBits);
  let c = capacity;
  let error = 0;
  for (let i = free.length - 1; i >= 0; i--) {
    const k = choice[i * (capacity + 1) + c];
    out[free[i]] = widths[k];
    error += errors[i][k];
    c -= cost[i][k];
  }
  const averageBits = totalNumel === 0 ? 0 : layers.reduce((sum, layer, l) => sum + out[l] * layer.numel, 0) / totalNumel;
  return { widths: out, error, averageBits, exact };
}
