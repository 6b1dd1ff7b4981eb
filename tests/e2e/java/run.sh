#!/usr/bin/env bash
# End-to-end tests of the rheo binary with the AWS SDK for Java v2 (jars from the PyPI wheel kclpy-ext).
#
#   RHEO_BIN=/path/to/rheo tests/e2e/java/run.sh
#
# Creates (once) the venv $ROOT/.venv-java with kclpy-ext for its jars, compiles KinesisE2E.java and
# AuthE2E.java, then runs each against a fresh server on a free port with a temporary data dir:
#   1. KinesisE2E, CBOR (the Java SDK's default for Kinesis): sync Apache client over HTTP/1.1 + async Netty over h2c
#   2. KinesisE2E, JSON 1.1 (-Daws.cborEnabled=false): the same program
#   3. AuthE2E (SigV4 verification) against `--auth sigv4 --credentials FILE`, CBOR
# RHEO_E2E_KEEP=1 keeps the servers' data directories and logs. JAVA_E2E_VENV overrides the venv path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

: "${RHEO_BIN:?set RHEO_BIN to the rheo binary}"
RHEO_BIN=$(realpath "$RHEO_BIN")
[ -x "$RHEO_BIN" ] || { echo "RHEO_BIN=$RHEO_BIN is not executable" >&2; exit 2; }

venv=${JAVA_E2E_VENV:-$root/.venv-java}
if ! ls "$venv"/lib/python*/site-packages/amazon_kclpy/jars/kinesis-2.*.jar >/dev/null 2>&1; then
  echo "== installing kclpy-ext (AWS SDK for Java v2 jars) into $venv"
  python3 -m venv "$venv"
  [ -e "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'kclpy-ext==3.1.3.post4'
fi
jars=$(ls -d "$venv"/lib/python*/site-packages/amazon_kclpy/jars | head -n 1)

classes="$here/classes"
if [ ! -f "$classes/KinesisE2E.class" ] || [ "$here/KinesisE2E.java" -nt "$classes/KinesisE2E.class" ] \
  || [ ! -f "$classes/AuthE2E.class" ] || [ "$here/AuthE2E.java" -nt "$classes/AuthE2E.class" ]; then
  echo "== javac"
  rm -rf "$classes" && mkdir -p "$classes"
  javac -Xlint:all -Werror -cp "$jars/*" -d "$classes" "$here/KinesisE2E.java" "$here/AuthE2E.java"
fi

# Any credentials work; never read the user's profile or probe instance metadata.
export AWS_ACCESS_KEY_ID=AKIDLOCAL AWS_SECRET_ACCESS_KEY=local-secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS CBOR_ENABLED JAVA_TOOL_OPTIONS || true

server_pid=
server_root=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
  if [ -n "$server_root" ]; then
    if [ "${RHEO_E2E_KEEP:-0}" = 1 ] || [ "${1:-ok}" != ok ]; then
      echo "   server files kept in $server_root"
    else
      rm -rf "$server_root"
    fi
    server_root=
  fi
}
trap 'stop_server failed' EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server [extra serve flags]
start_server() {
  server_root=$(mktemp -d "${TMPDIR:-/tmp}/rheo-e2e-java-XXXXXX")
  for _ in 1 2 3; do
    port=$(free_port)
    NO_COLOR=1 RUST_BACKTRACE=1 "$RHEO_BIN" serve --listen "127.0.0.1:$port" --data-dir "$server_root/data" \
      --create-stream-ms 50 --delete-stream-ms 50 --update-stream-ms 50 "$@" >>"$server_root/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 300); do
      if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        endpoint="http://127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  done
  echo "rheo serve did not start; log:" >&2
  tail -n 40 "$server_root/server.log" >&2
  return 1
}

status=0
# run LABEL PROGRAM [java options], with the server flags in the array serve_flags and the
# program's arguments after the endpoint in program_args.
serve_flags=()
program_args=()
run() {
  local label=$1 program=$2; shift 2
  echo "== Java SDK v2, $label"
  start_server "${serve_flags[@]}"
  if java -Dlogback.configurationFile="$here/logback.xml" "$@" -cp "$jars/*:$classes" "$program" "$endpoint" "${program_args[@]}"; then
    stop_server ok
  else
    status=1
    echo "   (server log: $server_root/server.log)"
    stop_server failed
  fi
}

run "CBOR (default)" KinesisE2E
run "JSON (-Daws.cborEnabled=false)" KinesisE2E -Daws.cborEnabled=false

# The principals AuthE2E signs as (it reads them from the same file): one with long-term
# credentials, one with temporary credentials whose requests must carry the session token.
credentials=$(mktemp "${TMPDIR:-/tmp}/rheo-e2e-java-credentials-XXXXXX")
cat >"$credentials" <<'EOF'
[alice]
aws_access_key_id = AKIARHEOE2EALICE0001
aws_secret_access_key = alice/e2e/secret+K7wq9ZpXr2vT5nB8mL1cD4fG6hJ0

[session]
aws_access_key_id = ASIARHEOE2ESESSION01
aws_secret_access_key = session/e2e/secret+Q3eR5tY7uI9oP1aS2dF4gH6j
aws_session_token = FwoGZXIvYXdzEJr//////////wEaDrheoE2ETokenForTheSessionPrincipal==
EOF
serve_flags=(--auth sigv4 --credentials "$credentials")
program_args=("$credentials")
run "SigV4 verification (--auth sigv4)" AuthE2E
rm -f "$credentials"
trap - EXIT
exit $status
