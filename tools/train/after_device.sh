#!/bin/bash
# Here, after device_run.sh: joins the F16 weight parts that came back, then
# the usual path: export the F32 GGUF (export_gguf.py), quantize to Q8_0, check
# tokenization and logits against astfill (check_tokenizer.py, check_export.py),
# and measure perplexity per language on held-out text, F32 and int8.
#
#   tools/train/after_device.sh FILES_AT [RUNDIR]
#   tools/train/after_device.sh --local RUNDIR      # a run trained here (train.py --out RUNDIR)
#
# FILES_AT: the folder the device tool put $OUT's files in (model-f16.pt.part*,
# results.tar.gz). RUNDIR: where to write (default tools/train/out/gpu). With
# --local, RUNDIR is a finished train.py run: its model.pt, heldout_LANG.txt and
# summary.json are used as they are.
# Environment: ARCHIVE (the same tools/train/out/corpus.tar.xz the run trained
# on: the held-out text and the tokenizer come from it), ASTFILL (build/cli/astfill),
# HELDOUT_CHARS (120000, as train.py: split evenly between the languages),
# BASELINE (a GGUF, e.g. the shipped models/astfill-demo-q8_0.gguf: its int8
# perplexity on the same held-out text is printed beside the new model's).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOCAL=0
if [ "${1:-}" = --local ]; then
  LOCAL=1
  RUNDIR=${2:?usage: after_device.sh --local RUNDIR}
  cd "$ROOT"
else
  FILES=$(cd "${1:?usage: after_device.sh FILES_AT [RUNDIR]}" && pwd)
  cd "$ROOT"
  RUNDIR=${2:-tools/train/out/gpu}
fi
HERE=tools/train
ARCHIVE=${ARCHIVE:-$HERE/out/corpus.tar.xz}
HELDOUT_CHARS=${HELDOUT_CHARS:-120000}
PY=/usr/bin/python3
NICE="nice -n 15"
if [ -z "${ASTFILL:-}" ]; then
  if [ -x build/cli/astfill ]; then ASTFILL=build/cli/astfill; else ASTFILL=/work/main/build/cli/astfill; fi
fi
if [ -d /usr/lib/x86_64-linux-gnu/openblas-pthread ]; then
  export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
mkdir -p "$RUNDIR"
step() { echo; echo "== $*"; }

if [ $LOCAL = 0 ]; then
step "weights: join the parts, check, widen to F32"
ls "$FILES"/model-f16.pt.part* > /dev/null
cat "$FILES"/model-f16.pt.part* > "$RUNDIR/model-f16.pt"
tar xzf "$FILES/results.tar.gz" -C "$RUNDIR"
(cd "$RUNDIR" && sha256sum -c model-f16.pt.sha256)
$PY - "$RUNDIR/model-f16.pt" "$RUNDIR/model.pt" <<'EOF'
import sys, torch
ck = torch.load(sys.argv[1], map_location="cpu")
ck["model"] = {k: v.float() for k, v in ck["model"].items()}
torch.save(ck, sys.argv[2])
print("model.pt: %.2fM parameters, %s (from the device's %s)" % (
    sum(v.numel() for v in ck["model"].values()) / 1e6, ck["config"], ck.get("from", "?")))
EOF

step "tokenizer and held-out text from $ARCHIVE"
$PY - "$ARCHIVE" "$RUNDIR" "$HELDOUT_CHARS" <<'EOF'
import os, sys
sys.path.insert(0, "tools/train")
import data
archive, rundir, chars = sys.argv[1], sys.argv[2], int(sys.argv[3])
assert data.archive_tokenizer(archive, os.path.join(rundir, "tokenizer.json")), "no tokenizer.json in " + archive
held = {}
for d in data.load_corpus(archive):
    if d.heldout:
        held.setdefault(d.language, []).append(d)
