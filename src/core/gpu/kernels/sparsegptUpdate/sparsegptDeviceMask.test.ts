// SparseGptGpu with a DeviceBlockMask: SparseGPT's unstructured block mask chosen on the device
// (blockScores + globalSelect's threshold mode) must be the mask the CPU path's own functions
// (obsScores, blockThresholdKeep) choose from the same weights read back at each block start —
// the host path this replaces — and the sweep must neither read back nor create GPU objects
// after its first block.
import { expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { countingDevice } from '../../testing/countingDevice';
import { describeGpu } from '../../testing/describeGpu';
import { DEVICE_BLOCK_MASK_SPARSITIES, deviceBlockMaskLayer, hostBlockMask, updateTolerance } from '../../testing/cases/sparsegptUpdate';
import { SparseGptGpu } from './sparsegptUpdate.gpu';

const layer = deviceBlockMaskLayer;

describeGpu('sparsegptUpdate with the block mask chosen on the device', (gpu) => {
  test.each(DEVICE_BLOCK_MASK_SPARSITIES)('sparsity %s: the host path\'s masks and weights, bit for bit', async (sparsity) => {
    const { rows, cols, weights, hinvUpper } = layer;
    const full = { kind: 'mask' as const, keepMask: new Uint8Array(rows * cols).fill(1) };
    const host = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: full });
    const device = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: full });
    try {
      await host.run(64, hostBlockMask(rows, cols, hinvUpper, 64, sparsity));
      await device.run(64, { kind: 'blockThreshold', sparsity });
      const expected = await host.read();
      const got = await device.read();
      expectClose(got.keepMask, expected.keepMask, { atol: 0, rtol: 0 }, 'keep mask');
      // The kernel tolerance; on llvmpipe the two are bit-identical (the same f32 operations).
      expectClose(got.weights, expected.weights, updateTolerance(cols, weights, expected.weights), 'weights');
      const pruned = got.keepMask.reduce((n, k) => n + 1 - k, 0);
      // At least ⌊numel·s⌋ + 1 per block (the threshold element itself), all of it at sparsity 1.
      expect(pruned).toBeGreaterThanOrEqual(Math.min(rows * cols, 3 * (Math.floor(rows * 64 * sparsity) + 1) + Math.min(rows * 8, Math.floor(rows * 8 * sparsity) + 1)));
    } finally {
      host.destroy();
      device.destroy();
    }
  });

  test('no readback and no new buffer or bind group after the first block', async () => {
    const { rows, cols, weights, hinvUpper } = layer;
    const { device, counts } = countingDevice(gpu().device);
    const ctx = new GpuContext(device);
    const session = new SparseGptGpu(ctx, { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask: new Uint8Array(rows * cols).fill(1) } });
    try {
      const mask = { kind: 'blockThreshold', sparsity: 0.5 } as const;
      await session.runBlock(0, 64, mask);
      const afterFirst = { ...counts };
      // A readback would create a staging buffer; the last block is narrower (other uniforms only).
      for (const [start, end] of [[64, 128], [128, 192], [192, 200]]) await session.runBlock(start, end, mask);
      await ctx.flush();
      expect(counts).toEqual(afterFirst);
    } finally {
      session.destroy();
      ctx.destroy();
    }
  });

  test('refused: a device block mask with N:M chosen in the kernel, a sparsity outside [0, 1]', async () => {
    const { rows, cols, weights, hinvUpper } = layer;
    const nm = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'nm', n: 2, m: 4 } });
    await expect(nm.runBlock(0, 64, { kind: 'blockThreshold', sparsity: 0.5 })).rejects.toThrow('exclude each other');
    nm.destroy();
    const session = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask: layer.pattern.kind === 'mask' ? layer.pattern.keepMask : new Uint8Array(0) } });
    await expect(session.runBlock(0, 64, { kind: 'blockThreshold', sparsity: 1.5 })).rejects.toThrow('sparsity must be in [0, 1]');
    session.destroy();
  });
});
