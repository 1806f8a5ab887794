// RTN and GPTQ jobs on WebGPU against the CPU jobs (the same QuantizeJob), the labels of what ran
// where, cancel between GPTQ blocks, and the quantize stage through compressModel with the GPU hook:
// the same weights (SHA-256) as the CPU run on the bundled LM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { GpuContext } from '../gpu/context';
import { describeGpu } from '../gpu/testing/describeGpu';
import { normalArray } from '../gpu/testing/random';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { Cancelled } from '../job/cancel.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { expectClose } from '../testing/expectClose.ts';
import { gpuQuantizeLayer, runQuantizeJobGpu } from './gpuQuantJobs.ts';
import { compressModel } from './pipeline.ts';
import { runQuantizeJob, type QuantizeJob } from './quantJobs.ts';

const EXACT = { atol: 0, rtol: 0 };

function layerWithHessian(rows: number, cols: number, seed: number): { weight: { rows: number; cols: number; data: Float32Array }; hessian: Float64Array } {
  const tokens = 2 * cols;
  const x = normalArray(tokens * cols, seed);
  const hessian = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) hessian[a * cols + b] += (2 / tokens) * x[t * cols + a] * x[t * cols + b];
  return { weight: { rows, cols, data: normalArray(rows * cols, seed + 1, 0.05) }, hessian };
}

const { weight, hessian } = layerWithHessian(48, 192, 100);
const grid = { bits: 4, symmetric: false };
const rtnJob: QuantizeJob = { method: 'rtn', layerId: 'l', weight, grid, granularity: { kind: 'group', size: 32 } };
const gptqJob: QuantizeJob = { method: 'gptq', layerId: 'l', weight, hessian, options: { grid, granularity: { kind: 'group', size: 32 }, blockSize: 64 } };

function expectSameResult(got: ReturnType<typeof runQuantizeJob>, ref: ReturnType<typeof runQuantizeJob>): void {
  expectClose(got.quantized.codes, ref.quantized.codes, EXACT, 'codes');
  expectClose(got.quantized.scales, ref.quantized.scales, EXACT, 'scales');
  expectClose(got.quantized.zeroPoints, ref.quantized.zeroPoints, EXACT, 'zero points');
  expectClose(got.weight.data, ref.weight.data, EXACT, 'weights');
  expect([got.quantized.groupSize, got.quantized.groups]).toEqual([ref.quantized.groupSize, ref.quantized.groups]);
}

describeGpu('quantize jobs on WebGPU', (gpu) => {
  test('RTN: the device grid, bit-identical to the CPU job, labelled webgpu', async () => {
    const got = await runQuantizeJobGpu(gpu(), rtnJob);
    expectSameResult(got, runQuantizeJob(rtnJob));
    expect(got.backend).toEqual({ requested: 'webgpu', ran: 'webgpu' });
  });

  test('GPTQ: the device sweep, bit-identical to the CPU job, with the CPU steps named', async () => {
    const got = await runQuantizeJobGpu(gpu(), gptqJob);
    expectSameResult(got, runQuantizeJob(gptqJob));
    expect(got.backend).toEqual({ requested: 'webgpu', ran: 'webgpu+cpu', cpuSteps: ['H⁻¹ Cholesky in float64'] });
    const perRow = await runQuantizeJobGpu(gpu(), { ...gptqJob, options: { ...gptqJob.options, granularity: { kind: 'row' } } });
    expect(perRow.backend.cpuSteps).toEqual(['H⁻¹ Cholesky in float64', 'quantiser fit before the sweep']);
  });

  test('what has no kernel runs on the CPU and says why', async () => {
    const rtnMse = await runQuantizeJobGpu(gpu(), { ...rtnJob, mseClip: true } as QuantizeJob);
    expect(rtnMse.backend).toEqual({ requested: 'webgpu', ran: 'cpu', fallbackReason: 'the MSE clip search has no GPU kernel' });
    expectSameResult(rtnMse, runQuantizeJob({ ...rtnJob, mseClip: true } as QuantizeJob));
    const wide = await runQuantizeJobGpu(gpu(), { ...gptqJob, options: { ...gptqJob.options, blockSize: 192 } } as QuantizeJob);
    expect(wide.backend.fallbackReason).toMatch(/blocks over 128/);
  });

  test('NaN in W is refused as on the CPU; a weight over one storage binding runs on the CPU, saying so', async () => {
    const data = weight.data.slice();
    data[5] = NaN;
    for (const job of [{ ...rtnJob, weight: { ...weight, data } }, { ...gptqJob, weight: { ...weight, data } }] as QuantizeJob[]) {
      const cpuError = (() => {
        try {
          runQuantizeJob(job);
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(cpuError).toMatch(/non-finite/);
      await expect(runQuantizeJobGpu(gpu(), job)).rejects.toThrow(cpuError);
    }
    const capped = new GpuContext(gpu().device, { limitCaps: { maxStorageBufferBindingSize: 4096 } });
    const result = await runQuantizeJobGpu(capped, rtnJob);
    expect(result.backend).toEqual({ requested: 'webgpu', ran: 'cpu', fallbackReason: 'the weight is over one storage binding (4096 bytes)' });
    expectSameResult(result, runQuantizeJob(rtnJob));
  });

  test('cancel between GPTQ blocks; jobs handed in together run one after another', async () => {
    let blocks = 0;
    const cancel = { get aborted() { return ++blocks > 1; } };
    await expect(runQuantizeJobGpu(gpu(), gptqJob, cancel)).rejects.toThrow(Cancelled);
    const run = gpuQuantizeLayer(gpu());
    const [a, b] = await Promise.all([run(rtnJob), run(gptqJob)]);
    expectSameResult(a, runQuantizeJob(rtnJob));
    expectSameResult(b, runQuantizeJob(gptqJob));
  });

  test.each([
    ['gptq-4bit-g32.json', 'webgpu+cpu'],
    ['rtn-3bit-row.json', 'webgpu'],
  ])('the quantize stage with the GPU hook on the bundled LM, %s: the same weights (SHA-256) as the CPU run, every row %s', async (file, ran) => {
    const lm = bundledModel('kjv-charlm');
    const recipe = parseRecipe(JSON.parse(readFileSync(join(import.meta.dirname, '../../../recipes', file), 'utf8')));
    recipe.calibration.samples = 2;
    const request = { model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calib, createRunner: openRunner, sourceModel: 'kjv-charlm' };
    const onGpu = await compressModel({ ...request, quantizeLayer: gpuQuantizeLayer(gpu()) });
    const onCpu = await compressModel(request);
    expect(onGpu.report.weightsSha256).toBe(onCpu.report.weightsSha256);
    expect(onGpu.report.quantized.map((q) => q.backend.ran)).toEqual(onCpu.report.quantized.map(() => ran));
    expect(onCpu.report.quantized.every((q) => q.backend.ran === 'cpu')).toBe(true);
  }, 60_000);
});
