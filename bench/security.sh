#!/usr/bin/env bash
# What security costs: PutRecords throughput of one release build of Rheo run three ways in the
# same run, each figure also as a ratio of the plain one:
#   plain      rheo serve (--auth none, the default), a plaintext stream
#   sigv4      rheo serve --auth sigv4 --credentials FILE: every request's signature verified
#   encrypted  rheo serve, the stream encrypted (StartStreamEncryption, KMS, alias/aws/kinesis):
#              every chunk sealed with AES-256-GCM before it is written
# Target (issue 17): each costs under 15% of the plain throughput.
#
# The three servers run side by side (idle while not measured) and the load visits them in
# rounds (plain, sigv4, encrypted; ROUNDS times): a shared machine's drift then hits all three
# alike, and each ratio is the median of the per-round ratios to that round's plain run.
#
# Usage: bench/security.sh        (about ROUNDS × 3 × (WARMUP + DURATION + SETTLE) s after the build)
#
# Environment (all optional):
#   RHEO_BIN           rheo binary (default: cargo build --release -p rheo, then $CARGO_TARGET_DIR/release/rheo)
#   CARGO_TARGET_DIR   where that build goes (default: <repo>/target)
#   AWS_CLI            the aws CLI, for the stream's encryption (default: aws on PATH, else <repo>/.venv/bin/aws)
#   ROUNDS=3 DURATION=5 WARMUP=1   rounds, measured and warm-up seconds per run
#   SHARDS=4 CONNECTIONS=8 BATCH=500 RECORD_BYTES=1000   the put load (rheo bench put -s -c -b -r)
#   SETTLE=1           sync, then this many idle seconds before each run (0: neither)
#   PORT_BASE=14700    ports PORT_BASE..PORT_BASE+2 on 127.0.0.1
#   SERVE_FLAGS=""     more `rheo serve` flags for all three (e.g. "--durability relaxed": no fdatasync
#                      per put, so a shared disk's stalls stop deciding the ratios)
#   VARIANTS="plain sigv4 encrypted"   which of them (plain first: the others are ratios of it)
#
# Output: a table on stdout; bench/results/security-<timestamp>.jsonl (one rheo-bench JSON line
# per run) and .md (the table).
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
SETTLE=${SETTLE:-1}
PORT_BASE=${PORT_BASE:-14700}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

results=$here/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$results/security-$stamp.jsonl
report=$results/security-$stamp.md
work=$(mktemp -d "${TMPDIR:-/tmp}/rheo-security.XXXXXX")
mkdir -p "$results"

log() { printf '\n== %s\n' "$*" >&2; }

if [[ -z "${RHEO_BIN:-}" ]]; then
  log "building rheo (release)"
  (cd "$root" && cargo build --release -p rheo)
  RHEO_BIN=$CARGO_TARGET_DIR/release/rheo
fi
[[ -x $RHEO_BIN ]] || { echo "RHEO_BIN=$RHEO_BIN is not executable" >&2; exit 1; }
if [[ -z "${AWS_CLI:-}" ]]; then
  if command -v aws >/dev/null; then AWS_CLI=aws; else AWS_CLI=$root/.venv/bin/aws; fi
fi

