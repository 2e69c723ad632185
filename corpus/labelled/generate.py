#!/usr/bin/env python3
"""Generate pixelwarden's labelled corpus: the same kind of egress traffic rendered in eight
log formats, plus labels.jsonl (the findings each record must produce) and README.md.

Python 3.11, standard library only. Deterministic: string-seeded random.Random per format, fixed
timestamps from 2024-03-04T08:00:00Z, no dict/set iteration without a fixed order, so two runs
write identical bytes.

Every record is built once as an abstract request (`Req`) whose expected findings are declared
by hand in the scenario that builds it. Before anything is written, an independent checker
(`expected_by_rules`) re-derives the findings from the request bytes using the label rules in
README.md and the script stops if the two disagree, or if a record puts a health term, an e-mail
or a personnummer somewhere the rules do not settle (the ambiguity guard).

Run:  python3 generate.py      (writes next to this file)
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = "pixelwarden-labelled-corpus-v1"
T0 = datetime(2024, 3, 4, 8, 0, 0, tzinfo=timezone.utc)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# --------------------------------------------------------------------------------------------
# hashing, personnummer
# --------------------------------------------------------------------------------------------


def sha256(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def md5(s: str) -> str:
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def b64sha(s: str) -> str:
    """SHA-256, base64url, unpadded (43 chars): Google user-provided-data encoding."""
    return base64.urlsafe_b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode().rstrip("=")


PLACEHOLDER_PLAINTEXTS = ["", "undefined", "null", "test", "[object Object]"]
PLACEHOLDERS = {sha256(p): p for p in PLACEHOLDER_PLAINTEXTS}
for _prefix, _plain in [("e3b0c442", ""), ("eb045d78", "undefined"), ("74234e98", "null"),
                        ("9f86d081", "test"), ("b28c94b2", "[object Object]")]:
    assert sha256(_plain).startswith(_prefix), _plain


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


def luhn_ok(ten: str) -> bool:
    return luhn_digit(ten[:9]) == ten[9]


def make_pnr(date8: str, serial3: str, form: str, wrong_check: bool = False) -> str:
    """date8 = YYYYMMDD (day may be +60 for samordningsnummer)."""
    yymmdd = date8[2:]
    check = luhn_digit(yymmdd + serial3)
    if wrong_check:
        check = str((int(check) + 3) % 10)
    if form == "short":
        return f"{yymmdd}-{serial3}{check}"
    if form == "long":
        return f"{date8}-{serial3}{check}"
    if form == "digits12":
        return f"{date8}{serial3}{check}"
    if form == "digits10":
        return f"{yymmdd}{serial3}{check}"
    raise ValueError(form)


PEOPLE = {
    # phone numbers: PTS range reserved for fiction (070-174 06 05 .. 070-174 06 99), Ofcom drama range
    "anna": dict(em="anna.svensson@example.se", ph="46701740605", fn="anna", ln="svensson",
                 ct="stockholm", st="ab", zp="11453", db="19870521", ge="f", country="se",
                 sa="storgatan 12", pnr_date="19870521", serial="238"),
    "erik": dict(em="erik.johansson@example.com", ph="46701740642", fn="erik", ln="johansson",
                 ct="goteborg", st="o", zp="41101", db="19791110", ge="m", country="se",
                 sa="vasagatan 3", pnr_date="19791110", serial="929"),
    "maria": dict(em="maria.nilsson@example.org", ph="46701740618", fn="maria", ln="nilsson",
                  ct="malmo", st="m", zp="21119", db="19921225", ge="f", country="se",
                  sa="lilla torg 5", pnr_date="19921225", serial="238"),
    "john": dict(em="john.smith@example.co.uk", ph="447700900123", fn="john", ln="smith",
                 ct="london", st="lnd", zp="sw1a1aa", db="19800101", ge="m", country="gb",
                 sa="1 example street", pnr_date="19800101", serial="111"),
    "sara": dict(em="sara.lind@example.se", ph="46701740677", fn="sara", ln="lind",
                 ct="uppsala", st="c", zp="75320", db="19900307", ge="f", country="se",
                 sa="dragarbrunnsgatan 40", pnr_date="19900367", serial="123"),  # samordningsnr: day 07+60
}

# Personnummer of anna/erik/maria are from Skatteverket's published test series (in the population
# register, never real people). The samordningsnummer and all negatives are computed.
TEST_PNR = {"198705212382", "197911109291", "199212252382"}
PNR_ANNA_LONG = make_pnr("19870521", "238", "long")
PNR_ANNA_SHORT = make_pnr("19870521", "238", "short")
PNR_ANNA_12 = make_pnr("19870521", "238", "digits12")
PNR_ANNA_10 = make_pnr("19870521", "238", "digits10")
PNR_ERIK_SHORT = make_pnr("19791110", "929", "short")
PNR_ERIK_10 = make_pnr("19791110", "929", "digits10")
PNR_MARIA_12 = make_pnr("19921225", "238", "digits12")
for _n in sorted(TEST_PNR):
    assert make_pnr(_n[:8], _n[8:11], "digits12") == _n
SAMORD_SARA_SHORT = make_pnr("19900367", "123", "short")
SAMORD_SARA_LONG = make_pnr("19900367", "123", "long")
BAD_LUHN_ANNA_SHORT = make_pnr("19870521", "238", "short", wrong_check=True)
BAD_LUHN_ERIK_10 = make_pnr("19791110", "929", "digits10", wrong_check=True)
BAD_DATE_12 = make_pnr("19851332", "123", "digits12")          # month 13, Luhn valid
BAD_DATE_SHORT = make_pnr("19850230", "456", "short")          # 30 February, Luhn valid
BAD_DATE_10 = make_pnr("19850231", "202", "digits10")          # 31 February, Luhn valid

# Nordic identity numbers other than the Swedish one, all SYNTHETIC: computed here with each
# country's algorithm (detectors/pii/national-ids.toml, src/detect/validate.rs describe the checks).


def no_controls(nine: str):
    """Norwegian fødselsnummer control digits k1 k2 (mod 11); None when a digit would be 10."""
    d = [int(ch) for ch in nine]
    k1 = 11 - sum(w * x for w, x in zip([3, 7, 6, 1, 8, 9, 4, 5, 2], d)) % 11
    k1 = 0 if k1 == 11 else k1
    if k1 == 10:
        return None
    d.append(k1)
    k2 = 11 - sum(w * x for w, x in zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], d)) % 11
    k2 = 0 if k2 == 11 else k2
    if k2 == 10:
        return None
    return f"{k1}{k2}"


def make_fnr(ddmmyy: str, first_individual: int) -> str:
    for i in range(first_individual, 500):
        ctl = no_controls(f"{ddmmyy}{i:03d}")
        if ctl:
            return f"{ddmmyy}{i:03d}{ctl}"
    raise ValueError(ddmmyy)


HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def make_hetu(ddmmyy: str, sign: str, zzz: str) -> str:
    return f"{ddmmyy}{sign}{zzz}{HETU_CHECK[int(ddmmyy + zzz) % 31]}"


NO_FNR_KARI = make_fnr("241185", 147)                              # 11 digits, both controls valid
NO_FNR_KARI_SPACED = NO_FNR_KARI[:6] + " " + NO_FNR_KARI[6:]       # DDMMYY IIIKK
NO_FNR_BAD = NO_FNR_KARI[:10] + str((int(NO_FNR_KARI[10]) + 1) % 10)  # second control digit wrong
HETU_MATTI = make_hetu("030885", "-", "140")                       # check character is a letter
HETU_BAD = HETU_MATTI[:10] + ("V" if HETU_MATTI[10] != "V" else "W")  # wrong check character
HETU_2000 = make_hetu("150304", "A", "577")                        # born 2004, century sign A


def _first_serial(ddmmyy: str, start: int, pred) -> str:
    for s in range(start, 10000):
        if pred(f"{ddmmyy}{s:04d}"):
            return f"{s:04d}"
    raise ValueError(ddmmyy)


# Danish CPR: date only (no check digit since 2007). Serials are picked so that the same digits are
# NOT also a valid Swedish personnummer (Luhn) and the 9 first digits do not happen to form a valid
# Finnish check: each number is then a Danish CPR only, whichever detector looks at it.
def _not_se_not_fi(ten: str) -> bool:
    return not luhn_ok(ten) and HETU_CHECK[int(ten[:9]) % 31] != ten[9]


CPR_METTE_10 = "240185" + _first_serial("240185", 1234, _not_se_not_fi)
CPR_METTE = CPR_METTE_10[:6] + "-" + CPR_METTE_10[6:]
CPR_BAD_DATE = "310285-" + _first_serial("310285", 1234, _not_se_not_fi)   # 31 February
CPR_BAD_DATE_10 = CPR_BAD_DATE.replace("-", "")

# Payment cards: public test numbers of the card schemes (never issued to a person).
CARD_VISA_GROUPED = "4012 8888 8888 1881"
CARD_MC_BARE = "5425233430109903"
CARD_AMEX_GROUPED = "3782 822463 10005"
CARD_LUHN_BAD = "4012 8888 8888 1882"       # fails Luhn
CARD_FILLER = "4111 1111 1111 1111"         # two distinct digits: a filler, not a card


def make_iban(country: str, bban: str) -> str:
    n = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{country}{98 - n % 97:02d}{bban}"


def group4(s: str) -> str:
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


IBAN_SE = make_iban("SE", "91500000091501234568")     # fictional account, check digits computed
IBAN_GB = make_iban("GB", "EXMP60901234567890")
IBAN_DE = make_iban("DE", "500105170648489890")
IBAN_SE_GROUPED = group4(IBAN_SE)
IBAN_BAD = group4(IBAN_SE[:2] + f"{(int(IBAN_SE[2:4]) + 1) % 100:02d}" + IBAN_SE[4:])  # check digits off by one
IBAN_LOWER = IBAN_DE.lower()                          # lower case: not the IBAN form the rules accept

# Phone numbers in the forms of phones.toml: Ofcom drama range (020 7946 0xxx), the US 555-01xx
# fiction range, and the national examples of the pack for NO, DK, FI and DE.
PHONE_NO = "412 34 567"
PHONE_NO_E164 = "+47 412 34 567"
PHONE_DK = "32 12 34 56"
PHONE_FI = "040 123 4567"
PHONE_DE = "0151 2345 6789"
PHONE_GB = "020 7946 0018"
PHONE_US = "(201) 555-0123"
PHONE_US_E164 = "+1 201 555 0123"
PHONE_BARE_NO = "41234567"                  # ungrouped digit run: not a phone in free text

PEOPLE.update({
    "kari": dict(em="kari.nordmann@example.com", ph="4741234567", fn="kari", ln="nordmann", ct="bergen",
                 st="", zp="5003", db="19851124", ge="f", country="no", sa="strandgaten 1"),
    "mette": dict(em="mette.hansen@example.com", ph="4532123456", fn="mette", ln="hansen", ct="aarhus",
                  st="", zp="8000", db="19850124", ge="f", country="dk", sa="store torv 1"),
    "matti": dict(em="matti.virtanen@example.com", ph="358401234567", fn="matti", ln="virtanen",
                  ct="tampere", st="", zp="33100", db="19850803", ge="m", country="fi", sa="hämeenkatu 1"),
    "jane": dict(em="jane.doe@example.com", ph="12015550123", fn="jane", ln="doe", ct="newark", st="nj",
                 zp="07102", db="19900704", ge="f", country="us", sa="1 example avenue"),
})

# --------------------------------------------------------------------------------------------
# sites and constants
# --------------------------------------------------------------------------------------------

SITES = {
    "apotek": dict(origin="https://www.apotek-exempel.se", px="902134567812345", tid="G-7QXK2M4ZP1",
                   sgtm="metrics.apotek-exempel.se"),
    "halso": dict(origin="https://www.halsoshop.example", px="1187654321098765", tid="G-KB9Y2WQ3RT"),
    "klinik": dict(origin="https://www.klinik-exempel.se", px="771100223344556", tid="G-3NDV8LJ6CE",
                   sgtm="analys.klinik-exempel.se"),
    "shop": dict(origin="https://www.example.com", px="640022117733991", tid="G-EX4MPL3W2Z"),
    "bak": dict(origin="https://www.bakverk-exempel.se", px="558812004477201", tid="G-Z8R1TPQ4MM"),
    "se": dict(origin="https://www.example.se", px="330099887766554", tid="G-SE5HQ9X2LA",
               sgtm="sgtm.example.se"),
}

UA = {
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "safari": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "edge": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
    "capi_php": "fbbizsdk-php-v19.0.0",
    "capi_node": "fbbizsdk-nodejs-v19.0.1",
    "sgtm": "Google-Server-Side-Tagging (sgtm.example.se)",
    "apt": "Debian APT-HTTP/1.3 (2.6.1)",
    "curl": "curl/8.5.0",
    "winupd": "Microsoft-Delivery-Optimization/10.0",
    "ocsp": "ocspd/1.0.3",
    "python": "python-requests/2.31.0",
}
BROWSERS = ["chrome", "safari", "firefox", "edge"]

H = ("sensitive", "health")
PE = ("pii", "email")
PP = ("pii", "phone")
PN = ("pii", "national_id")
PNAME = ("pii", "name")
PADDR = ("pii", "postal_address")
PDOB = ("pii", "date_of_birth")
PGEN = ("pii", "gender")
PIP = ("pii", "ip_address")
HE = ("hashed_pii", "email")
HP = ("hashed_pii", "phone")
HN = ("hashed_pii", "name")
HA = ("hashed_pii", "postal_address")
HD = ("hashed_pii", "date_of_birth")
HG = ("hashed_pii", "gender")
HX = ("hashed_pii", "external_id")
SEC = ("secret", "access_token")
TRANSPORT = ("transport", "plaintext_http")
CONSENT = ("consent", "denied_but_sent")

ALL_TYPES = [HE, HP, HN, HA, HD, HG, HX, PE, PP, PN, PNAME, PADDR, PDOB, PGEN, PIP, H, SEC,
             TRANSPORT, CONSENT]


def enc_uri_component(v: str) -> str:
    """JavaScript encodeURIComponent."""
    return quote(v, safe="!'()*~-._")


def query_string(pairs, brackets_raw=True) -> str:
    out = []
    for k, v in pairs:
        name = quote(k, safe="[]") if brackets_raw else quote(k, safe="")
        out.append(f"{name}={enc_uri_component(v)}")
    return "&".join(out)


def form_body(pairs) -> str:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)


def multipart_body(pairs, boundary: str) -> str:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in pairs]
    return "".join(parts) + f"--{boundary}--\r\n"


def ip_for(host: str) -> str:
    h = int(md5(host)[:4], 16)
    if host.endswith("facebook.com") or host.endswith("facebook.net"):
        return f"198.51.100.{h % 200 + 20}"
    if "google" in host:
        return f"192.0.2.{h % 200 + 20}"
    return f"203.0.113.{h % 200 + 20}"


# --------------------------------------------------------------------------------------------
# the abstract request
# --------------------------------------------------------------------------------------------


class Req:
    def __init__(self, kind, method="GET", scheme="https", host="", target="/", *, body=None,
                 ctype=None, referer=None, ua="chrome", status=200, resp_size=0, resp_mime="-",
                 q_labels=(), b_labels=(), ga4_denied=False, note="", pairs=None, port=None,
                 enc_brackets=False, form_params=None, raw=None):
        self.kind = kind                  # pixel | ordinary | connect | garbage | dns | tls
        self.method = method
        self.scheme = scheme
        self.host = host
        self.target = target              # origin-form request target: path + query, as on the wire
        self.body = body
        self.ctype = ctype
        self.referer = referer
        self.ua = UA.get(ua, ua)
        self.status = status
        self.resp_size = resp_size
        self.resp_mime = resp_mime
        self.q_labels = set(q_labels)     # findings carried by the URL
        self.b_labels = set(b_labels)     # findings carried only by the body
        self.ga4_denied = ga4_denied      # scenario says consent is denied (checked independently)
        self.note = note
        self.pairs = pairs                # Meta parameter list, kept for the privacy_sandbox twin
        self.port = port or (443 if scheme == "https" else 80)
        self.enc_brackets = enc_brackets  # Squid-style %5B/%5D in the logged URL
        self.form_params = form_params    # HAR: postData.params only (percent-encoded names)
        self.raw = raw                    # garbage line text
        self.t = None                     # set by the renderer
        self.client = None
        self.rng_tag = None

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.target}"

    def declared(self, body_visible: bool, scheme_known: bool, duplicate: bool) -> set:
        if self.kind != "pixel" or duplicate:
            return set()
        labels = set(self.q_labels)
        if body_visible:
            labels |= self.b_labels
        if self.ga4_denied and any(c in ("pii", "hashed_pii") for c, _ in labels):
            labels.add(CONSENT)
        if scheme_known and self.scheme == "http":
            labels.add(TRANSPORT)
        return labels


class Ctx:
    def __init__(self, rng: random.Random, t: datetime):
        self.rng = rng
        self.t = t

    @property
    def ms(self) -> int:
        return int(round(self.t.timestamp() * 1000))

    def fbp(self) -> str:
        return f"fb.1.{self.ms - self.rng.randint(10**6, 9 * 10**8)}.{self.rng.randint(10**8, 2 * 10**9)}"

    def cid(self) -> str:
        return f"{self.rng.randint(10**8, 2 * 10**9)}.{int(self.t.timestamp()) - self.rng.randint(86400, 86400 * 90)}"

    def hexid(self, n=12) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))


# --------------------------------------------------------------------------------------------
# Meta pixel
# --------------------------------------------------------------------------------------------


def ud(person: str, keys, prefix="ud", plain=()):
    p = PEOPLE[person]
    out = []
    for k in keys:
        v = p[k]
        out.append((f"{prefix}[{k}]", v if k in plain else sha256(v)))
    return out


def meta_pairs(c: Ctx, px, ev, dl, rl, cd, udl, es, eid, a, rqm):
    ts = c.ms + c.rng.randint(0, 400)
    p = [("id", px), ("ev", ev), ("dl", dl), ("rl", rl), ("if", "false"), ("ts", str(ts))]
    p += [(f"cd[{k}]", v) for k, v in cd]
    p += [("sw", "1920"), ("sh", "1080")]
    p += list(udl)
    p += [("v", "2.9.149"), ("r", "stable")]
    if a:
        p.append(("a", a))
    p += [("ec", str(c.rng.randint(0, 4))), ("o", "4126"), ("fbp", c.fbp()),
          ("cs_est", "true"), ("ler", "empty"), ("it", str(ts - c.rng.randint(900, 9000))),
          ("coo", "false")]
    if es:
        p.append(("es", es))
    p.append(("rqm", rqm))
    if eid:
        p.append(("eid", eid))
    return p


def meta_get(c: Ctx, site, ev, path, *, rl="", cd=(), udl=(), es=None, eid=None, a=None,
             scheme="https", enc=False, sandbox=False, tr_path="/tr/", labels=(), note="", ua=None):
    s = SITES[site]
    pairs = meta_pairs(c, s["px"], ev, s["origin"] + path, rl, cd, udl, es, eid, a,
                       "FGET" if sandbox else "GET")
    path_ = "/privacy_sandbox/pixel/register/trigger/" if sandbox else tr_path
    return Req("pixel", "GET", scheme, "www.facebook.com", path_ + "?" + query_string(pairs),
               referer=s["origin"] + "/", ua=ua or c.rng.choice(BROWSERS),
               status=200, resp_size=0 if sandbox else 44,
               resp_mime="text/plain" if sandbox else "image/gif", q_labels=labels, note=note,
               pairs=pairs, enc_brackets=enc)


def meta_twin(c: Ctx, partner: Req, note: str) -> Req:
    """privacy_sandbox twin of a /tr hit: same parameters, rqm=FGET."""
    pairs = [(k, "FGET" if k == "rqm" else v) for k, v in partner.pairs]
    r = Req("pixel", "GET", partner.scheme, "www.facebook.com",
            "/privacy_sandbox/pixel/register/trigger/?" + query_string(pairs),
            referer=partner.referer, ua=partner.ua, status=200, resp_size=0, resp_mime="text/plain",
            q_labels=partner.q_labels, note=note, pairs=pairs)
    r.twin_of = partner
    return r


def meta_post(c: Ctx, site, ev, path, *, mode="form", rl="", cd=(), udl=(), es=None, eid=None,
              scheme="https", labels=(), note="", har_params_only=False):
    s = SITES[site]
    pairs = meta_pairs(c, s["px"], ev, s["origin"] + path, rl, cd, udl, es, eid, None, "formPOST")
    if mode == "form":
        body, ctype = form_body(pairs), "application/x-www-form-urlencoded"
    else:
        boundary = "----WebKitFormBoundary" + "".join(
            c.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
        body, ctype = multipart_body(pairs, boundary), f"multipart/form-data; boundary={boundary}"
    form_params = None
    if har_params_only:
        form_params = [(quote_plus(k), quote_plus(v)) for k, v in pairs]
    return Req("pixel", "POST", scheme, "www.facebook.com", "/tr/", body=body, ctype=ctype,
               referer=s["origin"] + "/", ua=c.rng.choice(BROWSERS), status=200, resp_size=0,
               resp_mime="text/plain", b_labels=labels, note=note, pairs=pairs, form_params=form_params)


# --------------------------------------------------------------------------------------------
# Meta Conversions API
# --------------------------------------------------------------------------------------------


def capi(c: Ctx, site, event_name, path, user_data, custom_data, *, token=True, labels=(), note="",
         ua="capi_php", scheme="https", partner_agent=None):
    s = SITES[site]
    event = {
        "event_name": event_name,
        "event_time": int(c.t.timestamp()) - c.rng.randint(2, 90),
        "event_id": f"{event_name.lower()}-{c.hexid(10)}",
        "event_source_url": s["origin"] + path,
        "action_source": "website",
        "user_data": user_data,
        "custom_data": custom_data,
    }
    body = {"data": [event]}
    if partner_agent:
        body["partner_agent"] = partner_agent
    if token:
        body["access_token"] = "EAAGcorpusFAKE" + "".join(
            c.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(120))
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Req("pixel", "POST", scheme, "graph.facebook.com", f"/v19.0/{s['px']}/events", body=text,
               ctype="application/json", ua=ua, status=200, resp_size=86,
               resp_mime="application/json", b_labels=labels, note=note)


# --------------------------------------------------------------------------------------------
# GA4
# --------------------------------------------------------------------------------------------

GCD_GRANTED = "13r3r3r2r5l1"
GCD_NOT_SET = "13l3l3l3l1l1"
GCD_DENIED_AUD = "13q3q3q2q5l1"   # ad_user_data (third letter) = q: denied by default and update
GCD_DENIED_AUD_M = "13r3r3m2r5l1"  # third letter m: denied by update


def ga_em(person: str, keys) -> str:
    p = PEOPLE[person]
    vals = {"em": p["em"], "pn": "+" + p["ph"], "fn0": p["fn"], "ln0": p["ln"], "sa0": p["sa"]}
    return "~".join(["tv.1"] + [f"{k}.{b64sha(vals[k])}" for k in keys])


def ga4(c: Ctx, site, path, title, *, host="www.google-analytics.com", scheme="https", en="page_view",
        eps=(), dr="", gcs="G111", gcd=GCD_GRANTED, uid=None, em=None, post_events=None,
        shared_extra=(), labels=(), b_labels=(), denied=False, note="", ua=None, origin=None):
    s = SITES[site]
    origin = origin or s["origin"]
    p = [("v", "2"), ("tid", s["tid"]), ("gtm", "45je43r0v9101749127za200"),
         ("_p", str(c.ms - c.rng.randint(1000, 90000)))]
    if gcs:
        p.append(("gcs", gcs))
    if gcd:
        p.append(("gcd", gcd))
    p += [("npa", "0"), ("dma", "1"), ("cid", c.cid()), ("ul", "sv-se"), ("sr", "1920x1080")]
    if uid:
        p.append(("uid", uid))
    if em:
        p.append(("em", em))
    p += [("_s", str(c.rng.randint(1, 9))), ("sid", str(int(c.t.timestamp()) - c.rng.randint(30, 1500))),
          ("sct", str(c.rng.randint(1, 12))), ("seg", "1"), ("dl", origin + path)]
    if dr:
        p.append(("dr", dr))
    p.append(("dt", title))
    p += list(shared_extra)
    if post_events is None:
        p.append(("en", en))
        p += list(eps)
        p += [("_et", str(c.rng.randint(5, 9000))), ("tfd", str(c.rng.randint(300, 9000)))]
        target = "/g/collect?" + query_string(p)
        body = None
        ctype = None
        method = "GET"
    else:
        target = "/g/collect?" + query_string(p)
        lines = []
        for ev in post_events:
            lines.append(query_string(list(ev) + [("_et", str(c.rng.randint(5, 9000)))]))
        body = "\r\n".join(lines)
        ctype = "text/plain;charset=UTF-8"
        method = "POST"
    return Req("pixel", method, scheme, host, target, body=body, ctype=ctype, referer=origin + "/",
               ua=ua or c.rng.choice(BROWSERS), status=204, resp_size=0, resp_mime="text/plain",
               q_labels=labels, b_labels=b_labels, ga4_denied=denied, note=note)


# --------------------------------------------------------------------------------------------
# ordinary traffic
# --------------------------------------------------------------------------------------------


def plain(c: Ctx, method, url, *, body=None, ctype=None, referer=None, ua=None, status=200, size=None,
          mime="text/html", note=""):
    sp = urlsplit(url)
    target = sp.path or "/"
    if sp.query:
        target += "?" + sp.query
    port = sp.port or (443 if sp.scheme == "https" else 80)
    return Req("ordinary", method, sp.scheme, sp.hostname, target, body=body, ctype=ctype,
               referer=referer, ua=ua or c.rng.choice(BROWSERS), status=status,
               resp_size=size if size is not None else c.rng.randint(300, 90000), resp_mime=mime,
               note=note, port=port)


def connect(c: Ctx, host, note="CONNECT tunnel, domain only"):
    return Req("connect", "CONNECT", "https", host, f"{host}:443", ua=c.rng.choice(BROWSERS),
               status=200, resp_size=c.rng.randint(2000, 90000), resp_mime="-", note=note)


# ordinary catalogue: each returns a Req
def o_fbevents(c):
    return plain(c, "GET", "https://connect.facebook.net/en_US/fbevents.js", referer="https://www.apotek-exempel.se/",
                 mime="application/x-javascript", size=98213, note="Meta loader script, not a hit")


def o_fbconfig(c, site="apotek"):
    s = SITES[site]
    host = s["origin"].split("//")[1]
    return plain(c, "GET", f"https://connect.facebook.net/signals/config/{s['px']}?v=2.9.149&r=stable&domain={host}"
                 f"&hme={sha256(PEOPLE['anna']['em'])}&ex_m=67%2C112%2C99",
                 referer=s["origin"] + "/", mime="application/x-javascript", size=41233,
                 note="Meta pixel config download (carries a hash) - not a hit")


def o_gtag(c, site="apotek"):
    s = SITES[site]
    return plain(c, "GET", f"https://www.googletagmanager.com/gtag/js?id={s['tid']}&l=dataLayer&cx=c",
                 referer=s["origin"] + "/", mime="application/javascript", size=265112, note="gtag.js loader")


def o_gtm_sgtm(c):
    return plain(c, "GET", "https://sgtm.example.se/gtm.js?id=GTM-K7X2PQ9", referer="https://www.example.se/",
                 mime="application/javascript", size=101442, note="first-party GTM script from sGTM host, not a hit")


def o_fb_page(c):
    return plain(c, "GET", "https://www.facebook.com/apotekexempel/", referer="https://www.google.com/",
                 size=512331, note="plain facebook.com page")


def o_fb_plugin(c):
    return plain(c, "GET", "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2Fapotekexempel"
                 "&tabs=timeline&width=340&height=500", referer="https://www.apotek-exempel.se/",
                 size=88412, note="facebook page plugin, not a hit")


def o_graph_me(c):
    return plain(c, "GET", "https://graph.facebook.com/v19.0/me?fields=id%2Cname&access_token=EAAGcorpusFAKEgraphME0000",
                 ua="python", mime="application/json", size=64,
                 note="Graph API call with a token, but not the Conversions API")


def o_login_email(c):
    return plain(c, "GET", "https://api.example.com/v1/login?email=anna.svensson@example.se&return=%2Faccount",
                 referer="https://www.example.com/", mime="application/json", size=312,
                 note="ordinary API call with e-mail in query - not a pixel")


def o_crm_phone(c):
    return plain(c, "GET", "https://crm.example.com/api/contacts?phone=%2B46701740642&fields=name",
                 ua="python", mime="application/json", size=1204, note="CRM lookup with phone - not a pixel")


def o_patient_pnr(c):
    return plain(c, "GET", f"https://journal.klinik-exempel.se/api/v2/patients?pnr={PNR_ANNA_LONG}",
                 ua="python", mime="application/json", size=2210, note="patient API with personnummer - not a pixel")


def o_saas_ticket(c):
    body = json.dumps({"requester": "erik.johansson@example.com", "phone": "+46701740642",
                       "subject": "Leverans av order 4411", "tags": ["klamydiatest"]}, ensure_ascii=False,
                      separators=(",", ":"))
    return plain(c, "POST", "https://app.example-saas.com/api/v1/tickets", body=body, ctype="application/json",
                 ua="python", mime="application/json", size=388, status=201,
                 note="SaaS ticket with e-mail, phone and product - not a pixel")


def o_newsletter_form(c):
    body = "email=maria.nilsson%40example.org&phone=070-174+06+18&consent=1"
    return plain(c, "POST", "https://www.example.se/api/newsletter", body=body,
                 ctype="application/x-www-form-urlencoded", referer="https://www.example.se/nyhetsbrev",
                 mime="application/json", size=27, note="first-party newsletter form - not a pixel")


def o_product_page(c):
    return plain(c, "GET", "https://www.apotek-exempel.se/produkt/klamydiatest-hemma", referer="https://www.google.com/",
                 size=184221, note="the pharmacy page itself (health term) - not a pixel")


def o_search(c):
    return plain(c, "GET", "https://www.google.com/search?q=graviditetstest+apotek&hl=sv", size=301882,
                 note="search engine query - not a pixel")


def o_cdn(c):
    return plain(c, "GET", "https://cdn.example.net/assets/app.4f3c9a1e.js", referer="https://www.example.com/",
                 mime="application/javascript", size=412993, note="CDN asset")


def o_font(c):
    return plain(c, "GET", "https://fonts.gstatic.com/s/inter/v13/UcC73FwrK3iLTeHuS_fvQtMwCp50KnMa1ZL7.woff2",
                 referer="https://www.example.se/", mime="font/woff2", size=48256, note="web font")


def o_img(c):
    return plain(c, "GET", "https://static.example.com/img/logo.svg", referer="https://www.example.com/",
                 mime="image/svg+xml", size=2311, note="static image")


def o_apt(c):
    return plain(c, "GET", "http://deb.debian.org/debian/dists/bookworm/InRelease", ua="apt",
                 mime="application/octet-stream", size=151036, note="OS package index over http")


def o_apt_pkg(c):
    return plain(c, "GET", "http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1-10%2Bdeb12u5_amd64.deb",
                 ua="apt", mime="application/vnd.debian.binary-package", size=315440, note="package download")


def o_update(c):
    return plain(c, "GET", "https://update.example-software.com/v2/check?product=editor&version=5.4.1&channel=stable&os=win64",
                 ua="curl", mime="application/json", size=412, note="software update check")


def o_winupdate(c):
    return plain(c, "GET", "http://download.windowsupdate.example/c/msdownload/update/software/secu/2024/02/"
                 "windows10.0-kb5034763-x64_2c4fd7ef.msu", ua="winupd", mime="application/octet-stream",
                 size=1048576, note="update download over http")


def o_ocsp(c):
    return plain(c, "POST", "http://ocsp.example-ca.com/", body="0Q0O0M0K0I0\t\x06\x05+\x0e\x03\x02\x1a\x05\x00",
                 ctype="application/ocsp-request", ua="ocsp", mime="application/ocsp-response", size=471,
                 note="OCSP over http (binary-ish body)")


def o_ga_js(c):
    return plain(c, "GET", "https://www.google-analytics.com/analytics.js", referer="https://www.bakverk-exempel.se/",
                 mime="text/javascript", size=52920, note="GA loader script, not a hit")


def o_site_page(c, url="https://www.example.se/kontakta-oss"):
    return plain(c, "GET", url, referer="https://www.google.com/", size=c.rng.randint(20000, 90000),
                 note="first-party page")


def o_cart_api(c):
    body = json.dumps({"email": "sara.lind@example.se", "items": [{"sku": "101455", "name": "Ägglossningstest 20 st", "qty": 1}]},
                      ensure_ascii=False, separators=(",", ":"))
    return plain(c, "POST", "https://www.apotek-exempel.se/api/cart", body=body, ctype="application/json",
                 referer="https://www.apotek-exempel.se/produkt/aggloss", mime="application/json", size=233,
                 note="first-party cart API (e-mail + health product) - not a pixel")


def o_oauth(c):
    return plain(c, "GET", "https://login.example-idp.com/oauth2/v2.0/authorize?client_id=4f1e2b&response_type=code"
                 "&login_hint=erik.johansson%40example.com&scope=openid", referer="https://app.example-saas.com/",
                 status=302, size=0, note="OAuth login_hint e-mail - not a pixel")


def o_slack(c):
    return plain(c, "POST", "https://hooks.example-chat.com/services/T000/B000/XXXX", body='{"text":"Deploy klar"}',
                 ctype="application/json", ua="curl", mime="text/plain", size=2, note="webhook")


def o_gstatic_collect_lookalike(c):
    return plain(c, "GET", "https://www.example.com/collect/newsletter?src=footer", referer="https://www.example.com/",
                 size=5120, note="path contains 'collect' but is not /g/collect")


# --------------------------------------------------------------------------------------------
# scenario catalogue (pixel hits). Each scenario declares its labels by hand.
# --------------------------------------------------------------------------------------------

PRODUCTS = {
    "klamydia": ("Klamydiatest hemma", "100234", "249.00", "Självtester"),
    "gravid": ("Graviditetstest digital 2-pack", "100871", "119.00", "Självtester"),
    "aggloss": ("Ägglossningstest 20 st", "101455", "189.00", "Familjeplanering"),
    "alvedon": ("Alvedon 500 mg 20 tabletter", "200113", "49.00", "Värk och feber"),
    "canesten": ("Canesten Kombi", "200998", "159.00", "Underlivsbesvär"),
    "hiv": ("HIV-självtest", "101990", "395.00", "Självtester"),
    "diabetes": ("Blodsockermätare", "300451", "599.00", "Diabetes"),
    "pregnancy_en": ("Pregnancy test 2-pack", "EN-4410", "12.99", "Tests"),
    "tandkram": ("Tandkräm Sensitive 75 ml", "400120", "39.00", "Tandkräm"),
    "mugg": ("Keramikmugg 35 cl", "SE-22871", "129.00", "Kök"),
    "socks": ("Wool socks 3-pack", "EN-1023", "19.90", "Clothing"),
    "havre": ("Havregryn 1 kg", "H-7721", "24.90", "Frukost"),
}


def cd_product(key, with_category=True, value=True):
    name, pid, price, cat = PRODUCTS[key]
    out = [("content_name", name)]
    if with_category:
        out.append(("content_category", cat))
    out += [("content_ids", json.dumps([pid])), ("content_type", "product")]
    if value:
        out += [("value", price), ("currency", "SEK")]
    return out


def pr_item(i, key, qty=1):
    name, pid, price, cat = PRODUCTS[key]
    return (f"pr{i}", f"id{pid}~nm{name}~ca{cat}~pr{price}~qt{qty}")


# ---- Meta positives


def mp_purchase_am(c, person="anna", product="klamydia", **kw):
    udl = ud(person, ["em", "ph", "fn", "ln", "ct", "zp", "country"])
    return meta_get(c, "apotek", "Purchase", f"/kassa/bekraftelse?order=SE{c.rng.randint(100000, 999999)}",
                    cd=cd_product(product) + [("num_items", "1")], udl=udl, eid=f"ord-{c.hexid(8)}",
                    labels={HE, HP, HN, HA, H},
                    note=f"Meta Purchase, manual AM ud[em/ph/fn/ln/ct/zp/country] sha256 + {product} in cd[content_name]", **kw)


def mp_auto_view(c, person="maria", product="gravid", slug="graviditetstest-digital-2-pack", **kw):
    return meta_get(c, "apotek", "ViewContent", f"/produkt/{slug}", cd=cd_product(product, with_category=False),
                    udl=ud(person, ["em", "ph"], prefix="udff"), es="automatic", eid=f"vc-{c.hexid(8)}",
                    labels={HE, HP, H}, note=f"es=automatic udff[em]/udff[ph] sha256 on {slug} product page", **kw)


def mp_contact_lead(c, person="erik", **kw):
    return meta_get(c, "klinik", "Lead", "/kontakta-oss", udl=ud(person, ["fn", "ln", "em"], prefix="udff"),
                    es="automatic", eid=f"lead-{c.hexid(8)}", cd=[("content_name", "Kontaktformulär")],
                    labels={HE, HN}, note="es=automatic udff[fn/ln/em] on /kontakta-oss (no health term)", **kw)


def mp_search(c, term="alvedon", **kw):
    return meta_get(c, "apotek", "Search", f"/sok?q={quote_plus(term)}", cd=[("search_string", term)],
                    labels={H}, note=f"Meta Search cd[search_string]={term}", **kw)


def mp_canesten(c, **kw):
    return meta_get(c, "apotek", "ViewContent", "/p/200998", cd=cd_product("canesten"),
                    labels={H}, note="Meta ViewContent cd[content_name]=Canesten Kombi (neutral URL)", **kw)


def mp_diabetes_category(c, **kw):
    return meta_get(c, "halso", "ViewContent", "/p/300451", cd=cd_product("diabetes"),
                    labels={H}, note="Meta ViewContent cd[content_category]=Diabetes (name neutral, host not a term)", **kw)


def mp_contents_hiv(c, **kw):
    contents = json.dumps([{"id": "101990", "quantity": 1, "item_price": 395, "name": "HIV-självtest"}],
                          ensure_ascii=False, separators=(",", ":"))
    return meta_get(c, "apotek", "AddToCart", "/varukorg",
                    cd=[("contents", contents), ("content_type", "product"), ("value", "395.00"), ("currency", "SEK")],
                    labels={H}, note="Meta AddToCart, health only inside cd[contents] JSON", **kw)


def mp_plain_ud(c, person="john", **kw):
    p = PEOPLE[person]
    udl = [("ud[em]", p["em"]), ("ud[ph]", "+44 7700 900123"), ("ud[fn]", p["fn"]), ("ud[ln]", p["ln"])]
    return meta_get(c, "shop", "CompleteRegistration", "/account/welcome", udl=udl,
                    labels={PE, PP, PNAME}, note="manual AM sent UNHASHED: ud[em], ud[ph] '+44 7700 900123', ud[fn], ud[ln]", **kw)


def mp_plain_ud_se(c, **kw):
    p = PEOPLE["anna"]
    udl = [("ud[em]", p["em"]), ("ud[ph]", "070-174 06 05")]
    return meta_get(c, "se", "Lead", "/kundservice/tack", udl=udl, labels={PE, PP},
                    note="unhashed ud[em] and ud[ph] '070-174 06 05'", **kw)


def mp_plain_demo(c, person="sara", **kw):
    p = PEOPLE[person]
    udl = [("ud[em]", sha256(p["em"])), ("ud[ct]", p["ct"]), ("ud[zp]", p["zp"]), ("ud[db]", p["db"]),
           ("ud[ge]", p["ge"])]
    return meta_get(c, "se", "Purchase", f"/kassan/klar?id={c.rng.randint(10000, 99999)}",
                    cd=[("value", "349.00"), ("currency", "SEK")], udl=udl,
                    labels={HE, PADDR, PDOB, PGEN}, note="ud[em] sha256; ud[ct], ud[zp], ud[db], ud[ge] in plaintext", **kw)


def mp_hashed_demo(c, person="erik", **kw):
    return meta_get(c, "shop", "Purchase", "/checkout/complete", cd=[("value", "59.80"), ("currency", "EUR")],
                    udl=ud(person, ["em", "db", "ge", "st", "zp", "country"]),
                    labels={HE, HD, HG, HA}, note="ud[em/db/ge/st/zp/country] sha256", **kw)


def mp_extid_sha_pnr(c, **kw):
    udl = [("ud[em]", sha256(PEOPLE["anna"]["em"])), ("ud[external_id]", sha256(PNR_ANNA_12))]
    return meta_get(c, "apotek", "InitiateCheckout", "/kassa", udl=udl, cd=[("num_items", "2")],
                    labels={HE, HX}, note="ud[external_id]=sha256(personnummer) + ud[em] sha256", **kw)


def mp_extid_md5(c, **kw):
    udl = [("ud[external_id]", md5("hubspot-contact-88412"))]
    return meta_get(c, "klinik", "PageView", "/om-oss", udl=udl, a="hubspot",
                    labels={HX}, note="ud[external_id] 32-hex (HubSpot md5), a=hubspot", **kw)


def mp_extid_plain_pnr10(c, **kw):
    return meta_get(c, "klinik", "Schedule", "/boka/bekraftelse", udl=[("ud[external_id]", PNR_ERIK_10)],
                    labels={PN}, note=f"ud[external_id]={PNR_ERIK_10}: plain 10-digit personnummer in identity field", **kw)


def mp_dl_email(c, **kw):
    return meta_get(c, "se", "PageView", "/nyhetsbrev/bekrafta?email=anna.svensson%40example.se&src=mail",
                    labels={PE}, note="e-mail in dl query (wire: anna.svensson%2540example.se)", **kw)


def mp_dl_pnr(c, **kw):
    return meta_get(c, "klinik", "PageView", f"/mina-sidor/oversikt?pnr={PNR_ANNA_LONG}",
                    labels={PN}, note=f"personnummer with century {PNR_ANNA_LONG} in dl query", **kw)


def mp_rl_health(c, **kw):
    return meta_get(c, "apotek", "PageView", "/kampanj/fri-frakt",
                    rl="https://www.apotek-exempel.se/sok?q=%C3%A4gglossningstest",
                    labels={H}, note="health only in rl (search for ägglossningstest)", **kw)


def mp_samord_cd(c, **kw):
    return meta_get(c, "klinik", "Schedule", "/boka/klar", cd=[("customer_ref", SAMORD_SARA_SHORT)],
                    labels={PN}, note=f"samordningsnummer {SAMORD_SARA_SHORT} (day+60) in custom cd[customer_ref]", **kw)


def mp_pageview(c, site="shop", path="/", **kw):
    return meta_get(c, site, "PageView", path, labels=set(),
                    note=f"plain Meta PageView on {SITES[site]['origin']}{path}, nothing personal", **kw)


def mp_lone_twin(c, person="anna", **kw):
    return meta_get(c, "halso", "AddToWishlist", "/p/400120", udl=ud(person, ["em"]), eid=f"wl-{c.hexid(8)}",
                    sandbox=True, labels={HE},
                    note="privacy_sandbox trigger WITHOUT a /tr partner in this file: reported normally (ud[em] sha256)", **kw)


def mp_twin_partner(c, person="maria", **kw):
    return meta_get(c, "klinik", "Lead", "/kontakta-oss", udl=ud(person, ["em", "ph"], prefix="udff"), es="automatic",
                    eid=f"lead-{c.hexid(8)}", labels={HE, HP},
                    note="/tr Lead udff[em/ph] sha256 (partner of the following privacy_sandbox twin)", **kw)


def mp_form_post(c, person="anna", product="canesten", **kw):
    return meta_post(c, "apotek", "AddToCart", "/p/200998", mode="form", cd=cd_product(product),
                     udl=ud(person, ["em", "fn"], prefix="udff"), es="automatic", eid=f"atc-{c.hexid(8)}",
                     labels={HE, HN, H}, note="/tr/ POST form-urlencoded (cd%5B..%5D, udff%5Bem%5D names), Canesten", **kw)


def mp_multipart(c, person="erik", **kw):
    return meta_post(c, "halso", "Purchase", "/kassa/tack", mode="multipart",
                     cd=[("content_category", "Diabetes"), ("value", "599.00"), ("currency", "SEK")],
                     udl=ud(person, ["em", "ph"]), eid=f"pur-{c.hexid(8)}",
                     labels={HE, HP, H}, note="/tr/ POST multipart/form-data, ud[em/ph] sha256, cd[content_category]=Diabetes", **kw)


def mp_form_post_plain(c, **kw):
    udl = [("ud[em]", "maria.nilsson@example.org"), ("ud[fn]", "maria"), ("ud[ln]", "nilsson")]
    return meta_post(c, "klinik", "Lead", "/boka", mode="form", udl=udl, eid=f"lead-{c.hexid(8)}",
                     labels={PE, PNAME}, note="/tr/ POST form with unhashed ud[em], ud[fn], ud[ln]", **kw)


# ---- Meta negatives


def mn_start(c, site="apotek", **kw):
    return meta_get(c, site, "PageView", "/", rl="https://www.google.com/", labels=set(),
                    note=f"PageView on {site} start page; only the host could hint health -> nothing", **kw)


def mn_tandkram(c, **kw):
    return meta_get(c, "halso", "ViewContent", "/p/400120", cd=cd_product("tandkram"), labels=set(),
                    note="hard negative: 'Tandkräm Sensitive' is not a health term", **kw)


def mn_kanelbullar(c, **kw):
    return meta_get(c, "bak", "ViewContent", "/recept/kanelbullar", cd=[("content_name", "Recept på kanelbullar"),
                    ("content_category", "Bakning")], labels=set(),
                    note="hard negative: recipe ('recept') on a food site", **kw)


def mn_health_insurance(c, **kw):
    return meta_get(c, "shop", "PageView", "/health-insurance", labels=set(),
                    note="hard negative: generic 'health' page", **kw)


def mn_contact(c, **kw):
    return meta_get(c, "klinik", "PageView", "/kontakta-oss", labels=set(), note="hard negative: /kontakta-oss without AM", **kw)


def mn_ph_undefined(c, **kw):
    u = sha256("undefined")
    udl = [("ud[ph]", u), ("ud[fn]", u), ("ud[ln]", u), ("ud[zp]", u)]
    return meta_get(c, "shop", "PageView", "/about/copyright", udl=udl, labels=set(),
                    note="placeholder hashes only: sha256('undefined') in ud[ph/fn/ln/zp]", **kw)


def mn_test_auto(c, **kw):
    udl = [("udff[fn]", sha256("test")), ("udff[ln]", sha256("test")), ("udff[em]", sha256(""))]
    return meta_get(c, "se", "SubscribedButtonClick", "/kampanj/vinter", udl=udl, es="automatic",
                    labels=set(), note="placeholder hashes only: sha256('test'), sha256('') with es=automatic", **kw)


def mn_null(c, **kw):
    udl = [("ud[em]", sha256("null")), ("ud[external_id]", sha256("[object Object]"))]
    return meta_get(c, "shop", "AddToCart", "/cart", udl=udl, cd=cd_product("socks"), labels=set(),
                    note="placeholder hashes only: sha256('null'), sha256('[object Object]')", **kw)


def mn_nonidentity_hash(c, **kw):
    return meta_get(c, "se", "ViewContent", "/produkt/keramikmugg",
                    cd=cd_product("mugg") + [("customer_hash", sha256(PEOPLE["anna"]["em"]))],
                    eid=c.hexid(32), labels={HX},
                    note="sha256 in cd[customer_hash], a field named for identity -> hashed_pii/external_id (issue 3); 32-hex eid not reported", **kw)


def mn_bad_luhn(c, **kw):
    return meta_get(c, "klinik", "PageView", f"/boka/bekrafta?ref={BAD_LUHN_ANNA_SHORT}", labels=set(),
                    note=f"personnummer-shaped {BAD_LUHN_ANNA_SHORT} with WRONG Luhn digit", **kw)


def mn_bad_luhn_extid(c, **kw):
    return meta_get(c, "klinik", "Schedule", "/boka/klar", udl=[("ud[external_id]", BAD_LUHN_ERIK_10)], labels=set(),
                    note=f"ud[external_id]={BAD_LUHN_ERIK_10}: 10 digits, wrong Luhn -> nothing", **kw)


def mn_bad_date_extid(c, **kw):
    return meta_get(c, "klinik", "Schedule", "/boka/klar", udl=[("ud[external_id]", BAD_DATE_10)], labels=set(),
                    note=f"ud[external_id]={BAD_DATE_10}: Luhn ok but 31 February -> nothing", **kw)


def mn_post_no_body_visible(c, **kw):
    return meta_post(c, "se", "PageView", "/", mode="form", labels=set(),
                     note="/tr/ POST whose body the log cannot show")


# ---- CAPI


def cp_plain_em(c, **kw):
    a = PEOPLE["anna"]
    ud_ = {"em": [a["em"]], "ph": [sha256(a["ph"])], "client_ip_address": "203.0.113.77",
           "client_user_agent": UA["safari"], "fbp": c.fbp(), "fbc": f"fb.1.{c.ms - 50000}.IwAR2xY9zQ"}
    cdata = {"currency": "SEK", "value": 249.0, "content_ids": ["100234"], "content_type": "product"}
    return capi(c, "apotek", "Purchase", "/kassa/bekraftelse", ud_, cdata,
                labels={SEC, PE, HP, PIP}, note="CAPI: access_token + plaintext em + sha256 ph + client_ip_address", **kw)


def cp_hashed_health(c, **kw):
    m = PEOPLE["maria"]
    ud_ = {"em": [sha256(m["em"])], "fn": [sha256(m["fn"])], "ln": [sha256(m["ln"])], "ct": [sha256(m["ct"])],
           "zp": [sha256(m["zp"])], "external_id": [sha256(PNR_MARIA_12)], "fbp": c.fbp()}
    cdata = {"currency": "SEK", "value": 119.0, "content_name": "Graviditetstest digital 2-pack",
             "content_category": "Självtester", "content_ids": ["100871"], "content_type": "product"}
    return capi(c, "apotek", "Purchase", "/kassa/bekraftelse", ud_, cdata, partner_agent="stape-sgtm",
                labels={SEC, HE, HN, HA, HX, H}, note="CAPI hashed em/fn/ln/ct/zp/external_id + graviditetstest in custom_data", **kw)


def cp_plain_ph(c, **kw):
    s = PEOPLE["sara"]
    ud_ = {"em": sha256(s["em"]), "ph": "0701740677", "db": s["db"], "ge": s["ge"],
           "client_user_agent": UA["chrome"]}
    cdata = {"currency": "SEK", "value": 890.0, "order_id": f"K-{c.rng.randint(1000, 9999)}"}
    return capi(c, "klinik", "Schedule", "/boka/klar", ud_, cdata, ua="capi_node",
                labels={SEC, HE, PP, PDOB, PGEN}, note="CAPI string-valued user_data: hashed em, plaintext ph/db/ge", **kw)


def cp_contents_ip(c, **kw):
    e = PEOPLE["erik"]
    ud_ = {"em": [sha256(e["em"])], "client_ip_address": "198.51.100.201", "client_user_agent": UA["edge"]}
    cdata = {"currency": "SEK", "value": 189.0, "contents": [{"id": "101455", "quantity": 1, "title": "Ägglossningstest 20 st"}],
             "content_type": "product"}
    return capi(c, "apotek", "AddToCart", "/p/101455", ud_, cdata,
                labels={SEC, HE, PIP, H}, note="CAPI custom_data.contents title Ägglossningstest + client_ip_address", **kw)


def cp_placeholders(c, **kw):
    ud_ = {"em": [sha256("")], "ph": [sha256("undefined")], "fbp": c.fbp(), "client_user_agent": UA["firefox"]}
    return capi(c, "se", "PageView", "/", ud_, {}, labels={SEC},
                note="CAPI with placeholder hashes only: still an access_token in the body", **kw)


def cp_no_token(c, **kw):
    ud_ = {"fbp": c.fbp(), "fbc": f"fb.1.{c.ms - 80000}.IwAR0pQk3", "client_user_agent": UA["chrome"]}
    return capi(c, "se", "ViewContent", "/produkt/keramikmugg", ud_, {"currency": "SEK", "value": 129.0}, token=False,
                labels=set(), note="CAPI without access_token in body (token in header), only fbp/fbc/UA -> nothing", **kw)


# ---- GA4 positives

GA_HOSTS = ["www.google-analytics.com", "region1.google-analytics.com", "analytics.google.com"]


def gp_pdp_klamydia(c, **kw):
    return ga4(c, "apotek", "/produkt/klamydiatest-hemma", "Klamydiatest hemma | Apotek Exempel",
               dr="https://www.google.com/", labels={H}, note="GA4 page_view on klamydiatest product page (dl + dt)", **kw)


def gp_enhanced(c, gcs="G111", **kw):
    return ga4(c, "apotek", "/kassa/bekraftelse", "Tack för din beställning", en="purchase", gcs=gcs,
               em=ga_em("anna", ["em", "pn"]), eps=[("ep.transaction_id", f"SE{c.rng.randint(100000, 999999)}"),
                                                    ("epn.value", "249"), ("ep.currency", "SEK")],
               labels={HE, HP}, note=f"GA4 enhanced conversions em=tv.1~em.~pn. (gcs={gcs})", **kw)


def gp_enhanced_denied(c, **kw):
    return ga4(c, "se", "/kassan/klar", "Orderbekräftelse", en="purchase", gcs="G100", gcd=GCD_DENIED_AUD,
               em=ga_em("erik", ["em", "fn0", "ln0", "sa0"]), denied=True,
               labels={HE, HN, HA}, note="GA4 em=tv.1~em~fn0~ln0~sa0 while gcs=G100 -> consent/denied_but_sent", **kw)


def gp_uid_email(c, **kw):
    return ga4(c, "shop", "/account", "My account", gcs="G101", uid="john.smith@example.co.uk", denied=True,
               labels={PE}, note="GA4 uid is an e-mail, gcs=G101 (ad_storage denied)", **kw)


def gp_phone_e164(c, **kw):
    return ga4(c, "se", "/kundservice/tack", "Tack", en="generate_lead", gcs=None, gcd=GCD_DENIED_AUD,
               eps=[("ep.phone", "+46701740605"), ("ep.form_id", "callback")], denied=True,
               labels={PP}, note="GA4 ep.phone E.164, gcd ad_user_data=q (denied) -> consent", **kw)


def gp_phone_se(c, **kw):
    return ga4(c, "klinik", "/ring-upp", "Ring upp mig", en="generate_lead",
               eps=[("ep.phone", "070-174 06 42")], labels={PP},
               note="GA4 ep.phone Swedish mobile with separators, consent granted", **kw)


def gp_batch_health(c, gcs="G111", **kw):
    events = [
        [("en", "view_item_list"), ("ep.item_list_name", "Veckans erbjudanden"), pr_item(1, "klamydia"), pr_item(2, "gravid")],
        [("en", "add_to_cart"), pr_item(1, "klamydia"), ("epn.value", "249")],
    ]
    return ga4(c, "apotek", "/kampanj/vecka-10", "Veckans erbjudanden", gcs=gcs, post_events=events,
               b_labels={H}, note="GA4 batched POST (\\r\\n) with pr1 nm Klamydiatest / Graviditetstest", **kw)


def gp_batch_email_health(c, **kw):
    events = [
        [("en", "sign_up"), ("ep.method", "email"), ("ep.user_email", "sara.lind@example.se")],
        [("en", "view_item"), pr_item(1, "alvedon")],
    ]
    return ga4(c, "apotek", "/konto/skapa", "Skapa konto", post_events=events,
               b_labels={PE, H}, note="GA4 batched POST: ep.user_email plaintext + pr1 nm Alvedon", **kw)


def gp_batch_query_health(c, **kw):
    events = [[("en", "page_view")], [("en", "scroll"), ("epn.percent_scrolled", "90")]]
    return ga4(c, "apotek", "/produkt/graviditetstest-digital-2-pack", "Graviditetstest digital 2-pack",
               post_events=events, labels={H},
               note="GA4 POST whose shared query (dl/dt) names graviditetstest; body events neutral", **kw)


def gp_sgtm_pnr12(c, **kw):
    kw.setdefault("host", "sgtm.example.se")
    return ga4(c, "se", "/mina-sidor", "Mina sidor", en="login",
               eps=[("ep.personnummer", PNR_ANNA_12), ("ep.method", "bankid")],
               labels={PN}, note=f"first-party sGTM /g/collect, ep.personnummer={PNR_ANNA_12} (12 digits)", **kw)


def gp_plain_http(c, **kw):
    kw.setdefault("host", "sgtm.example.se")
    return ga4(c, "se", "/", "Välkommen", scheme="http", labels=set(),
               note="GA4 page_view to first-party sGTM over plain http (payload neutral)", **kw)


def gp_dr_health(c, **kw):
    kw.setdefault("host", "region1.google-analytics.com")
    return ga4(c, "apotek", "/kampanj/vecka-10", "Veckans erbjudanden",
               dr="https://www.apotek-exempel.se/sok?q=diabetes", labels={H},
               note="GA4 health only in dr (previous search 'diabetes')", **kw)


def gp_search_depression(c, **kw):
    kw.setdefault("host", "region1.google-analytics.com")
    return ga4(c, "klinik", "/sok", "Sök", en="search",
               eps=[("ep.search_term", "depression självhjälp")], labels={H},
               note="GA4 ep.search_term 'depression'", **kw)


def gp_samord(c, **kw):
    kw.setdefault("host", "analytics.google.com")
    return ga4(c, "klinik", "/boka/klar", "Bokning klar", en="booking",
               eps=[("ep.customer_ref", SAMORD_SARA_LONG)], labels={PN},
               note=f"GA4 samordningsnummer {SAMORD_SARA_LONG} (day 67 = 7+60) in ep.customer_ref", **kw)


def gp_denied_health_only(c, **kw):
    return ga4(c, "apotek", "/produkt/alvedon-500-mg", "Alvedon 500 mg 20 tabletter", gcs="G100", gcd=GCD_DENIED_AUD,
               denied=True, labels={H}, note="GA4 gcs=G100 but only health -> no consent finding (needs pii)", **kw)


def gp_double_encoded(c, **kw):
    # wire value anna.svensson%2540example.se: site code encoded the address before gtag encoded it again
    p = ga4(c, "se", "/logga-in", "Logga in", en="login", eps=[("ep.login_hint", "anna.svensson%40example.se")],
            labels={PE}, note="GA4 ep.login_hint double-encoded e-mail (anna.svensson%2540example.se on the wire)", **kw)
    assert "anna.svensson%2540example.se" in p.target
    return p


def gp_dl_pnr_g110(c, **kw):
    return ga4(c, "klinik", f"/boka/bekraftelse?pnr={PNR_ERIK_SHORT}", "Bekräftelse", gcs="G110", gcd=None,
               denied=True, labels={PN}, note=f"GA4 dl carries {PNR_ERIK_SHORT} (no century), gcs=G110 -> consent", **kw)


def gp_purchase_alvedon(c, **kw):
    return ga4(c, "apotek", "/kassa/bekraftelse", "Tack för din beställning", en="purchase", uid="u-5f8a21c9",
               eps=[("ep.transaction_id", f"SE{c.rng.randint(100000, 999999)}"), ("epn.value", "49"),
                    ("ep.currency", "SEK"), pr_item(1, "alvedon")],
               labels={H}, note="GA4 purchase pr1 nmAlvedon, uid opaque (not pii)", **kw)


def gp_pregnancy_en(c, **kw):
    kw.setdefault("host", "analytics.google.com")
    return ga4(c, "shop", "/p/EN-4410", "Pregnancy test 2-pack - Example Store",
               en="view_item", eps=[("ep.item_brand", "ExampleCare")],
               labels={H}, note="GA4 dt 'Pregnancy test' (English)", **kw)


def gp_uid_email_gcd_m(c, **kw):
    return ga4(c, "halso", "/mitt-konto", "Mitt konto", gcs=None, gcd=GCD_DENIED_AUD_M, uid="maria.nilsson@example.org",
               denied=True, labels={PE}, note="GA4 uid e-mail, gcd ad_user_data=m (denied by update) -> consent", **kw)


def gp_enhanced_g111_full(c, **kw):
    return ga4(c, "halso", "/kassa/tack", "Tack!", en="purchase", em=ga_em("maria", ["em", "pn", "fn0", "ln0"]),
               labels={HE, HP, HN}, note="GA4 em=tv.1 em/pn/fn0/ln0 with gcs=G111 -> no consent finding", **kw)


# ---- GA4 negatives


def gn_home(c, **kw):
    return ga4(c, "shop", "/", "Example Store", uid="u-77c1e0a2", dr="https://www.google.com/", labels=set(),
               note="GA4 page_view, opaque uid, gcs=G111 -> nothing", **kw)


def gn_denied_plain(c, **kw):
    return ga4(c, "se", "/kampanj/vinter", "Vinterrea", gcs="G100", gcd=GCD_DENIED_AUD, labels=set(),
               note="GA4 gcs=G100 cookieless ping without personal data -> nothing", **kw)


def gn_user_hash(c, **kw):
    return ga4(c, "se", "/konto", "Konto", en="login", eps=[("ep.user_hash", sha256(PEOPLE["anna"]["em"]))],
               labels={HX}, note="GA4 ep.user_hash sha256: a field named for identity -> hashed_pii/external_id (issue 3)", **kw)


def gn_bad_date(c, **kw):
    return ga4(c, "klinik", "/medlem", "Medlemssidor", en="member_view", eps=[("ep.member_no", BAD_DATE_12)],
               labels=set(), note=f"GA4 ep.member_no={BAD_DATE_12}: Luhn ok, month 13 -> nothing", **kw)


def gn_bad_date_short(c, **kw):
    return ga4(c, "klinik", f"/boka/bekraftelse?ref={BAD_DATE_SHORT}", "Bekräftelse", labels=set(),
               note=f"GA4 dl ref={BAD_DATE_SHORT}: Luhn ok, 30 February -> nothing", **kw)


def gn_contact_form(c, **kw):
    return ga4(c, "klinik", "/kontakta-oss", "Kontakta oss", en="form_start",
               eps=[("ep.form_id", "kontakt"), ("ep.first_field_id", "namn")], labels=set(),
               note="GA4 form_start on /kontakta-oss -> nothing", **kw)


def gn_tandkram(c, **kw):
    return ga4(c, "halso", "/p/400120", "Tandkräm Sensitive 75 ml", en="view_item", eps=[pr_item(1, "tandkram")],
               labels=set(), note="hard negative: GA4 'Tandkräm Sensitive' item", **kw)


def gn_kanelbullar(c, **kw):
    return ga4(c, "bak", "/recept/kanelbullar", "Recept på kanelbullar", labels=set(),
               note="hard negative: recipe page on a food site", **kw)


def gn_order10(c, **kw):
    return ga4(c, "se", "/kassan/klar", "Orderbekräftelse", en="purchase",
               eps=[("ep.order_id", PNR_ANNA_10), ("epn.value", "349")], labels=set(),
               note=f"GA4 ep.order_id={PNR_ANNA_10}: plain 10 digits outside identity fields -> nothing", **kw)


def gn_bad_luhn_dl(c, **kw):
    return ga4(c, "klinik", f"/boka/bekrafta?ref={BAD_LUHN_ANNA_SHORT}", "Bekräfta bokning", labels=set(),
               note=f"GA4 dl with {BAD_LUHN_ANNA_SHORT} (wrong Luhn) -> nothing", **kw)


def gn_batch_hidden(c, **kw):
    r = gp_batch_health(c, **kw)
    r.note = "GA4 POST, health only in the body which this format does not log -> nothing"
    return r


def gn_health_insurance(c, **kw):
    kw.setdefault("host", "region1.google-analytics.com")
    return ga4(c, "shop", "/health-insurance", "Health insurance for families",
               labels=set(), note="hard negative: generic 'health' page", **kw)


def gn_halso_start(c, **kw):
    return ga4(c, "halso", "/", "Veckans erbjudanden", labels=set(), note="start page of halsoshop.example (host only)", **kw)


# --------------------------------------------------------------------------------------------
# independent rule checker (label semantics of README.md) + ambiguity guard
# --------------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+([A-Za-z]{2,}))(?![A-Za-z0-9-])")
VALID_TLDS = {"se", "com", "org", "net", "uk", "nu", "io", "de", "no", "dk", "fi"}
E164_RE = re.compile(r"(?<![\w+])\+\d{8,15}(?!\d)")
SE_MOBILE_RE = re.compile(r"(?<!\d)07\d[- ]\d{3} ?\d{2} ?\d{2}(?!\d)")
PNR_SEP_RE = re.compile(r"(?<![\d-])(\d{6}|\d{8})[-+](\d{4})(?!\d)")
PNR_12_RE = re.compile(r"(?<!\d)(\d{12})(?!\d)")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
B64_43 = re.compile(r"^[A-Za-z0-9_-]{43}$")
HEALTH_TERMS = [("klamydia", "sub"), ("graviditetstest", "sub"), ("ägglossningstest", "sub"),
                ("alvedon", "prefix"), ("canesten", "prefix"), ("diabet", "prefix"), ("hiv", "word"),
                ("depression", "word"), ("pregnancy test", "word")]
META_KIND = {"em": "email", "ph": "phone", "fn": "name", "ln": "name", "ct": "postal_address",
             "st": "postal_address", "zp": "postal_address", "country": "postal_address",
             "db": "date_of_birth", "ge": "gender", "external_id": "external_id"}
# detectors/identity-field-names.toml (issue 3): fields named for identity, whatever the vendor.
IDENTITY_NAMES = {n: "email" for n in ("email_hash", "hashed_email", "hashedemail", "emailhash", "email_sha256",
                                       "sha256_email", "sha256_email_address", "hashed_email_address", "hem",
                                       "em_hash", "hashed_maids_email", "md5_email", "email_md5")}
IDENTITY_NAMES.update({n: "phone" for n in ("phone_hash", "hashed_phone", "hashedphone", "hashed_phone_number",
                                            "phone_sha256", "sha256_phone", "sha256_phone_number")})
IDENTITY_NAMES.update({n: "external_id" for n in ("user_hash", "userhash", "hashed_user_id", "user_id_hash",
                                                  "customer_hash", "hashed_customer_id")})


def named_identity(key: str, v: str, F: set) -> bool:
    """A hash in a field whose last name segment is an identity name (cd[user_hash], ep.hem)."""
    m = re.fullmatch(r"(?:.*[.\[])?([A-Za-z0-9_]+)\]?", key)
    kind = IDENTITY_NAMES.get(m.group(1).lower()) if m else None
    if kind and (HEX64.match(v) or HEX32.match(v)) and v not in PLACEHOLDERS:
        F.add(("hashed_pii", kind))
        return True
    return False


GA_EM_KIND = {"em": "email", "pn": "phone", "fn0": "name", "ln0": "name", "sa0": "postal_address",
              "ct0": "postal_address", "re0": "postal_address", "pc0": "postal_address", "co0": "postal_address"}


def deep(s: str) -> str:
    for _ in range(3):
        d = unquote(s)
        if d == s:
            break
        s = d
    return s


def layers(s: str):
    out = [s]
    for _ in range(3):
        d = unquote(out[-1])
        if d == out[-1]:
            break
        out.append(d)
    return out


def pnr_date_ok(d: str) -> bool:
    if len(d) == 6:
        cands = ["19" + d, "20" + d]
    else:
        cands = [d]
    for full in cands:
        y, m, dd = int(full[:4]), int(full[4:6]), int(full[6:8])
        if dd > 60:
            dd -= 60
        try:
            date(y, m, dd)
            return True
        except ValueError:
            pass
    return False


def pnr_valid(digits: str) -> bool:
    """digits: 10 or 12 digits without separator."""
    if len(digits) not in (10, 12):
        return False
    return pnr_date_ok(digits[:-4]) and luhn_ok(digits[-10:])


def find_pnr(s: str) -> bool:
    for m in PNR_SEP_RE.finditer(s):
        if pnr_valid(m.group(1) + m.group(2)):
            return True
    for m in PNR_12_RE.finditer(s):
        if pnr_valid(m.group(1)):
            return True
    return False


def find_email(s: str) -> bool:
    return any(m.group(2).lower() in VALID_TLDS for m in EMAIL_RE.finditer(s))


def any_email_shape(s: str) -> bool:
    return bool(EMAIL_RE.search(s))


def has_health(s: str) -> bool:
    n = " " + re.sub(r"[\W_]+", " ", deep(s).lower()) + " "
    for term, mode in HEALTH_TERMS:
        if mode == "sub" and term in n:
            return True
        if mode == "prefix" and (" " + term) in n:
            return True
        if mode == "word" and (" " + term + " ") in n:
            return True
    return False


def url_pathq(u: str) -> str:
    sp = urlsplit(deep(u))
    return sp.path + "?" + sp.query + "#" + sp.fragment


def hash_kind(v: str):
    return bool(HEX64.match(v) or HEX32.match(v))


class Ambiguous(Exception):
    pass


def pixel_kind(r: Req):
    path = r.target.split("?", 1)[0]
    if r.host == "www.facebook.com" and path in ("/tr", "/tr/"):
        return "meta"
    if r.host == "www.facebook.com" and path == "/privacy_sandbox/pixel/register/trigger/":
        return "twin"
    if r.host == "graph.facebook.com" and r.method == "POST" and re.fullmatch(r"/v\d+\.\d+/\d+/events", path):
        return "capi"
    if path == "/g/collect":
        return "ga4"
    return None


def multipart_pairs(body: str, ctype: str):
    boundary = ctype.split("boundary=", 1)[1]
    out = []
    for part in body.split("--" + boundary):
        if not part.strip() or part.strip() == "--":
            continue
        head, _, val = part.partition("\r\n\r\n")
        m = re.search(r'name="([^"]*)"', head)
        out.append((m.group(1), val[:-2] if val.endswith("\r\n") else val))
    return out


def ident_plain(kind_key: str, v: str, F: set):
    if kind_key == "em":
        if find_email(v):
            F.add(PE)
    elif kind_key == "ph":
        if len(re.sub(r"\D", "", v)) >= 7:
            F.add(PP)
    elif kind_key in ("fn", "ln"):
        F.add(PNAME)
    elif kind_key in ("ct", "st", "zp"):
        F.add(PADDR)
    elif kind_key == "db":
        F.add(PDOB)
    elif kind_key == "ge":
        F.add(PGEN)
    elif kind_key == "external_id":
        d = re.sub(r"[-+]", "", v)
        if d.isdigit() and pnr_valid(d):
            F.add(PN)


def ident_value(kind_key: str, v: str, F: set):
    if hash_kind(v):
        if v not in PLACEHOLDERS:
            F.add(("hashed_pii", META_KIND[kind_key]))
    else:
        ident_plain(kind_key, v, F)


def scan_anywhere(v: str, F: set):
    for s in layers(v):
        if find_email(s):
            F.add(PE)
        if E164_RE.search(s) or SE_MOBILE_RE.search(s):
            F.add(PP)
        if find_pnr(s):
            F.add(PN)


def expected_by_rules(r: Req, body_visible: bool, scheme_known: bool) -> set:
    """Re-derive the findings of one pixel hit from its bytes. Raises Ambiguous when a record
    places data where the rules give no clear answer."""
    kind = pixel_kind(r)
    F: set = set()
    query = r.target.split("?", 1)[1] if "?" in r.target else ""
    pairs = parse_qsl(query, keep_blank_values=True)
    health_fields = []    # values in which health terms count
    other_values = []     # every other value (ambiguity guard)
    if kind in ("meta", "twin"):
        if body_visible and r.body:
            if r.ctype.startswith("multipart/"):
                pairs += multipart_pairs(r.body, r.ctype)
            else:
                pairs += parse_qsl(r.body, keep_blank_values=True)
        for k, v in pairs:
            m = re.fullmatch(r"(ud|udff)\[([a-z_]+)\]", k)
            if m:
                ident_value(m.group(2), v, F)
            scan_anywhere(v, F)
            if k in ("dl", "rl"):
                health_fields.append(url_pathq(v))
                other_values.append(urlsplit(deep(v)).hostname or "")
            elif k in ("cd[content_name]", "cd[content_category]", "cd[contents]", "cd[search_string]"):
                health_fields.append(v)
            elif not named_identity(k, v, F):
                other_values.append(v)
    elif kind == "ga4":
        if body_visible and r.body:
            for line in r.body.split("\r\n"):
                pairs += parse_qsl(line, keep_blank_values=True)
        for k, v in pairs:
            scan_anywhere(v, F)
            if k == "uid" and find_email(v):
                F.add(PE)
            if k == "em":
                items = v.split("~")
                assert items[0] == "tv.1", v
                for it in items[1:]:
                    sub, _, hv = it.partition(".")
                    if B64_43.match(hv):
                        F.add(("hashed_pii", GA_EM_KIND[sub]))
                    else:
                        raise Ambiguous(f"plaintext GA4 em sub-field {it}")
            if k in ("dl", "dr"):
                health_fields.append(url_pathq(v))
                other_values.append(urlsplit(deep(v)).hostname or "")
            elif named_identity(k, v, F):
                pass
            elif k == "dt" or k.startswith("ep.") or k.startswith("epn."):
                health_fields.append(v)
            elif re.fullmatch(r"pr\d+", k):
                for f in v.split("~"):
                    if f[:2] in ("nm", "ca"):
                        health_fields.append(f[2:])
                    else:
                        other_values.append(f)
            else:
                other_values.append(v)
        gcs = dict(pairs).get("gcs")
        gcd = dict(pairs).get("gcd")
        denied = gcs in ("G100", "G101", "G110")
        if gcd:
            letters = [ch for ch in gcd[2:] if ch.isalpha()]
            if len(letters) >= 3 and letters[2] in "pqmu":
                denied = True
        if denied != r.ga4_denied and any(c in ("pii", "hashed_pii") for c, _ in F):
            raise Ambiguous(f"consent flag mismatch gcs={gcs} gcd={gcd}")
        if denied and any(c in ("pii", "hashed_pii") for c, _ in F):
            F.add(CONSENT)
    elif kind == "capi":
        if body_visible and r.body:
            doc = json.loads(r.body)
            if "access_token" in doc:
                F.add(SEC)
            for ev in doc["data"]:
                for k, v in ev.get("user_data", {}).items():
                    vals = v if isinstance(v, list) else [v]
                    for x in vals:
                        if k == "client_ip_address":
                            F.add(PIP)
                        elif k in META_KIND:
                            ident_value(k, x, F)
                        elif k in ("client_user_agent", "fbp", "fbc"):
                            other_values.append(x)
                        else:
                            raise Ambiguous(f"user_data key {k}")
                        if k != "client_user_agent":
                            scan_anywhere(x, F)

                def walk(o):
                    if isinstance(o, dict):
                        for x in o.values():
                            walk(x)
                    elif isinstance(o, list):
                        for x in o:
                            walk(x)
                    elif isinstance(o, str):
                        health_fields.append(o)
                        scan_anywhere(o, F)
                walk(ev.get("custom_data", {}))
                for k in ("event_source_url", "event_name", "event_id"):
                    other_values.append(ev.get(k, ""))
                    scan_anywhere(ev.get(k, ""), F)
    else:
        raise AssertionError("not a pixel")
    if any(has_health(x) for x in health_fields):
        F.add(H)
    # ambiguity guard: health terms, e-mail shapes or personal numbers only where the rules settle it
    for x in other_values:
        if has_health(x) and H not in F:
            raise Ambiguous(f"health term in an unchecked field: {x[:80]}")
    for x in [r.referer or ""]:
        if has_health(x) or any_email_shape(deep(x)):
            raise Ambiguous("referer header carries a term or e-mail")
    everything = deep(r.target) + "\n" + (deep(r.body) if (r.body and body_visible) else "")
    if any_email_shape(everything) and PE not in F and not re.search(r"@[A-Za-z0-9.-]+\.example\b", everything):
        raise Ambiguous("e-mail shape not reported")
    if re.search(r"@[A-Za-z0-9.-]+\.example\b", everything):
        raise Ambiguous("e-mail with reserved .example TLD inside a pixel payload")
    if F and r.kind != "pixel":
        raise AssertionError
    if scheme_known and r.scheme == "http":
        F.add(TRANSPORT)
    return F


# --------------------------------------------------------------------------------------------
# per-format traffic lists
# --------------------------------------------------------------------------------------------
# Each entry: a callable (ctx, prev_records) -> Req. `T` wraps a scenario with keyword options.


def T(fn, **kw):
    return lambda c, prev: fn(c, **kw)


def TWIN(note="privacy_sandbox twin of the previous /tr hit (same id/ev/ts/eid): duplicate -> nothing"):
    return lambda c, prev: meta_twin(c, prev[-1], note)


def G(note="garbage line: a record cut off mid-write"):
    return lambda c, prev: Req("garbage", note=note)


SQUID = [
    T(o_fbevents), T(o_fbconfig), T(mp_purchase_am, enc=True), T(o_cdn), T(mn_start),
    T(gp_pdp_klamydia), T(o_login_email), T(mp_auto_view), T(connect, host="www.facebook.com"),
    T(mn_tandkram, enc=True), T(mp_search, term="alvedon"), T(o_apt), T(mp_pageview, site="shop", scheme="http"),
    T(gp_enhanced_denied), T(o_gtag), T(mp_twin_partner), TWIN(), T(o_product_page),
    T(mp_plain_ud, enc=True), T(gp_uid_email), T(o_update), T(gn_home), T(mp_dl_email),
    T(connect, host="region1.google-analytics.com"), T(gp_dr_health), T(mn_ph_undefined, enc=True),
    G(), T(gp_dl_pnr_g110), T(o_fb_page),
    T(mp_extid_plain_pnr10), T(gn_batch_hidden), T(mn_post_no_body_visible), T(gp_phone_se, scheme="http"),
    T(o_graph_me), T(gp_batch_query_health), T(gn_order10), T(o_search), T(mn_bad_luhn),
    T(connect, host="graph.facebook.com"), T(mp_hashed_demo, person="sara", enc=True),
]

CLF = [
    T(o_apt), T(mp_contact_lead), T(o_fbevents), T(mp_canesten), T(gn_denied_plain, host="sgtm.example.se", origin=None),
    T(o_site_page, url="https://www.example.se/"), T(mp_contents_hiv), T(mn_kanelbullar), T(gp_enhanced),
    T(o_crm_phone), T(gp_phone_e164, host="sgtm.example.se"), T(o_font), T(mp_plain_demo), T(mn_health_insurance),
    T(gp_sgtm_pnr12), T(o_site_page, url="https://www.example.se/kontakta-oss"), T(mp_extid_sha_pnr),
    T(gn_user_hash), T(connect, host="www.facebook.com"), T(mp_dl_pnr), T(gp_search_depression),
    T(o_gtm_sgtm), T(gn_bad_date, host="analys.klinik-exempel.se"), T(mp_samord_cd), T(o_patient_pnr),
    T(gp_samord, host="analys.klinik-exempel.se"), T(mn_test_auto), T(gp_double_encoded), T(o_fb_plugin),
    T(mp_purchase_am, person="erik", product="hiv", scheme="http"), T(gp_purchase_alvedon), T(gn_kanelbullar),
    T(o_update), T(gp_pregnancy_en), T(mn_contact), T(o_ga_js), T(gn_halso_start),
]

NGINX = [
    T(gp_batch_health, host="metrics.apotek-exempel.se"), T(o_site_page, url="https://www.example.se/"),
    T(gp_batch_email_health, host="metrics.apotek-exempel.se"), T(o_newsletter_form), T(gp_plain_http),
    T(mp_form_post), T(o_gtm_sgtm), T(gp_enhanced_denied, host="sgtm.example.se"), T(mp_multipart),
    T(cp_plain_em), T(o_cart_api), T(gn_contact_form), T(gn_tandkram), T(cp_plain_ph), T(o_saas_ticket),
    T(gp_denied_health_only, host="metrics.apotek-exempel.se"), T(mp_hashed_demo), T(mn_null),
    T(cp_no_token), T(o_slack), T(mp_extid_md5), T(gp_uid_email_gcd_m), T(o_site_page, url="https://www.example.se/om-oss"),
    T(mn_nonidentity_hash), T(gp_phone_se, host="sgtm.example.se", origin="https://www.example.se"),
    T(o_oauth), T(gn_bad_luhn_dl), T(mp_form_post_plain), T(o_cdn), T(gn_home), T(cp_hashed_health),
    T(o_img), T(mp_twin_partner, person="anna"), TWIN(), T(gp_pdp_klamydia, host="metrics.apotek-exempel.se"),
    T(o_site_page, url="https://www.example.se/produkter?sida=2"),
]

ZEEK_TSV = [
    T(o_apt), T(mp_purchase_am, scheme="http"), T(o_winupdate), T(mp_form_post, person="maria", scheme="http"),
    T(gp_batch_health, scheme="http", host="sgtm.example.se", origin="https://www.example.se"),
    T(o_ocsp), T(mn_tandkram), T(cp_hashed_health), T(o_apt_pkg), T(mp_extid_plain_pnr10, scheme="http"),
    T(gp_enhanced, scheme="http"), T(gn_home), T(o_site_page, url="http://intranet.example.se/lunch"),
    T(gp_samord, scheme="http"), T(mp_lone_twin), T(o_login_email), T(gp_double_encoded, scheme="http"),
    T(mn_ph_undefined), T(mp_plain_ud, scheme="http"), T(o_fbevents), T(gp_dl_pnr_g110, scheme="http"),
    T(mn_kanelbullar), T(mp_rl_health, scheme="http"), T(o_crm_phone), T(mp_multipart, person="anna", scheme="http"),
    T(gn_bad_date), T(o_update), T(gp_denied_health_only, scheme="http"), T(mn_bad_date_extid),
    T(o_saas_ticket), T(gn_order10), T(o_patient_pnr), T(mp_pageview, site="bak", path="/recept", scheme="http"),
    T(o_img), T(gn_health_insurance),
]

ZEEK_JSON = [
    T(o_winupdate), T(mp_auto_view, person="anna", scheme="http"), T(o_apt), T(mp_multipart, scheme="http"),
    T(gp_pdp_klamydia, scheme="http"), T(o_ocsp), T(mn_start, site="halso"), T(cp_plain_em), T(o_newsletter_form),
    T(gp_enhanced_g111_full, scheme="http"), T(mn_test_auto), T(o_site_page, url="http://intranet.example.se/"),
    T(mp_hashed_demo, scheme="http"), T(gp_uid_email, scheme="http"), T(gn_contact_form), T(o_apt_pkg),
    T(mp_dl_email, scheme="http"), T(gp_batch_email_health, host="sgtm.example.se", scheme="http", origin="https://www.example.se"),
    T(o_cdn), T(mn_bad_luhn_extid), T(cp_placeholders), T(o_update), T(gp_phone_e164, scheme="http"),
    T(mn_health_insurance), T(o_login_email), T(mp_form_post_plain, scheme="http"), T(gn_user_hash),
    T(o_oauth), T(gp_search_depression), T(o_graph_me), T(mp_pageview, site="se", path="/", scheme="http"),
    T(gn_halso_start), T(o_img),
]

EVE = [
    "dns:www.facebook.com", T(mp_purchase_am, person="maria", product="gravid", scheme="http"), T(o_apt),
    T(mp_form_post, scheme="http"), "tls:www.facebook.com", T(gp_pdp_klamydia), T(o_winupdate),
    T(cp_plain_em), T(mn_start), T(gp_batch_health, scheme="http", host="sgtm.example.se", origin="https://www.example.se"),
    T(o_ocsp), T(mp_auto_view, scheme="http"), T(gn_denied_plain), T(mp_extid_md5), T(o_site_page, url="http://intranet.example.se/"),
    T(cp_contents_ip), T(mn_kanelbullar), "dns:region1.google-analytics.com", T(gp_enhanced_denied, scheme="http"),
    T(o_crm_phone), T(mp_multipart), T(gn_tandkram), T(o_login_email), T(gp_uid_email), T(mn_null),
    T(o_apt_pkg), T(mp_plain_demo, scheme="http"), T(gp_samord), T(o_fbevents), T(gn_order10),
    "tls:graph.facebook.com", T(mp_search, term="hiv självtest", scheme="http"), T(o_update),
    T(mn_bad_luhn), T(gp_batch_email_health), T(o_patient_pnr),
]

HAR = [
    T(o_site_page, url="https://www.apotek-exempel.se/"), T(o_fbevents), T(o_fbconfig), T(o_gtag),
    T(mn_start, ua="chrome"), T(gn_halso_start, ua="chrome"), T(o_product_page), T(gp_pdp_klamydia, ua="chrome"),
    T(mp_auto_view, person="anna", slug="klamydiatest-hemma", product="klamydia", ua="chrome"),
    T(o_cdn), T(mp_form_post, person="anna", har_params_only=True), T(gp_batch_health, ua="chrome"),
    T(mp_twin_partner, person="anna", ua="chrome"), TWIN(), T(o_cart_api), T(mp_multipart, person="anna"),
    T(gp_enhanced, ua="chrome"), T(mp_lone_twin, ua="chrome"), T(o_font), T(mn_tandkram, ua="chrome"),
    T(gn_tandkram, ua="chrome"), T(mp_pageview, site="shop", scheme="http", ua="chrome", tr_path="/tr"),
    T(o_login_email), T(gp_uid_email_gcd_m, ua="chrome"), T(mn_null, ua="chrome"), T(o_img),
    T(gp_batch_email_health, ua="chrome"), T(mp_plain_ud_se, ua="chrome"), T(gn_kanelbullar, ua="chrome"),
    T(o_gstatic_collect_lookalike), T(mp_rl_health, ua="chrome"), T(gn_denied_plain, ua="chrome"),
    T(o_fb_page), T(gp_enhanced_g111_full, ua="chrome"), T(o_search), T(mp_hashed_demo, person="anna", ua="chrome"),
    T(mp_plain_demo, person="anna", ua="chrome"),
]

ECS = [
    T(o_cdn), T(mp_purchase_am, person="sara", product="aggloss"), T(o_login_email), ("original", T(gp_sgtm_pnr12)),
    T(cp_contents_ip), T(mn_start, site="apotek"), T(gp_dr_health), T(o_fbconfig), ("original", T(gn_denied_plain, host="sgtm.example.se")),
    ("flat", T(mp_auto_view, person="erik")), T(cp_placeholders), T(gn_user_hash), T(o_saas_ticket),
    T(mp_diabetes_category), ("original", T(gp_batch_email_health, host="sgtm.example.se", origin="https://www.example.se")),
    T(o_gtag), T(mp_plain_ud), T(mn_health_insurance), T(gp_phone_e164), T(o_newsletter_form), T(cp_no_token),
    T(mp_extid_sha_pnr, scheme="http"), T(o_font), ("original", T(gp_plain_http)), T(gn_bad_date_short),
    T(mp_lone_twin), T(o_patient_pnr), T(mp_contents_hiv), T(gp_enhanced_g111_full), T(mn_bad_luhn_extid),
    T(o_apt), T(cp_plain_ph), T(gn_kanelbullar), T(o_oauth), T(mp_samord_cd), T(o_graph_me),
    T(gp_denied_health_only), T(o_fb_plugin),
]

# Which formats can show what: (body visible for this record?, scheme knowable?)


def caps(fmt: str, r: Req, style: str = "full"):
    if fmt in ("squid", "clf"):
        body = False
    elif fmt == "eve":
        body = r.eve_alert
    else:
        body = True
    if fmt == "clf":
        scheme = not r.clf_vhost
    elif fmt == "ecs":
        scheme = style != "original"
    else:
        scheme = True
    return body, scheme


# --------------------------------------------------------------------------------------------
# renderers
# --------------------------------------------------------------------------------------------


def client_ip(rng):
    return f"10.0.{rng.choice([0, 0, 1, 2])}.{rng.randint(11, 89)}"


def iso_z(t: datetime, digits=3) -> str:
    frac = f"{t.microsecond:06d}"[:digits]
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"


def clf_time(t: datetime) -> str:
    lt = t + timedelta(hours=1)
    return f"{lt.day:02d}/{MONTHS[lt.month - 1]}/{lt.year}:{lt.strftime('%H:%M:%S')} +0100"


def squid_url(r: Req) -> str:
    u = r.url
    if r.enc_brackets:
        u = u.replace("[", "%5B").replace("]", "%5D")
    return u


def squid_line(r: Req, rng, extra: bool) -> str:
    ts = f"{int(r.t.timestamp())}.{r.t.microsecond // 1000:03d}"
    if r.kind == "garbage":
        return f"{ts} {rng.randint(3, 900):>6} {r.client} TCP_MISS/20"
    elapsed = rng.randint(3, 900) if r.kind != "connect" else rng.randint(5000, 120000)
    if r.kind == "connect":
        code, url, hier, mime = f"TCP_TUNNEL/{r.status:03d}", r.target, f"HIER_DIRECT/{ip_for(r.host)}", "-"
    else:
        code = ("TCP_MISS" if r.status != 304 else "TCP_IMS_HIT") + f"/{r.status:03d}"
        if r.kind == "ordinary" and r.resp_mime in ("font/woff2", "image/svg+xml"):
            code = f"TCP_HIT/{r.status:03d}"
        url, hier, mime = squid_url(r), f"HIER_DIRECT/{ip_for(r.host)}", r.resp_mime
    size = r.resp_size + rng.randint(180, 420)
    user = "-" if rng.random() < 0.8 else rng.choice(["j.berg", "kassa01", "lab-ws07"])
    line = f"{ts} {elapsed:>6} {r.client} {code} {size} {r.method} {url} {user} {hier} {mime}"
    if extra and r.kind != "connect":
        line += f' "{r.referer or "-"}" "{r.ua}"'
    return line


def clf_escape(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\" or o < 32 or o == 127:
            out.append(f"\\x{o:02X}")
        else:
            out.append(ch)
    return "".join(out)


def clf_line(r: Req, vhost: bool) -> str:
    if r.kind == "connect":
        req, size = f"CONNECT {r.target} HTTP/1.1", "-"
    elif vhost:
        req, size = f"{r.method} {r.target} HTTP/1.1", str(r.resp_size)
    else:
        req, size = f"{r.method} {r.url} HTTP/1.1", str(r.resp_size)
    prefix = f"{r.host} " if vhost else ""
    return (f'{prefix}{r.client} - - [{clf_time(r.t)}] "{clf_escape(req)}" {r.status} {size} '
            f'"{clf_escape(r.referer or "-")}" "{clf_escape(r.ua)}"')


def nginx_line(r: Req) -> str:
    lt = r.t + timedelta(hours=1)
    obj = {
        "time_iso8601": lt.strftime("%Y-%m-%dT%H:%M:%S") + "+01:00",
        "remote_addr": r.client,
        "request_method": r.method,
        "scheme": r.scheme,
        "host": r.host,
        "request_uri": r.target,
        "status": str(r.status),
        "http_referer": r.referer or "",
        "http_user_agent": r.ua,
        "content_type": r.ctype or "",
        "request_body": r.body or "",
    }
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


ZEEK_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host",
               "uri", "post_body", "referrer", "version", "user_agent", "origin", "request_body_len",
               "response_body_len", "status_code", "status_msg", "tags", "resp_mime_types"]
ZEEK_TYPES = ["time", "string", "addr", "port", "addr", "port", "count", "string", "string", "string", "string",
              "string", "string", "string", "string", "count", "count", "count", "string", "set[enum]",
              "vector[string]"]
STATUS_MSG = {200: "OK", 201: "Created", 204: "No Content", 302: "Found", 304: "Not Modified"}


def zeek_escape(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if o < 32 or o == 127 or ch == "\\":
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    return "".join(out)


def zeek_uid(rng) -> str:
    return "C" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(17))


def zeek_values(r: Req, rng):
    body = r.body if r.method == "POST" else None
    return {
        "ts": f"{r.t.timestamp():.6f}",
        "uid": zeek_uid(rng),
        "id.orig_h": r.client,
        "id.orig_p": rng.randint(49152, 65535),
        "id.resp_h": ip_for(r.host),
        "id.resp_p": r.port,
        "trans_depth": 1,
        "method": r.method,
        "host": r.host,
        "uri": r.target,
        "post_body": body,
        "referrer": r.referer,
        "version": "1.1",
        "user_agent": r.ua,
        "origin": None,
        "request_body_len": len(r.body.encode("utf-8")) if r.body else 0,
        "response_body_len": r.resp_size,
        "status_code": r.status,
        "status_msg": STATUS_MSG[r.status],
        "tags": [],
        "resp_mime_types": [r.resp_mime] if r.resp_mime not in ("-", None) and r.resp_size else None,
    }


def zeek_tsv_line(v: dict) -> str:
    cols = []
    for f in ZEEK_FIELDS:
        x = v[f]
        if x is None:
            cols.append("-")
        elif isinstance(x, list):
            cols.append("(empty)" if not x else ",".join(zeek_escape(i) for i in x))
        elif isinstance(x, str):
            cols.append("(empty)" if x == "" else zeek_escape(x))
        else:
            cols.append(str(x))
    return "\t".join(cols)


def zeek_json_line(v: dict) -> str:
    obj = {}
    for f in ZEEK_FIELDS:
        if f == "post_body":
            continue
        x = v[f]
        if x is None:
            continue
        if f == "ts":
            x = float(x)
        obj[f] = x
    if v["post_body"] is not None:
        obj["post_body"] = v["post_body"]
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def eve_ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{t.microsecond:06d}+0000"


def eve_line(r: Req, rng, special=None) -> str:
    base = {"timestamp": eve_ts(r.t), "flow_id": rng.randint(10**14, 2 * 10**15), "in_iface": "ens3",
            "event_type": None}
    if special:
        kind, host = special.split(":", 1)
        if kind == "dns":
            base.update({"event_type": "dns", "src_ip": r.client, "src_port": rng.randint(49152, 65535),
                         "dest_ip": "10.0.0.2", "dest_port": 53, "proto": "UDP",
                         "dns": {"version": 2, "type": "query", "id": rng.randint(1, 65535), "rrname": host,
                                 "rrtype": "A", "tx_id": 0, "opcode": 0}})
        else:
            base.update({"event_type": "tls", "src_ip": r.client, "src_port": rng.randint(49152, 65535),
                         "dest_ip": ip_for(host), "dest_port": 443, "proto": "TCP",
                         "tls": {"subject": f"C=US, ST=California, L=Menlo Park, O=Meta Platforms, Inc., CN=*.{host.split('.', 1)[1]}",
                                 "issuerdn": "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert SHA2 High Assurance Server CA",
                                 "serial": "0C:E6:9A:11:52:1D:0F:A5:33:7B:22:90:11:3C:4E:8D", "fingerprint": "5f:a3:1c:9e:07:44:b2:d8:61:0a:39:7e:c5:12:ff:80:6d:29:b3:4a",
                                 "sni": host, "version": "TLS 1.3", "notbefore": "2024-02-05T00:00:00",
                                 "notafter": "2024-05-05T23:59:59", "ja3": {"hash": "773906b0efdefa24a7f2b8eb6985bf37"}}})
        return json.dumps(base, ensure_ascii=False, separators=(",", ":"))
    http = {"hostname": r.host, "url": r.target, "http_user_agent": r.ua}
    if r.resp_mime not in ("-", None):
        http["http_content_type"] = r.resp_mime
    if r.referer:
        http["http_refer"] = r.referer
    http.update({"http_method": r.method, "protocol": "HTTP/1.1", "status": r.status, "length": r.resp_size})
    base.update({"src_ip": r.client, "src_port": rng.randint(49152, 65535), "dest_ip": ip_for(r.host),
                 "dest_port": r.port, "proto": "TCP", "tx_id": rng.randint(0, 6)})
    base["event_type"] = "alert" if r.eve_alert else "http"
    if r.eve_alert:
        kind = pixel_kind(r)
        sig = {"meta": (9100001, "PIXELWARDEN Meta Pixel /tr request"),
               "capi": (9100003, "PIXELWARDEN Meta Conversions API request"),
               "ga4": (9100002, "PIXELWARDEN GA4 /g/collect request")}[kind]
        base["alert"] = {"action": "allowed", "gid": 1, "signature_id": sig[0], "rev": 2, "signature": sig[1],
                         "category": "Potential Corporate Privacy Violation", "severity": 3}
        if r.body:
            http["http_request_body"] = base64.b64encode(r.body.encode("utf-8")).decode()
        base["http"] = http
        base["app_proto"] = "http"
        base["direction"] = "to_server"
    else:
        base["http"] = http
    s = json.dumps(base, ensure_ascii=False, separators=(",", ":"))
    if getattr(r, "eve_old_slashes", False):
        s = s.replace("/", "\\/")
    return s


def har_entry(r: Req, rng) -> dict:
    sp = urlsplit(r.url)
    headers = [{"name": "Host", "value": r.host}, {"name": "User-Agent", "value": r.ua},
               {"name": "Accept", "value": "*/*"}]
    if r.referer:
        headers.append({"name": "Referer", "value": r.referer})
    if r.ctype:
        headers.append({"name": "Content-Type", "value": r.ctype})
    req = {"method": r.method, "url": r.url, "httpVersion": "HTTP/1.1" if r.scheme == "http" else "h2",
           "cookies": [], "headers": headers,
           "queryString": [{"name": k, "value": v} for k, v in parse_qsl(sp.query, keep_blank_values=True)],
           "headersSize": -1, "bodySize": len(r.body.encode("utf-8")) if r.body else 0}
    if r.body is not None:
        if r.form_params is not None:
            req["postData"] = {"mimeType": r.ctype, "params": [{"name": k, "value": v} for k, v in r.form_params]}
        else:
            req["postData"] = {"mimeType": r.ctype, "text": r.body}
    resp = {"status": r.status, "statusText": STATUS_MSG[r.status], "httpVersion": req["httpVersion"], "cookies": [],
            "headers": [{"name": "content-type", "value": r.resp_mime}] if r.resp_mime != "-" else [],
            "content": {"size": r.resp_size, "mimeType": r.resp_mime if r.resp_mime != "-" else "x-unknown"},
            "redirectURL": "", "headersSize": -1, "bodySize": r.resp_size}
    wait = rng.randint(8, 180)
    return {"startedDateTime": iso_z(r.t), "time": wait + 3, "request": req, "response": resp, "cache": {},
            "timings": {"blocked": 1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": wait, "receive": 2},
            "serverIPAddress": ip_for(r.host)}


def ecs_line(r: Req, style: str) -> str:
    ts = iso_z(r.t)
    if style == "flat":
        obj = {"@timestamp": ts, "event.kind": "event", "event.dataset": "proxy.http", "source.ip": r.client,
               "url.full": r.url, "http.request.method": r.method}
        if r.referer:
            obj["http.request.referrer"] = r.referer
        if r.body:
            obj["http.request.mime_type"] = r.ctype
            obj["http.request.body.content"] = r.body
        obj["http.response.status_code"] = r.status
        obj["user_agent.original"] = r.ua
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    obj = {"@timestamp": ts, "event": {"kind": "event", "category": ["network", "web"], "dataset": "proxy.http"},
           "source": {"ip": r.client}}
    if style == "original":
        obj["url"] = {"original": r.target, "domain": r.host}
    else:
        obj["url"] = {"full": r.url}
        obj["destination"] = {"domain": r.host, "port": r.port}
    hreq = {"method": r.method}
    if r.referer:
        hreq["referrer"] = r.referer
    if r.body:
        hreq["mime_type"] = r.ctype
        hreq["body"] = {"content": r.body, "bytes": len(r.body.encode("utf-8"))}
    obj["http"] = {"request": hreq, "response": {"status_code": r.status}, "version": "1.1"}
    obj["user_agent"] = {"original": r.ua}
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------

FIRST_PARTY_HOSTS = {"www.example.se"} | {s["sgtm"] for s in SITES.values() if "sgtm" in s}

FORMATS = [
    ("squid", "squid/access.log", SQUID),
    ("clf", "clf/combined.log", CLF),
    ("nginx", "nginx-json/access.jsonl", NGINX),
    ("zeek_tsv", "zeek/http.log", ZEEK_TSV),
    ("zeek_json", "zeek/http.json", ZEEK_JSON),
    ("eve", "eve/eve.json", EVE),
    ("har", "har/session.har", HAR),
    ("ecs", "ecs/ecs.jsonl", ECS),
]


def build_records(fmt: str, items):
    rng = random.Random(f"{SEED}:{fmt}")
    t = T0
    recs = []
    for item in items:
        style = "full"
        special = None
        if isinstance(item, tuple):
            style, item = item
        c = Ctx(rng, t)
        if isinstance(item, str):
            special = item
            r = Req(item.split(":")[0], note=f"{item.split(':')[0]} event (ignored)")
        else:
            r = item(c, recs)
        r.t = t
        r.client = client_ip(rng)
        r.style = style
        r.special = special
        r.eve_alert = False
        r.clf_vhost = False
        recs.append(r)
        t = t + timedelta(seconds=rng.randint(2, 47), microseconds=rng.randint(1000, 999999))
    return recs, rng


def labels_for(fmt, recs):
    """Declared labels per record, verified against the rule checker; duplicates resolved in order."""
    seen_tr = set()
    out = []
    for r in recs:
        if r.kind != "pixel":
            if r.kind == "ordinary":
                assert pixel_kind(r) is None, r.url
            out.append(set())
            continue
        body_visible, scheme_known = caps(fmt, r, r.style)
        k = pixel_kind(r)
        key = None
        if k in ("meta", "twin"):
            d = dict(r.pairs)
            key = (d["id"], d["ev"], d["ts"], d.get("eid"))
        duplicate = False
        if k == "meta" and key:
            seen_tr.add(key)
        if k == "twin" and key in seen_tr:
            duplicate = True
        declared = r.declared(body_visible, scheme_known, duplicate)
        derived = set() if duplicate else expected_by_rules(r, body_visible, scheme_known)
        if declared != derived:
            raise SystemExit(f"[{fmt}] label mismatch for {r.note}\n  declared={sorted(declared)}\n  rules   ={sorted(derived)}\n  url={r.url[:300]}")
        if hasattr(r, "twin_of"):
            assert duplicate, "twin must follow its partner"
        out.append(declared)
    return out


def write(path: str, text: str):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def main():
    all_labels = []
    stats = {}
    for fmt, path, items in FORMATS:
        recs, rng = build_records(fmt, items)
        # per-format presentation choices (deterministic)
        if fmt == "eve":
            for r in recs:
                r.eve_alert = r.kind == "pixel" and (r.method == "POST" or pixel_kind(r) == "capi")
            # one GET pixel hit also as alert-only record (rule matched the host), two http events with old \/ escaping
            gets = [r for r in recs if r.kind == "pixel" and r.method == "GET"]
            gets[3].eve_alert = True
            http_ev = [r for r in recs if r.kind in ("pixel", "ordinary") and not r.eve_alert]
            http_ev[1].eve_old_slashes = True
            http_ev[6].eve_old_slashes = True
        if fmt == "clf":
            for r in recs:
                r.clf_vhost = r.host in FIRST_PARTY_HOSTS
        labels = labels_for(fmt, recs)

        lines = []
        positions = []  # pos of each record
        if fmt == "squid":
            for i, r in enumerate(recs):
                extra = r.kind in ("pixel", "ordinary") and i % 3 == 1
                lines.append(squid_line(r, rng, extra))
                positions.append(len(lines))
        elif fmt == "clf":
            for r in recs:
                lines.append(clf_line(r, r.clf_vhost))
                positions.append(len(lines))
        elif fmt == "nginx":
            for r in recs:
                lines.append(nginx_line(r))
                positions.append(len(lines))
        elif fmt == "zeek_tsv":
            lines += ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
                      "#path\thttp", "#open\t" + T0.strftime("%Y-%m-%d-%H-%M-%S"),
                      "#fields\t" + "\t".join(ZEEK_FIELDS), "#types\t" + "\t".join(ZEEK_TYPES)]
            for r in recs:
                v = zeek_values(r, rng)
                if r.note == "first-party page" and r.host == "intranet.example.se":
                    v["user_agent"] = "LegacyKiosk/2.1\t(embedded; sv-SE)"   # a tab inside a value -> \x09
                lines.append(zeek_tsv_line(v))
                positions.append(len(lines))
            close = recs[-1].t + timedelta(seconds=30)
            lines.append("#close\t" + close.strftime("%Y-%m-%d-%H-%M-%S"))
        elif fmt == "zeek_json":
            for r in recs:
                lines.append(zeek_json_line(zeek_values(r, rng)))
                positions.append(len(lines))
        elif fmt == "eve":
            for r in recs:
                lines.append(eve_line(r, rng, r.special))
                positions.append(len(lines))
        elif fmt == "har":
            entries = [har_entry(r, rng) for r in recs]
            positions = list(range(len(recs)))
            har = {"log": {"version": "1.2",
                           "creator": {"name": "pixelwarden corpus generate.py", "version": "1",
                                       "comment": "synthetic browser session; not a real capture"},
                           "entries": entries}}
            text = json.dumps(har, ensure_ascii=False, indent=2) + "\n"
        elif fmt == "ecs":
            for r in recs:
                lines.append(ecs_line(r, r.style))
                positions.append(len(lines))
        if fmt != "har":
            text = "\n".join(lines) + "\n"
        write(path, text)

        pos_n = neg_pixel = neg_other = 0
        for r, lab, pos in zip(recs, labels, positions):
            if lab:
                pos_n += 1
                note = r.note
                if TRANSPORT in lab:
                    note += " | sent over plain http" + (" (port 80)" if fmt in ("zeek_tsv", "zeek_json", "eve") else "")
                all_labels.append({"file": path, "pos": pos,
                                   "expect": [{"class": c, "type": t} for c, t in sorted(lab)], "note": note})
            elif r.kind == "pixel":
                neg_pixel += 1
            else:
                neg_other += 1
        stats[path] = (len(recs), pos_n, neg_pixel, neg_other)
        assert 25 <= len(recs) <= 45, (path, len(recs))

    write("labels.jsonl", "".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in all_labels))

    counts = Counter()
    for x in all_labels:
        for e in x["expect"]:
            counts[(e["class"], e["type"])] += 1
    for ct in ALL_TYPES:
        need = 10 if ct in (HE, H) else 2
        assert counts[ct] >= need, (ct, counts[ct])
    write("README.md", readme(stats, counts))

    print(f"{'file':28} {'records':>7} {'positive':>8} {'neg-pixel':>9} {'neg-other':>9}")
    for path, (n, p, npx, no) in stats.items():
        print(f"{path:28} {n:7d} {p:8d} {npx:9d} {no:9d}")
    tot = [sum(v[i] for v in stats.values()) for i in range(4)]
    print(f"{'TOTAL':28} {tot[0]:7d} {tot[1]:8d} {tot[2]:9d} {tot[3]:9d}")
    print()
    for ct in ALL_TYPES:
        print(f"{ct[0] + '/' + ct[1]:32} {counts[ct]:4d}")


# --------------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------------


def readme(stats, counts) -> str:
    rows = "\n".join(f"| `{p}` | {n} | {pos} | {npx} | {no} |" for p, (n, pos, npx, no) in stats.items())
    tot = [sum(v[i] for v in stats.values()) for i in range(4)]
    crow = "\n".join(f"| `{c}/{t}` | {counts[(c, t)]} |" for c, t in ALL_TYPES)
    return README_TEMPLATE.format(rows=rows, t0=tot[0], t1=tot[1], t2=tot[2], t3=tot[3], crow=crow,
                                  pnr_long=PNR_ANNA_LONG, pnr_short=PNR_ERIK_SHORT, pnr12=PNR_ANNA_12,
                                  pnr10=PNR_ERIK_10, samord=SAMORD_SARA_LONG, bad_luhn=BAD_LUHN_ANNA_SHORT,
                                  bad_date=BAD_DATE_12, bad_date_short=BAD_DATE_SHORT, order10=PNR_ANNA_10)


README_TEMPLATE = """# Labelled corpus: recall and precision per class

