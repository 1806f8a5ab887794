// A prune job with block groups asked for WebGPU runs on the CPU and says why (the group choice
// has no GPU kernel), with the CPU path's result bit for bit, for every method.
import { expect, test } from 'vitest';
import { describeGpu } from '../gpu/testing/describeGpu';
import { normalArray } from '../gpu/testing/random';
import { runPruneJobGpu } from './gpuJobs';
import { runPruneJob, type PruneJob } from './jobs';

const rows = 16;
const cols = 32;
const x = normalArray(64 * cols, 2);
const hessian = new Float64Array(cols * cols);
for (let t = 0; t < 64; t++) for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) hessian[i * cols + j] += (2 / 64) * x[t * cols + i] * x[t * cols + j];
const sqNorm = Float64Array.from({ length: cols }, (_, j) => hessian[j * cols + j] * 32);

describeGpu('block-group prune jobs on WebGPU', (gpu) => {
  test.each(['magnitude', 'wanda', 'sparsegpt'] as const)('%s runs on the CPU and says why', async (method) => {
    const job: PruneJob = {
      index: 0,
      layerId: 'fc',
      purpose: 'prune',
      method,
      pattern: { kind: 'block', rows: 1, cols: 4, sparsity: 0.5 },
      magnitudeGroup: 'row',
      weight: { rows, cols, data: normalArray(rows * cols, 1, 0.1) },
      sqNorm,
      hessian,
      sparseGpt: { blockSize: 128, percDamp: 0.01 },
    };
    const result = await runPruneJobGpu(gpu(), job);
    expect(result.backend).toBe('cpu (block (1×4 / 4×1) group selection has no GPU kernel)');
    expect(result.keep.data).toEqual(runPruneJob(job).keep.data);
  });
});
