// The pruning result views in headless Chromium: the mask view is filled from the model worker
// (the page never parses the pruned model), the download link is the pruned file ONNX Runtime
// loads, and a new run revokes the previous run's object URL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readModel } from '../src/core/onnx';
import { labFixture, openPage } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });

describe('pruning results', () => {
  test('mask view from the worker; each run replaces (and revokes) the previous download', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Method').selectOption('magnitude');
    await page.getByLabel('Pattern').selectOption('nm');
    await page.getByTestId('pattern-n').fill('2');
    await page.getByTestId('pattern-m').fill('4');
    await page.getByRole('button', { name: 'Run pruning' }).click();
    await page.getByTestId('mask-view').locator('svg .window rect').first().waitFor({ timeout });

    // 2:4 keeps exactly half of every window of whole groups (64 columns = 16 groups of 4).
    const kept = await page.getByTestId('mask-view').locator('svg .window rect.kept').count();
    const pruned = await page.getByTestId('mask-view').locator('svg .window rect.pruned').count();
    assert.equal(kept, pruned, `kept ${kept} vs pruned ${pruned}`);
    assert.ok(kept > 0);

    const firstUrl = (await page.getByTestId('download-pruned').getAttribute('href'))!;
    const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), firstUrl);
    const model = readModel(Uint8Array.from(bytes));
    assert.ok((model.graph?.initializer?.length ?? 0) > 0, 'the download is the pruned ONNX model');

    await page.getByRole('button', { name: 'Run pruning' }).click();
    await page.waitForFunction((old) => {
      const href = document.querySelector('[data-testid=download-pruned]')?.getAttribute('href');
      return href && href !== old;
    }, firstUrl, { timeout });
    const oldStillThere = await page.evaluate(async (url) => fetch(url).then(() => true, () => false), firstUrl);
    assert.equal(oldStillThere, false, 'the first run’s object URL was revoked');
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
