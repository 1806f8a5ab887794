// Test-side builders of SparseGPT's U (the upper Cholesky factor of H⁻¹) for the kernel tests.
// The f64 factorisation itself is the pruning module's (src/core/prune/hessianInverse.ts).
import { hessianInverseCholesky } from '../../prune/hessianInverse';
import { seededUniform } from './random';

/**
 * The opening of fasterprune on an f64 H: dead channels (H_jj = 0) get H_jj = 1 (the caller
 * zeroes their weight columns), damping λ = percdamp·mean(diag H), then U. Returns U in f32 and
 * the dead channel indices.
 */
export function sparsegptHinvUpper(h: Float64Array, n: number, percdamp = 0.01): { hinvUpper: Float32Array; dead: number[] } {
  const a = Float64Array.from(h);
  const dead: number[] = [];
  for (let j = 0; j < n; j++) {
    if (a[j * n + j] === 0) {
      a[j * n + j] = 1;
      dead.push(j);
    }
  }
  let meanDiagonal = 0;
  for (let j = 0; j < n; j++) meanDiagonal += a[j * n + j] / n;
  for (let j = 0; j < n; j++) a[j * n + j] += percdamp * meanDiagonal;
  return { hinvUpper: Float32Array.from(hessianInverseCholesky(a, n)), dead };
}

/**
 * Stand-in U where only the update arithmetic matters (large shapes, benchmarks): upper
 * triangular, diagonal uniform in 0.5…1.5, off-diagonal uniform in ±0.01.
 */
export function syntheticHinvUpper(cols: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  const out = new Float32Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    out[i * cols + i] = 0.5 + u();
    for (let j = i + 1; j < cols; j++) out[i * cols + j] = (u() - 0.5) * 0.02;
  }
  return out;
}
