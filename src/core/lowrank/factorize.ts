// Low-rank factorisation of one linear layer, W (C_out × C_in) ≈ L R with L (C_out × r) and
// R (r × C_in), in the three forms the lab offers (docs/lowrank.md):
//   svd      plain truncated SVD of W (LoRD's baseline; Kaushal et al. 2023)
//   asvd     ASVD (Yuan et al. 2023, hahnyuan/ASVD4LLM): columns scaled by S = diag(mean|x_j|^α + 1e-6),
//            W S = U Σ Vᵀ, W ≈ U_r Σ_r (V_rᵀ S⁻¹)
//   svd-llm  SVD-LLM (Wang et al. 2024, AIoT-MLSys-lab/SVD-LLM): truncation-aware whitening, X Xᵀ = S Sᵀ
//            (Cholesky, lower S), W S = U Σ Vᵀ, W ≈ U_r Σ_r (V_rᵀ S⁻¹)
// In every form √Σ_r goes to both factors, as both references split it (svd_u = U_r √Σ_r,
// svd_v = √Σ_r V_rᵀ S⁻¹). All arithmetic is float64.
import { choleskyLowerF64 } from '../linalg/cholesky.ts';
import { thinSvd, type ThinSvd } from '../linalg/svd.ts';
import { symmetricEigen } from '../linalg/symmetricEigen.ts';

export type LowRankMethod = 'svd' | 'asvd' | 'svd-llm';
export const LOW_RANK_METHODS: readonly LowRankMethod[] = ['svd', 'asvd', 'svd-llm'];

/** The S of W S = U Σ Vᵀ. */
export type InputScaling =
  | { kind: 'identity' }
  /** ASVD: S = diag(scale). */
  | { kind: 'diagonal'; scale: Float64Array }
  /** SVD-LLM: S lower triangular (C_in × C_in, row-major) with S Sᵀ = X Xᵀ (damped when needed). */
  | { kind: 'whitening'; lower: Float64Array };

/** ASVD's S from each input channel's mean |x_j| (reference: scaling_diag_matrix ** alpha, then += 1e-6). */
export function asvdScaling(absMean: ArrayLike<number>, alpha: number): InputScaling {
  return { kind: 'diagonal', scale: Float64Array.from(absMean, (v) => Math.pow(v, alpha) + 1e-6) };
}

export interface Whitening {
  scaling: InputScaling & { kind: 'whitening' };
  /** The shift added to the diagonal when X Xᵀ was not positive definite, else null. */
  damping: number | null;
}

/**
 * SVD-LLM's whitening from the (C_in × C_in) Gram matrix X Xᵀ: its Cholesky factor; where the
 * factorisation fails (dead input channels make X Xᵀ singular), the reference shifts the diagonal
 * by (−λ_min + 1e-6) and factors again (SVDLLM.py, profle_svdllm: `eigenvalues =
 * torch.linalg.eigvalsh(raw_scaling_diag_matrix); raw_scaling_diag_matrix += (- eigenvalues[0] +
 * 1e-6) * torch.eye(...)`).
 */
export function svdLlmWhitening(gram: Float64Array, n: number): Whitening {
  const first = choleskyLowerF64(gram, n);
  if (first.ok) return { scaling: { kind: 'whitening', lower: first.lower }, damping: null };
  const smallest = symmetricEigen(gram, n).values[0];
  const damping = -smallest + 1e-6;
  const damped = Float64Array.from(gram);
  for (let i = 0; i < n; i++) damped[i * n + i] += damping;
  const second = choleskyLowerF64(damped, n);
  if (!second.ok) throw new Error(`SVD-LLM whitening: X Xᵀ is not positive definite even after damping by ${damping} (pivot ${second.pivot})`);
  return { scaling: { kind: 'whitening', lower: second.lower }, damping };
}

/** W's scaled spectrum: the SVD of W S. */
export interface LayerSpectrum {
  cOut: number;
  cIn: number;
  scaling: InputScaling;
  svd: ThinSvd;
}

/** W S for the row-major (C_out × C_in) `weight`. */
function scaledWeight(weight: ArrayLike<number>, cOut: number, cIn: number, scaling: InputScaling): Float64Array {
  const out = Float64Array.from({ length: cOut * cIn }, (_, i) => weight[i]);
  if (scaling.kind === 'diagonal') {
    for (let i = 0; i < cOut; i++) for (let j = 0; j < cIn; j++) out[i * cIn + j] *= scaling.scale[j];
  } else if (scaling.kind === 'whitening') {
    const s = scaling.lower;
    const row = new Float64Array(cIn);
    for (let i = 0; i < cOut; i++) {
      row.fill(0);
      // (W S)_ij = Σ_{k ≥ j} W_ik S_kj (S lower).
      for (let k = 0; k < cIn; k++) {
        const w = weight[i * cIn + k];
        if (w === 0) continue;
        for (let j = 0; j <= k; j++) row[j] += w * s[k * cIn + j];
      }
      out.set(row, i * cIn);
    }
  }
  return out;
}

