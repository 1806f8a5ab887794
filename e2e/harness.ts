// Shared set-up for end-to-end tests: the production build served by `vite preview`, and Debian's
// Chromium driven by playwright-core (no browser download).
import { preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const artifactsDir = join(import.meta.dirname, 'artifacts');
mkdirSync(artifactsDir, { recursive: true });

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const baseFlags = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function startServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: PreviewServer = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return { url, close: () => server.close() };
}

export async function launchBrowser(options: { webgpu: boolean; extraFlags?: string[] }): Promise<Browser> {
  // SwiftShader gives a CPU WebGPU adapter: correct but slow. Without the flag, no adapter.
  const args = [...(options.webgpu ? [...baseFlags, '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader'] : [...baseFlags, '--disable-gpu']), ...(options.extraFlags ?? [])];
  return chromium.launch({ executablePath: chromiumPath, headless: true, args });
}

/** A page that fails the test on uncaught page errors and echoes console errors for diagnosis. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error(`[browser console] ${m.text()}`);
  });
  await page.goto(url);
  return { page, pageErrors };
}

/** Metric values the page shows, keyed by metric, read from data attributes (full precision). */
export async function readMetrics(page: Page): Promise<Record<string, { value: number; text: string }>> {
  const rows = await page.locator('[data-testid=metrics] tr[data-metric], [data-testid=run-comparison] tr[data-metric]').all();
  const out: Record<string, { value: number; text: string }> = {};
  for (const row of rows) {
    const key = (await row.getAttribute('data-metric'))!;
    out[key] = { value: Number(await row.getAttribute('data-dense')), text: (await row.locator('td').first().innerText()).trim() };
  }
  return out;
}

/**
 * The served build and a browser for one test file: registers node:test before/after hooks and
 * returns getters valid inside the tests.
 */
export function labFixture(options: { webgpu: boolean }): { readonly url: string; readonly browser: Browser } {
  let server: { url: string; close: () => Promise<void> } | undefined;
  let browser: Browser | undefined;
  before(async () => {
    server = await startServer();
    browser = await launchBrowser(options);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get url() {
      return server!.url;
    },
    get browser() {
      return browser!;
    },
  };
}

/** Opens the recipe builder's "Calibration and compute" section (idempotent). */
export async function openAdvanced(page: Page): Promise<void> {
  const details = page.locator('details.advanced');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
}

/** Selects a detail tab (Overview, Layers, Masks, Try it, Model). */
export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

/** Opens the Attention tab of the bundled LM and waits for its 6 layers × 4 heads of thumbnails. */
export async function lmAttentionThumbs(page: Page, timeout = 120_000): Promise<Locator> {
  await page.getByTestId('metrics').waitFor({ timeout });
  await openTab(page, 'Attention');
  const thumbs = page.getByTestId('attention-thumb');
  await thumbs.first().waitFor({ timeout });
  const count = await thumbs.count();
  if (count !== 24) throw new Error(`expected 6 layers × 4 heads = 24 thumbnails, got ${count}`);
  return thumbs;
}

/** Clicks Run recipe and waits until the run's compressed metrics are on screen; returns the run's row id. */
export async function runRecipeAndWait(page: Page, timeout = 300_000): Promise<string> {
  const before = await page.locator('[data-testid=run-list] tbody tr').count();
  await page.getByRole('button', { name: 'Run recipe' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=run-list] tbody tr').length > n, before, { timeout });
  const id = (await page.locator('[data-testid=run-list] tbody tr').first().getAttribute('data-run'))!;
  await page.waitForFunction((run) => document.querySelector(`[data-testid=run-list] tr[data-run=${run}]`)?.getAttribute('data-status') !== 'running', id, { timeout });
  return id;
}

/** A metric of the selected run from the comparison table (full precision). */
export async function runMetric(page: Page, key: string): Promise<number> {
  const value = await page.locator(`[data-testid=run-comparison] tr[data-metric=${key}]`).getAttribute('data-value');
  if (value === null || value === '') throw new Error(`run metric ${key} is not on the page`);
  return Number(value);
}

/** Runs the lab's CLI (`npm run lab -- <args> --json`) in this checkout and returns its JSON output. */
export function labCli<T = Record<string, unknown>>(args: string[]): T {
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'scripts/lab.ts', ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as T;
}

const axeSource = readFileSync(join(import.meta.dirname, '../node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical WCAG 2 A/AA violations on the page as it is now (inside
 * `within`, a CSS selector, when given), one line each; the counts are printed under `suite`.
 */
export async function seriousViolations(page: Page, suite: string, state: string, within?: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async (selector) => {
    const axe = (window as unknown as { axe: { run: (ctx: Element | Document, opts: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run(selector ? document.querySelector(selector)! : document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  }, within);
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  console.log(`[${suite} e2e] axe (${state}): ${result.violations.length} violations, ${serious.length} serious or critical`);
  return serious.map((v) => `${state}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}
