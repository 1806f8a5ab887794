// End-to-end: every WGSL kernel's cases against its CPU reference in headless Chromium's WebGPU
// (SwiftShader), on the built kernel-check.html page. The same checks run in Node through the
// webgpu package (src/core/gpu/testing/kernelChecks.test.ts); this is the browser half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKED_KERNELS, type KernelCheckSummary } from '../src/core/gpu/testing/kernelCheckResult';
import { labFixture, openPage } from './harness';

const lab = labFixture({ webgpu: true });

test('every kernel matches its CPU reference on the browser WebGPU adapter', { timeout: 90_000 }, async () => {
  const t0 = Date.now();
  const { page, pageErrors } = await openPage(lab.browser, `${lab.url}kernel-check.html`);
  await page.waitForFunction(() => (window as Window & { __kernelCheck?: unknown }).__kernelCheck !== undefined, undefined, { timeout: 80_000 });
  const summary = (await page.evaluate(() => (window as Window & { __kernelCheck?: unknown }).__kernelCheck)) as KernelCheckSummary;
  console.info(`[kernels e2e] ${summary.results.length} cases on ${summary.adapter} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(summary.error, undefined, `the page ran no checks: ${summary.error}`);
  assert.deepEqual(pageErrors, []);
  for (const kernel of CHECKED_KERNELS) assert.ok(summary.results.some((r) => r.kernel === kernel), `no browser case for ${kernel}`);
  const failed = summary.results.filter((r) => !r.ok);
  assert.deepEqual(failed.map((r) => `${r.kernel} / ${r.case}: ${r.message}`), [], 'failed kernel checks');
  // The visible table says the same as the JSON.
  assert.equal(await page.locator('#results tbody tr[data-ok=true]').count(), summary.results.length);
  await page.close();
});
