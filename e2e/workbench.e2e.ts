// The workbench as a newcomer meets it, in Chromium whose only WebGPU adapter is SwiftShader: the
// default page chooses WASM and says why; the dense baseline, then the default Wanda run, with
// both times printed from the page's User Timing marks; a 1:4 run from the panel; an invalid field
// blocking Run until fixed; runs accumulating; a pruned model dropped back in labelled as pruned;
// axe-core on the main states; screenshots at three sizes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, labCli, labFixture, openPage, openTab, runMetric, runRecipeAndWait, seriousViolations } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: true });


async function markTime(page: Page, from: string, to: string): Promise<number> {
  // No named functions inside evaluate: tsx would wrap them in a helper the page does not have.
  const [a, b] = await page.evaluate((names) => names.map((name) => (name === 'navigationStart' ? 0 : performance.getEntriesByName(name, 'mark').at(-1)!.startTime)), [from, to]);
  return b - a;
}

describe('the workbench on a machine whose only WebGPU adapter is software', () => {
  let page: Page;
  let pageErrors: string[];
  const violations: string[] = [];

  before(async () => {
    ({ page, pageErrors } = await openPage(lab.browser, lab.url));
    await page.setViewportSize({ width: 1280, height: 720 });
  });
  after(async () => {
    await page?.close();
  });

  test('the default page chooses WASM, says why, and shows the dense baseline', async () => {
    await page.getByTestId('metrics').waitFor({ timeout });
    assert.equal(await page.getByTestId('backend-used').innerText(), 'WASM (CPU)');
    assert.match(await page.getByTestId('backend-fallback').innerText(), /software GPU found \(SwiftShader\); using the CPU, which is faster here/);
    await page.locator('details.advanced summary').click();
    assert.match(await page.getByTestId('compute-default').innerText(), /software GPU found \(SwiftShader\); layer jobs run on the CPU/);
    assert.equal(await page.getByLabel('Layer jobs on', { exact: true }).inputValue(), 'cpu');
    await page.locator('details.advanced summary').click();
    const ms = await markTime(page, 'navigationStart', 'lab:dense-metrics');
    console.log(`[workbench e2e] page open → dense baseline on screen: ${(ms / 1000).toFixed(2)} s`);
    const ppl = Number(await page.locator('[data-testid=metrics] tr[data-metric=perplexity]').getAttribute('data-dense'));
    assert.ok(ppl > 3 && ppl < 4, `dense perplexity ${ppl}`);
    // Above the fold at 1280×720: the result and the Run button.
    for (const locator of [page.getByTestId('metrics'), page.getByRole('button', { name: 'Run recipe' })]) {
      const box = (await locator.boundingBox())!;
      assert.ok(box.y + box.height <= 720, `${await locator.innerText().then((t) => t.slice(0, 30))} ends at ${box.y + box.height} px`);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'workbench-1280x720-dense.png') });
    violations.push(...(await seriousViolations(page, 'workbench', 'dense baseline')));
  });

  test('the default Wanda 50 % run: metrics against dense, time printed', async () => {
    assert.equal(await page.getByLabel('Method', { exact: true }).inputValue(), 'wanda');
    const run = await runRecipeAndWait(page, timeout);
    assert.equal(await page.locator(`[data-testid=run-list] tr[data-run=${run}]`).getAttribute('data-status'), 'done');
    const ms = await markTime(page, `lab:${run}-start`, `lab:${run}-metrics`);
    console.log(`[workbench e2e] Run recipe (default Wanda 50 %) → pruned metrics on screen: ${(ms / 1000).toFixed(2)} s`);
    const dense = Number(await page.locator('[data-testid=run-comparison] tr[data-metric=perplexity]').getAttribute('data-dense'));
    const pruned = await runMetric(page, 'perplexity');
    assert.ok(pruned > dense && pruned < dense * 1.3, `Wanda 50 % perplexity ${pruned} vs dense ${dense}`);
    assert.equal(Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value')), 0.5);
    assert.match(await page.locator('[data-testid=run-comparison] tr[data-metric=perplexity] [data-testid=change]').innerText(), /^\+\d\.\d{3} \(\+\d+\.\d %\) worse$/);
    assert.match(await page.getByTestId('announcer').innerText(), /Run 1 finished/);

    // The builder's recipe, downloaded and run by the CLI as the copied command says, writes the same weights.
    const href = (await page.getByTestId('download-recipe').getAttribute('href'))!;
    const recipeFile = (await page.getByTestId('download-recipe').getAttribute('download'))!;
    const command = await page.getByTestId('cli-command').innerText();
    const dir = mkdtempSync(join(tmpdir(), 'lab-workbench-'));
    writeFileSync(join(dir, recipeFile), decodeURIComponent(href.slice(href.indexOf(',') + 1)));
    const args = command.replace(/^npm run lab -- /, '').split(' ').map((a) => (a.endsWith('.json') || a.endsWith('.onnx') && !a.startsWith('public/') ? join(dir, a) : a));
    const cli = labCli<{ report: { weightsSha256: string } }>(args).report;
    await openTab(page, 'Overview');
    const sha = (await page.getByTestId('weights-sha').getAttribute('title'))!;
    assert.equal(cli.weightsSha256, sha, `CLI ${command} wrote the browser's weights`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'workbench-1280x720-run.png') });
    violations.push(...(await seriousViolations(page, 'workbench', 'after a run')));
  });

  test('Try it: the dense and the compressed LM write side by side, greedy and sampled with a seed', async () => {
    await openTab(page, 'Try it');
    const tryIt = page.getByTestId('try-it');
    await tryIt.getByRole('button', { name: 'Generate' }).click();
    await tryIt.getByTestId('divergence').waitFor({ timeout });
    const columns = tryIt.locator('.teach-column');
    assert.equal(await columns.count(), 2, 'dense and Run 1 side by side');
    assert.match(await columns.nth(1).locator('h3').innerText(), /Run 1/);
    const dense = await columns.nth(0).locator('.teach-generated').innerText();
    assert.ok(dense.length >= 40, `dense text: ${dense}`);
    await columns.nth(0).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifactsDir, 'workbench-try-it.png') });
    violations.push(...(await seriousViolations(page, 'workbench', 'try it')));
    await openTab(page, 'Overview');
  });

  test('an invalid field disables Run with the reason, and fixing it re-enables Run', async () => {
    const run = page.getByRole('button', { name: 'Run recipe' });
    await page.getByTestId('sparsity').fill('120');
    await page.getByTestId('field-error').waitFor();
    assert.match(await page.getByTestId('field-error').innerText(), /sparsity must be in \[0, 1\), got 1\.2/);
    assert.ok(await run.isDisabled());
    assert.match(await page.getByTestId('run-blocked').innerText(), /sparsity must be in \[0, 1\)/);
    assert.equal(await page.getByTestId('sparsity').getAttribute('aria-invalid'), 'true');
    violations.push(...(await seriousViolations(page, 'workbench', 'invalid field')));
    await page.getByTestId('sparsity').fill('60');
    assert.equal(await page.getByTestId('field-error').count(), 0);
    assert.ok(await run.isEnabled());
    assert.equal(await page.getByTestId('run-blocked').count(), 0);
  });

  test('a 1:4 recipe runs from the panel; both runs are listed and either can be selected', async () => {
    await page.getByLabel('Pattern', { exact: true }).selectOption('nm');
    await page.getByRole('button', { name: '1:4' }).click();
    assert.match(await page.getByTestId('implied-sparsity').innerText(), /75\.0 %/);
    await runRecipeAndWait(page, timeout);
    assert.equal(Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value')), 0.75);
    const rows = page.locator('[data-testid=run-list] tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), /Run 2[\s\S]*1:4[\s\S]*75\.0 %/);
    assert.match(await rows.nth(1).innerText(), /Run 1[\s\S]*unstructured[\s\S]*50\.0 %/);
    await openTab(page, 'Layers');
    for (const row of await page.locator('[data-testid=run-layers] tbody tr').all()) assert.equal(Number(await row.getAttribute('data-achieved')), 0.75);
    await rows.nth(1).getByRole('button', { name: 'Run 1' }).click();
    assert.equal(Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value')), 0.5, 'Run 1 is shown again');
    violations.push(...(await seriousViolations(page, 'workbench', 'layers tab')));
    await openTab(page, 'Masks');
    await page.getByTestId('mask-view').locator('svg .window rect').first().waitFor({ timeout });
    await page.getByTestId('mask-view').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifactsDir, 'workbench-masks-1of4.png') });
    violations.push(...(await seriousViolations(page, 'workbench', 'masks tab')));
    await openTab(page, 'Model');
    violations.push(...(await seriousViolations(page, 'workbench', 'model tab')));
    await openTab(page, 'Overview');
  });

  test('screenshots at 1440×900 and 800×1000 without horizontal scroll', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'workbench-1440x900.png') });
    await page.setViewportSize({ width: 800, height: 1000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 800, 'no horizontal scroll at 800 px');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'workbench-800x1000.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  test('a pruned model dropped back in is labelled as pruned, with its download name', async () => {
    const link = page.getByTestId('download-run');
    assert.match((await link.getAttribute('download'))!, /^kjv-charlm\.wanda-50\.onnx$/);
    const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), (await link.getAttribute('href'))!);
    await page.getByTestId('model-file-input').setInputFiles({ name: 'kjv-charlm.wanda-50.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.getByTestId('model-name').getByText('kjv-charlm.wanda-50.onnx').waitFor({ timeout });
    const verdict = await page.getByTestId('model-compression').innerText();
    assert.match(verdict, /pruned/i);
    assert.match(verdict, /50\.0 %/);
    assert.doesNotMatch(await page.getByTestId('result-panel').innerText(), /the dense model, before any run/);
    await page.getByTestId('metrics').waitFor({ timeout });
    assert.match(await page.getByTestId('result-panel').innerText(), /pruned model as loaded/i);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'workbench-dropped-pruned.png') });
  });

  test('no serious accessibility violations in any state, and no page errors', () => {
    assert.deepEqual(violations, []);
    assert.deepEqual(pageErrors, []);
  });
});