for lang, ds in sorted(held.items()):  # as train.py writes them
    with open(os.path.join(rundir, "heldout_%s.txt" % lang), "w", encoding="utf-8") as f:
        f.write(data.docs_text(ds, chars // len(held)))
print("languages:", " ".join(sorted(held)))
EOF
else
  [ -f "$RUNDIR/model.pt" ] || { echo "after_device.sh: $RUNDIR/model.pt is missing: has train.py finished?" >&2; exit 2; }
  step "tokenizer from $ARCHIVE; model.pt and held-out text from $RUNDIR"
  $PY -c "import sys; sys.path.insert(0, '$HERE'); import data; sys.exit(0 if data.archive_tokenizer('$ARCHIVE', '$RUNDIR/tokenizer.json') else 1)"
fi
TOK=$RUNDIR/tokenizer.json

F32=$RUNDIR/astfill-demo-f32.gguf
Q8=$RUNDIR/astfill-demo-q8_0.gguf
step "export GGUF (f32) and quantize (q8_0)"
$NICE $PY $HERE/export_gguf.py --model "$RUNDIR/model.pt" --tokenizer "$TOK" --out "$F32"
"$ASTFILL" quantize "$F32" "$Q8" --type q8_0 --quiet
"$ASTFILL" inspect "$Q8" > "$RUNDIR/inspect-q8_0.txt"
head -8 "$RUNDIR/inspect-q8_0.txt"
ls -l "$F32" "$Q8"

step "checks: tokenization (astfill reading the GGUF vs qwen_tokenizer.py), logits (engine f32 vs PyTorch)"
$NICE $PY $HERE/check_tokenizer.py --astfill "$ASTFILL" --model "$F32" --tokenizer "$TOK" --corpus "$ARCHIVE"
$NICE $PY $HERE/check_export.py --astfill "$ASTFILL" --gguf "$F32" --model "$RUNDIR/model.pt" --tokenizer "$TOK"

CTX=$($PY -c "import sys, torch; print(torch.load(sys.argv[1], map_location='cpu')['config']['context'])" "$RUNDIR/model.pt")
step "perplexity per language on held-out code ($CTX-token windows, as trained): f32 vs int8"
for f in "$RUNDIR"/heldout_*.txt; do
  lang=$(basename "$f" .txt); lang=${lang#heldout_}
  "$ASTFILL" perplexity --model "$F32" --weights f32 --context "$CTX" --text-file "$f" --json > "$RUNDIR/ppl-f32-$lang.json"
  "$ASTFILL" perplexity --model "$Q8" --weights int8 --context "$CTX" --text-file "$f" --json > "$RUNDIR/ppl-q8_0-$lang.json"
  if [ -n "${BASELINE:-}" ]; then
    "$ASTFILL" perplexity --model "$BASELINE" --weights int8 --context "$CTX" --text-file "$f" --json > "$RUNDIR/ppl-baseline-$lang.json"
  fi
done
$PY - "$RUNDIR" <<'EOF'
import glob, json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "summary.json"))) if os.path.exists(os.path.join(d, "summary.json")) else {}
out = {}
print("%-10s %9s %9s %8s %11s %9s" % ("language", "f32", "q8_0", "q8/f32", "torch (train)", "baseline"))
for p in sorted(glob.glob(os.path.join(d, "ppl-f32-*.json"))):
    lang = p.rsplit("ppl-f32-", 1)[1][:-5]
    a = json.load(open(p))["perplexity"]
    b = json.load(open(os.path.join(d, "ppl-q8_0-%s.json" % lang)))["perplexity"]
    t = s.get("languages", {}).get(lang, {}).get("heldout_txt_ppl_torch")
    bp = os.path.join(d, "ppl-baseline-%s.json" % lang)
    base = json.load(open(bp))["perplexity"] if os.path.exists(bp) else None
    out[lang] = {"f32": a, "q8_0_int8": b, "torch_on_device": t, "baseline_int8": base}
    print("%-10s %9.3f %9.3f %+7.2f%% %11s %9s" % (lang, a, b, 100 * (b / a - 1), t,
                                                 "%.3f" % base if base is not None else "-"))
json.dump(out, open(os.path.join(d, "perplexity.json"), "w"), indent=1)
EOF

step "samples (q8_0, greedy)"
"$ASTFILL" generate --model "$Q8" --prompt $'def fibonacci(n):\n' -n 48 | tee "$RUNDIR/sample-python.txt"; echo
"$ASTFILL" generate --model "$Q8" --prompt $'func reverse(s string) string {\n' -n 48 | tee "$RUNDIR/sample-go.txt"; echo
"$ASTFILL" generate --model "$Q8" --prompt $'<|fim_prefix|>function isEven(n) {\n  <|fim_suffix|>\n}\n<|fim_middle|>' -n 32 | tee "$RUNDIR/sample-fim-js.txt"; echo
echo "done: $F32, $Q8 (copy the q8_0 file to models/ to ship it)"