export function layerSpectrum(weight: ArrayLike<number>, cOut: number, cIn: number, scaling: InputScaling): LayerSpectrum {
  return { cOut, cIn, scaling, svd: thinSvd(scaledWeight(weight, cOut, cIn, scaling), cOut, cIn) };
}

/** y S⁻¹ for a row vector y (in place). */
function unscaleRow(y: Float64Array, scaling: InputScaling): void {
  const n = y.length;
  if (scaling.kind === 'diagonal') {
    for (let j = 0; j < n; j++) y[j] /= scaling.scale[j];
  } else if (scaling.kind === 'whitening') {
    // z S = y  ⇔  Sᵀ zᵀ = yᵀ, Sᵀ upper: back substitution.
    const s = scaling.lower;
    for (let j = n - 1; j >= 0; j--) {
      let sum = y[j];
      for (let k = j + 1; k < n; k++) sum -= s[k * n + j] * y[k];
      y[j] = sum / s[j * n + j];
    }
  }
}

/** The rows v_iᵀ S⁻¹ of the first r right singular vectors. */
function unscaledRightVectors(spectrum: LayerSpectrum, r: number): Float64Array {
  const { cIn, svd, scaling } = spectrum;
  const out = new Float64Array(r * cIn);
  for (let t = 0; t < r; t++) {
    const row = svd.vt.slice(t * cIn, (t + 1) * cIn);
    unscaleRow(row, scaling);
    out.set(row, t * cIn);
  }
  return out;
}

export interface LowRankFactors {
  rank: number;
  /** (C_out × r) U_r √Σ_r. */
  left: Float64Array;
  /** (r × C_in) √Σ_r V_rᵀ S⁻¹. */
  right: Float64Array;
}

export function lowRankFactors(spectrum: LayerSpectrum, rank: number): LowRankFactors {
  const { cOut, cIn, svd } = spectrum;
  const r = Math.min(rank, svd.k);
  const left = new Float64Array(cOut * r);
  const right = unscaledRightVectors(spectrum, r);
  for (let t = 0; t < r; t++) {
    const root = Math.sqrt(svd.s[t]);
    for (let i = 0; i < cOut; i++) left[i * r + t] = svd.u[i * svd.k + t] * root;
    for (let j = 0; j < cIn; j++) right[t * cIn + j] *= root;
  }
  return { rank: r, left, right };
}

/** L R (C_out × C_in), row-major. */
export function factorProduct({ rank, left, right }: LowRankFactors, cOut: number, cIn: number): Float64Array {
  const out = new Float64Array(cOut * cIn);
  for (let i = 0; i < cOut; i++) {
    for (let t = 0; t < rank; t++) {
      const l = left[i * rank + t];
      for (let j = 0; j < cIn; j++) out[i * cIn + j] += l * right[t * cIn + j];
    }
  }
  return out;
}

/**
 * Each component's share of the output error on the calibration inputs: truncating to rank r
 * leaves ‖(W − Ŵ_r) X‖²_F = Σ_{i ≥ r} σ_i² · y_i G y_iᵀ with y_i = v_iᵀ S⁻¹ and G = X Xᵀ — the
 * cross terms vanish because the u_i are orthonormal. With SVD-LLM's whitening y_i G y_iᵀ = 1, so
 * the error is Σ σ_i² exactly (the paper's Theorem 3.2); for plain SVD and ASVD it is not.
 */
export function truncationErrors(spectrum: LayerSpectrum, gram: Float64Array): Float64Array {
  const { cIn, svd } = spectrum;
  const rows = unscaledRightVectors(spectrum, svd.k);
  const errors = new Float64Array(svd.k);
  const gy = new Float64Array(cIn);
  for (let t = 0; t < svd.k; t++) {
    const y = rows.subarray(t * cIn, (t + 1) * cIn);
    gy.fill(0);
    for (let a = 0; a < cIn; a++) {
      const ya = y[a];
      if (ya === 0) continue;
      for (let b = 0; b < cIn; b++) gy[b] += ya * gram[a * cIn + b];
    }
    let quad = 0;
    for (let b = 0; b < cIn; b++) quad += gy[b] * y[b];
    errors[t] = svd.s[t] * svd.s[t] * quad;
  }
  return errors;
}

/** ‖W X‖²_F = tr(W G Wᵀ) for the row-major (C_out × C_in) weight. */
export function outputEnergy(weight: ArrayLike<number>, cOut: number, cIn: number, gram: Float64Array): number {
  let total = 0;
  const gw = new Float64Array(cIn);
  for (let i = 0; i < cOut; i++) {
    gw.fill(0);
    for (let a = 0; a < cIn; a++) {
      const w = weight[i * cIn + a];
      if (w === 0) continue;
      for (let b = 0; b < cIn; b++) gw[b] += w * gram[a * cIn + b];
    }
    for (let b = 0; b < cIn; b++) total += gw[b] * weight[i * cIn + b];
  }
  return total;
}
