#!/usr/bin/env bash
# `astfill tune` end to end on a tiny random model and a three-file
# repository: it trains, writes the adapter in both formats, resumes from its
# checkpoint when run again, and refuses bad arguments with exit code 2.
set -euo pipefail
: "${ASTFILL_BIN:?}" "${ASTFILL_WRITE_MODEL:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$ASTFILL_WRITE_MODEL" "$dir/model.gguf" --arch qwen2 > /dev/null
mkdir -p "$dir/repo/pkg"
for i in 1 2 3; do
  printf 'def add_%s(total):\n    total = total + %s\n    total = total * 2\n    return total\n' "$i" "$i" > "$dir/repo/pkg/m$i.py"
done
run() { "$ASTFILL_BIN" tune --root "$dir/repo" --model "$dir/model.gguf" --out "$dir/out" --steps 3 --threads 1 \
          --rank 4 --max-tokens 128 --gguf "$@"; }
run 2> "$dir/err" | tee "$dir/first"
grep -q '^3 steps on 2 files (1 held out)' "$dir/first"
grep -q '^held-out loss ' "$dir/first"
test -s "$dir/out/adapter/adapter_config.json"
test -s "$dir/out/adapter/adapter_model.safetensors"
test -s "$dir/out/adapter.gguf"
test -s "$dir/out/checkpoint.bin"
grep -q 'step 3/3' "$dir/err"
# The same command again continues from the checkpoint (here: already done).
run 2> /dev/null | grep -q '^resumed: 3 steps'
# Other settings against the same checkpoint are refused.
if run --rank 8 2> "$dir/err"; then echo "a foreign checkpoint was continued"; exit 1; fi
grep -q 'other settings' "$dir/err"
# A real Ctrl-C: SIGINT to a running tune (a progress line each step, so the
# handler is installed by the first one) ends it after that step with exit code
# 130, a checkpoint and no adapter; the same command again starts at the step
# after the saved one, and a second SIGINT saves a later step.
long() { exec "$ASTFILL_BIN" tune --root "$dir/repo" --model "$dir/model.gguf" --out "$dir/ctrlc" --steps 100000 \
           --threads 1 --rank 4 --max-tokens 128 --eval-every 1; }
# Starts a long run in the background, waits (up to 60 s) for its first progress
# line, sends SIGINT and prints its exit code; its stdout and stderr go to $1.out, $1.err.
interrupt() {
  long > "$1.out" 2> "$1.err" &
  local pid=$! waited=0 code=0
  until grep -q '^step ' "$1.err"; do
    if ! kill -0 "$pid" 2> /dev/null || [ "$waited" -ge 1200 ]; then
      echo "no progress line from the long run: $(cat "$1.err")"; kill "$pid" 2> /dev/null; exit 1
    fi
    sleep 0.05; waited=$((waited + 1))
  done
  kill -INT "$pid"
  wait "$pid" || code=$?
  echo "$code"
}
code=$(interrupt "$dir/int1")
test "$code" = 130 || { echo "SIGINT: exit code $code, not 130: $(cat "$dir/int1.err")"; exit 1; }
saved=$(sed -n 's/^interrupted at step \([0-9]*\): checkpoint saved to .*checkpoint.bin; run the same command to resume$/\1/p' "$dir/int1.out")
test -n "$saved" && test "$saved" -ge 1 || { echo "no interruption report: $(cat "$dir/int1.out")"; exit 1; }
test -s "$dir/ctrlc/checkpoint.bin"
test ! -e "$dir/ctrlc/adapter" || { echo "an interrupted run wrote an adapter"; exit 1; }
# Its last progress line is the saved step.
test "$(grep '^step ' "$dir/int1.err" | tail -1 | sed 's/^step \([0-9]*\)\/.*/\1/')" = "$saved"
code=$(interrupt "$dir/int2")
test "$code" = 130 || { echo "SIGINT after resuming: exit code $code: $(cat "$dir/int2.err")"; exit 1; }
first=$(grep -m1 '^step ' "$dir/int2.err" | sed 's/^step \([0-9]*\)\/100000 .*/\1/')
test "$first" = $((saved + 1)) || { echo "resumed at step $first, not $((saved + 1))"; exit 1; }
again=$(sed -n 's/^interrupted at step \([0-9]*\):.*/\1/p' "$dir/int2.out")
test "$again" -gt "$saved"
# Distillation from a teacher with the same tokenizer: the KL before and after,
# the teacher's top-k cached in --out and read back (not run again) next time.
"$ASTFILL_WRITE_MODEL" "$dir/teacher.gguf" --arch qwen2 --seed 5 > /dev/null
distil() { run --out "$dir/distil" --teacher "$dir/teacher.gguf" --distill-weight 0.7 --temperature 2 --teacher-top-k 8 "$@"; }
distil 2> "$dir/err" > "$dir/first"
grep -q '^held-out KL to the teacher [0-9.]* before, [0-9.]* after' "$dir/first"
grep -Eq '^teacher: [1-9][0-9]* samples run' "$dir/first"
grep -q 'KL [0-9.]' "$dir/err"
ls "$dir/distil"/teacher-*.bin > /dev/null
rm "$dir/distil/checkpoint.bin"
distil 2> /dev/null | grep -q '^teacher: 0 samples run'
# Bad distillation arguments.
set +e
distil --distill-weight 2 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q "distillation weight" "$dir/err"
set +e
distil --temperature 0 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q "temperature" "$dir/err"
# Batches, the cuts' mix and the end token's weight.
run --out "$dir/mix" --batch 2 --cuts line=1,block=2,call_args=1 --end-weight 0.5 2> /dev/null | grep -q '^3 steps on 2 files'
set +e
run --out "$dir/mix2" --cuts line=1,nope=2 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q "'nope' is no cut" "$dir/err"
set +e
run --out "$dir/mix2" --end-weight 2 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q -- "--end-weight must be" "$dir/err"
set +e
run --out "$dir/mix2" --batch 0 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q "batch size" "$dir/err"
# Bad arguments: exit 2 with a message.
set +e
"$ASTFILL_BIN" tune --steps 1 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q -- '--root is required' "$dir/err"
set +e
"$ASTFILL_BIN" tune --root "$dir/repo" --steps 1 --hours 1 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q -- 'either --steps N or --hours H' "$dir/err"
set +e
"$ASTFILL_BIN" tune --root "$dir/repo" --steps 1 --targets q,nope 2> "$dir/err"; code=$?
set -e
test "$code" = 2 && grep -q "nope" "$dir/err"
echo "cli tune ok"
