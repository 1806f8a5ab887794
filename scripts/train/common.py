"""Shared helpers for the bundled-model training scripts.

Both scripts (kjv_charlm.py, digits_vit.py) use these so that seeding, determinism,
ONNX export and the model card look the same for every model the lab ships.

Run with Debian's python (/usr/bin/python3, python3-torch 1.13), OMP_NUM_THREADS=2.
"""

import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn

ONNX_OPSET = 17


# --- determinism -----------------------------------------------------------------------

def seed_everything(seed, threads):
    """Seed every generator the scripts touch and ask torch for deterministic kernels.

    Everything runs on the CPU with a fixed thread count, so with these settings the same
    seed (and thread count) gives the same data order, initial weights and trained model.

    Why one intra-op thread by default: on the 2-core build machine, shared with other jobs,
    a training step of the LM took 0.66 s with 1 thread and 1.0-3.5 s with 2 (OpenMP
    threads spin at barriers while the other core is busy); the ViT was 3.5x faster too.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def add_common_arguments(parser, default_out):
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")


def command_line():
    """The exact command that produced this run, for the model card."""
    args = " ".join(sys.argv[1:])
    return f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '2')} /usr/bin/python3 {sys.argv[0]} {args}".strip()


def debian_package_version(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


# --- attention -------------------------------------------------------------------------

class UnfusedSelfAttention(nn.Module):
    """Multi-head self-attention written out op by op.

    The lab inspects and rewrites attention in the exported graph (per-head scores,
    softmax statistics), so it must appear as MatMul → Mul → (Where) → Softmax → MatMul,
    not as a fused kernel. One Softmax node per block.
    """

    def __init__(self, d_model, n_heads, causal_context=None):
        super().__init__()
        assert d_model % n_heads == 0
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        if causal_context is not None:
            # Lower-triangular [C, C] mask, sliced to [T, T] in forward so the export keeps a
            # dynamic sequence axis. Not persistent: it is not a learned weight.
            mask = torch.tril(torch.ones(causal_context, causal_context, dtype=torch.bool))
            self.register_buffer("causal_mask", mask, persistent=False)
        else:
            self.causal_mask = None

    def split_heads(self, x, batch, seq):
        # (B, T, D) -> (B, H, T, hd)
        return x.reshape(batch, seq, self.n_heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        batch, seq, d_model = x.shape
        q = self.split_heads(self.q_proj(x), batch, seq)
        k = self.split_heads(self.k_proj(x), batch, seq)
        v = self.split_heads(self.v_proj(x), batch, seq)
        scores = q @ k.transpose(-2, -1) * self.scale  # (B, H, T, T)
        if self.causal_mask is not None:
            allowed = self.causal_mask[:seq, :seq]
            scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        context = probs @ v  # (B, H, T, hd)
        context = context.transpose(1, 2).reshape(batch, seq, d_model)
        return self.out_proj(context)


class Mlp(nn.Module):
    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_model)

    def forward(self, x):
        # Exact (erf) GELU, as in GPT-2/ViT reference code; exports as Erf-based subgraph.
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))


class PreLnBlock(nn.Module):
    """x + attn(ln1(x)); x + mlp(ln2(x)) — the pre-LN layout of GPT-2 and ViT.

    Optional dropout on the two residual branches (as in ViT); it is an identity in eval
    mode, so it leaves no node in the exported graph.
    """

    def __init__(self, d_model, n_heads, d_hidden, causal_context=None, dropout=0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = UnfusedSelfAttention(d_model, n_heads, causal_context)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = Mlp(d_model, d_hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.dropout(self.attn(self.ln1(x)))
        x = x + self.dropout(self.mlp(self.ln2(x)))
        return x


# --- schedule --------------------------------------------------------------------------

def warmup_cosine_lr(step, peak_lr, warmup_steps, total_steps, final_fraction=0.1):
    """Linear warmup to peak_lr, then cosine decay to final_fraction * peak_lr at total_steps."""
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return peak_lr * (final_fraction + (1.0 - final_fraction) * cosine)


def make_adamw(model, lr, weight_decay, betas):
    """AdamW with decay only on matrices (Linear weights, embeddings), not on biases or
    LayerNorm parameters — the usual GPT-2/nanoGPT grouping."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


# --- curve logging ---------------------------------------------------------------------

class CurveLog:
    """Training curve kept in memory (for the model card) and echoed to stdout so a
    background run can be followed with `tail -f`."""

    def __init__(self):
        self.start = time.time()
        self.points = []

    def elapsed(self):
        return time.time() - self.start

    def add(self, step, **values):
        point = {"step": step, **values, "elapsedSeconds": round(self.elapsed(), 1)}
        self.points.append(point)
        shown = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in point.items())
        print(shown, flush=True)


# --- export and files ------------------------------------------------------------------

def export_onnx(model, example_input, path, input_name, output_name, dynamic_axes):
    """torch.onnx.export in eval mode, opset 17, constant folding on.

    Node names are left as torch produces them (e.g. /blocks.0/attn/q_proj/MatMul); the lab
    maps nodes back to layers by those names.
    """
    model.eval()
    torch.onnx.export(
        model,
        (example_input,),
        path,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes=dynamic_axes,
        opset_version=ONNX_OPSET,
        do_constant_folding=True,
        export_params=True,
    )
    return os.path.getsize(path)


def write_json(path, obj, compact=False):
    with open(path, "w", encoding="utf-8") as f:
        if compact:
            # Data files (token ids, pixels): one line, no spaces — they are read by code.
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def write_model_card(out_dir, card):
    write_json(os.path.join(out_dir, "model.json"), card)


def training_environment():
    # Debian's build reports torch.__version__ "1.13.0a0"; the package version is the useful one.
    return {"torchVersion": torch.__version__,
            "torchPackage": f"python3-torch {debian_package_version('python3-torch')}",
            "numpyVersion": np.__version__,
            "threads": torch.get_num_threads()}
