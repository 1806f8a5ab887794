"""Train the bundled character-level causal LM on the King James Bible and export it.

Writes model.onnx, model.json (model card), vocab.json, eval.json and calib.json to --out.
See scripts/train/README.md for the documented command.

Data: Debian package bible-kjv-text ships the text BRS-compressed in /usr/lib/bible.data;
bible-kjv's /usr/bin/bible decodes it. We keep only the verse text (no book/chapter
headings, no verse numbers), one verse per line, so the model learns prose, not indices.
"""

import argparse
import math
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import common

BIBLE_DATA_FILE = "/usr/lib/bible.data"
BIBLE_READER = "/usr/bin/bible"
WHOLE_BIBLE = "gen1:1-rev22:21"

CONTEXT = 128
EVAL_SEQUENCES = 32
CALIB_SEQUENCES = 64
VAL_SEQUENCES = 128  # fixed held-out windows for early stopping (not the eval set)


# --- data ------------------------------------------------------------------------------

def load_kjv_text():
    """Decode the whole Bible and keep verse text only, one verse per line.

    `bible -l100000` prints "Genesis 1" headings, blank lines and "  12 verse text" lines
    with no line wrapping; we keep the text after the verse number.
    """
    data_dir, data_name = os.path.split(BIBLE_DATA_FILE)
    printed = subprocess.run([BIBLE_READER, "-p", data_dir, "-d", data_name, "-l100000", WHOLE_BIBLE],
                             capture_output=True, check=True).stdout.decode("ascii")
    verses = []
    for line in printed.split("\n"):
        if not line.startswith("  "):
            continue  # heading or blank line
        number, text = line.strip().split(" ", 1)
        assert number.isdigit(), line
        verses.append(" ".join(text.split()))
    return "".join(v + "\n" for v in verses), len(verses)


def split_offsets(text_length):
    """Disjoint character ranges, by position in the text (Genesis → Revelation).

    train: first 90%; val (early stopping): 90% → 95% minus the calib slice;
    calib: the last CALIB_SEQUENCES*(CONTEXT+1) chars before 95%;
    eval: the first EVAL_SEQUENCES*(CONTEXT+1) chars of the last 5%.
    """
    train_end = int(0.90 * text_length)
    last5_start = int(0.95 * text_length)
    calib_start = last5_start - CALIB_SEQUENCES * (CONTEXT + 1)
    eval_end = last5_start + EVAL_SEQUENCES * (CONTEXT + 1)
    return {
        "train": (0, train_end),
        "val": (train_end, calib_start),
        "calib": (calib_start, last5_start),
        "eval": (last5_start, eval_end),
    }


def consecutive_windows(ids, start, count):
    """`count` non-overlapping windows of CONTEXT+1 ids starting at `start`."""
    width = CONTEXT + 1
    return [ids[start + i * width: start + (i + 1) * width].tolist() for i in range(count)]


# --- model -----------------------------------------------------------------------------

