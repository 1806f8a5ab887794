// The layer section's quantization rows: RTN (4-bit, asymmetric, per row) and GPTQ (4-bit,
// asymmetric, groups of 32) on the same 3072×768 layer and H as the pruning rows, the CPU path
// (src/core/quant) against the reference code in PyTorch (bench/torch_quant.py, one thread by
// default), both measured in the same run. The baseline of each row pair is the CPU path.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gptqQuantize, type GptqResult } from '../src/core/quant/gptq.ts';
import { quantizeRtn } from '../src/core/quant/rtn.ts';
import { dequantize, type Granularity, type IntGrid, type QuantizedWeight } from '../src/core/quant/types.ts';
import { relativeReconstructionError } from '../src/core/prune/reconstruction.ts';
import type { Matrix } from '../src/core/prune/types.ts';
import { formatMs, measure, ratio, type Table, type Timing } from './measure.ts';
import { BENCH_PYTHON, type TorchLayerInputs } from './torch.ts';

const SCRIPT = fileURLToPath(new URL('./torch_quant.py', import.meta.url));

interface QuantCase {
  method: 'rtn' | 'gptq';
  label: string;
  grid: IntGrid;
  granularity: Granularity;
}

const CASES: QuantCase[] = [
  { method: 'rtn', label: '4-bit asym, per row', grid: { bits: 4, symmetric: false }, granularity: { kind: 'row' } },
  { method: 'gptq', label: '4-bit asym, groups of 32', grid: { bits: 4, symmetric: false }, granularity: { kind: 'group', size: 32 } },
];

/** The timed CPU call: RTN's codes and scales (Ŵ is dequantized outside the timing); GPTQ's codes and Ŵ. */
function runCpu(layer: TorchLayerInputs, c: QuantCase): QuantizedWeight | GptqResult {
  if (c.method === 'rtn') return quantizeRtn(layer.weight, c.grid, c.granularity);
  return gptqQuantize(layer.weight, layer.hessian, { grid: c.grid, granularity: c.granularity });
}

const weightOf = (result: QuantizedWeight | GptqResult): Matrix => ('quantized' in result ? result.weight : dequantize(result));

type TorchQuant = { ok: true; torch: string; threads: number; blas: string; cases: { ms: number; runs: number; weight: Float32Array }[] } | { ok: false; reason: string };

