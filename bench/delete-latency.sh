#!/usr/bin/env bash
# Put latency while the log deletes a gigabyte of expired data: starts a fresh durable
# Rheo, fills a 4-shard stream with 1,000,000 records of 1 KB (`rheo bench get`, which
# deletes its stream afterwards), then runs `rheo bench e2e` at 1,000 records/s for
# E2E_SECS seconds, during which the next retention pass deletes the filled segments.
#
# Usage: bench/delete-latency.sh [RHEO_BIN ...]   (default: target/release/rheo; several
#        binaries are run in turn, ROUNDS times, for an A/B comparison)
# Runs alternate between the binaries and are separated by a sync and SETTLE (3) seconds.
# Output: one line per run; the JSON lines go to bench/results/delete-latency-<stamp>.jsonl.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
ROUNDS=${ROUNDS:-3}
E2E_SECS=${E2E_SECS:-12}
PORT=${PORT:-14690}
bins=("$@")
[[ ${#bins[@]} -gt 0 ]] || bins=("${CARGO_TARGET_DIR:-$root/target}/release/rheo")
bench_bin=${BENCH_BIN:-${bins[0]}}
results=$here/results
mkdir -p "$results"
out=$results/delete-latency-$(date -u +%Y%m%dT%H%M%SZ).jsonl
pid=""
data=""
cleanup() {
  if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  [[ -n $data ]] && rm -rf "$data"
  return 0
}
trap cleanup EXIT
url=http://127.0.0.1:$PORT
for round in $(seq "$ROUNDS"); do
  for bin in "${bins[@]}"; do
    data=$(mktemp -d "${TMPDIR:-/tmp}/rheo-delete-latency.XXXXXX")
    "$bin" serve --listen "127.0.0.1:$PORT" --data-dir "$data" --create-stream-ms 10 --delete-stream-ms 10 \
      >"$data.log" 2>&1 &
    pid=$!
    "$bench_bin" bench ready -e "$url" -q >/dev/null
    "$bench_bin" bench get -e "$url" -s 4 --fill 1000000 -c 8 -b 100 -r 1000 -l 10000 --json-only >/dev/null 2>&1
    sync
    line=$("$bench_bin" bench e2e -e "$url" --label "$bin" -s 4 --rate 1000 -b 10 -r 100 -d "$E2E_SECS" \
      --poll-ms 10 --json-only 2>/dev/null | tail -1)
    echo "$line" >>"$out"
    deleted=$(grep -c 'Expired segment deleted' "$data.log" || true)
    python3 - "$line" "$bin" "$round" "$deleted" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
e, p = d["e2e_latency_ms"], d["latency_ms"]
print(f"round {sys.argv[3]} {sys.argv[2]}: put→get p99 {e['p99']} ms, max {e['max']} ms; "
      f"put p99 {p['p99']} ms, max {p['max']} ms; segments deleted by the end {sys.argv[4]}")
PY
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    rm -rf "$data" "$data.log"
    data=""
    # Let the removal's writeback and discards finish before the next binary's run.
    sync
    sleep "${SETTLE:-3}"
  done
done
echo "results: $out" >&2
