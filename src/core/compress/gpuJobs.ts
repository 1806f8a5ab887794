// One layer's PruneJob on WebGPU: the same job object and result as runPruneJob (jobs.ts), with
// the scoring, selection and SparseGPT sweep on the device kernels of src/core/gpu, and on the
// CPU only what has no kernel (named in `backend`). The equivalence contract with runPruneJob —
// bit-identical, or bounded and tested — is in docs/gpu-kernels.md ("Prune jobs on WebGPU").
import type { GpuContext } from '../gpu/context.ts';
import { rowRangesWithinBinding } from '../gpu/program.ts';
import { GlobalSelectGpu } from '../gpu/kernels/globalSelect/globalSelect.gpu.ts';
import { encodeNmSelect, NM_MAX_GROUP } from '../gpu/kernels/nmSelect/nmSelect.gpu.ts';
import { encodeRowSelect } from '../gpu/kernels/rowSelect/rowSelect.gpu.ts';
import { encodeWandaScore } from '../gpu/kernels/wandaScore/wandaScore.gpu.ts';
import { SparseGptGpu, sparsegptPruneGpu, SPARSEGPT_MAX_BLOCK, type HostMaskStep } from '../gpu/kernels/sparsegptUpdate/sparsegptUpdate.gpu.ts';
import { magnitudeScores } from '../prune/magnitude.ts';
import { applyKeepMask, fullMask, prunedCount } from '../prune/masks.ts';
import { validatePattern, type SparsityPattern } from '../prune/patterns.ts';
import { obsScores, sparseGptOpening, validateSparseGptOptions } from '../prune/sparsegpt.setup.ts';
import type { KeepMask, PruneResult } from '../prune/types.ts';
import { cpuUse, type BackendUse } from '../job/backend.ts';
import { assertFinite, assertLength, assertWeight } from '../prune/validate.ts';
import { keepVNM } from '../prune/vnm.ts';
import { checkSqNorm } from '../prune/wanda.ts';
import { missingStatistic, pruneJobResult, runPruneJob, type PruneJob, type PruneJobResult, type PruneLayerFn } from './jobs.ts';

/** What ran a job: the prune result and the BackendUse of PruneJobResult. */
interface BackendResult extends PruneResult {
  ran: BackendUse;
}

const onGpu = (...cpuSteps: string[]): BackendUse => (cpuSteps.length === 0 ? { requested: 'webgpu', ran: 'webgpu' } : { requested: 'webgpu', ran: 'webgpu+cpu', cpuSteps });

/**
 * A `pruneLayer` on one GpuContext. Jobs run one after another (a GpuContext takes one call at a
 * time), in the order they were handed in.
 */
export function gpuPruneLayer(ctx: GpuContext): PruneLayerFn {
  let previous: Promise<unknown> = Promise.resolve();
  return (job) => {
    const result = previous.then(() => runPruneJobGpu(ctx, job));
    previous = result.catch(() => undefined);
    return result;
  };
}

/** runPruneJob's result for `job`, computed on the device (see docs/gpu-kernels.md for how equal). */
export async function runPruneJobGpu(ctx: GpuContext, job: PruneJob): Promise<PruneJobResult> {
  // SparseGPT's joint quantization has no kernel here: the whole job on the CPU, said so.
  if (job.quantize) return runPruneJob(job, cpuUse('webgpu', 'SparseGPT with joint quantization has no WebGPU kernel'));
  const start = performance.now();
  const ran = job.method === 'magnitude' ? await magnitudeGpu(ctx, job) : job.method === 'wanda' ? await wandaGpu(ctx, job) : await sparseGptGpu(ctx, job);
  return pruneJobResult(job, ran, start, ran.ran);
}

/** The CPU path for a case no kernel covers, labelled with the reason (never silent). */
function onCpu(job: PruneJob, reason: string): BackendResult {
  const { weight, keep } = runPruneJob(job);
  return { weight, keep, ran: cpuUse('webgpu', reason) };
}

