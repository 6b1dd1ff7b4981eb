#!/usr/bin/env bash
# What the archive tier (issue 18) costs and gives: one release build of Rheo run side by side as
#   off   rheo serve without --archive (the reference)
#   file  rheo serve --archive file:///FOLDER (a local folder)
#   s3    rheo serve --archive s3://BUCKET --s3-endpoint (an S3 server started here: moto_server,
#         or s3s-fs when S3S_FS names it)
# all with small segments (--segment-bytes) and, for file and s3, a local budget
# (--local-retention-bytes) well under what the puts write, so most of it is evicted.
#
# Measured:
#   put       PutRecords throughput (rheo bench put), rounds interleaved (off, file, s3; ROUNDS
#             times); each variant's figure is the median of its per-round ratios to that
#             round's off run. Target: within 10% of off.
#   upload    MB/s the archiver uploaded (rheo_archive_uploaded_bytes_total) from the start of a
#             put run until its backlog drained.
#   first     after a restart (cold cache), the latency of the first GetRecords at TRIM_HORIZON of
#             shard 0 (for file and s3 an archived, evicted segment; for off the local log).
#   read      read-back of every shard from TRIM_HORIZON (rheo bench get --no-fill) after that
#             restart: records/s through the archive versus from the local log.
#
# Usage: bench/archive.sh     (about ROUNDS × variants × (WARMUP + DURATION + drain) s after the build)
#
# Environment (all optional):
#   RHEO_BIN           rheo binary (default: cargo build --release -p rheo, then $CARGO_TARGET_DIR/release/rheo)
#   CARGO_TARGET_DIR   where that build goes (default: <repo>/target)
#   PYTHON             a Python with boto3 (default: <repo>/.venv/bin/python, else python3)
#   MOTO_SERVER        moto_server for the s3 variant (default: <repo>/.venv/bin/moto_server)
#   S3S_FS             an s3s-fs binary: the s3 variant's store instead of moto (Rust, several
#                      times cheaper per request, so less of the store's CPU is charged to the
#                      put on a small machine; `cargo install s3s-fs --version 0.14.1 --locked
#                      --features binary --root DIR` puts it in DIR/bin). Its objects go under
#                      ARCHIVE_PARENT (or the work folder).
#   VARIANTS="off file s3"   which of them (off first: the others are ratios of it)
#   ROUNDS=3 DURATION=5 WARMUP=1   rounds, measured and warm-up seconds per put run
#   SHARDS=4 CONNECTIONS=8 BATCH=500 RECORD_BYTES=1000   the put load (rheo bench put -s -c -b -r)
#   SEGMENT_BYTES=33554432 LOCAL_RETENTION_BYTES=67108864  segment size and local budget (the
#                      server's default segment is 128 MiB; 32 MiB still makes dozens of segments
#                      per run, while 4 MiB ones measure mostly the per-segment syncs)
#   LOCAL_HARD_LIMIT_BYTES=4294967296  the hard limit: high, so that puts outrunning the uploads
#                      are measured, not refused (set it to 4 × the budget to see the refusals)
#   SETTLE=1           sync, then this many idle seconds before each put run (0: neither)
#   PORT_BASE=14710    ports PORT_BASE..PORT_BASE+3 on 127.0.0.1 (the last one for the S3 server)
#   SERVE_FLAGS=""     more `rheo serve` flags for all variants
#   ARCHIVE_PARENT=DIR where the folder archive's (temporary) folder goes (default: the work
#                      folder, on the same disk as the logs; a tmpfs such as /dev/shm stands in for
#                      a store on its own device, so that the store's disk writes are not charged
#                      to the put)
#   FRESH=1            each put run starts on an empty server: the variant's data folder is wiped
#                      and its archive gets a new prefix per round, so no variant carries the
#                      previous rounds' data (0: one server per variant for all rounds)
#   STORE_NICE=0       nice value for the S3 server (10: it gets CPU mostly when Rheo leaves some,
#                      standing in for a store on other machines; 0: it competes as an equal)
#
# Output: a table on stdout; bench/results/archive-<timestamp>.jsonl (one rheo-bench JSON line
# per run, plus the upload and first-read figures) and .md (the tables).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SHARDS=${SHARDS:-4}
CONNECTIONS=${CONNECTIONS:-8}
BATCH=${BATCH:-500}
RECORD_BYTES=${RECORD_BYTES:-1000}
SEGMENT_BYTES=${SEGMENT_BYTES:-33554432}
LOCAL_RETENTION_BYTES=${LOCAL_RETENTION_BYTES:-67108864}
LOCAL_HARD_LIMIT_BYTES=${LOCAL_HARD_LIMIT_BYTES:-4294967296}
SETTLE=${SETTLE:-1}
PORT_BASE=${PORT_BASE:-14710}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-300}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

