// GPU Wanda score (see wandaScore.wgsl, wandaScore.ref.ts).
import { STORAGE_USAGE, type GpuContext } from '../../context';
import { ceilDiv, defineProgram, rowRangesWithinBinding } from '../../program';
import shader from './wandaScore.wgsl?raw';

const WORKGROUP = 256;

export const wandaScoreProgram = defineProgram({
  label: 'wandaScore',
  shader,
  entryPoint: 'wandaScore',
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'cols', type: 'u32' },
  ],
  storage: [
    { name: 'weights', binding: 1, access: 'read' },
    { name: 'sqNorm', binding: 2, access: 'read' },
    { name: 'scores', binding: 3, access: 'read_write' },
  ],
  workgroupSize: [WORKGROUP],
});

/** Encodes S = |W| · sqrt(sqNorm) on device buffers: weights and scores (rows, cols), sqNorm (cols). */
export async function encodeWandaScore(
  ctx: GpuContext,
  buffers: { weights: GPUBuffer; sqNorm: GPUBuffer; scores: GPUBuffer },
  rows: number,
  cols: number,
): Promise<void> {
  await ctx.dispatch({
    program: wandaScoreProgram,
    uniforms: { rows, cols },
    buffers,
    workgroups: ceilDiv(rows * cols, WORKGROUP),
  });
}

/** Scores of weights (rows, cols) against sqNorm (cols); rows beyond one binding run in row ranges. */
export async function wandaScoreGpu(ctx: GpuContext, weights: Float32Array, sqNorm: Float32Array, rows: number, cols: number): Promise<Float32Array> {
  if (weights.length !== rows * cols) throw new Error(`wandaScore: weights has ${weights.length} values, expected ${rows}×${cols}`);
  if (sqNorm.length !== cols) throw new Error(`wandaScore: sqNorm has ${sqNorm.length} values, expected ${cols}`);
  const scores = new Float32Array(rows * cols);
  if (rows * cols === 0) return scores;
  const sqNormBuffer = ctx.upload(`wandaScore.sqNorm(${cols})`, sqNorm);
  try {
    for (const [r0, r1] of rowRangesWithinBinding(rows, cols * 4, ctx.limits.maxStorageBufferBindingSize, 'wandaScore')) {
      const n = r1 - r0;
      const w = ctx.upload(`wandaScore.weights(${n}×${cols})`, weights.subarray(r0 * cols, r1 * cols));
      const s = ctx.createBuffer(`wandaScore.scores(${n}×${cols})`, n * cols * 4, STORAGE_USAGE);
      await encodeWandaScore(ctx, { weights: w, sqNorm: sqNormBuffer, scores: s }, n, cols);
      scores.set(await ctx.readFloat32(s, n * cols), r0 * cols);
      w.destroy();
      s.destroy();
    }
  } finally {
    ctx.release(sqNormBuffer);
  }
  return scores;
}
