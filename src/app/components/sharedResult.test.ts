// @vitest-environment jsdom
// Hostile share links through the page's own opening path (startFromAddress → store → the
// SharedResult panel and its banner, rendered by React in jsdom). Only the model controller is
// replaced (no worker in jsdom): "loading" a bundled id this lab has makes it the loaded model, as
// the real controller would. Checks: nothing throws, no element or handler is created from link
// text, window.__pwned stays unset, Object.prototype stays clean, and every link either shows
// its numbers as shared or one clear refusal.
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { SHARE_LINK_VERSION, type SharePayload } from '../../core/experiments';
import { hostileShareTokens, MARKUP_PAYLOADS, tokenOfText } from '../../core/experiments/testing/hostileLinks';
import { parseRecipe } from '../../core/recipe';

const BUNDLED = ['kjv-charlm', 'digits-vit'];

vi.mock('../controller', async () => {
  const { useLab } = await import('../store');
  return {
    start: async (model?: string) => {
      const id = model && BUNDLED.includes(model) ? model : BUNDLED[0];
      useLab.setState((s) => ({ bundledIds: BUNDLED, model: { ...s.model, status: 'ready', source: { kind: 'bundled', id }, loadId: s.model.loadId + 1 } }));
    },
    loadBundled: async () => undefined,
    loadFiles: async () => undefined,
    confirmModelChange: () => true,
  };
});

