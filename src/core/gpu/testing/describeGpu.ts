// The vitest side of the GPU tests: a describe block that gets its device from nodeDevice.ts.
import { afterAll, beforeAll, describe } from 'vitest';
import { GpuContext } from '../context';
import { acquireNodeGpu, SKIP_GPU_TESTS_ENV, type NodeGpu } from './nodeDevice';

/**
 * A describe block whose tests get a GpuContext on a Node device. Without an adapter every test
 * in it fails with the reason; with LAB_SKIP_GPU_TESTS=1 the block is skipped and its name says why.
 */
export function describeGpu(name: string, body: (gpu: () => GpuContext) => void): void {
  if (process.env[SKIP_GPU_TESTS_ENV] === '1') {
    console.warn(`[${name}] skipped: ${SKIP_GPU_TESTS_ENV}=1, the GPU kernels were not run`);
    describe.skip(`${name} [skipped: ${SKIP_GPU_TESTS_ENV}=1, GPU kernels not run]`, () => body(() => unreachableContext()));
    return;
  }
  describe(name, () => {
    let nodeGpu: NodeGpu | null = null;
    let context: GpuContext | null = null;
    beforeAll(async () => {
      nodeGpu = await acquireNodeGpu();
      context = new GpuContext(nodeGpu.device);
      const fallback = nodeGpu.notes.length > 0 ? ` (not used: ${nodeGpu.notes.join('; ')})` : '';
      console.info(`[${name}] GPU: ${nodeGpu.description}${fallback}`);
    });
    afterAll(() => {
      context?.destroy();
      nodeGpu?.device.destroy();
    });
    body(() => {
      if (!context) throw new Error('GPU context missing: device acquisition failed (see beforeAll)');
      return context;
    });
  });
}

function unreachableContext(): GpuContext {
  throw new Error(`GPU tests are skipped (${SKIP_GPU_TESTS_ENV}=1)`);
}
