"""Train the bundled Vision Transformer on sklearn's 8x8 digits and export it.

Writes model.onnx, model.json (model card), eval.json and calib.json to --out.
See scripts/train/README.md for the documented command.

The model's input is pixels = raw / 16 (raw values are 0..16); eval.json and calib.json
hold the raw values and their "preprocess" ({"divide": 16}), which the lab applies itself.
"""

import argparse
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

import common

IMAGE_SIDE = 8
PATCH_SIDE = 2
PIXEL_DIVISOR = 16
EVAL_SAMPLES = 360
CALIB_SAMPLES = 128
VAL_FRACTION = 0.1  # of what is left for training; used for early stopping only
CLASSES = 10


# --- data ------------------------------------------------------------------------------

def split_digits(seed):
    """One seeded permutation of the 1797 samples, cut into disjoint eval / calib / val / train."""
    digits = load_digits()
    images = digits.images.astype(np.int64)  # (N, 8, 8), raw 0..16
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    rest = len(labels) - EVAL_SAMPLES - CALIB_SAMPLES
    val_count = int(round(VAL_FRACTION * rest))
    cuts = {"eval": order[:EVAL_SAMPLES],
            "calib": order[EVAL_SAMPLES:EVAL_SAMPLES + CALIB_SAMPLES],
            "val": order[EVAL_SAMPLES + CALIB_SAMPLES:EVAL_SAMPLES + CALIB_SAMPLES + val_count],
            "train": order[EVAL_SAMPLES + CALIB_SAMPLES + val_count:]}
    return {name: (images[idx], labels[idx], idx) for name, idx in cuts.items()}


def preprocess(raw_images):
    """raw (N, 8, 8) ints 0..16 → (N, 1, 8, 8) float32 in [0, 1], exactly the sets' "preprocess"."""
    return torch.tensor(raw_images, dtype=torch.float32)[:, None] / PIXEL_DIVISOR


# --- model -----------------------------------------------------------------------------