Synthetic egress traffic (fictional Swedish/English shops, a pharmacy, a clinic, a bakery) rendered in
eight log formats, with one label line per record that must produce findings. Everything here is
written by `generate.py`; do not edit the data files by hand: change the script and re-run it.

```
python3 corpus/labelled/generate.py      # Python 3.11, standard library only
```

The script is deterministic (string-seeded `random.Random` per format, timestamps from
2024-03-04T08:00:00Z, fixed key order), so re-running it gives identical bytes. Each format is seeded
separately: editing one format's traffic list does not change the other files.

## Files

| file | records | positive | negative pixel hits | negative other |
|---|---|---|---|---|
{rows}
| **total** | {t0} | {t1} | {t2} | {t3} |

"negative other" = ordinary traffic (CDN, APIs, updates, SaaS, pixel *script* downloads, plain
facebook.com pages), `CONNECT` tunnels, EVE `dns`/`tls` events and one garbage Squid line.

- `squid/access.log`: Squid native format with `%>ru`, space-padded `%6tr`; every third line has the
  optional `"Referer" "User-Agent"` fields; some URLs have `[`/`]` as `%5B`/`%5D`; `CONNECT host:443`
  tunnels; one truncated line. No request bodies.
- `clf/combined.log`: combined format. Forward-proxy lines use absolute-form URLs; lines for the
  first-party hosts (`sgtm.example.se`, `metrics.apotek-exempel.se`, `analys.klinik-exempel.se`,
  `www.example.se`) are
  vhost-prefixed origin-form (`%v %h ...`). No request bodies.
