// End-to-end: the built lab in headless Chromium. The dense baseline the page shows must equal the
// CLI's for the same model, a corrupt file must produce the parser's message without losing the
// loaded model, and a WebGPU run must say it ran on WebGPU.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readModel, writeModel } from '../src/core/onnx';
import { artifactsDir, labCli, labFixture, launchBrowser, openPage, openTab, readMetrics } from './harness';

const evalTimeout = 180_000;

function cliMetrics(modelId: string): Record<string, number> {
  return labCli<{ metrics: Record<string, number> }>(['eval', `public/models/${modelId}`]).metrics;
}

function assertSameMetrics(page: Record<string, { value: number }>, cli: Record<string, number>, relTol: number): void {
  assert.ok(Object.keys(page).length >= 3, 'the page shows metrics');
  for (const [key, { value }] of Object.entries(page)) {
    const expected = cli[key];
    assert.ok(Number.isFinite(value), `${key} is a number on the page`);
    assert.ok(Math.abs(value - expected) <= relTol * Math.abs(expected), `${key}: page ${value} vs CLI ${expected}`);
  }
}

const lab = labFixture({ webgpu: false });

describe('the lab page (WASM)', () => {
  test('opens with the bundled LM and shows the same dense metrics as the CLI', async () => {
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('eval-progress').or(page.getByTestId('metrics')).first().waitFor({ timeout: evalTimeout });
    await page.getByTestId('metrics').waitFor({ timeout: evalTimeout });
    await openTab(page, 'Model');
    assert.match(await page.getByTestId('model-card').innerText(), /kjv-charlm|King James/i);
    assert.match(await page.getByTestId('card-metrics').innerText(), /Perplexity\s+3\.4931\s+3\.4931/, 'the card’s PyTorch numbers beside the page’s');
    assert.ok((await page.locator('[data-testid=linear-layers] tbody tr').count()) >= 37, 'the linear layer table lists every layer');
    assert.equal(await page.getByTestId('backend-used').innerText(), 'WASM (CPU)');
    assertSameMetrics(await readMetrics(page), cliMetrics('kjv-charlm'), 1e-9);
    await page.screenshot({ path: join(artifactsDir, 'lab-kjv-charlm.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  test('a corrupt file shows the parser message and keeps the loaded model', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout: evalTimeout });
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    await page.getByTestId('model-file-input').setInputFiles({ name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: garbage });
    const error = page.getByTestId('load-error');
    await error.waitFor();
    const text = await error.innerText();
    assert.match(text, /broken\.onnx/);
    assert.match(text, /byte/i, 'the message says where parsing failed');
    assert.match(await page.getByTestId('model-name').innerText(), /King James|KJV/i, 'the previous model is still shown');
    assert.ok(await page.getByTestId('metrics').isVisible());
    await page.screenshot({ path: join(artifactsDir, 'lab-corrupt-file.png'), fullPage: true });

    // The same through drag-and-drop: a PNG dropped on the page is named for what it is.
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await page.evaluate(() => {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
      const transfer = new DataTransfer();
      transfer.items.add(new File([png], 'picture.onnx'));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await error.waitFor();
    assert.match(await error.innerText(), /picture\.onnx.*PNG/is);
    await page.close();
  });

  test('an external-data model names its missing .data file, then loads with it and evaluates', async () => {
    // Move every initializer of the bundled ViT into weights.data, as torch does for big models.
    const model = readModel(new Uint8Array(readFileSync('public/models/digits-vit/model.onnx')));
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of model.graph!.initializer!) {
      if (!t.rawData || t.rawData.length < 64) continue;
      t.externalData = [{ key: 'location', value: 'weights.data' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(t.rawData.length) }];
      t.dataLocation = 1;
      chunks.push(t.rawData);
      offset += t.rawData.length;
      delete t.rawData;
    }
    const onnx = { name: 'vit-external.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(writeModel(model)) };
    const data = { name: 'weights.data', mimeType: 'application/octet-stream', buffer: Buffer.concat(chunks) };

    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout: evalTimeout });
    const expected = await readMetrics(page);
    await page.getByTestId('model-file-input').setInputFiles([onnx]);
    await page.getByTestId('load-error').waitFor();
    assert.match(await page.getByTestId('load-error').innerText(), /weights\.data/);
    await page.getByTestId('model-file-input').setInputFiles([onnx, data]);
    await page.getByTestId('model-name').getByText('vit-external.onnx').waitFor();
    await page.getByTestId('metrics').waitFor({ timeout: evalTimeout });
    assert.deepEqual(await readMetrics(page), expected, 'the re-assembled model scores exactly as the bundled one');
    assert.match(await page.getByTestId('model-size').innerText(), /weights\.data/);
    await page.close();
  });

  test('the digits ViT gives the same accuracy as the CLI', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=wasm&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout: evalTimeout });
    assertSameMetrics(await readMetrics(page), cliMetrics('digits-vit'), 1e-9);
    await page.close();
  });

  test('auto without a WebGPU adapter says it ran on WASM and why', async () => {
    const { page } = await openPage(lab.browser, `${lab.url}?backend=auto&model=digits-vit`);
    await page.getByTestId('metrics').waitFor({ timeout: evalTimeout });
    assert.equal(await page.getByTestId('backend-used').innerText(), 'WASM (CPU)');
    assert.match(await page.getByTestId('backend-fallback').innerText(), /Not on WebGPU: navigator\.gpu\.requestAdapter\(\) returned no adapter/);
    await page.close();
  });
});

describe('the lab page (WebGPU through SwiftShader)', () => {
  test('a forced WebGPU run reports WebGPU and matches WASM closely', async () => {
    const gpuBrowser = await launchBrowser({ webgpu: true });
    try {
      const { page } = await openPage(gpuBrowser, `${lab.url}?backend=webgpu&model=digits-vit`);
      const ortWarnings: string[] = [];
      page.on('console', (m) => /VerifyEachNodeIsAssignedToAnEp|\[W:onnxruntime/.test(m.text()) && ortWarnings.push(m.text()));
      await page.getByTestId('metrics').or(page.getByTestId('eval-message')).first().waitFor({ timeout: evalTimeout });
      const message = await page.getByTestId('eval-message').isVisible() ? await page.getByTestId('eval-message').innerText() : '';
      assert.equal(message, '', 'WebGPU evaluation failed');
      assert.equal(await page.getByTestId('backend-used').innerText(), 'WebGPU');
      assertSameMetrics(await readMetrics(page), cliMetrics('digits-vit'), 1e-3);
      assert.deepEqual(ortWarnings, [], 'ONNX Runtime’s warnings are silenced through its log level');
      await page.close();
    } finally {
      await gpuBrowser.close();
    }
  });
});
