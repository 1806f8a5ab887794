// BitStack (Wang et al. 2024, "BitStack: Any-Size Compression of Large Language Models in Variable
// Memory Environments"; reference xinghaow99/BitStack, bitstack/modules/BitStackLinear.py and
// bitstack/utils/model_utils.py). docs/lowrank.md#bitstack.
//
// Decomposition (BitStackLinear.decompose_weight): with W the activation-scaled weight, repeat
// `steps` times — sign = sign(W) (0 → +1), |W| ≈ u vᵀ by its top-k singular triplets
// (u = U_k √Σ_k, vᵀ = √Σ_k V_kᵀ), W ← W − sign ⊙ (u vᵀ). The residual uses the full-precision
// u, v; the stored ones are float16 (the reference keeps u, vt as torch.float16), and the
// reconstruction reads the stored ones.
// Each step is one block: C_out·C_in sign bits plus (C_out + C_in)·k float16 values.
//
// Sorting (sort_layers_and_bits_average, generate_configs): every layer keeps at least one block;
// the blocks after that are stacked level by level — all layers' second blocks, then all third
// blocks, … — and within a level ordered by ascending score (the reference's score is the
// perplexity with that one layer raised to the next level; lower is more important).
import { thinSvd } from '../linalg/svd.ts';
import { float16ToFloat32, float32ToFloat16 } from '../onnx/float16.ts';

/** One ~1-bit block of a layer: signs packed 8 per byte (element e at byte e >> 3, bit e & 7), u, vᵀ as float16 values. */
export interface BitStackBlock {
  /** ⌈C_out·C_in / 8⌉ bytes; bit set = +1. Row-major over W (C_out × C_in). */
  signs: Uint8Array;
  /** (C_out × k) U_k √Σ_k, float16-rounded. */
  u: Float32Array;
  /** (k × C_in) √Σ_k V_kᵀ, float16-rounded. */
  vt: Float32Array;
}

/** Bytes a block stores: the sign bits and u, vᵀ in float16. */
export const bitStackBlockBytes = (cOut: number, cIn: number, k: number): number => Math.ceil((cOut * cIn) / 8) + 2 * k * (cOut + cIn);

const roundToFloat16 = (v: number) => float16ToFloat32(float32ToFloat16(v));

const POWER_ITERATIONS = 1000;

function norm(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/**
 * The top singular triplet of the non-negative (m × n) `a` by power iteration: |W| has a dominant
 * Perron singular value (its entries share a sign), so this converges in tens of iterations where a
 * full SVD per step would dominate the run. Started from the all-ones vector, which has a positive
 * component along the (positive) Perron vector.
 */
function topTriplet(a: Float64Array, m: number, n: number): { sigma: number; u: Float64Array; v: Float64Array } {
  let v = new Float64Array(n).fill(1 / Math.sqrt(n));
  const u = new Float64Array(m);
  let sigma = 0;
  for (let iteration = 0; iteration < POWER_ITERATIONS; iteration++) {
    u.fill(0);
    for (let i = 0; i < m; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += a[i * n + j] * v[j];
      u[i] = sum;
    }
    const uNorm = norm(u);
    if (uNorm === 0) return { sigma: 0, u, v };
    for (let i = 0; i < m; i++) u[i] /= uNorm;
    const next = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      const ui = u[i];
      for (let j = 0; j < n; j++) next[j] += a[i * n + j] * ui;
    }
    const nextSigma = norm(next);
    for (let j = 0; j < n; j++) next[j] /= nextSigma;
    let change = 0;
    for (let j = 0; j < n; j++) change = Math.max(change, Math.abs(next[j] - v[j]));
    v = next;
    const settled = Math.abs(nextSigma - sigma) <= 1e-15 * nextSigma && change <= 1e-13;
    sigma = nextSigma;
    if (settled) break;
  }
  return { sigma, u, v };
}

