// `npm start` is one of the README's two commands: the Vite dev server (not the build) must serve
// a working lab too — ORT's runtime files under /ort/ with the cross-origin isolation headers its
// wasm threads need, and the worker modules untransformed by a bundle step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ViteDevServer } from 'vite';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, readMetrics } from './harness';

let server: ViteDevServer;
let browser: Browser;

before(async () => {
  server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
  await server.listen();
  browser = await launchBrowser({ webgpu: false });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the dev server serves the lab: the bundled ViT loads and evaluates on WASM', async () => {
  const url = server.resolvedUrls!.local[0];
  const { page, pageErrors } = await openPage(browser, `${url}?backend=wasm&model=digits-vit`);
  await page.getByTestId('metrics').waitFor({ timeout: 120_000 });
  const metrics = await readMetrics(page);
  assert.equal(metrics.evalSamples.value, 360);
  assert.ok(metrics.top1.value > 0.95, `top-1 ${metrics.top1.value}`);
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, 'the page is cross-origin isolated (threads)');
  assert.deepEqual(pageErrors, []);
  await page.close();
});
