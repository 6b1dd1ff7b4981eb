#!/usr/bin/env bash
# Rheo side by side with kinesalite, kinesis-local (kinesis-mock's npm build, what
# LocalStack runs) and moto's server: the same rheo-bench matrix against each, one target
# at a time on loopback, then a markdown table of the figures and the ratios rheo/peer.
#
# Usage: bench/compare.sh            (about 8-11 minutes with the defaults)
#
# Environment (all optional):
#   RHEO_BIN          rheo binary (default: cargo build --release -p rheo, then target/release/rheo)
#   BENCH_BIN         load generator binary (default: `$RHEO_BIN bench`, the same code as rheo-bench)
#   CARGO_TARGET_DIR  where those builds go (default: <repo>/target)
#   TARGETS           which targets, in order (default: "rheo kinesalite kinesis-local moto")
#   DURATION=10 WARMUP=2             put: measured and warm-up seconds
#   GET_FILL=1000000 GET_FILL_SECS=20 get: records to fill, fill time cap (s)
#   E2E_SECS=10 E2E_RATE=1000        e2e and subscribe: seconds and records/s
#   LATENCY_REPEAT=3                 e2e and subscribe runs per target (the report takes the median p99)
#   MANY_SHARDS=10000                shards of rheo's extra put run (0 skips it)
#   RELAXED=1                        also run subscribe against rheo --durability relaxed (0 skips it)
#   STARTUP_REPEAT=5                 starts timed per target
#   SETTLE=1                         sync, then this many idle seconds before each cell (0: neither)
#   PORT_BASE=14600                  ports PORT_BASE..PORT_BASE+9 on 127.0.0.1
#   PROFILE=1                        perf record rheo during its 4-shard put run
#   NO_ISOLATE=1                     do not run in an own autogroup at nice -15
#   KINESALITE_VERSION=3.3.3 KINESIS_LOCAL_VERSION=0.6.2 MOTO_VERSION=5.2.5
#
# Output: bench/results/compare-<timestamp>.md (table) and .jsonl (one JSON line per run).
# Servers listen on 127.0.0.1 only (bench/loopback-only.js pins the Node peers, which
# would otherwise listen on every interface) and all traffic goes to 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

# The kernel shares CPU between autogroups (sessions) evenly, so a benchmark competing with
# other work on this machine only gets a fair share of it in its own session, given a
# higher autogroup priority (see shared perf-baselines: "isolate").
if [[ -z "${NO_ISOLATE:-}" && -z "${RHEO_BENCH_ISOLATED:-}" ]] && command -v setsid >/dev/null; then
  export RHEO_BENCH_ISOLATED=1
  exec setsid --wait "$0" "$@"
fi
if [[ -n "${RHEO_BENCH_ISOLATED:-}" && -w /proc/self/autogroup ]]; then
  echo -15 2>/dev/null >/proc/self/autogroup || true
fi

TARGETS=${TARGETS:-"rheo kinesalite kinesis-local moto"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
GET_FILL=${GET_FILL:-1000000}
GET_FILL_SECS=${GET_FILL_SECS:-20}
E2E_SECS=${E2E_SECS:-10}
E2E_RATE=${E2E_RATE:-1000}
LATENCY_REPEAT=${LATENCY_REPEAT:-3}
MANY_SHARDS=${MANY_SHARDS:-10000}
RELAXED=${RELAXED:-1}
STARTUP_REPEAT=${STARTUP_REPEAT:-5}
SETTLE=${SETTLE:-1}
PORT_BASE=${PORT_BASE:-14600}
KINESALITE_VERSION=${KINESALITE_VERSION:-3.3.3}
KINESIS_LOCAL_VERSION=${KINESIS_LOCAL_VERSION:-0.6.2}
MOTO_VERSION=${MOTO_VERSION:-5.2.5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

peers=$here/peers
results=$here/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$results/compare-$stamp.jsonl
report=$results/compare-$stamp.md
logs=$(mktemp -d "${TMPDIR:-/tmp}/rheo-compare.XXXXXX")
mkdir -p "$results"

log() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# --- what runs -----------------------------------------------------------------------
wanted() { [[ " $TARGETS " == *" $1 "* ]]; }

install_peers() {
  if wanted moto && [[ ! -x $peers/moto-venv/bin/moto_server ]]; then
    log "installing moto[server]==$MOTO_VERSION into bench/peers/moto-venv"
    mkdir -p "$peers"
    python3 -m venv "$peers/moto-venv"
    "$peers/moto-venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  if ! wanted kinesalite && ! wanted kinesis-local; then
    return
  fi
  if [[ -f $peers/node_modules/kinesalite/package.json && -f $peers/node_modules/kinesis-local/package.json ]]; then
    return
  fi
  log "installing kinesalite@$KINESALITE_VERSION and kinesis-local@$KINESIS_LOCAL_VERSION into bench/peers"
  command -v npm >/dev/null || { echo "npm is needed for the peers (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$peers"
  [[ -f $peers/package.json ]] || echo '{"name":"rheo-bench-peers","private":true}' >"$peers/package.json"
  (cd "$peers" && npm install --no-audit --no-fund --loglevel=error \
    "kinesalite@$KINESALITE_VERSION" "kinesis-local@$KINESIS_LOCAL_VERSION")
}

build() {
  if [[ -z "${RHEO_BIN:-}" ]]; then
    log "building rheo (release)"
    (cd "$root" && cargo build --release -p rheo)
    RHEO_BIN=$CARGO_TARGET_DIR/release/rheo
  fi
  [[ -x $RHEO_BIN ]] || { echo "RHEO_BIN=$RHEO_BIN is not executable" >&2; exit 1; }
  if [[ -n "${BENCH_BIN:-}" ]]; then
    [[ -x $BENCH_BIN ]] || { echo "BENCH_BIN=$BENCH_BIN is not executable" >&2; exit 1; }
    BENCH=("$BENCH_BIN")
  else
    BENCH=("$RHEO_BIN" bench)
  fi
}

port_of() {
  case $1 in
    rheo) echo $((PORT_BASE + 1)) ;;
    kinesalite) echo $((PORT_BASE + 2)) ;;
    kinesis-local) echo $((PORT_BASE + 3)) ;;  # and +4 for its TLS port
    moto) echo $((PORT_BASE + 5)) ;;
    *) echo "unknown target $1" >&2; exit 1 ;;
  esac
}

