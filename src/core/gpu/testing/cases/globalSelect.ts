// The globalSelect kernel's cases, shared by globalSelect.test.ts (Node) and the browser's kernel
// check page (src/kernelCheck). Masks must match the reference exactly.
import { GLOBAL_SELECT_CHUNK } from '../../kernels/globalSelect/globalSelect.gpu';
import { normalArray, seededUniform } from '../random';

export type GlobalSelectCase = {
  name: string;
  scores: Float32Array;
  /** Lower limits to run the case under (a folded grid with small data). */
  caps?: { maxComputeWorkgroupsPerDimension: number };
} & ({ mode: 'exact'; pruneCount: number } | { mode: 'threshold'; sparsity: number });

const absNormal = (length: number, seed: number) => normalArray(length, seed).map(Math.abs);

/** Scores drawn from a few values only, so ties straddle the boundary and every chunk. */
function fewLevels(length: number, seed: number, levels: number[]): Float32Array {
  const u = seededUniform(seed);
  return Float32Array.from({ length }, () => levels[Math.floor(u() * levels.length)]);
}

/** |N(0,1)| with a fraction of exact zeros (dead inputs, pruned weights). */
function withZeros(length: number, seed: number, fraction: number): Float32Array {
  const u = seededUniform(seed + 1);
  return absNormal(length, seed).map((v) => (u() < fraction ? 0 : v));
}

/** NaN, ±Inf, ±0 and negatives among ordinary values, 3 chunks' worth and a ragged end. */
function nonFinite(length: number, seed: number, nanFraction: number): Float32Array {
  const u = seededUniform(seed);
  const specials = [-0, 0, Infinity, -Infinity, -1.5, 2];
  return normalArray(length, seed + 1).map((v) => {
    const r = u();
    if (r < nanFraction) return NaN;
    if (r < nanFraction + 0.1) return specials[Math.floor(u() * specials.length)];
    return v;
  });
}

const FOLD = { maxComputeWorkgroupsPerDimension: 4 };
const ragged = 2 * GLOBAL_SELECT_CHUNK + 1234;

export const globalSelectCases: GlobalSelectCase[] = [
  { name: 'exact: 1 element, prune 0', mode: 'exact', scores: new Float32Array([0.3]), pruneCount: 0 },
  { name: 'exact: 1 element, prune 1', mode: 'exact', scores: new Float32Array([0.3]), pruneCount: 1 },
  { name: 'threshold: 1 element at 50%', mode: 'threshold', scores: new Float32Array([0.3]), sparsity: 0.5 },
  { name: 'exact: 257 (one past the workgroup) at 70%', mode: 'exact', scores: absNormal(257, 1), pruneCount: Math.floor(257 * 0.7) },
  { name: `exact: ${ragged} (ragged last chunk) at 50%`, mode: 'exact', scores: absNormal(ragged, 2), pruneCount: Math.floor(ragged / 2) },
  { name: 'exact: all-equal keys, 10000, lowest 3333 indices pruned', mode: 'exact', scores: new Float32Array(10000).fill(0.25), pruneCount: 3333 },
  { name: 'threshold: all-equal keys, 10000: all pruned (<=)', mode: 'threshold', scores: new Float32Array(10000).fill(0.25), sparsity: 0.5 },
  { name: 'exact: 30% zeros, ties at 0 across the boundary and chunks', mode: 'exact', scores: withZeros(20000, 3, 0.3), pruneCount: 5000 },
  { name: 'threshold: 60% zeros at 50% (threshold 0)', mode: 'threshold', scores: withZeros(20000, 4, 0.6), sparsity: 0.5 },
  { name: 'exact: four score levels, ties in every chunk', mode: 'exact', scores: fewLevels(30000, 5, [0.5, 1, 1.5, 2]), pruneCount: 11111 },
  { name: 'threshold: four score levels', mode: 'threshold', scores: fewLevels(30000, 6, [0.5, 1, 1.5, 2]), sparsity: 0.6 },
  { name: 'exact: NaN pruned last, ±0 equal, negatives and ±Inf', mode: 'exact', scores: nonFinite(ragged, 7, 0.2), pruneCount: ragged - 1000 },
  { name: 'threshold: NaN kept, ±0 equal, negatives and ±Inf', mode: 'threshold', scores: nonFinite(ragged, 8, 0.2), sparsity: 0.5 },
  { name: 'threshold: NaN threshold prunes nothing', mode: 'threshold', scores: nonFinite(5000, 9, 0.3), sparsity: 0.9 },
  { name: 'exact: prune all', mode: 'exact', scores: absNormal(5000, 10), pruneCount: 5000 },
  { name: 'exact: prune all but one', mode: 'exact', scores: absNormal(5000, 11), pruneCount: 4999 },
  { name: 'threshold: sparsity 1 (rank clamped to the last)', mode: 'threshold', scores: absNormal(5000, 12), sparsity: 1 },
  { name: 'exact: folded grid (13 chunks on a 4×4 grid under capped limits), ties', mode: 'exact', scores: fewLevels(50000, 13, [1, 2, 3]), pruneCount: 20000, caps: FOLD },
  { name: 'threshold: folded grid under capped limits', mode: 'threshold', scores: absNormal(50000, 14), sparsity: 0.5, caps: FOLD },
  // Over 256 chunks: scanChunks takes more than one round of its workgroup.
  { name: 'exact: 1.2 M scores in 293 chunks, three levels (ties across the scan rounds)', mode: 'exact', scores: fewLevels(1_200_000, 15, [1, 2, 3]), pruneCount: 500_000 },
  { name: 'exact: GPT-2 MLP layer, 768 × 3072 |W| at 50%', mode: 'exact', scores: absNormal(768 * 3072, 16), pruneCount: (768 * 3072) / 2 },
  { name: 'threshold: SparseGPT block of GPT-2 c_fc, 3072 × 128 at 50%', mode: 'threshold', scores: withZeros(3072 * 128, 17, 0.01), sparsity: 0.5 },
];

/** Why a mask is wrong beyond the reference comparison: an exact selection pruned another count. */
export function globalSelectCountViolation(c: GlobalSelectCase, keep: Uint8Array): string | null {
  if (c.mode !== 'exact') return null;
  let pruned = 0;
  for (const k of keep) pruned += 1 - k;
  const expected = Math.min(c.pruneCount, c.scores.length);
  return pruned === expected ? null : `${c.name}: pruned ${pruned}, expected ${expected}`;
}