class CharTransformerLM(nn.Module):
    """Decoder-only pre-LN transformer (GPT-2 layout) with learned positions and an
    untied lm_head."""

    def __init__(self, vocab_size, context=CONTEXT, d_model=128, n_layers=6, n_heads=4,
                 d_hidden=512):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(
            [common.PreLnBlock(d_model, n_heads, d_hidden, causal_context=context)
             for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(module):
        # GPT-2 style: N(0, 0.02) for matrices and embeddings, zero biases.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device)
        x = self.tok_emb(input_ids) + self.pos_emb(positions)  # (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))  # (B, T, V)


# --- training --------------------------------------------------------------------------

def mean_loss_on_windows(model, windows, batch_size=32):
    """Mean next-token NLL over fixed windows of CONTEXT+1 ids."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(windows), batch_size):
            batch = windows[i:i + batch_size]
            logits = model(batch[:, :-1])
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1),
                                  reduction="sum")
            total += float(nll)
            count += batch[:, 1:].numel()
    model.train()
    return total / count


def train(model, train_ids, val_windows, args, curve):
    """AdamW + warmup/cosine on random windows of the train slice.

    Stops at the first of: held-out loss improved < args.plateau_rel over the last
    args.plateau_steps steps; args.max_steps; args.max_seconds of wall clock.
    Returns the state dict with the best held-out loss, the step count and the stop reason.
    """
    optimizer = common.make_adamw(model, args.lr, args.weight_decay, (0.9, 0.95))
    # The data order is a function of the seed alone: one generator, one draw per step.
    order = np.random.default_rng(args.seed)
    max_start = len(train_ids) - (CONTEXT + 1)
    offsets = torch.arange(CONTEXT + 1)

    best_val, best_state, best_step = math.inf, None, 0
    best_val_by_step = {}  # eval step -> best val loss seen up to that step
    recent_train = []
    stop_reason = f"reached --max-steps {args.max_steps}"
    step = 0
    model.train()
    while step < args.max_steps:
        lr = common.warmup_cosine_lr(step, args.lr, args.warmup_steps, args.max_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        starts = torch.from_numpy(order.integers(0, max_start + 1, size=args.batch_size))
        batch = train_ids[starts[:, None] + offsets[None, :]]  # (B, T+1)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent_train.append(float(loss))
        step += 1

        if step % args.eval_every == 0 or step == args.max_steps:
            val_loss = mean_loss_on_windows(model, val_windows)
            curve.add(step, trainLoss=float(np.mean(recent_train)), valLoss=val_loss, lr=lr)
            recent_train = []
            if val_loss < best_val:
                best_val, best_step = val_loss, step
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best_val_by_step[step] = best_val
            earlier = best_val_by_step.get(step - args.plateau_steps)
            if earlier is not None and step >= args.min_steps:
                improvement = (earlier - best_val) / earlier
                if improvement < args.plateau_rel:
                    stop_reason = (f"plateau: best held-out loss improved {improvement:.4%} over the "
                                   f"last {args.plateau_steps} steps (< {args.plateau_rel:.0%})")
                    break
            if curve.elapsed() > args.max_seconds:
                stop_reason = f"wall-clock cap {args.max_seconds}s"
                break
    return best_state, best_step, best_val, step, stop_reason


# --- metrics ---------------------------------------------------------------------------

def dense_metrics(model, sequences):
    """Metrics on eval.json exactly as the lab defines them: float32 model, NLL of every
    predicted position accumulated in float64, argmax ties → lowest index."""
    model.eval()
    nll_sum, correct, positions = 0.0, 0, 0
    with torch.no_grad():
        for seq in sequences:
            ids = torch.tensor(seq, dtype=torch.int64)
            logits = model(ids[None, :-1])[0]  # (T, V), float32
            targets = ids[1:]
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(1, targets[:, None])[:, 0]
            nll_sum += float(nll.double().sum())
            # torch.argmax returns the first maximal index on CPU.
            correct += int((logits.argmax(dim=-1) == targets).sum())
            positions += targets.numel()
    mean_nll = nll_sum / positions
    return {"perplexity": math.exp(mean_nll), "bitsPerChar": mean_nll / math.log(2),
            "top1": correct / positions, "meanNll": mean_nll, "evalTokens": positions}


# --- main ------------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_common_arguments(p, "public/models/kjv-charlm")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--max-steps", type=int, default=2400,
                   help="cosine schedule length and step cap")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--plateau-steps", type=int, default=500)
    p.add_argument("--plateau-rel", type=float, default=0.01)
    p.add_argument("--min-steps", type=int, default=1000,
                   help="no plateau stop before this (warmup noise)")
    p.add_argument("--max-seconds", type=float, default=1800.0)
    return p.parse_args()


def main():
    args = parse_args()
    common.seed_everything(args.seed, args.threads)
    os.makedirs(args.out, exist_ok=True)

    text, verse_count = load_kjv_text()
    chars = sorted(set(text))
    char_to_id = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([char_to_id[c] for c in text], dtype=torch.int64)
    splits = split_offsets(len(text))
    print(f"text: {len(text)} chars, {verse_count} verses, vocab {len(chars)}; splits {splits}",
          flush=True)

    train_ids = ids[splits["train"][0]:splits["train"][1]]
    val_start, val_end = splits["val"]
    val_stride = (val_end - val_start - (CONTEXT + 1)) // (VAL_SEQUENCES - 1)
    val_windows = torch.stack([ids[val_start + i * val_stride: val_start + i * val_stride + CONTEXT + 1]
                               for i in range(VAL_SEQUENCES)])
    eval_sequences = consecutive_windows(ids, splits["eval"][0], EVAL_SEQUENCES)
    calib_sequences = consecutive_windows(ids, splits["calib"][0], CALIB_SEQUENCES)

    model = CharTransformerLM(len(chars))
    parameters = common.count_parameters(model)
    print(f"parameters: {parameters}", flush=True)
    assert 1_000_000 <= parameters <= 5_000_000

    curve = common.CurveLog()
    best_state, best_step, best_val, steps, stop_reason = train(model, train_ids, val_windows, args, curve)
    wall_seconds = curve.elapsed()
    print(f"stopped after {steps} steps, {wall_seconds:.0f}s: {stop_reason}; "
          f"best held-out loss {best_val:.4f} at step {best_step}", flush=True)
    model.load_state_dict(best_state)
    model.eval()

    metrics = dense_metrics(model, eval_sequences)
    print(f"dense metrics: {metrics}", flush=True)

    example = torch.tensor([eval_sequences[0][:CONTEXT]], dtype=torch.int64)
    onnx_bytes = common.export_onnx(
        model, example, os.path.join(args.out, "model.onnx"), "input_ids", "logits",
        {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
    print(f"model.onnx: {onnx_bytes} bytes", flush=True)

    common.write_json(os.path.join(args.out, "vocab.json"), {"kind": "char", "chars": chars})
    text_source = f"{BIBLE_DATA_FILE} (decoded with {BIBLE_READER}), verse text only"
    for name, sequences in (("eval", eval_sequences), ("calib", calib_sequences)):
        start = splits[name][0]
        common.write_json(os.path.join(args.out, f"{name}.json"), {
            "kind": "lm-tokens", "seqLen": CONTEXT,
            "source": {"text": text_source, "split": name, "charStart": start,
                       "charEnd": start + len(sequences) * (CONTEXT + 1),
                       "layout": "non-overlapping consecutive windows of seqLen+1 characters"},
            "sequences": sequences}, compact=True)

    common.write_model_card(args.out, {
        "id": "kjv-charlm",
        "name": "KJV character LM",
        "task": "causal-lm",
        "description": ("Decoder-only pre-LayerNorm transformer predicting the next character of "
                        "the King James Bible; unfused attention (one Softmax per block)."),
        "parameters": parameters,
        "architecture": {"layers": 6, "dModel": 128, "heads": 4, "headDim": 32, "mlp": 512,
                         "activation": "gelu (erf)", "norm": "pre-LayerNorm",
                         "positions": "learned", "context": CONTEXT, "vocabSize": len(chars),
                         "tiedEmbeddings": False,
                         "causalMask": "masked_fill(-inf) with a tril buffer sliced to [T,T]"},
        "onnx": {"opset": common.ONNX_OPSET, "input": "input_ids int64 [batch, seq<=128]",
                 "output": "logits float32 [batch, seq, vocabSize]", "bytes": onnx_bytes},
        "data": {
            "source": (f"Debian package bible-kjv-text {common.debian_package_version('bible-kjv-text')}, "
                       f"{BIBLE_DATA_FILE}, decoded with {BIBLE_READER} from bible-kjv "
                       f"{common.debian_package_version('bible-kjv')}"),
            "licence": "Public domain (King James Version, 1611; see /usr/share/doc/bible-kjv-text/copyright)",
            "normalisation": ("Verse text only, Genesis 1:1 to Revelation 22:21: book/chapter headings and "
                              "verse numbers dropped, whitespace collapsed, one verse per line ('\\n')."),
            "characters": len(text), "verses": verse_count,
            "splits": {
                name: {"charStart": a, "charEnd": b, "chars": b - a} for name, (a, b) in splits.items()
            } | {"notes": ("Disjoint ranges by position. val: 128 evenly spaced windows used for early "
                           "stopping. calib: 64 windows, eval: 32 windows of 129 chars, consecutive.")},
        },
        "files": {"model": "model.onnx", "vocab": "vocab.json", "eval": "eval.json", "calib": "calib.json"},
        "training": {
            "command": common.command_line(),
            "seed": args.seed,
            "optimizer": {"name": "AdamW", "lr": args.lr, "betas": [0.9, 0.95],
                          "weightDecay": args.weight_decay,
                          "weightDecayOn": "matrices and embeddings only",
                          "schedule": (f"linear warmup {args.warmup_steps} steps, cosine to 10% of lr "
                                       f"at step {args.max_steps}"),
                          "gradClip": 1.0},
            "batch": {"sequences": args.batch_size, "tokens": CONTEXT},
            "dataOrder": "uniform random window starts in the train slice from numpy default_rng(seed)",
            "steps": steps, "bestStep": best_step, "bestValLoss": best_val,
            "exported": "weights at the best held-out loss",
            "wallSeconds": round(wall_seconds, 1), "stopReason": stop_reason,
            **common.training_environment(),
            "curve": curve.points,
        },
        "denseMetrics": metrics,
    })
    print("done", flush=True)


if __name__ == "__main__":
    main()
