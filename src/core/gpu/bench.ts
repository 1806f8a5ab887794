// Times each kernel against its CPU reference on a device the caller provides (the lead's
// `npm run bench` passes a Node/Dawn device; a browser page could pass navigator.gpu's). A
// program, not a test: it returns rows and prints nothing. GPU times are end to end — upload,
// dispatch, readback — because that is what a caller of the array-in/array-out functions pays;
// the rows marked "resident" time the dispatches alone, with data already on the device.
import { GpuContext } from './context';
import { globalSelectGpu } from './kernels/globalSelect/globalSelect.gpu';
import { globalSelectRef } from './kernels/globalSelect/globalSelect.ref';
import { HessianAccumulatorGpu, hessianStatsGpu } from './kernels/hessian/hessian.gpu';
import { accumulateHessianRef, createHessianStatsRef } from './kernels/hessian/hessian.ref';
import { nmSelectGpu } from './kernels/nmSelect/nmSelect.gpu';
import { nmSelectRef } from './kernels/nmSelect/nmSelect.ref';
import { rowSelectGpu } from './kernels/rowSelect/rowSelect.gpu';
import { rowSelectRef } from './kernels/rowSelect/rowSelect.ref';
import { SparseGptGpu, sparsegptPruneGpu } from './kernels/sparsegptUpdate/sparsegptUpdate.gpu';
import { createSparseGptStateRef, sparsegptBlockRef, sparsegptLazyUpdateRef, sparsegptPruneRef } from './kernels/sparsegptUpdate/sparsegptUpdate.ref';
import { wandaScoreGpu } from './kernels/wandaScore/wandaScore.gpu';
import { wandaScoreRef } from './kernels/wandaScore/wandaScore.ref';
import { quantGridGpu } from './kernels/quantGrid/quantGrid.gpu';
import { gptqQuantizeGpu } from './kernels/gptqUpdate/gptqUpdate.gpu';
import { gptqQuantize } from '../quant/gptq';
import { quantizeRtn } from '../quant/rtn';
import { syntheticHinvUpper } from './testing/hessianInverse';
import { normalArray, seededUniform } from './testing/random';

export interface KernelBenchRow {
  name: string;
  shape: string;
  cpuMs: number;
  gpuMs: number;
}

export interface KernelBenchOptions {
  /** Keep repeating a measurement until this much time has passed (default 200 ms)… */
  minMs?: number;
  /** …and at least this many times (default 3). The median is reported. */
  minRepeats?: number;
}

