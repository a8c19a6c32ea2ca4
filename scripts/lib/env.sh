# Sourced by every script: paths, pinned tool locations and an offline wrangler. Defines no side effects
# beyond exported variables.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export EDGEPAY_ROOT="$ROOT"
export EDGEPAY_STATE="$ROOT/.state"
# Tools built from crates.io live outside the clone so that fresh clones (CI) reuse them.
export EDGEPAY_TOOLS="${EDGEPAY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/edgepay/tools}"

lock_version() { # the version of crate $1 in Cargo.lock
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}
WASM_BINDGEN_VERSION="$(lock_version wasm-bindgen)"
WORKER_VERSION="$(lock_version worker)"
export WASM_BINDGEN_BIN="$EDGEPAY_TOOLS/wasm-bindgen-cli-$WASM_BINDGEN_VERSION/bin/wasm-bindgen"
export WASM_BINDGEN_TEST_RUNNER="$EDGEPAY_TOOLS/wasm-bindgen-cli-$WASM_BINDGEN_VERSION/bin/wasm-bindgen-test-runner"
export WORKER_BUILD_BIN="$EDGEPAY_TOOLS/worker-build-$WORKER_VERSION/bin/worker-build"
# Fuzzing needs nightly (cargo-fuzz builds with sanitizers); pinned so runs are reproducible.
export EDGEPAY_NIGHTLY="nightly-2026-10-30"
export CARGO_FUZZ_BIN="$EDGEPAY_TOOLS/cargo-fuzz-0.13.2/bin/cargo-fuzz"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
export PATH="$ROOT/node_modules/.bin:$PATH"

# Wrangler's offline settings live in scripts/stack.mjs, the one place that starts it.
