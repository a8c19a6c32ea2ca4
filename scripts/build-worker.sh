#!/usr/bin/env bash
# Builds the worker with worker-build into edge-worker/build/ (index.js, the entry module of
# edge-worker/js/entry.mjs; glue.mjs, worker-build's own; the wasm), using our pinned
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
# The entry module: worker-build's output becomes glue.mjs behind edge-worker/js/entry.mjs (the
# session object's class extends DurableObject, for Workers RPC; see that file).
mv "$ROOT/edge-worker/build/index.js" "$ROOT/edge-worker/build/glue.mjs"
cp "$ROOT/edge-worker/js/entry.mjs" "$ROOT/edge-worker/build/index.js"
