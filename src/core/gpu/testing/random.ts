// Seeded test data for the kernel tests, so every failure reproduces from its case name. The
// uniform source is core's one seeded PRNG (calibration's mulberry32).
import { seededUniform } from '../../testing/random.ts';

export { seededUniform };

/** Standard normal samples (Box–Muller) from a seeded uniform source. */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  return () => {
    const u = 1 - uniform(); // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

/** A Float32Array of `length` normal samples scaled by `scale` and shifted by `offset`. */
export function normalArray(length: number, seed: number, scale = 1, offset = 0): Float32Array {
  const next = seededNormal(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = offset + scale * next();
  return out;
}

/** Unit roundoff of binary32 (2^-24). */
export const F32_UNIT_ROUNDOFF = 2 ** -24;

/**
 * γ_n = n·u / (1 − n·u): the classic bound (Higham, "Accuracy and Stability of Numerical
 * Algorithms", §3.1) on the relative error of a length-n floating-point sum of products,
 * relative to the sum of the absolute values of the terms.
 */
export function gammaF32(n: number): number {
  const nu = n * F32_UNIT_ROUNDOFF;
  return nu / (1 - nu);
}
