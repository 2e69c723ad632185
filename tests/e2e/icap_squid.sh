#!/usr/bin/env bash
# pixelwarden as an ICAP service behind a real Squid (Debian's), every part a process on
# loopback: curl → Squid (icap_service … reqmod_precache bypass=on) → pixelwarden icap → Squid
# → a local origin standing in for the vendor (it records what reaches it).
# Checks, for each mode:
#   monitor: the origin gets the request unchanged; the leak is a finding.
#   strip:   the origin gets it without the identity (query parameter, form field, JSON key),
#            everything else as sent, with a correct Content-Length; findings say "stripped".
#   block:   the client gets pixelwarden's 403 page; nothing reaches the origin.
#   bypass:  with pixelwarden killed, Squid still forwards.
# Also Debian's c-icap-client against the service (OPTIONS, REQMOD).
# Needs: squid, c-icap-client (Debian package c-icap), curl, `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$PWD/target/release/pixelwarden
WORK=$(mktemp -d)
chmod 777 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -f "$WORK/squid.pid" ] && kill -9 "$(cat "$WORK/squid.pid")" 2>/dev/null || true
  pkill -9 -f "squid -N -f $WORK/squid.conf" 2>/dev/null || true
  if [ "${KEEP_E2E:-}" = "" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
ORIGIN=$(port); ICAP=$(port); SQUID=$(port)
export PIXELWARDEN_FINGERPRINT_KEY=icap-e2e-key

echo "-- origin (stands in for the vendors) on 127.0.0.1:$ORIGIN"
cat > "$WORK/origin.py" <<'PY'
import http.server, json, sys
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        log.write(json.dumps({"method": self.command, "path": self.path, "host": self.headers.get("Host"),
                              "content_length": self.headers.get("Content-Length"), "body": body}) + "\n")
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    do_GET = do_POST = handle_one
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/origin.py" "$ORIGIN" "$WORK/origin.jsonl" &
PIDS+=($!)
wait_port "$ORIGIN"

echo "-- squid on 127.0.0.1:$SQUID, ICAP service icap://127.0.0.1:$ICAP/pixelwarden (bypass=on)"
cat > "$WORK/hosts" <<EOF
127.0.0.1 www.facebook.com graph.facebook.com analytics.tiktok.com origin.example
EOF
cat > "$WORK/squid.conf" <<EOF
http_port 127.0.0.1:$SQUID
http_access allow all
cache deny all
hosts_file $WORK/hosts
dns_nameservers 127.0.0.1
pid_filename $WORK/squid.pid
cache_log $WORK/cache.log
access_log $WORK/access.log
coredump_dir $WORK
shutdown_lifetime 1 seconds
icap_enable on
icap_send_client_ip on
icap_preview_enable on
icap_service_failure_limit -1
icap_service pixelwarden reqmod_precache bypass=on icap://127.0.0.1:$ICAP/pixelwarden
adaptation_access pixelwarden allow all
EOF
squid -N -f "$WORK/squid.conf" > "$WORK/squid.out" 2>&1 &
PIDS+=($!)
wait_port "$SQUID"

start_icap() { # MODE
  "$BIN" icap --listen "127.0.0.1:$ICAP" --mode "$1" --findings-file "$WORK/findings-$1.jsonl" \
    --metrics-listen 127.0.0.1:0 >> "$WORK/icap.log" 2>&1 &
  ICAP_PID=$!
  PIDS+=($ICAP_PID)
  wait_port "$ICAP"
}
EMAIL="anna.svensson@example.se"
HASH=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6
send_all() { # the three leaks through the proxy; prints the HTTP status of each
  : > "$WORK/origin.jsonl"
  curl -s -o "$WORK/r1" -w "%{http_code} " -x "http://127.0.0.1:$SQUID" \
    "http://www.facebook.com:$ORIGIN/tr/?id=123&ev=Purchase&ud%5Bem%5D=anna.svensson%40example.se&cd%5Bcontent_name%5D=Klamydiatest"
  curl -s -o "$WORK/r2" -w "%{http_code} " -x "http://127.0.0.1:$SQUID" -H "Content-Type: application/x-www-form-urlencoded" \
    --data "id=123&ev=Lead&udff%5Bem%5D=$HASH&udff%5Bph%5D=46701740605&es=automatic" "http://www.facebook.com:$ORIGIN/tr/"
  curl -s -o "$WORK/r3" -w "%{http_code}\n" -x "http://127.0.0.1:$SQUID" -H "Content-Type: application/json" \
    --data "{\"data\":[{\"event_name\":\"Purchase\",\"event_time\":1772434811,\"user_data\":{\"em\":[\"$HASH\"],\"client_user_agent\":\"curl\"},\"custom_data\":{\"value\":149,\"currency\":\"SEK\"}}],\"access_token\":\"EAAGe2eTOKEN\"}" \
    "http://graph.facebook.com:$ORIGIN/v19.0/123/events"
  sleep 0.5
}
origin_has() { grep -c -- "$1" "$WORK/origin.jsonl" || true; }

echo "-- monitor: unchanged, found"
start_icap monitor
echo "c-icap-client OPTIONS: $(c-icap-client -i 127.0.0.1 -p "$ICAP" -s pixelwarden -method OPTIONS 2>&1 | grep -E 'Methods|ISTag' | tr -d '\t' | tr '\n' ' ')"
c-icap-client -i 127.0.0.1 -p "$ICAP" -s pixelwarden -req "http://www.facebook.com/tr/?id=1&ev=Lead&ud[em]=anna%40example.se" > "$WORK/cicap.txt" 2>&1
grep -q "No modification" "$WORK/cicap.txt" || grep -q "204" "$WORK/cicap.txt" || { echo "c-icap-client REQMOD: unexpected answer"; cat "$WORK/cicap.txt"; exit 1; }
echo "c-icap-client REQMOD in monitor mode: no modification (204)"
codes=$(send_all)
echo "HTTP status through squid: $codes"
[ "$codes" = "200 200 200" ]
[ "$(wc -l < "$WORK/origin.jsonl")" -eq 3 ]
[ "$(origin_has 'anna.svensson%40example.se')" -eq 1 ] && [ "$(origin_has "udff%5Bem%5D=$HASH")" -eq 1 ] && [ "$(origin_has "\\\\\"em\\\\\"")" -eq 1 ]
sleep 1.2
grep -q '"field":"ud\[em\]"' "$WORK/findings-monitor.jsonl"
grep -q '"field":"udff\[em\]"' "$WORK/findings-monitor.jsonl"
grep -q '"field":"data\[0\].user_data.em\[0\]"' "$WORK/findings-monitor.jsonl"
! grep -q '"action"' "$WORK/findings-monitor.jsonl"
grep -q '"client_ip":"127.0.0.1"' "$WORK/findings-monitor.jsonl"
echo "monitor: the origin got all 3 requests unchanged; findings: $(wc -l < "$WORK/findings-monitor.jsonl")"
kill "$ICAP_PID"; wait "$ICAP_PID" 2>/dev/null || true

echo "-- strip: identity taken out, the rest as sent"
start_icap strip
codes=$(send_all)
echo "HTTP status through squid: $codes"
[ "$codes" = "200 200 200" ]
[ "$(wc -l < "$WORK/origin.jsonl")" -eq 3 ]
[ "$(origin_has 'anna')" -eq 0 ] && [ "$(origin_has "$HASH")" -eq 0 ] && [ "$(origin_has '46701740605')" -eq 0 ]
[ "$(origin_has 'cd%5Bcontent_name%5D=Klamydiatest')" -eq 1 ] && [ "$(origin_has 'es=automatic')" -eq 1 ] && [ "$(origin_has 'EAAGe2eTOKEN')" -eq 1 ]
python3 - "$WORK/origin.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["method"] == "POST":
        assert int(r["content_length"]) == len(r["body"].encode()), r
        if r["body"].startswith("{"):
            b = json.loads(r["body"])
            assert b["data"][0]["custom_data"]["value"] == 149 and b["data"][0]["user_data"]["em"] == [None], b
print("strip: Content-Length matches every rewritten body; JSON still valid")
PY
sleep 1.2
grep -q '"action":"stripped"' "$WORK/findings-strip.jsonl"
echo "strip: the origin got the 3 requests without e-mail, hashed e-mail and phone; stripped findings: $(grep -c '"action":"stripped"' "$WORK/findings-strip.jsonl")"
kill "$ICAP_PID"; wait "$ICAP_PID" 2>/dev/null || true

echo "-- block: 403 from pixelwarden, nothing reaches the origin"
start_icap block
codes=$(send_all)
echo "HTTP status through squid: $codes"
[ "$codes" = "403 403 403" ]
grep -q "Blocked by pixelwarden" "$WORK/r1"
[ "$(wc -l < "$WORK/origin.jsonl")" -eq 0 ]
# A request without personal data still passes.
curl -s -o /dev/null -w "%{http_code}" -x "http://127.0.0.1:$SQUID" "http://www.facebook.com:$ORIGIN/tr/?id=123&ev=PageView" | grep -q 200
sleep 1.2
grep -q '"action":"blocked"' "$WORK/findings-block.jsonl"
echo "block: 3 × 403 with pixelwarden's page, origin untouched, a clean PageView passed"
kill -9 "$ICAP_PID"; wait "$ICAP_PID" 2>/dev/null || true

echo "-- bypass: pixelwarden killed, squid still forwards"
codes=$(send_all)
echo "HTTP status through squid: $codes"
[ "$codes" = "200 200 200" ]
[ "$(wc -l < "$WORK/origin.jsonl")" -eq 3 ]
echo "bypass: with pixelwarden down the 3 requests reached the origin (bypass=on)"
echo "icap e2e passed"
