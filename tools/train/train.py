#!/usr/bin/python3
"""Trains a small Qwen3-architecture code model with the fill-in-the-middle
objective (data.py), on the CPU or one CUDA GPU.

  train.py --out tools/train/out/run --tokenizer tools/train/out/tokenizer.json --steps 450
  train.py --out RUN --tokenizer T --corpus tools/train/out/corpus.tar.xz --device cuda --gpu-shape \
      --steps 0 --budget-minutes 7.5 --max-minutes 8.5 --workers 14

The corpus is the Python standard library (the default folder), or the
seven-language archive from pack_corpus.py, or `live` (data.load_corpus).
On CUDA the forward and backward run under bf16 autocast (weights and AdamW
state stay f32). --gpu-shape picks the larger default shape for a GPU run.
--steps 0 with --budget-minutes M sizes the run to the machine: the steps
are fixed after the 30th (from the time of steps 11-30) so that training
takes about M minutes, and the cosine schedule runs over them.

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
import contextlib
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
from data import StreamBuilder  # noqa: E402

HELDOUT_SEED = 12345
# The CPU demo (6.8M parameters; ~1,100 tokens/s on 2 cores) and the GPU run's
# shape: 29.4M parameters (4.2M in the embedding), 1024-token context, 64 x 1024
# tokens a step; q8_0 about 32 MB, decode on 2 cores still fast for the demo.
CPU_SHAPE = dict(hidden=256, layers=6, heads=4, kv_heads=2, head_dim=64, ffn=768, seq_len=512,
                 batch=8, lr=2e-3, min_lr=2e-4)
GPU_SHAPE = dict(hidden=512, layers=8, heads=8, kv_heads=4, head_dim=64, ffn=1536, seq_len=1024,
                 batch=64, lr=1.5e-3, min_lr=1.5e-4)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run directory (created; resumed from when it has ckpt.pt)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json from qwen_tokenizer.py build")
    ap.add_argument("--corpus", default=data.DEFAULT_CORPUS)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--workers", type=int, default=1, help="tokenizer processes for the epoch streams")
    ap.add_argument("--cache-dir", default="", help="epoch token streams (default RUN/data)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (PyTorch 2)")
    ap.add_argument("--init-gguf", default="",
                    help="start from this GGUF's weights (same shape and vocabulary; Q8_0 is dequantized), "
                         "e.g. the shipped demo model, instead of random ones; ignored when resuming")
    # model (defaults: the CPU demo shape; --gpu-shape: GPU_SHAPE)
    ap.add_argument("--gpu-shape", action="store_true", help="defaults for a GPU run: %s" % GPU_SHAPE)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--kv-heads", type=int)
    ap.add_argument("--head-dim", type=int)
    ap.add_argument("--ffn", type=int)
    ap.add_argument("--seq-len", type=int)
    # optimisation
    ap.add_argument("--steps", type=int, required=True, help="0: sized by --budget-minutes")
    ap.add_argument("--budget-minutes", type=float, default=0, help="with --steps 0: minutes of training")
    ap.add_argument("--batch", type=int, help="sequences per step")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--min-lr", type=float)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--fim-rate", type=float, default=0.5)
    ap.add_argument("--language-weights", default="",
                    help="e.g. typescript=2,python=2: those languages' files come that many times an epoch")
    # bookkeeping
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-windows", type=int, default=32, help="held-out windows per periodic eval")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop (with a checkpoint) after this long; run again to continue")
    ap.add_argument("--final-windows", type=int, default=256,
                    help="held-out windows per language in the final evaluation")
    ap.add_argument("--heldout-chars", type=int, default=120000,
                    help="size of heldout.txt (split evenly between the languages, each also in heldout_LANG.txt)")
    a = ap.parse_args(argv)
    shape = GPU_SHAPE if a.gpu_shape else CPU_SHAPE
    for k, v in shape.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.steps <= 0 and a.budget_minutes <= 0:
        ap.error("--steps 0 needs --budget-minutes")
    if a.steps <= 0 and a.warmup < 20:
        ap.error("--steps 0 times steps 11..warmup: --warmup must be at least 20")
    return a


def init_from_gguf(model, cfg, path: str) -> None:
    """Loads every parameter from a GGUF file export_gguf.py's layout wrote
    (tied embeddings; Q8_0 dequantized); refuses another shape or vocabulary."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
    from gguf_reader import GGUFFile  # noqa: E402
    from export_gguf import gguf_tensors  # noqa: E402
    g = GGUFFile(path)
    names = dict(gguf_tensors({k: k for k in model.state_dict()}, cfg.layers))
    state = {}
    for gname, hf in names.items():
        if not g.has_tensor(gname):
            raise SystemExit("%s has no tensor %s: not a model of this layout" % (path, gname))
        t = torch.from_numpy(g.tensor(gname).astype(np.float32))
        want = model.state_dict()[hf].shape
        if tuple(t.shape) != tuple(want):
            raise SystemExit("%s: %s is %s, this model's %s is %s" % (path, gname, tuple(t.shape), hf, tuple(want)))
        state[hf] = t
    missing = set(model.state_dict()) - set(state)
    if missing:
        raise SystemExit("%s: nothing for %s" % (path, sorted(missing)[:4]))
    model.load_state_dict(state)
    print("initial weights from %s (%d tensors)" % (path, len(state)), flush=True)


