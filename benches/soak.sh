#!/usr/bin/env bash
# Soak: `pixelwarden run` under a steady load for a long time, its resident memory sampled
# every 10 s. Memory must stay flat: every cache, baseline and queue is bounded.
#   benches/soak.sh [MINUTES] [MSGS_PER_S]      (default 30 minutes at 2000 messages/s)
# Not in CI (it takes half an hour). Needs tansu on PATH (see .ci/run). Writes the samples to
# target/soak-rss.csv and prints the RSS of the first and last five minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-30}
RATE=${2:-2000}
cargo build --release --quiet
cargo build --release --quiet --example gen_egress --example kafka_produce
BIN=$PWD/target/release/pixelwarden
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
KPORT=$(port); MPORT=$(port)
echo "== machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "pixelwarden: $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty); broker: $(tansu --version)"
tansu broker --storage-engine memory://tansu/ --listener-url "tcp://127.0.0.1:$KPORT" \
  --advertised-listener-url "tcp://127.0.0.1:$KPORT" > "$WORK/tansu.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null && break; sleep 0.1; done
tansu topic create egress --partitions 4 --broker "tcp://127.0.0.1:$KPORT" > /dev/null
# 200 MB of generated egress with 2 % pixel hits (many sites, pixels and fields, so drift
# baselines, twin caches and summaries fill up), sent round and round at a steady pace.
target/release/examples/gen_egress --bytes 200000000 --pixel-share 0.02 --seed 21 > "$WORK/stream.log"
echo "== load: $RATE messages/s for $MINUTES minutes, from $(wc -l < "$WORK/stream.log") distinct lines"
"$BIN" run --kafka-brokers "127.0.0.1:$KPORT" --topic egress:squid --group soak \
  --findings-file "$WORK/findings.jsonl" --metrics-listen "127.0.0.1:$MPORT" --workers 2 \
  > "$WORK/run.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
target/release/examples/kafka_produce "127.0.0.1:$KPORT" egress "$WORK/stream.log" \
  --rate "$RATE" --seconds $((MINUTES * 60)) > "$WORK/produce.log" 2>&1 &
PIDS+=($!)
CSV=target/soak-rss.csv
echo "seconds,rss_kib,messages,findings_bytes" > "$CSV"
start=$(date +%s)
while [ $(( $(date +%s) - start )) -lt $((MINUTES * 60)) ]; do
  sleep 10
  kill -0 "$RUN" 2>/dev/null || { echo "pixelwarden exited"; tail -5 "$WORK/run.log"; exit 1; }
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$RUN/status")
  msgs=$(curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk '$1 ~ /^pixelwarden_records_received_total/ {s += $2} END {print int(s)}')
  echo "$(( $(date +%s) - start )),$rss,$msgs,$(stat -c %s "$WORK/findings.jsonl" 2>/dev/null || echo 0)" >> "$CSV"
done
python3 - "$CSV" "$MINUTES" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mins = int(sys.argv[2])
first = [int(r["rss_kib"]) for r in rows if int(r["seconds"]) <= 300]
last = [int(r["rss_kib"]) for r in rows if int(r["seconds"]) > (mins - 5) * 60]
msgs = int(rows[-1]["messages"])
secs = int(rows[-1]["seconds"])
print(f"samples: {len(rows)}; messages: {msgs} in {secs} s ({msgs / max(secs, 1):.0f}/s)")
print(f"RSS first 5 min: min {min(first)/1024:.1f} max {max(first)/1024:.1f} MiB")
print(f"RSS last 5 min:  min {min(last)/1024:.1f} max {max(last)/1024:.1f} MiB")
print(f"RSS overall max {max(int(r['rss_kib']) for r in rows)/1024:.1f} MiB")
growth = max(last) - max(first)
print(f"growth of the maximum, first to last 5 min: {growth/1024:+.1f} MiB")
PY
