// `npm run bench:hf`: the issue-13 scale targets — Hugging Face-shaped exports (npm run gen:hf)
// compressed one block at a time (src/core/compress/streamed.ts), in Node, peak memory against
// the model's fp32 weight bytes. A program, not a test: it prints a Markdown table.
//
//   npm run bench:hf                                   every row below (an hour or more on 2 cores)
//   npm run bench:hf -- --only gpt2,smollm-135m        rows of those presets
//   npm run bench:hf -- --only tinyllama-1.1b --methods gptq
//   npm run bench:hf -- --only gpt2 --blocks 2           a quick instance (2 blocks of each preset)
//   npm run bench:hf -- --only tinyllama-1.1b --samples 4   fewer calibration samples of 128 tokens (default 16)
//
// Rows (the list): GPT-2 small (124 M) Wanda and SparseGPT, streamed, with the
// whole-model compressModel as the baseline in the same run (time and peak ratios against it);
// SmolLM-135M and Qwen2.5-0.5B GPTQ 4-bit; TinyLlama-1.1B Wanda and GPTQ, whose target is peak
// ≤ 1.3 × fp32 weight bytes (the whole-model path cannot run there: a 4.4 GB model passes both
// protobuf's 2 GiB and WebAssembly's 4 GiB memory). Calibration: 16 samples × 128 tokens, uniform
// random token ids (gen:hf folders hold no token set; the time does not depend on the ids).
// Each row runs in a fresh child process (bench/hfRow.ts): its VmHWM is its own peak. The load
// average at the start and end of each row is printed with it, since the machine may be shared.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { runInChromium } from './hfBrowser.ts';
import { parseArgs } from 'node:util';
import { formatTable, type Table } from './measure.ts';

interface Row {
  preset: string;
  method: 'wanda' | 'sparsegpt' | 'gptq';
  path: 'streamed' | 'whole' | 'chromium';
  target?: string;
}

const ROWS: Row[] = [
  { preset: 'gpt2', method: 'wanda', path: 'whole' },
  { preset: 'gpt2', method: 'wanda', path: 'streamed', target: '≤ 30 s' },
  { preset: 'gpt2', method: 'sparsegpt', path: 'whole' },
  { preset: 'gpt2', method: 'sparsegpt', path: 'streamed', target: '≤ 120 s' },
  { preset: 'smollm-135m', method: 'gptq', path: 'streamed' },
  { preset: 'qwen2.5-0.5b', method: 'gptq', path: 'streamed' },
  { preset: 'tinyllama-1.1b', method: 'wanda', path: 'streamed', target: 'peak ≤ 1.3× fp32' },
  { preset: 'tinyllama-1.1b', method: 'gptq', path: 'streamed', target: 'peak ≤ 1.3× fp32' },
];

interface Measured {
  /** Chromium rows: the renderer's and the other largest processes' peaks. */
  peakProcess?: string;
  weightBytes: number;
  wallMs: number;
  calibrationMs: number;
  loadMs: number;
  outBytes: number;
  peakRss: number;
  sampledMax: number;
  sampledMaxAt: string;
  loadAverage: [number, number];
  linears: number;
  blocks: number;
}

const { values } = parseArgs({ options: { only: { type: 'string' }, methods: { type: 'string' }, paths: { type: 'string' }, keep: { type: 'boolean' }, blocks: { type: 'string' }, browser: { type: 'boolean' }, samples: { type: 'string', default: '16' } } });
const only = values.only?.split(',');
const methods = values.methods?.split(',');
const paths = values.paths?.split(',');
// --browser: the streamed rows again, in headless Chromium's worker (bench/hfBrowser.ts).
const allRows = values.browser ? ROWS.flatMap((r) => (r.path === 'streamed' ? [r, { ...r, path: 'chromium' as const }] : [r])) : ROWS;
const rows = allRows.filter((r) => (!only || only.includes(r.preset)) && (!methods || methods.includes(r.method)) && (!paths || paths.includes(r.path)));
const progress = (line: string) => console.error(`[bench hf] ${line}`);
const GB = 1e9;

