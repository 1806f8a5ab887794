// End-to-end, issue 13 "your own model": a GPT-2 export folder (transformers.js layout: onnx/model.onnx,
// config.json, tokenizer.json, tokenizer_config.json) made here from the repository's generator
// (gen:gpt2, 2 blocks, width 64, GPT-2's full 50,257-token vocabulary and its real tokenizer) is
// picked as a folder; the page shows what it recognised, the user's text is pasted and split,
// the dense model evaluated (perplexity and bits per byte with intervals), SparseGPT 50 % run on it,
// dense and compressed generate side by side, and the downloaded zip's graph is loaded back by
// onnxruntime-web in Node and evaluated on the same windows to the perplexity the page showed.
// Then a bad folder (config.json's n_layer disagreeing with the graph) and a tokenizer.json that is
// not one: each one line naming the file and the field, the loaded model kept and still usable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { artifactsDir, labFixture, openPage, openTab, runRecipeAndWait } from './harness';
import { GPT2_TOKENIZER_CONFIG, gpt2TokenizerJson } from '../src/core/hf/testing/gpt2Tokenizer';
import { loadHfTokenizer } from '../src/core/hf/tokenizer';
import { bitsPerByte, splitText } from '../src/core/hf/textData';
import { corpusText } from '../src/core/hf/corpusText';
import { parseDataset, type LmTokenDataset } from '../src/core/eval/datasets';
import { parseVocab } from '../src/core/catalog/vocab';
import { createRunner } from '../src/runtime/ort';
import { evaluate } from '../src/core/eval/evaluate';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });
const axeSource = readFileSync(join(import.meta.dirname, '../node_modules/axe-core/axe.min.js'), 'utf8');

const SHAPE = { blocks: 2, dModel: 64, heads: 4 };

/** GPT-2's config.json (the fields openai-community/gpt2 has that the lab reads), for SHAPE. */
function gpt2Config(layers: number) {
  return { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_layer: layers, n_embd: SHAPE.dModel, n_head: SHAPE.heads, n_positions: 1024, n_ctx: 1024, vocab_size: 50257, bos_token_id: 50256, eos_token_id: 50256 };
}

/** A GPT-2 export folder in transformers.js's layout, made by the generator in a temporary directory. */
function gpt2Folder(name: string, options: { configLayers?: number; tokenizer?: unknown } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-e2e-hf-'));
  const gen = join(dir, 'gen');
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen/gpt2.ts', '--out', gen, '--blocks', String(SHAPE.blocks), '--d-model', String(SHAPE.dModel), '--heads', String(SHAPE.heads), '--calib', '1', '--eval', '1', '--seq-len', '8'], { stdio: 'ignore' });
  const folder = join(dir, name);
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  renameSync(join(gen, 'model.onnx'), join(folder, 'onnx', 'model.onnx'));
  writeFileSync(join(folder, 'config.json'), JSON.stringify(gpt2Config(options.configLayers ?? SHAPE.blocks), null, 2));
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(options.tokenizer ?? gpt2TokenizerJson()));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(GPT2_TOKENIZER_CONFIG));
  return folder;
}

/** Public-domain text to paste: the start of the bundled KJV calibration text (not the page's own code path). */
function kjvText(chars: number): string {
  const base = 'public/models/kjv-charlm';
  const vocab = parseVocab(JSON.parse(readFileSync(join(base, 'vocab.json'), 'utf8')), 'vocab.json');
  const calib = parseDataset(JSON.parse(readFileSync(join(base, 'calib.json'), 'utf8')), 'calib.json') as LmTokenDataset;
  return corpusText([calib], vocab).slice(0, chars);
}

