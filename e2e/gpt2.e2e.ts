// End-to-end, issue 7 "a GPT-2-small-sized model in the tab": the page opens a large GPT-2-shaped
// file (npm run gen:gpt2, full vocabulary and width, fewer blocks to keep CI short) through the
// file input, shows its analysis, and its main thread never runs a task over 100 ms from the
// file's selection to the layer table: parsing and analysis happen in the model worker, and the
// file's bytes are transferred to it, not copied. Long tasks are observed by the page itself
// (PerformanceObserver 'longtask': every main-thread task over 50 ms) from before it loads.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { LAYER_PAGE_ROWS } from '../src/app/components/LayerTable';
import { artifactsDir, labFixture, openPage } from './harness';

const BLOCKS = Number(process.env.LAB_E2E_GPT2_BLOCKS ?? 2);
/** The bound on any main-thread task while the model opens. */
const LONGEST_TASK_MS = 100;

const lab = labFixture({ webgpu: false });

interface LongTask {
  start: number;
  duration: number;
}

declare global {
  interface Window {
    __longTasks: LongTask[];
  }
}

/** A generated model folder in a temporary directory; `gen:gpt2` options as arguments. */
function generate(args: string[]): { dir: string; onnx: string; sizeMb: number; seconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lab-e2e-gpt2-'));
  const t0 = performance.now();
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen/gpt2.ts', '--out', dir, ...args], { stdio: 'ignore' });
  const onnx = join(dir, 'model.onnx');
  return { dir, onnx, sizeMb: statSync(onnx).size / 1e6, seconds: (performance.now() - t0) / 1000 };
}

/** The lab with its bundled LM evaluated, and a long-task observer installed before any script ran. */
async function openLab(): Promise<{ page: Page; pageErrors: string[] }> {
  const opened = await openPage(lab.browser, 'about:blank');
  await opened.page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await opened.page.goto(`${lab.url}?backend=wasm`);
  // Its evaluation finishes first, so the measured window holds only the new file's opening.
  await opened.page.getByTestId('metrics').waitFor({ timeout: 180_000 });
  await opened.page.getByRole('tab', { name: 'Model' }).click();
  return opened;
}

interface Timing {
  ms: number;
  /** The long-task observer's entries in the window (wall-clock durations). */
  tasks: LongTask[];
  longest: number;
  /** The most CPU time one main-thread task took in the window (Chromium trace, RunTask tdur). */
  longestCpu: number;
}

/**
 * Runs `action` and `until`; the main-thread tasks over 50 ms in between, by the observer (wall
 * clock) and by a Chromium trace of the renderer's main thread (its CPU time per task).
 */