- `nginx-json/access.jsonl`: `escape=json` with `time_iso8601 remote_addr request_method scheme host
  request_uri status http_referer http_user_agent content_type request_body` (`""` when empty). The
  nginx fronts the first-party sGTM endpoints and relays vendor hits, so it sees bodies.
- `zeek/http.log`: Zeek TSV, full header, `post_body` placed right after `uri` (read `#fields`!),
  `\\x0d\\x0a` / `\\x09` escapes in values, `(empty)` empty sets, `#close` trailer.
- `zeek/http.json`: Zeek JSON lines, unset fields omitted, `post_body` only on POSTs.
- `eve/eve.json`: Suricata `http` events (no bodies), `alert` events whose `http` object carries
  `http_request_body` (base64), plus `dns`/`tls` events; two `http` events use the old `\\/` escaping.
- `har/session.har`: HAR 1.2, `queryString` decoded, `postData.text` for bodies; one form POST has only
  `postData.params` with percent-encoded names (`udff%5Bem%5D`) and no `text`.
- `ecs/ecs.jsonl`: nested ECS with `url.full` on most lines, `url.original` + `url.domain` on a few,
  and one line with flattened dotted keys.

## labels.jsonl

```
{{"file":"squid/access.log","pos":3,"expect":[{{"class":"hashed_pii","type":"email"}},...],"note":"..."}}
```

