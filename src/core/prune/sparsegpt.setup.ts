// SparseGPT's host-side steps (IST-DASLab/sparsegpt, SparseGPT.fasterprune), shared by the CPU
// reference (sparsegpt.ts) and the WebGPU prune job (compress/gpuJobs.ts), so that both make
// the same float operations in the same order and their results stay bit-identical.
import { PruneError, type Matrix } from './types.ts';
import { patternGroupColumns, type SparsityPattern } from './patterns.ts';
import { hessianInverseCholesky } from './hessianInverse.ts';
import { expandGroupMask, groupScores } from './blocks.ts';

export function validateSparseGptOptions(pattern: SparsityPattern, blockSize: number, percDamp: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new PruneError(`SparseGPT: blockSize must be a positive integer, got ${blockSize}`);
  }
  if (!(percDamp >= 0) || !Number.isFinite(percDamp)) {
    throw new PruneError(`SparseGPT: percDamp must be a finite number >= 0, got ${percDamp}`);
  }
  if (pattern.kind !== 'unstructured' && blockSize % patternGroupColumns(pattern) !== 0) {
    const what = pattern.kind === 'block' ? `the ${patternGroupColumns(pattern)} columns of a ${pattern.rows}×${pattern.cols} group` : `M = ${pattern.m}`;
    throw new PruneError(`SparseGPT: ${what} must divide blockSize = ${blockSize} so that groups do not straddle blocks`);
  }
}

/**
 * fasterprune's opening on copies of W and H: dead inputs (`dead = diag(H) == 0; H[dead, dead] = 1;
 * W[:, dead] = 0`), damping H += λ I with λ = percdamp · mean(diag H) (after the dead inputs were
 * set to 1), and U = upper Cholesky of H⁻¹, factorised in float64 and rounded to float32.
 */
export function sparseGptOpening(weight: Matrix, hessian: Float64Array, percDamp: number): { weights: Float32Array; hinvUpper: Float32Array } {
  const weights = Float32Array.from(weight.data);
  const h = Float64Array.from(hessian);
  zeroDeadInputs(weights, h, weight.rows, weight.cols);
  return { weights, hinvUpper: dampedInverseCholesky(h, weight.cols, percDamp) };
}

/** In place: `dead = diag(H) == 0; H[dead, dead] = 1; W[:, dead] = 0` (fasterprune and fasterquant). */
export function zeroDeadInputs(weights: Float32Array, h: Float64Array, rows: number, cols: number): void {
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] !== 0) continue;
    h[j * cols + j] = 1;
    for (let r = 0; r < rows; r++) weights[r * cols + j] = 0;
  }
}

/**
 * `H += percdamp · mean(diag H) · I` (in place, float64), then U = upper Cholesky factor of H⁻¹,
 * factorised in float64 and rounded to float32 (fasterprune and fasterquant).
 */
export function dampedInverseCholesky(h: Float64Array, cols: number, percDamp: number): Float32Array {
  let trace = 0;
  for (let j = 0; j < cols; j++) trace += h[j * cols + j];
  const damp = (percDamp * trace) / cols;
  for (let j = 0; j < cols; j++) h[j * cols + j] += damp;
  return Float32Array.from(hessianInverseCholesky(h, cols));
}

/** `rows` rows of current weights: row r's i-th column of the span is data[r * stride + offset + i]. */
export interface WeightSpan {
  data: Float32Array;
  stride: number;
  offset: number;
}

/**
 * OBS saliency W² / U_jj² of the span's weights, which are columns [c0, c0 + width) of the layer
 * (U is cols × cols), as (rows, width) float32 like torch.
 */
export function obsScores(span: WeightSpan, rows: number, hinvUpper: Float32Array, cols: number, c0: number, width: number): Float32Array {
  const { data, stride, offset } = span;
  const scores = new Float32Array(rows * width);
  for (let i = 0; i < width; i++) {
    const d = hinvUpper[(c0 + i) * cols + c0 + i];
    const dSquared = Math.fround(d * d);
    for (let r = 0; r < rows; r++) {
      const w = data[r * stride + offset + i];
      scores[r * width + i] = Math.fround(w * w) / dSquared;
    }
  }
  return scores;
}

/**
 * Unstructured: one threshold over the whole block's scores (all rows x B columns),
 * `thresh = sort(tmp.flatten())[int(numel * s)]; mask = tmp <= thresh`, ties included, so
 * ⌊numel·s⌋ + 1 weights (more with ties) are pruned per block, as in the reference.
 * Returns the keep mask (1 = kept) in the scores' layout.
 */
export function blockThresholdKeep(scores: Float32Array, sparsity: number): Uint8Array {
  const sorted = Float32Array.from(scores).sort();
  const threshold = sorted[Math.min(Math.floor(scores.length * sparsity), scores.length - 1)];
  return Uint8Array.from(scores, (score) => (score <= threshold ? 0 : 1));
}

/**
 * Block groups (1×4 / 4×1) inside one SparseGPT block: each group's score is the float64 sum of
 * its weights' OBS scores (rows × width, float32), and the block's groups are cut by the
 * reference's unstructured rule at group level, `thresh = sort(groups)[int(count·s)]; prune
 * groups <= thresh` (ties pruned too). Returns the weight-level keep mask in the scores' layout.
 */
export function blockGroupKeep(scores: Float32Array, rows: number, width: number, pattern: Extract<SparsityPattern, { kind: 'block' }>): Uint8Array {
  const groups = groupScores({ rows, cols: width, data: scores }, pattern);
  const sums = groups.data as Float64Array;
  const sorted = Float64Array.from(sums).sort();
  const threshold = sorted[Math.min(Math.floor(sums.length * pattern.sparsity), sums.length - 1)];
  const keep = { rows: groups.rows, cols: groups.cols, data: Uint8Array.from(sums, (sum) => (sum <= threshold ? 0 : 1)) };
  return expandGroupMask(keep, pattern).data;
}