def lr_at(step: int, a) -> float:
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    t = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * t))


class Batches:
    """Windows of the epoch streams, in order; (epoch, index) is the position."""

    def __init__(self, builder, a, cache_dir):
        self.builder, self.a, self.cache_dir = builder, a, cache_dir
        self.epoch, self.index, self.w = 0, 0, None

    def _path(self, epoch):
        return os.path.join(self.cache_dir, "epoch%03d_seed%d_fim%g_docs%s.npy" % (
            epoch, self.a.seed, self.a.fim_rate, ("_" + self.a.language_weights.replace("=", "").replace(",", "_"))
            if self.a.language_weights else ""))

    def _load(self):
        path = self._path(self.epoch)
        if os.path.exists(path):
            stream = np.load(path)
        else:
            t0 = time.time()
            stream = self.builder.get(self.a.seed * 1000 + self.epoch, self.a.fim_rate)
            np.save(path + ".tmp.npy", stream)
            os.replace(path + ".tmp.npy", path)
            print("epoch %d: %d tokens (%.1f s waited for it)" % (self.epoch, len(stream), time.time() - t0), flush=True)
        # The next epoch's stream is tokenized in the background meanwhile.
        if not os.path.exists(self._path(self.epoch + 1)):
            self.builder.submit(self.a.seed * 1000 + self.epoch + 1, self.a.fim_rate)
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


def autocast(device: str):
    if device == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def eval_windows(model, w: np.ndarray, batch: int = 8, device: str = "cpu") -> float:
    """Mean next-token loss over windows of seq_len + 1 tokens."""
    model.eval()
    total, n = 0.0, 0
    for s in range(0, len(w), batch):
        x = torch.from_numpy(w[s:s + batch].astype(np.int64)).to(device)
        with autocast(device):
            logits = model(x[:, :-1])
        total += F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum").item()
        n += x[:, 1:].numel()
    model.train()
    return total / max(1, n)


@torch.no_grad()
def text_nll(model, ids, context: int, device: str = "cpu") -> tuple:
    """As `astfill perplexity` counts it: windows of `context` tokens, each from a
    fresh cache, every position but a window's last predicting the next token
    (in f32, also on CUDA)."""
    model.eval()
    total, n = 0.0, 0
    for s in range(0, len(ids), context):
        x = torch.tensor(ids[s:s + context], dtype=torch.int64, device=device)[None]
        if x.shape[1] < 2:
            continue
        logits = model(x)
        total += F.cross_entropy(logits[0, :-1].float(), x[0, 1:], reduction="sum").item()
        n += x.shape[1] - 1
    model.train()
    return total, n


def by_language(docs):
    out = {}
    for d in docs:
        out.setdefault(d.language, []).append(d)
    return out


