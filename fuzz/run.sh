#!/usr/bin/env bash
# Fuzz every target for SECONDS each (default 60), two at a time on a two-core machine:
#   fuzz/run.sh 1200            # 20 CPU-minutes per target
#   fuzz/run.sh 30 har rules    # some targets only
# Built without a sanitizer (-s none): librdkafka and zstd (C) do not link under ASan here, and
# the Rust code is what is fuzzed: panics, overflows (debug assertions), hangs, memory blow-ups.
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The stable toolchain builds it with
# RUSTC_BOOTSTRAP=1 (libFuzzer's instrumentation needs -Z flags). Seeds come from the project's
# data (fuzz/seeds.py); what libFuzzer learns stays in fuzz/corpus/<target>; a crash lands in
# fuzz/artifacts/<target>/ and the run fails. Each target's line in fuzz/results.tsv (target,
# wall seconds, CPU seconds, executions, corpus size, result, date) is replaced when it runs;
# the lines of targets not run stay, so runs over disjoint target lists can share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
JOBS=${FUZZ_JOBS:-$(nproc)}
# FUZZ_DEV=1 (CI's smoke run): an unoptimised build, quicker to compile.
# A smoke run's short times go to fuzz/logs/results-dev.tsv, not over the recorded results.
RESULTS=fuzz/results.tsv
if [ -n "${FUZZ_DEV:-}" ]; then
  RESULTS=fuzz/logs/results-dev.tsv
  cargo fuzz build --fuzz-dir fuzz --dev -a -s none
  BIN=fuzz/target/x86_64-unknown-linux-gnu/debug
else
  cargo fuzz build --fuzz-dir fuzz -O -a -s none
  BIN=fuzz/target/x86_64-unknown-linux-gnu/release
fi
python3 fuzz/seeds.py
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo fuzz list --fuzz-dir fuzz)
LOGS=fuzz/logs
mkdir -p "$LOGS"
one() {
  local t=$1
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  local rc=0 TIMEFORMAT='%U %S'
  { time "$BIN/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -max_total_time="$SECONDS_EACH" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
    > "$LOGS/$t.log" 2>&1 || rc=$?; } 2> "$LOGS/$t.time"
  local cpu
  cpu=$(awk '{printf "%d", $1 + $2}' "$LOGS/$t.time")
  local runs corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.log" | tail -1)
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  local result=ok
  [ "$rc" -eq 0 ] || result="CRASH (see $LOGS/$t.log, fuzz/artifacts/$t/)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$SECONDS_EACH" "${cpu:-0}" "${runs:-0}" "$corpus" \
    "$result" "$(date -u +%F)" | tee "$LOGS/$t.result"
  # Replace this target's line under a lock (other runs may be writing theirs).
  (
    flock 9
    touch "$RESULTS"
    { grep -v -P "^\Q$t\E\t" "$RESULTS" || true; cat "$LOGS/$t.result"; } | sort > "$RESULTS.new"
    mv "$RESULTS.new" "$RESULTS"
  ) 9> fuzz/.results.lock
  [ "$rc" -eq 0 ]
}
failed=0
running=0
for t in "${TARGETS[@]}"; do
  one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n || failed=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
[ "$failed" -eq 0 ] || { echo "a fuzz target crashed"; exit 1; }
echo "fuzzing passed"
