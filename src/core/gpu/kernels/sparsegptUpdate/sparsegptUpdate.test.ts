// The same cases through the CPU reference and the GPU kernels; the reference is first checked
// against PyTorch running IST-DASLab/sparsegpt's own loop (fixtures/make_sparsegpt_fixture.py).
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { countingDevice } from '../../testing/countingDevice';
import { describeGpu } from '../../testing/describeGpu';
import { normalArray, seededUniform } from '../../testing/random';
import fixture from './fixtures/sparsegpt_fixture.json';
import { SparseGptGpu, sparsegptPruneGpu } from './sparsegptUpdate.gpu';
import { sparsegptHinvUpper, syntheticHinvUpper } from '../../testing/hessianInverse';
import { calibratedCase, fixtureCase, sparsegptCases as cases, sparsegptNaNCase as withNaN, sparsegptRunRef as runRef, updateTolerance } from '../../testing/cases/sparsegptUpdate';
import { createSparseGptStateRef, sparsegptBlockRef, sparsegptLazyUpdateRef } from './sparsegptUpdate.ref';

describe('sparsegptUpdate reference', () => {
  test('matches PyTorch running sparsegpt fasterprune with a given mask', () => {
    const got = runRef(fixtureCase('maskCase'));
    expectClose(got.weights, fixture.maskCase.weights, { atol: 1e-6, rtol: 1e-5 }, 'weights vs PyTorch');
  });

  test('matches PyTorch running fasterprune with prunen=2, prunem=4 (2:4 kept)', () => {
    const got = runRef(fixtureCase('nm24Case'));
    expect(Array.from(got.keepMask)).toEqual(fixture.nm24Case.keepMask);
    expectClose(got.weights, fixture.nm24Case.weights, { atol: 1e-6, rtol: 1e-5 }, 'weights vs PyTorch');
  });

  test("U (src/core/prune's factorisation) matches PyTorch's cholesky → cholesky_inverse → cholesky(upper)", () => {
    const { hinvUpper } = sparsegptHinvUpper(Float64Array.from(fixture.hessian), fixture.cols);
    expectClose(hinvUpper, fixture.hinvUpper, { atol: 1e-6, rtol: 1e-4 }, 'U');
  });

  test('1×1 by hand: a pruned weight becomes 0, a kept one stays', () => {
    expect(Array.from(runRef(cases[0]).weights)).toEqual([0]);
    expect(Array.from(runRef(cases[1]).weights)).toEqual([0.5]);
  });
});

describeGpu('sparsegptUpdate kernels vs reference', (gpu) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const expected = runRef(c);
    const got = await sparsegptPruneGpu(gpu(), { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
    expect(got.keepMask).toEqual(expected.keepMask);
    expectClose(got.weights, expected.weights, updateTolerance(c.cols, c.weights, expected.weights), `${c.name}: weights`);
    for (let i = 0; i < got.weights.length; i++) if (got.keepMask[i] === 0 && got.weights[i] !== 0) throw new Error(`${c.name}: pruned weight ${i} is ${got.weights[i]}`);
  });

  test('NaN stays in its row: kept weights of row 2 from column 10 on are NaN, pruned ones 0, other rows finite', async () => {
    const c = withNaN;
    const got = await sparsegptPruneGpu(gpu(), { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
    for (let r = 0; r < c.rows; r++) {
      for (let j = 0; j < c.cols; j++) {
        const i = r * c.cols + j;
        const expectNaN = r === 2 && j >= 10 && got.keepMask[i] === 1;
        if (expectNaN !== Number.isNaN(got.weights[i])) throw new Error(`W[${r}, ${j}] = ${got.weights[i]}`);
      }
    }
  });

  test('GPT-2 MLP projection 768 × 3072: first block of 128 and its lazy update', async () => {
    const rows = 768;
    const cols = 3072;
    const weights = normalArray(rows * cols, 50, 0.05);
    const hinvUpper = syntheticHinvUpper(cols, 51);
    const coin = seededUniform(52);
    const keepMask = Uint8Array.from({ length: rows * cols }, () => (coin() < 0.5 ? 1 : 0));
    const state = createSparseGptStateRef(weights, hinvUpper, rows, cols, { kind: 'mask', keepMask });
    sparsegptLazyUpdateRef(state, sparsegptBlockRef(state, 0, 128), 0, 128);
    const session = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask } });
    try {
      await session.runBlock(0, 128);
      const got = await session.read();
      expectClose(got.weights, state.weights, updateTolerance(128, weights, state.weights), 'GPT-2 block 0');
    } finally {
      session.destroy();
    }
  });

  test('a sweep creates no buffer or bind group after its first block, and equals the reference', async () => {
    const c = calibratedCase('sweep of 8 blocks', 24, 256, 32, 70);
    const { device, counts } = countingDevice(gpu().device);
    const ctx = new GpuContext(device);
    const session = new SparseGptGpu(ctx, { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern });
    try {
      await session.runBlock(0, 32);
      const afterFirst = { ...counts };
      for (let start = 32; start < c.cols; start += 32) await session.runBlock(start, start + 32);
      await ctx.flush();
      expect(counts).toEqual(afterFirst);
      const got = await session.read();
      const expected = runRef(c);
      expect(got.keepMask).toEqual(expected.keepMask);
      expectClose(got.weights, expected.weights, updateTolerance(c.cols, c.weights, expected.weights), 'sweep');
    } finally {
      session.destroy();
      ctx.destroy();
    }
  });

  test('split: row ranges and a folded grid under capped limits', async () => {
    // U (24×24 f32) is 2304 bytes and fills a binding: rows go in ranges of 24, 24 and 12;
    // 24 rows are 3 updateBlock workgroups of 8 rows, folded to 2×2 with one padding workgroup.
    const c = calibratedCase('split', 60, 24, 8, 60);
    const ctx = new GpuContext(gpu().device, { limitCaps: { maxComputeWorkgroupsPerDimension: 2, maxStorageBufferBindingSize: 24 * 24 * 4 } });
    const expected = runRef(c);
    const got = await sparsegptPruneGpu(ctx, { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
    expectClose(got.weights, expected.weights, updateTolerance(c.cols, c.weights, expected.weights), 'split');
  });
});
