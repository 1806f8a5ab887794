// The attention view in headless Chromium: the bundled LM's 6 layers × 4 heads captured off the
// main thread for a typed text, one head zoomed with its sink keys marked, hover read-outs for a
// query and a key, and the zoomed head's sink scores as a table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { artifactsDir, labFixture, openPage, openTab } from './harness';

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
  const cells = (await map.locator('.cells').boundingBox())!;
  const tokens = Number(await map.getAttribute('data-tokens'));
  const size = cells.width / tokens;
  const path = Array.from({ length: 60 }, (_, k) => ({ query: 64 + k, key: Math.floor((64 + k) / 2) }));
  const at = (p: { query: number; key: number }) => ({ x: cells.x + (p.key + 0.5) * size, y: cells.y + (p.query + 0.5) * size });
  // A string, not a function: tsx's name-keeping wrapper (__name) does not exist in the page.
  await page.evaluate(`
    window.frameTimes = [];
    window.recording = true;
    requestAnimationFrame(function tick(t) {
      window.frameTimes.push(t);
      if (window.recording) requestAnimationFrame(tick);
    });
  `);
  for (const p of path) {
    const { x, y } = at(p);
    await page.mouse.move(x, y);
  }
  const frameTimes = await page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(r));
    const w = window as unknown as { frameTimes: number[]; recording: boolean };
    w.recording = false;
    return w.frameTimes;
  });
  const intervals = frameTimes.slice(1).map((t, k) => t - frameTimes[k]).sort((a, b) => a - b);
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
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    `median frame ${ms(quantile(intervals, 0.5))}, p95 ${ms(quantile(intervals, 0.95))}, max ${ms(intervals[intervals.length - 1])}, ${intervals.filter((t) => t > 20).length} of ${intervals.length} frames over 20 ms for ${path.length} mouse moves`,
    `handler median ${ms(quantile(handler.handlerMs, 0.5))}, p95 ${ms(quantile(handler.handlerMs, 0.95))}`,
    `handler + style/layout median ${ms(quantile(handler.withLayoutMs, 0.5))}, p95 ${ms(quantile(handler.withLayoutMs, 0.95))}`,
  ].join('; ');
}

describe('the attention view of the bundled LM', () => {
  test('24 head thumbnails, a zoomed head with sinks, hover read-outs and the statistics table', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await openTab(page, 'Attention');
    const thumbs = page.getByTestId('attention-thumb');
    await thumbs.first().waitFor({ timeout });
    assert.equal(await thumbs.count(), 24, '6 layers × 4 heads');
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
    assert.equal(await map.locator('.cells rect').count(), 144);
    assert.ok((await map.locator('text.sink-mark').count()) > 0, 'the zoomed head marks its sink keys');

    // Hover a cell (query 9, key 0), then a key label: the read-out names what is shown.
    await map.scrollIntoViewIfNeeded();
    const box = (await map.locator('.cells rect').nth(9 * 12).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    assert.match(await map.locator('text.readout').textContent() ?? '', /^query 9 “a” → key 0 “A”: \d\.\d{3}$/);
    const key = (await map.locator('.key-labels text[data-key="0"]').boundingBox())!;
    await page.mouse.move(key.x + key.width / 2, key.y + key.height / 2);
    assert.match(await map.locator('text.readout').textContent() ?? '', /^key 0 “A”: who attends to it/);
    await page.getByTestId('attention-view').screenshot({ path: join(artifactsDir, 'attention-view.png') });

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
    const hover = await measureHover(page, map);
    console.log(`[attention e2e] hover on a 128-token map: ${hover}`);
    assert.deepEqual(pageErrors, []);
  });

  test('the ViT: an evaluation image index instead of text, patch indices as labels', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await openTab(page, 'Attention');
    await page.getByTestId('attention-thumb').first().waitFor({ timeout });
    await page.getByLabel('Attention image index').fill('7');
    await page.getByRole('button', { name: 'Show attention' }).click();
    await page.getByRole('button', { name: 'Show attention' }).and(page.locator(':enabled')).waitFor({ timeout });
    const labels = await page.locator('[data-testid=attention-zoom] svg .query-labels text').allTextContents();
    assert.ok(labels.length > 0 && labels.every((l) => /^\d+$/.test(l)), `patch indices, got ${labels.slice(0, 5).join(' ')}`);
    console.log(`[attention e2e] ViT: ${await page.getByTestId('attention-thumb').count()} heads, ${await page.locator('[data-testid=attention-zoom] svg .cells rect').count()} cells in the zoomed map`);
    await page.getByTestId('attention-view').screenshot({ path: join(artifactsDir, 'attention-view-vit.png') });
    assert.deepEqual(pageErrors, []);
  });
});
