// `npm run bench:runs [-- --runs 100]` (outside `npm test`: it takes minutes): the reliability check
// of issue 11 — N consecutive runs in one tab (magnitude 50 % on the bundled LM, through the
// recipe builder's Run button, each evaluated and timed as a user's run is) — and what the tab
// holds after them: the page's JS heap after a forced garbage collection, every worker's heap, and
// the number of workers. A leak shows as heap growing with runs beyond what the kept run records
// account for, or as workers accumulating.
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
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

/** Bytes the page's window and its dedicated workers hold, in MiB (measured after a GC). */
async function memoryMB(page: Page): Promise<{ page: number; workers: number }> {
  const breakdown = await page.evaluate(async () => {
    const measure = (performance as unknown as { measureUserAgentSpecificMemory: () => Promise<{ breakdown: { bytes: number; attribution: { scope?: string }[] }[] }> }).measureUserAgentSpecificMemory;
    return (await measure.call(performance)).breakdown.map((b) => ({ bytes: b.bytes, scopes: b.attribution.map((a) => a.scope ?? '') }));
  });
  const sum = (scope: string) => breakdown.filter((b) => b.scopes.includes(scope)).reduce((n, b) => n + b.bytes, 0) / 2 ** 20;
  return { page: sum('Window'), workers: sum('DedicatedWorkerGlobalScope') };
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
  const browser = await launchBrowser({ webgpu: false, extraFlags: ['--enable-blink-features=ForceEagerMeasureMemory'] });
  try {
    const { page, pageErrors } = await openPage(browser, `${server.url}?backend=wasm`);
    await page.getByTestId('metrics').waitFor({ timeout: 120_000 });
    await page.getByLabel('Method', { exact: true }).selectOption('magnitude');
    const samples: Sample[] = [];
    const sample = async (run: number, msPerRun: number) => {
      const memory = await memoryMB(page);
      const s = { run, pageHeapMB: memory.page, workerHeapMB: memory.workers, workers: page.workers().length, runRows: await page.locator('[data-testid=run-list] tbody tr').count(), msPerRun };
      samples.push(s);
      console.log(`after ${String(run).padStart(3)} runs: page ${s.pageHeapMB.toFixed(1)} MiB, workers ${s.workerHeapMB.toFixed(1)} MiB, ${s.workers} workers, ${s.runRows} rows, ${(msPerRun / 1000).toFixed(2)} s per run`);
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
    console.log(`\n${runs} runs: page ${samples[0].pageHeapMB.toFixed(1)} → ${last.pageHeapMB.toFixed(1)} MiB (${perRunKB.toFixed(1)} KiB per run after run ${first.run}), workers ${first.workerHeapMB.toFixed(1)} → ${last.workerHeapMB.toFixed(1)} MiB (${workerPerRunKB.toFixed(1)} KiB per run after run ${first.run}), workers ${samples.map((s) => s.workers).join(' ')}`);
    console.log(`page errors: ${pageErrors.length === 0 ? 'none' : pageErrors.join('; ')}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
// vite preview keeps idle connections open; nothing else is left to wait for.
process.exit(0);
