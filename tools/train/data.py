"""The training data: source files, tokenized, with fill-in-the-middle samples.

A corpus (load_corpus) is a list of documents (language, path, text, held out?):
either the multi-language archive that pack_corpus.py writes (corpus.py says
which files), the same files read live (`live`), or a folder of Python files
(the original demo corpus, the default), described here:

Files: every *.py under the corpus root (default /usr/lib/python3.11, without
site-/dist-packages and __pycache__, and without encodings/ and pydoc_data/,
which are data) that is valid UTF-8, sorted by path. A
file is held out when sha1(its path relative to the root) % 20 == 0: about 5%
of the files, the same ones on every machine that has them.

One epoch's token stream (seeded, so a run is reproducible and resumable):
each file is cut at line boundaries into segments of 256-1536 characters; a
segment becomes a fill-in-the-middle sample with probability fim_rate, in
Qwen's prefix-suffix-middle form

    <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>

with the two cuts at uniformly random characters of the segment (the three
parts are tokenized separately, as an editor's request would be). Three FIM
samples in four use Qwen's repository-level form instead, as astfill's
prompts do (completion/prompt.cpp):

    <|repo_name|>{repo}\n[<|file_sep|>{other path}\n{other code}\n]...
    <|file_sep|>{path}\n<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>

where repo is the corpus folder's or the file's package's name, and half of
them carry one or two excerpts (100-600 characters) of other files of the
same package (else anywhere), as cross-file context. The other
segments stay plain text, consecutive ones joined, and a plain run ends with
<|endoftext|> at the end of the file or before a FIM sample. The stream of all
files (in a seeded random order) is cut into windows of seq_len + 1 tokens
from a random offset, and the windows are shuffled.

For documents (epoch_stream_docs), each file's segments and cuts come from its
own generator, seeded by (epoch seed, path), so a stream is the same whether
one process or many tokenize it (StreamBuilder runs a pool of forked workers);
the repository name is the file's first folder below its source, and the
cross-file excerpts come from the same folder, else the same language.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import random
import tarfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

DEFAULT_CORPUS = "/usr/lib/python3.11"
REPO_NAME = "<|repo_name|>"
FILE_SEP = "<|file_sep|>"
HELDOUT_MODULUS = 20
# Folders of data, not code: the charmap codecs' hex tables (15% of the
# corpus, and what an undertrained model fell back to writing) and pydoc's
# help texts (7%, prose).
EXCLUDED_DIRS = ("encodings", "pydoc_data")


def list_files(root: str = DEFAULT_CORPUS) -> List[str]:
    out = []
    for d, dirs, files in os.walk(root):
        top = os.path.relpath(d, root) == "."
        dirs[:] = sorted(x for x in dirs if x not in ("site-packages", "dist-packages", "__pycache__")
                         and not (top and x in EXCLUDED_DIRS))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(d, name)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
                raw.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if raw.strip():
                out.append(path)
    root = os.path.abspath(root)
    out.sort(key=lambda p: os.path.relpath(p, root))
    return out


def is_heldout(path: str, root: str = DEFAULT_CORPUS) -> bool:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return int(hashlib.sha1(rel.encode("utf-8")).hexdigest(), 16) % HELDOUT_MODULUS == 0


def split_files(files: Sequence[str], root: str = DEFAULT_CORPUS) -> Tuple[List[str], List[str]]:
    train = [p for p in files if not is_heldout(p, root)]
    heldout = [p for p in files if is_heldout(p, root)]
    return train, heldout


def read(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def segments(text: str, rng: random.Random, lo: int = 256, hi: int = 1536) -> List[str]:
    """Cuts text at line ends into pieces of about lo..hi characters."""
    lines = text.splitlines(keepends=True)
    out, cur, target = [], "", rng.randint(lo, hi)
    for line in lines:
        cur += line
        if len(cur) >= target:
            out.append(cur)
            cur, target = "", rng.randint(lo, hi)
    if cur:
        out.append(cur)
    return out


def excerpt(text: str, rng: random.Random, lo: int = 100, hi: int = 600) -> str:
    """A run of whole lines of about lo..hi characters from a random line."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return ""
    start = rng.randrange(len(lines))
    out, target = "", rng.randint(lo, hi)
    for line in lines[start:]:
        out += line
        if len(out) >= target:
            break
    return out.rstrip("\n")