- `pos`: 1-based physical line number for line formats (Zeek header lines count), 0-based index
  into `log.entries` for HAR.
- `expect`: the exact **set** of `(class, type)` pairs the record must produce, each pair once.
- A record without a label line must produce **no finding at all** (negatives).
- `note`: why, for humans.

Counts of (class, type) over all labels:

| class/type | labels |
|---|---|
{crow}

## What the engine reports (label semantics)

Pixel hits:
- Meta `/tr` and `/tr/` on `www.facebook.com`: GET query, POST form-urlencoded, POST multipart.
- Meta `/privacy_sandbox/pixel/register/trigger/`: same parameters as `/tr`. When it follows a `/tr`
  with the same `id`, `ev`, `ts` and `eid` in the same file it is a duplicate and produces nothing;
  without such a partner it is reported like `/tr`.
- Meta Conversions API: `POST https://graph.facebook.com/v<N>/<pixel>/events`, JSON body.
- GA4 `/g/collect` on any host (Google hosts and first-party sGTM hosts), GET or POST (`\\r\\n`-separated
  event lines in the body; shared parameters in the query).
- Not hits: `connect.facebook.net/en_US/fbevents.js`, `connect.facebook.net/signals/config/<id>` (even
  with its `hme=` hash), `googletagmanager.com/gtag/js`, `gtm.js`, plain facebook.com pages, Graph API
  calls other than `/events`, anything that merely looks like `collect`.

