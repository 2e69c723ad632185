#!/usr/bin/env bash
# The streaming service under faults, every part a real process on loopback:
#   Tansu with a SQLite store (it keeps its data across a restart) → pixelwarden run → the
#   findings file on a small tmpfs, and the findings topic on a second Tansu (a SIEM's cluster).
# While a steady stream is produced: (1) the input broker is killed with -9 and restarted,
# (2) the findings broker hangs (SIGSTOP) for 20 s, then is killed and restarted: the findings
# topic is unavailable while input keeps coming, (3) the findings file's file system runs full
# and is grown again later, (4) the findings file is rotated and pixelwarden gets SIGHUP. A supervisor restarts pixelwarden whenever it exits with an error,
# as Kubernetes would.
# Checks: every finding a scan of the same stream produces is in the findings files and in the
# findings topic (zero lost); duplicates are counted and bounded; the stall was seen on
# /metrics and recovered; the rotated file and the new one hold whole JSON lines only.
# Needs: tansu 0.6 built with the libsql feature, root (mount), `cargo build --release --examples`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/target/release/pixelwarden
EX=$PWD/target/release/examples
WORK=$(mktemp -d)
PIDS=()
MNT="$WORK/full"
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for f in broker findings-broker; do
    [ -f "$WORK/$f.pid" ] && { kill -CONT "$(cat "$WORK/$f.pid")" 2>/dev/null; kill -9 "$(cat "$WORK/$f.pid")" 2>/dev/null; wait "$(cat "$WORK/$f.pid")" 2>/dev/null || true; }
  done
  [ -f "$WORK/supervisor.pid" ] && kill -9 "$(cat "$WORK/supervisor.pid")" 2>/dev/null || true
  pkill -9 -f "pixelwarden run --kafka-brokers 127.0.0.1:$KPORT" 2>/dev/null || true
  mountpoint -q "$MNT" && umount -l "$MNT"
  if [ "${KEEP_E2E:-}" = "" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
KPORT=$(port); MPORT=$(port); FPORT=$(port)
export PIXELWARDEN_FINGERPRINT_KEY=e2e-fingerprint-key
export PIXELWARDEN_LOG=${PIXELWARDEN_LOG:-warn}
metric() { curl -fsS "http://127.0.0.1:$MPORT/metrics" 2>/dev/null | awk -v m="$1" '$1 == m {print int($2)}' || true; }
wait_metric() { # NAME VALUE SECONDS
  for _ in $(seq 1 $(( $3 * 5 ))); do [ "$(metric "$1")" = "$2" ] && return 0; sleep 0.2; done
  echo "metric $1 never reached $2" >&2; return 1
}
broker() {
  tansu broker --storage-engine "sqlite:///$WORK/tansu.db" --listener-url "tcp://127.0.0.1:$KPORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KPORT" >> "$WORK/tansu.log" 2>&1 &
  echo $! > "$WORK/broker.pid"
  wait_port "$KPORT"
}
findings_broker() {
  tansu broker --storage-engine "sqlite:///$WORK/findings.db" --listener-url "tcp://127.0.0.1:$FPORT" \
    --advertised-listener-url "tcp://127.0.0.1:$FPORT" >> "$WORK/tansu-findings.log" 2>&1 &
  echo $! > "$WORK/findings-broker.pid"
  wait_port "$FPORT"
}

echo "-- brokers: tansu (SQLite stores), input on 127.0.0.1:$KPORT, findings on 127.0.0.1:$FPORT"
broker
findings_broker
tansu topic create egress --partitions 3 --broker "tcp://127.0.0.1:$KPORT" > /dev/null
tansu topic create findings --partitions 1 --broker "tcp://127.0.0.1:$FPORT" > /dev/null

echo "-- findings file on a 3 MiB tmpfs (it runs full mid-stream)"
mkdir -p "$MNT"
mount -t tmpfs -o size=3m tmpfs "$MNT"

echo "-- a stream and what a scan of it finds"
"$EX/gen_egress" --bytes "${FAULT_BYTES:-12000000}" --pixel-share 0.2 --seed 17 > "$WORK/stream.log"
"$BIN" scan --no-progress --no-summary --no-drift "$WORK/stream.log" > "$WORK/expected.jsonl"
LINES=$(wc -l < "$WORK/stream.log")
RATE=${FAULT_RATE:-600}
echo "stream: $LINES messages at $RATE/s, $(wc -l < "$WORK/expected.jsonl") expected findings"
"$EX/kafka_produce" "127.0.0.1:$KPORT" egress "$WORK/stream.log" --one-per-batch --rate "$RATE" \
  > "$WORK/produce.log" 2>&1 &
PRODUCER=$!
PIDS+=($PRODUCER)

# The supervisor: restart pixelwarden when it exits with an error (count the restarts).
cat > "$WORK/supervise.sh" <<SH
#!/usr/bin/env bash
restarts=0
while true; do
  "$BIN" run --kafka-brokers "127.0.0.1:$KPORT" --topic egress:squid --group faults \
    --findings-file "$MNT/findings.jsonl" --findings-topic findings --findings-brokers "127.0.0.1:$FPORT" \
    --metrics-listen "127.0.0.1:$MPORT" --workers 2 --exit-when-idle 25 \
    -X group.instance.id=faults-1 >> "$WORK/run.log" 2>&1 && break
  restarts=\$((restarts + 1)); echo \$restarts > "$WORK/restarts"
  sleep 1
done
echo done > "$WORK/supervisor.done"
SH
chmod +x "$WORK/supervise.sh"
"$WORK/supervise.sh" &
echo $! > "$WORK/supervisor.pid"
wait_metric pixelwarden_assigned_partitions 3 60
for _ in $(seq 1 600); do [ "$(metric pixelwarden_offset_commits_total)" -ge 2 ] 2>/dev/null && break; sleep 0.1; done

echo "-- fault 1: broker killed with -9, restarted 3 s later"
kill -9 "$(cat "$WORK/broker.pid")"; wait "$(cat "$WORK/broker.pid")" 2>/dev/null || true
sleep 3
broker
sleep 8

echo "-- fault 2: the findings broker hangs (SIGSTOP) for 20 s, then is killed and restarted"
kill -STOP "$(cat "$WORK/findings-broker.pid")"
kafka_stalled() { [ "$(metric 'pixelwarden_sink_stalls_total{sink="kafka"}')" -ge 1 ] 2>/dev/null; }
for _ in $(seq 1 100); do kafka_stalled && break; sleep 0.2; done
kafka_stalled || { echo "no stall of the findings topic was seen"; exit 1; }
echo "findings topic stall seen: pixelwarden_sink_stalled=$(metric pixelwarden_sink_stalled)"
sleep 20
kill -9 "$(cat "$WORK/findings-broker.pid")"; wait "$(cat "$WORK/findings-broker.pid")" 2>/dev/null || true
kill -CONT "$(cat "$WORK/findings-broker.pid")" 2>/dev/null || true
sleep 2
findings_broker
wait_metric pixelwarden_sink_stalled 0 120
echo "findings topic back: consumption resumed"

echo "-- fault 3: the findings file system runs full"
file_stalled() { [ "$(metric 'pixelwarden_sink_stalls_total{sink="file"}')" -ge 1 ] 2>/dev/null && [ "$(metric pixelwarden_sink_stalled)" = 1 ]; }
seen=""
for _ in $(seq 1 600); do file_stalled && { seen=1; break; }; sleep 0.2; done
if [ -n "$seen" ]; then
  STALLED_AT=$(date +%s)
  echo "stalled: $(metric pixelwarden_findings_pending_bytes) bytes pending, readyz: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")" != 200 ]
  sleep 10
  mount -o remount,size=256m "$MNT"
  wait_metric pixelwarden_sink_stalled 0 60
  echo "recovered $(( $(date +%s) - STALLED_AT )) s after the stall was seen (room made after 10 s)"