# The server command as an array in $cmd; DATA is the data dir ({tmpdir} for startup runs).
server_cmd() {
  local target=$1 port=$2 data=$3
  case $target in
    rheo)
      cmd=("$RHEO_BIN" serve --listen "127.0.0.1:$port" --data-dir "$data"
        --create-stream-ms 10 --delete-stream-ms 10 --update-stream-ms 10 --consumer-ms 10
        --shard-limit $((MANY_SHARDS > 1000 ? MANY_SHARDS * 2 : 2000)))
      ;;
    kinesalite)
      cmd=(node -r "$here/loopback-only.js" "$peers/node_modules/kinesalite/cli.js" --port "$port"
        --createStreamMs 10 --deleteStreamMs 10 --updateStreamMs 10 --shardLimit 20000)
      ;;
    kinesis-local)
      cmd=(env KINESIS_MOCK_CERT_PATH="$peers/node_modules/kinesis-local/server.json"
        KINESIS_MOCK_PLAIN_PORT="$port" KINESIS_MOCK_TLS_PORT=$((port + 1)) LOG_LEVEL=WARN
        CREATE_STREAM_DURATION=10ms DELETE_STREAM_DURATION=10ms REGISTER_STREAM_CONSUMER_DURATION=10ms
        DEREGISTER_STREAM_CONSUMER_DURATION=10ms SHARD_LIMIT=20000
        node -r "$here/loopback-only.js" "$peers/node_modules/kinesis-local/main.js")
      ;;
    moto)
      # In memory; streams are ACTIVE at once, and it has no shard limit to raise.
      cmd=("$peers/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$port")
      ;;
  esac
}

