#!/usr/bin/env bash
# Benchmarks (figures go to BENCHMARKS.md): builds everything, then runs each bench/*.mjs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
"$ROOT/scripts/bootstrap.sh" --browser
"$ROOT/scripts/build.sh"
cd "$ROOT"
echo "# $(date -u +%Y-%m-%d), $(nproc) cores, $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)"
echo "## widget"
node bench/widget.mjs
echo "## sandbox"
node bench/sandbox.mjs
