// The history view in headless Chromium with real IndexedDB: two runs survive a reload with their
// metrics (and a pinned model its download); a run cut off by closing its tab comes back
// 'interrupted'; the runs exported as JSON, a malformed copy refused with the field's path and
// nothing lost, a file from another browser (a fresh context) imported; two runs compared.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { artifactsDir, labFixture, openAdvanced, runRecipeAndWait, seriousViolations } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });
const pageErrors: string[] = [];


/** A page of `context` (pages of one context share IndexedDB) with the dense baseline and the history open. */
async function openLab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[browser console] ${m.text()}`);
  });
  await page.goto(`${lab.url}?backend=wasm`);
  await page.getByTestId('metrics').waitFor({ timeout });
  await page.waitForFunction(() => document.querySelector('[data-testid=history-note]')?.textContent === 'kept in this browser', undefined, { timeout });
  return page;
}

const rows = (page: Page) => page.locator('[data-testid=run-list] tbody tr');
const row = (page: Page, id: string) => page.locator(`[data-testid=run-list] tr[data-run="${id}"]`);
/** The headline metric a row shows, at full precision. */
const rowMetric = async (page: Page, id: string) => Number(await row(page, id).locator('td[data-value]').getAttribute('data-value'));

async function download(page: Page, testId: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return readFileSync((await file.path())!);
}

async function importFile(page: Page, name: string, text: string): Promise<void> {
  await page.getByTestId('import-runs').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

describe('the history view: runs kept in the browser', () => {
  let context: BrowserContext;
  let page: Page;
  const ids: string[] = [];
  const metrics: number[] = [];

  before(async () => {
    context = await lab.browser.newContext({ viewport: { width: 1440, height: 900 } });
  });
  after(async () => {
    await context?.close();
  });

  test('two runs survive a reload with their metrics; a pinned model stays downloadable', async () => {
    page = await openLab(context);
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    ids.push(await runRecipeAndWait(page, timeout));
    // Pin run 1's model: the message says what is kept and how much storage the page uses.
    await page.getByRole('button', { name: 'Pin model' }).click();
    await page.waitForFunction(() => /^ ?Pinned: 1 model\(s\), [\d.]+ MB kept/.test(document.querySelector('[data-testid=pin-message]')?.textContent ?? ''), undefined, { timeout });
    console.log(`[history e2e] pin: ${(await page.getByTestId('pin-message').innerText()).trim()}`);
    await page.locator('[data-measure=file-size]').screenshot({ path: join(artifactsDir, 'history-pin.png') });
    const runBytes = Number(await page.getByTestId('run-file-bytes').getAttribute('data-value'));
    await page.getByTestId('sparsity').fill('70');
    ids.push(await runRecipeAndWait(page, timeout));
    for (const id of ids) metrics.push(await rowMetric(page, id));
    assert.ok(metrics[1] > metrics[0], `magnitude 70 % perplexity ${metrics[1]} is worse than 50 % ${metrics[0]}`);

    await page.reload();
    await page.getByTestId('metrics').waitFor({ timeout });
    await row(page, ids[1]).waitFor({ timeout });
    assert.match(await page.locator('#runs-title').innerText(), /^Runs \(2\) kept in this browser$/);
    for (const [i, id] of ids.entries()) {
      assert.equal(await row(page, id).getAttribute('data-status'), 'done');
      assert.equal(await rowMetric(page, id), metrics[i], `${id}'s perplexity after the reload`);
    }
    assert.match(await row(page, ids[0]).innerText(), /Run 1[\s\S]*Magnitude[\s\S]*50\.0 %/);
    assert.match(await row(page, ids[1]).innerText(), /Run 2[\s\S]*Magnitude[\s\S]*70\.0 %/);
    // The Δ column carries the paired interval, and says when it contains 0.
    const delta = row(page, ids[0]).getByTestId('run-delta');
    assert.match(await delta.innerText(), /\[[+−±]\d\.\d{3}, [+−±]\d\.\d{3}\]/);
    assert.match((await delta.getAttribute('title'))!, /paired 95 % bootstrap interval/);

    // Run 1 read back: the worker no longer holds it, its pinned file is offered instead.
    await row(page, ids[0]).getByRole('button', { name: 'Run 1' }).click();
    const pinned = await download(page, 'download-pinned');
    assert.equal(pinned.byteLength, runBytes, 'the pinned file is the run’s file');
    await row(page, ids[1]).getByRole('button', { name: 'Run 2' }).click();
    assert.match(await page.locator('[data-measure=file-size]').innerText(), /no longer held \(not pinned/);
  });

  test('a run cut off by closing its tab comes back interrupted', async () => {
    await page.getByLabel('Method', { exact: true }).selectOption('sparsegpt');
    await openAdvanced(page);
    await page.getByLabel('Calibration mode', { exact: true }).selectOption('sequential');
    await page.getByTestId('calib-samples').fill('64'); // all the bundled LM's calibration set holds
    const before = await rows(page).count();
    await page.getByRole('button', { name: 'Run recipe' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=run-list] tbody tr').length > n, before, { timeout });
    await page.getByTestId('run-progress').waitFor({ timeout });
    const id = (await page.locator('[data-testid=run-list] tr[data-status=running]').getAttribute('data-run'))!;
    // The running record is written once its tab holds the run's lock; give the write a moment.
    await page.waitForTimeout(1500);
    await page.close();

    page = await openLab(context);
    await row(page, id).waitFor({ timeout });
    assert.equal(await row(page, id).getAttribute('data-status'), 'interrupted');
    assert.match((await row(page, id).locator('td.status-interrupted').getAttribute('title'))!, /tab was closed or crashed/);
    assert.match(await row(page, id).innerText(), /Run 3[\s\S]*SparseGPT[\s\S]*interrupted/);
    ids.push(id);
  });

  test('export to JSON; a malformed file is refused with the field’s path and nothing is lost; a file from another browser is imported', async () => {
    const text = (await download(page, 'export-runs')).toString('utf8');
    const file = JSON.parse(text) as { format: string; version: number; records: { id: string; status: string; model: { sha256: string } }[] };
    assert.equal(file.format, 'compression-lab/experiments');
    assert.equal(file.version, 1);
    assert.deepEqual(file.records.map((r) => r.id).sort(), [...ids].sort());
    assert.deepEqual(file.records.map((r) => r.status).sort(), ['done', 'done', 'interrupted']);

    const badHash = structuredClone(file);
    badHash.records[0].model.sha256 = 'xyz';
    await importFile(page, 'bad-hash.json', JSON.stringify(badHash));
    await page.waitForFunction(() => (document.querySelector('[data-testid=history-alert]')?.textContent ?? '') !== '', undefined, { timeout });
    const refusal = await page.getByTestId('history-alert').innerText();
    console.log(`[history e2e] refused: ${refusal}`);
    assert.match(refusal, /^bad-hash\.json: Not imported: records\[0\]\.model\.sha256: must be 64 lower-case hex digits.*Nothing stored was changed\.$/);
    await importFile(page, 'version-2.json', JSON.stringify({ ...file, version: 2 }));
    await page.waitForFunction(() => /^version-2\.json/.test(document.querySelector('[data-testid=history-alert]')?.textContent ?? ''), undefined, { timeout });
    assert.match(await page.getByTestId('history-alert').innerText(), /version: this lab reads experiments files of version 1, got 2/);
    assert.equal(await rows(page).count(), 3, 'nothing was added or lost');

    // Another browser: a fresh context, its own IndexedDB, one run of its own, exported.
    const other = await lab.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const otherPage = await openLab(other);
    await otherPage.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await otherPage.getByTestId('sparsity').fill('30');
    await runRecipeAndWait(otherPage, timeout);
    const otherText = (await download(otherPage, 'export-runs')).toString('utf8');
    await other.close();

    await importFile(page, 'other-browser.json', otherText);
    await page.waitForFunction(() => /imported/.test(document.querySelector('[data-testid=history-status]')?.textContent ?? ''), undefined, { timeout });
    console.log(`[history e2e] imported: ${await page.getByTestId('history-status').innerText()}`);
    assert.equal(await page.getByTestId('history-alert').innerText(), '');
    assert.equal(await rows(page).count(), 4);
    // The other browser's run 1 is run 4 here: "run N" names one run in the list.
    assert.match(await page.getByTestId('history-status').innerText(), /^other-browser\.json: 1 run\(s\) imported; 1 renumbered, their run numbers were taken\.$/);
    assert.match(await rows(page).filter({ hasText: '30.0 %' }).innerText(), /Run 4[\s\S]*Magnitude[\s\S]*30\.0 %[\s\S]*done/);
    // Kept: the import is in IndexedDB, not only on screen.
    await page.reload();
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-list] tbody tr').length === 4, undefined, { timeout });
  });

  test('sort and filter the list, then compare two runs: measures, recipe diff, per-layer differences', async () => {
    const metricHeader = page.locator('[data-testid=run-list] thead th').filter({ hasText: 'Perplexity' });
    await metricHeader.getByRole('button').click();
    assert.equal(await metricHeader.getAttribute('aria-sort'), 'ascending');
    const sorted = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.querySelector('td[data-value]')?.getAttribute('data-value')).filter((v) => v).map(Number));
    assert.deepEqual(sorted, [...sorted].sort((a, b) => a - b), 'perplexity ascending');
    assert.equal(await rows(page).last().getAttribute('data-status'), 'interrupted', 'a run without the metric sorts last');
    await page.getByLabel('Filter by method').selectOption('prune:sparsegpt');
    assert.equal(await rows(page).count(), 1);
    assert.equal(await page.getByTestId('filter-count').innerText(), '1 of 4 shown');
    await page.getByLabel('Filter by method').selectOption('');

    await page.getByLabel('Select run 1', { exact: true }).check();
    assert.ok(await page.getByRole('button', { name: 'Compare' }).isDisabled(), 'Compare needs two runs');
    await page.getByLabel('Select run 2', { exact: true }).check();
    await page.getByRole('button', { name: 'Compare' }).click();
    const compare = page.getByTestId('run-compare');
    await compare.waitFor();
    assert.match(await compare.locator('h3').innerText(), /Run 1 vs Run 2/);
    assert.deepEqual(await compare.getByTestId('recipe-diff').locator('li').allInnerTexts(), ['stages[0].pattern.sparsity: 0.5 → 0.7']);
    const ppl = compare.locator('[data-testid=compare-measures] tr[data-measure=perplexity]');
    assert.equal(Number(await ppl.getAttribute('data-a')), metrics[0]);
    assert.equal(Number(await ppl.getAttribute('data-b')), metrics[1]);
    assert.match(await ppl.innerText(), /\+\d\.\d{3} \(\+\d+\.\d %\)/);
    assert.match(await compare.locator('tr[data-measure=sparsity]').innerText(), /50\.00 %\s+70\.00 %\s+\+20\.00 pp/);
    const layers = compare.getByTestId('compare-layers').locator('tbody tr');
    assert.ok((await layers.count()) > 0);
    assert.match(await layers.first().innerText(), /50\.0 % → 70\.0 % \(\+20\.0 pp\)/);
    console.log(`[history e2e] compare: ${await layers.count()} layers; first: ${(await layers.first().innerText()).replace(/\s+/g, ' ')}`);

    await page.locator('section.history').scrollIntoViewIfNeeded();
    await page.locator('section.history').screenshot({ path: join(artifactsDir, 'history-compare.png') });
    const violations = await seriousViolations(page, 'history', 'compare', 'section.history');
    await compare.getByRole('button', { name: 'Close comparison' }).click();
    await page.locator('section.history').screenshot({ path: join(artifactsDir, 'history.png') });
    violations.push(...(await seriousViolations(page, 'history', 'history', 'section.history')));
    assert.deepEqual(violations, []);

    // Delete asks first; the list and the history lose the run.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByLabel('Select run 1', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Delete selected (1)' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-list] tbody tr').length === 3, undefined, { timeout });
    assert.match(await page.getByTestId('history-status').innerText(), /1 run\(s\) deleted/);
    await page.reload();
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-list] tbody tr').length === 3, undefined, { timeout });
    assert.equal(await row(page, ids[1]).count(), 0, 'run 2 is gone after a reload');
    assert.deepEqual(pageErrors, []);
  });
});
