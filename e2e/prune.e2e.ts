// End-to-end pruning in headless Chromium: SparseGPT 2:4 on the bundled LM, the reported sparsity
// and perplexity, the same weights hash as the CLI running recipes/sparsegpt-2of4.json (the same
// staged document the page builds, at 16 samples), impossible recipes refused
// before any work, cancel leaving the app usable, and a WebGPU run that says where its jobs ran.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, labCli, labFixture, openAdvanced, openPage, openTab, runMetric, runRecipeAndWait } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: true });

async function chooseSparseGpt24(page: Page, computeBackend: 'cpu' | 'webgpu', poolSize: number): Promise<void> {
  await page.getByLabel('Method', { exact: true }).selectOption('sparsegpt');
  await page.getByLabel('Pattern', { exact: true }).selectOption('nm');
  await page.getByTestId('pattern-n').fill('2');
  await page.getByTestId('pattern-m').fill('4');
  await openAdvanced(page);
  await page.getByTestId('calib-samples').fill('16');
  // recipes/sparsegpt-2of4.json calibrates block by block; the builder starts one-pass.
  await page.getByLabel('Calibration mode', { exact: true }).selectOption('sequential');
  await page.getByLabel('Layer jobs on', { exact: true }).selectOption(computeBackend);
  await page.getByTestId('pool-size').fill(String(poolSize));
}

function cliPrune(): { weightsSha256: string; achieved: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-e2e-'));
  const recipe = JSON.parse(readFileSync('recipes/sparsegpt-2of4.json', 'utf8'));
  recipe.calibration.samples = 16;
  writeFileSync(join(dir, 'recipe.json'), JSON.stringify(recipe));
  const { report } = labCli<{ report: { weightsSha256: string; totals: { achievedSparsityPruned: number } } }>(['run', join(dir, 'recipe.json'), 'public/models/kjv-charlm', '-o', join(dir, 'out.onnx')]);
  return { weightsSha256: report.weightsSha256, achieved: report.totals.achievedSparsityPruned };
}


describe('pruning the bundled LM', () => {
  test('SparseGPT 2:4 on the CPU path: 50 % sparsity, sane perplexity, same weights as the CLI', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    const densePpl = Number(await page.locator('[data-testid=metrics] tr[data-metric=perplexity]').getAttribute('data-dense'));
    await chooseSparseGpt24(page, 'cpu', 2);
    await runRecipeAndWait(page, timeout);
    const ppl = await runMetric(page, 'perplexity');
    assert.ok(ppl > densePpl && ppl < densePpl * 3, `pruned perplexity ${ppl} vs dense ${densePpl}`);
    assert.equal(await page.getByTestId('achieved-sparsity').innerText(), '50.0 %');
    assert.equal(Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value')), 0.5);
    await openTab(page, 'Layers');
    for (const row of await page.locator('[data-testid=run-layers] tbody tr').all()) assert.equal(Number(await row.getAttribute('data-achieved')), 0.5);
    await openTab(page, 'Overview');
    const sha = (await page.getByTestId('weights-sha').innerText()).replace('…', '');
    const cli = cliPrune();
    assert.ok(cli.weightsSha256.startsWith(sha), `browser weights ${sha}… vs CLI ${cli.weightsSha256}`);
    await page.screenshot({ path: join(artifactsDir, 'lab-prune-sparsegpt-2-4.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  test('impossible recipes are refused with a message before any work starts', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByTestId('sparsity').fill('100');
    assert.match(await page.getByTestId('field-error').innerText(), /sparsity must be in \[0, 1\)/i);
    assert.ok(await page.getByRole('button', { name: 'Run recipe' }).isDisabled());
    await page.getByTestId('sparsity').fill('50');
    assert.equal(await page.getByTestId('field-error').count(), 0);
    await page.getByLabel('Pattern', { exact: true }).selectOption('nm');
    await page.getByTestId('pattern-n').fill('4');
    await page.getByTestId('pattern-m').fill('4');
    assert.match(await page.getByTestId('field-error').innerText(), /N:M needs N < M/);
    await page.getByLabel('Pattern', { exact: true }).selectOption('vnm');
    await page.getByTestId('pattern-v').fill('7');
    assert.match(await page.getByTestId('field-error').innerText(), /V = 7 does not divide/);
    assert.match(await page.getByTestId('run-blocked').innerText(), /V = 7 does not divide/);
    await page.close();
  });

  test('cancel stops the run and leaves the model and app usable', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await chooseSparseGpt24(page, 'cpu', 1);
    await page.getByRole('button', { name: 'Run recipe' }).click();
    await page.getByTestId('run-progress').waitFor();
    await page.getByTestId('run-progress').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('run-message').waitFor({ timeout });
    assert.match(await page.getByTestId('run-message').innerText(), /cancelled/i);
    assert.ok(await page.getByTestId('run-comparison').isVisible(), 'dense metrics still shown');
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await runRecipeAndWait(page, timeout);
    await runMetric(page, 'perplexity');
    assert.equal(await page.locator('[data-testid=run-list] tbody tr').count(), 2, 'the cancelled run stays listed');
    await page.close();
  });

  test('WebGPU layer jobs and calibration Hessians report their backend', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Method', { exact: true }).selectOption('sparsegpt');
    await openAdvanced(page);
    await page.getByLabel('Layer jobs on', { exact: true }).selectOption('webgpu');
    // 16 samples as above: the backends are the point here, and SwiftShader's Hessians are slow.
    await page.getByTestId('calib-samples').fill('16');
    await runRecipeAndWait(page, timeout);
    await runMetric(page, 'perplexity');
    assert.equal(await page.getByTestId('run-fallback').count(), 0, 'no fallback to the CPU');
    await openTab(page, 'Layers');
    const backends = await page.locator('[data-testid=run-layers] tbody tr td:nth-child(8)').allInnerTexts();
    assert.ok(backends.length > 0 && backends.every((b) => b.startsWith('webgpu')), `backends: ${[...new Set(backends)].join(', ')}`);
    await openTab(page, 'Overview');
    const calibration = await page.getByTestId('calibration-summary').innerText();
    assert.match(calibration, /Hessians\) on WebGPU/, calibration);
    await page.close();
  });
});
