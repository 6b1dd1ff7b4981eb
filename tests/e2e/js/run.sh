#!/usr/bin/env bash
# End-to-end tests of the rheo binary with the AWS SDK for JavaScript v3 (Node >= 20).
# Runs the suite twice: with the client's default handler (HTTP/2 h2c) and with NodeHttpHandler (HTTP/1.1).
# Each test file starts its own server on a free port with a temporary data directory.
#
#   RHEO_BIN=/path/to/rheo tests/e2e/js/run.sh [extra node --test args]
#
# RHEO_E2E_KEEP=1 keeps the servers' data directories and logs.
set -euo pipefail
cd "$(dirname "$0")"

: "${RHEO_BIN:?set RHEO_BIN to the rheo binary}"
RHEO_BIN=$(realpath "$RHEO_BIN")
export RHEO_BIN

# Any credentials work; never read the user's profile or probe instance metadata.
export AWS_ACCESS_KEY_ID=AKIDLOCAL AWS_SECRET_ACCESS_KEY=local-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_SDK_LOAD_CONFIG=0
# The SDK version is pinned on purpose (package.json); its "Node >= 22 from 2027" notice is expected on Node 20.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS || true

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# With arguments, only those test files run; without, all of them.
[ $# -gt 0 ] || set -- h2.test.mjs h1.test.mjs efo.test.mjs auth.test.mjs
exec node --test --test-concurrency=1 --test-reporter=spec "$@"