/** The top-k triplets of |W| as u (m × k) = U_k √Σ_k and vᵀ (k × n) = √Σ_k V_kᵀ, full precision. */
function absFactors(abs: Float64Array, m: number, n: number, k: number): { u: Float64Array; vt: Float64Array } {
  if (k === 1) {
    const { sigma, u, v } = topTriplet(abs, m, n);
    const root = Math.sqrt(sigma);
    return { u: u.map((x) => x * root), vt: v.map((x) => x * root) };
  }
  const svd = thinSvd(abs, m, n);
  const r = Math.min(k, svd.k);
  const u = new Float64Array(m * k);
  const vt = new Float64Array(k * n);
  for (let t = 0; t < r; t++) {
    const root = Math.sqrt(svd.s[t]);
    for (let i = 0; i < m; i++) u[i * k + t] = svd.u[i * svd.k + t] * root;
    for (let j = 0; j < n; j++) vt[t * n + j] = svd.vt[t * n + j] * root;
  }
  return { u, vt };
}

/** BitStackLinear.decompose_weight on the row-major (C_out × C_in) activation-scaled weight. */
export function decomposeBitStack(weight: ArrayLike<number>, cOut: number, cIn: number, steps: number, k: number): BitStackBlock[] {
  const residual = Float64Array.from({ length: cOut * cIn }, (_, i) => weight[i]);
  const abs = new Float64Array(cOut * cIn);
  const blocks: BitStackBlock[] = [];
  for (let step = 0; step < steps; step++) {
    const signs = new Uint8Array(Math.ceil((cOut * cIn) / 8));
    for (let e = 0; e < residual.length; e++) {
      if (residual[e] >= 0) signs[e >> 3] |= 1 << (e & 7);
      abs[e] = Math.abs(residual[e]);
    }
    const { u, vt } = absFactors(abs, cOut, cIn, k);
    for (let i = 0; i < cOut; i++) {
      for (let j = 0; j < cIn; j++) {
        let uv = 0;
        for (let t = 0; t < k; t++) uv += u[i * k + t] * vt[t * cIn + j];
        const e = i * cIn + j;
        residual[e] -= residual[e] >= 0 ? uv : -uv;
      }
    }
    blocks.push({ signs, u: Float32Array.from(u, roundToFloat16), vt: Float32Array.from(vt, roundToFloat16) });
  }
  return blocks;
}

/** Σ over the first `count` blocks of sign ⊙ (u vᵀ), as stored (float16 u, vᵀ), row-major (C_out × C_in). */
export function reconstructBitStack(blocks: readonly BitStackBlock[], count: number, cOut: number, cIn: number, k: number): Float64Array {
  const out = new Float64Array(cOut * cIn);
  for (const block of blocks.slice(0, count)) {
    for (let i = 0; i < cOut; i++) {
      for (let j = 0; j < cIn; j++) {
        let uv = 0;
        for (let t = 0; t < k; t++) uv += block.u[i * k + t] * block.vt[t * cIn + j];
        const e = i * cIn + j;
        out[e] += (block.signs[e >> 3] >> (e & 7)) & 1 ? uv : -uv;
      }
    }
  }
  return out;
}

/**
 * The stacking order of the blocks beyond each layer's first (sort_layers_and_bits_average):
 * `scores[level][layer]` scores giving `layer` its (level + 2)-th block while every layer holds
 * level + 1; the result lists layer indices, level by level, each level by ascending score
 * (stable: ties keep layer order, as Python's sorted does).
 */
export function bitStackOrder(scores: readonly (readonly number[])[]): number[] {
  return scores.flatMap((level) =>
    level
      .map((score, layer) => ({ score, layer }))
      .sort((a, b) => a.score - b.score)
      .map(({ layer }) => layer),
  );
}

/**
 * Blocks kept per layer for a memory `budget` in bytes (retrieve_compression_config: the largest
 * prefix of the stack that fits, every layer holding one block at least). null when even one block
 * per layer does not fit.
 */
export function blocksWithinBudget(order: readonly number[], blockBytes: readonly number[], budget: number): number[] | null {
  const kept = blockBytes.map(() => 1);
  let used = blockBytes.reduce((a, b) => a + b, 0);
  if (used > budget) return null;
  for (const layer of order) {
    if (used + blockBytes[layer] > budget) break;
    used += blockBytes[layer];
    kept[layer]++;
  }
  return kept;
}

/** The memory of each prefix of the stack: [one block each, + first of `order`, …] (generate_configs' memory). */
export function stackSizes(order: readonly number[], blockBytes: readonly number[]): number[] {
  const sizes = [blockBytes.reduce((a, b) => a + b, 0)];
  for (const layer of order) sizes.push(sizes[sizes.length - 1] + blockBytes[layer]);
  return sizes;
}
