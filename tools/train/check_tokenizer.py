#!/usr/bin/python3
"""Tokenization consistency: astfill's tokenizer (reading the model's GGUF, or a
tokenizer.json) and tools/train/qwen_tokenizer.py must give identical ids.

  check_tokenizer.py --astfill build/cli/astfill --model out/model-f32.gguf \
      --tokenizer out/tokenizer.json [--files 40] [--seed 0]

Encodes a seeded sample of the corpus files, 10 held-out files, and a few
hand-written edge cases (FIM tokens, CRLF, non-ASCII, odd whitespace) both ways.
Exits 1 on the first difference, printing where the ids part.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen_tokenizer import Tokenizer  # noqa: E402
import data  # noqa: E402

EDGE_CASES = [
    "def hello_world():\n    return 42",
    "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y\n<|fim_middle|>y = x * 2<|endoftext|>",
    "x = 1\r\ny = 2\r\n\r\n\tz = 'héllo wörld' # ñ, 日本語, emoji 🐍\n",
    "I'm here, it's 'quoted' and WE'LL see; can't won't\n",
    "a  \n\n\n   b\t\t c\u00a0d\u2003e   \n",
    "e\u0301 (decomposed é) and \u212b (angstrom) normalise under NFC\n",
    "12345678901234567890 3.14159e-10 0x1F_FF\n",
    "<|endoftext|><|endoftext|>text<|im_start|>user<|im_end|><think></think>",
]


def astfill_ids(astfill: str, model: str, path: str) -> list:
    r = subprocess.run([astfill, "tokenize", "--model", model, "--text-file", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("astfill tokenize failed on %s: %s" % (path, r.stderr.strip()))
    return json.loads(r.stdout)


def compare(name: str, ours: list, theirs: list) -> bool:
    if ours == theirs:
        return True
    n = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    print("MISMATCH %s: %d vs %d ids, first difference at %d: ours %s astfill %s"
          % (name, len(ours), len(theirs), n, ours[max(0, n - 3):n + 5], theirs[max(0, n - 3):n + 5]))
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--astfill", required=True)
    ap.add_argument("--model", required=True, help="GGUF file (or tokenizer.json) astfill reads")
    ap.add_argument("--tokenizer", required=True, help="our tokenizer.json")
    ap.add_argument("--corpus", default=data.DEFAULT_CORPUS,
                    help="a folder of Python files, a pack_corpus.py archive, or `live` (data.load_corpus)")
    ap.add_argument("--files", type=int, default=40, help="corpus files to sample")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    tok = Tokenizer(args.tokenizer)
    docs = data.load_corpus(args.corpus)
    train_docs = [x for x in docs if not x.heldout]
    heldout_docs = [x for x in docs if x.heldout]
    rng = random.Random(args.seed)
    sample = rng.sample(train_docs, min(args.files, len(train_docs))) + rng.sample(heldout_docs, min(10, len(heldout_docs)))
    ok = True
    n_ids = n_bytes = 0
    with tempfile.TemporaryDirectory() as d:
        for i, doc in enumerate(sample):
            path = os.path.join(d, "file%d.txt" % i)
            raw = doc.text.encode("utf-8")
            with open(path, "wb") as f:
                f.write(raw)
            ours = tok.encode(doc.text)
            ok &= compare("%s:%s" % (doc.language, doc.path), ours, astfill_ids(args.astfill, args.model, path))
            n_ids += len(ours)
            n_bytes += len(raw)
        for i, text in enumerate(EDGE_CASES):
            p = os.path.join(d, "case%d.txt" % i)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            ours = tok.encode(text)
            ok &= compare("edge case %d %r" % (i, text[:30]), ours, astfill_ids(args.astfill, args.model, p))
            n_ids += len(ours)
    print("%s: %d files + %d edge cases, %d ids (%.2f bytes/token on the files): %s"
          % (args.model, len(sample), len(EDGE_CASES), n_ids, n_bytes / max(1, n_ids),
             "identical" if ok else "DIFFERENT"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
