#!/usr/bin/env bash
# Builds the widget for shipping into checkout-wasm/pkg/: the release wasm (wasm-bindgen --target
# web, names and producers sections dropped, the wasm-bindgen import and export names shortened),
# and one ES module, edgepay.js = the JS loader and the wasm-bindgen glue bundled and minified by
# esbuild, with its types (edgepay.d.ts).
set -euo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/build-widget.sh
  Builds the shipped widget into checkout-wasm/pkg/ (wasm + one minified ES module + .d.ts).
USAGE
    exit 0
    ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
out="$ROOT/checkout-wasm/pkg"
cargo build --quiet --release --target wasm32-unknown-unknown -p checkout-wasm
rm -rf "$out.tmp" && mkdir -p "$out.tmp/glue"
"$WASM_BINDGEN_BIN" --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$out.tmp/glue" "$ROOT/target/wasm32-unknown-unknown/release/checkout_wasm.wasm"
# Short names for the imports and exports that tie the wasm to the glue (about 5 KB gzip less).
node checkout-wasm/tools/short-names.mjs "$out.tmp/glue" >/dev/null
cp checkout-wasm/js/edgepay.js "$out.tmp/glue/"
# es2020: what WeChat's and Alipay's in-app browsers of the last years run.
"$ESBUILD_BIN" "$out.tmp/glue/edgepay.js" --bundle --format=esm --minify --target=es2020 \
  --log-level=warning --outfile="$out.tmp/edgepay.js"
mv "$out.tmp/glue/checkout_wasm_bg.wasm" "$out.tmp/"
cp checkout-wasm/js/edgepay.d.ts "$out.tmp/"
rm -rf "$out.tmp/glue" "$out" && mv "$out.tmp" "$out"