# The principal the load signs as on the sigv4 server (random per run: nothing to leak).
access_key=AKIARHEOBENCH$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F | cut -c1-7)
secret_key=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-40)
(umask 077 && printf '[bench]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$access_key" "$secret_key" \
  >"$work/credentials")

read -r -a variants <<<"${VARIANTS:-plain sigv4 encrypted}"
[[ ${variants[0]} == plain ]] || { echo "VARIANTS must start with plain" >&2; exit 2; }
wanted() { [[ " ${variants[*]} " == *" $1 "* ]]; }
declare -A port pid
stream=rheo-bench-security

cleanup() {
  local v
  for v in "${variants[@]}"; do
    if [[ -n "${pid[$v]:-}" ]]; then kill -TERM "${pid[$v]}" 2>/dev/null || true; wait "${pid[$v]}" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load generator's credentials for a variant: the sigv4 server knows only the bench principal.
creds() {
  if [[ $1 == sigv4 ]]; then
    echo --access-key "$access_key" --secret-key "$secret_key"
  else
    echo --access-key AKIDRHEOBENCH --secret-key rheo-bench-secret
  fi
}

aws_kinesis() {
  local v=$1; shift
  AWS_ACCESS_KEY_ID=AKIDRHEOBENCH AWS_SECRET_ACCESS_KEY=rheo-bench-secret AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER='' \
    "$AWS_CLI" --endpoint-url "http://127.0.0.1:${port[$v]}" --output text kinesis "$@"
}

wait_active() {
  local v=$1 status
  for _ in $(seq 600); do
    status=$(aws_kinesis "$v" describe-stream-summary --stream-name "$stream" \
      --query StreamDescriptionSummary.StreamStatus)
    [[ $status == ACTIVE ]] && return 0
    sleep 0.1
  done
  echo "$stream on $v did not become ACTIVE" >&2
  exit 1
}

i=0
for v in "${variants[@]}"; do
  port[$v]=$((PORT_BASE + i))
  i=$((i + 1))
  if (exec 3<>"/dev/tcp/127.0.0.1/${port[$v]}") 2>/dev/null; then
    echo "port ${port[$v]} is in use; set PORT_BASE" >&2
    exit 1
  fi
  read -r -a flags <<<"${SERVE_FLAGS:-}"
  [[ $v == sigv4 ]] && flags+=(--auth sigv4 --credentials "$work/credentials")
  log "starting $v on 127.0.0.1:${port[$v]} ${flags[*]}"
  "$RHEO_BIN" serve --listen "127.0.0.1:${port[$v]}" --data-dir "$work/data-$v" \
    --create-stream-ms 10 --delete-stream-ms 10 --update-stream-ms 10 "${flags[@]}" >"$work/$v.log" 2>&1 &
  pid[$v]=$!
  # shellcheck disable=SC2046 # creds are words
  "$RHEO_BIN" bench ready -e "http://127.0.0.1:${port[$v]}" $(creds "$v") --timeout 60 -q >/dev/null \
    || { echo "$v did not start; its log:" >&2; tail -n 40 "$work/$v.log" >&2; exit 1; }
done

if wanted encrypted; then
  log "encrypting $stream on the encrypted server (KMS, alias/aws/kinesis)"
  aws_kinesis encrypted create-stream --stream-name "$stream" --shard-count "$SHARDS"
  wait_active encrypted
  aws_kinesis encrypted start-stream-encryption --stream-name "$stream" --encryption-type KMS --key-id alias/aws/kinesis
  wait_active encrypted
  encryption=$(aws_kinesis encrypted describe-stream-summary --stream-name "$stream" \
    --query StreamDescriptionSummary.EncryptionType)
  [[ $encryption == KMS ]] || { echo "the stream's EncryptionType is $encryption, not KMS" >&2; exit 1; }
fi

for round in $(seq 1 "$ROUNDS"); do
  for v in "${variants[@]}"; do
    log "round $round of $ROUNDS: $v, put C=$CONNECTIONS B=$BATCH R=$RECORD_BYTES S=$SHARDS for ${DURATION}s"
    if [[ $SETTLE != 0 ]]; then sync; sleep "$SETTLE"; fi
    # shellcheck disable=SC2046 # creds are words
    "$RHEO_BIN" bench put -e "http://127.0.0.1:${port[$v]}" $(creds "$v") --label "$v" --pid "${pid[$v]}" \
      --stream "$stream" --keep -s "$SHARDS" -c "$CONNECTIONS" -b "$BATCH" -r "$RECORD_BYTES" \
      -d "$DURATION" --warmup "$WARMUP" --out "$jsonl" -q --json-only >/dev/null
  done
done

# Throughput is what the issue's target is about; records per server CPU-second is the same cost
# measured in CPU, which a busy shared machine disturbs less than wall-clock throughput.
python3 - "$jsonl" "$report" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    run = json.loads(line)
    runs.setdefault(run["label"], []).append(run)
plain = runs["plain"]
median = statistics.median

def per_cpu(run):
    return (run.get("server") or {}).get("records_per_cpu_s") or 0

def ratios(mine, key):
    return [key(m) / key(p) for m, p in zip(mine, plain) if key(p)]

def cell(values):
    return f"{median(values):.3f} ({', '.join(f'{v:.3f}' for v in values)})" if values else "–"

lines = [
    "| variant | records/s | MB/s | vs plain: records/s | records per server CPU-s | vs plain: per CPU-s | errors |",
    "|---|---:|---:|---:|---:|---:|---:|",
]
for label in ("plain", "sigv4", "encrypted"):
    mine = runs.get(label, [])
    if not mine:
        continue
    lines.append(
        f"| {label} | {median(m['records_per_s'] for m in mine):,.0f} | {median(m['mb_per_s'] for m in mine):.1f} "
        f"| {cell(ratios(mine, lambda r: r['records_per_s']))} | {median(per_cpu(m) for m in mine):,.0f} "
        f"| {cell(ratios(mine, per_cpu))} | {sum(m['errors']['total'] for m in mine)} |"
    )
lines += ["", f"Medians of {len(plain)} rounds (each round's ratios in parentheses); put {json.dumps(plain[0]['params'], sort_keys=True)}.",
          "Target (issue 17): each variant at least 0.85 of plain."]
text = "\n".join(lines)
print(text)
open(sys.argv[2], "w").write(text + "\n")
PY
echo "(runs: $jsonl; table: $report)"
