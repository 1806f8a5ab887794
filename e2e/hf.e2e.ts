// End-to-end, issue 13 "your own model": export folders made here by `npm run gen:hf` (Optimum-shaped
// graphs with attention_mask, position_ids and past_key_values inputs, config.json and a real
// tokenizer.json, in transformers.js's layout), 2 blocks and narrow:
//   - GPT-2 (its 50,257-token byte-level BPE), picked as a folder: the page shows what it
//     recognised, the user's text is pasted and split, the dense model evaluated (perplexity and
//     bits per byte with intervals), SparseGPT 50 % run, dense and compressed generate side by
//     side (greedy and seeded sampling, with the KV cache), and the downloaded zip's graph is
//     loaded back by onnxruntime-web in Node and evaluated on the same windows to the page's
//     perplexity. Then a folder whose config.json n_layer disagrees and one whose tokenizer.json is
//     not one: one line each naming the file and the field, the loaded model kept and usable.
//   - a SmolLM-shaped Llama (grouped-query attention, rotary, SwiGLU) with external data, dropped
//     on the page as files: GPTQ 4-bit packed, the zip (onnx/model_q4.onnx + its .onnx_data)
//     evaluated back in Node to the page's perplexity, and loaded, unzipped, by transformers.js,
//     which greedily generates the ids the lab's own KV-cache loop generates from that graph.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { artifactsDir, labFixture, openPage, openTab, runRecipeAndWait, seriousViolations } from './harness';
import { loadHfTokenizer } from '../src/core/hf/tokenizer';
import { bitsPerByte, splitText } from '../src/core/hf/textData';
import { corpusText } from '../src/core/hf/corpusText';
import { parseDataset, type LmTokenDataset } from '../src/core/eval/datasets';
import { parseVocab } from '../src/core/catalog/vocab';
import { createRunner } from '../src/runtime/ort';
import { evaluate } from '../src/core/eval/evaluate';
import { readModel, resolveExternalData, writeModel } from '../src/core/onnx';
import { generate } from '../src/core/eval/generate';
import { transformersJsGenerate } from '../scripts/gen/hf/transformersJs';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });

/** A folder written by gen:hf into a temporary directory (transformers.js layout), named `name`. */
function genHf(name: string, args: string[]): string {
  const folder = join(mkdtempSync(join(tmpdir(), 'lab-e2e-hf-')), name);
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen/hf/main.ts', ...args, '--seed', '3', '--out', folder], { stdio: 'ignore' });
  return folder;
}

const GPT2 = ['--preset', 'gpt2', '--blocks', '2', '--hidden', '64', '--heads', '4'];
const SMOLLM = ['--preset', 'smollm-135m', '--blocks', '2', '--hidden', '64', '--heads', '4', '--kv-heads', '2', '--intermediate', '128', '--max-positions', '256', '--external-data'];

/** Public-domain text to paste: the start of the bundled KJV calibration text (not the page's own code path). */
function kjvText(chars: number): string {
  const base = 'public/models/kjv-charlm';
  const vocab = parseVocab(JSON.parse(readFileSync(join(base, 'vocab.json'), 'utf8')), 'vocab.json');
  const calib = parseDataset(JSON.parse(readFileSync(join(base, 'calib.json'), 'utf8')), 'calib.json') as LmTokenDataset;
  return corpusText([calib], vocab).slice(0, chars);
}


/** A text metric row of the result table: the dense value, the shown value and its interval. */
async function textMetric(page: Page, key: 'perplexity' | 'bitsPerByte') {
  const row = page.locator(`tr[data-text-metric=${key}]`);
  const read = async (name: string) => Number(await row.getAttribute(name));
  return { dense: await read('data-dense'), value: await read('data-value'), low: await read('data-low'), high: await read('data-high') };
}

/** Pastes `text`, uses it, and waits for the dense metrics on it; returns the split's window counts. */
async function useText(page: Page, text: string): Promise<{ calib: number; eval: number }> {
  await page.getByTestId('user-text').fill(text);
  assert.equal(await page.getByLabel('Window length (tokens)', { exact: true }).inputValue(), '128');
  await page.getByRole('button', { name: 'Use this text' }).click();
  const split = page.getByTestId('text-split');
  await split.waitFor({ timeout });
  console.log(`[hf e2e] split: ${(await split.innerText()).replace(/\n+/g, ' | ')}`);
  await page.locator('tr[data-text-metric=perplexity]').waitFor({ timeout });
  return { calib: Number(await split.getAttribute('data-calib')), eval: Number(await split.getAttribute('data-eval')) };
}

