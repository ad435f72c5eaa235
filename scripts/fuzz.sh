#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60) on the
# corpus committed in tests/fuzz-corpus/TARGET (read only: new inputs go to
# a scratch corpus). A crash fails the script, and its input is left in
# fuzz/artifacts/TARGET/: add it to tests/fuzz-corpus/TARGET (and a test
# that pins the fix) so it is replayed from then on.
#
# cargo-fuzz needs nightly compiler flags; RUSTC_BOOTSTRAP=1 lets the stable
# toolchain take them. The sanitizer is off (-s none): wasmtime reserves
# gigabytes of guard pages per instance and handles traps by signals, which
# AddressSanitizer does not tolerate; libFuzzer's coverage guidance and
# Rust's own checks (panics, overflow checks, debug assertions) remain.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked --quiet
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi
for t in "${targets[@]}"; do
  [ -d "tests/fuzz-corpus/$t" ] || { echo "no corpus tests/fuzz-corpus/$t for fuzz target $t"; exit 1; }
  scratch=$(mktemp -d)
  echo "== fuzz $t for ${seconds}s ($(ls "tests/fuzz-corpus/$t" | wc -l) seed inputs)"
  if ! cargo fuzz run -s none --release --debug-assertions "$t" "$scratch" "tests/fuzz-corpus/$t" \
      -- -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
      > "/tmp/dibsim-fuzz-$t.log" 2>&1; then
    tail -40 "/tmp/dibsim-fuzz-$t.log"
    echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "/tmp/dibsim-fuzz-$t.log" | tr '\n' ' '
  echo
  rm -rf "$scratch"
done
