#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs the sandbox, the worker (wrangler dev) and the
# demo shop on 127.0.0.1. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
usage: scripts/demo.sh

Installs what is missing (scripts/bootstrap.sh), builds (scripts/build.sh), then starts on 127.0.0.1
the provider sandbox (port 8790), the worker under wrangler dev (8787) and the demo shop with its
merchant backend (8788); a taken port is replaced by a free one and said so. Prints the shop URL
and how to try each environment. State (sessions, keys, secrets) persists under .state/; logs go to
.state/logs/demo/. Ctrl-C stops everything. Only one demo runs per clone at a time.
USAGE
    exit 0 ;;
  "") ;;
  *) echo "demo: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
"$ROOT/scripts/bootstrap.sh"
echo "building the widget, the worker and the demo (the first build takes several minutes)…"
"$ROOT/scripts/build.sh"
exec node "$ROOT/scripts/stack.mjs"
