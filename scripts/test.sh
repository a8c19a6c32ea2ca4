#!/usr/bin/env bash
# Every test of the project: native cargo tests, the widget's wasm tests in Chromium, the worker in
# workerd (Miniflare), and browser journeys against the whole stack. Installs what is missing first.
# Ends with one line "edgepay: N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/test.sh
  Installs what is missing (scripts/bootstrap.sh --browser --fuzz --examples), builds, then runs
  every test; ends with "edgepay: N passed, M failed" and exits non-zero if anything failed.
  Logs: .state/test-logs/.
USAGE
    exit 0
    ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
start=$(date +%s)

"$ROOT/scripts/bootstrap.sh" --browser --fuzz --examples || { echo "edgepay: bootstrap failed"; exit 1; }
mkdir -p "$EDGEPAY_STATE/test-logs"

passed=0 failed=0 broken=()
# step NAME COMMAND…: runs one suite, shows its output, adds its counts to the totals.
step() {
  local name="$1"; shift
  local log="$EDGEPAY_STATE/test-logs/$name.log"
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local p f
  p=$(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1/p; s/^ℹ pass ([0-9]+)$/\1/p; s/^fuzz: ([0-9]+) passed, ([0-9]+) failed$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\2/p; s/^ℹ fail ([0-9]+)$/\1/p; s/^fuzz: ([0-9]+) passed, ([0-9]+) failed$/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
  if [ "$status" -ne 0 ]; then
    broken+=("$name")
    # A suite that could not even run (a build error) counts as one failure.
    [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
  fi
}

step native cargo test --workspace --exclude checkout-wasm --exclude edge-worker --exclude floor-worker
# The workspace lints ([workspace.lints], clippy.toml), for the native crates and the wasm ones.
step lint sh -c 'cargo clippy --quiet --workspace --exclude checkout-wasm --exclude edge-worker --exclude floor-worker --all-targets -- -D warnings &&
  cargo clippy --quiet -p checkout-wasm -p edge-worker -p floor-worker --target wasm32-unknown-unknown -- -D warnings'
# payment-core compiled to wasm32 (as the worker and the widget use it), its tests under Node.
step core-wasm env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$WASM_BINDGEN_TEST_RUNNER" \
  cargo test -p payment-core --target wasm32-unknown-unknown
step build "$ROOT/scripts/build.sh"
# reported NAME COMMAND…: runs COMMAND (a wasm-bindgen-test-runner suite) up to three times while
# it stops before reporting a single test: chromedriver failing to bind its port or Chromium not
# starting is a known hiccup of the runner on a busy machine, not a result. A run that reports its
# tests, passed or failed, is final.
reported() {
  local name="$1"; shift
  local attempt status log="$EDGEPAY_STATE/test-logs/$name-attempt.log"
  for attempt in 1 2 3; do
    "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    if [ "$status" -eq 0 ] || grep -qE '^test (result: |.* \.\.\. )' "$log"; then return "$status"; fi
    echo "$name: the runner stopped (exit $status) before reporting any test, attempt $attempt of 3"
  done
  return "$status"
}
# Chromium and chromedriver keep their profiles under TMPDIR and leave them there when the runner
# stops them: the suite gets a directory of its own, removed after.
wasm_tmp="$EDGEPAY_STATE/tmp-wasm"
rm -rf "$wasm_tmp" && mkdir -p "$wasm_tmp"
step wasm reported wasm env TMPDIR="$wasm_tmp" CHROMEDRIVER=/usr/bin/chromedriver \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$WASM_BINDGEN_TEST_RUNNER" \
  WASM_BINDGEN_TEST_TIMEOUT=60 \
  cargo test -p checkout-wasm --target wasm32-unknown-unknown --test web
rm -rf "$wasm_tmp"
# Every parser of outside input, fuzzed for a few seconds each (scripts/fuzz.sh runs them longer).
step fuzz "$ROOT/scripts/fuzz.sh" "${EDGEPAY_FUZZ_SECONDS:-5}"
if [[ ! " ${broken[*]} " =~ " build " ]]; then
  step node node --test --test-reporter=spec --test-concurrency=1 tests/js/
fi

echo "=== done in $(( $(date +%s) - start )) s${broken[*]:+; failed suites: ${broken[*]}}"
echo "edgepay: $passed passed, $failed failed"
[ "${#broken[@]}" -eq 0 ] && [ "$failed" -eq 0 ]
