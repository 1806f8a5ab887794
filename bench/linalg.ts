// Part of section "layer": the GEMM-shaped parts of the CPU path on the wasm SIMD kernels
// (src/core/linalg), each in GFLOP/s beside a peak measured in the same run — the best the
// kernel reaches on a square 768 product with everything in cache — and PyTorch's own
// float32 matmul on the same shape (its BLAS, its threads) as the native anchor.
import { CpuStatsAccumulator } from '../src/core/calibrate/accumulator.ts';
import { normalArray } from '../src/core/gpu/testing/random.ts';
import { WasmArena } from '../src/core/linalg/wasmKernels.ts';
import { formatMs, type Table } from './measure.ts';
import type { TorchOutcome } from './torch.ts';

interface Part {
  name: string;
  shape: string;
  flops: number;
  run: () => unknown;
}

/** The parts with the shapes one SparseGPT job on the 3072×768 layer runs (and calibration's Gram). */
function parts(): Part[] {
  const [rows, cols, block, tokens] = [3072, 768, 128, 2048];
  const arena = new WasmArena();
  const k = arena.k;
  const a = arena.region('f32', rows * cols);
  const b = arena.region('f32', cols * cols);
  const c = arena.region('f32', rows * cols);
  const spd = arena.region('f64', cols * cols);
  const factor = arena.region('f64', cols * cols);
  const inverse = arena.region('f64', cols * cols);
  arena.ready();
  arena.view(a).set(normalArray(rows * cols, 1, 0.02));
  arena.view(b).set(normalArray(cols * cols, 2, 0.05));
  const s = arena.view(spd);
  const x = normalArray(cols * cols, 3);
  for (let i = 0; i < cols; i++) for (let j = 0; j <= i; j++) s[i * cols + j] = s[j * cols + i] = (i === j ? cols : 0) + 0.01 * x[i * cols + j];
  const spdCopy = Float64Array.from(s);
  const inputs = normalArray(tokens * cols, 4);
  const tail = cols - block;
  return [
    { name: 'peak: sgemm_sub, square', shape: '768×768 · 768×768', flops: 2 * cols ** 3, run: () => k.sgemm_sub(cols, cols, cols, a.ptr, cols, b.ptr, cols, c.ptr, cols) },
    {
      name: 'SparseGPT lazy update (1st block)',
      shape: `${rows}×${block} · ${block}×${tail}`,
      flops: 2 * rows * block * tail,
      run: () => k.sgemm_sub(rows, tail, block, a.ptr, block, b.ptr + 4 * block, cols, c.ptr + 4 * block, cols),
    },
    { name: 'rel. error trace tr(A H Aᵀ), one of two', shape: `${rows}×${cols}, H triangular`, flops: rows * cols * cols, run: () => k.sgemm_trace_upper(rows, cols, a.ptr, cols, b.ptr, cols) },
    {
      name: 'Cholesky (float64)',
      shape: `${cols}×${cols}`,
      flops: cols ** 3 / 3,
      run: () => {
        arena.view(factor).set(spdCopy);
        k.cholesky_lower_f64(cols, factor.ptr);
      },
    },
    { name: 'triangular inverse (float64)', shape: `${cols}×${cols}`, flops: cols ** 3 / 3, run: () => k.lower_inverse_f64(cols, factor.ptr, inverse.ptr) },
    {
      name: 'calibration Gram Σ x xᵀ (float64, upper)',
      shape: `${tokens} tokens × ${cols}`,
      flops: tokens * cols * (cols + 1),
      run: () => {
        const accumulator = new CpuStatsAccumulator({ channels: cols, hessian: true });
        accumulator.add(inputs, tokens);
        accumulator.finish();
      },
    },
  ];
}

/**
 * Fastest of `runs` runs after a warm-up: other processes only ever add time, so on a shared
 * machine the best run is the estimate of what the kernel reaches (the peak row included).
 */
function bestOf(run: () => unknown, runs = 7): { ms: number; runs: number } {
  run();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, runs };
}

export async function linalgTable(torch: TorchOutcome): Promise<Table> {
  const out: string[][] = [];
  let peak = 0;
  const gflops = (flops: number, ms: number) => flops / ms / 1e6;
  for (const part of parts()) {
    const timing = bestOf(part.run);
    const rate = gflops(part.flops, timing.ms);
    if (peak === 0) peak = rate;
    out.push([part.name, part.shape, formatMs(timing.ms), String(timing.runs), rate.toFixed(1), `${((100 * rate) / peak).toFixed(0)} %`]);
  }
  if (torch.ok && torch.info.gemm) {
    const { ms, runs } = torch.info.gemm;
    const rate = gflops(2 * 768 ** 3, ms);
    out.push([`PyTorch torch.mm float32 (${torch.info.blas.name}, ${torch.info.threads} thread(s))`, '768×768 · 768×768', formatMs(ms), String(runs), rate.toFixed(1), `${((100 * rate) / peak).toFixed(0)} %`]);
  }
  return {
    title: 'CPU linear algebra (WebAssembly SIMD, one thread) on the shapes of the 3072×768 layer',
    notes: [
      'GFLOP/s counts 2 per multiply-add (a triangular operand counts only its non-zero half; the Gram only its upper triangle). "of peak" is against the first row, the square 768 product measured in this run. ms: the fastest of the runs on both sides (other processes only add time).',
      'The kernels use wasm simd128 without fused multiply-add (docs/cpu-linalg.md), so the peak is what separate f32x4 multiplies and adds reach in V8 on this CPU.',
    ],
    columns: [{ header: 'operation' }, { header: 'shape' }, { header: 'ms', align: 'right' }, { header: 'runs', align: 'right' }, { header: 'GFLOP/s', align: 'right' }, { header: 'of peak', align: 'right' }],
    rows: out,
  };
}