// ---- Selection: scores (filled on the device) → keep mask ----------------------------------

/** The comparison the selection kernels make: the k lowest per row, or N:M (N kept). */
type Selection = { kind: 'row'; pruneCount: number } | { kind: 'nm'; n: number; m: number };

/**
 * Keep mask (rows, cols) of scores that `fillScores` puts on the device, row range by row range
 * when the matrix exceeds one binding; the scores never come back to the host.
 */
async function selectOnGpu(
  ctx: GpuContext,
  rows: number,
  cols: number,
  selection: Selection,
  fillScores: (scores: GPUBuffer, r0: number, r1: number) => Promise<void>,
): Promise<Uint8Array> {
  const keep = new Uint8Array(rows * cols);
  for (const [r0, r1] of rowRangesWithinBinding(rows, cols * 4, ctx.limits.maxStorageBufferBindingSize, 'prune job')) {
    const n = r1 - r0;
    const scores = ctx.createBuffer(`pruneJob.scores(${n}×${cols})`, n * cols * 4);
    const keepMask = ctx.createBuffer(`pruneJob.keepMask(${n}×${cols})`, n * cols * 4);
    try {
      await fillScores(scores, r0, r1);
      if (selection.kind === 'row') await encodeRowSelect(ctx, { scores, keepMask }, n, cols, selection.pruneCount);
      else await encodeNmSelect(ctx, { scores, keepMask }, n, cols, selection.n, selection.m);
      keep.set(await ctx.readUint32(keepMask, n * cols), r0 * cols);
    } finally {
      ctx.release(scores);
      ctx.release(keepMask);
    }
  }
  return keep;
}

/** The selection kernel for an unstructured or N:M pattern, or why none fits. */
function selectionFor(pattern: Exclude<SparsityPattern, { kind: 'vnm' | 'block' }>, groupSize: number): Selection | { unsupported: string } {
  if (pattern.kind === 'unstructured') return { kind: 'row', pruneCount: prunedCount(groupSize, pattern.sparsity) };
  if (pattern.m > NM_MAX_GROUP) return { unsupported: `N:M with M > ${NM_MAX_GROUP} has no GPU kernel` };
  return { kind: 'nm', n: pattern.n, m: pattern.m };
}

const asMask = (rows: number, cols: number, data: Uint8Array): KeepMask => ({ rows, cols, data });

// ---- Magnitude -----------------------------------------------------------------------------

/** Scores and VENOM's selection both on the CPU: the mask is the CPU path's, bit for bit. */
const VNM_ON_CPU = 'V:N:M selection has no GPU kernel';
/** Block groups are scored and chosen on the CPU (one sum per group); only the sparse matmul has a kernel. */
const BLOCKS_ON_CPU = 'block (1×4 / 4×1) group selection has no GPU kernel';

/**
 * |W| on the CPU (it is exact in float32 either way), selection on the device. The per-layer
 * comparison group is one flat group of numel scores for globalSelect, spread over every
 * workgroup: the same ⌊numel·s⌋ lowest with ties by flat index as keepPerLayer.
 */
async function magnitudeGpu(ctx: GpuContext, job: PruneJob): Promise<BackendResult> {
  const { weight, pattern } = job;
  assertWeight(weight, 'magnitude');
  validatePattern(pattern, weight.rows, weight.cols);
  if (pattern.kind === 'vnm') return onCpu(job, VNM_ON_CPU);
  if (pattern.kind === 'block') return onCpu(job, BLOCKS_ON_CPU);
  const scores = magnitudeScores(weight);
  const perLayer = pattern.kind === 'unstructured' && job.magnitudeGroup === 'layer';
  if (perLayer) {
    if (scores.length * 4 > ctx.limits.maxStorageBufferBindingSize) return onCpu(job, 'the per-layer comparison group is larger than one storage binding');
    const keep = await selectLayerOnGpu(ctx, scores, prunedCount(scores.length, pattern.sparsity));
    return { ...applyKeepMask(weight, asMask(weight.rows, weight.cols, keep)), ran: onGpu('|W|') };
  }
  const selection = selectionFor(pattern, weight.cols);
  if ('unsupported' in selection) return onCpu(job, selection.unsupported);
  const keep = await selectOnGpu(ctx, weight.rows, weight.cols, selection, async (buffer, r0, r1) => ctx.write(buffer, scores.subarray(r0 * weight.cols, r1 * weight.cols)));
  return { ...applyKeepMask(weight, asMask(weight.rows, weight.cols, keep)), ran: onGpu('|W|') };
}

