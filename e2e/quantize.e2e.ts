// Quantization in headless Chromium: the bundled LM to 4-bit GPTQ with groups of 32, packed as
// MatMulNBits, built in the recipe builder; the file's measured size against the analytic one, the
// same bytes as the CLI running recipes/gptq-4bit-g32.json, and the downloaded file dropped back
// in: recognised as quantized, evaluated by ONNX Runtime to the CLI's perplexity.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactsDir, labCli, labFixture, openAdvanced, openPage, openTab, runMetric, runRecipeAndWait } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });

function cli(): { fileSha256: string; perplexity: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-quant-'));
  const out = join(dir, 'out.onnx');
  const { report } = labCli<{ report: { fileSha256: string } }>(['run', 'recipes/gptq-4bit-g32.json', 'public/models/kjv-charlm', '-o', out]);
  const evaluated = labCli<{ metrics: { perplexity: number } }>(['eval', out, '--dataset', 'public/models/kjv-charlm/eval.json']);
  return { fileSha256: report.fileSha256, perplexity: evaluated.metrics.perplexity };
}

describe('quantizing the bundled LM in the page', () => {
  test('GPTQ 4-bit, groups of 32, packed: measured vs analytic size, the CLI’s bytes, dropped back in and evaluated', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Use pruning').uncheck();
    await page.getByLabel('Use quantization').check();
    assert.equal(await page.getByLabel('Quantization method', { exact: true }).inputValue(), 'gptq');
    assert.equal(await page.getByTestId('quant-bits').inputValue(), '4');
    assert.equal(await page.getByTestId('quant-group').inputValue(), '32');
    // recipes/gptq-4bit-g32.json: sequential calibration, packed export.
    await page.getByLabel('Export', { exact: true }).selectOption('packed');
    await openAdvanced(page);
    await page.getByLabel('Calibration mode', { exact: true }).selectOption('sequential');
    // An impossible combination is refused at once: 3 bits cannot be packed.
    await page.getByTestId('quant-bits').fill('3');
    assert.match(await page.getByTestId('run-blocked').innerText(), /MatMulNBits packs 2, 4, 8 bits, not 3/);
    await page.getByTestId('quant-bits').fill('4');
    assert.equal(await page.getByTestId('run-blocked').count(), 0);

    await runRecipeAndWait(page, timeout);
    assert.equal(await page.getByTestId('run-message').count(), 0, 'the run did not fail');
    assert.match(await page.getByTestId('quantized-layers').innerText(), /^36 packed$/);
    const measured = Number(await page.getByTestId('run-file-bytes').getAttribute('data-value'));
    const analytic = Number(await page.getByTestId('analytic-bytes').getAttribute('data-value'));
    console.log(`[quantize e2e] GPTQ w4 g32 packed: file ${measured} bytes measured, ${analytic} analytic (${((measured / analytic - 1) * 100).toFixed(2)} %)`);
    assert.ok(Math.abs(measured / analytic - 1) < 0.03, `measured ${measured} vs analytic ${analytic}`);
    const runPpl = await runMetric(page, 'perplexity');
    // Is it faster? The worker times both models alike once the metrics are on screen.
    await page.getByTestId('run-ms-per-item').waitFor({ timeout });
    console.log(`[quantize e2e] inference per token: ${(await page.locator('[data-measure=inference-time] td').allInnerTexts()).join(' | ')}`);
    await openTab(page, 'Overview');
    await page.getByTestId('quant-view').locator('svg').first().waitFor();
    await page.getByTestId('quant-view').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifactsDir, 'quantize-overview-charts.png') });
    // The weight histogram of a packed layer: its group's 16 grid levels, read back from the file.
    await openTab(page, 'Quantization');
    await page.getByTestId('quant-histogram-caption').waitFor({ timeout });
    assert.equal(await page.locator('[data-testid=quant-histogram-chart] svg line.level').count(), 16);
    assert.match(await page.getByTestId('quant-histogram-caption').innerText(), /scale/i);
    await page.getByTestId('quant-histogram').screenshot({ path: join(artifactsDir, 'quantize-histogram.png') });
    await openTab(page, 'Layers');
    assert.equal(await page.locator('[data-testid=run-quant-layers] tbody tr[data-export=packed]').count(), 36);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'quantize-gptq-w4g32.png'), fullPage: true });

    const link = page.getByTestId('download-run');
    assert.equal(await link.getAttribute('download'), 'kjv-charlm.gptq-w4g32.onnx');
    const bytes = Buffer.from(await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), (await link.getAttribute('href'))!));
    assert.equal(bytes.byteLength, measured);
    const expected = cli();
    assert.equal(createHash('sha256').update(bytes).digest('hex'), expected.fileSha256, 'the browser wrote the CLI’s bytes');
    assert.ok(Math.abs(runPpl / expected.perplexity - 1) < 1e-6, `page ${runPpl} vs CLI ${expected.perplexity}`);

    await page.getByTestId('model-file-input').setInputFiles({ name: 'kjv-charlm.gptq-w4g32.onnx', mimeType: 'application/octet-stream', buffer: bytes });
    await page.getByTestId('model-name').getByText('kjv-charlm.gptq-w4g32.onnx').waitFor({ timeout });
    assert.equal(await page.getByTestId('model-compression').getAttribute('data-verdict'), 'quantized');
    assert.match(await page.getByTestId('model-compression').innerText(), /MatMulNBits/);
    await page.getByTestId('metrics').waitFor({ timeout });
    const dropped = Number(await page.locator('[data-testid=metrics] tr[data-metric=perplexity]').getAttribute('data-dense'));
    assert.ok(Math.abs(dropped / expected.perplexity - 1) < 1e-6, `dropped-in file ${dropped} vs CLI ${expected.perplexity}`);
    assert.match(await page.getByTestId('result-panel').innerText(), /quantized model as loaded/);
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  test('mixed precision: widths chosen per layer under a 4-bit average, shown, and a width edited by hand is kept by the next run', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Use pruning').uncheck();
    await page.getByLabel('Use quantization').check();
    // QUIK picked with groups switches to per-row scales (its default), so the recipe stays runnable.
    const method = page.getByLabel('Quantization method', { exact: true });
    await method.selectOption('quik');
    assert.equal(await page.getByLabel('Scale shared by', { exact: true }).inputValue(), 'row');
    assert.equal(await page.getByTestId('run-blocked').count(), 0);
    await page.locator('aside').screenshot({ path: join(artifactsDir, 'quantize-quik-fields.png') });
    await method.selectOption('gptq');
    await page.getByLabel('Scale shared by', { exact: true }).selectOption('group');
    await page.getByTestId('quant-mixed').check();
    await runRecipeAndWait(page, timeout);
    assert.equal(await page.getByTestId('run-message').count(), 0, 'the run did not fail');
    await openTab(page, 'Overview');
    const widths = page.getByTestId('mixed-widths');
    await widths.waitFor({ timeout });
    assert.match(await page.getByTestId('mixed-summary').innerText(), /Mixed precision: /);
    const select = widths.getByLabel('width of blocks.0.attn.q_proj in bits');
    const ran = await select.inputValue();
    const edited = ran === '8' ? '3' : '8';
    await select.selectOption(edited);
    await page.getByTestId('mixed-reset').waitFor();
    await widths.screenshot({ path: join(artifactsDir, 'quantize-mixed-widths.png') });
    await runRecipeAndWait(page, timeout);
    await openTab(page, 'Overview');
    await page.getByTestId('mixed-widths').waitFor({ timeout });
    assert.equal(await page.getByTestId('mixed-widths').getByLabel('width of blocks.0.attn.q_proj in bits').inputValue(), edited);
    assert.match(await page.getByTestId('mixed-widths').innerText(), /set by hand/);
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