async function timeWindow(page: Page, action: () => Promise<void>, until: () => Promise<void>): Promise<Timing> {
  await lab.browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  const since = await page.evaluate(() => performance.now());
  await action();
  await until();
  const end = await page.evaluate(() => performance.now());
  // Tasks still running when the table appeared (the rest of React's commit) report a little later.
  await page.waitForTimeout(500);
  const tasks = (await page.evaluate(() => window.__longTasks)).filter((t) => t.start + t.duration >= since && t.start <= end);
  const trace = JSON.parse((await lab.browser.stopTracing()).toString('utf8')) as { traceEvents: TraceEvent[] };
  return { ms: end - since, tasks, longest: tasks.reduce((max, t) => Math.max(max, t.duration), 0), longestCpu: longestMainThreadCpuMs(trace.traceEvents) };
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** The largest thread time (tdur, µs) of a top-level task on a renderer main thread, in ms. */
function longestMainThreadCpuMs(events: TraceEvent[]): number {
  const mainThreads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  return events
    .filter((e) => e.ph === 'X' && e.name === 'RunTask' && mainThreads.has(`${e.pid}:${e.tid}`))
    .reduce((max, e) => Math.max(max, (e.tdur ?? e.dur ?? 0) / 1000), 0);
}

/** Picks the file and waits for its layer table. */
function pickAndTime(page: Page, onnx: string, layers: number): Promise<Timing> {
  return timeWindow(
    page,
    () => page.getByTestId('model-file-input').setInputFiles(onnx),
    async () => {
      await page.getByTestId('model-name').getByText('model.onnx').waitFor({ timeout: 180_000 });
      await page.locator('#layers-title', { hasText: `Linear layers (${layers})` }).waitFor();
      await page.locator(`[data-testid=linear-layers] tbody tr >> nth=${Math.min(layers, LAYER_PAGE_ROWS) - 1}`).waitFor();
    },
  );
}

function report(what: string, timing: Timing): void {
  const list = timing.tasks.length ? ` (${timing.tasks.map((t) => t.duration.toFixed(0)).join(', ')} ms)` : '';
  console.log(
    `[gpt2 e2e] ${what}: ${(timing.ms / 1000).toFixed(1)} s; ${timing.tasks.length} main-thread tasks over 50 ms, longest ${timing.longest.toFixed(0)} ms wall${list}, ` +
      `longest ${timing.longestCpu.toFixed(0)} ms CPU; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
  );
}

/**
 * The bound, on the observer's wall-clock durations. A wall-clock task also counts the
 * time the OS ran other processes: on a machine loaded beyond its cores (the shared 2-core build
 * machine runs at load 7–15) the bound is checked on each task's own CPU time instead, and the
 * wall-clock figures are printed beside it.
 */
function assertResponsive(what: string, timing: Timing): void {
  assert.ok(timing.longestCpu <= LONGEST_TASK_MS, `${what}: a main-thread task took ${timing.longestCpu.toFixed(0)} ms of CPU > ${LONGEST_TASK_MS} ms`);
  if (loadavg()[0] <= cpus().length)
    assert.ok(timing.longest <= LONGEST_TASK_MS, `${what}: longest main-thread task ${timing.longest.toFixed(0)} ms > ${LONGEST_TASK_MS} ms`);
}

describe('a GPT-2-shaped model in the page', () => {
  test(`opens a ${BLOCKS}-block GPT-2 with its full vocabulary without a main-thread task over ${LONGEST_TASK_MS} ms`, async () => {
    const model = generate(['--blocks', String(BLOCKS)]);
    try {
      console.log(`[gpt2 e2e] generated ${BLOCKS} blocks, ${model.sizeMb.toFixed(0)} MB in ${model.seconds.toFixed(1)} s`);
      const { page, pageErrors } = await openLab();
      const timing = await pickAndTime(page, model.onnx, 4 * BLOCKS + 1);
      report(`${BLOCKS} blocks, ${model.sizeMb.toFixed(0)} MB`, timing);

      assert.match(await page.locator('#layers-title').innerText(), new RegExp(`Linear layers \\(${4 * BLOCKS + 1}\\) in ${BLOCKS} blocks`));
      assert.equal(await page.locator('[data-testid=linear-layers] tbody tr').count(), 4 * BLOCKS + 1);
      assert.equal(await page.locator('[data-testid=attention-sites] tbody tr').count(), BLOCKS);
      await page.screenshot({ path: join(artifactsDir, 'lab-gpt2.png'), fullPage: true });
      assertResponsive('opening the file', timing);
      assert.deepEqual(pageErrors, []);

      // The observer does see a long task when there is one: 150 ms of main-thread work is reported.
      const before = await page.evaluate(() => window.__longTasks.length);
      // A task of the page's own event loop (code run by page.evaluate itself is not one).
      await page.evaluate(() => {
        setTimeout(() => {
          const until = performance.now() + 150;
          while (performance.now() < until);
        }, 0);
      });
      await page.waitForFunction((n) => window.__longTasks.length > n, before);
      const busy = await page.evaluate(() => window.__longTasks[window.__longTasks.length - 1].duration);
      assert.ok(busy >= 150, `the observer reported the 150 ms busy loop as ${busy} ms`);
      await page.close();
    } finally {
      rmSync(model.dir, { recursive: true, force: true });
    }
  });

  test(`a 96-block model's 385 layers are shown a page at a time, without a main-thread task over ${LONGEST_TASK_MS} ms`, async () => {
    // As many layers as a 1 B-parameter model has, at a small width: the table's cost, not the file's.
    const model = generate(['--blocks', '96', '--d-model', '64', '--heads', '4', '--vocab', '512', '--context', '128']);
    try {
      const { page, pageErrors } = await openLab();
      const timing = await pickAndTime(page, model.onnx, 385);
      report('96 blocks × 4 linears + head', timing);
      assert.match(await page.locator('#layers-title').innerText(), /Linear layers \(385\) in 96 blocks/);
      const rows = page.locator('[data-testid=linear-layers] tbody tr');
      assert.equal(await rows.count(), LAYER_PAGE_ROWS);
      assert.match(await page.getByTestId('layer-pager').innerText(), new RegExp(`rows 1–${LAYER_PAGE_ROWS} of 385`));
      const paging = await timeWindow(
        page,
        () => page.getByTestId('layer-pager').getByRole('button', { name: 'Next' }).click(),
        () => page.getByTestId('layer-pager').getByText(`rows ${LAYER_PAGE_ROWS + 1}–${2 * LAYER_PAGE_ROWS} of 385`).waitFor(),
      );
      report('next page of layers', paging);
      // Four linears per block: the second page starts in block LAYER_PAGE_ROWS / 4.
      assert.equal(await rows.first().locator('td').nth(1).innerText(), `transformer.h.${Math.floor(LAYER_PAGE_ROWS / 4)}.${['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'][LAYER_PAGE_ROWS % 4]}`);
      assertResponsive('opening the file', timing);
      assertResponsive('paging', paging);
      assert.deepEqual(pageErrors, []);
      await page.close();
    } finally {
      rmSync(model.dir, { recursive: true, force: true });
    }
  });
});
