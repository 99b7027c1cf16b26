#!/usr/bin/env bash
# Decode speed under OpenMP's wait policies, on an idle machine and with one
# more process spinning on a core (what an editor's build or a browser does to
# a laptop). libgomp reads the policy when it loads, so each run is a new
# `astfill generate`. Prints one JSON object per run, then a summary.
#
#   bench/omp_wait.sh [MODEL] [ROUNDS]
#   MODEL   default: $TMPDIR/astfill-bench/qwen2.5-0.5b-shapes.q8_0.gguf (bench_engine writes it), else the
#           bundled demo model
#   ROUNDS  default 3
#   POLICIES="default passive active spin:2000"  (spin:N sets GOMP_SPINCOUNT=N)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
astfill=${ASTFILL:-$root/build/cli/astfill}
model=${1:-${TMPDIR:-/tmp}/astfill-bench/qwen2.5-0.5b-shapes.q8_0.gguf}
[[ -f $model ]] || model=$root/models/astfill-demo-q8_0.gguf
rounds=${2:-3}
policies=${POLICIES:-default passive}
echo "{\"model\":\"$model\",\"load_average\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
for ((r = 1; r <= rounds; r++)); do
  for policy in $policies; do
    for load in idle busy; do
      spinner=
      if [[ $load == busy ]]; then
        bash -c 'while :; do :; done' &
        spinner=$!
      fi
      env_args=(-u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)
      case $policy in
        default) ;;
        passive | active) env_args+=(OMP_WAIT_POLICY=$policy) ;;
        spin:*) env_args+=(GOMP_SPINCOUNT=${policy#spin:}) ;;
      esac
      # The bare default needs a policy-neutral start: astfill sets passive
      # itself when nothing is set, so "default" names libgomp's own spin.
      [[ $policy == default ]] && env_args+=(GOMP_SPINCOUNT=300000)
      line=$(env "${env_args[@]}" "$astfill" generate --model "$model" --threads 2 --prompt "def mean(values):" \
        -n 64 --json 2>/dev/null | tail -n 1)
      [[ -n $spinner ]] && { kill "$spinner"; wait "$spinner" 2>/dev/null || true; }
      tps=$(sed -n 's/.*"decode_tokens_per_s":\([0-9.]*\).*/\1/p' <<<"$line")
      echo "{\"round\":$r,\"policy\":\"$policy\",\"machine\":\"$load\",\"decode_tokens_per_s\":${tps:-null}}"
    done
  done
done
echo "{\"load_average_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
