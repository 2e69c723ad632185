"""Rendering machinery for the held-apart corpus (stdlib only, deterministic).

A *scenario* is one HTTP request plus the findings a careful reviewer expects from
each part of it (URL, body, HAR request headers). The renderers write the same
request into the different log formats; what a format cannot carry (bodies in
Squid/CLF/EVE http events, the scheme in origin-form logs, headers outside HAR)
is not labelled for that format.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import random
import urllib.parse as up

# ---------------------------------------------------------------------------
# small helpers used by the scenario file
# ---------------------------------------------------------------------------


def sha256(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def md5(s: str) -> str:
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def sha1(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def g43(s: str) -> str:
    """Google user-provided-data style: base64url SHA-256 without padding (43 chars)."""
    return base64.urlsafe_b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode().rstrip("=")


def pct(s: str, safe: str = "") -> str:
    """encodeURIComponent-like: spaces become %20."""
    return up.quote(s, safe=safe + "-_.!~*'()")


def plus(s: str) -> str:
    """form encoding: spaces become +."""
    return up.quote_plus(s, safe="-_.*")


def jenc(obj, compact: bool = True) -> str:
    """JSON then percent-encode, like a pixel putting JSON in a query parameter."""
    txt = json.dumps(obj, ensure_ascii=False, separators=(",", ":") if compact else (", ", ": "))
    return pct(txt)


RAW = object()


def qs(pairs) -> str:
    """pairs are (key, already-encoded value); None values are dropped; value RAW emits the key text alone."""
    out = []
    for k, v in pairs:
        if v is None:
            continue
        out.append(k if v is RAW else f"{k}={v}")
    return "&".join(out)


def jdump(obj, style: int = 0) -> str:
    if style == 0:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if style == 1:
        return json.dumps(obj, ensure_ascii=False)
    return json.dumps(obj, ensure_ascii=False, indent=2)


# ---------------------------------------------------------------------------
# scenario model
# ---------------------------------------------------------------------------

LINE_FORMATS = ["squid", "clf", "nginx", "zeek", "zeekjson", "eve", "har", "ecs"]
BODY_FORMATS = ["nginx", "zeek", "zeekjson", "eve", "har", "ecs"]

FILES = {
    "squid": "squid/access.log",
    "clf": "clf/combined.log",
    "vhost": "clf/vhost_combined.log",
    "nginx": "nginx-json/access.jsonl",
    "zeek": "zeek/http.log",
    "zeekjson": "zeek/http.json",
    "eve": "eve/eve.json",
    "evehttp": "eve/eve.json",
    "har": "har/session.har",
    "ecs": "ecs/ecs.jsonl",
}

BROWSER_UA = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Mobile Safari/537.36",
]


class Scn:
    """One request. Labels are 'class/type' strings."""

    def __init__(self, sid, vendor, kind, method, url, *, body=None, ctype=None, headers=None,
                 referer=None, U=(), B=(), H=(), google=False, gcs_denied=False, twin_second=False,
                 note="", bodyless=False, vhost=False, group=None, only=None, zeek_trunc=None,
                 BZ=None, ua=None, status=None, resp_mime=None, also=()):
        self.sid = sid
        self.vendor = vendor
        self.kind = kind            # pixel | capi | script | web | connect
        self.method = method
        self.url = url              # absolute URL, or host:port for CONNECT
        self.body = body
        self.ctype = ctype
        self.headers = headers or []  # extra request headers (HAR only)
        self.referer = referer
        self.U = set(U)
        self.B = set(B)
        self.H = set(H)
        self.google = google
        self.gcs_denied = gcs_denied
        self.twin_second = twin_second
        self.note = note
        self.bodyless = bodyless
        self.vhost = vhost
        self.group = group or sid
        self.only = only
        self.zeek_trunc = zeek_trunc
        self.BZ = set(BZ) if BZ is not None else None
        self.ua = ua
        self.status = status
        self.resp_mime = resp_mime
        self.also = list(also)
        for lab in self.U | self.B | self.H | (self.BZ or set()):
            assert lab in VALID_LABELS, (sid, lab)
        if kind not in ("pixel", "capi") and (self.U or self.B or self.H):
            raise AssertionError(f"{sid}: non-tracking traffic must not carry labels")

    # ----- URL pieces
    @property
    def parts(self):
        return up.urlsplit(self.url)

    @property
    def scheme(self):
        return self.parts.scheme

    @property
    def host(self):
        return self.parts.hostname

    @property
    def origin_form(self):
        p = self.parts
        return (p.path or "/") + (("?" + p.query) if p.query else "")

    def tracking(self):
        return self.kind in ("pixel", "capi")

    def labels(self, fmt: str) -> set:
        """The exact set of (class,type) the record in `fmt` must produce."""
        if self.twin_second or not self.tracking():
            return set()
        # transport is derived from the scheme below, never taken from the scenario's own list
        out = {l for l in self.U if not l.startswith("transport/")}
        if fmt in ("nginx", "zeek", "zeekjson", "eve", "har", "ecs"):
            if fmt in ("zeek", "zeekjson") and self.zeek_trunc is not None:
                out |= self.BZ
            else:
                out |= self.B
        if fmt == "har":
            out |= self.H
        # scheme visibility: absolute URLs (squid, clf forward proxy, nginx $scheme, HAR, ECS url.full)
        # or port 80 in zeek/eve. The vhost (origin-form) log has no scheme.
        if self.scheme == "http" and fmt != "vhost":
            out.add("transport/plaintext_http")
        if self.google and self.gcs_denied and any(l.split("/")[0] in ("pii", "hashed_pii") for l in out):
            out.add("consent/denied_but_sent")
        return out

    def note_for(self, fmt: str) -> str:
        n = self.note
        hidden = []
        if self.B and fmt in ("squid", "clf", "evehttp"):
            hidden.append("body not logged in this format: only what the URL shows is labelled")
        if self.H and fmt != "har":
            hidden.append("Authorization header only visible in HAR")
        if self.scheme == "http" and fmt == "vhost":
            hidden.append("origin-form log: scheme unknown, no plaintext finding")
        if fmt in ("zeek", "zeekjson") and self.zeek_trunc is not None:
            hidden.append(f"post_body truncated at {self.zeek_trunc} bytes")
        if hidden:
            n = n + " [" + "; ".join(hidden) + "]"
        return n


CLASSES = {
    "pii": ["email", "phone", "national_id", "payment_card", "iban", "name", "postal_address",
            "date_of_birth", "gender", "ip_address"],
    "hashed_pii": ["email", "phone", "name", "postal_address", "date_of_birth", "gender",
                   "external_id", "ip_address"],
    "sensitive": ["health", "sex_life", "religion", "political", "trade_union", "ethnic_origin",
                  "genetic", "biometric"],
    "secret": ["access_token"],
    "consent": ["denied_but_sent"],
    "transport": ["plaintext_http"],
}
VALID_LABELS = {f"{c}/{t}" for c, ts in CLASSES.items() for t in ts}


# ---------------------------------------------------------------------------
# format selection
# ---------------------------------------------------------------------------

def choose_formats(s: Scn, gi: int):
    """Deterministic spread of scenarios over formats: positives in 2-3 formats,
    negatives in 4, POST bodies in 2-3 body-carrying formats (+ bodyless views)."""
    positive = bool(s.U or s.B or s.H) and not s.twin_second
    if s.only is not None:
        fm = list(s.only)
    elif s.kind == "connect":
        fm = ["squid", "clf"]
    elif s.body is None:
        k = 2 if positive else {"script": 2, "web": 2}.get(s.kind, 4)
        start = (gi * 3) % 8 if positive else (gi * 5) % 8
        fm = [LINE_FORMATS[(start + i) % 8] for i in range(k)]
    else:
        k = (2 + (gi % 3 == 0)) if positive else 4
        start = (gi * 2) % 6
        fm = [BODY_FORMATS[(start + i) % 6] for i in range(k)]
        if s.bodyless:
            views = ["squid", "clf", "evehttp"]
            fm += [views[gi % 3], views[(gi + 1) % 3]]
    fm += [f for f in s.also if f not in fm]
    if s.vhost and "vhost" not in fm:
        fm.append("vhost")
    return fm


# ---------------------------------------------------------------------------
# renderers
# ---------------------------------------------------------------------------

SQUID_UNSAFE = set(' <>"{}|\\^~[]`\'')
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def squid_url(url: str) -> str:
    out = []
    for ch in url:
        o = ord(ch)
        if ch in SQUID_UNSAFE or o < 0x20 or o >= 0x7F:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def vendor_ip(host: str) -> str:
    h = int(hashlib.sha1(host.encode()).hexdigest()[:8], 16)
    return f"{[31, 142, 157, 104, 23, 185][h % 6]}.{(h >> 8) % 250 + 2}.{(h >> 16) % 250 + 2}.{(h >> 24) % 250 + 2}"


def uid_for(seed: str, prefix: str = "C") -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    h = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(alphabet[b % len(alphabet)] for b in h[:17])


def zeek_escape(v: str) -> str:
    if v == "":
        return "(empty)"
    assert "\\" not in v, "backslash in a zeek value: avoid (escaping is writer-specific)"
    out = []
    for ch in v:
        o = ord(ch)
        if o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    return "".join(out)


class Ctx:
    """Per-record context: time, client address, ports."""

    def __init__(self, ts: float, client: str, sport: int, ua: str, rng: random.Random):
        self.ts = ts
        self.client = client
        self.sport = sport
        self.ua = ua
        self.rng = rng


def _status(s: Scn):
    if s.status:
        return s.status
    if s.kind == "connect":
        return 200
    if s.kind == "script":
        return 200
    if "/g/collect" in s.url or "/collect" in s.url and "google" in s.url:
        return 204
    return 200


def _resp(s: Scn):
    if s.resp_mime:
        return s.resp_mime
    if s.kind == "script":
        return "application/javascript"
    if s.kind == "capi":
        return "application/json"
    if s.kind == "web":
        return "text/html"
    return "image/gif"


def _size(s: Scn):
    if s.kind == "script":
        return 48213 + len(s.url) * 7
    if s.kind == "web":
        return 18234 + len(s.url) * 3
    if s.kind == "capi":
        return 87
    if s.kind == "connect":
        return 5641
    return 43 if _resp(s) == "image/gif" else 0


def body_bytes(s: Scn) -> bytes:
    return (s.body or "").encode("utf-8")


def render_squid(s: Scn, c: Ctx) -> str:
    st = _status(s)
    if s.kind == "connect":
        return (f"{c.ts:.3f} {c.rng.randint(800, 30000):6d} {c.client} TCP_TUNNEL/200 {_size(s)} CONNECT "
                f"{s.url} - HIER_DIRECT/{vendor_ip(s.url.split(':')[0])} -")
    mime = _resp(s) if st != 204 else "-"
    return (f"{c.ts:.3f} {c.rng.randint(12, 900):6d} {c.client} TCP_MISS/{st:03d} {_size(s) + 310} {s.method} "
            f"{squid_url(s.url)} - HIER_DIRECT/{vendor_ip(s.host)} {mime}")


def clf_time(ts: float) -> str:
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone(_dt.timedelta(hours=1)))
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d.hour:02d}:{d.minute:02d}:{d.second:02d} +0100"


def _clf_q(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


def render_clf(s: Scn, c: Ctx) -> str:
    st = _status(s)
    if s.kind == "connect":
        return f'{c.client} - - [{clf_time(c.ts)}] "CONNECT {s.url} HTTP/1.1" 200 {_size(s)} "-" "{_clf_q(c.ua)}"'
    size = _size(s)
    return (f'{c.client} - - [{clf_time(c.ts)}] "{s.method} {s.url} HTTP/1.1" {st} {size if size else "-"} '
            f'"{_clf_q(s.referer or "-")}" "{_clf_q(c.ua)}"')


def render_vhost(s: Scn, c: Ctx) -> str:
    st = _status(s)
    size = _size(s)
    return (f'{s.host} {c.client} - - [{clf_time(c.ts)}] "{s.method} {s.origin_form} HTTP/1.1" {st} '
            f'{size if size else "-"} "{_clf_q(s.referer or "-")}" "{_clf_q(c.ua)}"')


def iso(ts: float, micro=False, tz="+00:00") -> str:
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    if micro:
        return d.strftime("%Y-%m-%dT%H:%M:%S.%f") + tz.replace(":", "")
    return d.strftime("%Y-%m-%dT%H:%M:%S") + tz


def render_nginx(s: Scn, c: Ctx, idx: int) -> str:
    b = s.body or ""
    d = {
        "time_iso8601": iso(c.ts),
        "remote_addr": c.client,
        "request_method": s.method,
        "scheme": s.scheme,
        "host": s.host,
        "request_uri": s.origin_form,
        "status": _status(s),
        "body_bytes_sent": _size(s),
        "request_length": len(s.origin_form) + len(body_bytes(s)) + 420,
        "content_type": s.ctype or "",
        "http_referer": s.referer or "",
        "http_user_agent": c.ua,
        "request_body": b,
    }
    if idx % 2 == 0:
        return json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(d, ensure_ascii=False, separators=(", ", ": "))


ZEEK_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method",
               "host", "uri", "referrer", "version", "user_agent", "origin", "request_body_len",
               "response_body_len", "status_code", "status_msg", "info_code", "info_msg", "tags",
               "username", "password", "proxied", "orig_fuids", "orig_filenames", "orig_mime_types",
               "resp_fuids", "resp_filenames", "resp_mime_types", "post_body"]
ZEEK_TYPES = ["time", "string", "addr", "port", "addr", "port", "count", "string", "string", "string",
              "string", "string", "string", "string", "count", "count", "count", "string", "count",
              "string", "set[enum]", "string", "string", "set[string]", "vector[string]",
              "vector[string]", "vector[string]", "vector[string]", "vector[string]", "vector[string]",
              "string"]


def zeek_record(s: Scn, c: Ctx):
    port = 80 if s.scheme == "http" else 443
    bb = body_bytes(s)
    post = None
    if s.body is not None:
        post = s.body
        if s.zeek_trunc is not None:
            post = bb[: s.zeek_trunc].decode("utf-8", "ignore") + "..."
    st = _status(s)
    rmime = _resp(s)
    return {
        "ts": c.ts,
        "uid": uid_for(f"{s.sid}/{c.ts}"),
        "id.orig_h": c.client,
        "id.orig_p": c.sport,
        "id.resp_h": vendor_ip(s.host),
        "id.resp_p": port,
        "trans_depth": 1,
        "method": s.method,
        "host": s.host,
        "uri": s.origin_form,
        "referrer": s.referer,
        "version": "1.1",
        "user_agent": c.ua,
        "request_body_len": len(bb),
        "response_body_len": _size(s),
        "status_code": st,
        "status_msg": {200: "OK", 204: "No Content"}.get(st, "OK"),
        "orig_fuids": [uid_for(f"{s.sid}/{c.ts}/o", "F")] if bb else None,
        "orig_mime_types": [("application/json" if (s.ctype or "").find("json") >= 0 else "text/plain")] if bb else None,
        "resp_fuids": [uid_for(f"{s.sid}/{c.ts}/r", "F")] if _size(s) else None,
        "resp_mime_types": [rmime] if _size(s) and st != 204 else None,
        "post_body": post,
    }


def render_zeek(s: Scn, c: Ctx) -> str:
    r = zeek_record(s, c)
    vals = []
    for f in ZEEK_FIELDS:
        if f == "ts":
            vals.append(f"{r['ts']:.6f}")
            continue
        if f == "tags":
            vals.append("(empty)")
            continue
        v = r.get(f)
        if v is None:
            vals.append("-")
        elif isinstance(v, list):
            vals.append(",".join(zeek_escape(x) for x in v))
        else:
            vals.append(zeek_escape(str(v)))
    return "\t".join(vals)


def zeek_header(open_ts: float) -> list:
    d = _dt.datetime.fromtimestamp(open_ts, _dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
    return [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\thttp",
        f"#open\t{d}",
        "#fields\t" + "\t".join(ZEEK_FIELDS),
        "#types\t" + "\t".join(ZEEK_TYPES),
    ]


def render_zeekjson(s: Scn, c: Ctx) -> str:
    r = zeek_record(s, c)
    out = {}
    for f in ZEEK_FIELDS:
        v = r.get(f) if f != "tags" else []
        if v is None:
            continue
        out[f] = v
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def render_eve(s: Scn, c: Ctx, idx: int, alert: bool) -> str:
    port = 80 if s.scheme == "http" else 443
    st = _status(s)
    http = {
        "hostname": s.host,
        "url": s.origin_form,
        "http_user_agent": c.ua,
    }
    if s.ctype:
        http["http_content_type"] = s.ctype
    if s.referer:
        http["http_refer"] = s.referer
    http.update({"http_method": s.method, "protocol": "HTTP/1.1", "status": st, "length": _size(s)})
    ev = {
        "timestamp": iso(c.ts, micro=True, tz="+00:00"),
        "flow_id": int(hashlib.sha1(f"{s.sid}/{c.ts}".encode()).hexdigest()[:15], 16),
        "in_iface": "ens5",
        "event_type": "alert" if alert else "http",
        "src_ip": c.client,
        "src_port": c.sport,
        "dest_ip": vendor_ip(s.host),
        "dest_port": port,
        "proto": "TCP",
        "tx_id": 0,
    }
    if alert:
        ev["alert"] = {"action": "allowed", "gid": 1, "signature_id": 9300011, "rev": 3,
                       "signature": "LOCAL tracking endpoint request with body",
                       "category": "Potential Corporate Privacy Violation", "severity": 3}
        if s.body is not None:
            http["http_request_body"] = base64.b64encode(body_bytes(s)).decode()
        ev["http"] = http
        ev["app_proto"] = "http"
        ev["direction"] = "to_server"
    else:
        ev["http"] = http
    txt = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
    if idx % 3 == 1:
        txt = txt.replace("/", "\\/")  # older Suricata escaped slashes
    return txt


def har_entry(s: Scn, c: Ctx) -> dict:
    hdrs = [{"name": "Host", "value": s.host}]
    hdrs.append({"name": "User-Agent", "value": c.ua})
    if s.kind in ("pixel", "script", "web"):
        hdrs.append({"name": "Accept", "value": "*/*"})
        hdrs.append({"name": "Accept-Language", "value": "sv-SE,sv;q=0.9,en;q=0.8"})
    if s.referer:
        hdrs.append({"name": "Referer", "value": s.referer})
    if s.ctype:
        hdrs.append({"name": "Content-Type", "value": s.ctype})
    for k, v in s.headers:
        hdrs.append({"name": k, "value": v})
    q = [{"name": k, "value": v} for k, v in up.parse_qsl(s.parts.query, keep_blank_values=True)]
    req = {
        "method": s.method,
        "url": s.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": hdrs,
        "queryString": q,
        "headersSize": -1,
        "bodySize": len(body_bytes(s)),
    }
    if s.body is not None:
        req["postData"] = {"mimeType": s.ctype or "", "text": s.body}
    st = _status(s)
    started = _dt.datetime.fromtimestamp(c.ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    wait = round(c.rng.uniform(8, 240), 3)
    return {
        "startedDateTime": started,
        "time": round(wait + 3.1, 3),
        "request": req,
        "response": {
            "status": st,
            "statusText": {200: "OK", 204: "No Content"}.get(st, "OK"),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": "Content-Type", "value": _resp(s)}],
            "content": {"size": _size(s), "mimeType": _resp(s)},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": _size(s),
        },
        "cache": {},
        "timings": {"send": 0.8, "wait": wait, "receive": 2.3},
        "serverIPAddress": vendor_ip(s.host),
    }


def render_ecs(s: Scn, c: Ctx, idx: int) -> str:
    p = s.parts
    dotted = idx % 4 == 3
    use_full = not (idx % 5 == 2 and s.scheme == "https")
    url = {"domain": s.host, "path": p.path or "/", "scheme": s.scheme}
    if p.query:
        url["query"] = p.query
    if use_full:
        url["full"] = s.url
    else:
        url["original"] = s.origin_form
    req = {"method": s.method}
    if s.referer:
        req["referrer"] = s.referer
    if s.ctype:
        req["mime_type"] = s.ctype.split(";")[0]
    if s.body is not None:
        req["body"] = {"bytes": len(body_bytes(s)), "content": s.body}
    doc = {
        "@timestamp": _dt.datetime.fromtimestamp(c.ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "event": {"kind": "event", "category": ["network", "web"], "dataset": "proxy.access", "outcome": "success"},
        "source": {"ip": c.client, "port": c.sport},
        "destination": {"domain": s.host, "port": 80 if s.scheme == "http" else 443, "ip": vendor_ip(s.host)},
        "url": url,
        "http": {"request": req, "response": {"status_code": _status(s)}, "version": "1.1"},
        "user_agent": {"original": c.ua},
    }
    if dotted:
        flat = {}

        def walk(prefix, o):
            for k, v in o.items():
                key = f"{prefix}.{k}" if prefix else k
                if isinstance(v, dict):
                    walk(key, v)
                else:
                    flat[key] = v
        walk("", doc)
        return json.dumps(flat, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":") if idx % 2 else (", ", ": "))
