#!/usr/bin/env bash
# Fuzz every target for SECONDS of CPU time each (default 60), two at a time on a two-core
# machine. On a busy machine a target runs in slices, each continuing from the corpus, until it
# has had its CPU time:
#   fuzz/run.sh 1200            # 20 CPU-minutes per target
#   fuzz/run.sh 30 har rules    # some targets only
#   FUZZ_ADD=1 fuzz/run.sh 600 har   # 10 more CPU-minutes, added to har's recorded line
# Built without a sanitizer (-s none): librdkafka and zstd (C) do not link under ASan here, and
# the Rust code is what is fuzzed: panics, overflows (debug assertions), hangs, memory blow-ups.
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The stable toolchain builds it with
# RUSTC_BOOTSTRAP=1 (libFuzzer's instrumentation needs -Z flags). Seeds come from the project's
# data (fuzz/seeds.py); what libFuzzer learns stays in fuzz/corpus/<target>; a crash lands in
# fuzz/artifacts/<target>/ and the run fails. Each target's line in fuzz/results.tsv (target,
# wall seconds, CPU seconds, executions, corpus size, result, date) is replaced when it runs
# (added to, with FUZZ_ADD=1);
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
# FUZZ_NO_BUILD=1: use the targets as last built (say so in what you record).
if [ -n "${FUZZ_DEV:-}" ]; then
  RESULTS=fuzz/logs/results-dev.tsv
  [ -n "${FUZZ_NO_BUILD:-}" ] || cargo fuzz build --fuzz-dir fuzz --dev -a -s none
  BIN=fuzz/target/x86_64-unknown-linux-gnu/debug
else
  [ -n "${FUZZ_NO_BUILD:-}" ] || cargo fuzz build --fuzz-dir fuzz -O -a -s none
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
  local rc=0 wall=0 cpu=0 runs=0 started slice_cpu slice_runs left TIMEFORMAT='%U %S'
  : > "$LOGS/$t.log"
  while [ "$rc" -eq 0 ] && [ "$cpu" -lt "$SECONDS_EACH" ]; do
    left=$((SECONDS_EACH - cpu))
    [ "$left" -ge 5 ] || left=5
    started=$(date +%s)
    echo "== slice: up to $left s ($(date -u +%FT%TZ))" >> "$LOGS/$t.log"
    { time "$BIN/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -max_total_time="$left" -max_len=65536 \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
      > "$LOGS/$t.slice.log" 2>&1 || rc=$?; } 2> "$LOGS/$t.time"
    cat "$LOGS/$t.slice.log" >> "$LOGS/$t.log"
    slice_cpu=$(awk '{printf "%d", $1 + $2}' "$LOGS/$t.time")
    slice_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.slice.log" | tail -1)
    cpu=$((cpu + ${slice_cpu:-0}))
    runs=$((runs + ${slice_runs:-0}))
    wall=$((wall + $(date +%s) - started))
    # On a saturated machine, give up after four times the time asked for (the CPU time
    # actually had is what is recorded).
    [ "$wall" -lt $((4 * SECONDS_EACH + 60)) ] || break
    # A smoke run (FUZZ_DEV) is one slice of wall time.
    [ -z "${FUZZ_DEV:-}" ] || break
  done
  rm -f "$LOGS/$t.slice.log"
  local corpus result=ok
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  [ "$rc" -eq 0 ] || result="CRASH (see $LOGS/$t.log, fuzz/artifacts/$t/)"
  # Replace this target's line (or add to it) under a lock: other runs may be writing theirs.
  (
    flock 9
    touch "$RESULTS"
    if [ -n "${FUZZ_ADD:-}" ]; then
      local old
      old=$(grep -P "^\Q$t\E\t" "$RESULTS" || true)
      if [ -n "$old" ]; then
        wall=$((wall + $(cut -f2 <<< "$old")))
        cpu=$((cpu + $(cut -f3 <<< "$old" | tr -c '0-9\n' '0')))
        runs=$((runs + $(cut -f4 <<< "$old")))
      fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$wall" "$cpu" "$runs" "$corpus" "$result" \
      "$(date -u +%F)" | tee "$LOGS/$t.result"
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
