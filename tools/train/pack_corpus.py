#!/usr/bin/python3
"""Packs the multi-language corpus (corpus.py) into one xz-compressed tar, small
enough to carry to a machine that has none of these sources (a GPU machine).

  pack_corpus.py --tokenizer tools/train/out/tokenizer.json --out tools/train/out/corpus.tar.xz
  pack_corpus.py ... --scale 0.05        # a small corpus (each source's cap x 0.05), for smoke runs

The archive holds manifest.json ({"files": [{"language", "path", "bytes",
"heldout"}], "languages": {language: {files, bytes, tokens?}}}), every file as
`files/LANGUAGE/PATH`, and tokenizer.json. data.load_corpus() reads it. With
--count-tokens, the manifest also has each language's token count (slow on 2
cores: the whole corpus goes through the Python tokenizer).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the .tar.xz to write")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json (qwen_tokenizer.py build), stored alongside")
    ap.add_argument("--languages", default=",".join(corpus.LANGUAGES))
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every source's cap")
    ap.add_argument("--preset", type=int, default=6, help="xz preset (0-9)")
    ap.add_argument("--count-tokens", action="store_true", help="tokenize everything for the manifest's counts")
    a = ap.parse_args(argv)

    t0 = time.time()
    docs = corpus.collect([x for x in a.languages.split(",") if x], a.scale)
    langs = {}
    for d in docs:
        s = langs.setdefault(d.language, {"files": 0, "bytes": 0, "heldout_files": 0})
        s["files"] += 1
        s["bytes"] += len(d.text.encode("utf-8"))
        s["heldout_files"] += corpus.is_heldout(d.language, d.path)
    if a.count_tokens:
        from qwen_tokenizer import Tokenizer
        tok = Tokenizer(a.tokenizer)
        for d in docs:
            langs[d.language]["tokens"] = langs[d.language].get("tokens", 0) + len(tok.encode(d.text, parse_special=False))
    manifest = {"scale": a.scale, "languages": langs,
                "files": [{"language": d.language, "path": d.path, "bytes": len(d.text.encode("utf-8")),
                           "heldout": corpus.is_heldout(d.language, d.path)} for d in docs]}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w:xz", preset=a.preset) as tar:
        add_bytes(tar, "manifest.json", json.dumps(manifest, indent=0).encode("utf-8"))
        with open(a.tokenizer, "rb") as f:
            add_bytes(tar, "tokenizer.json", f.read())
        for d in docs:
            add_bytes(tar, "files/%s/%s" % (d.language, d.path), d.text.encode("utf-8"))
    os.replace(tmp, a.out)
    total = sum(s["bytes"] for s in langs.values())
    for lang, s in sorted(langs.items()):
        print("%-10s %5d files (%3d held out) %7.2f MB%s" % (lang, s["files"], s["heldout_files"], s["bytes"] / 1e6,
              "  %.2fM tokens (%.2f bytes/token)" % (s["tokens"] / 1e6, s["bytes"] / s["tokens"]) if "tokens" in s else ""))
    print("wrote %s: %d files, %.1f MB of text, %.1f MB compressed (%.0f s)"
          % (a.out, len(docs), total / 1e6, os.path.getsize(a.out) / 1e6, time.time() - t0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
