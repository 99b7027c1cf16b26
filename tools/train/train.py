#!/usr/bin/python3
"""Trains a small Qwen3-architecture code model on the Python standard library,
with the fill-in-the-middle objective (data.py), on the CPU.

  train.py --out tools/train/out/run --tokenizer tools/train/out/tokenizer.json --steps 450

Seeded and resumable: the run directory holds ckpt.pt (model, optimizer, step,
data position, RNG states; written every --ckpt-every steps and on exit), and
running the same command again continues from it. Logs, in the run directory:
train_log.csv (step, epoch, tokens, lr, loss, grad_norm, tokens/s, elapsed),
eval_log.csv (held-out loss every --eval-every steps), and at the end
model.pt (weights + config, what export_gguf.py reads), heldout.txt (held-out
code for `astfill perplexity`) and summary.json (final held-out losses).

AdamW (betas 0.9/0.95, weight decay on matrices only), linear warm-up then a
cosine schedule down to --min-lr, gradient clipping at --clip.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import time

# Before torch starts OpenMP: threads that spin while waiting lose badly on a
# shared machine (measured here: 310 tokens/s spinning, 1070 passive).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from model import Config, Qwen3  # noqa: E402
from qwen_tokenizer import Tokenizer  # noqa: E402

HELDOUT_SEED = 12345


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run directory (created; resumed from when it has ckpt.pt)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json from qwen_tokenizer.py build")
    ap.add_argument("--corpus", default=data.DEFAULT_CORPUS)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    # model
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--seq-len", type=int, default=512)
    # optimisation
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, default=8, help="sequences per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--fim-rate", type=float, default=0.5)
    # bookkeeping
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-windows", type=int, default=32, help="held-out windows per periodic eval")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop (with a checkpoint) after this long; run again to continue")
    ap.add_argument("--heldout-chars", type=int, default=120000, help="size of heldout.txt")
    return ap.parse_args(argv)


def lr_at(step: int, a) -> float:
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * t))


class Batches:
    """Windows of the epoch streams, in order; (epoch, index) is the position."""

    def __init__(self, tok, files, a, cache_dir):
        self.tok, self.files, self.a, self.cache_dir = tok, files, a, cache_dir
        self.epoch, self.index, self.w = 0, 0, None

    def _load(self):
        path = os.path.join(self.cache_dir, "epoch%03d_seed%d_fim%g_repo.npy" % (self.epoch, self.a.seed, self.a.fim_rate))
        if os.path.exists(path):
            stream = np.load(path)
        else:
            t0 = time.time()
            stream = data.epoch_stream(self.tok, self.files, self.a.seed * 1000 + self.epoch, self.a.fim_rate, self.a.corpus)
            np.save(path + ".tmp.npy", stream)
            os.replace(path + ".tmp.npy", path)
            print("epoch %d: %d tokens (%.1f s to build)" % (self.epoch, len(stream), time.time() - t0), flush=True)
        self.w = data.windows(stream, self.a.seq_len, self.a.seed * 1000 + self.epoch)

    def next(self, n: int) -> torch.Tensor:
        rows = []
        while len(rows) < n:
            if self.w is None:
                self._load()
            if self.index >= len(self.w):
                self.epoch, self.index, self.w = self.epoch + 1, 0, None
                continue
            rows.append(self.w[self.index])
            self.index += 1
        return torch.from_numpy(np.stack(rows).astype(np.int64))


@torch.no_grad()
def eval_windows(model, w: np.ndarray, batch: int = 8) -> float:
    """Mean next-token loss over windows of seq_len + 1 tokens."""
    model.eval()
    total, n = 0.0, 0
    for s in range(0, len(w), batch):
        x = torch.from_numpy(w[s:s + batch].astype(np.int64))
        logits = model(x[:, :-1])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        n += x[:, 1:].numel()
    model.train()
    return total / max(1, n)


@torch.no_grad()
def text_nll(model, ids, context: int) -> tuple:
    """As `astfill perplexity` counts it: windows of `context` tokens, each from a
    fresh cache, every position but a window's last predicting the next token."""
    model.eval()
    total, n = 0.0, 0
    for s in range(0, len(ids), context):
        x = torch.tensor(ids[s:s + context], dtype=torch.int64)[None]
        if x.shape[1] < 2:
            continue
        logits = model(x)
        total += F.cross_entropy(logits[0, :-1], x[0, 1:], reduction="sum").item()
        n += x.shape[1] - 1
    model.train()
    return total, n