results=$here/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$results/archive-$stamp.jsonl
report=$results/archive-$stamp.md
work=$(mktemp -d "${TMPDIR:-/tmp}/rheo-archive.XXXXXX")
STORE_NICE=${STORE_NICE:-0}
FRESH=${FRESH:-1}
round=1
mkdir -p "$results"
archive_dir=$(mktemp -d "${ARCHIVE_PARENT:-$work}/rheo-bench-archive.XXXXXX")

log() { printf '\n== %s\n' "$*" >&2; }

if [[ -z "${RHEO_BIN:-}" ]]; then
  log "building rheo (release)"
  (cd "$root" && cargo build --release -p rheo)
  RHEO_BIN=$CARGO_TARGET_DIR/release/rheo
fi
[[ -x $RHEO_BIN ]] || { echo "RHEO_BIN=$RHEO_BIN is not executable" >&2; exit 1; }
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x $root/.venv/bin/python ]]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi
MOTO_SERVER=${MOTO_SERVER:-$root/.venv/bin/moto_server}

read -r -a variants <<<"${VARIANTS:-off file s3}"
[[ ${variants[0]} == off ]] || { echo "VARIANTS must start with off" >&2; exit 2; }
declare -A port pid
stream=rheo-bench-archive
store_port=$((PORT_BASE + 3))
store_pid=
store_root=
bucket=rheo-bench-archive

# Dummy credentials: rheo checks that requests are signed; moto accepts any key, s3s-fs is
# given these.
export AWS_ACCESS_KEY_ID=AKIDRHEOBENCH AWS_SECRET_ACCESS_KEY=rheo-bench-secret AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

stop_server() {
  local v=$1
  if [[ -n "${pid[$v]:-}" ]]; then kill -TERM "${pid[$v]}" 2>/dev/null || true; wait "${pid[$v]}" 2>/dev/null || true; fi
  pid[$v]=
}

cleanup() {
  local v
  for v in "${variants[@]}"; do stop_server "$v"; done
  if [[ -n $store_pid ]]; then kill -TERM "$store_pid" 2>/dev/null || true; wait "$store_pid" 2>/dev/null || true; fi
  rm -rf "$work" "$archive_dir" ${store_root:+"$store_root"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM

flags_of() {
  local v=$1
  echo --segment-bytes "$SEGMENT_BYTES" ${SERVE_FLAGS:-}
  local budget=(--local-retention-bytes "$LOCAL_RETENTION_BYTES" --local-hard-limit-bytes "$LOCAL_HARD_LIMIT_BYTES")
  case $v in
    file) echo --archive "file://$archive_dir/r$round" "${budget[@]}" ;;
    s3) echo --archive "s3://$bucket/r$round" --s3-endpoint "http://127.0.0.1:$store_port" "${budget[@]}" ;;
  esac
}

start_server() {
  local v=$1
  mkdir -p "$archive_dir/r$round"
  # shellcheck disable=SC2046 # flags are words
  "$RHEO_BIN" serve --listen "127.0.0.1:${port[$v]}" --data-dir "$work/data-$v" \
    --create-stream-ms 10 --delete-stream-ms 10 --update-stream-ms 10 $(flags_of "$v") >>"$work/$v.log" 2>&1 &
  pid[$v]=$!
  "$RHEO_BIN" bench ready -e "http://127.0.0.1:${port[$v]}" --timeout 60 -q >/dev/null \
    || { echo "$v did not start; its log:" >&2; tail -n 40 "$work/$v.log" >&2; exit 1; }
}

