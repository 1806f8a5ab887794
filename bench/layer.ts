// Section "prune layer": every method on one GPT-2-small-shaped layer, CPU path vs WebGPU path
// vs the reference code in PyTorch; then RTN and GPTQ on the same layer (bench/quant.ts). W is c_fc's shape, C_out 3072 × C_in 768 (random weights,
// seeded); its inputs are 2048 seeded 768-wide tokens, from which the lab's own calibration
// accumulator makes sqNorm and H = 2/n · X Xᵀ. The baseline of each (method, pattern) is the
// CPU path, runPruneJob, measured in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuStatsAccumulator, layerStatsFromSums } from '../src/core/calibrate/accumulator.ts';
import { runPruneJob, type PruneJob, type PruneJobResult, type PruneLayerFn } from '../src/core/compress/jobs.ts';
import { normalArray, seededUniform } from '../src/core/gpu/testing/random.ts';
import { describePattern, type SparsityPattern } from '../src/core/prune/patterns.ts';
import { relativeReconstructionError } from '../src/core/prune/reconstruction.ts';
import type { Matrix } from '../src/core/prune/types.ts';
import { NO_GPU_CELL, type GpuOutcome } from './gpu.ts';
import { formatMs, measure, ratio, reason, type Table, type Timing } from './measure.ts';
import { linalgTable } from './linalg.ts';
import { quantLayerTable } from './quant.ts';
import { runTorchCases, torchComparable, type TorchCase, type TorchLayerInputs, type TorchOutcome } from './torch.ts';

export const LAYER = { rows: 3072, cols: 768, tokens: 2048, seed: 1 } as const;
const METHODS = ['magnitude', 'wanda', 'sparsegpt'] as const;
const PATTERNS: SparsityPattern[] = [
  { kind: 'unstructured', sparsity: 0.5 },
  { kind: 'nm', n: 2, m: 4 },
];
const SPARSE_GPT = { blockSize: 128, percDamp: 0.01 };
/** Rows of W the CPU reconstruction-error row is timed on (its cost is linear in rows; all of them now that it is a GEMM). */
const ERROR_ROWS = 3072;

/**
 * W ~ N(0, 0.02²) (GPT-2's initialisation scale) and tokens x_t ~ N(0, diag(s)²) with a few
 * outlier channels (s_j = 8, about 2 %), as real activations have; statistics in float64 by the
 * lab's CpuStatsAccumulator, as calibration makes them.
 */
export function syntheticLayer(rows: number, cols: number, tokens: number, seed: number): TorchLayerInputs {
  const coin = seededUniform(seed);
  const scale = Float32Array.from({ length: cols }, () => (coin() < 0.02 ? 8 : 0.5 + coin()));
  const x = normalArray(tokens * cols, seed + 1);
  for (let i = 0; i < x.length; i++) x[i] *= scale[i % cols];
  const accumulator = new CpuStatsAccumulator({ channels: cols, hessian: true });
  accumulator.add(x, tokens);
  const stats = layerStatsFromSums(accumulator.finish());
  return { weight: { rows, cols, data: normalArray(rows * cols, seed + 2, 0.02) }, sqNorm: stats.sqNorm, hessian: stats.hessian, tokens };
}

/** The job the pipeline would build, with only the statistics the method needs. */
function jobFor(layer: TorchLayerInputs, method: PruneJob['method'], pattern: SparsityPattern): PruneJob {
  return {
    index: 0,
    layerId: `c_fc ${layer.weight.rows}×${layer.weight.cols}`,
    purpose: 'prune',
    method,
    pattern,
    magnitudeGroup: 'layer',
    weight: layer.weight,
    ...(method === 'wanda' ? { sqNorm: layer.sqNorm } : {}),
    ...(method === 'sparsegpt' ? { hessian: layer.hessian } : {}),
    sparseGpt: SPARSE_GPT,
  };
}

function maskAgreement(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `size ${b.length} ≠ ${a.length}`;
  let differ = 0;
  for (let i = 0; i < a.length; i++) differ += a[i] === b[i] ? 0 : 1;
  return differ === 0 ? 'identical' : `${differ} of ${a.length} differ`;
}

const relErrCell = (value: number | null | undefined) => (value === null || value === undefined ? '-' : value.toFixed(4));

/** Runs every case once on a small layer, so the timed runs find the JIT and GPU pipelines warm. */
export async function warmUpPruneJobs(gpuLayer: PruneLayerFn | undefined): Promise<void> {
  const small = syntheticLayer(96, 256, 256, 99);
  for (const method of METHODS) {
    for (const pattern of PATTERNS) {
      runPruneJob(jobFor(small, method, pattern));
      await gpuLayer?.(jobFor(small, method, pattern));
    }
  }
}

export interface LayerSectionOptions {
  gpu: GpuOutcome;
  torchThreads: number;
}