def save_atomic(obj, path):
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    cache_dir = os.path.join(a.out, "data")
    os.makedirs(cache_dir, exist_ok=True)
    tok = Tokenizer(a.tokenizer)
    cfg = Config(vocab_size=tok.n_vocab, hidden=a.hidden, layers=a.layers, heads=a.heads,
                 kv_heads=a.kv_heads, head_dim=a.head_dim, ffn=a.ffn, context=a.seq_len)

    files = data.list_files(a.corpus)
    train_files, heldout_files = data.split_files(files, a.corpus)
    print("corpus %s: %d files, %d for training, %d held out" % (a.corpus, len(files), len(train_files), len(heldout_files)))
    heldout_w = data.windows(data.epoch_stream(tok, heldout_files, HELDOUT_SEED, a.fim_rate, a.corpus), a.seq_len, HELDOUT_SEED)
    heldout_plain_w = data.windows(data.epoch_stream(tok, heldout_files, HELDOUT_SEED, 0.0, a.corpus), a.seq_len, HELDOUT_SEED)

    torch.manual_seed(a.seed)
    random.seed(a.seed)
    model = Qwen3(cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    batches = Batches(tok, train_files, a, cache_dir)
    step, tokens, elapsed = 0, 0, 0.0

    ckpt_path = os.path.join(a.out, "ckpt.pt")
    summary_path = os.path.join(a.out, "summary.json")
    if os.path.exists(summary_path) and os.path.exists(os.path.join(a.out, "model.pt")):
        with open(summary_path) as f:
            done = json.load(f)
        if done.get("steps") == a.steps and done.get("config") == cfg.as_dict():
            print("%s: already trained for %d steps (held-out loss %.4f); nothing to do"
                  % (a.out, a.steps, done["heldout_loss"]))
            return 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck["config"] != cfg.as_dict():
            raise SystemExit("%s was made with another model config: %s" % (ckpt_path, ck["config"]))
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, tokens, elapsed = ck["step"], ck["tokens"], ck["elapsed"]
        batches.epoch, batches.index = ck["epoch"], ck["index"]
        torch.set_rng_state(ck["torch_rng"])
        print("resumed from %s at step %d (epoch %d, window %d)" % (ckpt_path, step, batches.epoch, batches.index))
    print("model: %.2fM parameters (%.2fM in the embedding), %s" % (model.n_params() / 1e6, cfg.vocab_size * cfg.hidden / 1e6, cfg.as_dict()))
    print("training: %d steps x %d x %d tokens = %.1fM tokens" % (a.steps, a.batch, a.seq_len, a.steps * a.batch * a.seq_len / 1e6), flush=True)

    def checkpoint():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                     "elapsed": elapsed, "epoch": batches.epoch, "index": batches.index,
                     "torch_rng": torch.get_rng_state(), "config": cfg.as_dict(), "args": vars(a)}, ckpt_path)

    train_log = os.path.join(a.out, "train_log.csv")
    eval_log = os.path.join(a.out, "eval_log.csv")
    if step == 0:
        with open(train_log, "w") as f:
            f.write("step,epoch,tokens,lr,loss,grad_norm,tokens_per_s,elapsed_s\n")
        with open(eval_log, "w") as f:
            f.write("step,tokens,heldout_loss,heldout_plain_loss\n")

    def periodic_eval():
        l1 = eval_windows(model, heldout_w[:a.eval_windows])
        l2 = eval_windows(model, heldout_plain_w[:a.eval_windows])
        with open(eval_log, "a") as f:
            f.write("%d,%d,%.4f,%.4f\n" % (step, tokens, l1, l2))
        print("step %d: held-out loss %.4f (plain %.4f)" % (step, l1, l2), flush=True)

    start = time.time()
    base_elapsed = elapsed
    model.train()
    while step < a.steps:
        if a.max_minutes and time.time() - start > a.max_minutes * 60:
            print("--max-minutes reached at step %d; run again to continue" % step)
            checkpoint()
            return 0
        t0 = time.time()
        lr = lr_at(step, a)
        for g in opt.param_groups:
            g["lr"] = lr
        x = batches.next(a.batch)
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip).item()
        opt.step()
        step += 1
        tokens += x[:, 1:].numel()
        dt = time.time() - t0
        elapsed = base_elapsed + time.time() - start
        with open(train_log, "a") as f:
            f.write("%d,%d,%d,%.6g,%.4f,%.3f,%.0f,%.1f\n" % (step, batches.epoch, tokens, lr, loss.item(), gn, x[:, 1:].numel() / dt, elapsed))
        if step % 10 == 0 or step == 1:
            print("step %d/%d epoch %d loss %.4f lr %.2e gnorm %.2f %.0f tok/s %.1f min"
                  % (step, a.steps, batches.epoch, loss.item(), lr, gn, x[:, 1:].numel() / dt, elapsed / 60), flush=True)
        if step % a.eval_every == 0 and step < a.steps:
            periodic_eval()
        if step % a.ckpt_every == 0:
            checkpoint()
    checkpoint()

    # Final evaluation: every held-out window, and the held-out text as astfill counts it.
    final = eval_windows(model, heldout_w)
    final_plain = eval_windows(model, heldout_plain_w)
    text = data.heldout_text(heldout_files, a.heldout_chars)
    with open(os.path.join(a.out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    text_ids = tok.encode(text)
    nll, n = text_nll(model, text_ids, a.seq_len)
    with open(eval_log, "a") as f:
        f.write("%d,%d,%.4f,%.4f\n" % (step, tokens, final, final_plain))
    summary = {"steps": step, "tokens": tokens, "train_minutes": round(elapsed / 60, 1),
               "params": model.n_params(), "config": cfg.as_dict(),
               "heldout_loss": round(final, 4), "heldout_plain_loss": round(final_plain, 4),
               "heldout_windows": int(len(heldout_w)),
               "heldout_txt_tokens": len(text_ids),
               "heldout_txt_ppl_torch": round(math.exp(nll / max(1, n)), 4)}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    save_atomic({"model": model.state_dict(), "config": cfg.as_dict(), "tokenizer": os.path.abspath(a.tokenizer)},
                os.path.join(a.out, "model.pt"))
    print("final: held-out loss %.4f (plain %.4f) over %d windows; heldout.txt perplexity %.3f (torch, %d-token windows)"
          % (final, final_plain, len(heldout_w), summary["heldout_txt_ppl_torch"], a.seq_len))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
