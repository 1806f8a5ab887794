// ACT in headless Chromium: the bundled LM's attention heads looked at, then a recipe of one
// attention stage built in the recipe builder (a small strict-rule search, so that heads are
// selected and the file gets ACT's ops), run; the head-search view's candidates, intervals and
// selection; the same bytes as the CLI running the recipe the page offers for download; the
// downloaded file dropped back in and evaluated to the run's perplexity.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../src/core/onnx/read';
import { artifactsDir, lmAttentionThumbs, labCli, labFixture, openPage, openTab, runMetric, runRecipeAndWait } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Node count per op type of an ONNX file. */
function opCounts(bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { opType = '' } of readModel(bytes).graph?.node ?? []) counts.set(opType, (counts.get(opType) ?? 0) + 1);
  return counts;
}
const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

describe('attention calibration (ACT) of the bundled LM in the page', () => {
  test('the stage in the builder, the head search shown, the CLI’s bytes, dropped back in and evaluated', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    // The heads ACT will choose among, as the Attention tab shows them.
    const thumbs = await lmAttentionThumbs(page, timeout);
    await thumbs.nth(13).hover();
    assert.match((await thumbs.nth(13).getAttribute('aria-label'))!, /^block 3 head 1, sink mass \d\.\d\d$/);

    await page.getByLabel('Use pruning').uncheck();
    await page.getByLabel('Use attention calibration (ACT)').check();
    const stage = page.getByTestId('attention-stage');
    assert.equal(await page.getByTestId('act-beta').inputValue(), '0.4');
    assert.equal(await page.getByTestId('act-tau').inputValue(), '0.1');
    // Invalid values are marked on their field at once and block Run with the reason.
    await page.getByTestId('act-samples').fill('80');
    assert.match(await stage.getByTestId('field-error').innerText(), /^80 is more than the calibration set holds \(64\)$/);
    assert.match(await page.getByTestId('run-blocked').innerText(), /search\.samples: 80 is more than the calibration set holds/);
    await page.getByTestId('act-samples').fill('8');
    await page.getByLabel('Heads', { exact: true }).selectOption('given');
    await page.getByTestId('act-heads').fill('2.0, 3.x');
    assert.match(await stage.getByTestId('field-error').innerText(), /"3\.x" is not block\.head/);
    assert.match(await page.getByTestId('run-blocked').innerText(), /heads: "3\.x" is not block\.head/);
    await page.getByTestId('act-heads').fill('2.0, 9.1');
    assert.match(await stage.getByTestId('field-error').innerText(), /^9 is not an attention layer of the model/);
    await page.getByLabel('Heads', { exact: true }).selectOption('search');
    await page.getByLabel('Noise guard', { exact: true }).selectOption('none');
    assert.equal(await page.getByTestId('run-blocked').count(), 0);
    // Tall enough that the sticky Run row covers none of the stage.
    await page.setViewportSize({ width: 1440, height: 1600 });
    await stage.screenshot({ path: join(artifactsDir, 'act-stage-fields.png') });
    await page.setViewportSize({ width: 1440, height: 900 });

    // The recipe the page offers for download is what the CLI runs below.
    const recipeHref = (await page.getByTestId('download-recipe').getAttribute('href'))!;
    const recipeText = decodeURIComponent(recipeHref.slice(recipeHref.indexOf(',') + 1));
    assert.deepEqual(JSON.parse(recipeText).stages, [{ kind: 'attention', method: 'act', beta: 0.4, sink: { kind: 'tau', tau: 0.1 }, heads: 'search', skipLayers: 'reference', search: { samples: 8, guard: 'none' } }]);

    const started = Date.now();
    await runRecipeAndWait(page, timeout);
    assert.equal(await page.getByTestId('run-message').count(), 0, 'the run did not fail');
    const runPpl = await runMetric(page, 'perplexity');
    console.log(`[act e2e] run in ${((Date.now() - started) / 1000).toFixed(1)} s; perplexity ${runPpl}`);

    await openTab(page, 'Overview');
    const view = page.getByTestId('head-search');
    await view.waitFor({ timeout });
    const summary = await page.getByTestId('head-search-summary').innerText();
    console.log(`[act e2e] ${summary}`);
    assert.match(summary, /^\d+ heads? selected \([\d., ]+\): NLL \d\.\d{4} → \d\.\d{4} on 8 calibration samples/);
    const chart = page.getByTestId('head-search-chart');
    await chart.locator('svg').waitFor();
    assert.equal(await chart.locator('g.head-row').count(), 12, 'layers 2–4 × 4 heads');
    assert.equal(await chart.locator('g.head-row line.whisker').count(), 12, 'every candidate has its interval');
    assert.deepEqual(await chart.locator('text.skipped').evaluateAll((els) => els.map((e) => e.getAttribute('data-layer'))), ['0', '1', '5']);
    const selected = await chart.locator('g.head-row[data-status=selected]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-layer')}.${e.getAttribute('data-head')}`));
    assert.ok(selected.length >= 1, 'the strict rule on 8 samples selects heads');
    assert.ok(summary.includes(`(${selected.join(', ')})`), 'the sentence names the heads the chart marks');
    if (selected.length >= 2) assert.match(await page.getByTestId('head-search-steps').innerText(), /No further drop improved the set/);
    await view.scrollIntoViewIfNeeded();
    await view.screenshot({ path: join(artifactsDir, 'act-head-search.png') });
    await chart.getByLabel('Show as table').check();
    assert.equal(await page.locator('[data-testid=head-search-table] tbody tr').count(), 15, '12 heads and 3 skipped layers');
    assert.equal(await page.locator('[data-testid=head-search-table] tbody tr[data-status=selected]').count(), selected.length);

    // The browser's file is the CLI's, byte for byte, and carries ACT's ops.
    const link = page.getByTestId('download-run');
    const fileName = (await link.getAttribute('download'))!;
    const bytes = new Uint8Array(await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), (await link.getAttribute('href'))!));
    const dir = mkdtempSync(join(tmpdir(), 'lab-act-'));
    writeFileSync(join(dir, 'recipe.json'), recipeText);
    const { report } = labCli<{ report: { fileSha256: string; notes: string[] } }>(['run', join(dir, 'recipe.json'), 'public/models/kjv-charlm', '-o', join(dir, 'out.onnx')]);
    assert.equal(sha256(bytes), report.fileSha256, 'the CLI wrote the browser’s bytes');
    assert.equal(sha256(readFileSync(join(dir, 'out.onnx'))), sha256(bytes), 'byte-identical to the browser’s');
    console.log(`[act e2e] ${fileName}: ${bytes.byteLength} bytes, SHA-256 ${sha256(bytes)}, byte-identical to the CLI's`);
    const before = opCounts(readFileSync('public/models/kjv-charlm/model.onnx'));
    const after = opCounts(bytes);
    const note = report.notes.find((n) => n.startsWith('ACT: ') && n.includes('standard ONNX nodes'))!;
    const added = Number(/ACT: (\d+) standard ONNX nodes/.exec(note)![1]);
    console.log(`[act e2e] nodes ${total(before)} → ${total(after)} (${note})`);
    assert.equal(total(after) - total(before), added);
    assert.ok((after.get('CumSum') ?? 0) > (before.get('CumSum') ?? 0), 'ACT’s sink mask (CumSum) is in the file');

    // Dropped back in: the file evaluates to the run's perplexity.
    await page.getByTestId('model-file-input').setInputFiles({ name: fileName, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.getByTestId('model-name').getByText(fileName).waitFor({ timeout });
    await page.getByTestId('metrics').waitFor({ timeout });
    const dropped = Number(await page.locator('[data-testid=metrics] tr[data-metric=perplexity]').getAttribute('data-dense'));
    console.log(`[act e2e] dropped-in file perplexity ${dropped} vs run ${runPpl}`);
    assert.ok(Math.abs(dropped / runPpl - 1) < 1e-6, `dropped-in file ${dropped} vs run ${runPpl}`);
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