const { openHash, startFromAddress } = await import('../shareController');
const { tours } = await import('../tours');
const { initialRecipe, useLab } = await import('../store');
const { SharedResult } = await import('./SharedResult');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const recipe = parseRecipe({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', magnitudeScope: 'layer', pattern: 'unstructured', sparsity: 0.5 }] });
const result: SharePayload['result'] = { metric: 'perplexity', dense: 3.4934, value: 3.7832, interval: { low: 0.27, high: 0.31 }, sizeBytes: 3_301_234, denseSizeBytes: 3_301_234, weightsSha256: 'ab'.repeat(32), compute: 'cpu', labVersion: '0.1.0' };
const bundledLink: SharePayload = { v: SHARE_LINK_VERSION, model: { kind: 'bundled', id: 'kjv-charlm' }, recipe, view: { tab: 'masks', layer: 'blocks.0.attn.q_proj', head: { block: 0, head: 1 } }, result };
const fileLink: SharePayload = { ...bundledLink, model: { kind: 'file', name: 'my model.onnx', sha256: 'cd'.repeat(32) } };

/** Elements and attributes a link must never create: anything that loads, runs or styles. */
function injected(root: Element): string[] {
  const found: string[] = [];
  for (const el of root.querySelectorAll('*')) {
    if (['SCRIPT', 'IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED', 'STYLE', 'LINK', 'A', 'svg'].includes(el.tagName)) found.push(el.tagName);
    for (const attr of el.attributes) if (/^on/i.test(attr.name) || /javascript:/i.test(attr.value)) found.push(`${el.tagName}[${attr.name}]`);
  }
  return found;
}

let host: HTMLDivElement;
let root: Root;
beforeAll(async () => {
  host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
  await act(async () => root.render(createElement(SharedResult)));
});
afterAll(async () => {
  await act(async () => root.unmount());
  host.remove();
});

async function open(hash: string): Promise<void> {
  await act(async () => {
    useLab.setState({ shared: undefined, linkError: undefined, tour: undefined, recipe: initialRecipe(), detailTab: 'overview' });
    await startFromAddress(undefined, hash);
  });
}

describe('opening share links in the page', () => {
  test('a valid link shows its numbers as shared, sets the recipe and the tab, and Reproduce waits for the model', async () => {
    await open(`#share=${tokenOfText(JSON.stringify(bundledLink))}`);
    const panel = host.querySelector('[data-testid=shared-result]')!;
    expect(panel.textContent).toMatch(/^Shared run as shared — not yet reproduced here/);
    expect(host.querySelector('[data-shared=metric]')?.getAttribute('data-value')).toBe('3.7832');
    expect(host.querySelector('[data-testid=shared-sha]')?.textContent).toBe(`${'ab'.repeat(8)}…`);
    expect(useLab.getState().recipe).toEqual(recipe);
    expect(useLab.getState().detailTab).toBe('masks');
    expect(useLab.getState().shared?.model).toBe('ready');
    expect(host.querySelector<HTMLButtonElement>('button:not([aria-label])')?.textContent).toBe('Reproduce');
  });

  test('a link to a bundled model this lab lacks says so and loads the default', async () => {
    await open(`#share=${tokenOfText(JSON.stringify({ ...bundledLink, model: { kind: 'bundled', id: 'gpt-17' } }))}`);
    expect(host.querySelector('[data-testid=shared-message]')?.textContent).toMatch(/no bundled model “gpt-17”/);
    expect(host.querySelector<HTMLButtonElement>('[data-testid=shared-result] .row button')?.disabled).toBe(true);
  });

  test('a file link asks for the file and refuses one whose hash differs, before loading it', async () => {
    await open(`#share=${tokenOfText(JSON.stringify(fileLink))}`);
    expect(host.querySelector('[data-testid=shared-file-input]')).not.toBeNull();
    const input = host.querySelector<HTMLInputElement>('[data-testid=shared-file-input]')!;
    const wrong = new File([new Uint8Array([1, 2, 3])], 'other.onnx');
    Object.defineProperty(input, 'files', { value: [wrong], configurable: true });
    await act(async () => {
      input.dispatchEvent(new Event('change', { bubbles: true }));
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(host.querySelector('[data-testid=shared-message]')?.textContent).toMatch(/other\.onnx has SHA-256 039058c6f2c0…, but the link’s model “my model\.onnx” has cdcdcdcdcdcd…: nothing was loaded or run/);
    expect(useLab.getState().shared?.model).toBe('waiting-file');
  });

  test('a tour starts from the address, and from a fragment changed later, with its first step applied', async () => {
    await open('#tour=sparsity-50');
    expect(useLab.getState().tour).toEqual({ id: 'sparsity-50', step: 0 });
    expect(useLab.getState().recipe).toEqual(tours[0].steps[0].link!.recipe);
    await act(async () => openHash('#tour=gptq-vs-rtn'));
    expect(useLab.getState().tour).toEqual({ id: 'gptq-vs-rtn', step: 0 });
    expect(useLab.getState().recipe.stages[0]).toMatchObject({ kind: 'quantize', method: 'rtn', bits: 3 });
    await act(async () => openHash('#tour=no-such-tour'));
    expect(host.querySelector('[data-testid=link-error]')?.textContent).toMatch(/the lab has no tour named “no-such-tour”/);
  });

  test('1,000+ hostile links: no crash, no injected node, no pollution, a panel or one clear refusal each', async () => {
    const tokens = [...hostileShareTokens(bundledLink, 7), ...hostileShareTokens(fileLink, 11)];
    const tours = [...MARKUP_PAYLOADS.map((m) => `#tour=${m}`), '#tour=', '#tour=no-such-tour', `#tour=${'x'.repeat(100)}`];
    const hashes = [...tokens.map((t) => `#share=${t}`), ...tours];
    expect(hashes.length).toBeGreaterThanOrEqual(1000);
    let shown = 0;
    let refused = 0;
    let markupShownAsText = 0;
    for (const hash of hashes) {
      await open(hash);
      const problems = injected(host);
      if (problems.length > 0) throw new Error(`${hash.slice(0, 80)} created ${problems.join(', ')}`);
      const alert = host.querySelector('[data-testid=link-error]');
      const panel = host.querySelector('[data-testid=shared-result]');
      if ((alert === null) === (panel === null)) throw new Error(`${hash.slice(0, 120)}: ${alert ? 'both a banner and a panel' : 'neither a banner nor a panel'}`);
      if (alert) {
        refused++;
        expect(alert.getAttribute('role')).toBe('alert');
        expect(alert.textContent).toMatch(/^Link not opened\. This (share|tour) link cannot be opened: /);
      } else {
        shown++;
        const payload = useLab.getState().shared!.payload;
        // Markup accepted in a free-text field (a file name, the lab version) is on screen as its characters.
        for (const text of [payload.model.kind === 'file' ? payload.model.name : '', payload.result?.labVersion ?? '']) {
          if (!text.includes('<')) continue;
          expect(panel!.textContent).toContain(text);
          markupShownAsText++;
        }
      }
    }
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(markupShownAsText).toBeGreaterThan(0);
    console.log(`[share] page opened ${hashes.length} hostile links: ${refused} refused with a banner, ${shown} shown as data (${markupShownAsText} with markup in a file name or version, shown as text); 0 injected nodes`);
  });
});
