// TAMP's attention-guided token selection, AMIA (G-JWLee/TAMP llava/pruners/wanda_pruner.py,
// AdaptiveMultimodalInputActivation.add_batch): Wanda's ‖X_j‖ is computed over a representative
// subset of tokens instead of all of them.
//   1. The attention each token receives from the last query, averaged over heads, is its score.
//   2. A kNN graph (k = 3) over the layer's normalised output tokens, distance 1 − cos, smooths
//      it: g_i = a_i + Σ_{j ∈ kNN(i)} exp(−d_ij)·a_j.
//   3. Greedy: take argmax g, lower its neighbours by exp(−0.2·d)·max(g_sel, 0), push every
//      selected token below the minimum, and stop once the MMD² (Gaussian kernel, σ = 1) between
//      the selected and all tokens is below 0.1·sqrt(1 − density).
// The brief's "attention top-k" is this greedy argmax; there is no fixed k. Lab changes: the
// loop also stops when every token is selected (the reference would spin forever when
// density >= 1), and single-modality models use the single-modality density.
import { PruneError, type Matrix } from '../types.ts';
import { assertFinite, assertLength, assertMatrix } from '../validate.ts';
import { cosineSimilarities, meanCrossSimilarity, meanPositiveSimilarity, normalisedRows } from './similarity.ts';

export const AMIA_NEIGHBOURS = 3;

export interface TokenSelection {
  /** Token indices in the order they were selected. */
  selected: number[];
  /** Mean positive cosine similarity of the outputs (mean of c_v, c_l, c_vl with two modalities). */
  density: number;
  /** The stopping threshold 0.1·sqrt(1 − density). */
  threshold: number;
  /** MMD² after each selection. */
  mmd2: number[];
}

/**
 * (T) the attention each key receives from the last query, averaged over heads
 * (`attn_weights.mean(dim=1)[-1, :]`). probabilities: (heads, T, T) post-softmax, row-major.
 */
export function lastQueryAttention(probabilities: Float32Array, heads: number, tokens: number): Float64Array {
  assertLength(probabilities, heads * tokens * tokens, 'AMIA: attention probabilities (heads x T x T)');
  const received = new Float64Array(tokens);
  for (let h = 0; h < heads; h++) {
    const row = (h * tokens + tokens - 1) * tokens;
    for (let j = 0; j < tokens; j++) received[j] += probabilities[row + j] / heads;
  }
  return received;
}

function outputDensity(similarity: Float64Array, tokens: number, visionTokens?: Uint8Array): number {
  const all = Array.from({ length: tokens }, (_, i) => i);
  if (!visionTokens) return meanPositiveSimilarity(similarity, tokens, all);
  const vision = all.filter((i) => visionTokens[i] === 1);
  const language = all.filter((i) => visionTokens[i] !== 1);
  const parts = [
    meanPositiveSimilarity(similarity, tokens, vision),
    meanPositiveSimilarity(similarity, tokens, language),
    meanCrossSimilarity(similarity, tokens, vision, language),
  ];
  return (parts[0] + parts[1] + parts[2]) / 3;
}

/** Per token, its k nearest by distance (ascending, ties to the lower index), dropping the first. */
function nearestNeighbours(distance: Float64Array, tokens: number, k: number): Int32Array[] {
  return Array.from({ length: tokens }, (_, i) => {
    const order = Array.from({ length: tokens }, (_, j) => j);
    order.sort((a, b) => distance[i * tokens + a] - distance[i * tokens + b] || a - b);
    return Int32Array.from(order.slice(1, k + 1));
  });
}

