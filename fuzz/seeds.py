#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the project's own data: the labelled corpus, the
rule packs and their examples, and (when present) the real captures in ../shared/corpus.
Writes fuzz/seeds/<target>/; libFuzzer reads it beside its own growing corpus."""
import gzip, hashlib, json, os, pathlib, sys, tomllib

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "fuzz" / "seeds"
labelled = root / "corpus" / "labelled"
FRAMING = bytes([0, 0])  # block and piece bytes of common::lines: default sizes


def put(target, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


formats = {"squid": "squid", "clf": "clf", "nginx_json": "nginx-json", "zeek": "zeek",
           "zeek_json": "zeek", "eve": "eve", "ecs": "ecs"}
line_formats = ["squid", "clf", "nginx_json", "zeek", "zeek_json", "eve", "ecs"]
for target, folder in formats.items():
    for f in sorted((labelled / folder).glob("*")):
        if target == "zeek_json" and f.suffix != ".json" or target == "zeek" and f.suffix == ".json":
            continue
        data = f.read_bytes()
        put(f"format_{target}", FRAMING + data[:60000])
        put(f"format_{target}", bytes([3, 5]) + data[:60000])
        put("scan_any", FRAMING + data[:60000])
        put("scan_any", FRAMING + gzip.compress(data[:60000]))
        lines = data.splitlines()
        # Zeek TSV lines are only meaningful after the header.
        header = b"\n".join(l for l in lines if l.startswith(b"#")) + b"\n"
        for line in lines[:80]:
            seed = header + line if target == "zeek" else line
            put(f"format_{target}", FRAMING + seed)
            put("kafka_message", bytes([line_formats.index(target)]) + seed)
            put("explain", line)

for har in [labelled / "har" / "session.har"] + sorted((root.parent / "shared" / "corpus").glob("**/*.har")):
    data = har.read_bytes()
    if len(data) <= 1 << 20:
        put("har", data)
        put("scan_any", FRAMING + data)

for pack in sorted((root / "detectors").glob("**/*.toml")):
    text = pack.read_bytes()
    put("rules", text)
    try:
        spec = tomllib.loads(text.decode())
    except Exception:
        continue
    for ex in spec.get("examples", []):
        req = ex.get("request")
        if not req:
            continue
        put("explain", req.split(" ", 1)[-1].encode())
        first = req if " " in req else "GET " + req
        body = ex.get("body", "")
        put("decode", f"{first}\n{ex.get('content_type', '')}\n{body}".encode())

# ICAP: REQMOD messages around the pack examples (GET with null-body, POST with a body, a preview).
for pack in sorted((root / "detectors" / "vendors").glob("*.toml")):
    try:
        spec = tomllib.loads(pack.read_text())
    except Exception:
        continue
    for ex in spec.get("examples", [])[:6]:
        req = ex.get("request")
        if not req or " " not in req:
            continue
        method, url = req.split(" ", 1)
        body = ex.get("body", "").encode()
        http = f"{method} {url} HTTP/1.1\r\nHost: x\r\n"
        if ex.get("content_type"):
            http += f"Content-Type: {ex['content_type']}\r\n"
        http = (http + "\r\n").encode()
        if body:
            enc = f"req-hdr=0, req-body={len(http)}"
            chunks = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        else:
            enc = f"req-hdr=0, null-body={len(http)}"
            chunks = b""
        icap = f"REQMOD icap://127.0.0.1:1344/pixelwarden ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\nEncapsulated: {enc}\r\n\r\n".encode()
        put("icap", icap + http + chunks)
put("icap", b"OPTIONS icap://127.0.0.1:1344/pixelwarden ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n")

print("seeds:", {d.name: len(list(d.iterdir())) for d in sorted(out.iterdir())})
