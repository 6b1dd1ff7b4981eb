#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what is missing, builds,
# runs the Rust suites (unit, property, model, crash, integration) with nextest, then the
# end-to-end suites that drive the real `rheo` binary with real AWS clients.
#
# Long soak runs and benchmarks are not part of this; see README.md ("Benchmarks").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Builds are reused between runs when the target folder lives outside the clone.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rheo/target}
export CARGO_TERM_COLOR=never

if ! command -v cargo-nextest >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi

echo "== build"
cargo build --workspace --all-targets

echo "== rust tests"
cargo nextest run --workspace --no-fail-fast

if [ -x tests/e2e/run.sh ]; then
  echo "== end-to-end tests"
  RHEO_BIN="$CARGO_TARGET_DIR/debug/rheo" tests/e2e/run.sh
fi