/** The downloaded zip's graph (and external data) evaluated by onnxruntime-web in Node on the page's windows. */
async function evaluateZip(folder: string, text: string, zip: Record<string, Uint8Array>, graphPath: string) {
  const tokenizer = loadHfTokenizer(JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')));
  const windows = splitText(text, tokenizer, { seqLen: 128, calibShare: 0.5, seed: 0 });
  const graph = readModel(zip[graphPath]);
  const data = zip[`${graphPath}_data`];
  if (data) resolveExternalData(graph, new Map([[graphPath.slice(graphPath.lastIndexOf('/') + 1) + '_data', data]]));
  const { runner } = await createRunner(data ? writeModel(graph) : zip[graphPath], { backend: 'wasm', numThreads: 1 });
  const metrics = await evaluate(runner, windows.eval);
  await runner.release();
  if (metrics.task !== 'causal-lm') throw new Error('not an LM');
  return { perplexity: metrics.perplexity, bitsPerByte: bitsPerByte(metrics.meanNll * metrics.evalTokens, windows.evalTargetBytes) };
}

/** The zip unpacked into a temporary folder: what a user gets after unzipping the download. */
function unpack(zip: Record<string, Uint8Array>, root: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-e2e-hf-zip-'));
  for (const [path, bytes] of Object.entries(zip)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes);
  }
  return join(dir, root);
}

/** The lab's own greedy continuation (KV cache) of `promptIds` on the zip's graph, in Node. */
async function labGreedy(zip: Record<string, Uint8Array>, graphPath: string, promptIds: number[], maxNewTokens: number): Promise<number[]> {
  const graph = readModel(zip[graphPath]);
  const data = zip[`${graphPath}_data`];
  if (data) resolveExternalData(graph, new Map([[graphPath.slice(graphPath.lastIndexOf('/') + 1) + '_data', data]]));
  const { runner } = await createRunner(writeModel(graph), { backend: 'wasm', numThreads: 1 });
  try {
    return (await generate(runner, { promptIds, maxNewTokens, contextLength: 256, strategy: { kind: 'greedy' } })).ids;
  } finally {
    await runner.release();
  }
}

/** Clicks Generate and waits until both columns settled (text, or an error, which fails the test). */
async function generateBoth(page: Page): Promise<string[]> {
  await page.getByRole('button', { name: 'Generate' }).click();
  // The columns show the request running, then settle; a fast generation may settle before the
  // first look, which is why the wait for "running" is short and may pass unseen.
  await page
    .locator('section.teach-column[aria-busy=true]')
    .first()
    .waitFor({ timeout: 10_000 })
    .catch(() => undefined);
  await page.waitForFunction(
    () => {
      const columns = [...document.querySelectorAll('section.teach-column')];
      return columns.length >= 1 && !document.querySelector('.teach-form button[type=submit]:disabled') && columns.every((c) => c.getAttribute('aria-busy') !== 'true' && c.querySelector('.teach-generated, .error, .notice'));
    },
    undefined,
    { timeout, polling: 100 },
  );
  const errors = await page.locator('section.teach-column .error, section.teach-column .notice').allInnerTexts();
  assert.deepEqual(errors, [], 'both models generated');
  assert.equal(await page.locator('section.teach-column').count(), 2, 'dense and compressed side by side');
  return page.locator('section.teach-column .teach-generated').allInnerTexts();
}

/** Generates greedily, then with seeded sampling, dense and compressed side by side. */
async function generateSideBySide(page: Page): Promise<string[]> {
  await openTab(page, 'Try it');
  await page.locator('.teach-prompt textarea').fill('In the beginning');
  await page.getByLabel('New tokens').fill('12');
  const greedy = await generateBoth(page);
  assert.match(await page.locator('section.teach-column').first().locator('p.muted').last().innerText(), /^12 tokens in/);
  await page.getByLabel('Sampled (seeded)').check();
  const sampled = await generateBoth(page);
  console.log(`[hf e2e] generated: greedy ${JSON.stringify(greedy)}, sampled ${JSON.stringify(sampled)}`);
  assert.equal(greedy.length + sampled.length, 4);
  return [...greedy, ...sampled];
}

