#!/usr/bin/env bash
# End-to-end tests: builds the release binary and runs pytest against it with boto3 and
# the aws CLI. Creates the virtualenv .venv at the repository root on first use.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

# test_producer.py de-aggregates with the npm aws-kinesis-agg of the JS suite: install its
# locked dependencies here, before the tests, never from inside one.
js="tests/e2e/js"
if [ ! -d "$js/node_modules" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$js" --no-audit --no-fund --loglevel=error
fi

# A caller that already built a binary (CI's debug build) passes it in RHEO_BIN.
if [ -z "${RHEO_BIN:-}" ]; then
    cargo build --release -p rheo
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    export RHEO_BIN="$target_dir/release/rheo"
fi

# The KCL scenarios (marker kcl) run in parallel from kcl/run.sh.
exec .venv/bin/python -m pytest tests/e2e -m "not kcl" "$@"
