// Structured pruning to a speedup target in headless Chromium, on the bundled LM: the recipe (heads
// and neurons, ZipLM, 1.5× predicted) built in the recipe builder, run; the Result panel shows the
// plan's predicted speedup (≥ 1.5) beside the MEASURED latency per token of the dense and the
// compressed model with the backend that ran them; the Layers tab shows the removed heads; the
// exported file is smaller than the dense one (measured bytes). The measured speedup is printed,
// never asserted: the machine's load decides it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir, labFixture, openPage, openTab, runRecipeAndWait } from './harness';

const timeout = 600_000;
const lab = labFixture({ webgpu: false });
const denseBytes = statSync(join(import.meta.dirname, '../public/models/kjv-charlm/model.onnx')).size;

describe('structured pruning with measured latency', () => {
  test('heads and neurons to a 1.5× predicted speedup: predicted and measured latency, removed heads, a smaller file', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    // The builder: structured pruning on (ZipLM, heads and neurons), a 1.5× speedup target, the default prune stage off.
    await page.getByTestId('structured-enable').check();
    await page.getByTestId('structured-method').selectOption('ziplm');
    await page.getByTestId('structured-remove').selectOption('both');
    await page.getByTestId('structured-target-kind').selectOption('speedup');
    await page.getByTestId('structured-target').fill('1.5');
    await page.getByTestId('structured-target').blur();
    await page.getByLabel('Use pruning').uncheck();
    // The recipe the builder holds, as its download link carries it.
    const href = decodeURIComponent((await page.getByTestId('download-recipe').getAttribute('href'))!.replace(/^data:application\/json;charset=utf-8,/, ''));
    const stages = (JSON.parse(href) as { stages: Record<string, unknown>[] }).stages;
    assert.deepEqual(stages.map((s) => [s.kind, s.method, s.remove, s.target]), [['structured', 'ziplm', 'both', { kind: 'speedup', speedup: 1.5 }]]);
    const id = await runRecipeAndWait(page, timeout);
    assert.equal(await page.locator(`[data-testid=run-list] tr[data-run=${id}]`).getAttribute('data-status'), 'done');

    // The latency is measured after the run's evaluation; the row appears when it is.
    const row = page.getByTestId('latency-row');
    await row.waitFor({ timeout });
    const predicted = Number(await row.getAttribute('data-predicted-speedup'));
    const measured = Number(await row.getAttribute('data-speedup'));
    const perToken = Number(await page.getByTestId('latency-measured').getAttribute('data-value'));
    assert.ok(predicted >= 1.5 - 1e-9, `the plan's predicted speedup ${predicted} meets the 1.5× target`);
    assert.ok(Number.isFinite(perToken) && perToken > 0, `a measured latency per token (${perToken} ms)`);
    assert.equal(await row.getAttribute('data-backend'), 'wasm');
    const summary = await page.getByTestId('latency-summary').innerText();
    assert.match(summary, /speedup, on WASM/);
    assert.match(summary, /predicted ×1\.\d\d/);
    const text = await row.innerText();
    assert.match(text, /Latency per token, measured/);
    console.log(`[structured] kjv-charlm, ZipLM heads+neurons to 1.5×: predicted ×${predicted.toFixed(2)}, measured ×${measured.toFixed(2)} (${perToken.toFixed(3)} ms/token) on WASM — ${text.replace(/\s+/g, ' ')}`);
    await page.getByTestId('result-panel').screenshot({ path: join(artifactsDir, 'structured-latency.png') });

    // The file: measured bytes of the download against the dense file on disk.
    const download = (await page.getByTestId('download-run').getAttribute('href'))!;
    const bytes = await page.evaluate(async (url) => (await (await fetch(url)).arrayBuffer()).byteLength, download);
    assert.ok(bytes < denseBytes, `the exported file (${bytes} bytes) is smaller than the dense one (${denseBytes} bytes)`);
    console.log(`[structured] file ${bytes.toLocaleString('en-US')} bytes against dense ${denseBytes.toLocaleString('en-US')} (measured)`);

    // The per-layer view: blocks × heads, the removed ones greyed.
    await openTab(page, 'Layers');
    const chart = page.getByTestId('shape-chart');
    await chart.locator('svg').waitFor({ timeout });
    const removed = await chart.locator('rect.head.removed').count();
    const kept = await chart.locator('rect.head.kept').count();
    assert.ok(removed + kept >= 4 && (removed + kept) % 4 === 0, `whole blocks of 4 heads drawn (${removed + kept} cells)`);
    assert.ok(removed > 0, 'some heads were removed');
    assert.ok((await page.locator('[data-testid=run-shape-layers] tr[data-change=neurons]').count()) > 0, 'the rows list the MLP layers whose neurons went');
    await page.locator('section.shape-changes').screenshot({ path: join(artifactsDir, 'structured-shapes.png') });

    // The trade-off chart on measured latency per token: the run at its measured value, the dense star at the dense one.
    await openTab(page, 'Trade-off');
    await page.getByTestId('tradeoff-axis').selectOption('latency');
    const point = page.locator(`[data-testid=tradeoff-chart] svg g.run[data-run=${id}]`);
    await point.waitFor({ timeout });
    assert.ok(Math.abs(Number(await point.getAttribute('data-x')) - perToken) < 1e-9, 'the run sits at its measured latency per token');
    assert.match((await page.locator('[data-testid=tradeoff-chart] svg text.axis-label').first().textContent()) ?? '', /latency per token \(ms, measured/);
    await page.getByTestId('tradeoff-view').screenshot({ path: join(artifactsDir, 'structured-tradeoff-latency.png') });
    assert.deepEqual(pageErrors, []);
  });
});
