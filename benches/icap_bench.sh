#!/usr/bin/env bash
# ICAP throughput and added latency on loopback: pixelwarden icap on one core and on all cores,
# in monitor and strip mode, loaded by examples/icap_load.rs (16 persistent connections, 80 %
# pixel hits carrying identity — GET query, form POST, JSON conversion-API POST — and 20 % other
# requests). Latency is measured per request by the client: the time pixelwarden adds.
#   benches/icap_bench.sh [CONNS] [REQS_PER_CONN]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-16}
REQS=${2:-5000}
cargo build --release --quiet
cargo build --release --quiet --example icap_load
echo "== machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "pixelwarden: $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for cores in 1 "$(nproc)"; do
  for mode in monitor strip; do
    P=$(port)
    # One core: the service pinned to CPU 0 with one worker; all cores: unpinned.
    if [ "$cores" = 1 ]; then PIN="taskset -c 0"; W=1; else PIN=""; W=$cores; fi
    $PIN target/release/pixelwarden icap --listen "127.0.0.1:$P" --mode "$mode" --workers "$W" --no-drift \
      --findings-file /dev/null > /dev/null 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$P") 2>/dev/null && break; sleep 0.1; done
    echo -n "cores $cores, mode $mode: "
    target/release/examples/icap_load "127.0.0.1:$P" "$CONNS" "$REQS" 0.8
    kill "$PID"; wait "$PID" 2>/dev/null || true
  done
done