async function seriousViolations(page: Page, state: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  console.log(`[hf e2e] axe (${state}): ${result.violations.length} violations, ${serious.length} serious or critical`);
  return serious.map((v) => `${state}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

/** A text metric row of the result table: the dense value, the shown value and its interval. */
async function textMetric(page: Page, key: 'perplexity' | 'bitsPerByte') {
  const row = page.locator(`tr[data-text-metric=${key}]`);
  const read = async (name: string) => Number(await row.getAttribute(name));
  return { dense: await read('data-dense'), value: await read('data-value'), low: await read('data-low'), high: await read('data-high') };
}

async function fetchBlob(page: Page, url: string): Promise<Uint8Array> {
  return new Uint8Array(await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), url));
}

describe('a Hugging Face export folder in the page', () => {
  test('GPT-2 folder: recognised, evaluated on pasted text, SparseGPT 50 %, side-by-side text, the zip evaluated back in Node; bad folders refused', async () => {
    const folder = gpt2Folder('gpt2-tiny');
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
    await page.getByTestId('user-text').fill(text);
    assert.equal(await page.getByLabel('Window length (tokens)', { exact: true }).inputValue(), '128');
    await page.getByRole('button', { name: 'Use this text' }).click();
    const split = page.getByTestId('text-split');
    await split.waitFor({ timeout });
    const calibCount = Number(await split.getAttribute('data-calib'));
    const evalCount = Number(await split.getAttribute('data-eval'));
    console.log(`[hf e2e] split: ${await split.innerText()}`);
    assert.ok(calibCount >= 2 && evalCount >= 2, `${calibCount} calibration and ${evalCount} evaluation windows`);
    assert.match(await page.getByTestId('samples-capped').innerText(), new RegExp(`lowered to ${calibCount}`));
    await page.locator('tr[data-text-metric=perplexity]').waitFor({ timeout });
    const densePpl = await textMetric(page, 'perplexity');
    const denseBpb = await textMetric(page, 'bitsPerByte');
    console.log(`[hf e2e] dense on the pasted text: perplexity ${densePpl.value} [${densePpl.low}, ${densePpl.high}], bits per byte ${denseBpb.value} [${denseBpb.low}, ${denseBpb.high}]`);
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
    console.log(`[hf e2e] SparseGPT 50 %: sparsity ${sparsity}, perplexity ${runPpl.value} [${runPpl.low}, ${runPpl.high}], bits per byte ${runBpb.value}`);
    assert.ok(Math.abs(sparsity - 0.5) < 0.01, `sparsity ${sparsity}`);
    assert.ok(Number.isFinite(runPpl.value) && runPpl.value !== densePpl.value);

    // Generation side by side: dense and compressed on the user's prompt, greedy.
    await openTab(page, 'Try it');
    await page.locator('.teach-prompt textarea').fill('In the beginning');
    await page.getByLabel('New tokens').fill('12');
    await page.getByRole('button', { name: 'Generate' }).click();
    const columns = page.locator('section.teach-column');
    await page.waitForFunction(() => document.querySelectorAll('section.teach-column .teach-generated').length === 2, undefined, { timeout });
    const texts = await columns.locator('.teach-generated').allInnerTexts();
    console.log(`[hf e2e] generated: dense ${JSON.stringify(texts[0])}, compressed ${JSON.stringify(texts[1])}`);
    assert.equal(await columns.count(), 2);
    assert.match(await columns.first().locator('p.muted').last().innerText(), /^12 tokens in/);

    // The download: the folder as transformers.js lays it out, zipped.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifactsDir, 'lab-hf.png'), fullPage: true });
    const link = page.getByTestId('download-folder');
    const zipName = (await link.getAttribute('download'))!;
    assert.match(zipName, /^gpt2-tiny\..+\.zip$/);
    const zip = unzipSync(await fetchBlob(page, (await link.getAttribute('href'))!));
    const root = zipName.replace(/\.zip$/, '');
    assert.deepEqual(Object.keys(zip).sort(), [`${root}/config.json`, `${root}/onnx/model.onnx`, `${root}/tokenizer.json`, `${root}/tokenizer_config.json`]);
    const config = JSON.parse(new TextDecoder().decode(zip[`${root}/config.json`]));
    assert.deepEqual(config['transformers.js_config'], { dtype: 'fp32' });
    assert.equal(config.n_layer, 2);
    assert.deepEqual(Buffer.from(zip[`${root}/tokenizer.json`]), readFileSync(join(folder, 'tokenizer.json')));

    // The zip's graph in onnxruntime-web (Node), on the same windows: the page's perplexity.
    const tokenizer = loadHfTokenizer(JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')), GPT2_TOKENIZER_CONFIG);
    const windows = splitText(text, tokenizer, { seqLen: 128, calibShare: 0.5, seed: 0 });
    const { runner } = await createRunner(zip[`${root}/onnx/model.onnx`], { backend: 'wasm', numThreads: 1 });
    const metrics = await evaluate(runner, windows.eval);
    await runner.release();
    assert.equal(metrics.task, 'causal-lm');
    if (metrics.task !== 'causal-lm') return;
    const nodeBpb = bitsPerByte(metrics.meanNll * metrics.evalTokens, windows.evalTargetBytes);
    console.log(`[hf e2e] the zip in Node: perplexity ${metrics.perplexity} (page ${runPpl.value}), bits per byte ${nodeBpb} (page ${runBpb.value})`);
    assert.ok(Math.abs(metrics.perplexity / runPpl.value - 1) < 1e-5, `Node ${metrics.perplexity} vs page ${runPpl.value}`);
    assert.ok(Math.abs(nodeBpb / runBpb.value - 1) < 1e-5, `Node ${nodeBpb} vs page ${runBpb.value}`);

    const violations = await seriousViolations(page, 'hf folder evaluated and compressed');

    // Bad input: config.json disagreeing with the graph; then a tokenizer.json that is not one.
    const disagreeing = gpt2Folder('gpt2-disagrees', { configLayers: 12 });
    await page.getByTestId('model-folder-input').setInputFiles(disagreeing);
    await page.getByTestId('load-error').waitFor({ timeout });
    const disagreement = (await page.getByTestId('load-error').textContent())!;
    console.log(`[hf e2e] bad config: ${disagreement}`);
    assert.match(disagreement, /gpt2-disagrees\/config\.json: n_layer = 12, but the graph has 2 blocks/);
    assert.doesNotMatch(disagreement, /\n/);
    const notATokenizer = gpt2Folder('gpt2-badtok', { tokenizer: { version: '1.0', added_tokens: [] } });
    // Several files picked together (no folder): planFolder finds the pieces by name.
    await page.getByTestId('model-file-input').setInputFiles(['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => join(notATokenizer, f)));
    await page.waitForFunction(() => /tokenizer\.json: model\.type/.test(document.querySelector('[data-testid=load-error]')?.textContent ?? ''), undefined, { timeout });
    const tokenizerError = (await page.getByTestId('load-error').textContent())!;
    console.log(`[hf e2e] bad tokenizer: ${tokenizerError}`);
    assert.match(tokenizerError, /tokenizer\.json: model\.type: required/);
    // The model loaded before is still the one loaded, and still answers.
    assert.equal(await page.getByTestId('model-name').innerText(), 'gpt2-tiny');
    assert.equal((await textMetric(page, 'perplexity')).dense, densePpl.value);
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.waitForFunction(() => document.querySelectorAll('section.teach-column .teach-generated').length === 2, undefined, { timeout });
    violations.push(...(await seriousViolations(page, 'bad folder refused')));
    assert.deepEqual(violations, []);
    assert.deepEqual(pageErrors, []);
  });
});
