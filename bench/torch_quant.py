"""PyTorch side of `npm run bench`'s layer quantization rows: the reference quantization code on
the layer that bench/layer.ts wrote, timed on this machine's CPU.

    /usr/bin/python3 bench/torch_quant.py DIR [--threads N]

DIR holds what bench/quant.ts wrote: weight.f32 (C_out x C_in), hessian.f64 (C_in x C_in,
2/n X X^T) and quant.json (the cases). The method code is the copy the lab's fixtures use
(scripts/fixtures/quant/gptq_ref.py, IST-DASLab/gptq 2d65066), so there is one copy of it:
  rtn   Quantizer(perchannel=True).find_params(W, weight=True) + quantize(W)
  gptq  GPTQ.fasterquant(blocksize 128, percdamp 0.01, groupsize), H in float32 as the
        reference keeps it (float32 factorisations, as the reference runs them)
Writes q-<i>.f32 (the dequantized weight) per case and prints one JSON object on stdout.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts', 'fixtures'))

from torch_prune import loaded_blas, median_ms  # noqa: E402
from quant.gptq_ref import GPTQ, Quantizer  # noqa: E402


def quantizer(case):
    q = Quantizer()
    q.configure(case['bits'], perchannel=True, sym=case['symmetric'], mse=False)
    return q


def rtn(W, case):
    q = quantizer(case)
    q.find_params(W, weight=True)
    return q.quantize(W)


def gptq(W, H32, case):
    layer = nn.Linear(W.shape[1], W.shape[0], bias=False)
    layer.weight.data = W.clone()
    g = GPTQ(layer)
    g.H = H32
    g.quantizer = quantizer(case)
    return g.fasterquant(blocksize=128, percdamp=0.01, groupsize=case['groupSize'], actorder=case.get('actOrder', False))['Q']


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('dir')
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, 'quant.json')) as f:
        spec = json.load(f)
    rows, cols = spec['rows'], spec['cols']
    W = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'weight.f32'), dtype=np.float32).reshape(rows, cols))
    H32 = torch.from_numpy(np.fromfile(os.path.join(args.dir, 'hessian.f64'), dtype=np.float64).reshape(cols, cols)).float()
    blas = loaded_blas()
    results = []
    for index, case in enumerate(spec['cases']):
        run = (lambda: rtn(W, case)) if case['method'] == 'rtn' else (lambda: gptq(W, H32, case))  # noqa: E731
        ms, runs, Q, cpu_ms = median_ms(run)
        Q.numpy().astype('<f4').tofile(os.path.join(args.dir, f'q-{index}.f32'))
        results.append({'ms': ms, 'runs': runs, 'cpuMs': cpu_ms})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas, 'cases': results}))


if __name__ == '__main__':
    main()
