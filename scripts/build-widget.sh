#!/usr/bin/env bash
# Builds the widget for shipping: release wasm, wasm-bindgen (--target web), the JS loader and its
# types, into checkout-wasm/pkg/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
out="$ROOT/checkout-wasm/pkg"
cargo build --quiet --release --target wasm32-unknown-unknown -p checkout-wasm
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-dir "$out.tmp" \
  "$ROOT/target/wasm32-unknown-unknown/release/checkout_wasm.wasm"
cp checkout-wasm/js/edgepay.js checkout-wasm/js/edgepay.d.ts "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
