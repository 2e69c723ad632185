#!/usr/bin/env bash
# End-to-end comparison: `pixelwarden scan` against ripgrep looking for the pixel hosts, on
# generated Squid logs (200 MiB at 2 % pixel hits, 100 MiB of pixel hits only).
#
#   benches/compare.sh [--big]
#
# Prints the machine, best-of-three wall times, the pixelwarden/rg time ratio, MB/s
# (10^6 bytes per second) and peak RSS. `--big` adds one run over a 1 GiB log for its peak RSS.
#
# Environment:
#   STRICT=1           exit 1 when a target below is missed (otherwise only report)
#   MAX_RATIO=2.0      pixelwarden time / rg time on the 2 % log, at most
#   MIN_MBS=100        pixelwarden MB/s on the pixel-only log, at least (issue #6)
#   MAX_RSS_MIB=64     pixelwarden peak RSS on any log, at most (issue #6: 1 GiB ≤ 64 MiB + state)
#   SKIP_BUILD=1       use the binaries already in the target directory
#   KEEP=1             keep the generated logs (their directory is printed)
#   CARGO_BUILD_JOBS   passed to cargo as usual
set -euo pipefail

BIG=0
for arg in "$@"; do
    case "$arg" in
        --big) BIG=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "compare.sh: unknown argument $arg" >&2
            exit 2
            ;;
    esac
done

STRICT=${STRICT:-0}
MAX_RATIO=${MAX_RATIO:-2.0}
MIN_MBS=${MIN_MBS:-100}
MAX_RSS_MIB=${MAX_RSS_MIB:-64}
RUNS=3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PW=$TARGET_DIR/release/pixelwarden
GEN=$TARGET_DIR/release/examples/gen_egress

command -v rg >/dev/null || {
    echo "compare.sh: ripgrep (rg) is required" >&2
    exit 2
}
command -v python3 >/dev/null || {
    echo "compare.sh: python3 is required" >&2
    exit 2
}

echo "== machine"
echo "nproc:       $(nproc)"
echo "cpu:         $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "memory:      $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "kernel:      $(uname -sr)"
echo "rustc:       $(rustc --version)"
rg_version=$(rg --version)
echo "rg:          ${rg_version%%$'\n'*}"
echo "pixelwarden: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"

echo
echo "== build"
if [[ ${SKIP_BUILD:-0} == 1 ]]; then
    echo "skipped (SKIP_BUILD=1)"
else
    (cd "$ROOT" && cargo build --release --example gen_egress && cargo build --release --bin pixelwarden)
fi
for bin in "$PW" "$GEN"; do
    [[ -x $bin ]] || {
        echo "compare.sh: $bin is missing" >&2
        exit 2
    }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pixelwarden-compare.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
    echo "keeping $WORK"
else
    trap 'rm -rf "$WORK"' EXIT
fi

# The hosts of every vendor endpoint: exact hosts, and the suffix of `*.suffix` wildcards.
# Endpoints on any host (`*`: GA4 /g/collect, Adobe, Matomo) cannot be found by host; their path
# keywords stand in, so rg looks for the same hits pixelwarden does.
HOSTS=$WORK/hosts.txt
python3 - "$ROOT/detectors/vendors" >"$HOSTS" <<'PY'
import pathlib, sys, tomllib

patterns = set()
for pack in sorted(pathlib.Path(sys.argv[1]).glob("*.toml")):
    spec = tomllib.loads(pack.read_text())
    for endpoint in spec.get("endpoints", []):
        for host in endpoint["hosts"]:
            if host == "*":
                patterns.update(endpoint["keywords"])
            else:
                patterns.add(host.removeprefix("*."))
print("\n".join(sorted(patterns)))
PY

MIXED=$WORK/mixed-200m.log
PIXEL=$WORK/pixel-100m.log
echo
echo "== data ($WORK)"
"$GEN" --bytes $((200 << 20)) --pixel-share 0.02 >"$MIXED"
"$GEN" --bytes $((100 << 20)) --pixel-only >"$PIXEL"
mixed_size=$(stat -c %s "$MIXED")
pixel_size=$(stat -c %s "$PIXEL")
for f in "$MIXED" "$PIXEL"; do
    printf '%-16s %11d bytes, %9d lines\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(wc -l <"$f")"
done
echo "rg patterns:     $(wc -l <"$HOSTS") ($(paste -sd' ' "$HOSTS" | cut -c1-120)...)"

# Warm the page cache so both tools read from memory.
cat "$MIXED" "$PIXEL" >/dev/null

