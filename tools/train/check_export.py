#!/usr/bin/python3
"""Checks an exported GGUF against the PyTorch model it came from: the logits of
every position of a few texts from astfill's engine (`astfill logits --all
--weights f32`) must match PyTorch's, and astfill must tokenize the texts as
qwen_tokenizer.py does. Also runs the independent numpy reference
(tests/reference/qwen_ref.py) on the GGUF for the first text.

  check_export.py --astfill build/cli/astfill --gguf out/model-f32.gguf \
      --model out/run/model.pt --tokenizer out/tokenizer.json [--max-rel 1e-3]

The error of a text is max |engine - torch| / max |torch| over all its logits.
Exits 1 when a text's error exceeds --max-rel.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
from model import Config, Qwen3  # noqa: E402
from qwen_tokenizer import Tokenizer  # noqa: E402

TEXTS = [
    "def fibonacci(n):\n",
    "import os\nimport sys\n\n\nclass Config:\n    \"\"\"Settings read from the environment.\"\"\"\n\n"
    "    def __init__(self, path=None):\n        self.path = path or os.getcwd()\n",
    "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--astfill", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--model", required=True, help="model.pt from train.py")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--weights", default="f32", help="astfill --weights (f32 for the exactness check)")
    ap.add_argument("--max-rel", type=float, default=1e-3)
    ap.add_argument("--text-file", action="append", default=[], help="another text to compare (repeatable)")
    ap.add_argument("--no-numpy-ref", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(2)
    ck = torch.load(args.model, map_location="cpu")
    model = Qwen3(Config(**ck["config"]))
    model.load_state_dict(ck["model"])
    model.eval()
    tok = Tokenizer(args.tokenizer)
    texts = list(TEXTS)
    for p in args.text_file:
        with open(p, encoding="utf-8") as f:
            texts.append(f.read())

    ok = True
    with tempfile.TemporaryDirectory() as d:
        for i, text in enumerate(texts):
            tf, of = os.path.join(d, "t%d.txt" % i), os.path.join(d, "t%d.bin" % i)
            with open(tf, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            r = subprocess.run([args.astfill, "logits", "--model", args.gguf, "--weights", args.weights,
                                "--text-file", tf, "--out", of, "--all"], capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit("astfill logits failed: " + r.stderr)
            ids = json.loads(r.stdout.strip().splitlines()[-1])
            ours = tok.encode(text)
            if ids != ours:
                print("text %d: astfill tokenized differently: %s vs %s" % (i, ids[:20], ours[:20]))
                ok = False
                continue
            eng = np.fromfile(of, dtype="<f4").reshape(len(ids), -1)
            with torch.no_grad():
                ref = model(torch.tensor([ids]))[0].double().numpy()
            err = float(np.max(np.abs(eng - ref)) / np.max(np.abs(ref)))
            agree = float(np.mean(np.argmax(eng, 1) == np.argmax(ref, 1)))
            good = err <= args.max_rel
            ok &= good
            print("text %d: %d tokens, max rel error %.2e, argmax agreement %.3f %s"
                  % (i, len(ids), err, agree, "ok" if good else "TOO LARGE"))
            if i == 0 and not args.no_numpy_ref:
                from qwen_ref import QwenReference
                npref = QwenReference(args.gguf).forward(ids)
                err2 = float(np.max(np.abs(npref - ref)) / np.max(np.abs(ref)))
                ok &= err2 <= args.max_rel
                print("text %d: numpy reference (tests/reference/qwen_ref.py) vs torch: max rel error %.2e" % (i, err2))
    print("export check: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
