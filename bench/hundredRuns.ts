// `npm run bench:runs [-- --runs 100]` (outside `npm test`: it takes minutes): the reliability check
// of issue 11 — N consecutive runs in one tab (magnitude 50 % on the bundled LM, through the
// recipe builder's Run button, each evaluated and timed as a user's run is) — and what the tab
// holds after them: the page's JS heap after a forced garbage collection, every worker's heap, and
// the number of workers. A leak shows as heap growing with runs beyond what the kept run records
// account for, or as workers accumulating.
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import type { CDPSession, Page } from 'playwright-core';
import { launchBrowser, openPage, startServer } from '../e2e/harness';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100' }, every: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const every = Number(values.every);

interface Sample {
  run: number;
  pageHeapMB: number;
  /** Renderer resident memory (page + workers), MiB. */
  workerHeapMB: number;
  workers: number;
  runRows: number;
  msPerRun: number;
}

/** The page's JS heap after a forced garbage collection (CDP), in MiB. */
async function pageHeapMB(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize / 2 ** 20;
}

/**
 * Resident memory of Chromium's renderer processes, in MiB: the page, its workers and their
 * WebAssembly memory live there. Read from ps, because the in-page measurements wait for every
 * worker to answer, and ORT's wasm thread workers sit in Atomics.wait and never do.
 */
function rendererRssMB(): number {
  const lines = execFileSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((l) => l.includes('chromium') && l.includes('--type=renderer')).reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0) / 1024;
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
  void server; // closed by the process exit
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page, pageErrors } = await openPage(browser, `${server.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout: 120_000 });
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    const cdp = await page.context().newCDPSession(page);
    const samples: Sample[] = [];
    const sample = async (run: number, msPerRun: number) => {
      const s = { run, pageHeapMB: await pageHeapMB(cdp), workerHeapMB: rendererRssMB(), workers: page.workers().length, runRows: await page.locator('[data-testid=run-list] tbody tr').count(), msPerRun };
      samples.push(s);
      console.log(`after ${String(run).padStart(3)} runs: page heap ${s.pageHeapMB.toFixed(1)} MiB, renderer RSS ${s.workerHeapMB.toFixed(0)} MiB, ${s.workers} workers, ${s.runRows} rows, ${(msPerRun / 1000).toFixed(2)} s per run`);
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
    console.log(`\n${runs} runs: page heap ${samples[0].pageHeapMB.toFixed(1)} → ${last.pageHeapMB.toFixed(1)} MiB (${perRunKB.toFixed(1)} KiB per run after run ${first.run}), renderer RSS ${first.workerHeapMB.toFixed(0)} → ${last.workerHeapMB.toFixed(0)} MiB (${workerPerRunKB.toFixed(0)} KiB per run after run ${first.run}), workers ${samples.map((s) => s.workers).join(' ')}`);
    console.log(`page errors: ${pageErrors.length === 0 ? 'none' : pageErrors.join('; ')}`);
  } finally {
    await browser.close();
  }
}

// vite preview keeps idle connections open: exit once main settles, with its error if any.
await main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`bench:runs failed: ${e.message}`);
    process.exit(1);
  },
);
