// `npm run bench:runs [-- --runs 100]` (outside `npm test`: it takes minutes): the reliability check
// of issue 11 — N consecutive runs in one tab (magnitude 50 % on the bundled LM, through the
// recipe builder's Run button, each evaluated and timed as a user's run is) — and what the tab
// holds after them: the page's JS heap after a forced garbage collection, every worker's heap, and
// the number of workers. A leak shows as heap growing with runs beyond what the kept run records
// account for, or as workers accumulating.
import { parseArgs } from 'node:util';
import type { CDPSession, Page } from 'playwright-core';
import { launchBrowser, openPage, startServer } from '../e2e/harness';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100' }, every: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const every = Number(values.every);

interface Sample {
  run: number;
  pageHeapMB: number;
  workerHeapMB: number;
  workers: number;
  runRows: number;
  msPerRun: number;
}

async function heapMB(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize / 2 ** 20;
}

/** Every dedicated worker's used heap (performance.memory, Chromium), after the page's GC. */
async function workerHeapMB(page: Page): Promise<number> {
  let total = 0;
  for (const worker of page.workers()) {
    const used = await worker.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0).catch(() => 0);
    total += used / 2 ** 20;
  }
  return total;
}

async function runOnce(page: Page): Promise<void> {
  const before = await page.locator('[data-testid=run-list] tbody tr').count();
  await page.getByRole('button', { name: 'Run recipe' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=run-list] tbody tr').length > n, before, { timeout: 120_000 });
  // Done means evaluated and timed: nothing of the run is still working in the background.
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=run-list] tbody tr')].every((r) => r.getAttribute('data-status') !== 'running'), undefined, { timeout: 120_000 });
  await page.getByTestId('run-ms-per-item').waitFor({ timeout: 120_000 });
}

async function main(): Promise<void> {
  const server = await startServer();
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page, pageErrors } = await openPage(browser, `${server.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout: 120_000 });
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    const cdp = await page.context().newCDPSession(page);
    const samples: Sample[] = [];
    const sample = async (run: number, msPerRun: number) => {
      const s = { run, pageHeapMB: await heapMB(cdp), workerHeapMB: await workerHeapMB(page), workers: page.workers().length, runRows: await page.locator('[data-testid=run-list] tbody tr').count(), msPerRun };
      samples.push(s);
      console.log(`after ${String(run).padStart(3)} runs: page heap ${s.pageHeapMB.toFixed(1)} MB, workers' heap ${s.workerHeapMB.toFixed(1)} MB, ${s.workers} workers, ${s.runRows} rows, ${(msPerRun / 1000).toFixed(2)} s per run`);
    };
    await sample(0, 0);
    let t0 = performance.now();
    for (let run = 1; run <= runs; run++) {
      await runOnce(page);
      if (run % every === 0 || run === runs) {
        await sample(run, (performance.now() - t0) / (run % every === 0 ? every : run % every));
        t0 = performance.now();
      }
    }
    const first = samples.find((s) => s.run === every) ?? samples[1];
    const last = samples[samples.length - 1];
    const perRunKB = ((last.pageHeapMB - first.pageHeapMB) * 1024) / Math.max(1, last.run - first.run);
    const workerPerRunKB = ((last.workerHeapMB - first.workerHeapMB) * 1024) / Math.max(1, last.run - first.run);
    console.log(`\n${runs} runs: page heap ${samples[0].pageHeapMB.toFixed(1)} → ${last.pageHeapMB.toFixed(1)} MB (${perRunKB.toFixed(1)} KB per run after run ${first.run}), workers' heap ${first.workerHeapMB.toFixed(1)} → ${last.workerHeapMB.toFixed(1)} MB (${workerPerRunKB.toFixed(1)} KB per run), workers ${samples.map((s) => s.workers).join(' ')}`);
    console.log(`page errors: ${pageErrors.length === 0 ? 'none' : pageErrors.join('; ')}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
