#!/usr/bin/env bash
# The storage engine against the bare disk, in one run: fio's sequential-write speed at
# the size of one PutRecords batch (512 KiB) with fdatasync after each write, then the
# criterion benchmark of the shard log, then a table of ratios.
#
# Usage: bench/storage.sh [DIR]   (DIR: where fio and the log write; default $TMPDIR or /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${TMPDIR:-/tmp}}
target=${CARGO_TARGET_DIR:-target}

# The disk is measured before and after the benchmark; on a shared machine its speed
# drifts, and the ratio uses the mean of the two.
fio_before=$(bench/disk-baseline.sh "$dir")
echo "$fio_before"
TMPDIR="$dir" cargo bench -p rheo-storage --bench log -- --noplot >/dev/null 2>&1 || TMPDIR="$dir" cargo bench -p rheo-storage --bench log
fio_after=$(bench/disk-baseline.sh "$dir")
echo "$fio_after"
fio_out="$fio_before
$fio_after"

python3 - "$target/criterion" "$fio_out" <<'PY'
import json, os, re, sys
root, fio = sys.argv[1], sys.argv[2]
syncs = [float(m.group(1)) for m in re.finditer(r"^fdatasync_each_write\s+([\d.]+) MiB/s", fio, re.M)]
sync_mib = sum(syncs) / len(syncs)
print(f"disk with fdatasync per 512 KiB write: {' and '.join(f'{v:.1f}' for v in syncs)} MiB/s, mean {sync_mib:.1f}")
record_bytes = 1024
print(f"\n{'benchmark':<52} {'records/s':>12} {'MiB/s':>8} {'vs disk+fdatasync':>18}")
for group, elements in (("append_1KiB_x500", None), ("read_1KiB", 10_000)):
    base = os.path.join(root, group)
    if not os.path.isdir(base):
        continue
    for dirpath, _, files in sorted(os.walk(base)):
        if not dirpath.endswith("/new") or "estimates.json" not in files:
            continue
        bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
        mean_ns = json.load(open(os.path.join(dirpath, "estimates.json")))["mean"]["point_estimate"]
        count = bench.get("throughput", {}).get("Elements") or elements
        rate = count / (mean_ns / 1e9)
        mib = rate * record_bytes / 2**20
        name = bench["full_id"]
        ratio = f"{mib / sync_mib:.2f}x" if group.startswith("append") else ""
        print(f"{name:<52} {rate:>12,.0f} {mib:>8.1f} {ratio:>18}")
PY
