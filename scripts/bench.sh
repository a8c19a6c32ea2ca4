#!/usr/bin/env bash
# Benchmarks (figures go to BENCHMARKS.md): builds everything, then runs each bench/*.mjs.
set -euo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/bench.sh
  Builds in release mode, then runs bench/widget.mjs, bench/sandbox.mjs, bench/worker.mjs and
  bench/isolate.mjs (needs root and tracefs: it puts uprobes on workerd), printing the figures of
  BENCHMARKS.md and PASS/FAIL per budget; exits non-zero if one fails.
USAGE
    exit 0
    ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
"$ROOT/scripts/bootstrap.sh" --browser
"$ROOT/scripts/build.sh"
cd "$ROOT"
# The sandbox and the demo shop (the merchant's server) run as optimized builds, as in production.
cargo build --quiet --release -p sandbox -p demo-site
# The Rust floor of bench/worker.mjs: the least a worker written with the `worker` crate costs.
(cd bench/floor-worker && "$WORKER_BUILD_BIN" --release --no-opt >"$EDGEPAY_STATE/floor-worker-build.log" 2>&1) || {
  cat "$EDGEPAY_STATE/floor-worker-build.log" >&2
  exit 1
}
# Its entry module, as edge-worker's (scripts/build-worker.sh): the object's class extends
# DurableObject, for its RPC method.
mv bench/floor-worker/build/index.js bench/floor-worker/build/glue.mjs
cp bench/floor-worker/js/entry.mjs bench/floor-worker/build/index.js
export EDGEPAY_NATIVE_PROFILE=release
echo "# $(date -u +%Y-%m-%d), $(nproc) cores, $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)"
echo "## widget"
# Checks the widget's budgets (PASS/FAIL lines); a failed budget fails this script, after the rest ran.
widget=0
node bench/widget.mjs || widget=$?
echo "## sandbox"
node bench/sandbox.mjs
echo "## worker" && node bench/worker.mjs || widget=$?
# The CPU budgets of a pay and a callback, on the isolate's own CPU time (what Cloudflare bills).
echo "## worker isolate" && node bench/isolate.mjs || widget=$?
exit "$widget"
