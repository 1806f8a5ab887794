// TAMP's diversity-aware layer sparsity (Lee et al. 2025, G-JWLee/TAMP
// llava/pruners/layer_single_base_pruner.py): per linear, c = the mean positive cosine similarity
// of its (L2-normalised) output tokens, diversity s = Σ(1 − c) over the modalities; layers with
// more diverse outputs keep more weights. Budgets are parameter counts, so the mean that equals
// the target is the parameter-weighted one.
import { PruneError, type Matrix } from '../types.ts';
import { cosineSimilarities, meanCrossSimilarity, meanPositiveSimilarity, normalisedRows } from './similarity.ts';
import { fillProportionalThenEvenly, MAX_LAYER_SPARSITY, validateTarget } from './redistribute.ts';

/** TAMP's max_sparsity_per_layer = S + 0.1 (scripts/prune/tamp.sh). */
export const TAMP_MAX_SPARSITY_MARGIN = 0.1;

export interface OutputSample {
  /** (tokens, C_out) the layer's outputs for one calibration sequence. */
  outputs: Matrix;
  /** (tokens) 1 for vision tokens; absent for a single-modality model. */
  visionTokens?: Uint8Array;
}

function indicesWhere(mask: Uint8Array, value: number): number[] {
  const out: number[] = [];
  mask.forEach((m, i) => (m === value ? out.push(i) : undefined));
  return out;
}

/**
 * One sample's diversity. Single modality: 1 − c (cos_pairwise_total_density). Two modalities:
 * (1 − c_v) + (1 − c_l) + (1 − c_vl) (cos_pairwise_density; c_vl averages all cross pairs,
 * negative ones included).
 */
export function outputDiversity(sample: OutputSample): number {
  const { rows, cols } = sample.outputs;
  const similarity = cosineSimilarities(normalisedRows(sample.outputs, 'TAMP diversity: outputs'), rows, cols);
  if (!sample.visionTokens) {
    const all = Array.from({ length: rows }, (_, i) => i);
    return 1 - meanPositiveSimilarity(similarity, rows, all);
  }
  if (sample.visionTokens.length !== rows) {
    throw new PruneError(`TAMP diversity: visionTokens has ${sample.visionTokens.length} entries for ${rows} tokens`);
  }
  const vision = indicesWhere(sample.visionTokens, 1);
  const language = indicesWhere(sample.visionTokens, 0);
  const cV = meanPositiveSimilarity(similarity, rows, vision);
  const cL = meanPositiveSimilarity(similarity, rows, language);
  const cVL = meanCrossSimilarity(similarity, rows, vision, language);
  return 1 - cV + (1 - cL) + (1 - cVL);
}

/** The mean over samples (ActivationDensity's running mean; s is linear in the c's). */
export function meanOutputDiversity(samples: readonly OutputSample[]): number {
  if (samples.length === 0) throw new PruneError('TAMP diversity: no output samples');
  return samples.reduce((sum, sample) => sum + outputDiversity(sample), 0) / samples.length;
}

/**
 * keep_ℓ = min(N_ℓ, N_ℓ(1 − maxS) + α·s_ℓ) with Σ keep = ΣN·(1 − S), maxS = S + 0.1 (capped at
 * 0.99): every layer keeps at least 1 − maxS of its weights and the rest of the budget goes in
 * proportion to diversity, re-shared when a layer is full. The reference reaches the same point
 * in integer steps with ceil (and keeps a few parameters too many); this is the exact
 * real-valued fill, so Σ N_ℓ·s_ℓ / ΣN = S.
 */
export function tampAllocation(
  diversity: readonly number[],
  paramCounts: readonly number[],
  target: number,
  margin = TAMP_MAX_SPARSITY_MARGIN,
): number[] {
  validateTarget(target, 'TAMP allocation');
  if (diversity.length !== paramCounts.length) {
    throw new PruneError(`TAMP allocation: ${diversity.length} diversities for ${paramCounts.length} layers`);
  }
  diversity.forEach((s, i) => {
    if (!(s >= 0) || !Number.isFinite(s)) throw new PruneError(`TAMP allocation: diversity[${i}] = ${s} must be finite and >= 0`);
    if (!(paramCounts[i] > 0)) throw new PruneError(`TAMP allocation: paramCounts[${i}] = ${paramCounts[i]} must be > 0`);
  });
  const maxSparsity = Math.min(target + margin, MAX_LAYER_SPARSITY);
  const total = paramCounts.reduce((sum, n) => sum + n, 0) * (1 - target);
  const floors = paramCounts.map((n) => n * (1 - maxSparsity));
  const weights = diversity.some((s) => s > 0) ? diversity : paramCounts;
  const keep = fillProportionalThenEvenly(weights, floors, paramCounts, total);
  return keep.map((k, i) => Math.min(Math.max(1 - k / paramCounts[i], 0), maxSparsity));
}
