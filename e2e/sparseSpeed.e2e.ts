// End-to-end: the "Sparse speed" tab measures the dense, 2:4 and block-sparse WGSL matmul kernels
// on headless Chromium's WebGPU adapter (SwiftShader) in a worker, and shows three measured
// tokens-per-second numbers per layer shape with the adapter's name. Without WebGPU it says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, labFixture, openPage, openTab, seriousViolations } from './harness';

const lab = labFixture({ webgpu: true });

test('the Sparse speed tab measures dense, 2:4 and block-sparse kernels and names the adapter', { timeout: 120_000 }, async () => {
  const { page, pageErrors } = await openPage(lab.browser, lab.url);
  await openTab(page, 'Sparse speed');
  await page.getByTestId('sparse-speed-run').click();
  await page.getByTestId('sparse-speed-verdict').or(page.getByTestId('sparse-speed-error')).waitFor({ timeout: 100_000 });
  assert.equal(await page.getByTestId('sparse-speed-error').count(), 0, await page.getByTestId('sparse-speed-error').innerText().catch(() => ''));
  const adapter = await page.getByTestId('sparse-speed-adapter').innerText();
  assert.match(adapter, /Adapter: \S+/);
  assert.match(adapter, /software adapter/i, 'SwiftShader must be named a software adapter');
  const rows = page.getByTestId('sparse-speed-row');
  assert.equal(await rows.count(), 3, 'one row per layer shape of the bundled LM');
  const measured: string[] = [];
  for (const id of ['dense', 'nm24', 'block']) {
    const values = await page.getByTestId(`tps-${id}`).evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-value'))));
    assert.equal(values.length, 3);
    for (const v of values) assert.ok(Number.isFinite(v) && v > 0, `${id}: ${v} tokens/s is not a measurement`);
    measured.push(`${id} ${values.map((v) => v.toFixed(0)).join(' / ')}`);
  }
  console.info(`[sparse speed e2e] tokens/s (attention / MLP up / MLP down): ${measured.join('; ')}`);
  console.info(`[sparse speed e2e] ${adapter.split('\n')[0]}; ${(await page.getByTestId('sparse-speed-verdict').innerText()).trim()}`);
  assert.deepEqual(await seriousViolations(page, 'sparse speed', 'measured', '[data-testid=sparse-speed]'), []);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('the recipe builder offers block groups: shape, sparsity, and a refused sparsity named on its field', { timeout: 120_000 }, async () => {
  const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
  await page.getByTestId('metrics').waitFor({ timeout: 100_000 });
  await page.getByLabel('Pattern', { exact: true }).selectOption('block');
  await page.getByTestId('block-shape').selectOption('4x1');
  await page.getByTestId('sparsity').fill('100');
  assert.match(await page.getByTestId('field-error').innerText(), /sparsity must be in \[0, 1\)/i);
  assert.ok(await page.getByRole('button', { name: 'Run recipe' }).isDisabled());
  await page.getByTestId('sparsity').fill('50');
  assert.equal(await page.getByTestId('field-error').count(), 0);
  assert.ok(await page.getByRole('button', { name: 'Run recipe' }).isEnabled());
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('without WebGPU the panel says so plainly', { timeout: 60_000 }, async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page } = await openPage(browser, lab.url);
    await openTab(page, 'Sparse speed');
    await page.getByTestId('sparse-speed-run').click();
    const error = await page.getByTestId('sparse-speed-error').innerText({ timeout: 30_000 });
    assert.match(error, /No WebGPU in this browser/);
    assert.equal(await page.getByTestId('sparse-speed-row').count(), 0);
  } finally {
    await browser.close();
  }
});
