#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs the sandbox, the worker (wrangler dev) and the
# demo shop on 127.0.0.1. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
"$ROOT/scripts/bootstrap.sh"
echo "building the widget, the worker and the demo (the first build takes several minutes)…"
"$ROOT/scripts/build.sh"
exec node "$ROOT/scripts/stack.mjs"
