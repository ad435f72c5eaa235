#!/usr/bin/env bash
# Builds a Rust plugin crate that depends only on dibsim-plugin-sdk as a
# WebAssembly plugin, with whichever compiler here can target
# wasm32-unknown-unknown:
#   1. cargo with the rustup target (`rustup target add wasm32-unknown-unknown`):
#      the normal way, and what the plugin guide tells users;
#   2. a rustc with a packaged Wasm standard library (Debian:
#      `apt-get install rustc libstd-rust-dev-wasm32 lld`), called directly,
#      crate by crate (abi, sdk, the plugin), since that compiler is older
#      than the workspace's cargo.
# Usage: build-wasm.sh PLUGIN_DIR OUT.wasm
# Exit status 3 (and a message) when no such compiler is found.
set -euo pipefail
dir=${1:?usage: build-wasm.sh PLUGIN_DIR OUT.wasm}
out=${2:?usage: build-wasm.sh PLUGIN_DIR OUT.wasm}
here=$(cd "$(dirname "$0")/.." && pwd)   # plugins/
target=wasm32-unknown-unknown
name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
[ -n "$name" ] || { echo "build-wasm.sh: no package name in $dir/Cargo.toml" >&2; exit 2; }

if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  tdir=$(mktemp -d)
  cargo build --release --quiet --manifest-path "$dir/Cargo.toml" --target "$target" --target-dir "$tdir"
  cp "$tdir/$target/release/${name//-/_}.wasm" "$out"
  rm -rf "$tdir"
  exit 0
fi

rustc=""
for c in ${DIBSIM_WASM_RUSTC:-} /usr/bin/rustc; do
  if [ -x "$c" ] && [ -d "$("$c" --print sysroot)/lib/rustlib/$target" ]; then rustc=$c; break; fi
done
if [ -z "$rustc" ]; then
  echo "build-wasm.sh: no Rust compiler here targets $target: run 'rustup target add $target', or (Debian) 'apt-get install rustc libstd-rust-dev-wasm32 lld'" >&2
  exit 3
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--edition 2021 --target "$target" -C opt-level=3 -C panic=abort -L "$tmp" --out-dir "$tmp" --cap-lints warn -A unused_unsafe)
"$rustc" "${flags[@]}" --crate-type rlib --crate-name dibsim_plugin_abi "$here/abi/src/lib.rs"
"$rustc" "${flags[@]}" --crate-type rlib --crate-name dibsim_plugin_sdk \
  --extern dibsim_plugin_abi="$tmp/libdibsim_plugin_abi.rlib" "$here/sdk/src/lib.rs"
CARGO_PKG_NAME=$name CARGO_PKG_VERSION=$version "$rustc" "${flags[@]}" --crate-type cdylib \
  --crate-name "${name//-/_}" -C link-arg=-s \
  --extern dibsim_plugin_sdk="$tmp/libdibsim_plugin_sdk.rlib" "$dir/src/lib.rs"
cp "$tmp/${name//-/_}.wasm" "$out"
