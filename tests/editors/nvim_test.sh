#!/usr/bin/env bash
# The Neovim plugin (editors/nvim) in headless Neovim against the daemon:
# ASTFILL_BIN and ASTFILL_WRITE_MODEL name the built binaries (CTest sets them);
# ASTFILL_WRITE_VL_FIXTURE defaults to tests/vision/write_vl_fixture beside the latter.
# Neovim's own files (LSP log, cache, state) go to a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export ASTFILL_BIN=${ASTFILL_BIN:-$root/build/cli/astfill}
export ASTFILL_WRITE_MODEL=${ASTFILL_WRITE_MODEL:-$root/build/tests/engine/write_random_model}
# The tiny Qwen2.5-VL pair's writer, built beside write_random_model.
export ASTFILL_WRITE_VL_FIXTURE=${ASTFILL_WRITE_VL_FIXTURE:-$(dirname "$ASTFILL_WRITE_MODEL")/../vision/write_vl_fixture}
nvim=${NVIM:-nvim}
command -v "$nvim" >/dev/null || { echo "nvim_test: '$nvim' not found (scripts/setup installs Debian's neovim)" >&2; exit 1; }
for bin in "$ASTFILL_BIN" "$ASTFILL_WRITE_MODEL" "$ASTFILL_WRITE_VL_FIXTURE"; do
  [[ -x $bin ]] || { echo "nvim_test: $bin is not an executable (set ASTFILL_BIN, ASTFILL_WRITE_MODEL and ASTFILL_WRITE_VL_FIXTURE, or build in build/)" >&2; exit 1; }
done
echo "nvim_test: $("$nvim" --version | head -1), $("$ASTFILL_BIN" --version | head -1)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_STATE_HOME=$tmp/state XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
export TMPDIR=$tmp

# The test exits on its own; the timeout is for a hang (it prints what it waited for first).
status=0
timeout 150 "$nvim" --headless --clean -u "$here/nvim/minimal_init.lua" \
  -c "lua local ok, err = pcall(dofile, [[$here/nvim/plugin_test.lua]])
        if not ok then io.stdout:write('FAIL loading the test: ' .. tostring(err) .. '\\n'); vim.cmd('cquit 1') end" \
  </dev/null || status=$?
if ((status != 0)); then
  ((status == 124)) && echo "nvim_test: Neovim did not finish within 150 s" >&2
  for log in "$XDG_CACHE_HOME"/nvim/lsp.log "$XDG_STATE_HOME"/nvim/lsp.log; do
    [[ -s $log ]] && { echo "--- $log (last 40 lines)"; tail -40 "$log"; }
  done
  exit 1
fi
