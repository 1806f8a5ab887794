// CFSP's coarse-to-fine structured pruning of MLP neurons (Wang et al., "CFSP: An Efficient
// Structured Pruning Framework for LLMs with Coarse-to-Fine Activation Information", COLING 2025;
// wyxscir/CFSP lib/prune.py `prune_cfsp`). The reference prunes MLP neurons only (its `compress`
// slices up/gate rows and down columns; attention is untouched), and so does the lab.
//
// Coarse: a block's importance is the angle between its input and output hidden states summed over
// the calibration tokens (lib/block_metrics.py `block_influence`, metrics 'angular':
// arccos(cos(x_in, x_out)) / π). The importances become keep fractions (`every_pruning_ratios`,
// which despite the name is the fraction *kept*): centred on their mean, divided by 1e4, squashed by
// sigmoid(a·x); if the largest would keep more than everything (max/avg·(1−ratio) ≥ 1) the
// deviations are scaled down by (avg·(1/(1−ratio) − 1)) / (max − avg) / 1.05; keep_i = s_i/avg·(1−ratio).
// Fine: each neuron's score (local_metrics 'three_w_one_wa', the reference default, b = c = 1):
//   A_j = sqrt(scaler_row_j)   (scaler_row = mean over samples of Σ_tokens x_j², WrappedGPT.add_batch)
//   M = |W_down|·A^b / colsum + |W_upᵀ| / colsum + |W_gateᵀ| / colsum,  score_j = mean_rows(M_{:,j}) · A_j^c
// Every term is normalised over its column before the mean over rows, so each contributes exactly
// 1/d per neuron: the reference's score ranks neurons by activation norm alone. The lab computes
// it as written (and the fixture checks it), and says so in docs/structured.md.
// A block keeps the neurons whose score is ≥ the score at index ⌊N·keep⌋ of the descending order
// (⌊N·keep⌋ + 1 neurons), or with cuda_friendly a multiple of 128 (here: of neuronMultiple).
import type { Matrix } from '../prune/types.ts';

/** Σ over tokens of arccos(cos(x_in, x_out)) / π for (tokens × dim) hidden states; a zero-norm token counts cos = 0.5 as nan_to_num(0.5) does. */
export function angularInfluence(input: ArrayLike<number>, output: ArrayLike<number>, dim: number): number {
  const tokens = input.length / dim;
  let total = 0;
  for (let t = 0; t < tokens; t++) {
    let dot = 0;
    let ni = 0;
    let no = 0;
    for (let k = 0; k < dim; k++) {
      const a = input[t * dim + k];
      const b = output[t * dim + k];
      dot += a * b;
      ni += a * a;
      no += b * b;
    }
    const denominator = Math.sqrt(ni) * Math.sqrt(no);
    // Clamped: float rounding can put a cosine a hair outside [−1, 1], where arccos is NaN.
    const cos = denominator === 0 ? 0.5 : Math.min(1, Math.max(-1, dot / denominator));
    total += Math.acos(cos) / Math.PI;
  }
  return total;
}

export interface CfspRatioOptions {
  /** The reference's `a` (global control), default 1. */
  a?: number;
  /** The divisor of the centred importances; the reference's 1e4 (for 128 samples × 2048 tokens). */
  scale?: number;
}

/** prune_cfsp's keep fraction per block for a global pruning ratio (fraction of neurons removed). */
export function cfspKeepFractions(importances: readonly number[], ratio: number, options: CfspRatioOptions = {}): { keep: number[]; rescaled: boolean } {
  const a = options.a ?? 1;
  const scale = options.scale ?? 1e4;
  const mid = importances.reduce((s, x) => s + x, 0) / importances.length;
  let s = importances.map((x) => 1 / (1 + Math.exp(-((x - mid) / scale) * a)));
  let avg = s.reduce((t, x) => t + x, 0) / s.length;
  const max = Math.max(...s);
  let rescaled = false;
  if ((max / avg) * (1 - ratio) >= 1) {
    rescaled = true;
    const factor = (avg * (1 / (1 - ratio) - 1)) / (max - avg) / 1.05;
    s = s.map((x) => (x > avg ? avg + (x - avg) * factor : avg - (avg - x) * factor));
    avg = s.reduce((t, x) => t + x, 0) / s.length;
  }
  return { keep: s.map((x) => (x / avg) * (1 - ratio)), rescaled };
}

export interface CfspMlp {
  /** W of the down projection (d × N), the up projection (N × d) and the gate (N × d) or null. */
  down: Matrix;
  up: Matrix;
  gate: Matrix | null;
  /** WrappedGPT's scaler_row of the down projection's input: mean over samples of Σ_tokens x_j². */
  scalerRow: ArrayLike<number>;
}

/** 'three_w_one_wa' scores (b = c = 1) of the N neurons. */
export function cfspNeuronScores(mlp: CfspMlp, b = 1, c = 1): Float64Array {
  const { down, up, gate } = mlp;
  const n = down.cols;
  const d = down.rows;
  const act = Float64Array.from(mlp.scalerRow, (v) => Math.sqrt(v));
  const scores = new Float64Array(n);
  // A column of |W_down|·A^b: every row scaled by the same A_j^b, then normalised by its sum.
  const term = (value: (r: number, j: number) => number, j: number) => {
    let sum = 0;
    for (let r = 0; r < d; r++) sum += Math.abs(value(r, j));
    let mean = 0;
    for (let r = 0; r < d; r++) mean += Math.abs(value(r, j)) / sum;
    return mean / d;
  };
  for (let j = 0; j < n; j++) {
    const aj = act[j] ** b;
    let m = term((r, k) => down.data[r * n + k] * aj, j);
    m += term((r, k) => up.data[k * d + r], j);
    if (gate) m += term((r, k) => gate.data[k * d + r], j);
    scores[j] = m * act[j] ** c;
  }
  return scores;
}

/**
 * How many neurons a block keeps for keep fraction `keep`: the reference's ⌊N·keep⌋ + 1 (its
 * threshold index), or with `multiple` > 1 its cuda_friendly rounding to the nearest multiple
 * (⌊(N·keep + m/2) / m⌋·m); always within [max(1, multiple), N].
 */
export function cfspKeptCount(neurons: number, keep: number, multiple = 1): number {
  const raw = multiple > 1 ? Math.floor((neurons * keep + multiple / 2) / multiple) * multiple : Math.floor(neurons * keep) + 1;
  return Math.max(Math.min(multiple, neurons), Math.min(neurons, raw));
}

/** The `count` highest-scoring neurons, ascending (ties broken by index, so exactly `count`). */
export function topNeurons(scores: ArrayLike<number>, count: number): number[] {
  const order = Array.from({ length: scores.length }, (_, j) => j).sort((x, y) => scores[y] - scores[x] || x - y);
  return order.slice(0, count).sort((x, y) => x - y);
}