# Small probes in Python: archive metrics, waiting for the backlog, the first read's latency.
probe() {
  "$PYTHON" - "$@" <<'PY'
import json, re, sys, time, urllib.request

def metrics(endpoint):
    text = urllib.request.urlopen(endpoint + "/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'^rheo_archive_([a-z_]+)\{([^}]*)\} (\S+)$', line)
        if m and 'log="streams"' in m.group(2) and "le=" not in m.group(2):
            out[m.group(1)] = float(m.group(3))
    return out

command, endpoint = sys.argv[1], sys.argv[2]
if command == "uploaded":
    print(json.dumps({"t": time.time(), "bytes": metrics(endpoint).get("uploaded_bytes_total", 0)}))
elif command == "drain":
    deadline = time.time() + float(sys.argv[3])
    while True:
        m = metrics(endpoint)
        if m.get("backlog_segments", 0) == 0:
            break
        if time.time() > deadline:
            sys.exit(f"the backlog did not drain: {m}")
        time.sleep(0.05)
    print(json.dumps({"t": time.time(), "bytes": m.get("uploaded_bytes_total", 0), "metrics": m}))
elif command == "first":
    import boto3
    from botocore.config import Config
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                          config=Config(retries={"max_attempts": 0}, read_timeout=120))
    stream = sys.argv[3]
    shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    started = time.perf_counter()
    records = client.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    took_ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"first_read_ms": round(took_ms, 2), "records": len(records),
                      "archive": metrics(endpoint)}))
PY
}

if [[ " ${variants[*]} " == *" s3 "* ]]; then
  if [[ -n ${S3S_FS:-} ]]; then
    [[ -x $S3S_FS ]] || { echo "S3S_FS=$S3S_FS is not executable" >&2; exit 1; }
    store_root=$(mktemp -d "${ARCHIVE_PARENT:-$work}/rheo-bench-s3s.XXXXXX")
    log "starting s3s-fs on 127.0.0.1:$store_port (objects in $store_root)"
    nice -n "$STORE_NICE" "$S3S_FS" --host 127.0.0.1 --port "$store_port" \
      --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$store_root" >"$work/store.log" 2>&1 &
  else
    [[ -x $MOTO_SERVER ]] || { echo "moto_server not found at $MOTO_SERVER (VARIANTS without s3?)" >&2; exit 1; }
    log "starting moto_server on 127.0.0.1:$store_port"
    nice -n "$STORE_NICE" "$MOTO_SERVER" -H 127.0.0.1 -p "$store_port" >"$work/store.log" 2>&1 &
  fi
  store_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$store_port") 2>/dev/null && break; sleep 0.1; done
  "$PYTHON" -c "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:$store_port', region_name='us-east-1').create_bucket(Bucket='$bucket')"
fi

i=0
for v in "${variants[@]}"; do
  port[$v]=$((PORT_BASE + i))
  i=$((i + 1))
  if (exec 3<>"/dev/tcp/127.0.0.1/${port[$v]}") 2>/dev/null; then
    echo "port ${port[$v]} is in use; set PORT_BASE" >&2
    exit 1
  fi
  log "starting $v on 127.0.0.1:${port[$v]} $(flags_of "$v" | tr '\n' ' ')"
  start_server "$v"
done

for round in $(seq 1 "$ROUNDS"); do
  for v in "${variants[@]}"; do
    log "round $round of $ROUNDS: $v, put C=$CONNECTIONS B=$BATCH R=$RECORD_BYTES S=$SHARDS for ${DURATION}s"
    if [[ $FRESH != 0 && $round -gt 1 ]]; then
      stop_server "$v"
      rm -rf "$work/data-$v"
      if [[ $v == file ]]; then rm -rf "$archive_dir/r$((round - 1))"; fi
      if [[ $v == s3 && -n $store_root ]]; then rm -rf "$store_root/$bucket/r$((round - 1))"; fi
      start_server "$v"
    fi
    if [[ $SETTLE != 0 ]]; then sync; sleep "$SETTLE"; fi
    endpoint="http://127.0.0.1:${port[$v]}"
    before=$(probe uploaded "$endpoint")
    "$RHEO_BIN" bench put -e "$endpoint" --label "$v" --pid "${pid[$v]}" \
      --stream "$stream" --keep -s "$SHARDS" -c "$CONNECTIONS" -b "$BATCH" -r "$RECORD_BYTES" \
      -d "$DURATION" --warmup "$WARMUP" --out "$jsonl" -q --json-only >/dev/null
    if [[ $v != off ]]; then
      after=$(probe drain "$endpoint" "$DRAIN_TIMEOUT")
      printf '{"mode":"upload","label":"%s","round":%s,"before":%s,"after":%s}\n' "$v" "$round" "$before" "$after" >>"$jsonl"
    fi
  done
