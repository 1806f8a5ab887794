// The attention view in headless Chromium: the bundled LM's 6 layers × 4 heads captured off the
// main thread for a typed text, one head zoomed with its sink keys marked, hover read-outs for a
// query and a key, and the zoomed head's sink scores as a table; the ViT with patch labels, a
// drawn input and the patch overlay following the map's hover.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifactsDir, labFixture, openPage, openTab } from './harness';

const timeout = 120_000;
const lab = labFixture({ webgpu: false });

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
    const cell = (await zoom.locator('.cells rect').nth(7 * 17 + 3).boundingBox())!;
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
