#!/usr/bin/python3
"""A smaller Qwen tokenizer: Qwen's byte-level BPE cut to its first N merges.

The first N merges of a BPE are themselves a valid BPE, and Qwen's merge i
produces the token with id 256 + i, so the cut vocabulary keeps Qwen's ids for
every normal token (ids 0 .. 255 + N). Qwen's added tokens (<|endoftext|>,
<|fim_prefix|>, ...) follow, in Qwen's order, at ids 256 + N onwards.

  build:  qwen_tokenizer.py build --source QWEN/tokenizer.json --merges N --out small.json
  encode: qwen_tokenizer.py encode --tokenizer small.json --text-file F   (JSON ids)

The output is a Hugging Face tokenizer.json (same normalizer, pre-tokenizer and
decoder as Qwen's), so `astfill tokenize --model small.json` reads it too.

Encoding follows Hugging Face's pipeline as Qwen configures it: added-token text
is cut out of the raw text first (leftmost, longest first); each span between is
NFC-normalised, split by Qwen's regex, mapped through GPT-2's byte<->unicode
table, and merged by rank.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Dict, List, Optional, Sequence

import regex

sys.dont_write_bytecode = True

QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's table: every byte becomes one printable code point."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_UNI = bytes_to_unicode()
UNI_TO_BYTE = {c: b for b, c in BYTE_TO_UNI.items()}


def looks_special(text: str) -> bool:
    return text.startswith("<|") and text.endswith("|>")


def build(source: str, n_merges: int, out: str) -> dict:
    """Writes the cut tokenizer.json; returns it."""
    with open(source, encoding="utf-8") as f:
        t = json.load(f)
    model = t["model"]
    assert model["type"] == "BPE"
    vocab = model["vocab"]
    merges = model["merges"][:n_merges]
    merges = [m if isinstance(m, list) else m.split(" ") for m in merges]
    # Every id below 256 + N must be a byte or the product of merge id - 256.
    by_id = {i: s for s, i in vocab.items()}
    small: Dict[str, int] = {}
    for i in range(256 + n_merges):
        small[by_id[i]] = i
    for i, (a, b) in enumerate(merges):
        if vocab.get(a + b) != 256 + i or a not in small or b not in small:
            raise SystemExit("merge %d (%s %s) does not produce id %d: this tokenizer.json is not "
                             "laid out like Qwen's" % (i, a, b, 256 + i))
    added = []
    next_id = 256 + n_merges
    for a in sorted(t["added_tokens"], key=lambda a: a["id"]):
        b = dict(a)
        b["id"] = next_id
        next_id += 1
        added.append(b)
    out_json = {
        "version": t.get("version", "1.0"),
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": t["normalizer"],
        "pre_tokenizer": t["pre_tokenizer"],
        "post_processor": t.get("post_processor"),
        "decoder": t["decoder"],
        "model": dict(model, vocab=small, merges=[" ".join(m) for m in merges]),
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(out_json, f, ensure_ascii=False)
    return out_json


class Tokenizer:
    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            t = json.load(f)
        self.vocab: Dict[str, int] = dict(t["model"]["vocab"])
        merges = [m if isinstance(m, list) else m.split(" ") for m in t["model"]["merges"]]
        self.merges: List[str] = [" ".join(m) for m in merges]
        self.ranks = {(a, b): i for i, (a, b) in enumerate(merges)}
        self.added = sorted(t["added_tokens"], key=lambda a: a["id"])
        self.special_ids = {a["content"]: a["id"] for a in self.added}
        self.n_vocab = max(list(self.vocab.values()) + [a["id"] for a in self.added]) + 1
        self.id_to_text: List[str] = [""] * self.n_vocab
        for s, i in self.vocab.items():
            self.id_to_text[i] = s
        for a in self.added:
            self.id_to_text[a["id"]] = a["content"]
        alts = sorted(self.special_ids, key=len, reverse=True)  # longest first
        self.special_re = regex.compile("|".join(regex.escape(s) for s in alts)) if alts else None
        self.pre_re = regex.compile(QWEN_PATTERN)
        self.cache: Dict[str, List[int]] = {}

    # -- ids of the special tokens training uses ------------------------------
    @property
    def eot(self) -> int:
        return self.special_ids[ENDOFTEXT]

    @property
    def fim_prefix(self) -> int:
        return self.special_ids[FIM_PREFIX]

    @property
    def fim_middle(self) -> int:
        return self.special_ids[FIM_MIDDLE]

    @property
    def fim_suffix(self) -> int:
        return self.special_ids[FIM_SUFFIX]

    def token_type(self, i: int) -> int:
        """GGUF token type as llama.cpp's converter assigns it: 1 normal, 3 control
        (special, or looks like <|...|>), 4 user-defined (other added tokens)."""
        for a in self.added:
            if a["id"] == i:
                return 3 if (a.get("special") or looks_special(a["content"])) else 4
        return 1

    # -- encoding ---------------------------------------------------------------
    def _bpe(self, word: str) -> List[int]:
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        parts = [BYTE_TO_UNI[b] for b in word.encode("utf-8")]
        ranks = self.ranks
        while len(parts) > 1:
            best, best_i = None, -1
            for i in range(len(parts) - 1):
                r = ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, best_i = r, i
            if best is None:
                break
            parts[best_i:best_i + 2] = [parts[best_i] + parts[best_i + 1]]
        ids = [self.vocab[p] for p in parts]
        if len(self.cache) < 500000:
            self.cache[word] = ids
        return ids

    def _encode_ordinary(self, text: str, out: List[int]) -> None:
        text = unicodedata.normalize("NFC", text)
        for word in self.pre_re.findall(text):
            out.extend(self._bpe(word))

    def encode(self, text: str, parse_special: bool = True) -> List[int]:
        out: List[int] = []
        if not parse_special or self.special_re is None:
            self._encode_ordinary(text, out)
            return out
        start = 0
        for m in self.special_re.finditer(text):
            if m.start() > start:
                self._encode_ordinary(text[start:m.start()], out)
            out.append(self.special_ids[m.group(0)])
            start = m.end()
        if start < len(text):
            self._encode_ordinary(text[start:], out)
        return out

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        out = bytearray()
        special_by_id = {i: s for s, i in self.special_ids.items()}
        for i in ids:
            if i in special_by_id:
                out += special_by_id[i].encode("utf-8")
            else:
                out += bytes(UNI_TO_BYTE[c] for c in self.id_to_text[i])
        return bytes(out)

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="cut Qwen's tokenizer.json to its first N merges")
    b.add_argument("--source", required=True)
    b.add_argument("--merges", type=int, required=True)
    b.add_argument("--out", required=True)
    e = sub.add_parser("encode", help="print the ids of a file as a JSON array")
    e.add_argument("--tokenizer", required=True)
    e.add_argument("--text-file", required=True)
    e.add_argument("--no-special", action="store_true")
    args = ap.parse_args(argv)
    if args.cmd == "build":
        t = build(args.source, args.merges, args.out)
        n = len(t["model"]["vocab"]) + len(t["added_tokens"])
        print("wrote %s: %d merges, %d tokens (%d normal + %d added)"
              % (args.out, len(t["model"]["merges"]), n, len(t["model"]["vocab"]), len(t["added_tokens"])))
    else:
        tok = Tokenizer(args.tokenizer)
        with open(args.text_file, "rb") as f:
            text = f.read().decode("utf-8", errors="strict")
        print(json.dumps(tok.encode(text, parse_special=not args.no_special)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
