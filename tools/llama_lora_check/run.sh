#!/usr/bin/env bash
# Does llama.cpp load the GGUF adapters astfill writes, and compute the same
# logits with them? (issue 18). Not a ctest test: llama.cpp is not a
# dependency of astfill. Needs a llama.cpp build with its shared libraries
# (libllama.so, libggml*.so), e.g. cmake -B build -DBUILD_SHARED_LIBS=ON.
#
#   tools/llama_lora_check/run.sh [OUT_DIR]
#     LLAMA_CPP=DIR     the llama.cpp checkout (default /tmp/llamanpm/llama.cpp): DIR/include,
#                       DIR/ggml/include and the libraries in DIR/build/bin
#     BUILD=DIR         astfill's build directory (default build): astfill and bench_lora
#     STEPS=N           astfill tune's steps per fixture (default 30)
#     ARCHS="A B"       the architectures (default "qwen2 qwen3 qwen3moe")
#     REAL="M A P"      also a real model M (GGUF) with a GGUF adapter A for it, on the first 2000
#                       bytes of the text file P (e.g. the bundled model, an adapter astfill tune
#                       trained for it, a held-out file)
#
# For each architecture (qwen2, qwen3, qwen3moe) and weight type (f32, q8_0) it
# writes a random-weight model (bench_lora --write-fixture), then two GGUF
# adapters through astfill's writer: one `astfill tune` trains on this
# repository's tools/ Python files (--targets all: q,k,v,o and the MLP, the
# experts on qwen3moe), and a random one of rank 8 on every target
# (bench_lora --write-adapter) whose effect is larger. Both are applied at
# scale 1 and 0.5, in astfill (`astfill logits --all --weights f32 --kv f32`)
# and in llama.cpp (llama_adapter_lora_init + llama_set_adapters_lora, f32 KV),
# on the same token ids. One JSON line per case: the largest |difference| of
# the logits and top-1 agreement over all positions, without and with the
# adapter, and how much the adapter changed each side's logits.
# Exits non-zero if llama.cpp refuses a model or an adapter.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
llama=${LLAMA_CPP:-/tmp/llamanpm/llama.cpp}
build=${BUILD:-$repo/build}
steps=${STEPS:-30}
out=${1:-$(mktemp -d -t astfill-llama-lora.XXXXXX)}
mkdir -p "$out"

check="$out/llama_lora_check"
g++ -O2 -std=c++17 "$here/llama_lora_check.cpp" -I"$llama/include" -I"$llama/ggml/include" \
  -L"$llama/build/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$llama/build/bin" -o "$check"

# A training repository and a prompt: the repository's own Python (tools/train).
train_root="$out/repo"
rm -rf "$train_root" && mkdir -p "$train_root" && cp "$repo"/tools/train/*.py "$train_root"/
head -c 1200 "$repo/tools/train/model.py" > "$out/prompt.txt"

astfill="$build/cli/astfill"
bench_lora="$build/bench/bench_lora"

logits() {  # MODEL OUT.bin [ADAPTER:SCALE] -> token ids on stdout
  local extra=()
  [ $# -ge 3 ] && extra=(--adapter "$3")
  "$astfill" logits --model "$1" --weights f32 --kv f32 --threads 2 --text-file "$out/prompt.txt" --out "$2" --all \
    "${extra[@]}"
}

for arch in ${ARCHS:-qwen2 qwen3 qwen3moe}; do
  for type in f32 q8_0; do
    base="$out/$arch-$type.gguf"
    "$bench_lora" --write-fixture "$base" --arch "$arch" --weight-type "$type" > /dev/null
    "$astfill" tune --root "$train_root" --model "$base" --out "$out/tune-$arch-$type" --steps "$steps" --batch 4 \
      --lr 1e-2 --max-tokens 256 --eval-every "$steps" --targets all --format gguf --threads 2 > "$out/tune-$arch-$type.log" 2>&1
    "$bench_lora" --model "$base" --write-adapter "$out/random-$arch-$type.gguf" --targets all --rank 8 > /dev/null
    logits "$base" "$out/base-$arch-$type.bin" > "$out/ids-$arch-$type.json"
    for adapter in "$out/tune-$arch-$type/adapter.gguf" "$out/random-$arch-$type.gguf"; do
      for scale in 1 0.5; do
        adapted="$out/adapted-$arch-$type-$(basename "$(dirname "$adapter")")-$(basename "$adapter" .gguf)-$scale.bin"
        ids=$(logits "$base" "$adapted" "$adapter:$scale")
        [ "$ids" = "$(cat "$out/ids-$arch-$type.json")" ] || { echo "token ids differ" >&2; exit 1; }
        result=$("$check" --model "$base" --adapter "$adapter" --scale "$scale" --tokens "$out/ids-$arch-$type.json" \
          --astfill-base "$out/base-$arch-$type.bin" --astfill-adapter "$adapted")
        echo "$result" | tr -d '\n' | sed 's/  */ /g'
        echo
      done
    done
  done
done

if [ -n "${REAL:-}" ]; then
  read -r model adapter text <<< "$REAL"
  head -c 2000 "$text" > "$out/real-prompt.txt"
  real_logits() {
    local extra=()
    [ $# -ge 2 ] && extra=(--adapter "$2")
    "$astfill" logits --model "$model" --weights f32 --kv f32 --threads 2 --text-file "$out/real-prompt.txt" \
      --out "$1" --all "${extra[@]}"
  }
  real_logits "$out/real-base.bin" > "$out/real-ids.json"
  real_logits "$out/real-adapted.bin" "$adapter" > /dev/null
  "$check" --model "$model" --adapter "$adapter" --scale 1 --tokens "$out/real-ids.json" \
    --astfill-base "$out/real-base.bin" --astfill-adapter "$out/real-adapted.bin" | tr -d '\n' | sed 's/  */ /g'
  echo
fi
