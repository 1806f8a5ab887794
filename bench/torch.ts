// The PyTorch side of the layer benchmark: bench/torch_prune.py under Debian's interpreter
// (/usr/bin/python3 with python3-torch; the python3 on PATH may be another one without torch).
// The inputs go through files, so both sides prune bit-identical W, sqNorm and H.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SparsityPattern } from '../src/core/prune/patterns.ts';
import type { Matrix } from '../src/core/prune/types.ts';

export const DEBIAN_PYTHON = '/usr/bin/python3';
/** LAB_PYTHON overrides it: on a GPU machine (bench:pack's run.sh) the python3 there has its own torch. */
export const BENCH_PYTHON = process.env.LAB_PYTHON ?? DEBIAN_PYTHON;
const SCRIPT = fileURLToPath(new URL('./torch_prune.py', import.meta.url));

export interface TorchCase {
  method: 'magnitude' | 'wanda' | 'sparsegpt';
  pattern: SparsityPattern;
}

export interface TorchCaseResult {
  /** The method's reference code alone (prune_magnitude / prune_wanda / fasterprune). */
  ms: number;
  runs: number;
  /** Process CPU time per run (time.process_time), less disturbed by other processes than wall time. */
  cpuMs: number;
  /** sqrt(tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)) in float64, and its time: what runPruneJob adds when it has H. */
  relErr: number;
  relErrMs: number;
  relErrCpuMs: number;
  relErrRuns: number;
  /** (C_out × C_in) 1 = kept, from the reference's mask. */
  keep: Uint8Array;
}

export interface TorchInfo {
  python: string;
  torch: string;
  numpy: string;
  threads: number;
  /** The BLAS library the torch process mapped (/proc/self/maps): 'reference' is not a fair anchor. */
  blas: { kind: 'openblas' | 'mkl' | 'blis' | 'reference' | 'unknown'; name: string; paths: string[] };
  /** torch.mm on two float32 768×768 matrices, fastest of its runs: the native GEMM anchor. */
  gemm?: { ms: number; runs: number };
}

/** PyTorch on Debian's reference BLAS is several times slower than the PyTorch a user has. */
export const torchComparable = (info: TorchInfo) => info.blas.kind !== 'reference';

export type TorchOutcome = { ok: true; info: TorchInfo; cases: TorchCaseResult[] } | { ok: false; reason: string };

export interface TorchLayerInputs {
  weight: Matrix;
  /** Σ_t x_j² over `tokens` tokens (float64). */
  sqNorm: Float64Array;
  /** 2/n · X Xᵀ (float64). */
  hessian: Float64Array;
  tokens: number;
}

const bytesOf = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Runs `cases` on the layer in PyTorch with `threads` intra-op threads, or says why it cannot. */
export function runTorchCases(dir: string, layer: TorchLayerInputs, cases: readonly TorchCase[], threads: number, timeoutMs: number): TorchOutcome {
  if (!existsSync(BENCH_PYTHON)) return { ok: false, reason: `${BENCH_PYTHON} not found (install Debian's python3-torch)` };
  const { rows, cols } = layer.weight;
  writeFileSync(join(dir, 'weight.f32'), bytesOf(layer.weight.data));
  writeFileSync(join(dir, 'sqnorm.f64'), bytesOf(layer.sqNorm));
  writeFileSync(join(dir, 'hessian.f64'), bytesOf(layer.hessian));
  writeFileSync(join(dir, 'cases.json'), JSON.stringify({ rows, cols, tokens: layer.tokens, cases }));
  // OpenBLAS keeps a thread pool of its own that torch.set_num_threads does not size.
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const child = spawnSync(BENCH_PYTHON, [SCRIPT, dir, '--threads', String(threads)], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 20, env });
  if (child.error) return { ok: false, reason: `${BENCH_PYTHON} ${SCRIPT}: ${child.error.message}` };
  if (child.status !== 0) {
    const last = child.stderr.trim().split('\n').pop() ?? '';
    if (/No module named 'torch'|No module named 'numpy'/.test(child.stderr)) return { ok: false, reason: `${BENCH_PYTHON} cannot import torch/numpy (${last}); install Debian's python3-torch` };
    return { ok: false, reason: `torch_prune.py exited with ${child.status}: ${last}` };
  }
  const out = JSON.parse(child.stdout) as TorchInfo & { cases: Omit<TorchCaseResult, 'keep'>[] };
  return {
    ok: true,
    info: { python: out.python, torch: out.torch, numpy: out.numpy, threads: out.threads, blas: out.blas, gemm: out.gemm },
    cases: out.cases.map((result, i) => ({ ...result, keep: new Uint8Array(readFileSync(join(dir, `keep-${i}.u8`))) })),
  };
}