else
  echo "the file system never ran full: make FAULT_BYTES larger or the tmpfs smaller"; exit 1
fi

echo "-- fault 4: log rotation: findings file moved away, SIGHUP"
mv "$MNT/findings.jsonl" "$MNT/findings.1.jsonl"
pkill -HUP -f "^$BIN run --kafka-brokers 127.0.0.1:$KPORT"
wait_metric pixelwarden_findings_file_reopens_total 1 30

wait "$PRODUCER"
echo "-- stream produced; waiting for pixelwarden to go idle"
for _ in $(seq 1 900); do [ -f "$WORK/supervisor.done" ] && break; sleep 0.2; done
[ -f "$WORK/supervisor.done" ] || { echo "pixelwarden never finished"; tail -20 "$WORK/run.log"; exit 1; }
RESTARTS=$(cat "$WORK/restarts" 2>/dev/null || echo 0)
echo "pixelwarden restarts by the supervisor: $RESTARTS"
"$EX/kafka_dump" "127.0.0.1:$FPORT" findings 8 > "$WORK/topic.jsonl"

python3 - "$WORK/expected.jsonl" "$MNT/findings.1.jsonl" "$MNT/findings.jsonl" "$WORK/topic.jsonl" <<'PY'
import collections, json, sys
def key(r):
    return (r["ts"], r["site"], r["vendor"], r["pixel_id"], r["class"], r["type"], r["field"], r["fingerprint"])
expected = collections.Counter(key(json.loads(l)) for l in open(sys.argv[1]))
def read(paths):
    found = collections.Counter()
    for p in paths:
        for l in open(p):
            r = json.loads(l)  # every line whole JSON: a torn line fails here
            if r["class"] != "anomaly":
                found[key(r)] += 1
    return found
n = sum(expected.values())
for name, paths in (("findings files (rotated + current)", sys.argv[2:4]), ("findings topic", sys.argv[4:5])):
    found = read(paths)
    missing = sum(max(0, expected[k] - found[k]) for k in expected)
    dups = sum(found.values()) - n + missing
    print(f"{name}: expected {n}, found {sum(found.values())}, missing {missing}, duplicates {dups} ({100 * dups / n:.1f} %)")
    assert missing == 0, f"{name}: {missing} findings lost"
    assert dups <= n // 2, f"{name}: duplicates not bounded"
PY
echo "rotated file: $(wc -l < "$MNT/findings.1.jsonl") lines, new file: $(wc -l < "$MNT/findings.jsonl") lines"
echo "faults e2e passed"