# run OUT_PREFIX CMD...: wall seconds and peak RSS (KiB) of one run, stdout discarded.
# rg exits 1 when nothing matched; that is a result, not an error.
run() {
    local prefix=$1
    shift
    local start end rss status=0
    if [[ -x /usr/bin/time ]]; then
        start=$EPOCHREALTIME
        /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null || status=$?
        end=$EPOCHREALTIME
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
    else
        local out
        out=$(python3 -c '
import resource, subprocess, sys, time
start = time.perf_counter()
status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
print(status, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
' "$@")
        read -r status wall rss <<<"$out"
        start=0
        end=$wall
    fi
    if ((status > 1)) || { ((status == 1)) && [[ $1 != rg ]]; }; then
        echo "compare.sh: '$*' exited with $status" >&2
        exit 2
    fi
    printf -v "${prefix}_wall" '%s' "$(python3 -c "print(f'{$end - $start:.3f}')")"
    printf -v "${prefix}_rss" '%s' "$rss"
}

# best FILE NAME: best-of-three for pixelwarden and rg, alternating; sets NAME_* variables.
best() {
    local file=$1 name=$2 i
    local pw_best=999999 rg_best=999999 max=0
    for ((i = 1; i <= RUNS; i++)); do
        run pw "$PW" scan --no-progress --no-summary "$file"
        pw_best=$(python3 -c "print(min($pw_best, $pw_wall))")
        ((pw_rss > max)) && max=$pw_rss
        run rg rg -c -F -f "$HOSTS" "$file"
        rg_best=$(python3 -c "print(min($rg_best, $rg_wall))")
        echo "$name run $i: pixelwarden $pw_wall s ($((pw_rss / 1024)) MiB), rg $rg_wall s"
    done
    printf -v "${name}_pw" '%s' "$pw_best"
    printf -v "${name}_rg" '%s' "$rg_best"
    printf -v "${name}_rss" '%s' "$max"
}

echo
echo "== best of $RUNS (page cache warm)"
best "$MIXED" mixed
best "$PIXEL" pixel
mixed_hits=$(rg -c -F -f "$HOSTS" "$MIXED" || true)
pixel_hits=$(rg -c -F -f "$HOSTS" "$PIXEL" || true)

report() {
    python3 - "$@" <<'PY'
import sys
name, size, pw, rg, rss, hits = sys.argv[1:]
size, pw, rg, rss = int(size), float(pw), float(rg), int(rss)
print(f"{name:<12} {pw:>8.3f} {rg:>8.3f} {pw / rg:>7.2f} {size / pw / 1e6:>9.1f} {size / rg / 1e6:>9.1f} {rss / 1024:>10.1f} {hits:>9}")
PY
}
echo
printf '%-12s %8s %8s %7s %9s %9s %10s %9s\n' file "pw s" "rg s" ratio "pw MB/s" "rg MB/s" "pw RSS MiB" "rg lines"
report "2% pixels" "$mixed_size" "$mixed_pw" "$mixed_rg" "$mixed_rss" "$mixed_hits"
report "pixel-only" "$pixel_size" "$pixel_pw" "$pixel_rg" "$pixel_rss" "$pixel_hits"

max_rss=$((mixed_rss > pixel_rss ? mixed_rss : pixel_rss))
if ((BIG)); then
    BIGLOG=$WORK/egress-1g.log
    rm -f "$MIXED" "$PIXEL"
    echo
    echo "== 1 GiB (2 % pixels), one run"
    "$GEN" --bytes $((1 << 30)) --pixel-share 0.02 >"$BIGLOG"
    cat "$BIGLOG" >/dev/null
    run big "$PW" scan --no-progress --no-summary "$BIGLOG"
    python3 -c "print(f'pixelwarden: {$big_wall:.3f} s, {$(stat -c %s "$BIGLOG") / $big_wall / 1e6:.1f} MB/s, peak RSS {$big_rss / 1024:.1f} MiB')"
    ((big_rss > max_rss)) && max_rss=$big_rss
    rm -f "$BIGLOG"
fi

echo
echo "== targets"
missed=0
check() {
    local label=$1 ok=$2
    if [[ $ok == True ]]; then
        echo "ok      $label"
    else
        echo "MISSED  $label"
        missed=1
    fi
}
check "pixelwarden/rg time ratio on the 2% log $(python3 -c "print(f'{$mixed_pw / $mixed_rg:.2f}')") <= $MAX_RATIO" \
    "$(python3 -c "print($mixed_pw / $mixed_rg <= $MAX_RATIO)")"
check "pixel-only throughput $(python3 -c "print(f'{$pixel_size / $pixel_pw / 1e6:.1f}')") MB/s >= $MIN_MBS" \
    "$(python3 -c "print($pixel_size / $pixel_pw / 1e6 >= $MIN_MBS)")"
check "peak RSS $(python3 -c "print(f'{$max_rss / 1024:.1f}')") MiB <= $MAX_RSS_MIB" \
    "$(python3 -c "print($max_rss / 1024 <= $MAX_RSS_MIB)")"
if ((missed)) && [[ $STRICT == 1 ]]; then
    echo "compare.sh: target missed (STRICT=1)" >&2
    exit 1
fi