def save_atomic(obj, path):
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no CUDA device")
    os.makedirs(a.out, exist_ok=True)
    cache_dir = a.cache_dir or os.path.join(a.out, "data")
    os.makedirs(cache_dir, exist_ok=True)
    tok = Tokenizer(a.tokenizer)
    cfg = Config(vocab_size=tok.n_vocab, hidden=a.hidden, layers=a.layers, heads=a.heads,
                 kv_heads=a.kv_heads, head_dim=a.head_dim, ffn=a.ffn, context=a.seq_len)

    ckpt_path = os.path.join(a.out, "ckpt.pt")
    summary_path = os.path.join(a.out, "summary.json")
    if os.path.exists(summary_path) and os.path.exists(os.path.join(a.out, "model.pt")):
        with open(summary_path) as f:
            done = json.load(f)
        if (done.get("steps") == a.steps or a.steps <= 0) and done.get("config") == cfg.as_dict():
            print("%s: already trained for %d steps (held-out loss %.4f); nothing to do"
                  % (a.out, done["steps"], done["heldout_loss"]))
            return 0

    t0 = time.time()
    docs = data.load_corpus(a.corpus)
    train_docs = [d for d in docs if not d.heldout]
    heldout_docs = [d for d in docs if d.heldout]
    langs = by_language(docs)
    print("corpus %s: %d files, %d for training, %d held out (%.1f s to read)"
          % (a.corpus, len(docs), len(train_docs), len(heldout_docs), time.time() - t0))
    for lang, ds in sorted(langs.items()):
        print("  %-10s %5d files %7.2f MB, %d held out" % (lang, len(ds), sum(len(d.text) for d in ds) / 1e6,
                                                        sum(d.heldout for d in ds)))
    # Forked before CUDA starts: the workers only tokenize.
    weights = {k: int(v) for k, v in (x.split("=") for x in a.language_weights.split(",") if x)}
    builder = StreamBuilder(tok, train_docs, a.workers, weights)
    builder.submit(a.seed * 1000, a.fim_rate)
    held_by_lang = by_language(heldout_docs)
    heldout_w, heldout_plain_w = {}, {}
    for lang, ds in sorted(held_by_lang.items()):
        hb = StreamBuilder(tok, ds, 1)
        heldout_w[lang] = data.windows(hb.get(HELDOUT_SEED, a.fim_rate), a.seq_len, HELDOUT_SEED)
        heldout_plain_w[lang] = data.windows(hb.get(HELDOUT_SEED, 0.0), a.seq_len, HELDOUT_SEED)
    data._STATE["tok"], data._STATE["ctx"] = tok, data.DocContext(train_docs)  # the parent's view again
    per_lang_eval = max(1, a.eval_windows // max(1, len(heldout_w)))

    def mixed(ws):
        return np.concatenate([w[:per_lang_eval] for w in ws.values()]) if ws else np.zeros((0, a.seq_len + 1), np.uint16)

    heldout_eval, heldout_plain_eval = mixed(heldout_w), mixed(heldout_plain_w)

    torch.manual_seed(a.seed)
    random.seed(a.seed)
    model = Qwen3(cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    model.to(a.device)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    batches = Batches(builder, a, cache_dir)
    step, tokens, elapsed = 0, 0, 0.0

    if a.init_gguf and not os.path.exists(ckpt_path):
        init_from_gguf(model, cfg, a.init_gguf)
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")  # the RNG state must stay a CPU tensor
        if ck["config"] != cfg.as_dict():
            raise SystemExit("%s was made with another model config: %s" % (ckpt_path, ck["config"]))
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, tokens, elapsed = ck["step"], ck["tokens"], ck["elapsed"]
        batches.epoch, batches.index = ck["epoch"], ck["index"]
        torch.set_rng_state(ck["torch_rng"])
        if ck.get("steps"):
            a.steps = ck["steps"]  # sized by --budget-minutes in the first session
        print("resumed from %s at step %d of %d (epoch %d, window %d)" % (ckpt_path, step, a.steps, batches.epoch, batches.index))
    fwd = torch.compile(model) if a.compile else model
    print("model: %.2fM parameters (%.2fM in the embedding), %s, on %s" % (model.n_params() / 1e6, cfg.vocab_size * cfg.hidden / 1e6, cfg.as_dict(), a.device))
    if a.steps > 0:
        print("training: %d steps x %d x %d tokens = %.1fM tokens" % (a.steps, a.batch, a.seq_len, a.steps * a.batch * a.seq_len / 1e6), flush=True)
    else:
        print("training: %d x %d tokens a step for about %.1f minutes (steps fixed at step %d)"
              % (a.batch, a.seq_len, a.budget_minutes, a.warmup), flush=True)

    def checkpoint():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                     "elapsed": elapsed, "epoch": batches.epoch, "index": batches.index, "steps": a.steps,
                     "torch_rng": torch.get_rng_state(), "config": cfg.as_dict(), "args": vars(a),
                     "corpus": a.corpus, "languages": sorted(langs)}, ckpt_path)

    train_log = os.path.join(a.out, "train_log.csv")
    eval_log = os.path.join(a.out, "eval_log.csv")
    if step == 0:
        with open(train_log, "w") as f:
            f.write("step,epoch,tokens,lr,loss,grad_norm,tokens_per_s,elapsed_s\n")
        with open(eval_log, "w") as f:
            f.write("step,tokens,heldout_loss,heldout_plain_loss\n")

    def periodic_eval():
        l1 = eval_windows(model, heldout_eval, device=a.device)
        l2 = eval_windows(model, heldout_plain_eval, device=a.device)
        with open(eval_log, "a") as f:
            f.write("%d,%d,%.4f,%.4f\n" % (step, tokens, l1, l2))
        print("step %d: held-out loss %.4f (plain %.4f)" % (step, l1, l2), flush=True)

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    start = time.time()
    base_elapsed = elapsed
    timing = {}
    model.train()
    while a.steps <= 0 or step < a.steps:
        if a.max_minutes and time.time() - start > a.max_minutes * 60:
            print("--max-minutes reached at step %d; run again to continue" % step)
            checkpoint()
            builder.close()
            return 0
        t0 = time.time()
        lr = lr_at(step, a) if a.steps > 0 else a.lr * (step + 1) / a.warmup
        for g in opt.param_groups:
            g["lr"] = lr
        x = batches.next(a.batch).to(a.device, non_blocking=True)
        with autocast(a.device):
            logits = fwd(x[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip).item()
        opt.step()
        step += 1
        tokens += x[:, 1:].numel()
        dt = time.time() - t0
        elapsed = base_elapsed + time.time() - start
        if step == 10:
            sync()
            timing["t10"] = time.time()
        if a.steps <= 0 and step == a.warmup:
            sync()
            per_step = (time.time() - timing["t10"]) / (step - 10)
            left = a.budget_minutes * 60 - (time.time() - start)
            # ~3% for the periodic evaluations and checkpoints
            a.steps = step + max(1, int(0.97 * left / per_step))
            print("step %d: %.3f s a step (%.0f tokens/s): %d steps in all"
                  % (step, per_step, a.batch * a.seq_len / per_step, a.steps), flush=True)
        lv = loss.item()
        with open(train_log, "a") as f:
            f.write("%d,%d,%d,%.6g,%.4f,%.3f,%.0f,%.1f\n" % (step, batches.epoch, tokens, lr, lv, gn, x[:, 1:].numel() / dt, elapsed))
        if step % 10 == 0 or step == 1:
            print("step %d/%d epoch %d loss %.4f lr %.2e gnorm %.2f %.0f tok/s %.1f min"
                  % (step, a.steps, batches.epoch, lv, lr, gn, x[:, 1:].numel() / dt, elapsed / 60), flush=True)
        if step % a.eval_every == 0 and step < a.steps:
            periodic_eval()
        if step % a.ckpt_every == 0:
            checkpoint()
    checkpoint()
    builder.close()

    # Final evaluation, per language: every held-out window (at most --final-windows), and
    # the held-out text as astfill counts it.
    per_lang = {}
    texts = []
    chars = a.heldout_chars // max(1, len(held_by_lang))
    for lang in sorted(held_by_lang):
        t = time.time()
        text = data.docs_text(held_by_lang[lang], chars)
        with open(os.path.join(a.out, "heldout_%s.txt" % lang), "w", encoding="utf-8") as f:
            f.write(text)
        texts.append(text)
        text_ids = tok.encode(text)
        nll, n = text_nll(model, text_ids, a.seq_len, a.device)
        per_lang[lang] = {"heldout_loss": round(eval_windows(model, heldout_w[lang][:a.final_windows], device=a.device), 4),
                          "heldout_plain_loss": round(eval_windows(model, heldout_plain_w[lang][:a.final_windows], device=a.device), 4),
                          "heldout_windows": int(min(a.final_windows, len(heldout_w[lang]))),
                          "heldout_files": len(held_by_lang[lang]),
                          "heldout_txt_tokens": len(text_ids),
                          "heldout_txt_ppl_torch": round(math.exp(nll / max(1, n)), 4)}
        print("  %-10s held-out loss %.4f (plain %.4f), heldout_%s.txt perplexity %.3f (%.0f s)"
              % (lang, per_lang[lang]["heldout_loss"], per_lang[lang]["heldout_plain_loss"], lang,
                 per_lang[lang]["heldout_txt_ppl_torch"], time.time() - t), flush=True)
    text = "".join(texts)
    with open(os.path.join(a.out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    final = float(np.mean([v["heldout_loss"] for v in per_lang.values()])) if per_lang else float("nan")
    final_plain = float(np.mean([v["heldout_plain_loss"] for v in per_lang.values()])) if per_lang else float("nan")
    with open(eval_log, "a") as f:
        f.write("%d,%d,%.4f,%.4f\n" % (step, tokens, final, final_plain))
    summary = {"steps": step, "tokens": tokens, "train_minutes": round(elapsed / 60, 1),
               "params": model.n_params(), "config": cfg.as_dict(), "device": a.device,
               "device_name": torch.cuda.get_device_name() if a.device == "cuda" else "cpu",
               "torch": torch.__version__, "corpus": a.corpus, "batch": a.batch, "lr": a.lr,
               "epochs": round(batches.epoch + batches.index / max(1, len(batches.w) if batches.w is not None else 1), 2),
               "heldout_loss": round(final, 4), "heldout_plain_loss": round(final_plain, 4),
               "languages": per_lang}
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=1)
    save_atomic({"model": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "config": cfg.as_dict(),
                 "tokenizer": os.path.abspath(a.tokenizer), "corpus": a.corpus,
                 "languages": sorted(langs)}, os.path.join(a.out, "model.pt"))
    print("final: held-out loss %.4f (plain %.4f), mean over %d languages" % (final, final_plain, len(per_lang)))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
