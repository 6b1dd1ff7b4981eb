#!/usr/bin/env bash
# End-to-end tests of the real Kinesis Client Library against the rheo binary, with rheo as the
# only endpoint (Kinesis and the DynamoDB tables KCL keeps its leases in):
#   - the KCL 3.1.3 MultiLangDaemon (Java 17; jars from the PyPI wheel kclpy-ext) with a Python
#     processor: polling across a split and a merge, KPL de-aggregation, a restart from the
#     checkpoints, enhanced fan-out, two workers and a kill -9;
#   - the npm aws-kcl Node processor under the same daemon;
#   - kcl-rs (PyPI);
#   - an application handed over between the daemon and rheo-client's example worker
#     (crates/client/examples/consume.rs, built beside RHEO_BIN by `cargo build --workspace
#     --all-targets`), both ways, through the same lease table.
# The scenarios run side by side (pytest-xdist), each worker process with its own rheo server.
#
#   RHEO_BIN=/path/to/rheo tests/e2e/kcl/run.sh [pytest args]          e.g. -k fan_out, -n 1
#   RHEO_BIN=/path/to/rheo tests/e2e/kcl/run.sh --soak [pytest args]   the slow variants only
#     (killing the KCL leader waits out its fixed two-minute leader lock)
#
# Pip packages come from tests/e2e/requirements.txt (the e2e venv .venv at the repository root),
# the Node processor's from kcl/node/package-lock.json; java is JAVA_HOME's or the one on PATH.
# The journals and logs of each scenario stay in pytest's temporary folder (--basetemp to choose).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"

: "${RHEO_BIN:?set RHEO_BIN to the rheo binary}"
RHEO_BIN=$(realpath "$RHEO_BIN")
export RHEO_BIN

# The daemon needs a Java runtime (17+) and the Node processor npm; a fresh machine without
# them gets Debian's.
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

node_dir="$here/node"
if [ ! -d "$node_dir/node_modules" ] || [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

selection="kcl and not kcl_slow"
if [ "${1:-}" = --soak ]; then
  selection="kcl_slow"
  shift
fi

# Three at a time: each scenario is mostly KCL waiting on its timers, and three JVMs plus their
# servers fit two cores. A scenario that hangs fails after the timeout, and its fixtures still
# stop the daemons and servers it started.
exec .venv/bin/python -m pytest tests/e2e/test_kcl.py tests/e2e/test_kcl_handover.py -m "$selection" -n "${KCL_E2E_PARALLEL:-3}" \
  --timeout "${KCL_E2E_TIMEOUT_S:-900}" "$@"
