// The attention view in headless Chromium: the bundled LM's 6 layers × 4 heads captured off the
// main thread for a typed text, one head zoomed with its sink keys marked, hover read-outs for a
// query and a key, and the zoomed head's sink scores as a table; the ViT with patch labels, a
// drawn input and the patch overlay following the map's hover.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { artifactsDir, lmAttentionThumbs, labFixture, openPage, openTab } from './harness';

const timeout = 120_000;
const lab = labFixture({ webgpu: false });
/** Genesis 1:1–2, cut at 128 characters (the LM's context); every character is in its vocabulary. */
const verse128 = 'In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face ';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Moves the mouse over 60 cells of `map` (a path of visible cells below the diagonal) while a
 * requestAnimationFrame loop in the page records frame intervals; then dispatches the same 60
 * moves as synthetic mousemove events and times the handler alone and handler + style/layout.
 */
async function measureHover(page: Page, map: Locator): Promise<string> {
  const tokens = Number(await map.getAttribute('data-tokens'));
  const path = Array.from({ length: 60 }, (_, k) => ({ query: 64 + k, key: Math.floor((64 + k) / 2) }));
  // The path's rows into the viewport (a 128-token map at full width is taller than the window),
  // then a second of quiet so that the capture's own rendering is not counted.
  const before = (await map.locator('.cells').first().boundingBox())!;
  await page.evaluate((dy) => window.scrollBy(0, dy), before.y + (before.height * path[0].query) / tokens - 100);
  await page.waitForTimeout(1000);
  const cells = (await map.locator('.cells').first().boundingBox())!;
  const size = cells.width / tokens;
  const at = (p: { query: number; key: number }) => ({ x: cells.x + (p.key + 0.5) * size, y: cells.y + (p.query + 0.5) * size });
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const frames = (intervals: number[]) => `median frame ${ms(quantile(intervals, 0.5))}, p95 ${ms(quantile(intervals, 0.95))}, max ${ms(intervals[intervals.length - 1])}, ${intervals.filter((t) => t > 20).length} of ${intervals.length} frames over 20 ms`;
  // The machine's floor: the same number of moves, 1 px apart, at the page's top-left corner.
  const control = await frameIntervals(page, path.map((_, k) => ({ x: 4 + (k % 2), y: 4 })));
  const intervals = await frameIntervals(page, path.map(at));
  const last = path[path.length - 1];
  assert.match((await map.locator('text.readout').textContent())!, new RegExp(`^query ${last.query} .* key ${last.key} `), 'the mouse moves reached the map');
  const points = path.map(at);
  const handler = await map.evaluate((svg, points) => {
    const handlerMs: number[] = [];
    const withLayoutMs: number[] = [];
    const readout = svg.querySelector('text.readout') as SVGTextElement;
    for (const { x, y } of points) {
      const t0 = performance.now();
      svg.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
      const t1 = performance.now();
      readout.getBBox(); // forces style and layout of what the handler changed
      handlerMs.push(t1 - t0);
      withLayoutMs.push(performance.now() - t0);
    }
    return { handlerMs: handlerMs.sort((a, b) => a - b), withLayoutMs: withLayoutMs.sort((a, b) => a - b) };
  }, points);
  return [
    `${frames(intervals)} for ${path.length} mouse moves (moves off the map: ${frames(control)})`,
    `handler median ${ms(quantile(handler.handlerMs, 0.5))}, p95 ${ms(quantile(handler.handlerMs, 0.95))}`,
    `handler + style/layout median ${ms(quantile(handler.withLayoutMs, 0.5))}, p95 ${ms(quantile(handler.withLayoutMs, 0.95))}`,
  ].join('; ');
}