class DigitsViT(nn.Module):
    """ViT (Dosovitskiy et al. 2021) scaled down: 2x2 patches → 16 tokens + CLS, pre-LN blocks,
    learned positions, linear head on the CLS token."""

    def __init__(self, d_model=64, n_layers=4, n_heads=4, d_hidden=128, dropout=0.0):
        super().__init__()
        self.patches_per_side = IMAGE_SIDE // PATCH_SIDE
        patch_pixels = PATCH_SIDE * PATCH_SIDE
        tokens = self.patches_per_side ** 2 + 1
        self.patch_embed = nn.Linear(patch_pixels, d_model)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_emb = nn.Parameter(torch.randn(1, tokens, d_model) * 0.02)
        self.blocks = nn.ModuleList(
            [common.PreLnBlock(d_model, n_heads, d_hidden, dropout=dropout) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, CLASSES)

    def patchify(self, pixels):
        # (B, 1, 8, 8) -> (B, 16, 4): row-major patches, row-major pixels inside a patch.
        batch = pixels.shape[0]
        n, p = self.patches_per_side, PATCH_SIDE
        x = pixels.reshape(batch, n, p, n, p)
        x = x.permute(0, 1, 3, 2, 4)  # (B, patch row, patch col, pixel row, pixel col)
        return x.reshape(batch, n * n, p * p)

    def forward(self, pixels):
        tokens = self.patch_embed(self.patchify(pixels))  # (B, 16, D)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, tokens], dim=1) + self.pos_emb  # (B, 17, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x)[:, 0])  # (B, 10)


# --- training --------------------------------------------------------------------------

def random_shift(pixels, generator, max_shift=1):
    """Translate each image by up to max_shift pixels (zero fill). With ~1.2k training images
    the ViT memorises the set within a few dozen epochs; small shifts are the cheapest
    regulariser that keeps the digits' shape."""
    side = 2 * max_shift + 1
    padded = F.pad(pixels, (max_shift,) * 4)
    shifts = torch.randint(0, side, (pixels.shape[0], 2), generator=generator)
    shifted = torch.empty_like(pixels)
    for dy in range(side):
        for dx in range(side):
            chosen = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            shifted[chosen] = padded[chosen, :, dy:dy + IMAGE_SIDE, dx:dx + IMAGE_SIDE]
    return shifted


def loss_and_accuracy(model, pixels, labels):
    model.eval()
    with torch.no_grad():
        logits = model(pixels)
        loss = float(F.cross_entropy(logits, labels))
        accuracy = float((logits.argmax(dim=-1) == labels).double().mean())
    model.train()
    return loss, accuracy


def train(model, train_pixels, train_labels, val_pixels, val_labels, args, curve):
    """AdamW + warmup/cosine over args.max_epochs; keeps the weights with the lowest val loss
    and stops when it has not improved for args.patience epochs."""
    optimizer = common.make_adamw(model, args.lr, args.weight_decay, (0.9, 0.999))
    # One generator for batch order and augmentation: one data stream per seed.
    order = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = math.ceil(len(train_labels) / args.batch_size)
    total_steps = args.max_epochs * steps_per_epoch
    best_val, best_state, best_epoch, step = math.inf, None, 0, 0
    stop_reason = f"reached --max-epochs {args.max_epochs}"
    model.train()
    for epoch in range(1, args.max_epochs + 1):
        permutation = torch.randperm(len(train_labels), generator=order)
        losses = []
        for i in range(0, len(permutation), args.batch_size):
            idx = permutation[i:i + args.batch_size]
            lr = common.warmup_cosine_lr(step, args.lr, args.warmup_steps, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs = random_shift(train_pixels[idx], order) if args.max_shift else train_pixels[idx]
            loss = F.cross_entropy(model(inputs), train_labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
            step += 1
        val_loss, val_acc = loss_and_accuracy(model, val_pixels, val_labels)
        curve.add(step, epoch=epoch, trainLoss=float(np.mean(losses)), valLoss=val_loss, valAcc=val_acc)
        if val_loss < best_val:
            best_val, best_epoch = val_loss, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= args.patience:
            stop_reason = f"early stop: val loss not improved for {args.patience} epochs"
            break
    return best_state, best_epoch, best_val, epoch, step, stop_reason


# --- metrics ---------------------------------------------------------------------------

def dense_metrics(model, pixels, labels):
    """top1 (argmax, ties → lowest index) and mean NLL (float64 sum) over the eval set."""
    model.eval()
    with torch.no_grad():
        logits = model(pixels)
        nll = -torch.log_softmax(logits, dim=-1).gather(1, labels[:, None])[:, 0]
        correct = int((logits.argmax(dim=-1) == labels).sum())
    return {"top1": correct / len(labels), "meanNll": float(nll.double().sum()) / len(labels),
            "evalSamples": len(labels)}


# --- main ------------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_common_arguments(p, "public/models/digits-vit")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--max-epochs", type=int, default=200)
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--dropout", type=float, default=0.1, help="on residual branches, training only")
    p.add_argument("--max-shift", type=int, default=1,
                   help="random translation augmentation in pixels (0 = off)")
    return p.parse_args()


def main():
    args = parse_args()
    common.seed_everything(args.seed, args.threads)
    os.makedirs(args.out, exist_ok=True)

    splits = split_digits(args.seed)
    print({name: len(s[1]) for name, s in splits.items()}, flush=True)
    train_pixels, train_labels = preprocess(splits["train"][0]), torch.tensor(splits["train"][1])
    val_pixels, val_labels = preprocess(splits["val"][0]), torch.tensor(splits["val"][1])
    eval_pixels, eval_labels = preprocess(splits["eval"][0]), torch.tensor(splits["eval"][1])

    model = DigitsViT(dropout=args.dropout)
    parameters = common.count_parameters(model)
    print(f"parameters: {parameters}", flush=True)

    curve = common.CurveLog()
    best_state, best_epoch, best_val, epochs, steps, stop_reason = train(
        model, train_pixels, train_labels, val_pixels, val_labels, args, curve)
    wall_seconds = curve.elapsed()
    print(f"stopped after {epochs} epochs ({steps} steps), {wall_seconds:.0f}s: {stop_reason}; "
          f"best val loss {best_val:.4f} at epoch {best_epoch}", flush=True)
    model.load_state_dict(best_state)
    model.eval()

    metrics = dense_metrics(model, eval_pixels, eval_labels)
    print(f"dense metrics: {metrics}", flush=True)

    onnx_bytes = common.export_onnx(
        model, eval_pixels[:1], os.path.join(args.out, "model.onnx"), "pixels", "logits",
        {"pixels": {0: "batch"}, "logits": {0: "batch"}})
    print(f"model.onnx: {onnx_bytes} bytes", flush=True)

    for name in ("eval", "calib"):
        raw, labels, indices = splits[name]
        common.write_json(os.path.join(args.out, f"{name}.json"), {
            "kind": "image-classification", "shape": [1, IMAGE_SIDE, IMAGE_SIDE],
            "preprocess": {"divide": PIXEL_DIVISOR},
            "source": {"dataset": "sklearn.datasets.load_digits", "split": name,
                       "sampleIndices": indices.tolist()},
            "images": raw.reshape(len(labels), -1).tolist(), "labels": labels.tolist()},
            compact=True)

    common.write_model_card(args.out, {
        "id": "digits-vit",
        "name": "Digits ViT",
        "task": "image-classification",
        "description": ("Small Vision Transformer classifying 8x8 handwritten digits (2x2 patches, "
                        "CLS token); unfused attention (one Softmax per block)."),
        "parameters": parameters,
        "architecture": {"layers": 4, "dModel": 64, "heads": 4, "headDim": 16, "mlp": 128,
                         "activation": "gelu (erf)", "norm": "pre-LayerNorm",
                         "positions": "learned", "patches": (IMAGE_SIDE // PATCH_SIDE) ** 2,
                         "patchSize": [PATCH_SIDE, PATCH_SIDE], "clsToken": True,
                         "tokens": (IMAGE_SIDE // PATCH_SIDE) ** 2 + 1, "classes": CLASSES},
        "onnx": {"opset": common.ONNX_OPSET, "input": "pixels float32 [batch, 1, 8, 8] (preprocessed)",
                 "output": "logits float32 [batch, 10]", "bytes": onnx_bytes},
        "data": {
            "source": (f"sklearn.datasets.load_digits (Debian package python3-sklearn "
                       f"{common.debian_package_version('python3-sklearn')}, bundled copy, no download)"),
            "licence": "UCI Optical Recognition of Handwritten Digits, CC BY 4.0",
            "samples": sum(len(s[1]) for s in splits.values()),
            "splits": {name: {"samples": len(s[1])} for name, s in splits.items()}
                      | {"notes": ("Disjoint: one permutation from numpy default_rng(seed), cut in the "
                                   "order eval, calib, val (early stopping), train.")},
        },
        "files": {"model": "model.onnx", "eval": "eval.json", "calib": "calib.json"},
        "training": {
            "command": common.command_line(),
            "seed": args.seed,
            "optimizer": {"name": "AdamW", "lr": args.lr, "betas": [0.9, 0.999],
                          "weightDecay": args.weight_decay,
                          "weightDecayOn": "tensors with >= 2 dims (Linear weights, cls_token, pos_emb)",
                          "schedule": (f"linear warmup {args.warmup_steps} steps, cosine to 10% of lr "
                                       f"over {args.max_epochs} epochs")},
            "batchSize": args.batch_size,
            "dropout": args.dropout,
            "dataOrder": "torch.randperm per epoch (and shifts) from one torch.Generator seeded with seed",
            "augmentation": (f"random translation by up to {args.max_shift} pixel(s) in x and y, zero fill"
                             if args.max_shift else "none"),
            "steps": steps, "epochs": epochs, "bestEpoch": best_epoch, "bestValLoss": best_val,
            "exported": "weights at the best val loss",
            "wallSeconds": round(wall_seconds, 1), "stopReason": stop_reason,
            **common.training_environment(),
            "curve": curve.points,
        },
        "denseMetrics": metrics,
    })
    print("done", flush=True)


if __name__ == "__main__":
    main()