done

# Cold cache: restart each server, time its first read, then read everything back.
for v in "${variants[@]}"; do
  log "$v: restart (cold cache), first read, read-back"
  stop_server "$v"
  start_server "$v"
  endpoint="http://127.0.0.1:${port[$v]}"
  first=$(probe first "$endpoint" "$stream")
  printf '{"mode":"first","label":"%s","result":%s}\n' "$v" "$first" >>"$jsonl"
  "$RHEO_BIN" bench get -e "$endpoint" --label "$v" --pid "${pid[$v]}" --stream "$stream" --keep \
    --no-fill -s "$SHARDS" --out "$jsonl" -q --json-only >/dev/null
done

"$PYTHON" - "$jsonl" "$report" "$(flags_of file | tr '\n' ' ')" <<'PY'
import json, statistics, sys
runs, uploads, firsts, gets = {}, {}, {}, {}
for line in open(sys.argv[1]):
    run = json.loads(line)
    if run["mode"] == "put":
        runs.setdefault(run["label"], []).append(run)
    elif run["mode"] == "upload":
        b, a = run["before"], run["after"]
        uploads.setdefault(run["label"], []).append((a["bytes"] - b["bytes"]) / 1e6 / max(a["t"] - b["t"], 1e-9))
    elif run["mode"] == "first":
        firsts[run["label"]] = run["result"]
    elif run["mode"] == "get":
        gets[run["label"]] = run
off = runs["off"]
median = statistics.median

def cell(values, digits=3):
    return f"{median(values):.{digits}f} ({', '.join(f'{v:.{digits}f}' for v in values)})" if values else "–"

lines = [
    "### Put throughput (rheo bench put)", "",
    "| variant | records/s | MB/s | vs off: records/s | errors | upload MB/s (put start → backlog drained) |",
    "|---|---:|---:|---:|---:|---:|",
]
for label, mine in runs.items():
    ratios = [m["records_per_s"] / o["records_per_s"] for m, o in zip(mine, off) if o["records_per_s"]]
    lines.append(
        f"| {label} | {median(m['records_per_s'] for m in mine):,.0f} | {median(m['mb_per_s'] for m in mine):.1f} "
        f"| {cell(ratios)} | {sum(m['errors']['total'] for m in mine)} | {cell(uploads.get(label, []), 1)} |"
    )
lines += ["", "### After a restart (cold cache)", "",
          "| variant | first GetRecords at TRIM_HORIZON (ms) | read-back records/s | vs off | MB/s | records read | fetched by the first read (MB) | remote-only segments |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
off_rate = gets.get("off", {}).get("records_per_s") or 0
for label, get in gets.items():
    first = firsts.get(label, {})
    archive = first.get("archive", {})
    ratio = f"{get['records_per_s'] / off_rate:.3f}" if off_rate else "–"
    lines.append(
        f"| {label} | {first.get('first_read_ms', '–')} | {get['records_per_s']:,.0f} | {ratio} | {get['mb_per_s']:.1f} "
        f"| {get['records']:,} | {archive.get('fetched_bytes_total', 0) / 1e6:.1f} | {archive.get('remote_only_segments', 0):.0f} |"
    )
lines += ["", f"Medians of {len(off)} rounds (each round's ratio in parentheses); put {json.dumps(off[0]['params'], sort_keys=True)}.",
          f"Archive flags: {sys.argv[3]}. Target (issue 18): put with archiving within 10% of off (ratio ≥ 0.90)."]
text = "\n".join(lines)
print(text)
open(sys.argv[2], "w").write(text + "\n")
PY
echo "(runs: $jsonl; tables: $report)"
