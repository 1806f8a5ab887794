"""PyTorch side of `npm run bench`'s layer benchmark: the reference pruning code on the layer
that bench/layer.ts wrote, timed on this machine's CPU.

    /usr/bin/python3 bench/torch_prune.py DIR [--threads N]

DIR holds what bench/torch.ts wrote: weight.f32 (C_out x C_in), sqnorm.f64 (C_in, sum over
tokens of x^2), hessian.f64 (C_in x C_in, 2/n X X^T) and cases.json. The method code is the
reference code the lab's fixtures use (scripts/fixtures/prune/), so there is one copy of it:
  magnitude  locuslab/wanda prune_magnitude: sort(|W|)[int(numel*s)] threshold; N:M by topk
  wanda      locuslab/wanda prune_wanda: |W| * sqrt(scaler_row), per-row stable sort; N:M by topk
  sparsegpt  IST-DASLab/sparsegpt fasterprune, blocksize 128, percdamp 0.01, float32 H as the
             reference keeps it
For each case it also times the lab's relative reconstruction error
sqrt(tr(dW H dW^T) / tr(W H W^T)) in float64, which runPruneJob computes whenever the job
carries H. Writes keep-<i>.u8 (1 = kept) per case and prints one JSON object on stdout.
"""

import argparse
import json
import os
import platform
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts', 'fixtures'))

from prune.sparsegpt_ref import SparseGPT  # noqa: E402
from prune.wanda_ref import magnitude_layer_mask_reference, row_or_nm_mask, wanda_metric  # noqa: E402

BLOCKSIZE = 128
PERCDAMP = 0.01


def median_ms(run, min_runs=3, min_seconds=0.3, single_run_above=1.5):
    """Median wall time after one warm-up run; a warm-up slower than single_run_above seconds is
    the measurement (the same rule as bench/measure.ts). Also the process CPU time per run (mean
    over every run, warm-up included), which other processes on a shared machine disturb less."""
    cpu0 = time.process_time()
    start = time.perf_counter()
    result = run()
    first = time.perf_counter() - start
    if first > single_run_above:
        return first * 1000, 1, result, (time.process_time() - cpu0) * 1000
    times = []
    began = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - began < min_seconds:
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    cpu_ms = (time.process_time() - cpu0) * 1000 / (len(times) + 1)
    times.sort()
    return times[len(times) // 2] * 1000, len(times), result, cpu_ms


def prune_n_m(pattern):
    """The reference's (sparsity, prune_n, prune_m): prune_n is the number PRUNED per group."""
    if pattern['kind'] == 'unstructured':
        return pattern['sparsity'], 0, 0
    if pattern['kind'] == 'nm':
        return 1 - pattern['n'] / pattern['m'], pattern['m'] - pattern['n'], pattern['m']
    raise ValueError(f"pattern {pattern['kind']} has no reference implementation")


def magnitude(W, pattern):
    sparsity, prune_n, prune_m = prune_n_m(pattern)
    if prune_n != 0:
        pruned = row_or_nm_mask(torch.abs(W), sparsity, prune_n, prune_m)
    else:
        pruned = magnitude_layer_mask_reference(W, sparsity)
    Wp = W.clone()
    Wp[pruned] = 0
    return Wp, pruned


def wanda(W, scaler_row, pattern):
    sparsity, prune_n, prune_m = prune_n_m(pattern)
    pruned = row_or_nm_mask(wanda_metric(W, scaler_row), sparsity, prune_n, prune_m)
    Wp = W.clone()
    Wp[pruned] = 0
    return Wp, pruned


def sparsegpt(W, H, pattern):
    sparsity, prune_n, prune_m = prune_n_m(pattern)
    layer = nn.Linear(W.shape[1], W.shape[0], bias=False)
    layer.weight.data = W.clone()
    pruner = SparseGPT(layer)
    pruner.H = H
    Wp, pruned, _ = pruner.fasterprune(sparsity, prunen=prune_n, prunem=prune_m, blocksize=BLOCKSIZE, percdamp=PERCDAMP)
    return Wp, pruned


def relative_error(W, Wp, H64):
    delta = (W - Wp).double()
    error = ((delta @ H64) * delta).sum()
    reference = ((W.double() @ H64) * W.double()).sum()
    return float(torch.sqrt(error.clamp(min=0) / reference))


def loaded_blas():
    """The BLAS shared library this process actually mapped (Debian's torch links libblas.so.3,
    which the alternatives system points at OpenBLAS or at the reference BLAS), after one matmul."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    paths = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ''
            name = os.path.basename(path)
            if re.search(r'blas|mkl|blis|atlas', name, re.I):
                paths.add(os.path.realpath(path))
    found = sorted(paths)
    text = ' '.join(found)
    if re.search(r'openblas', text, re.I):
        kind = 'openblas'
    elif re.search(r'mkl', text, re.I):
        kind = 'mkl'
    elif re.search(r'blis', text, re.I):
        kind = 'blis'
    elif re.search(r'/blas/libblas', text):
        kind = 'reference'
    else:
        kind = 'unknown'
    return {'kind': kind, 'name': kind if kind != 'reference' else 'reference BLAS', 'paths': found}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('dir')
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, 'cases.json')) as f:
        spec = json.load(f)
    rows, cols, tokens = spec['rows'], spec['cols'], spec['tokens']
    W = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'weight.f32'), dtype=np.float32).reshape(rows, cols))
    sq_norm = np.fromfile(os.path.join(args.dir, 'sqnorm.f64'), dtype=np.float64)
    H64 = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'hessian.f64'), dtype=np.float64).reshape(cols, cols))
    # The references keep their statistics in float32: scaler_row = sum x^2 / n (WrappedGPT),
    # H = 2/n X X^T (SparseGPT.add_batch).
    scaler_row = torch.from_numpy((sq_norm / tokens).astype(np.float32))
    H32 = H64.float()

    blas = loaded_blas()
    A = torch.randn(768, 768)
    B = torch.randn(768, 768)
    torch.mm(A, B)
    gemm_times = []
    for _ in range(7):  # fastest run, as bench/linalg.ts times the wasm kernels
        t0 = time.perf_counter()
        torch.mm(A, B)
        gemm_times.append(time.perf_counter() - t0)
    gemm_ms, gemm_runs = min(gemm_times) * 1000, len(gemm_times)

    results = []
    for index, case in enumerate(spec['cases']):
        method, pattern = case['method'], case['pattern']
        if method == 'magnitude':
            run = lambda: magnitude(W, pattern)  # noqa: E731
        elif method == 'wanda':
            run = lambda: wanda(W, scaler_row, pattern)  # noqa: E731
        else:
            run = lambda: sparsegpt(W, H32, pattern)  # noqa: E731
        ms, runs, (Wp, pruned), cpu_ms = median_ms(run)
        rel_err_ms, rel_err_runs, rel_err, rel_err_cpu_ms = median_ms(lambda: relative_error(W, Wp, H64))
        (~pruned).numpy().astype(np.uint8).tofile(os.path.join(args.dir, f'keep-{index}.u8'))
        results.append({'ms': ms, 'runs': runs, 'cpuMs': cpu_ms, 'relErr': rel_err, 'relErrMs': rel_err_ms, 'relErrRuns': rel_err_runs, 'relErrCpuMs': rel_err_cpu_ms})

    print(json.dumps({
        'python': platform.python_version(),
        'torch': torch.__version__,
        'numpy': np.__version__,
        'threads': torch.get_num_threads(),
        'blas': blas,
        'gemm': {'ms': gemm_ms, 'runs': gemm_runs},
        'cases': results,
    }))


if __name__ == '__main__':
    main()
