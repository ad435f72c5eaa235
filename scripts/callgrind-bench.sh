#!/usr/bin/env bash
# Instruction counts of one run of each bundled benchmark case, under
# valgrind's callgrind: unlike wall time, the count does not depend on what
# else the machine is doing, so it can be compared across commits.
#
#   scripts/callgrind-bench.sh            # baseline and strategy-2026, seed 1
#   scripts/callgrind-bench.sh --scale 10 # also a world 10 times the baseline
#
# Counts only the engine's run (`dibsim_core::run::run_one_with`), not the
# loading and printing around it. Runs on one thread, so a large world takes
# the sequential path: how rayon splits its work on more threads depends on
# timing, and so would the count (the rayon-job toggle below counts those
# jobs if the script is ever run with more threads). Installs valgrind from Debian's packages
# when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=""
if [ "${1:-}" = "--scale" ]; then scale="${2:?--scale K}"; fi
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi
cargo build --release -q
bin=target/release/dibsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # label, then dibsim's arguments
  local label=$1; shift
  valgrind --tool=callgrind --toggle-collect='dibsim_core::run::run_one_with*' \
    --toggle-collect='*rayon_core::job*execute*' \
    --callgrind-out-file="$tmp/cg.out" "$bin" --threads 1 "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
  local ir
  ir=$(grep -o 'refs: *[0-9,]*' "$tmp/err" | tr -d ', ' | cut -d: -f2)
  printf '%-34s %15s instructions\n' "$label" "$ir"
}
count "baseline, seed 1" run baseline --seed 1
count "strategy-2026, seed 1" run strategy-2026 --seed 1
if [ -n "$scale" ]; then
  "$bin" synth --scale "$scale" --out "$tmp/x.toml" >/dev/null
  count "baseline x$scale, seed 1" run "$tmp/x.toml" --seed 1
fi
