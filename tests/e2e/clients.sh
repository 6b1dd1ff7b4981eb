#!/usr/bin/env bash
# Runs the end-to-end suites that drive the real rheo binary with real AWS SDKs:
#   js/run.sh    AWS SDK for JavaScript v3: default handler (HTTP/2 h2c) and NodeHttpHandler (HTTP/1.1)
#   java/run.sh  AWS SDK for Java v2: CBOR and JSON, sync Apache (HTTP/1.1) and async Netty (h2c)
# The Rust SDK suite is an integration test of the rheo crate (crates/rheo/tests/sdk_rust.rs) and
# runs under cargo test.
#
#   RHEO_BIN=/path/to/rheo tests/e2e/clients.sh            # both suites
#   RHEO_BIN=/path/to/rheo tests/e2e/clients.sh js         # one of them
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${RHEO_BIN:?set RHEO_BIN to the rheo binary}"
export RHEO_BIN

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(js java)

failed=()
for suite in "${suites[@]}"; do
  echo "==== $suite"
  start=$(date +%s)
  if "$here/$suite/run.sh"; then
    echo "==== $suite passed ($(( $(date +%s) - start )) s)"
  else
    echo "==== $suite FAILED ($(( $(date +%s) - start )) s)"
    failed+=("$suite")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed suites: ${failed[*]}"
  exit 1
fi
echo "all client suites passed"
