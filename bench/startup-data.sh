#!/usr/bin/env bash
# Startup time with data: fills a fresh durable Rheo with GIB gibibytes of 1 KB records
# (4 shards, `rheo bench put -n`), kills it with SIGKILL so the next start must recover an
# unsealed active segment, then times starts to the first answered ListStreams
# (`rheo bench startup`, REPEAT starts) on that data folder. Before the first timed start
# the page cache is dropped when the kernel allows it (a cold start, as after a reboot);
# the JSON line says whether it was.
#
# Usage: bench/startup-data.sh [RHEO_BIN]   (default: target/release/rheo)
# Knobs: GIB (10), REPEAT (3), PORT (14695), DATA (a fresh folder under TMPDIR, removed after)
# Output: the summary on stderr; the JSON line goes to bench/results/startup-<GIB>GiB-<stamp>.jsonl.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
GIB=${GIB:-10}
REPEAT=${REPEAT:-3}
PORT=${PORT:-14695}
bin=${1:-${CARGO_TARGET_DIR:-$root/target}/release/rheo}
[[ -x $bin ]] || { echo "no rheo binary at $bin (cargo build --release -p rheo)" >&2; exit 1; }
results=$here/results
mkdir -p "$results"
out=$results/startup-${GIB}GiB-$(date -u +%Y%m%dT%H%M%SZ).jsonl
own_data=""
if [[ -z ${DATA:-} ]]; then
  DATA=$(mktemp -d "${TMPDIR:-/tmp}/rheo-startup-data.XXXXXX")
  own_data=$DATA
fi
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  [[ -n $own_data ]] && rm -rf "$own_data"
  return 0
}
trap cleanup EXIT
url=http://127.0.0.1:$PORT
# The "records" field of the last JSON line a `rheo bench` run printed on stdin.
records_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["records"])'; }
records=$((GIB * 1024 * 1024 * 1024 / 1000))

echo "filling $DATA with $records records of 1000 bytes ($GIB GiB of payload)" >&2
"$bin" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --create-stream-ms 10 >"$DATA.log" 2>&1 &
pid=$!
"$bin" bench ready -e "$url" -q >/dev/null
acked=$("$bin" bench put -e "$url" --stream rheo-bench-startup --keep -s 4 -c 8 -b 500 -r 1000 -n "$records" \
  --warmup 0 --json-only | records_of)
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=""
rm -f "$DATA.log"
sync
on_disk=$(du -sb "$DATA" | cut -f1)

cold=false
if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then cold=true; fi
echo "on disk: $on_disk bytes; page cache dropped: $cold; timing $REPEAT starts" >&2
"$bin" bench startup -e "$url" --repeat "$REPEAT" --label "rheo, $GIB GiB" --out "$out.tmp" -- \
  "$bin" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" >/dev/null

# The restarted server must still hold every acknowledged record: read them all back.
echo "reading the $acked acknowledged records back after the restarts" >&2
"$bin" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" >/dev/null 2>&1 &
pid=$!
"$bin" bench ready -e "$url" -q >/dev/null
read_back=$("$bin" bench get -e "$url" --stream rheo-bench-startup --fill 0 --read-timeout 900 --json-only -q | records_of)
python3 - "$out.tmp" "$out" "$on_disk" "$cold" "$GIB" "$acked" "$read_back" <<'EOF'
import json, sys
src, dst, on_disk, cold, gib, acked, read_back = sys.argv[1:]
line = json.loads(open(src).read().strip().splitlines()[-1])
line.update({"data_bytes_on_disk": int(on_disk), "page_cache_dropped": cold == "true", "filled_gib": int(gib),
             "acknowledged_records": int(acked), "read_back_records": int(read_back),
             "missing_records": max(0, int(acked) - int(read_back))})
open(dst, "a").write(json.dumps(line, sort_keys=True) + "\n")
print(json.dumps(line, sort_keys=True))
EOF
rm -f "$out.tmp"
echo "written: $out" >&2
