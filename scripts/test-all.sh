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

# Firehose's Redshift destination is tested against a real PostgreSQL server.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# What reviewers check, checked first: formatting, lints, documentation.
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done
echo "== format"
cargo fmt --all --check

echo "== build"
cargo build --workspace --all-targets

echo "== lints"
cargo clippy --workspace --all-targets -- -D warnings
echo "== docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
# The fuzz targets are a workspace of their own (cargo-fuzz runs them with nightly and
# sanitizers); building them with stable here keeps them compiling against today's APIs.
echo "== fuzz targets build"
cargo build --manifest-path fuzz/Cargo.toml --bins

echo "== rust tests"
cargo nextest run --workspace --no-fail-fast

export RHEO_BIN="$CARGO_TARGET_DIR/debug/rheo"
echo "== end-to-end tests: boto3 and the aws CLI"
tests/e2e/run.sh
echo "== end-to-end tests: the real Kinesis Client Library (KCL 3 MultiLangDaemon with Python and Node processors, kcl-rs)"
tests/e2e/kcl/run.sh
echo "== end-to-end tests: AWS SDK for JavaScript v3 (HTTP/2 and HTTP/1.1), AWS SDK for Java v2 (CBOR and JSON)"
tests/e2e/clients.sh
