#!/usr/bin/env bash
# Builds the worker with worker-build into edge-worker/build/ (index.js + wasm), using our pinned
# wasm-bindgen and npm's esbuild so that nothing is downloaded.
set -euo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/build-worker.sh
  Builds the worker with worker-build into edge-worker/build/ (what wrangler deploys).
USAGE
    exit 0
    ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT/edge-worker"
"$WORKER_BUILD_BIN" --release --no-opt >"$EDGEPAY_STATE/worker-build.log" 2>&1 || {
  cat "$EDGEPAY_STATE/worker-build.log" >&2
  exit 1
}
