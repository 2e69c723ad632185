#!/usr/bin/env bash
# The report at scale: build time, peak memory and size for N synthetic findings (default 1M
# and 10M; examples/gen_findings.rs, 200 sites, 12 vendors, 2 000 pixels, a year of days), and
# how long Debian's Chromium takes to load and lay out the result.
#   benches/report_bench.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cargo build --release --quiet --example gen_findings --example report_open_time
WORK=${WORK:-$(mktemp -d)}
echo "== machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "pixelwarden: $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)"
for n in "${@:-1000000 10000000}"; do
  f="$WORK/findings-$n.jsonl"
  [ -s "$f" ] || target/release/examples/gen_findings "$n" > "$f"
  echo "== $n findings, $(du -m "$f" | cut -f1) MiB"
  /usr/bin/time -f "build: %e s wall, %U s user, peak RSS %M KiB" \
    target/release/pixelwarden report "$f" -o "$WORK/report-$n.html" 2>&1 | grep -v "^pixelwarden:"
  echo "report: $(du -k "$WORK/report-$n.html" | cut -f1) KiB"
  target/release/examples/report_open_time "$WORK/report-$n.html" 3
done
