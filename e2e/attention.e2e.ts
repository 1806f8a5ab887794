// The attention view in headless Chromium: the bundled LM's 6 layers × 4 heads captured off the
// main thread for a typed text, one head zoomed with its sink keys marked, hover read-outs for a
// query and a key, and the zoomed head's sink scores as a table.
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
