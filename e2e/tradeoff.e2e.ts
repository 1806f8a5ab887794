// The trade-off tab in headless Chromium: a 3-point magnitude sparsity sweep on the bundled LM, run
// point by point as normal runs, with progress and an estimate of the time left; the chart fills
// with the three runs beside the dense star, perplexity rising with sparsity, the frontier drawn;
// a point opens its run; a second sweep cancelled mid-way keeps its finished points and never
// starts the rest.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, labFixture, openPage, openTab } from './harness';

const timeout = 600_000;
const lab = labFixture({ webgpu: false });

/** Each sweep point's value, status and run id, in order. */
async function sweepPoints(page: Page): Promise<{ value: string; status: string; run: string | null }[]> {
  return page.locator('[data-testid=sweep-points] li').evaluateAll((items) =>
    items.map((li) => ({ value: li.querySelector('.sweep-point-value')!.textContent!, status: li.getAttribute('data-status')!, run: li.getAttribute('data-run') })),
  );
}

/** The chart's run points with their full-precision coordinates. */
async function chartPoints(page: Page): Promise<{ run: string; x: number; y: number; frontier: boolean }[]> {
  return page.locator('[data-testid=tradeoff-chart] svg g.run').evaluateAll((gs) =>
    gs.map((g) => ({ run: g.getAttribute('data-run')!, x: Number(g.getAttribute('data-x')), y: Number(g.getAttribute('data-y')), frontier: g.getAttribute('data-frontier') === 'true' })),
  );
}

/**
 * Runs in the page (a string, so tsx's helpers stay out of it): clicks Cancel sweep as soon as the
 * first point is done.
 */
const cancelWhenFirstPointDone = `new Promise((resolve) => {
  const tryCancel = () => {
    const progress = document.querySelector('[data-testid=sweep-progress]');
    if (Number(progress?.getAttribute('data-done') ?? 0) < 1) return false;
    document.querySelector('[data-testid=sweep-cancel]').click();
    resolve();
    return true;
  };
  if (tryCancel()) return;
  const observer = new MutationObserver(() => tryCancel() && observer.disconnect());
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
})`;

const sweepDone = (page: Page, atLeast: number) => page.waitForFunction((n) => Number(document.querySelector('[data-testid=sweep-progress]')?.getAttribute('data-done') ?? -1) >= n, atLeast, { timeout });
const sweepEnded = (page: Page, status: string) => page.locator(`[data-testid=sweep-summary][data-status=${status}]`).waitFor({ timeout });