async function fetchBlob(page: Page, url: string): Promise<Uint8Array> {
  return new Uint8Array(await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), url));
}

describe('a Hugging Face export folder in the page', () => {
  test('GPT-2 folder: recognised, evaluated on pasted text, SparseGPT 50 %, side by side, the zip evaluated back in Node; bad folders refused', async () => {
    const folder = genHf('gpt2-tiny', GPT2);
    const text = kjvText(6000);
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });

    // Open: the folder picked as a folder (<input webkitdirectory>).
    await page.getByTestId('model-folder-input').setInputFiles(folder);
    await page.getByTestId('hf-folder').waitFor({ timeout });
    assert.equal(await page.getByTestId('model-name').innerText(), 'gpt2-tiny');
    assert.equal(await page.getByTestId('hf-family').getAttribute('data-family'), 'gpt2');
    assert.match(await page.getByTestId('hf-sizes').innerText(), /^2 layers, width 64, 4 heads, vocabulary 50,257, context 1,024$/);
    assert.equal(await page.getByTestId('hf-tokenizer').getAttribute('data-vocab'), '50257');
    assert.equal(await page.getByTestId('hf-missing').count(), 0, 'nothing is missing from this folder');
    assert.match(await page.getByTestId('eval-message').innerText(), /Not evaluated yet: give the model text/);

    // Your text: pasted, split by GPT-2's tokenizer into windows of 128 + 1 tokens.
    const split = await useText(page, text);
    assert.ok(split.calib >= 2 && split.eval >= 2, JSON.stringify(split));
    assert.match(await page.getByTestId('samples-capped').innerText(), new RegExp(`lowered to ${split.calib}`));
    const densePpl = await textMetric(page, 'perplexity');
    const denseBpb = await textMetric(page, 'bitsPerByte');
    console.log(`[hf e2e] GPT-2 dense on the pasted text: perplexity ${densePpl.value} [${densePpl.low}, ${densePpl.high}], bits per byte ${denseBpb.value} [${denseBpb.low}, ${denseBpb.high}]`);
    for (const m of [densePpl, denseBpb]) assert.ok(Number.isFinite(m.value) && m.low <= m.value && m.value <= m.high, JSON.stringify(m));
    assert.equal(await page.locator('tr[data-metric=bitsPerChar]').count(), 0, 'bits per character is not shown for a token model');

    // SparseGPT 50 %, unstructured.
    await page.getByLabel('Method', { exact: true }).selectOption('sparsegpt');
    await page.getByLabel('Pattern', { exact: true }).selectOption('unstructured');
    await page.getByTestId('sparsity').fill('50');
    await runRecipeAndWait(page, timeout);
    assert.equal(await page.getByTestId('run-message').count(), 0, 'the run did not fail');
    const sparsity = Number(await page.getByTestId('achieved-sparsity').getAttribute('data-value'));
    const runPpl = await textMetric(page, 'perplexity');
    const runBpb = await textMetric(page, 'bitsPerByte');
    console.log(`[hf e2e] GPT-2 SparseGPT 50 %: sparsity ${sparsity}, perplexity ${runPpl.value} [${runPpl.low}, ${runPpl.high}], bits per byte ${runBpb.value}`);
    assert.ok(Math.abs(sparsity - 0.5) < 0.01, `sparsity ${sparsity}`);
    assert.ok(Number.isFinite(runPpl.value) && runPpl.value !== densePpl.value);

    const generated = await generateSideBySide(page);
    assert.ok(generated.every((t) => t.length > 0));

    // The download: the folder as transformers.js lays it out, zipped.
    // Tall enough for the whole page: the sticky Run bar then sits where it belongs, under the recipe.
    await page.setViewportSize({ width: 1440, height: 2100 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'lab-hf.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });
    const link = page.getByTestId('download-folder');
    const zipName = (await link.getAttribute('download'))!;
    assert.match(zipName, /^gpt2-tiny\..+\.zip$/);
    const zip = unzipSync(await fetchBlob(page, (await link.getAttribute('href'))!));
    const root = zipName.replace(/\.zip$/, '');
    assert.deepEqual(Object.keys(zip).sort(), ['config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `${root}/${f}`));
    const config = JSON.parse(new TextDecoder().decode(zip[`${root}/config.json`]));
    assert.deepEqual(config['transformers.js_config'], { dtype: 'fp32', use_external_data_format: false });
    assert.equal(config.n_layer, 2);
    assert.deepEqual(Buffer.from(zip[`${root}/tokenizer.json`]), readFileSync(join(folder, 'tokenizer.json')));

    // The zip's graph in onnxruntime-web (Node), on the same windows: the page's numbers.
    const node = await evaluateZip(folder, text, zip, `${root}/onnx/model.onnx`);
    console.log(`[hf e2e] GPT-2 zip in Node: perplexity ${node.perplexity} (page ${runPpl.value}), bits per byte ${node.bitsPerByte} (page ${runBpb.value})`);
    assert.ok(Math.abs(node.perplexity / runPpl.value - 1) < 1e-5, `Node ${node.perplexity} vs page ${runPpl.value}`);
    assert.ok(Math.abs(node.bitsPerByte / runBpb.value - 1) < 1e-5, `Node ${node.bitsPerByte} vs page ${runBpb.value}`);

    const violations = await seriousViolations(page, 'hf', 'hf folder evaluated and compressed');

    // Bad input: config.json disagreeing with the graph; then a tokenizer.json that is not one.
    const disagreeing = genHf('gpt2-disagrees', GPT2);
    const badConfig = JSON.parse(readFileSync(join(disagreeing, 'config.json'), 'utf8'));
    writeFileSync(join(disagreeing, 'config.json'), JSON.stringify({ ...badConfig, n_layer: 12 }));
    await page.getByTestId('model-folder-input').setInputFiles(disagreeing);
    await page.getByTestId('load-error').waitFor({ timeout });
    const disagreement = (await page.getByTestId('load-error').textContent())!;
    console.log(`[hf e2e] bad config: ${disagreement}`);
    assert.match(disagreement, /gpt2-disagrees\/config\.json: n_layer = 12, but the graph has 2 blocks/);
    assert.doesNotMatch(disagreement, /\n/);
    const notATokenizer = genHf('gpt2-badtok', GPT2);
    writeFileSync(join(notATokenizer, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: [] }));
    // Several files picked together (no folder): planFolder finds the pieces by name.
    await page.getByTestId('model-file-input').setInputFiles(['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => join(notATokenizer, f)));
    await page.waitForFunction(() => /tokenizer\.json: model\.type/.test(document.querySelector('[data-testid=load-error]')?.textContent ?? ''), undefined, { timeout });
    const tokenizerError = (await page.getByTestId('load-error').textContent())!;
    console.log(`[hf e2e] bad tokenizer: ${tokenizerError}`);
    assert.match(tokenizerError, /tokenizer\.json: model\.type: required/);
    // The model loaded before is still the one loaded, and still answers.
    assert.equal(await page.getByTestId('model-name').innerText(), 'gpt2-tiny');
    assert.equal((await textMetric(page, 'perplexity')).dense, densePpl.value);
    assert.equal((await generateBoth(page)).length, 2);
    violations.push(...(await seriousViolations(page, 'hf', 'bad folder refused')));
    assert.deepEqual(violations, []);
    assert.deepEqual(pageErrors, []);
  });

  test('SmolLM-shaped Llama with external data, dropped as files: GPTQ 4-bit packed, the q4 zip evaluated back in Node', async () => {
    const folder = genHf('smollm-tiny', SMOLLM);
    const text = kjvText(6000);
    const { page, pageErrors } = await openPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });

    // Dropped on the page: the files put in a scratch input, then a drop event carrying them.
    const files = ['onnx/model.onnx', 'onnx/model.onnx_data', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'].map((f) => join(folder, f));
    await page.evaluate(() => {
      const input = Object.assign(document.createElement('input'), { type: 'file', multiple: true, id: 'e2e-scratch-input', hidden: true });
      document.body.append(input);
    });
    await page.locator('#e2e-scratch-input').setInputFiles(files);
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      for (const file of (document.getElementById('e2e-scratch-input') as HTMLInputElement).files!) transfer.items.add(file);
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true, bubbles: true }));
    });
    await page.getByTestId('hf-folder').waitFor({ timeout });
    assert.equal(await page.getByTestId('hf-family').getAttribute('data-family'), 'llama');
    assert.match(await page.getByTestId('hf-sizes').innerText(), /^2 layers, width 64, 4 heads \(2 key-value heads\), MLP 128, vocabulary 49,152, context 256$/);
    assert.match(await page.getByTestId('model-size').innerText(), /with external data model\.onnx_data/);

    const split = await useText(page, text);
    const densePpl = await textMetric(page, 'perplexity');
    console.log(`[hf e2e] Llama dense: perplexity ${densePpl.value} [${densePpl.low}, ${densePpl.high}], ${JSON.stringify(split)}`);
    assert.ok(Number.isFinite(densePpl.value));

    // GPTQ 4-bit, groups of 32, packed as MatMulNBits.
    await page.getByLabel('Use pruning').uncheck();
    await page.getByLabel('Use quantization').check();
    assert.equal(await page.getByLabel('Quantization method', { exact: true }).inputValue(), 'gptq');
    await page.getByTestId('quant-bits').fill('4');
    await page.getByLabel('Export', { exact: true }).selectOption('packed');
    await runRecipeAndWait(page, timeout);
    assert.equal(await page.getByTestId('run-message').count(), 0, 'the run did not fail');
    assert.match(await page.getByTestId('quantized-layers').innerText(), /^\d+ packed$/);
    const runPpl = await textMetric(page, 'perplexity');
    const runBpb = await textMetric(page, 'bitsPerByte');
    console.log(`[hf e2e] Llama GPTQ 4-bit: ${await page.getByTestId('quantized-layers').innerText()}, perplexity ${runPpl.value} [${runPpl.low}, ${runPpl.high}], bits per byte ${runBpb.value}`);

    const generated = await generateSideBySide(page);
    assert.ok(generated.every((t) => t.length > 0));

    const link = page.getByTestId('download-folder');
    const zipName = (await link.getAttribute('download'))!;
    const root = zipName.replace(/\.zip$/, '');
    const zip = unzipSync(await fetchBlob(page, (await link.getAttribute('href'))!));
    assert.deepEqual(Object.keys(zip).sort(), ['config.json', 'generation_config.json', 'onnx/model_q4.onnx', 'onnx/model_q4.onnx_data', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `${root}/${f}`));
    const config = JSON.parse(new TextDecoder().decode(zip[`${root}/config.json`]));
    assert.deepEqual(config['transformers.js_config'], { use_external_data_format: true, dtype: 'q4' });
    const node = await evaluateZip(folder, text, zip, `${root}/onnx/model_q4.onnx`);
    console.log(`[hf e2e] Llama q4 zip in Node: perplexity ${node.perplexity} (page ${runPpl.value}), bits per byte ${node.bitsPerByte} (page ${runBpb.value})`);
    assert.ok(Math.abs(node.perplexity / runPpl.value - 1) < 1e-5, `Node ${node.perplexity} vs page ${runPpl.value}`);
    assert.ok(Math.abs(node.bitsPerByte / runBpb.value - 1) < 1e-5, `Node ${node.bitsPerByte} vs page ${runBpb.value}`);
    // The download, unzipped, is a folder transformers.js loads (local files only, dtype q4 from
    // the file name it derives): it generates the lab's own greedy ids from the same graph.
    const tjs = await transformersJsGenerate(unpack(zip, root), 'In the beginning', 6, { dtype: 'q4' });
    const ours = await labGreedy(zip, `${root}/onnx/model_q4.onnx`, tjs.promptIds, 6);
    console.log(`[hf e2e] transformers.js on the downloaded q4 folder: ${JSON.stringify(tjs.text)} ids ${tjs.newIds.join(' ')}; the lab's ${ours.join(' ')}`);
    assert.ok(tjs.newIds.length > 0);
    assert.deepEqual(tjs.newIds, ours.slice(0, tjs.newIds.length));
    // Tall enough for the whole page: the sticky Run bar then sits where it belongs, under the recipe.
    await page.setViewportSize({ width: 1440, height: 2100 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'lab-hf-llama.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });
    assert.deepEqual(await seriousViolations(page, 'hf', 'llama folder quantized'), []);
    assert.deepEqual(pageErrors, []);
  });
});
