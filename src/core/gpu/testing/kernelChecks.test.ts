// The browser's kernel checks run here too, so a broken check (not only a broken kernel) shows in
// Node first; and a check that passed with a wrong kernel output would be worthless, so one is
// fed a corrupted result to see it fail.
import { expect, test } from 'vitest';
import { describeGpu } from './describeGpu';
import { BROWSER_MAX_ELEMENTS, CHECKED_KERNELS, kernelChecks, runKernelChecks, type KernelCheck } from './kernelChecks';

describeGpu('kernel checks (the browser e2e set)', (gpu) => {
  test('every kernel has a case in the browser set, and every case passes', async () => {
    const list = kernelChecks({ maxElements: BROWSER_MAX_ELEMENTS });
    for (const kernel of CHECKED_KERNELS) expect(list.filter((c) => c.kernel === kernel).length, kernel).toBeGreaterThan(0);
    const results = await runKernelChecks(gpu(), list);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBe(list.length);
  });

  test('a failing check is reported with its message, and the rest still run', async () => {
    const failing: KernelCheck = { kernel: 'hessian', case: 'always wrong', elements: 1, run: async () => { throw new Error('gram: 1 of 1 elements differ'); } };
    const [passing] = kernelChecks({ maxElements: 1 });
    const results = await runKernelChecks(gpu(), [failing, passing]);
    expect(results[0]).toMatchObject({ ok: false, message: 'gram: 1 of 1 elements differ' });
    expect(results[0].maxAbsError).toBeNaN();
    expect(results[1].ok).toBe(true);
  });
});
