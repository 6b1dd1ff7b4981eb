#!/usr/bin/env bash
# Raw sequential-write speed of the disk under a folder, with and without fdatasync,
# at the write size of one PutRecords batch (500 x 1 KiB ~ 512 KiB). The storage
# benchmark (`cargo bench -p rheo-storage --bench log`) is read against these figures.
#
# Usage: bench/disk-baseline.sh [DIR]   (default: $TMPDIR or /tmp; needs fio)
set -euo pipefail
dir=${1:-${TMPDIR:-/tmp}}
command -v fio >/dev/null || { apt-get update -qq && apt-get install -y -qq fio >/dev/null; }
work=$(mktemp -d "$dir/rheo-fio.XXXXXX")
trap 'rm -rf "$work"' EXIT

run() { # name, extra fio args...
  local name=$1; shift
  fio --name="$name" --directory="$work" --rw=write --bs=512k --size=1g --ioengine=psync \
      --output-format=json "$@" >"$work/$name.json"
  python3 - "$work/$name.json" "$name" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]["write"]
mib_s = job["bw_bytes"] / 2**20
print(f"{sys.argv[2]:<28} {mib_s:8.1f} MiB/s  = {job['bw_bytes']/1024:,.0f} KiB/s (1 KiB records/s)")
PY
  rm -f "$work"/"$name".*.0
}
echo "disk under $dir, 512 KiB sequential writes, 1 GiB:"
run fdatasync_each_write --fdatasync=1
run buffered_end_fsync --end_fsync=1
run buffered_no_sync