class RepoContext:
    """Paths relative to the corpus root, and other files' text for context."""

    def __init__(self, files: Sequence[str], root: str):
        self.root = root
        self.rel = {p: os.path.relpath(p, root) for p in files}
        self.by_dir: dict = {}
        for p, r in self.rel.items():
            self.by_dir.setdefault(os.path.dirname(r), []).append(p)
        self.files = list(files)
        self.texts: dict = {}

    def text(self, path: str) -> str:
        if path not in self.texts:
            self.texts[path] = read(path)
        return self.texts[path]

    def header(self, tok, path: str, rng: random.Random) -> List[int]:
        rel = self.rel.get(path, os.path.basename(path))
        top = rel.split("/")[0] if "/" in rel else ""
        repo = top if top and rng.random() < 0.5 else os.path.basename(self.root.rstrip("/"))
        ids = [tok.special_ids[REPO_NAME]] + tok.encode(repo + "\n", parse_special=False)
        if rng.random() < 0.5:
            near = [p for p in self.by_dir.get(os.path.dirname(rel), []) if p != path] or self.files
            for other in rng.sample(near, min(len(near), rng.randint(1, 2))):
                if other == path:
                    continue
                ids.append(tok.special_ids[FILE_SEP])
                ids.extend(tok.encode(self.rel.get(other, other) + "\n" + excerpt(self.text(other), rng) + "\n",
                                      parse_special=False))
        ids.append(tok.special_ids[FILE_SEP])
        ids.extend(tok.encode(rel + "\n", parse_special=False))
        return ids


def file_tokens(tok, text: str, rng: random.Random, fim_rate: float, path: str = "",
                repo: Optional[RepoContext] = None) -> List[int]:
    ids: List[int] = []
    plain = ""

    def flush_plain():
        nonlocal plain
        if plain:
            ids.extend(tok.encode(plain, parse_special=False))
            ids.append(tok.eot)
            plain = ""

    for seg in segments(text, rng):
        if rng.random() < fim_rate:
            flush_plain()
            a, b = sorted((rng.randint(0, len(seg)), rng.randint(0, len(seg))))
            prefix, middle, suffix = seg[:a], seg[a:b], seg[b:]
            if repo is not None and rng.random() < 0.75:
                ids.extend(repo.header(tok, path, rng))
            ids.append(tok.fim_prefix)
            ids.extend(tok.encode(prefix, parse_special=False))
            ids.append(tok.fim_suffix)
            ids.extend(tok.encode(suffix, parse_special=False))
            ids.append(tok.fim_middle)
            ids.extend(tok.encode(middle, parse_special=False))
            ids.append(tok.eot)
        else:
            plain += seg
    flush_plain()
    return ids


def epoch_stream(tok, files: Sequence[str], seed: int, fim_rate: float, root: str = DEFAULT_CORPUS) -> np.ndarray:
    rng = random.Random(seed)
    order = list(files)
    rng.shuffle(order)
    repo = RepoContext(files, root)
    parts = [np.asarray(file_tokens(tok, repo.text(p), rng, fim_rate, p, repo), dtype=np.uint16) for p in order]
    return np.concatenate(parts)


def windows(stream: np.ndarray, seq_len: int, seed: int, shuffle: bool = True) -> np.ndarray:
    """(n, seq_len + 1) windows of the stream, from a seeded offset, shuffled."""
    rng = np.random.default_rng(seed)
    off = int(rng.integers(0, seq_len)) if shuffle else 0
    n = (len(stream) - off - 1) // seq_len
    idx = off + np.arange(n)[:, None] * seq_len + np.arange(seq_len + 1)[None, :]
    w = stream[idx]
    if shuffle:
        w = w[rng.permutation(n)]
    return w


def heldout_text(files: Sequence[str], max_chars: int) -> str:
    """The held-out files joined, for `astfill perplexity` (plain code, no FIM)."""
    out = ""
    for p in files:
        if len(out) >= max_chars:
            break
        out += read(p)
        if not out.endswith("\n"):
            out += "\n"
    return out[:max_chars]


# ---------------------------------------------------------------------------
# Documents: the multi-language corpus (corpus.py, pack_corpus.py)

def load_corpus(spec: str, log=print):
    """Documents from a pack_corpus.py archive (*.tar.xz), `live` (corpus.py on
    this machine's folders), or a folder of Python files (list_files' rules)."""
    import corpus
    if spec == "live":
        return corpus.collect(log=log)
    if spec.endswith((".tar.xz", ".tar", ".txz")):
        docs = []
        with tarfile.open(spec, "r:*") as tar:
            manifest = None
            for m in tar:
                if not m.isfile():
                    continue
                if m.name == "manifest.json":
                    manifest = json.load(tar.extractfile(m))
                    held = {(f["language"], f["path"]): f["heldout"] for f in manifest["files"]}
                elif m.name.startswith("files/"):
                    if manifest is None:
                        raise SystemExit("%s: manifest.json must come first" % spec)
                    language, path = m.name[len("files/"):].split("/", 1)
                    text = tar.extractfile(m).read().decode("utf-8")
                    docs.append(corpus.Doc(language, path, text, held.get((language, path), False)))
        if manifest is None:
            raise SystemExit("%s: not a pack_corpus.py archive (no manifest.json)" % spec)
        docs.sort(key=lambda d: (d.language, d.path))
        return docs
    if os.path.isdir(spec):
        root = os.path.abspath(spec)
        return [corpus.Doc("python", os.path.relpath(p, root), read(p), is_heldout(p, root)) for p in list_files(spec)]
    raise SystemExit("corpus %r: not an archive (.tar.xz), `live`, or a folder" % spec)