Classes and types:
- `hashed_pii/<kind>`: 64-hex (SHA-256) or 32-hex (MD5) in Meta `ud[..]`/`udff[..]` and CAPI
  `user_data.*` (kind by key: em email, ph phone, fn/ln name, ct/st/zp/country postal_address, db
  date_of_birth, ge gender, external_id external_id), and GA4 `em=tv.1~em.<b64url43>~pn.~fn0.~ln0.~sa0.`
  (em email, pn phone, fn0/ln0 name, sa0/ct0/re0/pc0/co0 postal_address). Placeholder hashes
  (SHA-256 of `""`, `undefined`, `null`, `test`, `[object Object]`) produce nothing.
- `pii/email`: plaintext e-mail with a real TLD anywhere in a pixel payload, also percent-encoded once
  or twice (`%40`, `%2540`).
- `pii/phone`: plaintext in Meta/CAPI `ph` (any form); anywhere as E.164 `+46701740605` or Swedish
  mobile with separators `070-174 06 42`.
- `pii/national_id`: personnummer/samordningsnummer with a valid date (day+60 allowed) and Luhn digit,
  as `YYMMDD-NNNN` ({pnr_short}), `YYYYMMDD-NNNN` ({pnr_long}, {samord}) or `YYYYMMDDNNNN` ({pnr12})
  anywhere; plain 10 digits ({pnr10}) only in identity fields.
