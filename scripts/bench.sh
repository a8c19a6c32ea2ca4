#!/usr/bin/env bash
# Benchmarks (figures go to BENCHMARKS.md): builds everything, then runs each bench/*.mjs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
"$ROOT/scripts/bootstrap.sh" --browser
"$ROOT/scripts/build.sh"
cd "$ROOT"
echo "# $(date -u +%Y-%m-%d), $(nproc) cores, $(/usr/bin/chromium --version 2>/dev/null), node $(node --version)"
echo "## widget"
# Checks the widget's budgets (PASS/FAIL lines); a failed budget fails this script, after the rest ran.
widget=0
node bench/widget.mjs || widget=$?
echo "## sandbox"
node bench/sandbox.mjs
echo "## worker" && node bench/worker.mjs || widget=$?
exit "$widget"
