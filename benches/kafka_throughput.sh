#!/usr/bin/env bash
# Messages per second from a real Kafka-compatible broker (Tansu, a separate process on
# loopback) through parsing, recognition, decoding, detection and drift to a findings topic,
# with one pixelwarden process, on generated egress with 2 % pixel hits.
#   benches/kafka_throughput.sh [MESSAGES_MB]      (default 300 MB of Squid lines)
# Needs tansu on PATH (see .ci/run). Prints the machine, the stream and, per run, the service's
# own figure: messages from the first received to the last accepted by the findings topic.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-300}
RUNS=${RUNS:-2}
PARTITIONS=${PARTITIONS:-4}
cargo build --release --quiet
cargo build --release --quiet --example gen_egress --example kafka_produce
BIN=$PWD/target/release/pixelwarden
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
KPORT=$(port)

echo "== machine"
echo "cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "rustc: $(rustc --version)"
echo "broker: $(tansu --version)"
echo "pixelwarden: $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)"

tansu broker --storage-engine memory://tansu/ --listener-url "tcp://127.0.0.1:$KPORT" \
  --advertised-listener-url "tcp://127.0.0.1:$KPORT" > "$WORK/tansu.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null && break; sleep 0.1; done
tansu topic create egress --partitions "$PARTITIONS" --broker "tcp://127.0.0.1:$KPORT" > /dev/null
tansu topic create findings --partitions "$PARTITIONS" --broker "tcp://127.0.0.1:$KPORT" > /dev/null

echo "== stream"
target/release/examples/gen_egress --bytes $((MB * 1000000)) --pixel-share 0.02 --seed 5 > "$WORK/stream.log"
echo "$(wc -l < "$WORK/stream.log") messages, $(du -m "$WORK/stream.log" | cut -f1) MiB, 2 % pixel hits, $PARTITIONS partitions"
start=$(date +%s.%N)
target/release/examples/kafka_produce "127.0.0.1:$KPORT" egress "$WORK/stream.log"
echo "produced in $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s"

echo "== pixelwarden run → findings topic (one process, $(nproc) detection workers)"
export PIXELWARDEN_FINGERPRINT_KEY=benchmark-key-not-secret
# Tansu 0.6.0 holds every fetch for fetch.wait.max.ms (librdkafka's default 500 ms) even when it
# has data, which caps a consumer at about 85k messages/s whatever the consumer does; Apache
# Kafka answers as soon as fetch.min.bytes is met. FETCH="" measures with the default.
FETCH=${FETCH--X fetch.wait.max.ms=5}
echo "consumer properties: ${FETCH:-librdkafka defaults}"
for i in $(seq 1 "$RUNS"); do
  "$BIN" run --kafka-brokers "127.0.0.1:$KPORT" --topic egress:squid --group "bench-$i" \
    --findings-topic findings --metrics-listen 127.0.0.1:0 --exit-when-idle 3 $FETCH \
    2>&1 | grep -E '^pixelwarden: [0-9]+ messages' | sed "s/^/run $i: /"
done
