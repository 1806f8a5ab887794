// End-to-end, issue 13 "your own model", encoders: a 2-block BERT (BertForMaskedLM) folder made by
// `npm run gen:hf -- --preset bert-base`, narrowed, picked as a folder in headless Chromium. Pasted
// public-domain text is split into windows wrapped in [CLS] … [SEP] (its tokenizer.json's
// post-processor) with BERT's 15 % of positions chosen for masking; the page shows masked-token
// accuracy and masked-LM NLL with their intervals instead of perplexity, and the same figures come
// out of onnxruntime-web in Node on the same windows (src/core/hf/maskedLm.ts). Wanda 50 % runs
// on it and the compressed model's masked-token accuracy is shown beside the dense one. The
// Attention tab labels the tokens with the folder's tokenizer (each id decoded).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, labFixture, openPage, openTab, runRecipeAndWait } from './harness';
import { loadHfTokenizer } from '../src/core/hf/tokenizer';
import { corpusText } from '../src/core/hf/corpusText';
import { parseDataset, type LmTokenDataset } from '../src/core/eval/datasets';
import { parseVocab } from '../src/core/catalog/vocab';
import { createRunner } from '../src/runtime/ort';
import { evaluateMaskedLm, maskedLmMetrics, maskingTokens, splitMaskedText } from '../src/core/hf/maskedLm';
import { readModel, writeModel } from '../src/core/onnx';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });

const BERT = ['--preset', 'bert-base', '--blocks', '2', '--hidden', '64', '--heads', '4', '--intermediate', '128', '--max-positions', '64'];

function genHf(name: string, args: string[]): string {
  const folder = join(mkdtempSync(join(tmpdir(), 'lab-e2e-hfenc-')), name);
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen/hf/main.ts', ...args, '--seed', '3', '--out', folder], { stdio: 'ignore' });
  return folder;
}

function kjvText(chars: number): string {
  const base = 'public/models/kjv-charlm';
  const vocab = parseVocab(JSON.parse(readFileSync(join(base, 'vocab.json'), 'utf8')), 'vocab.json');
  const calib = parseDataset(JSON.parse(readFileSync(join(base, 'calib.json'), 'utf8')), 'calib.json') as LmTokenDataset;
  return corpusText([calib], vocab).slice(0, chars);
}

async function maskedMetric(page: Page, key: 'accuracy' | 'nll') {
  const row = page.locator(`tr[data-masked-metric=${key}]`);
  const read = async (name: string) => Number(await row.getAttribute(name));
  return { dense: await read('data-dense'), value: await read('data-value'), low: await read('data-low'), high: await read('data-high') };
}

describe('an encoder folder in the page', () => {
  test('BERT folder: masked-token accuracy on pasted text (the Node figures on the same windows), Wanda 50 %, compressed accuracy beside it', async () => {
    const folder = genHf('bert-tiny', BERT);
    const text = kjvText(6000);
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });

    await page.getByTestId('model-folder-input').setInputFiles(folder);
    await page.getByTestId('hf-folder').waitFor({ timeout });
    assert.equal(await page.getByTestId('hf-family').getAttribute('data-family'), 'bert');
    assert.match(await page.getByTestId('text-panel').locator('h2').innerText(), /^Your data$/);

    await page.getByTestId('user-text').fill(text);
    assert.equal(await page.getByLabel('Window length (tokens)', { exact: true }).inputValue(), '64');
    await page.getByRole('button', { name: 'Use this text' }).click();
    const split = page.getByTestId('text-split');
    await split.waitFor({ timeout });
    console.log(`[hfenc e2e] split: ${(await split.innerText()).replace(/\n+/g, ' | ')}`);
    await page.locator('tr[data-masked-metric=accuracy]').waitFor({ timeout });
    assert.equal(await page.locator('tr[data-text-metric=perplexity]').count(), 0, 'no perplexity for an encoder');
    assert.equal(await page.locator('tr[data-metric=perplexity]').count(), 0, 'no perplexity for an encoder');
    const accuracy = await maskedMetric(page, 'accuracy');
    const nll = await maskedMetric(page, 'nll');
    console.log(`[hfenc e2e] BERT dense: masked-token accuracy ${accuracy.value} [${accuracy.low}, ${accuracy.high}], NLL ${nll.value} [${nll.low}, ${nll.high}]`);
    for (const m of [accuracy, nll]) assert.ok(Number.isFinite(m.value) && m.low <= m.value && m.value <= m.high, JSON.stringify(m));

    // The same windows and masks in Node, through onnxruntime-web: the page's figures.
    const tokenizer = loadHfTokenizer(JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')));
    const windows = splitMaskedText(text, tokenizer, maskingTokens(tokenizer, 'tokenizer_config.json'), { seqLen: 64, calibShare: 0.5, seed: 0 });
    assert.equal(Number(await page.getByTestId('masked-positions').getAttribute('data-positions')), windows.maskedPositions);
    const { runner } = await createRunner(writeModel(readModel(readFileSync(join(folder, 'onnx/model.onnx')))), { backend: 'wasm', numThreads: 1 });
    const node = maskedLmMetrics(await evaluateMaskedLm(runner, windows.eval, 64));
    await runner.release();
    assert.equal(node.accuracy.value, accuracy.value);
    assert.ok(Math.abs(node.nll.value - nll.value) <= 1e-5 * node.nll.value, `NLL: Node ${node.nll.value}, page ${nll.value}`);

    // Wanda 50 %, unstructured.
    await page.getByLabel('Method', { exact: true }).selectOption('wanda');
    await page.getByLabel('Pattern', { exact: true }).selectOption('unstructured');
    await page.getByTestId('sparsity').fill('50');
    await runRecipeAndWait(page, timeout);
    assert.equal(await page.getByTestId('run-message').count(), 0, 'the run did not fail');
    const sparsity = Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value'));
    const runAccuracy = await maskedMetric(page, 'accuracy');
    const runNll = await maskedMetric(page, 'nll');
    console.log(`[hfenc e2e] BERT Wanda 50 %: sparsity ${sparsity}, masked-token accuracy ${runAccuracy.value} [${runAccuracy.low}, ${runAccuracy.high}], NLL ${runNll.value}`);
    assert.ok(Math.abs(sparsity - 0.5) < 0.01, `sparsity ${sparsity}`);
    assert.equal(runAccuracy.dense, accuracy.value);
    assert.ok(Number.isFinite(runAccuracy.value) && runAccuracy.low <= runAccuracy.value && runAccuracy.value <= runAccuracy.high);
    assert.ok(Number.isFinite(runNll.value) && runNll.value !== nll.value, 'the compressed model is measured, not the dense one');

    // The Attention tab reads the folder's tokenizer: each query labelled by its decoded token.
    await openTab(page, 'Attention');
    await page.getByLabel('Attention text').fill('In the beginning God created');
    await page.getByRole('button', { name: 'Show attention' }).click();
    const ids = tokenizer.encode('In the beginning God created');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=attention-zoom] svg .query-labels text').length === n, ids.length, { timeout });
    const shownLabels = await page.locator('[data-testid=attention-zoom] svg .query-labels text').allTextContents();
    console.log(`[hfenc e2e] attention query labels: ${JSON.stringify(shownLabels)}`);
    assert.deepEqual(shownLabels.map((t) => t.trim()), ids.map((id) => tokenizer.decode([id]).trim()));

    await openTab(page, 'Overview');
    await page.setViewportSize({ width: 1440, height: 2100 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'lab-hf-encoders.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
