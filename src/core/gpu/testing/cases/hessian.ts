// The hessian kernel's cases and tolerance, shared by hessian.test.ts (Node) and the browser's
// kernel check page (src/kernelCheck). Seeded: every failure reproduces from its case name.
import { accumulateHessianRef, createHessianStatsRef, type HessianStatsRef } from '../../kernels/hessian/hessian.ref';
import { gammaF32, normalArray } from '../random';

export interface HessianCase {
  name: string;
  channels: number;
  /** Batches of token rows, each (tokens, channels), added in order. */
  batches: Array<{ x: Float32Array; tokens: number }>;
}

function oneBatch(name: string, tokens: number, channels: number, x: Float32Array): HessianCase {
  return { name, channels, batches: [{ x, tokens }] };
}

function withDeadChannels(tokens: number, channels: number, dead: number[], seed: number): Float32Array {
  const x = normalArray(tokens * channels, seed);
  for (let t = 0; t < tokens; t++) for (const j of dead) x[t * channels + j] = 0;
  for (let j = 0; j < channels; j++) x[3 * channels + j] = 0; // token 3 is all zeros too
  return x;
}

function withNonFinite(tokens: number, channels: number, seed: number): Float32Array {
  const x = normalArray(tokens * channels, seed);
  x[2 * channels + 3] = NaN;
  x[4 * channels + 5] = Infinity;
  x[1 * channels + 6] = -Infinity;
  x[0 * channels + 6] = 0; // Inf·0 = NaN inside the Gram entries of channel 6
  return x;
}

export const hessianCases: HessianCase[] = [
  oneBatch('1×1', 1, 1, new Float32Array([-3])),
  oneBatch('ragged: 37 tokens × 200 channels (not a tile multiple)', 37, 200, normalArray(37 * 200, 11)),
  oneBatch('dead channels 0, 17, 69 and an all-zero token, 70 channels', 21, 70, withDeadChannels(21, 70, [0, 17, 69], 12)),
  oneBatch('NaN and ±Inf inputs propagate to their channels', 6, 9, withNonFinite(6, 9, 13)),
  oneBatch('huge offset: 1e4 + N(0, 1), 64 tokens × 96 channels', 64, 96, normalArray(64 * 96, 14, 1, 1e4)),
  {
    name: 'three batches of 5, 19 and 1 tokens accumulate, 33 channels',
    channels: 33,
    batches: [5, 19, 1].map((tokens, i) => ({ tokens, x: normalArray(tokens * 33, 20 + i, 2) })),
  },
  oneBatch('GPT-2 block input: 64 tokens × 768 channels', 64, 768, normalArray(64 * 768, 15)),
];

/** Multiply-adds of a case: what it costs a software adapter. */
export const hessianCaseWork = (c: HessianCase) => c.batches.reduce((sum, b) => sum + b.tokens * c.channels * c.channels, 0);

export function hessianReferenceOf(c: HessianCase): HessianStatsRef {
  const stats = createHessianStatsRef(c.channels);
  for (const b of c.batches) accumulateHessianRef(stats, b.x, b.tokens);
  return stats;
}

/**
 * The GPU sums each entry sequentially in f32: per batch Σ_t over its tokens, then one add into
 * the accumulator, n + batches roundings in all. Higham's bound for that is
 * |error| ≤ γ_(n+batches) · Σ_t |x_ta x_tb| ≤ γ · max_j Σ_t x_tj² (Cauchy–Schwarz), so that is
 * the atol: rigorous, and it scales with the data. With a 1e4 offset it is ~n·u relative to
 * H ≈ n·1e8 (about 3.8e-6 · 6.4e9 ≈ 2.4e4 absolute): f32 cannot hold the small centred part of
 * an uncentred second moment — exactly as in SparseGPT's fp32 `H += inp @ inp.T`.
 * Channels holding NaN/Inf are left out of the scale (their entries must match exactly).
 */
export function gramTolerance(ref: HessianStatsRef, batches: number): { atol: number; rtol: number } {
  let scale = 0;
  for (const s of ref.sqNorm) if (Number.isFinite(s)) scale = Math.max(scale, s);
  return { atol: gammaF32(ref.tokens + batches) * scale, rtol: 0 };
}