describe('trade-off view and sweeps', () => {
  test('a magnitude sparsity sweep fills the chart; a point opens its run; a cancelled sweep keeps what finished', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    // Magnitude needs no calibration: the fastest sweep that still moves perplexity.
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await openTab(page, 'Trade-off');
    const view = page.getByTestId('tradeoff-view');
    await view.getByTestId('tradeoff-empty').waitFor();
    assert.equal(await page.getByTestId('sweep-param').inputValue(), 'stages[0].pattern.sparsity');

    // A bad value is refused at once, naming it; the button says why it is disabled.
    const values = page.getByTestId('sweep-values');
    await values.fill('0.3,0.5,1.5');
    assert.match(await page.getByTestId('sweep-problems').innerText(), /value 1\.5: stages\[0\]\.pattern: sparsity must be in \[0, 1\)/);
    assert.equal(await page.getByTestId('sweep-run').isDisabled(), true);
    assert.match(await page.getByTestId('sweep-run-blocked').innerText(), /value 1\.5/);
    await values.fill('0.3,0.5,0.7');
    assert.equal(await page.getByTestId('sweep-problems').count(), 0);
    assert.match(await page.getByTestId('sweep-run').innerText(), /Run sweep \(3 points\)/);
    assert.match(await page.getByTestId('sweep-compare').innerText(), /9 points/);

    const started = Date.now();
    await page.getByTestId('sweep-run').click();
    await page.getByTestId('sweep-progress').waitFor({ timeout });
    assert.match(await page.getByTestId('sweep-time-left').innerText(), /estimating…/);
    const progressText = await page.getByTestId('sweep-progress-text').innerText();
    assert.match(progressText, /0 of 3 points done · point 1: stage 1: sparsity = 0\.3/);
    await sweepDone(page, 1);
    const afterFirst = await page.getByTestId('sweep-time-left').innerText().catch(() => 'finished');
    console.log(`[tradeoff e2e] after the first point: "${(await page.getByTestId('sweep-progress-text').innerText().catch(() => ''))}", "${afterFirst}"`);
    if (afterFirst !== 'finished') assert.match(afterFirst, /about \d+(\.\d)? s left/);
    await sweepEnded(page, 'done');
    const seconds = (Date.now() - started) / 1000;
    console.log(`[tradeoff e2e] 3-point magnitude sweep: ${seconds.toFixed(1)} s, ${(seconds / 3).toFixed(1)} s per point`);
    console.log(`[tradeoff e2e] summary: ${await page.getByTestId('sweep-summary').innerText()}`);

    // Three runs and the dense star; perplexity rises with sparsity.
    const points = await sweepPoints(page);
    assert.deepEqual(points.map((p) => [p.value, p.status]), [['0.3', 'done'], ['0.5', 'done'], ['0.7', 'done']]);
    await page.locator('[data-testid=tradeoff-chart] svg g.run').nth(2).waitFor({ timeout });
    const onChart = await chartPoints(page);
    assert.equal(onChart.length, 3);
    assert.equal(await page.locator('[data-testid=tradeoff-chart] svg g.dense').count(), 1);
    const ppl = points.map((p) => onChart.find((c) => c.run === p.run)!.y);
    const densePpl = Number(await page.locator('[data-testid=tradeoff-chart] svg g.dense').getAttribute('data-y'));
    console.log(`[tradeoff e2e] perplexity: dense ${densePpl.toFixed(3)}, sparsity 0.3/0.5/0.7 → ${ppl.map((v) => v.toFixed(3)).join(' / ')}`);
    assert.ok(densePpl < ppl[0] && ppl[0] < ppl[1] && ppl[1] < ppl[2], `perplexity rises with sparsity: ${densePpl} ${ppl}`);
    // Pruned weights are stored dense: the file does not shrink, and the view says so.
    if (new Set(onChart.map((c) => c.x)).size === 1) await page.getByTestId('tradeoff-note').waitFor();

    // Non-zero weights: fewer with sparsity, every run on the frontier.
    const axis = page.getByTestId('tradeoff-axis');
    await axis.selectOption('params');
    const byParams = await chartPoints(page);
    const params = points.map((p) => byParams.find((c) => c.run === p.run)!.x);
    assert.ok(params[0] > params[1] && params[1] > params[2], `non-zero weights fall with sparsity: ${params}`);
    assert.equal(await page.locator('[data-testid=tradeoff-chart] svg path.frontier').count(), 1);
    assert.deepEqual(byParams.map((c) => c.frontier), [true, true, true]);
    // Bits per weight: nothing quantized, so 32 for the runs and the dense model alike.
    await axis.selectOption('bits');
    assert.deepEqual((await chartPoints(page)).map((c) => c.x), [32, 32, 32]);
    assert.equal(await page.locator('[data-testid=tradeoff-chart] svg g.dense').getAttribute('data-x'), '32');
    assert.match((await page.locator('[data-testid=tradeoff-chart] svg text.axis-label').first().textContent()) ?? '', /bits per weight \(analytic/);
    await axis.selectOption('bytes');
    assert.match((await page.locator('[data-testid=tradeoff-chart] svg text.axis-label').first().textContent()) ?? '', /file size \(measured bytes\)/);
    await axis.selectOption('params');

    // A point opens its run: the 0.5 point, by keyboard (focus + Enter), then the 0.3 by click.
    const middle = points[1].run!;
    await page.locator(`[data-testid=tradeoff-chart] svg g.run[data-run=${middle}]`).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => document.querySelector(`[data-testid=run-list] tr[data-run=${id}]`)?.getAttribute('aria-current') === 'true', middle);
    assert.ok(Math.abs(Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value')) - 0.5) < 0.01);
    await page.locator(`[data-testid=tradeoff-chart] svg g.run[data-run=${points[0].run}]`).click();
    await page.waitForFunction((id) => document.querySelector(`[data-testid=run-list] tr[data-run=${id}]`)?.getAttribute('aria-current') === 'true', points[0].run);
    assert.ok(Math.abs(Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value')) - 0.3) < 0.01);
    assert.match(await page.locator('#result-title').innerText(), /run \d+: magnitude/i);
    await view.scrollIntoViewIfNeeded();
    await page.mouse.move(0, 0);
    await view.screenshot({ path: join(artifactsDir, 'tradeoff.png') });
    // Hover shows the run's numbers.
    await page.locator(`[data-testid=tradeoff-chart] svg g.run[data-run=${middle}]`).hover();
    assert.match((await page.locator('[data-testid=tradeoff-chart] svg g.chart-tooltip').textContent()) ?? '', /sweep: stage 1: sparsity = 0\.5/);
    await page.getByTestId('tradeoff-chart').screenshot({ path: join(artifactsDir, 'tradeoff-hover.png') });

    // The table alternative lists the same runs.
    await page.getByTestId('tradeoff-chart').getByLabel('Show as table').check();
    assert.equal(await page.locator('[data-testid=tradeoff-table] tbody tr[data-x]').count(), 3);
    await page.getByTestId('tradeoff-chart').getByLabel('Show as table').uncheck();

    // A second sweep, cancelled once its first point finished: that point stays, the rest never run.
    const rowsBefore = await page.locator('[data-testid=run-list] tbody tr').count();
    await values.fill('0.2,0.4,0.6,0.8');
    await page.getByTestId('sweep-run').click();
    // Clicked from inside the page the moment the first point finished, so the cancel lands while
    // the second point compresses (a round trip from the test would often miss the fast point).
    await page.evaluate(cancelWhenFirstPointDone);
    await sweepEnded(page, 'cancelled');
    const cancelled = await sweepPoints(page);
    console.log(`[tradeoff e2e] cancelled sweep: ${cancelled.map((p) => `${p.value} ${p.status}`).join(', ')}; ${await page.getByTestId('sweep-summary').innerText()}`);
    assert.deepEqual(cancelled.map((p) => p.status), ['done', 'cancelled', 'skipped', 'skipped']);
    assert.equal(await page.locator(`[data-testid=run-list] tr[data-run=${cancelled[1].run}]`).getAttribute('data-status'), 'cancelled');
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('[data-testid=run-list] tbody tr').count(), rowsBefore + 2, 'no skipped point became a run');
    assert.equal(await page.locator('[data-testid=run-list] tbody tr[data-status=running]').count(), 0);
    // The finished point joined the chart; the cancelled one did not.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tradeoff-chart] svg g.run').length === 4);
    await view.screenshot({ path: join(artifactsDir, 'tradeoff-cancelled.png') });
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  test('methods compared at equal sparsity in one click: magnitude, Wanda and SparseGPT, one colour each', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await openTab(page, 'Trade-off');
    await page.getByTestId('sweep-values').fill('0.5');
    assert.match(await page.getByTestId('sweep-compare').innerText(), /3 points/);
    // Only over a prune stage's sparsity: with the method as the parameter, the button says why not.
    await page.getByTestId('sweep-param').selectOption('stages[0].method');
    assert.match(await page.getByTestId('sweep-compare-blocked').innerText(), /Pick a prune stage’s sparsity/);
    await page.getByTestId('sweep-param').selectOption('stages[0].pattern.sparsity');
    await page.getByTestId('sweep-values').fill('0.5');
    const started = Date.now();
    await page.getByTestId('sweep-compare').click();
    await sweepEnded(page, 'done');
    const seconds = (Date.now() - started) / 1000;
    const points = await sweepPoints(page);
    assert.deepEqual(points.map((p) => [p.value, p.status]), [['magnitude, 0.5', 'done'], ['wanda, 0.5', 'done'], ['sparsegpt, 0.5', 'done']]);
    await page.getByTestId('tradeoff-axis').selectOption('params');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tradeoff-chart] svg g.run').length === 3);
    const onChart = await chartPoints(page);
    const fills = await page.locator('[data-testid=tradeoff-chart] svg g.run path').evaluateAll((ps) => ps.map((p) => p.getAttribute('fill')));
    assert.equal(new Set(fills).size, 3, 'one colour per method');
    const legend = (await page.locator('[data-testid=tradeoff-chart] svg g.legend').textContent()) ?? '';
    for (const method of ['magnitude', 'wanda', 'sparsegpt']) assert.ok(legend.includes(method), `legend names ${method}: ${legend}`);
    const ppl = points.map((p) => onChart.find((c) => c.run === p.run)!.y.toFixed(3));
    console.log(`[tradeoff e2e] methods at 50 % (magnitude / Wanda / SparseGPT): perplexity ${ppl.join(' / ')}; ${seconds.toFixed(1)} s, ${(seconds / 3).toFixed(1)} s per point`);
    await page.mouse.move(0, 0);
    await page.getByTestId('tradeoff-view').screenshot({ path: join(artifactsDir, 'tradeoff-methods.png') });
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