- `pii/name`, `pii/postal_address`, `pii/date_of_birth`, `pii/gender`: plaintext values in Meta
  `ud`/`udff` and CAPI `user_data` fn/ln, ct/st/zp, db, ge.
- `pii/ip_address`: CAPI `user_data.client_ip_address`.
- `sensitive/health`: a health term in page URL path/query (`dl`, `rl`, GA4 `dl`/`dr`), GA4 `dt`, Meta
  `cd[content_name|content_category|contents|search_string]`, GA4 `pr<n>` `nm`/`ca`, GA4 `ep.*`, CAPI
  `custom_data`. Never from a host name.
- `secret/access_token`: CAPI body has `access_token`.
- `transport/plaintext_http`: any pixel hit sent over plain HTTP: URL scheme `http`, nginx `scheme`
  `http`, Zeek `id.resp_p`/EVE `dest_port` 80.
- `consent/denied_but_sent`: a GA4 hit that carries `pii/*` or `hashed_pii/*` while `gcs` is `G100`,
  `G101` or `G110`, or the third `gcd` letter (ad_user_data) is `p`, `q`, `m` or `u`.
- Never reported: `fbp`/`fbc`, `cid`, user agents, event ids, prices, currencies, pixel ids, an opaque
  GA4 `uid`, hashes outside identity fields (`cd[customer_hash]`, `ep.user_hash`).

