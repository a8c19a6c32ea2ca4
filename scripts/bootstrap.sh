#!/usr/bin/env bash
# Installs whatever edgepay's build and tests need and is missing. Idempotent, quiet when all is there.
#   scripts/bootstrap.sh            tools for building and running the demo
#   scripts/bootstrap.sh --browser  also Debian chromium + chromium-driver, for the browser tests
#   scripts/bootstrap.sh --fuzz     also the pinned nightly toolchain and cargo-fuzz
#   scripts/bootstrap.sh --examples also a Python venv with PyPI standardwebhooks, for examples/python
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

want_browser=false want_fuzz=false want_examples=false
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    --browser) want_browser=true ;;
    --fuzz) want_fuzz=true ;;
    --examples) want_examples=true ;;
    *) say "unknown argument: $arg"; exit 2 ;;
  esac
done

for tool in cargo rustup node npm; do
  command -v "$tool" >/dev/null || { say "$tool is required but not on PATH"; exit 1; }
done
[ -n "$WASM_BINDGEN_VERSION" ] && [ -n "$WORKER_VERSION" ] || { say "Cargo.lock lacks wasm-bindgen or worker"; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi

# crates.io tools, pinned to the library versions in Cargo.lock. No --locked: with it the
# wasm-bindgen-cli install fails here on a yanked webpki-roots version.
install_crate() { # crate version binary-path
  [ -x "$3" ] && return 0
  say "installing $1 $2 into $EDGEPAY_TOOLS (one-off, takes a few minutes)"
  cargo install --quiet "$1" --version "=$2" --root "$EDGEPAY_TOOLS/$1-$2" >&2
}
install_crate wasm-bindgen-cli "$WASM_BINDGEN_VERSION" "$WASM_BINDGEN_BIN"
install_crate worker-build "$WORKER_VERSION" "$WORKER_BUILD_BIN"

if $want_fuzz; then
  if ! rustup toolchain list | grep -q "^$EDGEPAY_NIGHTLY"; then
    say "installing the $EDGEPAY_NIGHTLY toolchain (for cargo-fuzz)"
    rustup toolchain install "$EDGEPAY_NIGHTLY" --profile minimal >&2
  fi
  install_crate cargo-fuzz 0.13.2 "$CARGO_FUZZ_BIN"
fi

# npm packages exactly as package-lock.json says; reinstalled when the lock changes.
lock_sum="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$ROOT/node_modules/.edgepay-lock" 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm packages from package-lock.json"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_sum" > "$ROOT/node_modules/.edgepay-lock"
fi

# Chromium for the browser tests, and a CJK font so that screenshots of the Chinese UI are legible.
if $want_browser && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] ||
                      [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; }; then
  say "installing Debian chromium, chromium-driver and fonts-wqy-microhei"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    chromium chromium-driver fonts-wqy-microhei >&2
fi

# The Python merchant example's library (PyPI standardwebhooks, pinned in its requirements.txt),
# in a venv outside the clone; reinstalled when the requirements change.
if $want_examples; then
  venv="${EDGEPAY_PYTHON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/edgepay/python-examples}"
  requirements="$ROOT/examples/python/requirements.txt"
  if ! command -v python3 >/dev/null; then
    say "python3 is not on PATH: examples/python cannot be run or tested (its test will fail saying so)"
  elif [ "$(cat "$venv/.edgepay-requirements" 2>/dev/null)" != "$(sha256sum < "$requirements")" ]; then
    say "installing PyPI standardwebhooks into $venv"
    if python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2; then
      sha256sum < "$requirements" > "$venv/.edgepay-requirements"
    else
      # Not fatal for the other tests: the Python example's test fails, saying what is missing.
      say "could not make the venv (is python3-venv installed?): examples/python cannot be tested"
      rm -rf "$venv"
    fi
  fi
fi

mkdir -p "$EDGEPAY_STATE"