export interface LayerSectionResult {
  table: Table;
  /** CPU path ÷ PyTorch per method and pattern, against issue 7's targets. */
  targets: Table;
  /** GFLOP/s of the GEMM-shaped parts beside a peak measured in the same run. */
  linalg: Table;
  /** RTN and GPTQ on the same layer: CPU path vs PyTorch (bench/quant.ts). */
  quant: Table;
  torch: TorchOutcome;
}

/** Issue 7: the CPU path at most as slow as PyTorch (one thread) on this layer. */
const TARGET_RATIO = 1.0;

export async function layerSection({ gpu, torchThreads }: LayerSectionOptions): Promise<LayerSectionResult> {
  const { rows, cols, tokens, seed } = LAYER;
  const started = performance.now();
  const layer = syntheticLayer(rows, cols, tokens, seed);
  const statsMs = performance.now() - started;

  const cases: TorchCase[] = METHODS.flatMap((method) => PATTERNS.map((pattern) => ({ method, pattern })));
  const dir = mkdtempSync(join(tmpdir(), 'lab-bench-'));
  let torch: TorchOutcome;
  try {
    torch = runTorchCases(dir, layer, cases, torchThreads, 240_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const ctx = gpu.ok ? new gpu.gpu.modules.GpuContext(gpu.gpu.device) : undefined;
  const gpuLayer = gpu.ok && ctx ? gpu.gpu.modules.gpuPruneLayer(ctx) : undefined;
  let gpuFailure = gpu.ok ? undefined : NO_GPU_CELL;
  try {
    await warmUpPruneJobs(gpuLayer);
  } catch (error) {
    gpuFailure = `GPU warm-up failed: ${reason(error)}`;
  }

  const out: string[][] = [];
  const row = (method: string, pattern: SparsityPattern, path: string, timing: Timing | string, baselineMs: number, agreement: string, relErr: string, ranOn: string) =>
    out.push(
      typeof timing === 'string'
        ? [method, describePattern(pattern), path, 'n/a', '', '', '', '', timing]
        : [method, describePattern(pattern), path, formatMs(timing.ms), String(timing.runs), ratio(timing.ms, baselineMs), agreement, relErr, ranOn],
    );

  let sparseGptCpu: { weight: Matrix; torchIndex: number } | undefined;
  const comparable = torch.ok && torchComparable(torch.info);
  const targets: string[][] = [];
  for (const [index, { method, pattern }] of cases.entries()) {
    const job = jobFor(layer, method, pattern);
    let cpu!: PruneJobResult;
    const cpuStart = process.cpuUsage();
    const cpuTiming = await measure(() => (cpu = runPruneJob(job)));
    const cpuUsed = process.cpuUsage(cpuStart);
    // Process CPU time per run (warm-up included, as torch_prune.py counts it).
    const cpuTimeMs = (cpuUsed.user + cpuUsed.system) / 1000 / (cpuTiming.runs + (cpuTiming.runs === 1 ? 0 : 1));
    const what = method === 'sparsegpt' ? 'runPruneJob (incl. rel. error)' : 'runPruneJob';
    row(method, pattern, `CPU ${what}`, cpuTiming, cpuTiming.ms, 'baseline', relErrCell(cpu.relativeError), cpu.backend);

    if (gpuLayer && !gpuFailure) {
      try {
        let result!: PruneJobResult;
        const timing = await measure(async () => (result = await gpuLayer(job)));
        row(method, pattern, 'WebGPU gpuPruneLayer', timing, cpuTiming.ms, maskAgreement(cpu.keep.data, result.keep.data), relErrCell(result.relativeError), result.backend);
      } catch (error) {
        row(method, pattern, 'WebGPU gpuPruneLayer', `failed: ${reason(error)}`, cpuTiming.ms, '', '', '');
      }
    } else {
      row(method, pattern, 'WebGPU gpuPruneLayer', gpuFailure ?? 'no GPU', cpuTiming.ms, '', '', '');
    }

    if (torch.ok) {
      const t = torch.cases[index];
      // runPruneJob measures the reconstruction error whenever the job has H, so the like-for-like
      // PyTorch time for SparseGPT is fasterprune plus the same error computation.
      const withError = method === 'sparsegpt';
      const timing = { ms: t.ms + (withError ? t.relErrMs : 0), runs: t.runs };
      const path = `PyTorch ${method === 'sparsegpt' ? 'fasterprune + rel. error' : method === 'wanda' ? 'prune_wanda' : 'prune_magnitude'}`;
      const ranOn = `torch ${torch.info.torch}, ${torch.info.blas.name}, ${torch.info.threads} thread(s)`;
      row(method, pattern, path, timing, cpuTiming.ms, maskAgreement(cpu.keep.data, t.keep), withError ? relErrCell(t.relErr) : '-', ranOn);
      if (!comparable) out[out.length - 1][5] = 'not comparable';
      const cpuOverTorch = cpuTiming.ms / timing.ms;
      const cpuTimeOverTorch = cpuTimeMs / (t.cpuMs + (withError ? t.relErrCpuMs : 0));
      targets.push([
        method,
        describePattern(pattern),
        formatMs(cpuTiming.ms),
        formatMs(timing.ms),
        comparable ? `${cpuOverTorch.toFixed(2)}×` : 'not comparable',
        comparable ? `${cpuTimeOverTorch.toFixed(2)}×` : 'not comparable',
        `≤ ${TARGET_RATIO.toFixed(1)}×`,
        comparable ? (cpuOverTorch <= TARGET_RATIO ? 'met' : 'not met') : '-',
      ]);
    } else {
      row(method, pattern, 'PyTorch', 'not run (reason in the header)', cpuTiming.ms, '', '', '');
    }
    if (method === 'sparsegpt' && pattern.kind === 'unstructured') sparseGptCpu = { weight: cpu.weight, torchIndex: index };
  }

  // The error measure on its own: how much of the SparseGPT rows above it is. Its cost is linear
  // in C_out, so it is timed on the first ERROR_ROWS rows and scaled, to keep the run short.
  if (sparseGptCpu) {
    const share = layer.weight.rows / ERROR_ROWS;
    const slice = (m: Matrix): Matrix => ({ rows: ERROR_ROWS, cols: m.cols, data: m.data.subarray(0, ERROR_ROWS * m.cols) });
    const original = slice(layer.weight);
    const pruned = slice(sparseGptCpu.weight);
    const sliced = await measure(() => relativeReconstructionError(original, pruned, { hessian: layer.hessian }));
    const errorTiming = { ms: sliced.ms * share, runs: sliced.runs };
    const pattern = PATTERNS[0];
    row('rel. error only', pattern, `CPU relativeReconstructionError (${ERROR_ROWS} rows ×${share})`, errorTiming, errorTiming.ms, 'baseline', '', 'cpu (wasm float32 GEMM, float64 totals)');
    if (torch.ok) {
      const t = torch.cases[sparseGptCpu.torchIndex];
      row('rel. error only', pattern, 'PyTorch (float64, all rows)', { ms: t.relErrMs, runs: t.relErrRuns }, errorTiming.ms, '', '', `torch ${torch.info.torch}`);
    }
  }
  ctx?.destroy();
  const quant = await quantLayerTable(layer, syntheticLayer(96, 256, 256, 99), torchThreads);

  return {
    torch,
    quant,
    linalg: await linalgTable(torch),
    targets: {
      title: `CPU path vs PyTorch on the ${rows}×${cols} layer (issue 7 targets)`,
      notes: [
        'CPU ÷ PyTorch: runPruneJob time ÷ the reference code\'s time in PyTorch, both one thread, same inputs, same run (< 1 is faster than PyTorch). SparseGPT includes the relative-error report on both sides.',
        '"same, CPU time": the ratio of process CPU time per run (Node process.cpuUsage, Python time.process_time), which other processes on a shared machine disturb less than wall time; the target is judged on wall time.',
        comparable ? `PyTorch ran on ${torch.ok ? torch.info.blas.name : ''}.` : torch.ok ? 'PyTorch ran on the reference BLAS: not comparable (install libopenblas0-pthread).' : 'PyTorch did not run (reason in the header).',
      ],
      columns: [
        { header: 'method' },
        { header: 'pattern' },
        { header: 'CPU ms', align: 'right' },
        { header: 'PyTorch ms', align: 'right' },
        { header: 'CPU ÷ PyTorch', align: 'right' },
        { header: 'same, CPU time', align: 'right' },
        { header: 'target', align: 'right' },
        { header: '(wall)', align: 'left' },
      ],
      rows: targets,
    },
    table: {
      title: `Pruning one ${rows}×${cols} layer (GPT-2 small c_fc: C_out ${rows}, C_in ${cols}; random weights, seed ${seed})`,
      notes: [
        `Inputs: ${tokens} seeded tokens × ${cols} channels → sqNorm and H = 2/n·XXᵀ (float64, ${formatMs(statsMs)} ms with the lab's CpuStatsAccumulator, not timed below).`,
        'Baseline per method and pattern: the CPU path, runPruneJob (src/core/compress/jobs.ts) = 1.00×; the other rows are time ÷ that baseline (< 1 is faster).',
        'The job carries what the method needs: magnitude W; Wanda sqNorm; SparseGPT H (blocksize 128, percdamp 0.01), so its job also computes the relative error ‖ΔWX‖/‖WX‖ from H — and the PyTorch time includes the same computation.',
        '"mask = CPU": whether the keep mask equals the CPU path\'s, or how many entries differ. Reference differences: prune_magnitude prunes ⌊numel·s⌋+1 weights; Wanda scores in float32 there; SparseGPT factorises H in float32 there (the lab in float64).',
      ],
      columns: [
        { header: 'method' },
        { header: 'pattern' },
        { header: 'path' },
        { header: 'ms', align: 'right' },
        { header: 'runs', align: 'right' },
        { header: 'vs CPU', align: 'right' },
        { header: 'mask = CPU', align: 'right' },
        { header: 'rel. error', align: 'right' },
        { header: 'ran on' },
      ],
      rows: out,
    },
  };
}
