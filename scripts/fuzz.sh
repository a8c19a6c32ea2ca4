#!/usr/bin/env bash
# Runs every fuzz target of payment-core for SECONDS each (default 60):
#   scripts/fuzz.sh [SECONDS]
# The test command runs it for a few seconds per target as a smoke run. Crashes are saved under
# payment-core/fuzz/artifacts/<target>/. Ends with "fuzz: N passed, M failed".
set -uo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/fuzz.sh [SECONDS]
  Runs every cargo-fuzz target of payment-core for SECONDS each (default 60); crashes are saved
  under payment-core/fuzz/artifacts/<target>/.
USAGE
    exit 0
    ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
seconds="${1:-60}"
"$ROOT/scripts/bootstrap.sh" --fuzz || exit 1
cd "$ROOT/payment-core"
passed=0 failed=0
for target in $("$CARGO_FUZZ_BIN" list); do
  echo "--- fuzz $target for ${seconds}s"
  RUSTUP_TOOLCHAIN="$EDGEPAY_NIGHTLY" "$CARGO_FUZZ_BIN" run "$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tail -n 12
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
