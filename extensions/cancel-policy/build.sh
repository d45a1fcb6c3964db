#!/bin/sh
# Builds the Function's Wasm module as Shopify deploys it and as the tests run it: cargo's
# `function` profile (the root Cargo.toml), then binaryen's `wasm-opt` (its passes below), which
# takes another 10% off the module (Shopify caps it at 256 kB;
# https://shopify.dev/docs/api/functions/latest#limitations).
# Writes <target>/wasm32-unknown-unknown/function/cancel-policy-function-opt.wasm, where <target>
# is $CARGO_TARGET_DIR or the workspace's target directory. Extra arguments go to cargo.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v wasm-opt >/dev/null 2>&1; then
  echo "wasm-opt not found: the Function's build needs binaryen (Debian: apt-get install binaryen)" >&2
  exit 127
fi
"${CARGO:-cargo}" build -p cancel-policy-function --target=wasm32-unknown-unknown --profile function "$@"
out="${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/function"
# `--low-memory-unused`: Rust never touches the first kilobyte (its data starts at 1 MiB and its
# stack would have to be 1 MiB deep to get there), so wasm-opt may fold pointer additions into
# load and store offsets: 0.8 kB off the module, and fewer instructions.
# `--merge-similar-functions` makes one function of near-copies (monomorphs, mostly);
# `--flatten --rereloop` then rebuilds each function's control flow before two `-Oz` rounds:
# together another 1.2 kB off, and again fewer instructions on every benchmark row.
# The `--enable` flags: the features rustc's wasm32 target enables, which wasm-opt must be told
# the module uses.
wasm-opt --low-memory-unused --merge-similar-functions --flatten --rereloop -Oz -Oz \
  --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-mutable-globals \
  "$out/cancel-policy-function.wasm" -o "$out/cancel-policy-function-opt.wasm"
