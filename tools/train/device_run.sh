#!/bin/bash
# Everything that must run on the GPU machine, from the carried corpus archive
# (pack_corpus.py): train for a fixed time, export an F32 GGUF there (the export
# path checked where the weights were made), and leave in $OUT what comes back:
# the weights as F16 in parts of 15 MiB (the device tool returns at most 8 files
# of 16 MiB, 64 MiB in all) and results.tar.gz (summary.json, logs).
# after_device.sh, here, turns them into the GGUF files and checks them.
#
#   OUT=/some/dir tools/train/device_run.sh            # on the GPU machine (OUT is set there)
#   OUT=... DEVICE=cpu STEPS=20 SHAPE="--hidden 64 --layers 2 --heads 2 --kv-heads 1 --head-dim 32 --ffn 128
#       --seq-len 128 --batch 4" tools/train/device_run.sh      # the CPU smoke run
#
# Environment: OUT (required), ARCHIVE (tools/train/out/corpus.tar.xz), DEVICE (cuda),
# STEPS (0: sized by BUDGET_MINUTES), BUDGET_MINUTES (6.5), MAX_MINUTES (7.5: a hard
# stop with a checkpoint; run again on the same machine to resume), WORKERS (cores - 2),
# SHAPE (model/batch flags; default --gpu-shape on cuda), WEIGHTS (typescript=2,python=2:
# the two languages with least code here come twice an epoch), EXTRA (more train.py flags),
# WORK (/tmp/astfill-train: the run directory and token streams, kept on a warm machine;
# a checkpoint, 350 MB at the GPU shape, every 500 steps and at MAX_MINUTES),
# PY (python3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
HERE=tools/train
: "${OUT:?set OUT to the folder whose files come back}"
ARCHIVE=${ARCHIVE:-$HERE/out/corpus.tar.xz}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-0}
BUDGET_MINUTES=${BUDGET_MINUTES:-6.5}
MAX_MINUTES=${MAX_MINUTES:-7.5}
WORKERS=${WORKERS:-$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))}
WORK=${WORK:-/tmp/astfill-train}
PY=${PY:-python3}
WEIGHTS=${WEIGHTS-typescript=2,python=2}
if [ -z "${SHAPE:-}" ]; then
  if [ "$DEVICE" = cuda ]; then SHAPE=--gpu-shape; else SHAPE=; fi
fi
RUN=$WORK/run
mkdir -p "$OUT" "$RUN" "$WORK/data"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
[ -f "$ARCHIVE" ] || { echo "device_run.sh: no corpus archive at $ARCHIVE (pack_corpus.py makes it; carry it)" >&2; exit 2; }
step() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

step "environment"
$PY -c 'import sys, torch, numpy, regex; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else "")'
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true; fi
nproc

step "tokenizer from $ARCHIVE"
$PY -c "import sys; sys.path.insert(0, '$HERE'); import data; sys.exit(0 if data.archive_tokenizer('$ARCHIVE', '$WORK/tokenizer.json') else 1)"

step "train ($DEVICE; steps $STEPS, budget $BUDGET_MINUTES min, stop at $MAX_MINUTES min)"
set -o pipefail
# shellcheck disable=SC2086
$PY $HERE/train.py --out "$RUN" --tokenizer "$WORK/tokenizer.json" --corpus "$ARCHIVE" --device "$DEVICE" \
  --steps "$STEPS" --budget-minutes "$BUDGET_MINUTES" --max-minutes "$MAX_MINUTES" --workers "$WORKERS" \
  --cache-dir "$WORK/data" --language-weights "$WEIGHTS" --ckpt-every 500 $SHAPE ${EXTRA:-} 2>&1 | tee -a "$RUN/train.out"

WEIGHTS=$RUN/model.pt
if [ ! -f "$WEIGHTS" ]; then
  echo "training stopped before its last step (--max-minutes): the weights come from $RUN/ckpt.pt;"
  echo "run this script again on the same machine to finish (it resumes)"
  WEIGHTS=$RUN/ckpt.pt
fi

step "export F32 GGUF (stays on this machine: too large to come back)"
$PY $HERE/export_gguf.py --model "$WEIGHTS" --tokenizer "$WORK/tokenizer.json" --out "$RUN/astfill-demo-f32.gguf"

step "weights as F16 parts, results.tar.gz -> $OUT"
rm -f "$OUT"/model-f16.pt.part*
$PY - "$WEIGHTS" "$RUN/model-f16.pt" <<'EOF'
import sys, torch
ck = torch.load(sys.argv[1], map_location="cpu")
keep = {k: ck[k] for k in ("config", "corpus", "languages") if k in ck}
keep["model"] = {k: v.detach().to(torch.float16) for k, v in ck["model"].items()}
keep["from"] = sys.argv[1].rsplit("/", 1)[-1]
torch.save(keep, sys.argv[2])
EOF
split -b 15M -d -a 2 "$RUN/model-f16.pt" "$OUT/model-f16.pt.part"
(cd "$RUN" && sha256sum model-f16.pt > model-f16.pt.sha256)
tar czf "$OUT/results.tar.gz" -C "$RUN" $(cd "$RUN" && ls summary.json train_log.csv eval_log.csv train.out model-f16.pt.sha256 2>/dev/null)
ls -l "$OUT"
total=$(du -cb "$OUT"/* | tail -1 | cut -f1)
n=$(ls "$OUT" | wc -l)
if [ "$total" -gt $((62 * 1048576)) ] || [ "$n" -gt 8 ]; then
  echo "WARNING: $n files, $total bytes in \$OUT: over what the device tool returns (8 files, 64 MiB); use a smaller shape" >&2
fi
[ -f "$RUN/summary.json" ] && cat "$RUN/summary.json"
echo
echo "done: run tools/train/after_device.sh FILES_AT here"