## Decisions on ambiguous points

- **Unknown scheme is not plaintext.** Vhost-prefixed origin-form CLF lines and ECS lines with only
  `url.original` + `url.domain` do not say whether the request was HTTP or HTTPS; they never get
  `transport/plaintext_http`.
- **Zeek/EVE on port 443** stand for traffic seen decrypted (TLS-inspecting tap or mirror after a
  bumping proxy). They carry payload findings but not `transport/plaintext_http`.
- **Body not in the log = not in the record.** Squid and CLF never show bodies; an EVE `http` event
  shows none either (only `alert` events do). A GA4 POST whose health items sit only in the body is
  therefore a negative in `squid/access.log`; a `/tr/` POST there carries nothing visible.
- **`consent/denied_but_sent` needs pii or hashed pii**; a denied GA4 hit that carries only a health
  term gets `sensitive/health` alone.
- **Personnummer look-alikes are negatives**: wrong Luhn ({bad_luhn}), impossible dates ({bad_date},
  {bad_date_short}), and a valid-looking plain 10-digit number outside identity fields
  (`ep.order_id={order10}`).
- **Double encoding**: an e-mail in a page URL query shows up as `%2540` on the wire
  (`dl=...%3Femail%3Danna.svensson%2540example.se`); the `ep.login_hint` case was encoded twice
  by site code (raw `anna.svensson%2540example.se` inside the parameter). Both are `pii/email`.
