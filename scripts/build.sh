#!/usr/bin/env bash
# Builds everything the demo and the tests run: the widget, the worker, the native binaries.
set -euo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/build.sh
  Builds the widget (checkout-wasm/pkg), the worker (edge-worker/build) and the native binaries.
USAGE
    exit 0
    ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
"$ROOT/scripts/build-widget.sh"
"$ROOT/scripts/build-worker.sh"
cargo build --quiet -p sandbox -p demo-site