/** The generated export folder, made once (a child process, so its buffers never count here). */
function folder(preset: string): string {
  const blocks = values.blocks ? ['--blocks', values.blocks] : [];
  const dir = join('bench/results/hf', values.blocks ? `${preset}-${values.blocks}` : preset);
  if (!existsSync(join(dir, 'onnx/model.onnx_data'))) {
    progress(`generating ${dir} (npm run gen:hf -- --preset ${preset} --external-data ${blocks.join(' ')})…`);
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen/hf/main.ts', '--preset', preset, '--external-data', ...blocks, '--out', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return join(dir, 'onnx/model.onnx');
}

const results: (Row & Measured)[] = [];
for (const row of rows) {
  const model = folder(row.preset);
  const out = join('bench/results/hf-out', `${row.preset}-${row.method}-${row.path}`);
  mkdirSync(out, { recursive: true });
  progress(`${row.preset} ${row.method} ${row.path}…`);
  let measured: Measured;
  if (row.path === 'chromium') {
    const load = loadavg()[0];
    const result = await runInChromium([model, join(dirname(model), 'model.onnx_data')], row.method, Number(values.samples), progress);
    progress(`  peak in ${result.peakProcess}`);
    measured = { ...result, sampledMax: NaN, sampledMaxAt: '', loadAverage: [load, loadavg()[0]] };
  } else {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'bench/hfRow.ts', '--model', model, '--method', row.method, '--path', row.path, '--samples', values.samples!, '--out', out], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    measured = JSON.parse(stdout.toString().trim().split('\n').pop()!) as Measured;
  }
  results.push({ ...row, ...measured });
  progress(`  ${(measured.wallMs / 1000).toFixed(1)} s, peak ${(measured.peakRss / GB).toFixed(2)} GB (${(measured.peakRss / measured.weightBytes).toFixed(2)}× fp32)`);
  // The compressed model is not kept (a 1.1 B model's is gigabytes) unless asked.
  if (!values.keep) rmSync(out, { recursive: true, force: true });
}

const baseline = (r: Row) => results.find((b) => b.preset === r.preset && b.method === r.method && b.path === 'whole');
const table: Table = {
  title: 'Compression one block at a time (issue 13): Node (chromium rows: a headless Chromium worker), CPU jobs in one thread, ORT wasm on 1 thread',
  notes: [
    'Models: npm run gen:hf -- --preset P --external-data (the family\'s Optimum-shaped graph with KV-cache inputs, seeded random weights in model.onnx_data). fp32 = the external data\'s bytes.',
    'streamed: compressStreamed — weights read by range per block, compressed weights appended to the output\'s model.onnx_data as produced. whole: compressModel on the model read whole, then writeModel (the baseline, where it can run).',
    `Calibration: ${values.samples} × 128 tokens, uniform random ids, sequential (block by block). Wanda / SparseGPT 50 % unstructured; GPTQ 4-bit, group 32, asymmetric, packed as MatMulNBits.`,
    'chromium: the streamed path in a worker of headless Chromium (bench/hfBrowser.ts), the model given as Files (model.onnx_data read by File.slice), the output written to the origin-private file system; its peak is the renderer process\'s VmHWM (the page and its worker run there).',
    ...results.filter((r) => r.peakProcess).map((r) => `${r.preset} ${r.method} in Chromium, each process's own peak: ${r.peakProcess}.`),
    'peak: VmHWM of the row\'s own process (a fresh child); "× fp32" is against the fp32 weight bytes. "vs whole": the streamed row ÷ the whole-model row in this run. load: 1-min load average at the row\'s start → end.',
  ],
  columns: [
    { header: 'model' },
    { header: 'params', align: 'right' },
    { header: 'method' },
    { header: 'path' },
    { header: 'wall s', align: 'right' },
    { header: 'calibration s', align: 'right' },
    { header: 'peak GB (× fp32)', align: 'right' },
    { header: 'vs whole (time, peak)', align: 'right' },
    { header: 'output MB', align: 'right' },
    { header: 'target' },
    { header: 'load' },
  ],
  rows: results.map((r) => {
    const b = r.path === 'streamed' ? baseline(r) : undefined;
    return [
      r.preset,
      `${(r.weightBytes / 4 / 1e6).toFixed(0)} M`,
      r.method,
      r.path,
      (r.wallMs / 1000).toFixed(1),
      (r.calibrationMs / 1000).toFixed(1),
      `${(r.peakRss / GB).toFixed(2)} (${(r.peakRss / r.weightBytes).toFixed(2)}×)`,
      b ? `${(r.wallMs / b.wallMs).toFixed(2)}×, ${(r.peakRss / b.peakRss).toFixed(2)}×` : r.path === 'whole' ? 'baseline' : '-',
      (r.outBytes / 1e6).toFixed(0),
      r.target ? (values.blocks ? `${r.target} (the full model's; n/a with --blocks)` : `${r.target}: ${met(r) ? 'met' : 'NOT met'}`) : '-',
      `${r.loadAverage[0].toFixed(1)} → ${r.loadAverage[1].toFixed(1)}`,
    ];
  }),
};

function met(r: Row & Measured): boolean {
  if (r.target?.startsWith('peak')) return r.peakRss <= 1.3 * r.weightBytes;
  const seconds = Number(/≤ (\d+) s/.exec(r.target ?? '')?.[1]);
  return r.wallMs / 1000 <= seconds;
}

console.log(formatTable(table));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/hf.json', JSON.stringify(results, null, 2));
