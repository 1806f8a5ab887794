// End-to-end pruning in headless Chromium: SparseGPT 2:4 on the bundled LM, the reported sparsity
// and perplexity, the same weights hash as the CLI running recipes/sparsegpt-2of4.json (the same
// staged document the page builds, at 16 samples), impossible recipes refused
// before any work, cancel leaving the app usable, and a WebGPU run that says where its jobs ran.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, labFixture, openPage } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: true });

async function chooseSparseGpt24(page: Page, computeBackend: 'cpu' | 'webgpu', poolSize: number): Promise<void> {
  await page.getByLabel('Method').selectOption('sparsegpt');
  await page.getByLabel('Pattern').selectOption('nm');
  await page.getByTestId('pattern-n').fill('2');
  await page.getByTestId('pattern-m').fill('4');
  await page.getByTestId('calib-samples').fill('16');
  await page.getByLabel('Compute backend').selectOption(computeBackend);
  await page.getByTestId('pool-size').fill(String(poolSize));
}

function cliPrune(): { weightsSha256: string; achieved: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-e2e-'));
  const recipe = JSON.parse(readFileSync('recipes/sparsegpt-2of4.json', 'utf8'));
  recipe.calibration.samples = 16;
  writeFileSync(join(dir, 'recipe.json'), JSON.stringify(recipe));
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/lab.ts', 'run', join(dir, 'recipe.json'), 'public/models/kjv-charlm', '-o', join(dir, 'out.onnx'), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const report = JSON.parse(out).report;
  return { weightsSha256: report.weightsSha256, achieved: report.totals.achievedSparsityPruned };
}

async function prunedMetric(page: Page, key: string): Promise<number> {
  const row = page.locator(`[data-testid=prune-comparison] tr[data-metric=${key}]`);
  await page.waitForFunction((k) => document.querySelector(`[data-testid=prune-comparison] tr[data-metric=${k}]`)?.getAttribute('data-value'), key, { timeout });
  return Number(await row.getAttribute('data-value'));
}

describe('pruning the bundled LM', () => {
  test('SparseGPT 2:4 on the CPU path: 50 % sparsity, sane perplexity, same weights as the CLI', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    const densePpl = Number(await page.locator('[data-testid=metrics] tr[data-metric=perplexity]').getAttribute('data-value'));
    await chooseSparseGpt24(page, 'cpu', 2);
    await page.getByRole('button', { name: 'Run pruning' }).click();
    await page.getByTestId('prune-progress').waitFor();
    const ppl = await prunedMetric(page, 'perplexity');
    assert.ok(ppl > densePpl && ppl < densePpl * 3, `pruned perplexity ${ppl} vs dense ${densePpl}`);
    assert.equal(await page.getByTestId('achieved-sparsity').innerText(), '50.00 %');
    for (const row of await page.locator('[data-testid=prune-layers] tbody tr').all()) assert.equal(Number(await row.getAttribute('data-achieved')), 0.5);
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
    await page.getByTestId('sparsity').fill('1');
    assert.match(await page.getByTestId('recipe-problems').innerText(), /sparsity/i);
    assert.ok(await page.getByRole('button', { name: 'Run pruning' }).isDisabled());
    await page.getByTestId('sparsity').fill('0.5');
    await page.getByLabel('Pattern').selectOption('nm');
    await page.getByTestId('pattern-n').fill('4');
    await page.getByTestId('pattern-m').fill('4');
    assert.match(await page.getByTestId('recipe-problems').innerText(), /N:M needs N < M/);
    await page.getByLabel('Pattern').selectOption('vnm');
    await page.getByTestId('pattern-v').fill('7');
    assert.match(await page.getByTestId('recipe-problems').innerText(), /V = 7 does not divide/);
    await page.close();
  });

  test('cancel stops the run and leaves the model and app usable', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await chooseSparseGpt24(page, 'cpu', 1);
    await page.getByRole('button', { name: 'Run pruning' }).click();
    await page.getByTestId('prune-progress').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('prune-message').waitFor({ timeout });
    assert.match(await page.getByTestId('prune-message').innerText(), /cancelled/i);
    assert.ok(await page.getByTestId('metrics').isVisible(), 'dense metrics still shown');
    await page.getByLabel('Method').selectOption('magnitude');
    await page.getByRole('button', { name: 'Run pruning' }).click();
    await prunedMetric(page, 'perplexity');
    await page.close();
  });

  test('WebGPU layer jobs and calibration Hessians report their backend', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Method').selectOption('wanda');
    await page.getByLabel('Compute backend').selectOption('webgpu');
    // 16 samples as above: the backends are the point here, and SwiftShader's Hessians are slow.
    await page.getByTestId('calib-samples').fill('16');
    await page.getByRole('button', { name: 'Run pruning' }).click();
    await prunedMetric(page, 'perplexity');
    assert.equal(await page.getByTestId('prune-fallback').count(), 0, 'no fallback to the CPU');
    const backends = await page.locator('[data-testid=prune-layers] tbody tr td:nth-child(7)').allInnerTexts();
    assert.ok(backends.length > 0 && backends.every((b) => b.startsWith('webgpu')), `backends: ${[...new Set(backends)].join(', ')}`);
    const calibration = await page.getByTestId('calibration-summary').innerText();
    assert.match(calibration, /Hessians on WebGPU/, calibration);
    await page.close();
  });
});
