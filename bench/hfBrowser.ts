// `npm run bench:hf -- --browser`'s rows: compressStreamed in headless Chromium (Debian's
// /usr/bin/chromium, as the e2e tests), in a worker (bench/hfBrowserWorker.ts, bundled here by
// esbuild), the model's files given to the page as Files through a file input — on disk, so a
// 4.4 GB model.onnx_data is never read whole — the output written to the origin-private file
// system. The peak is the renderer's VmHWM (/proc/<pid>/status), read when the run ends: the
// worker runs in its page's renderer process; the browser and GPU processes' peaks are printed beside it.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export interface BrowserMeasured {
  loadMs: number;
  wallMs: number;
  calibrationMs: number;
  outBytes: number;
  weightBytes: number;
  linears: number;
  blocks: number;
  /** VmHWM of the renderer process (the page and its worker). */
  peakRss: number;
  /** The renderer's and the other largest Chromium processes' peaks, for the notes. */
  peakProcess: string;
}

const ortDir = 'node_modules/onnxruntime-web/dist';
const page = `<!doctype html><meta charset="utf-8"><input type="file" id="files" multiple><script type="module">
window.runBench = (options) => new Promise((resolve, reject) => {
  const worker = new Worker('/worker.js', { type: 'module' });
  worker.onmessage = ({ data }) => {
    if (data.progress) console.log(data.progress);
    if (data.done) resolve(data.done);
    if (data.error) reject(new Error(data.error));
  };
  worker.onerror = (e) => reject(new Error(e.message));
  worker.postMessage({ ...options, files: [...document.getElementById('files').files] });
});
</script>`;

function children(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      parent.set(Number(name), Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const found = [root];
  for (let i = 0; i < found.length; i++) for (const [pid, ppid] of parent) if (ppid === found[i]) found.push(pid);
  return found;
}

function status(pid: number): { hwm: number; cmd: string } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    // Chromium rewrites its argv into one space-separated title, so the type is found as text.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const cmd = /--type=[\w-]+/.exec(cmdline)?.[0] ?? (cmdline.includes('chromium') ? 'browser' : cmdline.split(/[\0 ]/)[0]);
    return { hwm: Number(/^VmHWM:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024, cmd };
  } catch {
    return { hwm: 0, cmd: '' };
  }
}

export async function runInChromium(files: string[], method: string, samples: number, log: (line: string) => void): Promise<BrowserMeasured> {
  const bundle = await build({ entryPoints: ['bench/hfBrowserWorker.ts'], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error', define: { 'process.env.NODE_ENV': '"production"' } });
  const worker = bundle.outputFiles[0].contents;
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const send = (type: string, body: Uint8Array | string) => {
      res.writeHead(200, { 'content-type': type, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
      res.end(body);
    };
    if (url === '/') return send('text/html', page);
    if (url === '/worker.js') return send('text/javascript', worker);
    if (url.startsWith('/ort/')) return send(url.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', readFileSync(join(ortDir, url.slice(5).split('?')[0])));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--js-flags=--max-old-space-size=8192'] });
  try {
    const tab = await browser.newPage();
    tab.on('console', (message) => log(`  [page] ${message.text()}`));
    await tab.goto(`http://127.0.0.1:${port}/`);
    await tab.setInputFiles('#files', files);
    const result = (await tab.evaluate((options) => (window as unknown as { runBench: (o: unknown) => Promise<unknown> }).runBench(options), { method, samples, seqLen: 128 })) as Omit<BrowserMeasured, 'peakRss' | 'peakProcess'>;
    // The browser is a child of this process; the worker runs in its page's renderer.
    const pids = children(process.pid).filter((pid) => pid !== process.pid && status(pid).cmd !== '');
    const peaks = pids.map((pid) => ({ pid, ...status(pid) })).sort((a, b) => b.hwm - a.hwm);
    const renderer = peaks.find((p) => p.cmd === '--type=renderer');
    const others = peaks.filter((p) => p !== renderer).slice(0, 3).map((p) => `${p.cmd.replace('--type=', '')} ${(p.hwm / 1e6).toFixed(0)} MB`);
    return { ...result, peakRss: renderer?.hwm ?? NaN, peakProcess: `renderer ${((renderer?.hwm ?? NaN) / 1e6).toFixed(0)} MB; ${others.join(', ')}` };
  } finally {
    await browser.close();
    server.close();
  }
}