const bytesOf = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function runTorch(layer: TorchLayerInputs, threads: number): TorchQuant {
  const dir = mkdtempSync(join(tmpdir(), 'lab-bench-quant-'));
  try {
    const { rows, cols } = layer.weight;
    writeFileSync(join(dir, 'weight.f32'), bytesOf(layer.weight.data));
    writeFileSync(join(dir, 'hessian.f64'), bytesOf(layer.hessian));
    const cases = CASES.map((c) => ({ method: c.method, bits: c.grid.bits, symmetric: c.grid.symmetric, groupSize: c.granularity.kind === 'group' ? c.granularity.size : -1 }));
    writeFileSync(join(dir, 'quant.json'), JSON.stringify({ rows, cols, cases }));
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    const child = spawnSync(BENCH_PYTHON, [SCRIPT, dir, '--threads', String(threads)], { encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 20, env });
    if (child.error) return { ok: false, reason: `${BENCH_PYTHON} ${SCRIPT}: ${child.error.message}` };
    if (child.status !== 0) return { ok: false, reason: `torch_quant.py exited with ${child.status}: ${child.stderr.trim().split('\n').pop() ?? ''}` };
    const out = JSON.parse(child.stdout) as { torch: string; threads: number; blas: { name: string }; cases: { ms: number; runs: number }[] };
    const read = (i: number) => {
      const bytes = readFileSync(join(dir, `q-${i}.f32`));
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    return { ok: true, torch: out.torch, threads: out.threads, blas: out.blas.name, cases: out.cases.map((t, i) => ({ ...t, weight: read(i) })) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How Ŵ compares with the CPU path's (cols per row, to count rows): equal codes differ only through the scale (≤ 1e-5 relative). */
function agreement(a: Float32Array, b: Float32Array, cols: number): string {
  let differ = 0;
  let flipped = 0;
  const rows = new Set<number>();
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    differ++;
    if (Math.abs(a[i] - b[i]) > 1e-5 * Math.abs(a[i])) {
      flipped++;
      rows.add(Math.floor(i / cols));
    }
  }
  if (differ === 0) return 'identical';
  return flipped === 0 ? 'same codes (scales ±ulps)' : `${flipped} codes differ (${rows.size} row${rows.size === 1 ? '' : 's'})`;
}

/** `warmUp`: a small layer run first, so the timed runs find the JIT warm (as the pruning rows do). */
export async function quantLayerTable(layer: TorchLayerInputs, warmUp: TorchLayerInputs, torchThreads: number): Promise<Table> {
  const { rows, cols } = layer.weight;
  for (const c of CASES) runCpu(warmUp, c);
  const torch = runTorch(layer, torchThreads);
  const relErr = (hat: Matrix) => relativeReconstructionError(layer.weight, hat, { hessian: layer.hessian }).toFixed(4);
  const out: string[][] = [];
  for (const [index, c] of CASES.entries()) {
    let result!: QuantizedWeight | GptqResult;
    const timing: Timing = await measure(() => (result = runCpu(layer, c)));
    const cpu = weightOf(result);
    const name = c.method === 'rtn' ? 'RTN' : 'GPTQ';
    out.push([name, c.label, c.method === 'rtn' ? 'CPU quantizeRtn' : 'CPU gptqQuantize', formatMs(timing.ms), String(timing.runs), 'baseline', 'baseline', relErr(cpu), 'cpu (TS; GPTQ sweep on wasm SIMD)']);
    if (torch.ok) {
      const t = torch.cases[index];
      const path = c.method === 'rtn' ? 'PyTorch Quantizer.find_params + quantize' : 'PyTorch GPTQ.fasterquant';
      const hat = { rows, cols, data: t.weight };
      out.push([name, c.label, path, formatMs(t.ms), String(t.runs), ratio(t.ms, timing.ms), agreement(cpu.data, t.weight, cols), relErr(hat), `torch ${torch.torch}, ${torch.blas}, ${torch.threads} thread(s)`]);
    } else {
      out.push([name, c.label, 'PyTorch', 'n/a', '', '', '', '', `not run: ${torch.reason}`]);
    }
  }
  return {
    title: `Quantizing one ${rows}×${cols} layer (the pruning rows' layer and H)`,
    notes: [
      'Baseline per method: the CPU path (src/core/quant) = 1.00×; "vs CPU" is PyTorch\'s time ÷ the CPU time (> 1: the CPU path is faster). Both one thread, same inputs, same run.',
      'The CPU RTN time is quantizeRtn: codes, scales and zero points (Ŵ = dequantize(...) is not timed); PyTorch\'s is find_params + quantize, which returns Ŵ. GPTQ returns codes and Ŵ on both sides.',
      'PyTorch runs the copy of IST-DASLab/gptq used for the fixtures (bench/torch_quant.py): RTN = Quantizer.find_params + quantize; GPTQ = fasterquant (blocksize 128, percdamp 0.01, groupsize 32), H in float32 with float32 factorisations as the reference; the lab factorises in float64.',
      '"codes = CPU": whether PyTorch\'s Ŵ has the CPU path\'s codes (an entry more than 1e-5 relative away is a different code; below that only the float32 rounding of a group\'s scale differs). A GPTQ code flips where a value rounds within float32 noise of a half-step, and the rest of its row then differs. "rel. error": ‖(W − Ŵ)X‖/‖WX‖ from H.',
    ],
    columns: [
      { header: 'method' },
      { header: 'setting' },
      { header: 'path' },
      { header: 'ms', align: 'right' },
      { header: 'runs', align: 'right' },
      { header: 'vs CPU', align: 'right' },
      { header: 'codes = CPU', align: 'right' },
      { header: 'rel. error', align: 'right' },
      { header: 'ran on' },
    ],
    rows: out,
  };
}