- **Unhashed `ud[country]`** is never used (the rules name no plaintext type for it); plaintext
  GA4 `em` sub-fields are never used either.
- **Health terms only where the rules look**: a term in a field the rules do not list (`Referer`
  header, CAPI `event_source_url`, `cd[content_ids]`, event names, button texts) appears only in records
  that are positive for health through a listed field as well, so the label holds either way. Pixel
  `Referer` headers are origin-only (browser default `strict-origin-when-cross-origin`).
- **CAPI without `access_token` in the body** (sent as a header the log does not keep) and only
  `fbp`/`fbc`/user agent: no finding.
- E-mail addresses in pixel payloads use real TLDs (.se .com .org .co.uk); `halsoshop.example` only
  appears as a host.

## How the labels are checked

`generate.py` declares the expected set in each scenario by hand, then re-derives it from the
request bytes with a small independent implementation of the rules above (`expected_by_rules`) and
stops on any disagreement. It also stops when a health term, e-mail shape or personnummer-like value
lands in a place the rules leave open. This guards against slips in the corpus; it is not the engine.

## Fictional data

People: anna.svensson@example.se, erik.johansson@example.com, maria.nilsson@example.org,
john.smith@example.co.uk, sara.lind@example.se. Phone numbers are from the PTS range reserved for
fiction (070-174 06 xx) and Ofcom's drama range (07700 900xxx). IP addresses are RFC 5737
documentation ranges and 10/8. Pixel ids, measurement ids and `access_token` values
(`EAAGcorpusFAKE...`) are made up. The valid personnummer (19870521-2382, 19791110-9291,
19921225-2382) are Skatteverket test numbers (registered test identities, not real people; list as
published in KentorIT/PU-Adapter `TestData/Testpersonnummer.cs`). The samordningsnummer
({samord}) is computed with a valid Luhn digit, as are the negatives.
"""


if __name__ == "__main__":
    main()
