// The pruning result views in headless Chromium: the mask view is filled from the model worker
// (the page never parses the pruned model), the download link is the pruned file ONNX Runtime
// loads, and a new run revokes the previous run's object URL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readModel } from '../src/core/onnx';
import { labFixture, openPage, openTab, runRecipeAndWait } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });

describe('pruning results', () => {
  test('mask view from the worker; each run replaces (and revokes) the previous download', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await page.getByLabel('Pattern', { exact: true }).selectOption('nm');
    await page.getByTestId('pattern-n').fill('2');
    await page.getByTestId('pattern-m').fill('4');
    const firstRun = await runRecipeAndWait(page, timeout);
    await openTab(page, 'Masks');
    await page.getByTestId('mask-view').locator('svg .window rect').first().waitFor({ timeout });

    // 2:4 keeps exactly half of every window of whole groups (64 columns = 16 groups of 4).
    const kept = await page.getByTestId('mask-view').locator('svg .window rect.kept').count();
    const pruned = await page.getByTestId('mask-view').locator('svg .window rect.pruned').count();
    assert.equal(kept, pruned, `kept ${kept} vs pruned ${pruned}`);
    assert.ok(kept > 0);

    // The ViT's digits, dense and pruned predictions side by side.
    await openTab(page, 'Try it');
    await page.getByTestId('digit-summary').getByText(/of \d+ predictions/).waitFor({ timeout });
    assert.match(await page.getByTestId('digit-summary').innerText(), /changes \d+ of \d+ predictions/);
    await openTab(page, 'Overview');

    const firstUrl = (await page.getByTestId('download-run').getAttribute('href'))!;
    const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), firstUrl);
    const model = readModel(Uint8Array.from(bytes));
    assert.ok((model.graph?.initializer?.length ?? 0) > 0, 'the download is the pruned ONNX model');

    // Runs accumulate: the worker holds the last four results, older downloads are revoked.
    for (let i = 0; i < 4; i++) await runRecipeAndWait(page, timeout);
    assert.equal(await page.locator('[data-testid=run-list] tbody tr').count(), 5);
    const oldStillThere = await page.evaluate(async (url) => fetch(url).then(() => true, () => false), firstUrl);
    assert.equal(oldStillThere, false, 'the first run’s object URL was revoked once a fifth run replaced it');
    await page.locator(`[data-testid=run-list] tr[data-run="${firstRun}"]`).getByRole('button', { name: 'Run 1', exact: true }).click();
    assert.match(await page.locator('[data-measure=file-size]').innerText(), /no longer held/);
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
