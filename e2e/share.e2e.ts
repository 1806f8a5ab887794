// Share links and guided tours in headless Chromium: a finished run shared as a link; the link
// opened in a fresh browser context (numbers at once, "as shared", Reproduce confirming the
// weights hash); the same link made with the user's own model file (its hash checked first);
// hostile links refused with a message and no injected element; one tour walked from start to
// end with the keyboard.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { decodeShareToken, encodeShareToken, shareTokenOf, shareUrl, SHARE_LINK_VERSION, type SharePayload } from '../src/core/experiments';
import { MAX_PAYLOAD_BYTES } from '../src/core/experiments/shareLink';
import { tokenOfText } from '../src/core/experiments/testing/hostileLinks';
import { parseRecipe } from '../src/core/recipe';
import { artifactsDir, labFixture, runMetric, runRecipeAndWait } from './harness';

const timeout = 300_000;
const lab = labFixture({ webgpu: false });

/** A page in its own browser context (no shared storage), recording uncaught errors. */
async function freshPage(browser: Browser, url: string): Promise<{ page: Page; pageErrors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  return { page, pageErrors, close: () => context.close() };
}

/** Elements or handlers a link could have smuggled in, and the flag its script would set. */
function injected(page: Page) {
  return page.evaluate(() => ({
    nodes: Array.from(document.querySelectorAll('[onerror], [onload], img[src="x"], iframe, object, embed, script:not([src])')).map((e) => e.outerHTML.slice(0, 80)),
    pwned: (window as { __pwned?: unknown }).__pwned ?? null,
  }));
}