/** requestAnimationFrame intervals in the page (sorted, ms) while the mouse visits `points`. */
async function frameIntervals(page: Page, points: { x: number; y: number }[]): Promise<number[]> {
  // A string, not a function: tsx's name-keeping wrapper (__name) does not exist in the page.
  // One loop per call: the run number stops an earlier call's loop.
  await page.evaluate(`
    window.frameTimes = [];
    window.frameRun = (window.frameRun || 0) + 1;
    const run = window.frameRun;
    requestAnimationFrame(function tick(t) {
      if (window.frameRun !== run) return;
      window.frameTimes.push(t);
      requestAnimationFrame(tick);
    });
  `);
  for (const { x, y } of points) await page.mouse.move(x, y);
  const frameTimes = await page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(r));
    const w = window as unknown as { frameTimes: number[]; frameRun: number };
    w.frameRun += 1;
    return w.frameTimes;
  });
  return frameTimes
    .slice(1)
    .map((t, k) => t - frameTimes[k])
    .sort((a, b) => a - b);
}

describe('the attention view of the bundled LM', () => {
  test('24 head thumbnails, a zoomed head with sinks, hover read-outs and the statistics table', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    const thumbs = await lmAttentionThumbs(page, timeout);
    assert.match((await thumbs.nth(5).getAttribute('aria-label'))!, /^block \d+ head 1, sink mass \d\.\d\d$/);

    // Another text: the maps are captured again for its 12 characters.
    await page.getByLabel('Attention text').fill('And God said');
    await page.getByRole('button', { name: 'Show attention' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=attention-zoom] svg .query-labels text').length === 12, undefined, { timeout });

    const head = thumbs.nth(9);
    await head.hover();
    await head.click();
    assert.equal(await head.getAttribute('aria-pressed'), 'true');
    const label = (await head.getAttribute('aria-label'))!.replace(/,.*/, '');
    assert.equal(await page.getByTestId('attention-zoom-title').innerText(), label);
    const map = page.locator('[data-testid=attention-zoom] svg.attention-map');
    assert.equal(await map.locator('image.cells').getAttribute('data-cells'), '144');
    assert.ok((await map.locator('text.sink-mark').count()) > 0, 'the zoomed head marks its sink keys');

    // Hover a cell (query 9, key 0), then a key label: the read-out names what is shown.
    await map.scrollIntoViewIfNeeded();
    const cells = (await map.locator('image.cells').boundingBox())!;
    const size = cells.width / 12;
    await page.mouse.move(cells.x + size / 2, cells.y + 9.5 * size);
    assert.match(await map.locator('text.readout').textContent() ?? '', /^query 9 “a” → key 0 “A”: \d\.\d{3}$/);
    const key = (await map.locator('.key-labels text[data-key="0"]').boundingBox())!;
    await page.mouse.move(key.x + key.width / 2, key.y + key.height / 2);
    assert.match(await map.locator('text.readout').textContent() ?? '', /^key 0 “A”: who attends to it/);
    await page.getByTestId('attention-view').screenshot({ path: join(artifactsDir, 'attention-view.png') });

    // The ACT comparison: the three maps side by side, one hover reads all three values.
    await page.getByTestId('act-compare').getByLabel('All three side by side').check();
    const compare = page.locator('[data-testid=attention-zoom] svg.attention-compare');
    await compare.waitFor();
    assert.deepEqual(await compare.locator('image.cells').evaluateAll((images) => images.map((i) => `${i.getAttribute('data-panel')} ${i.getAttribute('data-cells')}`)), ['before 144', 'after 144', 'change 144']);
    assert.equal(await compare.locator('.panel').nth(2).locator('text.sink-mark').count(), await compare.locator('.panel').nth(0).locator('text.sink-mark').count());
    assert.match(await page.getByTestId('act-effect').innerText(), /^ACT (scales the attention to sink keys?|changes nothing)/);
    const change = (await compare.locator('image.cells[data-panel=change]').boundingBox())!;
    const changeCell = change.width / 12;
    await page.mouse.move(change.x + changeCell / 2, change.y + 9.5 * changeCell);
    assert.match(await compare.locator('text.readout').textContent() ?? '', /^query 9 “a” → key 0 “A”: original \d\.\d{3}, after ACT \d\.\d{3}, change [+−±]\d\.\d{3}$/);
    assert.match((await compare.locator('text.change-tick').allTextContents()).join(' '), /^−(\d\.\d{3}) −\d\.\d{3} 0 \+\d\.\d{3} \+\1$/, 'the change scale is symmetric');
    await page.getByTestId('attention-view').screenshot({ path: join(artifactsDir, 'attention-act-compare.png') });

    // β edited in the view: at β = 1 ACT moves no attention (and the recipe is not touched).
    await page.getByLabel('ACT β').fill('1');
    await page.locator('[data-testid=attention-zoom] svg.attention-compare[aria-label*="β = 1,"]').waitFor();
    assert.match((await compare.getAttribute('aria-label'))!, /largest change 0\.000$/);
    await page.getByRole('button', { name: 'Reset' }).click();

    // The sink chart: one cell per layer × head; a click zooms that head.
    const sinkCells = page.locator('[data-testid=sink-overview] g.sink-cell');
    assert.equal(await sinkCells.count(), 24);
    await page.locator('[data-testid=sink-overview] g.sink-cell[data-site="1"][data-head="3"]').click();
    assert.match(await page.getByTestId('attention-zoom-title').innerText(), /^block \d+ head 3$/);
    assert.equal(await thumbs.nth(7).getAttribute('aria-pressed'), 'true');
    await page.getByTestId('act-compare').getByLabel('Original', { exact: true }).check();

    await page.getByTestId('attention-zoom').getByLabel('Show as table').check();
    const rows = page.locator('[data-testid=attention-stats-table] tbody tr');
    assert.equal(await rows.count(), 12);
    assert.ok((await page.locator('[data-testid=attention-stats-table] tbody tr[data-sink]').count()) > 0);
    assert.deepEqual(pageErrors, []);
  });

  test('hover on a 128-token map: frame intervals and handler time, printed (not asserted tightly)', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await openTab(page, 'Attention');
    await page.getByTestId('attention-thumb').first().waitFor({ timeout });
    assert.equal(verse128.length, 128);
    await page.getByLabel('Attention text').fill(verse128);
    await page.getByRole('button', { name: 'Show attention' }).click();
    const map = page.locator('[data-testid=attention-zoom] svg.attention-map[data-tokens="128"]').first();
    await map.waitFor({ timeout });
    await map.scrollIntoViewIfNeeded();
    console.log(`[attention e2e] hover on a 128-token map: ${await measureHover(page, map)}`);
    await page.getByTestId('act-compare').getByLabel('All three side by side').check();
    const compare = page.locator('[data-testid=attention-zoom] svg.attention-compare[data-tokens="128"]');
    await compare.waitFor({ timeout });
    console.log(`[attention e2e] hover on three 128-token maps (original, after ACT, change): ${await measureHover(page, compare)}`);
    await compare.screenshot({ path: join(artifactsDir, 'attention-act-compare-128.png') });
    assert.deepEqual(pageErrors, []);
  });

  test('the ViT: patch labels, a drawn digit, and the patch overlay following the hovered query', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await openTab(page, 'Attention');
    await page.getByTestId('attention-thumb').first().waitFor({ timeout });
    const zoom = page.locator('[data-testid=attention-zoom] svg.attention-map');
    const queryLabels = () => zoom.locator('.query-labels text').allTextContents();
    assert.deepEqual((await queryLabels()).slice(0, 6), ['CLS', 'r0c0', 'r0c1', 'r0c2', 'r0c3', 'r1c0']);
    assert.equal((await queryLabels()).at(-1), 'r3c3');
    await page.getByTestId('attention-prediction').waitFor({ timeout });
    assert.match(await page.getByTestId('attention-prediction').innerText(), /^The dense model predicts \d \(probability \d\.\d\d\) for evaluation image 0; its label is \d\.$/);

    // Draw: start from evaluation image 7, add ink to three pixels by clicks and a drag, one by the keyboard.
    await page.getByLabel('Attention image index').fill('7');
    await page.getByLabel('My drawing').check();
    const canvas = page.getByTestId('digit-canvas');
    const pixel = (i: number) => canvas.locator(`[data-pixel="${i}"]`);
    const before = Number(await pixel(0).getAttribute('data-value'));
    await pixel(0).click();
    assert.equal(Number(await pixel(0).getAttribute('data-value')), Math.min(16, before + 8));
    const from = (await pixel(56).boundingBox())!;
    const to = (await pixel(58).boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 6 });
    await page.mouse.up();
    for (const i of [56, 57, 58]) assert.ok(Number(await pixel(i).getAttribute('data-value')) >= 8, `pixel ${i} inked by the drag`);
    await pixel(0).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    assert.ok(Number(await pixel(1).getAttribute('data-value')) >= 8, 'Space inks the focused pixel');

    await page.getByRole('button', { name: 'Show attention' }).click();
    await page.getByRole('button', { name: 'Show attention' }).and(page.locator(':enabled')).waitFor({ timeout });
    await page.getByTestId('attention-prediction').waitFor({ timeout });
    assert.match(await page.getByTestId('attention-prediction').innerText(), /^The dense model predicts \d \(probability \d\.\d\d\) for the drawing\.$/);

    // The overlay: 16 patch cells and the class token's swatch; without hover, the mean attention received.
    const overlay = page.locator('[data-testid=patch-overlay] svg.patch-overlay');
    assert.equal(await overlay.locator('rect.patch').count(), 16);
    assert.equal(await overlay.getAttribute('data-mode'), 'mean');
    const shading = () => overlay.locator('rect.patch').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-weight')).join(' '));
    const meanShading = await shading();

    // Hover query r1c2 (token 7) on the zoomed map: the overlay shades where it attends.
    await zoom.scrollIntoViewIfNeeded();
    // The cells are one image of 17 × 17: query 7, key 3 is at its (3.5, 7.5)-th cell's centre.
    const image = (await zoom.locator('image.cells').boundingBox())!;
    const cell = { x: image.x + (3 * image.width) / 17, y: image.y + (7 * image.height) / 17, width: image.width / 17, height: image.height / 17 };
    await page.mouse.move(cell.x + cell.width / 2, cell.y + cell.height / 2);
    await page.waitForFunction(() => document.querySelector('[data-testid=patch-overlay] svg')?.getAttribute('data-query') === '7', undefined, { timeout });
    assert.equal(await overlay.getAttribute('data-mode'), 'query');
    assert.equal(await overlay.locator('.overlay-title').textContent(), 'Where query r1c2 attends');
    assert.notEqual(await shading(), meanShading, 'the shading follows the hovered query');
    const row = (await overlay.locator('rect.patch').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-weight'))))).reduce((a, b) => a + b, 0);
    const cls = Number(await overlay.locator('rect.cls-swatch').getAttribute('data-weight'));
    assert.ok(Math.abs(row + cls - 1) < 1e-3, `the query's row over the patches and CLS sums to 1 (got ${row + cls})`);

    // A key label: who attends to it.
    const key = (await zoom.locator('.key-labels text[data-key="0"]').boundingBox())!;
    await page.mouse.move(key.x + key.width / 2, key.y + key.height / 2);
    const overlayMode = (mode: string) => page.waitForFunction((m) => document.querySelector('[data-testid=patch-overlay] svg')?.getAttribute('data-mode') === m, mode, { timeout });
    await overlayMode('key');
    assert.equal(await overlay.locator('.overlay-title').textContent(), 'Who attends to key CLS');

    // Off the map: the mean again; the select shows a query's row from the keyboard.
    const beside = (await overlay.boundingBox())!;
    await page.mouse.move(beside.x + beside.width / 2, beside.y + beside.height / 2);
    await overlayMode('mean');
    await page.getByLabel(/Shade the digit by/).selectOption({ label: 'query r1c2' });
    await overlayMode('query');
    assert.equal(await overlay.getAttribute('data-query'), '7');
    // The screenshot with the same query hovered on the map, so both views show its row.
    await page.mouse.move(cell.x + cell.width / 2, cell.y + cell.height / 2);
    await page.getByTestId('attention-view').screenshot({ path: join(artifactsDir, 'attention-view-vit.png') });
    assert.deepEqual(pageErrors, []);
  });
});
