#!/usr/bin/env bash
# Builds everything the demo and the tests run: the widget, the worker, the native binaries.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
"$ROOT/scripts/build-widget.sh"
"$ROOT/scripts/build-worker.sh"
cargo build --quiet -p sandbox -p demo-site