pid=""
data_dir=""
perf_pid=""
cleanup() {
  [[ -n $perf_pid ]] && kill -INT "$perf_pid" 2>/dev/null || true
  if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  [[ -n $data_dir ]] && rm -rf "$data_dir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# One matrix cell: the JSON line goes to $jsonl (stdout would repeat it), the table to stderr.
# Before each cell the page cache is written back (sync) and the machine left alone for
# SETTLE seconds, so that a durable server's fsyncs in one cell do not pay for the previous
# cell's gigabyte of dirty pages.
bench() {
  local mode=$1; shift
  if [[ $mode != startup && $mode != ready && $SETTLE != 0 ]]; then sync; sleep "$SETTLE"; fi
  "${BENCH[@]}" "$mode" --out "$jsonl" "$@" >/dev/null
}

run_target() {
  local target=$1 port url
  port=$(port_of "$target")
  url=http://127.0.0.1:$port
  port_free "$port" || { echo "port $port is in use; set PORT_BASE" >&2; exit 1; }

  log "$target: startup to first ListStreams ($STARTUP_REPEAT starts), idle RSS"
  server_cmd "$target" "$port" "{tmpdir}"
  bench startup -e "$url" --label "$target" --repeat "$STARTUP_REPEAT" --idle-secs 2 -- "${cmd[@]}"

  data_dir=$(mktemp -d "${TMPDIR:-/tmp}/rheo-compare-data.XXXXXX")
  server_cmd "$target" "$port" "$data_dir"
  "${cmd[@]}" >"$logs/$target.log" 2>&1 &
  pid=$!
  bench ready -e "$url" --label "$target" --timeout 60 -q >/dev/null
  local common=(-e "$url" --label "$target" --pid "$pid")

  log "$target: put C=8 B=500 R=1000 S=4"
  if [[ $target == rheo && -n "${PROFILE:-}" ]] && command -v perf >/dev/null; then
    perf record -g -p "$pid" -o "$results/perf-rheo-$stamp.data" -- sleep $((WARMUP + DURATION)) \
      >"$logs/perf.log" 2>&1 &
    perf_pid=$!
  fi
  bench put "${common[@]}" -s 4 -c 8 -b 500 -r 1000 -d "$DURATION" --warmup "$WARMUP"
  if [[ -n $perf_pid ]]; then
    wait "$perf_pid" || true
    perf_pid=""
    {
      echo "# perf record -g -p <rheo> during: put C=8 B=500 R=1000 S=4 (warm-up included)"
      echo "## by thread"
      perf report --stdio -i "$results/perf-rheo-$stamp.data" --no-children -g none --sort comm 2>/dev/null | grep -v '^#' | grep -v '^$'
      echo "## top symbols (self time)"
      perf report --stdio -i "$results/perf-rheo-$stamp.data" --no-children -g none --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$'
      echo "## top symbols with callers"
      perf report --stdio -i "$results/perf-rheo-$stamp.data" --no-children --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$'
    } >"$results/perf-rheo-$stamp.txt" || true
  fi

  if [[ $target == rheo && $MANY_SHARDS -gt 0 ]]; then
    log "$target: put C=8 B=500 R=1000 S=$MANY_SHARDS"
    bench put "${common[@]}" -s "$MANY_SHARDS" -c 8 -b 500 -r 1000 -d "$DURATION" --warmup "$WARMUP" --bodies 256
  fi

  log "$target: get (fill up to $GET_FILL records or $GET_FILL_SECS s, then read back)"
  bench get "${common[@]}" -s 4 --fill "$GET_FILL" --fill-secs "$GET_FILL_SECS" -c 8 -b 100 -r 1000 -l 10000

  # Repeated because one stall of the disk's flush (hundreds of ms on a shared virtual
  # disk) decides a 10-second run's p99; against rheo each run also records how many of
  # the server's own fdatasyncs were slow meanwhile (from its /metrics).
  local round
  for round in $(seq 1 "$LATENCY_REPEAT"); do
    log "$target: e2e at $E2E_RATE rec/s (run $round of $LATENCY_REPEAT)"
    bench e2e "${common[@]}" -s 4 --rate "$E2E_RATE" -b 10 -r 100 -d "$E2E_SECS" --poll-ms 10

    log "$target: subscribe at $E2E_RATE rec/s (run $round of $LATENCY_REPEAT)"
    bench subscribe "${common[@]}" -s 4 --rate "$E2E_RATE" -b 10 -r 100 -d "$E2E_SECS"
  done

  stop_server
  if [[ $target == rheo ]]; then
    # The disk's own fdatasync tail is the floor under every durable put (and so under
    # put→get and put→push): measured here, in the data directory's file system, between
    # the durable cells and the relaxed one.
    log "disk: append 1 KiB + fdatasync, 100 per second for $E2E_SECS s"
    bench disk --label "$target" --dir "${TMPDIR:-/tmp}" -r 1024 --rate 100 -d "$E2E_SECS"
    if [[ $RELAXED != 0 ]]; then
      log "$target --durability relaxed: subscribe at $E2E_RATE rec/s"
      data_dir=$(mktemp -d "${TMPDIR:-/tmp}/rheo-compare-data.XXXXXX")
      server_cmd "$target" "$port" "$data_dir"
      "${cmd[@]}" --durability relaxed >"$logs/$target-relaxed.log" 2>&1 &
      pid=$!
      bench ready -e "$url" --label "$target" --timeout 60 -q >/dev/null
      bench subscribe -e "$url" --label "$target (relaxed)" --pid "$pid" -s 4 --rate "$E2E_RATE" -b 10 -r 100 -d "$E2E_SECS"
      stop_server
    fi
  fi
}

stop_server() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  rm -rf "$data_dir"
  data_dir=""
}

# --- go ------------------------------------------------------------------------------
install_peers
build
started=$(date +%s)
for target in $TARGETS; do run_target "$target"; done
elapsed=$(($(date +%s) - started))

log "writing $report"
rheo_version=$("$RHEO_BIN" --version 2>/dev/null || echo rheo)
isolation=off
[[ -n "${RHEO_BENCH_ISOLATED:-}" ]] && isolation="own autogroup, nice -15"
commit=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(cd "$root" && git status --porcelain 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)
python3 "$here/compare-report.py" "$jsonl" \
  --title "Rheo vs peers, $stamp" \
  --note "rheo: $rheo_version, commit $commit$dirty; kinesalite $KINESALITE_VERSION; kinesis-local $KINESIS_LOCAL_VERSION; moto $MOTO_VERSION; node $(node --version 2>/dev/null); $(nproc) cores; isolation: $isolation; settle ${SETTLE}s between cells; matrix took ${elapsed}s" \
  --command "SETTLE=$SETTLE DURATION=$DURATION WARMUP=$WARMUP GET_FILL=$GET_FILL GET_FILL_SECS=$GET_FILL_SECS E2E_SECS=$E2E_SECS E2E_RATE=$E2E_RATE LATENCY_REPEAT=$LATENCY_REPEAT MANY_SHARDS=$MANY_SHARDS RELAXED=$RELAXED STARTUP_REPEAT=$STARTUP_REPEAT bench/compare.sh" \
  >"$report"
cat "$report"
echo >&2
echo "results: $report and $jsonl (server logs in $logs)" >&2
