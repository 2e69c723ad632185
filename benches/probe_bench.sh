#!/usr/bin/env bash
# Probe speed and memory: a 20-page walk of the bundled shop's catalogue (every page with the
# shop's pixels and a form to fill), in Debian's Chromium. Prints pages per minute and the peak
# memory (PSS) of pixelwarden and of the browser (all its processes together), sampled every
# 100 ms. Runs RUNS times (default 3).
#   benches/probe_bench.sh [PAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES=${1:-20}
RUNS=${RUNS:-3}
cargo build --release --quiet
cargo build --release --quiet --example demo_shop
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/examples/demo_shop "127.0.0.1:$PORT" > /dev/null 2>&1 &
SHOP=$!
trap 'kill $SHOP 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "== machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "pixelwarden: $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty); $(/usr/bin/chromium --version 2>/dev/null | head -1)"
echo "== $PAGES-page walk of http://127.0.0.1:$PORT/katalog/1.html, consent reject, $RUNS runs"
# Proportional set size (KiB) of a process and all its descendants: shared pages counted
# once across Chromium's processes (plain RSS would count them in every process).
tree_rss() {
  local pids p total=0
  pids=$(ps -e -o pid=,ppid= | awk -v root="$1" '{p[$1]=$2} END {for (x in p) {y=x; while (y in p && y != root && y != 1) y=p[y]; if (y == root) print x}}')
  for p in "$1" $pids; do
    total=$(( total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
for run in $(seq 1 "$RUNS"); do
  WORK=$(mktemp -d)
  target/release/pixelwarden probe "http://127.0.0.1:$PORT/katalog/1.html" --max-pages "$PAGES" \
    --consent reject --no-summary --summary-json "$WORK/summary.json" > "$WORK/findings.jsonl" 2> "$WORK/err.log" &
  PW=$!
  peak_pw=0; peak_browser=0
  while kill -0 "$PW" 2>/dev/null; do
    own=$(awk '/^Pss:/ {print $2}' "/proc/$PW/smaps_rollup" 2>/dev/null || echo 0)
    all=$(tree_rss "$PW")
    [ "${own:-0}" -gt "$peak_pw" ] && peak_pw=$own
    b=$(( all - ${own:-0} )); [ "$b" -gt "$peak_browser" ] && peak_browser=$b
    sleep 0.1
  done
  wait "$PW" || true
  python3 - "$WORK/summary.json" "$peak_pw" "$peak_browser" "$run" "$WORK/findings.jsonl" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
w = s["walks"][0]
pages, secs = len(w["pages"]), w["seconds"]
findings = sum(1 for _ in open(sys.argv[5]))
print(f"run {sys.argv[4]}: {pages} pages in {secs:.1f} s = {60 * pages / secs:.0f} pages/min; "
      f"{w['requests']} requests, {w['pixel_hits']} pixel hits (all blocked: {w['blocked_in_browser'] == w['pixel_hits']}), {findings} findings; "
      f"peak PSS pixelwarden {int(sys.argv[2]) / 1024:.0f} MiB, browser {int(sys.argv[3]) / 1024:.0f} MiB")
PY
  rm -rf "$WORK"
done