async function medianMs(run: () => unknown, { minMs = 200, minRepeats = 3 }: KernelBenchOptions): Promise<number> {
  await run(); // warm-up: pipeline compilation, JIT
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRepeats || performance.now() - start < minMs) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** GPT-2 small shapes: d_model 768, MLP 3072, 64 calibration tokens per batch. */
export async function benchGpuKernels(device: GPUDevice, options: KernelBenchOptions = {}): Promise<KernelBenchRow[]> {
  const ctx = new GpuContext(device);
  const rows: KernelBenchRow[] = [];
  const time = (run: () => unknown) => medianMs(run, options);
  const add = async (name: string, shape: string, cpu: () => unknown, gpu: () => unknown) => {
    rows.push({ name, shape, cpuMs: await time(cpu), gpuMs: await time(gpu) });
  };

  const tokens = 64;
  const dModel = 768;
  const dMlp = 3072;
  const x = normalArray(tokens * dModel, 1);
  await add(
    'hessian',
    `${tokens} tokens × ${dModel}`,
    () => accumulateHessianRef(createHessianStatsRef(dModel), x, tokens),
    () => hessianStatsGpu(ctx, x, tokens, dModel),
  );
  const accumulator = new HessianAccumulatorGpu(ctx, dModel);
  rows.push({
    name: 'hessian (resident, add only)',
    shape: `${tokens} tokens × ${dModel}`,
    cpuMs: rows[rows.length - 1].cpuMs,
    gpuMs: await time(async () => {
      await accumulator.add(x, tokens);
      await ctx.flush();
    }),
  });
  accumulator.destroy();

  const weights = normalArray(dModel * dMlp, 2, 0.05);
  const sqNorm = normalArray(dMlp, 3, 4).map((v) => v * v);
  const shape = `${dModel} × ${dMlp}`;
  await add('wandaScore', shape, () => wandaScoreRef(weights, sqNorm, dModel, dMlp), () => wandaScoreGpu(ctx, weights, sqNorm, dModel, dMlp));
  const scores = wandaScoreRef(weights, sqNorm, dModel, dMlp);
  await add('rowSelect 50%', shape, () => rowSelectRef(scores, dModel, dMlp, dMlp / 2), () => rowSelectGpu(ctx, scores, dModel, dMlp, dMlp / 2));
  const magnitudes = weights.map(Math.abs);
  await add('globalSelect 50% (one group: the layer)', shape, () => globalSelectRef(magnitudes, magnitudes.length / 2), () => globalSelectGpu(ctx, magnitudes, magnitudes.length / 2));
  await add('nmSelect 2:4', shape, () => nmSelectRef(scores, dModel, dMlp, 2, 4), () => nmSelectGpu(ctx, scores, dModel, dMlp, 2, 4));

  // SparseGPT: one block of 128 and its lazy update on the MLP shape; a full sweep on 768 × 768.
  const coin = seededUniform(4);
  const keepMask = Uint8Array.from({ length: dModel * dMlp }, () => (coin() < 0.5 ? 1 : 0));
  const hinvUpper = syntheticHinvUpper(dMlp, 5);
  await add(
    'sparsegpt block 0 + lazy update',
    `${shape}, block 128`,
    () => {
      const state = createSparseGptStateRef(weights, hinvUpper, dModel, dMlp, { kind: 'mask', keepMask });
      sparsegptLazyUpdateRef(state, sparsegptBlockRef(state, 0, 128), 0, 128);
    },
    async () => {
      const session = new SparseGptGpu(ctx, { rows: dModel, cols: dMlp, weights, hinvUpper, pattern: { kind: 'mask', keepMask } });
      await session.runBlock(0, 128);
      await session.read();
      session.destroy();
    },
  );
  const square = weights.subarray(0, dModel * dModel);
  const squareMask = keepMask.subarray(0, dModel * dModel);
  const squareHinv = syntheticHinvUpper(dModel, 6);
  await add(
    'sparsegpt full sweep',
    `${dModel} × ${dModel}, blocks of 128`,
    () => sparsegptPruneRef(createSparseGptStateRef(square, squareHinv, dModel, dModel, { kind: 'mask', keepMask: squareMask }), 128),
    () => sparsegptPruneGpu(ctx, { rows: dModel, cols: dModel, weights: square, hinvUpper: squareHinv, pattern: { kind: 'mask', keepMask: squareMask } }, 128),
  );

  // Quantization on the GPT-2 MLP layer c_fc (W: 3072 × 768, C_in = 768): the CPU side is the
  // shipped path (quantizeRtn and gptqQuantize on the wasm SIMD kernels), not the plain reference.
  const fc = { rows: dMlp, cols: dModel, data: weights };
  const grid = { bits: 4, symmetric: false };
  const g32 = { kind: 'group' as const, size: 32 };
  await add('quantGrid RTN 4-bit g32 (fit, codes, Ŵ)', `${dMlp} × ${dModel}`, () => quantizeRtn(fc, grid, g32), () => quantGridGpu(ctx, fc, grid, g32));
  const hessian = calibrationHessian(dModel, 1024, 7);
  // One timed run after the warm-up: on a software adapter one GPU sweep of this layer takes ~30 s.
  const once = { minMs: 0, minRepeats: 1 };
  rows.push({
    name: 'gptqUpdate GPTQ 4-bit g32 (whole layer, 1 run)',
    shape: `${dMlp} × ${dModel}, blocks of 128`,
    cpuMs: await medianMs(() => gptqQuantize(fc, hessian, { grid, granularity: g32 }), once),
    gpuMs: await medianMs(() => gptqQuantizeGpu(ctx, fc, hessian, { grid, granularity: g32 }), once),
  });
  ctx.destroy();
  return rows;
}

/** H = 2/n · XᵀX (float64) of n seeded N(0, 1) token rows: a Hessian as calibration collects it. */
function calibrationHessian(cols: number, tokens: number, seed: number): Float64Array {
  const x = normalArray(tokens * cols, seed);
  const h = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) {
    for (let a = 0; a < cols; a++) {
      const xa = (2 / tokens) * x[t * cols + a];
      for (let b = 0; b < cols; b++) h[a * cols + b] += xa * x[t * cols + b];
    }
  }
  return h;
}