/** Keep mask of one flat comparison group: exactly pruneCount of `scores` pruned, ties by index. */
async function selectLayerOnGpu(ctx: GpuContext, scores: Float32Array, pruneCount: number): Promise<Uint8Array> {
  const select = new GlobalSelectGpu(ctx, scores.length);
  const scoreBuffer = ctx.upload(`pruneJob.scores(${scores.length})`, scores);
  const keepMask = ctx.createBuffer(`pruneJob.keepMask(${scores.length})`, scores.length * 4);
  try {
    await select.encode(scoreBuffer, scores.length, { mode: 'exact', pruneCount }, keepMask);
    return Uint8Array.from(await ctx.readUint32(keepMask, scores.length));
  } finally {
    select.destroy();
    ctx.release(scoreBuffer);
    ctx.release(keepMask);
  }
}

// ---- Wanda ---------------------------------------------------------------------------------

/**
 * Scores |W|·sqrt(sqNorm) by the wandaScore kernel on float32 sqNorm, selection per row (Wanda's
 * group) or N:M on the device; only the mask comes back. The CPU computes its scores in float64,
 * so the masks agree except at near-ties (docs/gpu-kernels.md).
 */
async function wandaGpu(ctx: GpuContext, job: PruneJob): Promise<BackendResult> {
  const { weight, pattern } = job;
  const { rows, cols } = weight;
  const sqNorm = job.sqNorm ?? missingStatistic(job, 'sqNorm'); // checks in runPruneJob's order
  assertWeight(weight, 'wanda');
  validatePattern(pattern, rows, cols);
  checkSqNorm(sqNorm, cols);
  if (pattern.kind === 'vnm') return onCpu(job, VNM_ON_CPU);
  if (pattern.kind === 'block') return onCpu(job, BLOCKS_ON_CPU);
  const selection = selectionFor(pattern, cols);
  if ('unsupported' in selection) return onCpu(job, selection.unsupported);
  const sqNormBuffer = ctx.upload(`pruneJob.sqNorm(${cols})`, Float32Array.from(sqNorm));
  try {
    const keep = await selectOnGpu(ctx, rows, cols, selection, async (scores, r0, r1) => {
      const weights = ctx.upload(`pruneJob.weights(${r1 - r0}×${cols})`, weight.data.subarray(r0 * cols, r1 * cols));
      await encodeWandaScore(ctx, { weights, sqNorm: sqNormBuffer, scores }, r1 - r0, cols);
      ctx.release(weights);
    });
    return { ...applyKeepMask(weight, asMask(rows, cols, keep)), ran: onGpu() };
  } finally {
    ctx.release(sqNormBuffer);
  }
}

// ---- SparseGPT -----------------------------------------------------------------------------

/**
 * VENOM's V:N:M choice as sparsegpt.ts makes it on the CPU (selectGroupMask), on the device's
 * current weights at each group of M: keepVNM on the OBS scores of the group's columns.
 */
