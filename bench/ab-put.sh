#!/usr/bin/env bash
# Put throughput of two rheo binaries measured in one run, alternating, a fresh data folder
# each time (durable default). Prints one line per run and the ratio of the means.
#
#   bench/ab-put.sh OLD_BIN NEW_BIN [ROUNDS]
#
# Build the old binary from a worktree of the previous commit with its own target folder:
#   git worktree add /tmp/base HEAD~1 && (cd /tmp/base && CARGO_TARGET_DIR=/tmp/base-target cargo build --release -p rheo)
set -euo pipefail
old=$1 new=$2 rounds=${3:-3} port=${PORT:-4600}
declare -A sum=([old]=0 [new]=0)
for _ in $(seq "$rounds"); do
  for name in old new; do
    bin=${!name} dir=$(mktemp -d)
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/d" >"$dir/log" 2>&1 & pid=$!
    sleep 0.5
    line=$("$new" bench put -e "http://127.0.0.1:$port" -s 4 -c 8 -b 500 -r 1000 -d 10 --warmup 2 --pid "$pid" 2>/dev/null | tail -n 1)
    kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
    read -r rate report < <(python3 -c 'import sys,json; d=json.loads(sys.argv[1]); print(round(d["records_per_s"]), "rec/s, p99", d["latency_ms"]["p99"], "ms, server records per CPU-s", d["server"]["records_per_cpu_s"])' "$line")
    echo "$name $rate $report"
    sum[$name]=$((sum[$name] + rate))
  done
done
python3 -c 'import sys; o,n=int(sys.argv[1]),int(sys.argv[2]); print(f"new/old put throughput: {n/o:.3f} (means {o//int(sys.argv[3])} vs {n//int(sys.argv[3])} rec/s)")' "${sum[old]}" "${sum[new]}" "$rounds"
