#!/usr/bin/env bash
# Benchmarks (figures go to BENCHMARKS.md): builds everything, then runs each bench/*.mjs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
"$ROOT/scripts/bootstrap.sh" --browser
"$ROOT/scripts/build.sh"
cd "$ROOT"
echo "## widget ($(date -u +%Y-%m-%d), $(nproc) cores, $(/usr/bin/chromium --version 2>/dev/null))"
node bench/widget.mjs