function hostVnmStep(pattern: Extract<SparsityPattern, { kind: 'vnm' }>, rows: number, cols: number, hinvUpper: Float32Array): HostMaskStep {
  // `current` holds the span's columns [start, end) of every row, (rows, end − start).
  const spanScores = (current: Float32Array, start: number, end: number) => obsScores({ data: current, stride: end - start, offset: 0 }, rows, hinvUpper, cols, start, end - start);
  return {
    span: pattern.m,
    choose: (current, start, end) => keepVNM({ rows, cols: end - start, data: spanScores(current, start, end) }, pattern.v, pattern.m).data,
  };
}

const CHOLESKY_ON_CPU = 'H⁻¹ Cholesky in float64';

/**
 * SparseGPT: the opening (dead inputs, damping, U in float64) on the CPU, the column sweep on the
 * device. N:M is chosen inside the update kernel; the unstructured block mask on the device at
 * each block start (blockScores + globalSelect's threshold mode, no readback); V:N:M on the host
 * from the weights read back at each group of M, where fasterprune chooses it (VENOM's selection
 * has no kernel).
 */
async function sparseGptGpu(ctx: GpuContext, job: PruneJob): Promise<BackendResult> {
  const { weight, pattern } = job;
  const { rows, cols } = weight;
  const { blockSize, percDamp } = job.sparseGpt;
  const hessian = job.hessian ?? missingStatistic(job, 'a Hessian'); // checks in runPruneJob's order
  assertWeight(weight, 'SparseGPT');
  validatePattern(pattern, rows, cols);
  validateSparseGptOptions(pattern, blockSize, percDamp);
  assertLength(hessian, cols * cols, 'SparseGPT: hessian (C_in x C_in)');
  assertFinite(hessian, 'SparseGPT: hessian', cols);
  if (pattern.kind === 'unstructured' && pattern.sparsity === 0) {
    // As sparseGptPrune: W untouched (dead inputs included); nothing to run anywhere.
    return { weight: { rows, cols, data: Float32Array.from(weight.data) }, keep: fullMask(rows, cols), ran: cpuUse('webgpu', 'sparsity 0: weights returned unchanged') };
  }
  if (blockSize > SPARSEGPT_MAX_BLOCK) return onCpu(job, `SparseGPT blocks over ${SPARSEGPT_MAX_BLOCK} columns have no GPU kernel`);
  if (pattern.kind === 'nm' && pattern.m > NM_MAX_GROUP) return onCpu(job, `SparseGPT N:M with M > ${NM_MAX_GROUP} has no GPU kernel`);
  if (pattern.kind === 'block') return onCpu(job, BLOCKS_ON_CPU);
  const binding = ctx.limits.maxStorageBufferBindingSize;
  if (cols * cols * 4 > binding) return onCpu(job, 'U is larger than one storage binding');
  // The block-wide and V:N:M masks need the whole block of every row at once: one binding for W.
  if (pattern.kind !== 'nm' && rows * cols * 4 > binding) return onCpu(job, 'W is larger than one storage binding, which the block-wide mask needs');

  const { weights, hinvUpper } = sparseGptOpening(weight, hessian, percDamp);
  if (pattern.kind === 'nm') {
    const result = await sparsegptPruneGpu(ctx, { rows, cols, weights, hinvUpper, pattern }, blockSize);
    return { weight: { rows, cols, data: result.weights }, keep: asMask(rows, cols, result.keepMask), ran: onGpu(CHOLESKY_ON_CPU) };
  }
  const session = new SparseGptGpu(ctx, { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask: fullMask(rows, cols).data } });
  try {
    const vnm = pattern.kind === 'vnm';
    await session.run(blockSize, vnm ? hostVnmStep(pattern, rows, cols, hinvUpper) : { kind: 'blockThreshold', sparsity: pattern.sparsity });
    const result = await session.read();
    const chosen = vnm ? ['V:N:M selection per group'] : [];
    return { weight: { rows, cols, data: result.weights }, keep: asMask(rows, cols, result.keepMask), ran: onGpu(CHOLESKY_ON_CPU, ...chosen) };
  } finally {
    session.destroy();
  }
}