/** outputs: (T, C_out) the layer's outputs; attention: (T) the score of each token. */
export function selectRepresentativeTokens(outputs: Matrix, attention: ArrayLike<number>, visionTokens?: Uint8Array): TokenSelection {
  assertMatrix(outputs, 'AMIA: outputs');
  const tokens = outputs.rows;
  assertLength(attention, tokens, 'AMIA: attention (one score per token)');
  assertFinite(attention, 'AMIA: attention');
  if (visionTokens && visionTokens.length !== tokens) throw new PruneError(`AMIA: visionTokens has ${visionTokens.length} entries for ${tokens} tokens`);
  const unit = normalisedRows(outputs, 'AMIA: outputs');
  const similarity = cosineSimilarities(unit, tokens, outputs.cols);
  const distance = similarity.map((s) => 1 - s);
  const density = outputDensity(similarity, tokens, visionTokens);
  const threshold = Math.sqrt(Math.max(1 - density, 0)) * 0.1;
  const neighbours = nearestNeighbours(distance, tokens, Math.min(AMIA_NEIGHBOURS, tokens - 1));
  const graphScore = Float64Array.from({ length: tokens }, (_, i) =>
    neighbours[i].reduce((sum, j) => sum + Math.exp(-distance[i * tokens + j]) * attention[j], attention[i]),
  );
  const kernel = gaussianKernel(unit, tokens, outputs.cols);
  return { ...greedySelection(graphScore, neighbours, distance, kernel, tokens, threshold), density, threshold };
}

/** K_ij = exp(−‖x_i − x_j‖² / 2), with the norms expanded as gaussian_rbf does. */
function gaussianKernel(unit: Float64Array, tokens: number, cols: number): Float64Array {
  const squaredNorm = Float64Array.from({ length: tokens }, (_, i) => {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += unit[i * cols + c] ** 2;
    return sum;
  });
  const gram = cosineSimilarities(unit, tokens, cols);
  return gram.map((dot, index) => {
    const i = Math.floor(index / tokens);
    const j = index % tokens;
    return Math.exp(-(squaredNorm[i] + squaredNorm[j] - 2 * dot) / 2);
  });
}

function greedySelection(
  graphScore: Float64Array,
  neighbours: Int32Array[],
  distance: Float64Array,
  kernel: Float64Array,
  tokens: number,
  threshold: number,
): Pick<TokenSelection, 'selected' | 'mmd2'> {
  const columnSum = new Float64Array(tokens);
  let kernelSum = 0;
  kernel.forEach((k, index) => {
    columnSum[index % tokens] += k;
    kernelSum += k;
  });
  const kernelMean = kernelSum / (tokens * tokens);
  const selected: number[] = [];
  const chosen = new Set<number>();
  const mmd2: number[] = [];
  let crossSum = 0;
  let selectedPairSum = 0;
  while (chosen.size < tokens) {
    const pick = argmax(graphScore);
    const pushDown = Math.max(graphScore[pick], 0);
    for (const j of neighbours[pick]) graphScore[j] -= Math.exp(-distance[pick * tokens + j] * 0.2) * pushDown;
    if (!chosen.has(pick)) {
      for (const j of chosen) selectedPairSum += 2 * kernel[pick * tokens + j];
      selectedPairSum += kernel[pick * tokens + pick];
      crossSum += columnSum[pick];
      chosen.add(pick);
      selected.push(pick);
    }
    const floor = Math.min(...graphScore) - 1;
    for (const j of chosen) graphScore[j] = floor;
    const size = chosen.size;
    const value = kernelMean + selectedPairSum / (size * size) - (2 * crossSum) / (tokens * size);
    mmd2.push(value);
    if (value < threshold) break;
  }
  return { selected, mmd2 };
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** (C_in) Σ over the selected tokens of x², Wanda's statistic restricted to them. inputs: (T, C_in). */
export function sqNormOverTokens(inputs: Matrix, selected: readonly number[]): Float64Array {
  assertMatrix(inputs, 'AMIA: inputs');
  const sqNorm = new Float64Array(inputs.cols);
  for (const t of selected) {
    if (!Number.isInteger(t) || t < 0 || t >= inputs.rows) throw new PruneError(`AMIA: token ${t} is outside 0..${inputs.rows - 1}`);
    for (let j = 0; j < inputs.cols; j++) sqNorm[j] += inputs.data[t * inputs.cols + j] ** 2;
  }
  assertFinite(sqNorm, 'AMIA: sqNorm');
  return sqNorm;
}