def archive_tokenizer(spec: str, out: str) -> bool:
    """Writes the tokenizer.json stored in a pack_corpus.py archive to out."""
    with tarfile.open(spec, "r:*") as tar:
        for m in tar:
            if m.name == "tokenizer.json":
                with open(out, "wb") as f:
                    f.write(tar.extractfile(m).read())
                return True
    return False


class DocContext:
    """Repository-level context for documents: repo names and other files' excerpts."""

    def __init__(self, docs):
        self.docs = docs
        self.by_dir: Dict[Tuple[str, str], List[int]] = {}
        self.by_lang: Dict[str, List[int]] = {}
        for i, d in enumerate(docs):
            self.by_dir.setdefault((d.language, os.path.dirname(d.path)), []).append(i)
            self.by_lang.setdefault(d.language, []).append(i)

    @staticmethod
    def shown_path(path: str) -> str:
        return path.split("/", 1)[1] if "/" in path else path

    def header(self, tok, i: int, rng: random.Random) -> List[int]:
        d = self.docs[i]
        rel = self.shown_path(d.path)
        source = d.path.split("/", 1)[0]
        top = rel.split("/")[0] if "/" in rel else source
        repo = top if rng.random() < 0.5 else source
        ids = [tok.special_ids[REPO_NAME]] + tok.encode(repo + "\n", parse_special=False)
        if rng.random() < 0.5:
            near = [j for j in self.by_dir.get((d.language, os.path.dirname(d.path)), []) if j != i] or \
                [j for j in self.by_lang.get(d.language, []) if j != i]
            for j in rng.sample(near, min(len(near), rng.randint(1, 2))):
                other = self.docs[j]
                ids.append(tok.special_ids[FILE_SEP])
                ids.extend(tok.encode(self.shown_path(other.path) + "\n" + excerpt(other.text, rng) + "\n",
                                      parse_special=False))
        ids.append(tok.special_ids[FILE_SEP])
        ids.extend(tok.encode(rel + "\n", parse_special=False))
        return ids


class _OneDoc:
    """RepoContext's interface for file_tokens, bound to one document."""

    def __init__(self, ctx: DocContext, i: int):
        self.ctx, self.i = ctx, i

    def header(self, tok, path, rng):
        return self.ctx.header(tok, self.i, rng)


_STATE: dict = {}


def _doc_tokens(job) -> np.ndarray:
    i, seed, fim_rate, copy = job
    tok, ctx = _STATE["tok"], _STATE["ctx"]
    d = ctx.docs[i]
    rng = random.Random("%d:%s/%s" % (seed, d.language, d.path) + ("#%d" % copy if copy else ""))
    return np.asarray(file_tokens(tok, d.text, rng, fim_rate, d.path, _OneDoc(ctx, i)), dtype=np.uint16)


class StreamBuilder:
    """Epoch streams of a fixed list of documents, tokenized by `workers`
    processes forked at construction (make it before CUDA starts). submit()
    starts a stream in the background; get() returns it. weights: a language's
    files come that many times in each epoch (an integer >= 1; each copy cut
    and sampled anew), for the languages with little code here."""

    def __init__(self, tok, docs, workers: int = 1, weights: Optional[Dict[str, int]] = None):
        if tok.n_vocab > 65536:
            raise SystemExit("token ids are stored as uint16: %d tokens do not fit" % tok.n_vocab)
        _STATE["tok"], _STATE["ctx"] = tok, DocContext(list(docs))
        self.n = len(docs)
        self.copies = [max(1, int((weights or {}).get(d.language, 1))) for d in docs]
        self.pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
        self.pending: dict = {}

    def _jobs(self, seed: int, fim_rate: float):
        jobs = [(i, seed, fim_rate, c) for i in range(self.n) for c in range(self.copies[i])]
        random.Random(seed).shuffle(jobs)
        return jobs

    def submit(self, seed: int, fim_rate: float) -> None:
        key = (seed, fim_rate)
        if self.pool is not None and key not in self.pending:
            self.pending[key] = self.pool.map_async(_doc_tokens, self._jobs(seed, fim_rate), chunksize=8)

    def get(self, seed: int, fim_rate: float) -> np.ndarray:
        key = (seed, fim_rate)
        if key in self.pending:
            parts = self.pending.pop(key).get()
        elif self.pool is not None:
            parts = self.pool.map(_doc_tokens, self._jobs(seed, fim_rate), chunksize=8)
        else:
            parts = [_doc_tokens(j) for j in self._jobs(seed, fim_rate)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint16)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool = None


def docs_text(docs, max_chars: int) -> str:
    """Documents joined, for `astfill perplexity` (plain code, no FIM)."""
    out = io.StringIO()
    n = 0
    for d in docs:
        if n >= max_chars:
            break
        t = d.text if d.text.endswith("\n") else d.text + "\n"
        out.write(t)
        n += len(t)
    return out.getvalue()[:max_chars]