describe('share links and tours', () => {
  test('share a run, open the link in a fresh context, see it as shared, reproduce it', async () => {
    const maker = await freshPage(lab.browser, `${lab.url}?backend=wasm`);
    const { page } = maker;
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    await runRecipeAndWait(page, timeout);
    const perplexity = await runMetric(page, 'perplexity');
    const sha = (await page.getByTestId('weights-sha').getAttribute('title'))!;
    await page.getByTestId('share-run').click();
    const link = await page.getByTestId('share-url').inputValue();
    assert.match(link, /\?backend=wasm#share=1\.[A-Za-z0-9_-]+$/);
    assert.match(await page.getByTestId('share-link').innerText(), new RegExp(`\\(${link.length.toLocaleString('en-US')} characters\\)`));
    console.log(`[share] link to a magnitude 50 % run on kjv-charlm: ${link.length} characters`);
    assert.deepEqual(maker.pageErrors, []);
    await maker.close();

    const viewer = await freshPage(lab.browser, link);
    const shared = viewer.page.getByTestId('shared-result');
    await shared.waitFor({ timeout });
    assert.match(await shared.innerText(), /as shared — not yet reproduced here/);
    assert.equal(Number(await viewer.page.locator('[data-shared=metric]').getAttribute('data-value')), perplexity, 'the recorded perplexity, at once');
    assert.equal(await viewer.page.getByTestId('shared-sha').getAttribute('title'), sha);
    const reproduce = viewer.page.getByRole('button', { name: 'Reproduce' });
    await viewer.page.waitForFunction(() => !(Array.from(document.querySelectorAll('[data-testid=shared-result] button')).find((b) => b.textContent === 'Reproduce') as HTMLButtonElement | undefined)?.disabled, undefined, { timeout });
    await viewer.page.getByTestId('metrics').waitFor({ timeout });
    await viewer.page.screenshot({ path: join(artifactsDir, 'share-as-shared.png') });
    await reproduce.click();
    const outcome = viewer.page.getByTestId('reproduce-outcome');
    await outcome.waitFor({ timeout });
    assert.match(await outcome.innerText(), /^Reproduced: weights SHA-256 [0-9a-f]{16}… equals the shared run's\.$/);
    assert.equal(await outcome.getAttribute('data-match'), 'true');
    assert.equal(await viewer.page.getByTestId('weights-sha').getAttribute('title'), sha, 'the rerun shows the same hash in its overview');
    await viewer.page.screenshot({ path: join(artifactsDir, 'share-reproduced.png') });
    assert.deepEqual(viewer.pageErrors, []);
    await viewer.close();

    // The same recipe and result as if made with the user's own copy of the model: the link names
    // the file and its hash; a different file is refused before it loads, the right one reproduces.
    const payload = decodeShareToken(shareTokenOf(link)!);
    assert.ok(payload.ok);
    const modelBytes = readFileSync('public/models/kjv-charlm/model.onnx');
    const fileSha = createHash('sha256').update(modelBytes).digest('hex');
    const fileLink = shareUrl(link.slice(0, link.indexOf('#')), { ...payload.payload, model: { kind: 'file', name: 'my-kjv.onnx', sha256: fileSha } });
    const owner = await freshPage(lab.browser, fileLink);
    const input = owner.page.getByTestId('shared-file-input');
    await input.waitFor({ timeout });
    await owner.page.getByTestId('metrics').waitFor({ timeout });
    await input.setInputFiles({ name: 'other.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not the model') });
    await owner.page.getByTestId('shared-message').filter({ hasText: /other\.onnx has SHA-256 [0-9a-f]{12}…, but the link’s model “my-kjv\.onnx” has [0-9a-f]{12}…: nothing was loaded or run/ }).waitFor({ timeout });
    assert.match(await owner.page.getByTestId('model-name').innerText(), /KJV|King James/i, 'the loaded model is untouched');
    await input.setInputFiles({ name: 'my-kjv.onnx', mimeType: 'application/octet-stream', buffer: modelBytes });
    await owner.page.getByTestId('shared-model').filter({ hasText: /your model my-kjv\.onnx, loaded here/ }).waitFor({ timeout });
    await owner.page.getByTestId('metrics').waitFor({ timeout });
    await owner.page.getByRole('button', { name: 'Reproduce' }).click();
    await owner.page.getByTestId('reproduce-outcome').waitFor({ timeout });
    assert.equal(await owner.page.getByTestId('reproduce-outcome').getAttribute('data-match'), 'true', 'the user file reproduces the same weights hash');
    assert.deepEqual(owner.pageErrors, []);
    await owner.close();
  });

  test('hostile links: a clear message, the default model as usual, no page error, nothing injected', async () => {
    const recipe = parseRecipe({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', pattern: 'unstructured', sparsity: 0.5 }] });
    const valid: SharePayload = { v: SHARE_LINK_VERSION, model: { kind: 'bundled', id: 'kjv-charlm' }, recipe, view: {} };
    const markup = '<img src=x onerror=window.__pwned=1>';
    const cases = [
      { name: 'truncated', token: encodeShareToken(valid).slice(0, -25), expect: /cut short|damaged/ },
      { name: 'markup in the model id', token: tokenOfText(JSON.stringify({ ...valid, model: { kind: 'bundled', id: markup } })), expect: /model\.id: is not a bundled model's id/ },
      { name: 'a deflate bomb', token: tokenOfText(' '.repeat(MAX_PAYLOAD_BYTES * 16)), expect: /unpacks to more than 64 KiB/ },
    ];
    for (const c of cases) {
      const { page, pageErrors, close } = await freshPage(lab.browser, `${lab.url}?backend=wasm#share=${c.token}`);
      const banner = page.getByTestId('link-error');
      await banner.waitFor({ timeout });
      assert.equal(await banner.getAttribute('role'), 'alert');
      assert.match(await banner.innerText(), c.expect, c.name);
      await page.getByTestId('metrics').waitFor({ timeout });
      assert.deepEqual(await injected(page), { nodes: [], pwned: null }, c.name);
      assert.deepEqual(pageErrors, [], c.name);
      if (c.name.startsWith('markup')) await page.screenshot({ path: join(artifactsDir, 'share-hostile.png') });
      await close();
    }
    // Markup in a user model's file name is accepted as data: shown as its characters, never parsed.
    const named = tokenOfText(JSON.stringify({ ...valid, model: { kind: 'file', name: markup, sha256: 'ab'.repeat(32) } }));
    const { page, pageErrors, close } = await freshPage(lab.browser, `${lab.url}?backend=wasm#share=${named}`);
    await page.getByTestId('shared-file-input').waitFor({ timeout });
    assert.ok((await page.getByTestId('shared-result').innerText()).includes(markup));
    await page.getByTestId('metrics').waitFor({ timeout });
    assert.deepEqual(await injected(page), { nodes: [], pwned: null });
    assert.deepEqual(pageErrors, []);
    await close();
  });

  test('a tour walked with the keyboard from the Tours menu to its end', async () => {
    const { page, pageErrors, close } = await freshPage(lab.browser, `${lab.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout });
    await page.locator('.tours-menu summary').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'What 50 % sparsity does to a language model');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const steps = Number((await dialog.locator('.tour-where').innerText()).match(/of (\d+)/)![1]);
    for (let step = 0; step < steps; step++) {
      assert.equal(await dialog.getAttribute('data-step'), String(step));
      assert.ok(await page.evaluate(() => document.activeElement?.getAttribute('role') === 'dialog'), `focus is on step ${step + 1}'s panel`);
      if (step === 0) {
        await page.locator('[data-tour-target]').waitFor();
        assert.equal(await page.locator('[data-tour-target]').getAttribute('data-testid'), 'result-panel');
        await page.screenshot({ path: join(artifactsDir, 'tour.png') });
      }
      if (step === steps - 1) break;
      // Tab to Next (Back is disabled on the first step; a run step has its button first).
      for (let tabs = 0; tabs < 5 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Next'; tabs++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForFunction((n) => document.querySelector('[role=dialog]')?.getAttribute('data-step') === String(n), step + 1);
    }
    assert.match(await dialog.innerText(), /The same on the vision model/);
    await page.getByTestId('model-name').filter({ hasText: /digit/i }).waitFor({ timeout });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Tours', 'focus returns to the menu');
    assert.equal(await page.locator('[data-tour-target]').count(), 0, 'the outline goes with the tour');
    assert.deepEqual(pageErrors, []);
    await close();
  });
});
