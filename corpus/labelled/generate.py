#!/usr/bin/env python3
"""Generate pixelwarden's labelled corpus: the same kind of egress traffic rendered in eight
log formats, plus labels.jsonl (the findings each record must produce) and README.md.

Python 3.11, standard library only. Deterministic: string-seeded random.Random per format, fixed
timestamps from 2024-03-04T08:00:00Z, no dict/set iteration without a fixed order, so two runs
write identical bytes.

Every record is built once as an abstract request (`Req`) whose expected findings are declared
by hand in the scenario that builds it. Vendors: Meta (pixel, privacy-sandbox twin, CAPI), GA4, and
every other pack of detectors/vendors/ (Google Ads, Universal Analytics, Microsoft UET and Clarity,
Hotjar, TikTok, LinkedIn, Snap, Pinterest, X, Reddit, Criteo, Adobe Analytics, Matomo). Before
anything is written, an independent checker (`expected_by_rules`) re-derives the findings from the
request bytes using the label rules in README.md and the script stops if the two disagree, or if a
record puts an Art. 9 term, an e-mail or a phone-shaped text somewhere the rules do not settle (the
ambiguity guard).

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


IBAN_SE = make_iban("SE", "91500000591501234568")     # fictional account, check digits computed
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
    # added with the other vendors: an intimate-care shop, an association site (church, party,
    # union, minority pages), a building-supplies shop
    "butik": dict(origin="https://www.butik-exempel.se", px="445566778899001", tid="G-BQ7T2K9XRD"),
    "org": dict(origin="https://www.example.org", px="223344556677889", tid="G-ORG4K2M8QZ"),
    "bygg": dict(origin="https://www.bygg-exempel.se", px="667788990011223", tid="G-BYG9Q2W4TT"),
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

ALL_TYPES = [HE, HP, HN, HA, HD, HG, HX, ("hashed_pii", "ip_address"), PE, PP, PN, ("pii", "payment_card"),
             ("pii", "iban"), PNAME, PADDR, PDOB, PGEN, PIP, H, ("sensitive", "sex_life"), ("sensitive", "religion"),
             ("sensitive", "political"), ("sensitive", "trade_union"), ("sensitive", "ethnic_origin"), SEC,
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
# other vendors (detectors/vendors/*.toml). Each scenario declares its labels by hand, from the
# pack's identity / content / secret fields and the label rules in README.md.
# --------------------------------------------------------------------------------------------

SEX = ("sensitive", "sex_life")
REL = ("sensitive", "religion")
POL = ("sensitive", "political")
UNION = ("sensitive", "trade_union")
ETH = ("sensitive", "ethnic_origin")
PCARD = ("pii", "payment_card")
PIBAN = ("pii", "iban")
HIP = ("hashed_pii", "ip_address")


def uuid4(c: Ctx) -> str:
    h = c.hexid(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def vreq(c: Ctx, method, scheme, host, target, *, site=None, body=None, ctype=None, labels=(), b_labels=(),
         denied=False, note="", status=200, resp_size=43, resp_mime="image/gif", ua=None, referer=None):
    """A hit of one of the other vendors. Referer: the page's origin only (browser default policy)."""
    if referer is None and site:
        referer = SITES[site]["origin"] + "/"
    return Req("pixel", method, scheme, host, target, body=body, ctype=ctype, referer=referer,
               ua=ua or c.rng.choice(BROWSERS), status=status, resp_size=resp_size, resp_mime=resp_mime,
               q_labels=labels, b_labels=b_labels, ga4_denied=denied, note=note)


def jdump(o) -> str:
    return json.dumps(o, ensure_ascii=False, separators=(",", ":"))


# ---- Google Ads (google-ads.toml)

GADS_ID = "987650321"
GADS_LABEL = "Xk3PCJm5q4ZEEKf0w9kD"
FLOODLIGHT_SRC = "4471829"


def gads_conversion(c, *, site="apotek", path="/kassa/bekraftelse", title="Tack för din beställning", gcs="G111",
                    gcd=GCD_GRANTED, em=None, denied=False, labels=(), note="", scheme="https", extra=(), ua=None):
    s = SITES[site]
    p = [("random", str(c.rng.randint(10**9, 2 * 10**9))), ("cv", "11"), ("fst", str(c.ms)), ("bg", "ffffff"),
         ("guid", "ON"), ("async", "1"), ("gtm", "45be43r0v9101749127za200")]
    if gcs:
        p.append(("gcs", gcs))
    if gcd:
        p.append(("gcd", gcd))
    p += [("dma", "1"), ("u_w", "1920"), ("u_h", "1080"), ("url", s["origin"] + path), ("label", GADS_LABEL),
          ("hn", "www.googleadservices.com"), ("frm", "0"), ("tiba", title), ("value", "249"),
          ("currency_code", "SEK"), ("oid", f"SE{c.rng.randint(100000, 999999)}")]
    p += list(extra)
    if em:
        p.append(("em", em))
    p += [("auid", c.cid()), ("fmt", "3")]
    return vreq(c, "GET", scheme, "www.googleadservices.com", f"/pagead/conversion/{GADS_ID}/?" + query_string(p),
                site=site, labels=labels, denied=denied, note=note, ua=ua)


def gads_ec(c, **kw):
    return gads_conversion(c, em=ga_em("anna", ["em", "pn"]), labels={HE, HP},
                           note="Google Ads conversion, enhanced conversions em=tv.1~em.<b64url43>~pn.<b64url43>, consent granted", **kw)


def gads_ec_denied(c, **kw):
    return gads_conversion(c, site="se", path="/kassan/klar", title="Orderbekräftelse", gcs="G100", gcd=GCD_DENIED_AUD,
                           em=ga_em("erik", ["em", "fn0", "ln0"]), denied=True, labels={HE, HN},
                           note="Google Ads conversion em=tv.1~em~fn0~ln0 while gcs=G100 -> consent/denied_but_sent", **kw)


def gads_ec_gcd_m(c, **kw):
    return gads_conversion(c, site="halso", path="/kassa/tack", title="Tack!", gcs=None, gcd=GCD_DENIED_AUD_M,
                           em=ga_em("maria", ["em"]), denied=True, labels={HE},
                           note="Google Ads conversion, only gcd (ad_user_data=m, denied) + em.em -> consent/denied_but_sent", **kw)


def gads_1p_health(c, **kw):
    s = SITES["apotek"]
    p = [("random", str(c.rng.randint(10**9, 2 * 10**9))), ("cv", "11"), ("fst", str(c.ms)), ("fmt", "3"),
         ("gcd", GCD_GRANTED), ("dma", "1"), ("url", s["origin"] + "/produkt/klamydiatest-hemma"),
         ("tiba", "Klamydiatest hemma | Apotek Exempel"), ("label", GADS_LABEL), ("value", "249"),
         ("currency_code", "SEK"), ("auid", c.cid()), ("is_vtc", "1"), ("cid", "CAQSGwDZpuyz4T1z7L_2l3PWxNlIe6OIwDleOFtbqA")]
    return vreq(c, "GET", kw.pop("scheme", "https"), "www.google.se", f"/pagead/1p-conversion/{GADS_ID}/?" + query_string(p),
                site="apotek", labels={H}, note="Google Ads /pagead/1p-conversion on www.google.se: klamydiatest in url and tiba", **kw)


def floodlight(c, params, oref, *, labels=(), note="", scheme="https", host="ad.doubleclick.net", path="/activity", ua=None):
    segs = [f"src={FLOODLIGHT_SRC}"] + [f"{k}={quote(v, safe='')}" for k, v in params]
    segs += [f"ord={c.rng.randint(10**12, 10**13 - 1)}", f"~oref={quote(oref, safe='')}"]
    return vreq(c, "GET", scheme, host, path + ";" + ";".join(segs) + "?", referer=oref.split("/", 3)[0] + "//" + urlsplit(oref).hostname + "/",
                labels=labels, note=note, ua=ua)


def gads_fl_health(c, **kw):
    return floodlight(c, [("type", "sales0"), ("cat", "purch0"), ("qty", "1"), ("cost", "159.00"),
                          ("u1", "Canesten Kombi"), ("u2", "200998")],
                      SITES["apotek"]["origin"] + "/kassa/bekraftelse", labels={H},
                      note="Floodlight activity with ;u1=Canesten Kombi path parameter", **kw)


def gads_fl_email_rel(c, **kw):
    return floodlight(c, [("type", "lead0"), ("cat", "dop00"), ("u1", "Dopklänning i vit bomull"),
                          ("u3", "john.smith@example.co.uk")],
                      SITES["shop"]["origin"] + "/checkout/complete", labels={PE, REL},
                      note="Floodlight path parameters: u1 'Dopklänning' (religion), u3 plaintext e-mail", **kw)


def gads_fl_neg(c, **kw):
    return floodlight(c, [("type", "sales0"), ("cat", "purch0"), ("qty", "2"), ("cost", "59.80"), ("u1", "Wool socks 3-pack")],
                      SITES["shop"]["origin"] + "/checkout/complete", host=f"{FLOODLIGHT_SRC}.fls.doubleclick.net",
                      path="/activityi", labels=set(), note="Floodlight activityi, socks in u1 -> nothing", **kw)


def gads_ccm_sex(c, **kw):
    s = SITES["butik"]
    p = [("tid", f"AW-{GADS_ID}"), ("en", "page_view"), ("dl", s["origin"] + "/sexleksaker/vibratorer"),
         ("dt", "Vibratorer – Butik Exempel"), ("auid", c.cid()), ("gcd", GCD_GRANTED), ("dma", "1"),
         ("npa", "0"), ("frm", "0"), ("rnd", str(c.rng.randint(10**8, 10**9)))]
    return vreq(c, "GET", kw.pop("scheme", "https"), "www.google.com", "/ccm/collect?" + query_string(p), site="butik",
                labels={SEX}, note="Google tag /ccm/collect with dl /sexleksaker/vibratorer and dt 'Vibratorer' (sex life)", **kw)


def gads_vt_neg(c, **kw):
    s = SITES["shop"]
    p = [("random", str(c.rng.randint(10**9, 2 * 10**9))), ("cv", "11"), ("fst", str(c.ms)), ("guid", "ON"),
         ("async", "1"), ("gcd", "13l3l3l3l1l1"), ("dma", "0"), ("url", s["origin"] + "/"), ("tiba", "Example Store"),
         ("auid", c.cid()), ("data", "event=gtag.config"), ("fmt", "4")]
    return vreq(c, "GET", kw.pop("scheme", "https"), "googleads.g.doubleclick.net",
                f"/pagead/viewthroughconversion/{GADS_ID}/?" + query_string(p), site="shop", labels=set(),
                note="Google Ads remarketing page view of a shop start page -> nothing", **kw)


def o_gads_js(c):
    return plain(c, "GET", "https://www.googleadservices.com/pagead/conversion_async.js", referer="https://www.example.com/",
                 mime="text/javascript", size=31442, note="Google Ads conversion script load, not a hit")


# ---- Universal Analytics (universal-analytics.toml)

UA_TID = "UA-4471829-1"


def ua_hit(c, site, path, title, *, t="pageview", extra=(), gcs=None, gcd=GCD_GRANTED, uid=None, denied=False,
           labels=(), note="", scheme="https", host="www.google-analytics.com", upath="/collect", ua=None):
    s = SITES[site]
    p = [("v", "1"), ("_v", "j101"), ("a", str(c.rng.randint(10**8, 2 * 10**9))), ("t", t),
         ("_s", str(c.rng.randint(1, 9))), ("dl", s["origin"] + path), ("ul", "sv-se"), ("de", "UTF-8"),
         ("dt", title), ("sd", "24-bit"), ("sr", "1920x1080"), ("vp", "1903x969"), ("je", "0")]
    p += list(extra)
    p += [("_u", "YEBAAEABAAAAAC~"), ("jid", ""), ("gjid", ""), ("cid", c.cid()), ("tid", UA_TID)]
    if uid:
        p.append(("uid", uid))
    if gcs:
        p.append(("gcs", gcs))
    if gcd:
        p.append(("gcd", gcd))
    p += [("z", str(c.rng.randint(10**8, 2 * 10**9)))]
    return vreq(c, "GET", scheme, host, upath + "?" + query_string(p), site=site, labels=labels, denied=denied,
                note=note, ua=ua)


def ua_health(c, **kw):
    return ua_hit(c, "apotek", "/produkt/alvedon-500-mg", "Alvedon 500 mg 20 tabletter | Apotek Exempel", labels={H},
                  note="UA /collect pageview, dt 'Alvedon 500 mg' (health)", **kw)


def ua_ecom_uid(c, gcs="G111", **kw):
    name, pid, price, cat = PRODUCTS["canesten"]
    extra = [("ec", "ecommerce"), ("ea", "purchase"), ("ti", f"SE{c.rng.randint(100000, 999999)}"), ("tr", price),
             ("pa", "purchase"), ("pr1id", pid), ("pr1nm", name), ("pr1ca", cat), ("pr1pr", price), ("pr1qt", "1")]
    denied = gcs in ("G100", "G101", "G110")
    labels = {PE, H}
    return ua_hit(c, "apotek", "/kassa/bekraftelse", "Tack för din beställning", t="event", extra=extra, gcs=gcs,
                  uid="erik.johansson@example.com", denied=denied, labels=labels,
                  note=f"UA /collect purchase event: pr1nm 'Canesten Kombi', uid is an e-mail (gcs={gcs})", **kw)


def ua_uid_hash_denied(c, **kw):
    return ua_hit(c, "shop", "/account", "My account", t="event", extra=[("ec", "account"), ("ea", "login")],
                  gcs="G100", gcd=None, uid=sha256("crm-118204"), denied=True, labels={HX},
                  note="UA uid sha256 (site user id -> hashed_pii/external_id) while gcs=G100 -> consent", **kw)


def ua_uid_cpr(c, **kw):
    return ua_hit(c, "shop", "/account/orders", "My orders", uid=CPR_METTE_10, labels={PN},
                  note=f"UA uid={CPR_METTE_10}: Danish CPR without hyphen in an external_id identity field", **kw)


def ua_political(c, **kw):
    return ua_hit(c, "org", "/bli-medlem", "Bli medlem i partiet – Föreningen Exempel", labels={POL},
                  note="UA dt 'Bli medlem i partiet' (political)", **kw)


def ua_neg(c, **kw):
    return ua_hit(c, "shop", "/shoes", "Shoes | Example Store", labels=set(), note="UA ordinary page view -> nothing", **kw)


def ua_dc_neg(c, **kw):
    p = [("t", "dc"), ("aip", "1"), ("_r", "3"), ("v", "1"), ("_v", "j101"), ("tid", UA_TID), ("cid", c.cid()),
         ("jid", str(c.rng.randint(10**8, 2 * 10**9))), ("_u", "YGBAgAABAAAAAG~"), ("z", str(c.rng.randint(10**8, 2 * 10**9)))]
    return vreq(c, "POST", kw.pop("scheme", "https"), "stats.g.doubleclick.net", "/j/collect?" + query_string(p),
                site="shop", labels=set(), note="UA remarketing twin t=dc on stats.g.doubleclick.net -> nothing", **kw)


def o_ua_js(c):
    return plain(c, "GET", "https://ssl.google-analytics.com/ga.js", referer="https://www.example.com/",
                 mime="text/javascript", size=46274, note="ga.js load, not a hit")


# ---- Microsoft UET (microsoft-uet.toml)

UET_TI = "187000123"


def uet(c, site, path, title, *, evt="pageLoad", extra=(), uid=None, labels=(), note="", scheme="https", ua=None):
    s = SITES[site]
    p = [("ti", UET_TI), ("tm", "gtm002"), ("Ver", "2"), ("mid", uuid4(c)), ("sid", c.hexid(8)), ("vid", c.hexid(8)),
         ("vids", "0"), ("msclkid", "N"), ("pi", "918639831"), ("lg", "sv-SE"), ("sw", "1920"), ("sh", "1080"),
         ("sc", "24"), ("nwd", "1"), ("tl", title), ("p", s["origin"] + path), ("r", ""), ("lt", str(c.rng.randint(300, 3000))),
         ("evt", evt)]
    p += list(extra)
    if uid:
        p.append(("uid", uid))
    p += [("sv", "1"), ("cdb", "AQAQ"), ("rn", str(c.rng.randint(10**5, 10**6)))]
    return vreq(c, "GET", scheme, "bat.bing.com", "/action/0?" + query_string(p), site=site, labels=labels, note=note, ua=ua)


def uet_health(c, **kw):
    return uet(c, "apotek", "/p/500120", "Nicorette Freshmint tuggummi 2 mg | Apotek Exempel", labels={H},
               note="UET pageLoad, tl 'Nicorette' (health), neutral URL", **kw)


def uet_uid_email_phone(c, **kw):
    return uet(c, "shop", "/callback", "Call me back", evt="custom",
               extra=[("ec", "callback"), ("ea", "submit"), ("el", f"Ring {PHONE_GB}")],
               uid="john.smith@example.co.uk", labels={PE, PP},
               note=f"UET custom event: uid is an e-mail, el carries UK number '{PHONE_GB}'", **kw)


def uet_ethnic(c, **kw):
    return uet(c, "org", "/kalender/sprakdagen", "Sametinget – samiska språkdagen", labels={ETH},
               note="UET tl 'Sametinget – samiska språkdagen' (ethnic origin)", **kw)


def uet_neg_balsamic(c, **kw):
    return uet(c, "bak", "/p/balsamvinager", "Balsamisk vinäger från Modena 500 ml", labels=set(),
               note="hard negative: 'Balsamisk vinäger' is not 'samisk' (ethnic origin exclude token)", **kw)


def uet_neg(c, **kw):
    return uet(c, "shop", "/shoes", "Shoes | Example Store", labels=set(), note="UET ordinary page load -> nothing", **kw)


def o_uet_js(c):
    return plain(c, "GET", "https://bat.bing.com/bat.js", referer="https://www.example.com/", mime="text/javascript",
                 size=38121, note="UET bat.js load, not a hit")


# ---- Microsoft Clarity (microsoft-clarity.toml): recognised, never decoded

CLARITY_BODY = "H4sIAAAAAAAAA-2TQW_TMBCF_4rlc0FxnCZxcxWqQKIVQnBACFVTe9p1cOzIdraqqv57J2laVKlw4MLBl9Y3b969mTezj9wNwBpcrPgqz-cvLivuhbVsxbuux4pbtrK-wkrqZV8VZZ9X2Eo1X2qL5UpfrMrlul-X6-VqLXVfq6qv-7Jdypf0zvKzQ1tULvjHJ8TW2b3tAAAA"


def clarity_collect(c, scheme="https", **kw):
    labels = set()
    return vreq(c, "POST", scheme, c.rng.choice(["l.clarity.ms", "k.clarity.ms", "e.clarity.ms"]), "/collect",
                site="shop", body=CLARITY_BODY, ctype="application/octet-stream", status=204, resp_size=0,
                resp_mime="text/plain", labels=labels,
                note="Clarity recording upload: recognised, payload not decoded -> nothing (transport only over http)", **kw)


def clarity_cgif(c, **kw):
    p = [("ctsa", "mr"), ("CtsSyncId", c.hexid(32).upper()), ("MUID", c.hexid(32).upper())]
    return vreq(c, "GET", kw.pop("scheme", "https"), "c.clarity.ms", "/c.gif?" + query_string(p), site="apotek",
                labels=set(), note="Clarity cookie-sync c.gif (MUID) -> nothing", **kw)


def o_clarity_tag(c):
    return plain(c, "GET", "https://www.clarity.ms/tag/oyljg3v3uy", referer="https://www.example.com/",
                 mime="application/x-javascript", size=1211, note="Clarity tag load, not a hit")


# ---- Hotjar (hotjar.toml): recognised, never decoded

HJ_SITE = "3388120"


def hj_visit(c, **kw):
    body = jdump({"r_value": 1, "is_vpv": False, "session_only": False, "rec_value": 0.5,
                  "user_id": uuid4(c)})
    return vreq(c, "POST", kw.pop("scheme", "https"), "in.hotjar.com", f"/api/v2/client/sites/{HJ_SITE}/visit-data?sv=7",
                site="apotek", body=body, ctype="text/plain;charset=UTF-8", resp_mime="application/json", resp_size=32,
                labels=set(), note="Hotjar visit-data: recognised, body not decoded -> nothing", **kw)


def hj_feedback_email(c, **kw):
    body = jdump({"response": {"answer": "Har ni klamydiatest i lager? Svara till anna.svensson@example.se",
                               "email": "anna.svensson@example.se"}, "widget_id": 61234, "page_url": "/kontakt"})
    return vreq(c, "POST", kw.pop("scheme", "https"), "in.hotjar.com",
                f"/api/v2/client/sites/{HJ_SITE}/feedback/61234", site="apotek", body=body,
                ctype="application/json", resp_mime="application/json", resp_size=18, labels=set(),
                note="Hotjar feedback POST whose body holds an e-mail and a health term: body mode none -> nothing (documented limitation)", **kw)


def hj_ws(c, **kw):
    return vreq(c, "GET", kw.pop("scheme", "https"), "ws.hotjar.com", f"/api/v2/client/ws?v=7&site_id={HJ_SITE}",
                site="apotek", status=200, resp_size=0, resp_mime="-", labels=set(),
                note="Hotjar recording websocket upgrade -> nothing", **kw)


def hj_session(c, scheme="https", **kw):
    return vreq(c, "GET", scheme, "vc.hotjar.io", f"/sessions/{HJ_SITE}?s=0.25&r=0.{c.rng.randint(10**8, 10**9)}",
                site="apotek", resp_size=0, resp_mime="text/plain", labels=set(),
                note="Hotjar session counter -> nothing (transport only over http)", **kw)


def hj_content(c, **kw):
    return vreq(c, "POST", kw.pop("scheme", "https"), "content.hotjar.io", f"/?site_id={HJ_SITE}&gzip=1",
                site="apotek", body=CLARITY_BODY[::-1], ctype="text/plain; charset=UTF-8", resp_size=0,
                resp_mime="text/plain", labels=set(), note="Hotjar page snapshot upload -> nothing", **kw)


def o_hj_js(c):
    return plain(c, "GET", f"https://static.hotjar.com/c/hotjar-{HJ_SITE}.js?sv=7", referer="https://www.apotek-exempel.se/",
                 mime="application/javascript", size=3120, note="Hotjar tracking code load, not a hit")


# ---- TikTok (tiktok.toml)

TT_CODE = "CPK4FEBC77U2Q1ORBNKG"


def tiktok(c, site, path, event, user, properties, *, labels=(), note="", scheme="https", tpath="/api/v2/pixel", ua=None):
    s = SITES[site]
    user = dict({"anonymous_id": f"01HR{c.hexid(22).upper()}_.tt.1"}, **user)
    body = jdump({"event": event, "event_id": f"{c.ms}_{c.hexid(6)}",
                  "timestamp": iso_z(c.t), "context": {"ad": {"sdk_env": "external", "jsb_status": 2}, "user": user,
                                                       "pixel": {"code": TT_CODE, "runtime": "1"},
                                                       "page": {"url": s["origin"] + path, "referrer": ""},
                                                       "library": {"name": "pixel.js", "version": "2.2.1"},
                                                       "device": {"platform": "pc"}},
                  "properties": properties})
    return vreq(c, "POST", scheme, "analytics.tiktok.com", tpath, site=site, body=body,
                ctype="text/plain;charset=UTF-8", resp_mime="application/json", resp_size=44, b_labels=labels, note=note, ua=ua)


def tt_purchase(c, **kw):
    a = PEOPLE["anna"]
    props = {"contents": [{"content_id": "101455", "content_name": "Ägglossningstest 20 st", "quantity": 1}],
             "content_name": "Ägglossningstest 20 st", "value": 189, "currency": "SEK"}
    return tiktok(c, "apotek", "/kassa/bekraftelse", "CompletePayment",
                  {"email": sha256(a["em"]), "phone_number": sha256("+" + a["ph"])}, props, labels={HE, HP, H},
                  note="TikTok CompletePayment: context.user.email/phone_number sha256, properties.content_name Ägglossningstest", **kw)


def tt_plain_em(c, **kw):
    return tiktok(c, "shop", "/contact/thanks", "SubmitForm",
                  {"email": "sara.lind@example.se", "external_id": sha256("crm-55012")}, {}, tpath="/api/v2/pixel/track",
                  labels={PE, HX}, note="TikTok SubmitForm: plaintext context.user.email, external_id sha256", **kw)


def tt_phone_sex(c, **kw):
    props = {"contents": [{"content_id": "K-10", "content_name": "Kondomer 10-pack", "quantity": 1}],
             "content_name": "Kondomer 10-pack", "content_category": "Kondomer & glidmedel", "value": 99,
             "currency": "SEK"}
    return tiktok(c, "butik", "/kassa", "AddToCart", {"phone_number": PHONE_NO_E164}, props, labels={PP, SEX},
                  note=f"TikTok AddToCart: plaintext phone_number '{PHONE_NO_E164}', content_name 'Kondomer' (sex life)", **kw)


def tt_pageview_neg(c, **kw):
    return tiktok(c, "shop", "/", "Pageview", {}, {}, labels=set(),
                  note="TikTok Pageview with anonymous_id only -> nothing", **kw)


def tt_placeholder_neg(c, **kw):
    return tiktok(c, "shop", "/cart", "AddToCart", {"email": sha256(""), "phone_number": sha256("undefined")},
                  {"content_name": "Wool socks 3-pack", "value": 19.9, "currency": "EUR"}, labels=set(),
                  note="TikTok with placeholder hashes sha256('') / sha256('undefined') -> nothing", **kw)


def o_tt_js(c):
    return plain(c, "GET", f"https://analytics.tiktok.com/i18n/pixel/events.js?sdkid={TT_CODE}&lib=ttq",
                 referer="https://www.apotek-exempel.se/", mime="application/javascript", size=8812,
                 note="TikTok events.js load, not a hit")


# ---- LinkedIn (linkedin.toml); /collect + /attribution_trigger are twins (pid, time, url)

LI_PID = "5512034"


def li_get(c, site, path, *, endpoint="/collect", conv=None, labels=(), note="", scheme="https", same_as=None,
           page_query="", ua=None):
    s = SITES[site]
    if same_as is not None:
        time_, url = same_as
    else:
        time_, url = str(c.ms + c.rng.randint(0, 400)), s["origin"] + path + page_query
    p = [("v", "2"), ("fmt", "js"), ("pid", LI_PID), ("time", time_), ("li_adsId", uuid4(c)), ("url", url)]
    if conv:
        p.append(("conversionId", conv))
    r = vreq(c, "GET", scheme, "px.ads.linkedin.com", endpoint + "?" + query_string(p), site=site, labels=labels,
             note=note, resp_size=0, resp_mime="-", ua=ua)
    r.li_key = (time_, url)
    return r


def li_health(c, **kw):
    return li_get(c, "apotek", "/produkt/graviditetstest-digital-2-pack", conv="14882211", labels={H},
                  note="LinkedIn /collect conversion on the graviditetstest product page (url)", **kw)


def LI_TWIN(note="LinkedIn /attribution_trigger twin of the previous /collect (same pid, time, url): duplicate -> nothing"):
    def make(c, prev):
        p = prev[-1]
        site = [k for k, s in SITES.items() if p.li_key[1].startswith(s["origin"] + "/")][0]
        r = li_get(c, site, "", endpoint="/attribution_trigger", labels=p.q_labels, note=note, scheme=p.scheme,
                   same_as=p.li_key)
        r.twin_of = p
        return r
    return make


def li_lone_trigger_union(c, **kw):
    return li_get(c, "org", "/a-kassa/bli-medlem", endpoint="/attribution_trigger", labels={UNION},
                  note="LinkedIn /attribution_trigger without a /collect partner: reported; url /a-kassa/bli-medlem (trade union)", **kw)


def li_email_url(c, **kw):
    return li_get(c, "shop", "/newsletter/confirm", page_query="?email=erik.johansson%40example.com&tlf=" + quote_plus(PHONE_DK),
                  labels={PE, PP},
                  note=f"LinkedIn /collect: page URL query carries an e-mail (%2540 on the wire) and DK number '{PHONE_DK}'", **kw)


def li_neg(c, **kw):
    return li_get(c, "shop", "/", labels=set(), note="LinkedIn /collect on a shop start page -> nothing", **kw)


def li_wa(c, site, path, title, hem, *, labels=(), note="", scheme="https", ua=None):
    s = SITES[site]
    body = jdump({"pids": [int(LI_PID)], "scriptVersion": 213, "time": c.ms, "domain": s["origin"].split("//")[1],
                  "url": s["origin"] + path, "pageTitle": title, "websiteSignalRequestId": uuid4(c), "liFatId": "",
                  "liGiant": "", "misc": {"psbState": -4}, "isLinkedInApp": False, "hem": hem,
                  "signalType": "PAGE_VISIT"})
    return vreq(c, "POST", scheme, "px.ads.linkedin.com", "/wa/", site=site, body=body, ctype="text/plain;charset=UTF-8",
                resp_size=0, resp_mime="-", b_labels=labels, note=note, ua=ua)


def li_wa_hem(c, **kw):
    return li_wa(c, "klinik", "/ungdomsmottagning", "Ungdomsmottagning – boka tid", sha256(PEOPLE["maria"]["em"]),
                 labels={HE, H}, note="LinkedIn /wa/ JSON: hem sha256, pageTitle 'Ungdomsmottagning' (health)", **kw)


def li_wa_null(c, **kw):
    return li_wa(c, "shop", "/", "Home - Example Store", None, labels=set(),
                 note="LinkedIn /wa/ with hem null -> nothing", **kw)


def o_li_js(c):
    return plain(c, "GET", "https://snap.licdn.com/li.lms-analytics/insight.min.js", referer="https://www.example.com/",
                 mime="application/javascript", size=12201, note="LinkedIn Insight Tag script, not a hit")


# ---- Snap (snap.toml)

SNAP_PID = "0c2f9d1e-5b7a-4c31-9e8d-2a6b4f1c7e90"
SNAP_CONSTANT = "FFF7b7416ec1f35b8a794c92887c2c62529b2179b6fa911173803c59c0c463ba572"


def snap_json(c, site, path, u_hem, *, ev="PAGE_VIEW", host="tr.snapchat.com", labels=(), note="", scheme="https",
              kind="t", ua=None):
    s = SITES[site]
    c1 = uuid4(c)
    if kind == "t":
        el = {"t": {"pid": SNAP_PID, "ev": ev, "u_hem": u_hem, "u_c1": c1, "u_sclid": uuid4(c)}, "del": 202}
    else:
        el = {"i": {"pids": [SNAP_PID]}, "del": 239}
    body = jdump({"ctx": {"c1": c1, "ua": "Mozilla/5.0", "url": s["origin"] + path, "v": "3.44.6-2504241707"},
                  "req": [el], "u_scsid": uuid4(c)})
    return vreq(c, "POST", scheme, host, "/p", site=site, body=body, ctype="text/plain;charset=UTF-8", resp_size=0,
                resp_mime="-", b_labels=labels, note=note, ua=ua)


def snap_fff_ethnic(c, **kw):
    return snap_json(c, "org", "/nationella-minoriteter/romsk-kultur", "FFF" + sha256(PEOPLE["erik"]["em"]),
                     labels={HE, ETH},
                     note="Snap JSON batch: req[0].t.u_hem FFF+sha256, ctx.url /nationella-minoriteter/romsk-kultur (ethnic origin)", **kw)


def snap_constant_neg(c, **kw):
    return snap_json(c, "shop", "/", SNAP_CONSTANT, labels=set(),
                     note="Snap u_hem = the cross-site constant FFF7b7416e... (placeholders) -> nothing", **kw)


def snap_ipv6_neg(c, **kw):
    return snap_json(c, "shop", "/", None, host="tr6.snapchat.com", kind="i", labels=set(),
                     note="Snap IPv6 ping on tr6 without identity -> nothing", **kw)


def snap_form_hpn(c, **kw):
    a = PEOPLE["anna"]
    body = form_body([("pid", SNAP_PID), ("ev", "PURCHASE"), ("pl", SITES["apotek"]["origin"] + "/kassa"),
                      ("ts", str(c.ms)), ("v", "1.5"), ("u_hpn", sha256(a["ph"])), ("e_ic", "Canesten Kombi"),
                      ("e_iids", "200998"), ("e_pr", "159.00"), ("e_cur", "SEK")])
    return vreq(c, "POST", kw.pop("scheme", "https"), "tr.snapchat.com", "/p", site="apotek", body=body,
                ctype="application/x-www-form-urlencoded", resp_size=0, resp_mime="-", b_labels={HP, H},
                note="Snap legacy form POST: u_hpn sha256, e_ic 'Canesten Kombi'", **kw)


def snap_get_hem(c, **kw):
    p = [("pid", SNAP_PID), ("ev", "ADD_CART"), ("pl", SITES["butik"]["origin"] + "/p/glidmedel-100"),
         ("ts", str(c.ms)), ("v", "1.5"), ("u_hem", sha256(PEOPLE["sara"]["em"])), ("e_ic", "Glidmedel silikon 100 ml"),
         ("e_iids", "G-100")]
    return vreq(c, "GET", kw.pop("scheme", "https"), "tr.snapchat.com", "/p?" + query_string(p), site="butik",
                labels={HE, SEX}, note="Snap legacy GET: u_hem sha256, e_ic 'Glidmedel' (sex life)", **kw)


def snap_cm_neg(c, **kw):
    p = [("pid", SNAP_PID), ("u_scsid", uuid4(c)), ("u_sclid", uuid4(c))]
    return vreq(c, "GET", kw.pop("scheme", "https"), "tr.snapchat.com", "/cm/i?" + query_string(p), site="shop",
                labels=set(), note="Snap cookie match /cm/i -> nothing", **kw)


def o_snap_js(c):
    return plain(c, "GET", "https://sc-static.net/scevent.min.js", referer="https://www.example.com/",
                 mime="application/javascript", size=22101, note="Snap pixel script, not a hit")


# ---- Pinterest (pinterest.toml)

PIN_TID = "2613447700123"


def pin(c, site, path, *, event="pagevisit", pd=None, ed=None, endpoint="/v3/", labels=(), note="", scheme="https", ua=None):
    s = SITES[site]
    p = [("tid", PIN_TID)]
    if endpoint == "/v3/":
        p.append(("event", event))
    if ed is not None:
        p.append(("ed", jdump(ed)))
    if pd is not None:
        p.append(("pd", jdump(pd)))
    if endpoint == "/v3/":
        p.append(("ad", jdump({"loc": s["origin"] + path, "ref": "", "if": False, "sh": 1080, "sw": 1920})))
    p.append(("cb", str(c.ms)))
    return vreq(c, "GET", scheme, "ct.pinterest.com", endpoint + "?" + query_string(p), site=site, labels=labels,
                note=note, ua=ua)


def pin_checkout(c, **kw):
    return pin(c, "apotek", "/kassa", event="checkout", pd={"em": sha256(PEOPLE["maria"]["em"])},
               ed={"value": 395, "currency": "SEK", "order_id": f"A-{c.rng.randint(1000, 9999)}",
                   "line_items": [{"product_name": "HIV-självtest", "product_id": "101990", "product_price": 395}]},
               labels={HE, H}, note="Pinterest checkout: pd.em sha256, ed.line_items[0].product_name 'HIV-självtest'", **kw)


def pin_user(c, **kw):
    return pin(c, "shop", "", endpoint="/user/", pd={"em": sha256(PEOPLE["jane"]["em"])}, labels={HE},
               note="Pinterest /user/ sync with pd.em sha256", **kw)


def pin_search_rel(c, **kw):
    return pin(c, "shop", "/search?q=dopklanning", event="search", ed={"search_query": "dopklänning"}, labels={REL},
               note="Pinterest search: ed.search_query 'dopklänning' (religion)", **kw)


def pin_quaker_neg(c, **kw):
    return pin(c, "bak", "/sok", event="search", ed={"search_query": "Quaker Oats havregryn"}, labels=set(),
               note="hard negative: search 'Quaker Oats havregryn' (religion exclude phrase)", **kw)


def pin_constant_neg(c, **kw):
    return pin(c, "shop", "", endpoint="/user/", pd={"em": "24aba99b2defbb47ee981b4200313f61f3ae31541d8717bdac1e463c838939b0"},
               labels=set(), note="Pinterest pd.em = the known cross-site constant (placeholders) -> nothing", **kw)


def pin_plain_http(c, **kw):
    return pin(c, "shop", "/signup/thanks", event="signup", pd={"em": "jane.doe@example.com"}, labels={PE},
               note="Pinterest signup with plaintext pd.em", scheme="http", **kw)


def o_pin_js(c):
    return plain(c, "GET", "https://s.pinimg.com/ct/core.js", referer="https://www.example.com/",
                 mime="application/javascript", size=9912, note="Pinterest tag script, not a hit")


# ---- X (x-twitter.toml); t.co and analytics.twitter.com adsct are twins

X_TXN = "o8z6j"


def x_adsct(c, site, path, *, host="t.co", xpath="/i/adsct", events=None, event=None, extra=(), labels=(), note="",
            scheme="https", same_as=None, ua=None):
    s = SITES[site]
    if same_as is not None:
        pl_id, event_id = same_as
    else:
        pl_id, event_id = uuid4(c), uuid4(c)
    p = [("bci", "3"), ("dv", "Europe/Stockholm&sv-SE&Google Inc.&Win32&255&1920&1080&8&24&1920&1040&0&na"),
         ("eci", "2"), ("event_id", event_id)]
    if events is not None:
        p.append(("events", jdump(events)))
    if event is not None:
        p.append(("event", jdump(event)))
    p += list(extra)
    p += [("integration", "advertiser"), ("p_id", "Twitter"), ("p_user_id", "0"), ("pl_id", pl_id),
          ("tw_document_href", s["origin"] + path), ("tw_iframe_status", "0"), ("txn_id", X_TXN),
          ("type", "javascript"), ("version", "2.3.33")]
    r = vreq(c, "GET", scheme, host, xpath + "?" + query_string(p), site=site, labels=labels, note=note, resp_size=43, ua=ua)
    r.x_key = (pl_id, event_id)
    r.x_args = (site, path, events, event, tuple(extra))
    return r


def x_purchase(c, **kw):
    return x_adsct(c, "apotek", "/produkt/hiv-sjalvtest",
                   events=[["purchase", {"email_address": sha256(PEOPLE["erik"]["em"]), "value": "395",
                                         "content_name": "HIV-självtest"}]],
                   extra=[("tw_sale_amount", "395"), ("tw_order_quantity", "1")], labels={HE, H},
                   note="X t.co adsct purchase: events[0][1].email_address sha256, HIV-självtest page and content_name", **kw)


def X_TWIN(note="X analytics.twitter.com adsct twin of the previous t.co hit (same txn_id, pl_id, event_id, page): duplicate -> nothing"):
    def make(c, prev):
        p = prev[-1]
        site, path, events, event, extra = p.x_args
        r = x_adsct(c, site, path, host="analytics.twitter.com", events=events, event=event, extra=list(extra),
                    labels=p.q_labels, note=note, scheme=p.scheme, same_as=p.x_key)
        r.twin_of = p
        return r
    return make


def x_event_plain(c, **kw):
    return x_adsct(c, "shop", "/books/checkout", host="analytics.x.com", xpath="/1/i/adsct",
                   event={"email_address": "maria.nilsson@example.org",
                          "contents": [{"content_id": "B-77", "content_name": "Bibel i skinnband"}]},
                   labels={PE, REL}, note="X analytics.x.com twq('event'): plaintext email_address, content_name 'Bibel' (religion)", **kw)


def x_pageview_neg(c, **kw):
    return x_adsct(c, "shop", "/", events=[["pageview", {}]], labels=set(), note="X adsct page view -> nothing", **kw)


def x_capi(c, ip_hashed=True, **kw):
    ip = "198.51.100.23"
    ident = [{"twclid": c.hexid(26)}, {"hashed_email": sha256(PEOPLE["john"]["em"])},
             {"ip_address": sha256(ip) if ip_hashed else ip}]
    body = jdump({"conversions": [{"conversion_time": iso_z(c.t), "event_id": f"tw-{X_TXN}-o87ne", "identifiers": ident,
                                   "contents": [{"content_id": "EN-1023", "content_name": "Wool socks 3-pack", "num_items": 1}],
                                   "value": "19.90", "price_currency": "EUR"}]})
    labels = {HE, HIP if ip_hashed else PIP}
    return vreq(c, "POST", kw.pop("scheme", "https"), "ads-api.x.com", f"/12/measurement/conversions/{X_TXN}",
                body=body, ctype="application/json", ua="python", resp_mime="application/json", resp_size=120,
                b_labels=labels, note=f"X Conversions API: hashed_email, ip_address {'sha256' if ip_hashed else 'plaintext'}", **kw)


def o_x_js(c):
    return plain(c, "GET", "https://static.ads-twitter.com/uwt.js", referer="https://www.example.com/",
                 mime="application/javascript", size=14101, note="X uwt.js load, not a hit")


# ---- Reddit (reddit.toml)

RD_ID = "t2_8kq1z0xw"


def rd_pixel(c, event, *, products=None, em="", external_id="", custom="", site="apotek", labels=(), note="", scheme="https", ua=None):
    p = [("ts", str(c.ms)), ("id", RD_ID), ("event", event), ("m.itemCount", "1" if products else ""), ("m.value", ""),
         ("m.valueDecimal", "159" if products else ""), ("m.currency", "SEK" if products else ""), ("m.transactionId", ""),
         ("m.customEventName", custom), ("m.products", jdump(products) if products else ""), ("m.conversionId", ""),
         ("uuid", uuid4(c)), ("aaid", ""), ("em", em), ("external_id", external_id), ("idfa", ""),
         ("integration", "reddit"), ("opt_out", "0"), ("sh", "1080"), ("sw", "1920"), ("v", "rdt_c9439d84"),
         ("dpm", ""), ("dpcc", ""), ("dprc", "")]
    return vreq(c, "GET", scheme, "alb.reddit.com", "/rp.gif?" + query_string(p), site=site, labels=labels, note=note, ua=ua)


def rd_addtocart(c, **kw):
    return rd_pixel(c, "AddToCart", products=[{"id": "200998", "name": "Canesten Kombi", "category": "Underlivsbesvär"}],
                    em=sha256(PEOPLE["sara"]["em"]), labels={HE, H},
                    note="Reddit rp.gif AddToCart: em sha256, m.products[0].name 'Canesten Kombi'", **kw)


def rd_pagevisit_neg(c, **kw):
    return rd_pixel(c, "PageVisit", site="shop", labels=set(), note="Reddit rp.gif PageVisit (Omnibug shape) -> nothing", **kw)


def rd_custom_post(c, **kw):
    q = [("id", RD_ID), ("event", "Custom")]
    body = form_body([("m.customEventName", "Anmälan till a-kassa"), ("m.value", ""),
                      ("em", "erik.johansson@example.com"), ("external_id", sha256("member-30117"))])
    return vreq(c, "POST", kw.pop("scheme", "https"), "alb.reddit.com", "/rp?" + query_string(q), site="org", body=body,
                ctype="application/x-www-form-urlencoded", b_labels={PE, HX, UNION},
                note="Reddit form POST: m.customEventName 'Anmälan till a-kassa' (trade union), plaintext em, external_id sha256", **kw)


def rd_capi_v2(c, **kw):
    body = jdump({"test_mode": False, "events": [{
        "event_at": iso_z(c.t), "event_type": {"tracking_type": "Purchase"}, "click_id": c.hexid(24),
        "event_metadata": {"item_count": 1, "currency": "SEK", "value_decimal": 49.0,
                           "products": [{"id": "200113", "name": "Alvedon 500 mg 20 tabletter", "category": "Värk och feber"}]},
        "user": {"email": sha256(PEOPLE["anna"]["em"]), "ip_address": sha256("203.0.113.77"), "user_agent": UA["chrome"],
                 "uuid": uuid4(c)}}]})
    return vreq(c, "POST", kw.pop("scheme", "https"), "ads-api.reddit.com", f"/api/v2.0/conversions/events/{RD_ID}",
                body=body, ctype="application/json", ua="python", resp_mime="application/json", resp_size=64,
                b_labels={HE, HIP, H}, note="Reddit Conversions API v2.0: user.email and user.ip_address sha256, Alvedon product", **kw)


def rd_capi_v3(c, **kw):
    body = jdump({"data": {"test_mode": False, "events": [{
        "event_at": iso_z(c.t), "action_source": "WEBSITE", "type": {"tracking_type": "SIGN_UP"},
        "user": {"email": "kari.nordmann@example.com", "phone_number": sha256("+4741234567"),
                 "ip_address": sha256("198.51.100.77")}}]}})
    return vreq(c, "POST", kw.pop("scheme", "https"), "ads-api.reddit.com", "/api/v3/pixels/a2_j892kaf0wxc6/conversion_events",
                body=body, ctype="application/json", ua="python", resp_mime="application/json", resp_size=64,
                b_labels={PE, HP, HIP}, note="Reddit Conversions API v3: plaintext user.email, phone_number and ip_address sha256", **kw)


def o_rd_js(c):
    return plain(c, "GET", "https://www.redditstatic.com/ads/pixel.js", referer="https://www.example.com/",
                 mime="application/javascript", size=16233, note="Reddit pixel.js load, not a hit")


# ---- Criteo (criteo.toml)

CRITEO_A = "76123"


def criteo_event(c, site, path, events, *, labels=(), note="", scheme="https", host="sslwidget.criteo.com", ua=None):
    s = SITES[site]
    p = [("a", CRITEO_A), ("v", "5.23.0"), ("otl", "1")]
    for i, ev in enumerate(events):
        p.append((f"p{i}", ev))
    p += [("adce", "1"), ("bundle", "Jb3wMV9xT3ZqcUw4aWZHbm1kMkE"), ("tld", s["origin"].split("//")[1]), ("dy", "1"),
          ("fu", quote(s["origin"] + path, safe="")), ("ceid", uuid4(c)), ("dtycbr", str(c.rng.randint(10000, 99999)))]
    return vreq(c, "GET", scheme, host, "/event?" + query_string(p), site=site, labels=labels, note=note, ua=ua)


def criteo_email_health(c, **kw):
    evs = ["e=exd&site_type=d", "e=ce&m=" + quote("[anna.svensson%40example.se]", safe="%"), "e=vp&p=100234", "e=dis"]
    return criteo_event(c, "apotek", "/produkt/klamydiatest-hemma", evs, labels={PE, H},
                        note="Criteo OneTag: setEmail in p1 (double-encoded e-mail), fu = klamydiatest page (double-encoded)", **kw)


def criteo_ethnic(c, **kw):
    evs = ["e=exd&site_type=d", "e=vl&p=" + quote("[B-881,B-882,B-883]", safe=""), "e=dis"]
    return criteo_event(c, "shop", "/bocker/samiska-sagor", evs, labels={ETH},
                        note="Criteo OneTag listing: fu /bocker/samiska-sagor (ethnic origin)", **kw)


def criteo_home_neg(c, **kw):
    evs = ["e=ce&m=%5B%5D", "e=exd&z=&site_type=d&ref=https%3A%2F%2Fwww.google.com", "e=vh", "e=dis"]
    return criteo_event(c, "shop", "/", evs, labels=set(), note="Criteo OneTag home view, empty setEmail -> nothing", **kw)


def criteo_s2s(c, **kw):
    body = jdump({"version": "s2s_v0", "site_type": "d", "account": int(CRITEO_A), "ip": "203.0.113.54",
                  "full_url": SITES["shop"]["origin"] + "/checkout/complete",
                  "id": {"mapping_key": "70", "mapped_user_id": c.hexid(16), "email": {"sha256": sha256(PEOPLE["john"]["em"])}},
                  "events": [{"event": "trackTransaction", "id": f"ORD-{c.rng.randint(1000, 9999)}",
                              "item": [{"id": "EN-1023", "price": 19.9, "quantity": 1}]}]})
    return vreq(c, "POST", kw.pop("scheme", "https"), "widget.criteo.com", "/m/event?version=s2s_v0", body=body,
                ctype="application/json", ua="python", resp_mime="application/json", resp_size=2,
                b_labels={HE, PIP}, note="Criteo server-to-server: id.email.sha256 and client ip", **kw)


def criteo_dis_neg(c, **kw):
    return vreq(c, "GET", kw.pop("scheme", "https"), "dis.eu.criteo.com",
                f"/dis/dis.aspx?p={CRITEO_A}&cb={c.rng.randint(10**10, 10**11)}&ref=&sc_r=1920x1080&sc_d=24&site_type=d",
                site="shop", labels=set(), note="Criteo dis.aspx follow-up -> nothing", **kw)


def o_criteo_js(c):
    return plain(c, "GET", "https://static.criteo.net/js/ld/ld.js", referer="https://www.example.com/",
                 mime="application/javascript", size=40122, note="Criteo OneTag loader, not a hit")


# ---- Adobe Analytics (adobe-analytics.toml)

def adobe_bss(c, host, rsid, params, *, lib="JS-2.22.0-LEWM", scheme="https", labels=(), note="", site="apotek", ua=None):
    p = [("AQB", "1"), ("ndh", "1"), ("pf", "1"), ("t", "4/2/2024 9:0:0 1 -60"),
         ("mid", "".join(str(c.rng.randint(0, 9)) for _ in range(38))), ("ce", "UTF-8")] + list(params) + [("AQE", "1")]
    q = "&".join(k if v is None else f"{k}={enc_uri_component(v)}" for k, v in p)
    return vreq(c, "GET", scheme, host, f"/b/ss/{rsid}/1/{lib}/s{c.rng.randint(10**13, 10**14 - 1)}?" + q,
                site=site, labels=labels, note=note, ua=ua)


def adobe_health(c, **kw):
    s = SITES["apotek"]
    return adobe_bss(c, "smetrics.apotek-exempel.se", "apotekprod",
                     [("pageName", "produkt"), ("g", s["origin"] + "/p/100234"), ("r", "https://www.google.com/"),
                      ("ch", "produkter"), ("events", "prodView"), ("products", ";Klamydiatest hemma;1;249.00"),
                      ("v1", "produkt")],
                     labels={H}, note="Adobe /b/ss/ on a first-party CNAME: products ';Klamydiatest hemma;1;249.00'", **kw)


def adobe_legacy_zip(c, **kw):
    return adobe_bss(c, "example.112.2o7.net", "examplecom",
                     [("pageName", "konto"), ("g", "http://www.example.com/konto"), ("zip", "11453"),
                      ("cid.", None), ("crm_id.", None), ("id", sha256("crm-118204")), ("as", "1"), (".crm_id", None),
                      (".cid", None)],
                     lib="H.27.5", scheme="http", site="shop", labels={PADDR, HX},
                     note="Adobe legacy 2o7.net over http: visitor zip (postal address) and hashed Visitor API customer id", **kw)


def adobe_cpr_phone(c, **kw):
    return adobe_bss(c, "metrics.example.com", "exampleprod",
                     [("pageName", "mina sidor"), ("g", "https://www.example.com/account"), ("cid.", None), ("crm_id.", None),
                      ("id", CPR_METTE_10), ("as", "1"), (".crm_id", None), (".cid", None), ("v12", PHONE_US)],
                     site="shop", labels={PN, PP},
                     note=f"Adobe customer id {CPR_METTE_10} (Danish CPR, external_id identity field) and eVar v12 '{PHONE_US}'", **kw)


def adobe_political(c, **kw):
    return adobe_bss(c, "metrics.example.org", "exampleorg",
                     [("pageName", "Valkampanj 2026 – partiprogram"), ("g", SITES["org"]["origin"] + "/kampanj"),
                      ("ch", "kampanj"), ("c1", "kampanj")],
                     site="org", labels={POL}, note="Adobe pageName 'Valkampanj 2026 – partiprogram' (political)", **kw)


def adobe_neg(c, **kw):
    return adobe_bss(c, "example.sc.omtrdc.net", "exampleprod,exampleglobal",
                     [("aid", "2F1E2A3B4C5D6E7F-4000010A2B3C4D5E"), ("pageName", "home"), ("g", "https://www.example.com/"),
                      ("ch", "home"), ("v5", "D=pageName"), ("c1", "home")],
                     lib="JS-2.22.0", site="shop", labels=set(), note="Adobe omtrdc page view -> nothing", **kw)


def adobe_websdk(c, **kw):
    body = jdump({"events": [{"xdm": {
        "eventType": "web.webpagedetails.pageViews",
        "web": {"webPageDetails": {"URL": SITES["klinik"]["origin"] + "/boka/graviditetstest", "name": "Boka graviditetstest"},
                "webReferrer": {"URL": ""}},
        "identityMap": {"ECID": [{"id": "".join(str(c.rng.randint(0, 9)) for _ in range(38)), "authenticatedState": "ambiguous",
                                  "primary": True}],
                        "Email_LC_SHA256": [{"id": sha256(PEOPLE["mette"]["em"]), "authenticatedState": "authenticated"}]},
        "person": {"name": {"firstName": "Mette", "lastName": "Hansen"}},
        "timestamp": iso_z(c.t)}, "data": {"__adobe": {"analytics": {"eVar1": "bokning"}}}}],
        "meta": {"state": {"domain": "klinik-exempel.se", "cookiesEnabled": True}}})
    q = f"configId={uuid4(c)}&requestId={uuid4(c)}"
    return vreq(c, "POST", kw.pop("scheme", "https"), "edge.adobedc.net", "/ee/irl1/v1/interact?" + q, site="klinik",
                body=body, ctype="text/plain;charset=UTF-8", resp_mime="application/json", resp_size=310,
                b_labels={HE, PNAME, H},
                note="Adobe Web SDK: identityMap Email_LC_SHA256, person.name plaintext, page 'Boka graviditetstest'", **kw)


def o_adobe_js(c):
    return plain(c, "GET", "https://assets.adobedtm.com/38aee39cc23f/1468c748dfc1/launch-a653f5a3fe63.min.js",
                 referer="https://www.apotek-exempel.se/", mime="application/javascript", size=180221,
                 note="Adobe Launch library, not a hit")


# ---- Matomo (matomo.toml)

def matomo(c, host, params, *, site="se", path="/matomo.php", method="GET", scheme="https", labels=(), note="", ua=None):
    s = SITES[site]
    p = [("idsite", "3"), ("rec", "1"), ("r", f"{c.rng.randint(0, 999999):06d}"), ("h", "9"), ("m", "12"), ("s", "57")]
    p += list(params)
    p += [("_id", c.hexid(16)), ("_idn", "0"), ("send_image", "0"), ("cookie", "1"), ("res", "1920x1080"),
          ("pv_id", c.hexid(6))]
    return vreq(c, method, scheme, host, path + "?" + query_string(p), site=site, labels=labels, note=note,
                resp_size=0, resp_mime="-", status=204, ua=ua)


def matomo_email_health(c, **kw):
    s = SITES["klinik"]
    return matomo(c, "stats.example.se", [("action_name", "Boka tid för vaccination"), ("url", s["origin"] + "/boka/vaccination"),
                                          ("urlref", "https://www.google.com/"), ("uid", "erik.johansson@example.com")],
                  site="klinik", labels={PE, H}, note="Matomo page view: action_name 'vaccination' (health), uid is an e-mail", **kw)


def matomo_server_side(c, **kw):
    return matomo(c, "stats.example.com", [("url", SITES["shop"]["origin"] + "/"), ("cip", "203.0.113.88"),
                                           ("city", "Uppsala"), ("country", "se"), ("token_auth", c.hexid(32))],
                  site="shop", scheme=kw.pop("scheme", "http"), labels={PIP, PADDR, SEC},
                  note="Matomo server-side tracking: token_auth, cip (IP), city (postal address); country alone is not reported", **kw)


def matomo_trade_union(c, **kw):
    return matomo(c, "stats.example.se", [("action_name", "Bli medlem i Unionen"), ("url", SITES["org"]["origin"] + "/medlemskap"),
                                          ("e_c", "formular"), ("e_a", "start"), ("e_n", f"Rückruf {PHONE_DE}")],
                  site="org", labels={UNION, PP},
                  note=f"Matomo action_name 'Bli medlem i Unionen' (trade union), e_n with DE mobile '{PHONE_DE}'", **kw)


def matomo_neg_eu(c, **kw):
    return matomo(c, "stats.example.se", [("action_name", "Europeiska unionen och dataskydd"),
                                          ("url", SITES["org"]["origin"] + "/dataskydd"), ("dimension1", PHONE_BARE_NO)],
                  site="org", labels=set(),
                  note=f"hard negatives: 'Europeiska unionen' (trade-union exclude phrase), bare '{PHONE_BARE_NO}' is no phone", **kw)


def matomo_ping_neg(c, **kw):
    return matomo(c, "stats.example.com", [("ping", "1"), ("url", SITES["shop"]["origin"] + "/")], site="shop",
                  labels=set(), note="Matomo heartbeat ping -> nothing", **kw)


def matomo_form_post(c, **kw):
    s = SITES["butik"]
    body = form_body([("idsite", "2"), ("rec", "1"), ("search", "glidmedel"), ("search_count", "4"),
                      ("url", s["origin"] + "/sok"), ("uid", sha256("kund-7731")), ("_id", c.hexid(16)),
                      ("dimension1", PHONE_FI)])
    return vreq(c, "POST", kw.pop("scheme", "https"), "www.example.se", "/analytics/piwik.php", site="butik", body=body,
                ctype="application/x-www-form-urlencoded; charset=UTF-8", resp_size=0, resp_mime="-", status=204,
                b_labels={HX, SEX, PP},
                note=f"Matomo piwik.php form POST: search 'glidmedel' (sex life), uid sha256, dimension1 FI mobile '{PHONE_FI}'", **kw)


def matomo_bulk(c, **kw):
    reqs = ["?" + query_string([("idsite", "3"), ("rec", "1"), ("action_name", "Dop i kyrkan – anmälan"),
                                ("url", SITES["org"]["origin"] + "/dop/anmalan"), ("uid", "maria.nilsson@example.org")]),
            "?idsite=3&rec=1&ping=1"]
    body = jdump({"requests": reqs})
    return vreq(c, "POST", kw.pop("scheme", "https"), "stats.example.com", "/matomo.php", site="org", body=body,
                ctype="application/json", ua="python", resp_mime="application/json", resp_size=40,
                b_labels={PE, REL}, note="Matomo bulk JSON: plaintext uid e-mail, action_name 'Dop i kyrkan' (religion)", **kw)


def o_matomo_js(c):
    return plain(c, "GET", "https://stats.example.com/matomo.js", referer="https://www.example.com/",
                 mime="application/javascript", size=66122, note="matomo.js tracker load, not a hit")


# ---- Meta and GA4: the newer PII types and Art. 9 categories


def mp_card_field(c, **kw):
    return meta_get(c, "butik", "AddPaymentInfo", "/kassa/betalning",
                    cd=[("card_number", CARD_MC_BARE), ("value", "99.00"), ("currency", "SEK")],
                    labels={PCARD}, note="Meta cd[card_number] holds an ungrouped card number (card-named field)", **kw)


def mp_cpr_extid(c, **kw):
    return meta_get(c, "shop", "CompleteRegistration", "/account/welcome", udl=[("ud[external_id]", CPR_METTE_10)],
                    labels={PN}, note=f"ud[external_id]={CPR_METTE_10}: Danish CPR without hyphen in an identity field", **kw)


def mp_fnr_spaced(c, **kw):
    return meta_get(c, "klinik", "Schedule", "/boka/klar", cd=[("customer_ref", NO_FNR_KARI_SPACED)],
                    labels={PN}, note=f"Norwegian fødselsnummer '{NO_FNR_KARI_SPACED}' (DDMMYY IIIKK) in cd[customer_ref]", **kw)


def mp_sex_search(c, **kw):
    return meta_get(c, "apotek", "Search", "/sok?q=p-piller", cd=[("search_string", "p-piller")], labels={H, SEX},
                    note="Meta Search cd[search_string]='p-piller': contraception is health AND sex life", **kw)


def mn_sextio(c, **kw):
    return meta_get(c, "shop", "ViewContent", "/kampanj", cd=[("content_name", "Sextio procent rabatt på vinterjackor")],
                    labels=set(), note="hard negative: 'Sextio procent' (sex life exclude token; Swedish 'six' words)", **kw)


def mn_card_negs(c, **kw):
    return meta_get(c, "shop", "Purchase", "/checkout/complete",
                    cd=[("order_ref", CARD_MC_BARE), ("voucher", CARD_FILLER), ("note", CARD_LUHN_BAD)],
                    labels=set(), note="hard negatives: ungrouped card outside card fields, filler 4111..., Luhn failure", **kw)


def gp_card_iban(c, **kw):
    return ga4(c, "se", "/kundservice/tack", "Tack", en="form_submit",
               eps=[("ep.form_note", f"Återbetala till kort {CARD_VISA_GROUPED}"), ("ep.payout", IBAN_SE_GROUPED)],
               labels={PCARD, PIBAN}, note="GA4 form texts: grouped Visa test card in free text, grouped SE IBAN", **kw)


def gp_iban_gb_amex(c, **kw):
    return ga4(c, "shop", f"/account/payout?iban={IBAN_GB}", "Payout settings", en="payout_update",
               eps=[("ep.card_hint", f"Amex {CARD_AMEX_GROUPED}")], labels={PIBAN, PCARD},
               note="GA4 dl query ?iban= ungrouped GB IBAN, ep.card_hint grouped Amex test card", **kw)


def gn_iban_negs(c, **kw):
    return ga4(c, "se", "/konto/utbetalning", "Utbetalning", en="payout_update",
               eps=[("ep.payout", IBAN_BAD), ("ep.payout_raw", IBAN_LOWER)], labels=set(),
               note="hard negatives: IBAN with wrong check digits, lower-case IBAN", **kw)


def gp_nordic_ids(c, **kw):
    return ga4(c, "klinik", f"/mina-sidor?fnr={NO_FNR_KARI}", "Mina sidor", en="login",
               eps=[("ep.hetu", HETU_MATTI), ("ep.cpr", CPR_METTE)], labels={PN},
               note=f"GA4: NO fødselsnummer {NO_FNR_KARI} in dl, FI hetu {HETU_MATTI}, DK CPR {CPR_METTE}", **kw)


def gp_hetu_2000(c, **kw):
    return ga4(c, "klinik", "/boka", "Boka", en="booking", eps=[("ep.customer_ref", HETU_2000)], labels={PN},
               note=f"GA4 ep.customer_ref Finnish henkilötunnus with century sign A ({HETU_2000})", **kw)


def gn_nordic_negs(c, **kw):
    return ga4(c, "klinik", f"/mina-sidor?fnr={NO_FNR_BAD}", "Mina sidor", en="login",
               eps=[("ep.hetu", HETU_BAD), ("ep.cpr", CPR_BAD_DATE), ("ep.order_id", CPR_METTE_10)], labels=set(),
               note=f"hard negatives: NO {NO_FNR_BAD} wrong control digit, FI {HETU_BAD} wrong check char, DK {CPR_BAD_DATE} 31 Feb, "
                    f"10-digit CPR {CPR_METTE_10} outside identity fields", **kw)


def gp_phones(c, **kw):
    return ga4(c, "se", "/kundservice/tack", "Tack", en="generate_lead",
               eps=[("ep.phone", PHONE_NO), ("ep.alt_phone", PHONE_US_E164)], labels={PP},
               note=f"GA4 ep.phone NO national form '{PHONE_NO}', ep.alt_phone '{PHONE_US_E164}'", **kw)


def gp_glidmedel(c, **kw):
    return ga4(c, "butik", "/p/glidmedel-100", "Glidmedel silikon 100 ml", en="view_item",
               eps=[("ep.item_brand", "Exempel")], labels={SEX}, note="GA4 dt 'Glidmedel' (sex life)", **kw)


def gn_betongvibrator(c, **kw):
    return ga4(c, "bygg", "/p/betongvibrator-38", "Betongvibrator 38 mm för gjutning", en="view_item",
               labels=set(), note="hard negative: 'Betongvibrator' (vibrator is a whole-word term)", **kw)


def gp_religion(c, **kw):
    return ga4(c, "org", "/dop/boka", "Boka dop – Svenska kyrkan i Exempelby", en="page_view",
               labels={REL}, note="GA4 dt 'Boka dop – Svenska kyrkan' (religion)", **kw)


def gn_religion_negs(c, **kw):
    return ga4(c, "shop", "/kontakt/oppettider", "Öppettider Kristi himmelsfärdsdag", en="page_view",
               eps=[("ep.message", "Konfirmera din bokning")], labels=set(),
               note="hard negatives: 'Kristi himmelsfärdsdag' (exclude phrase), 'Konfirmera din bokning'", **kw)


def gn_political_negs(c, **kw):
    return ga4(c, "shop", "/p/sd-kort-128", "SD-kort 128 GB – moderat pris", en="view_item",
               eps=[pr_item(1, "mugg")], labels=set(),
               note="hard negatives: 'SD-kort', 'moderat pris' are not parties", **kw)


def gp_ethnic(c, **kw):
    return ga4(c, "org", "/enkat", "Enkät: etnisk bakgrund (frivilligt)", en="form_start", labels={ETH},
               note="GA4 dt 'etnisk bakgrund' (ethnic origin form label)", **kw)


def gn_union_negs(c, **kw):
    return ga4(c, "shop", "/p/skarm-27", "TCO Certified skärm 27 tum", en="view_item",
               eps=[("ep.bank", "Handelsbanken")], labels=set(),
               note="hard negatives: 'TCO Certified' (exclude phrase), 'Handelsbanken' (exclude token)", **kw)


def gp_sex_toys_en(c, **kw):
    return ga4(c, "butik", "/en/sex-toys", "Sex toys & vibrators | Butik Exempel", en="view_item_list",
               labels={SEX}, note="GA4 dt 'Sex toys & vibrators' (sex life, English phrase terms)", **kw)


def gn_sex_negs_en(c, **kw):
    return ga4(c, "shop", "/p/hoodie-msx", "Middlesex University hoodie – unisex", en="view_item", labels=set(),
               note="hard negatives: 'Middlesex' (exclude token), 'unisex' (no bare 'sex' term)", **kw)


def gn_ethnic_negs(c, **kw):
    return ga4(c, "shop", "/p/bromsklossar-v70", "Bromsklossar fram Volvo V70 – same day delivery", en="view_item",
               labels=set(), note="hard negatives: 'Bromsklossar' (not 'romsk'), 'same day' (not Sami)", **kw)


def gp_hashed_email_name(c, **kw):
    return ga4(c, "shop", "/account", "My account", en="login", eps=[("ep.hashed_email", sha256(PEOPLE["jane"]["em"]))],
               labels={HE}, note="GA4 ep.hashed_email sha256: a field named for identity (identity-field-names)", **kw)


# --------------------------------------------------------------------------------------------
# independent rule checker (label semantics of README.md) + ambiguity guard
# --------------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+([A-Za-z]{2,}))(?![A-Za-z0-9-])")
VALID_TLDS = {"se", "com", "org", "net", "uk", "nu", "io", "de", "no", "dk", "fi"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
B64_43 = re.compile(r"^[A-Za-z0-9_-]{43}$")
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

# detectors/hashes.toml: placeholder plaintexts (their SHA-256 / MD5 are not a person either) and
# two digests of unknown preimage that recur across unrelated sites.
PLACEHOLDER_PLAIN = {"", "undefined", "null", "test", "[object object]", "none", "nan", "false", "true", "0", "-",
                     "n/a", "unknown"}
for _p in sorted(PLACEHOLDER_PLAIN | {"[object Object]"}):
    PLACEHOLDERS.setdefault(sha256(_p), _p)
    PLACEHOLDERS.setdefault(md5(_p), _p)
PLACEHOLDERS[SNAP_CONSTANT[3:].lower()] = "snap cross-site constant"
PLACEHOLDERS["24aba99b2defbb47ee981b4200313f61f3ae31541d8717bdac1e463c838939b0"] = "pinterest cross-site constant"


def hash_hex(v: str):
    """Hash shapes of identity fields (detectors/README.md): 64/40/32 hex, FFF+64 hex, 43-char
    base64url of 32 bytes. Returns the lower-case hex digest, or None."""
    v = v.strip()
    if re.fullmatch(r"[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32}", v):
        return v.lower()
    if len(v) == 67 and v.startswith("FFF") and re.fullmatch(r"[0-9A-Fa-f]{64}", v[3:]):
        return v[3:].lower()
    if len(v) in (43, 44) and re.fullmatch(r"[A-Za-z0-9_+/=-]+", v):
        try:
            raw = base64.urlsafe_b64decode(v.rstrip("=").replace("+", "-").replace("/", "_") + "=" * (-len(v.rstrip("=")) % 4))
        except ValueError:
            return None
        return raw.hex() if len(raw) == 32 else None
    return None


def hash_kind(v: str):
    return bool(HEX64.match(v) or HEX32.match(v))


# ---- PII detectors (detectors/pii/*.toml), re-implemented: regex, then an exact validator.
# Phone validity depends on numbering plans this script does not carry: every phone-shaped text
# must be classified by hand below, otherwise the generator stops (Ambiguous).

RX_E164 = re.compile(r"\+[1-9][0-9 ()-]{6,18}[0-9]")
RX_SE_MOBILE = re.compile(r"\b07[02369][- ]?[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{2}\b")
RX_PHONES_NATIONAL = [re.compile(x) for x in (
    r"\b[49][0-9]{2} [0-9]{2} [0-9]{3}\b",                                 # NO
    r"\b[2-9][0-9] [0-9]{2} [0-9]{2} [0-9]{2}\b",                          # DK
    r"\b0(?:4[0-9]|50)[ -][0-9]{3} ?[0-9]{3,4}\b",                          # FI
    r"\b01[5-7][0-9][ /-][0-9]{3,4}[ -]?[0-9]{3,5}\b",                     # DE mobile
    r"\b0[1-9][0-9]{1,3}[ -][0-9]{3,4}[ -]?[0-9]{3,4}\b",                  # GB
    r"\(?\b[2-9][0-9]{2}\)?[ .-][2-9][0-9]{2}[ .-][0-9]{4}\b",             # US
)]
# texts (as matched) that are valid numbers in the numbering plan of the country the regex is for
VALID_PHONES = {"+46701740605", "+46701740642", "070-174 06 42", "070-174 06 05", "0701740677",
                PHONE_NO, PHONE_NO_E164, PHONE_DK, PHONE_FI, PHONE_DE, PHONE_GB, PHONE_US, PHONE_US_E164,
                "201 555 0123"}
# texts a regex matches that are not valid numbers (fiction range not in service, id fragments)
NOT_PHONES = {"+44 7700 900123"}


def phones_in(s: str) -> bool:
    found = False
    for rx in [RX_E164, RX_SE_MOBILE] + RX_PHONES_NATIONAL:
        for m in rx.finditer(s):
            t = m.group(0)
            if t in VALID_PHONES:
                found = True
            elif t not in NOT_PHONES:
                raise Ambiguous(f"phone-shaped text not classified by hand: {t!r} in {s[:80]!r}")
    return found


def _date_ok(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
        return True
    except ValueError:
        return False


def luhn_full(d: str) -> bool:
    if len(d) < 2 or not d.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2 == 1:
            v *= 2
            v = v // 10 + v % 10
        total += v
    return total % 10 == 0


def pnr_valid(digits: str) -> bool:
    """Swedish personnummer / samordningsnummer: 10 or 12 digits, real date (day+60), Luhn."""
    if len(digits) == 12:
        if digits[:2] not in ("19", "20"):
            return False
        years = [int(digits[:4])]
        ten = digits[2:]
    elif len(digits) == 10:
        ten = digits
        years = [2000 + int(ten[:2]), 1900 + int(ten[:2])]
    else:
        return False
    m, d = int(ten[2:4]), int(ten[4:6])
    d = d - 60 if d > 60 else d
    return any(_date_ok(y, m, d) for y in years) and luhn_full(ten)


def no_valid(text: str) -> bool:
    d = re.sub(r"\D", "", text)
    if len(d) != 11:
        return False
    day, month, yy = int(d[0:2]), int(d[2:4]), int(d[4:6])
    day = day - 40 if day > 40 else day
    month = month - 40 if month > 40 else month
    if not (_date_ok(1900 + yy, month, day) or _date_ok(2000 + yy, month, day)):
        return False
    return no_controls(d[:9]) == d[9:]


def dk_valid(text: str) -> bool:
    d = re.sub(r"\D", "", text)
    if len(d) != 10:
        return False
    day, month, yy = int(d[0:2]), int(d[2:4]), int(d[4:6])
    return _date_ok(1900 + yy, month, day) or _date_ok(2000 + yy, month, day)


def fi_valid(text: str) -> bool:
    t = text.strip().upper()
    if len(t) != 11 or not (t[:6] + t[7:10]).isdigit():
        return False
    century = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
               "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}.get(t[6])
    if century is None or not _date_ok(century + int(t[4:6]), int(t[2:4]), int(t[0:2])):
        return False
    return HETU_CHECK[int(t[0:6] + t[7:10]) % 31] == t[10]


RX_SE_PNR = re.compile(r"\b(?:19|20)?[0-9]{6}[-+][0-9]{4}\b|\b(?:19|20)[0-9]{10}\b")
RX_NO_FNR = re.compile(r"\b[0-7][0-9][0-5][0-9]{3} ?[0-9]{5}\b")
RX_DK_CPR = re.compile(r"\b[0-3][0-9][01][0-9]{3}-[0-9]{4}\b")
RX_FI_HETU = re.compile(r"\b[0-3][0-9][01][0-9]{3}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]\b")


def national_ids_in(s: str) -> bool:
    return (any(pnr_valid(re.sub(r"\D", "", m.group(0))) for m in RX_SE_PNR.finditer(s))
            or any(no_valid(m.group(0)) for m in RX_NO_FNR.finditer(s))
            or any(dk_valid(m.group(0)) for m in RX_DK_CPR.finditer(s))
            or any(fi_valid(m.group(0)) for m in RX_FI_HETU.finditer(s)))




RX_CARD_GROUPED = re.compile(r"\b[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}\b|\b3[47][0-9]{2}[ -][0-9]{6}[ -][0-9]{5}\b")
RX_CARD_BARE = re.compile(r"\b(?:[0-9][ -]?){12,18}[0-9]\b")
CARD_FIELD_GLOBS = ["**.card*", "**.*card", "**.*card_number", "**.cc", "**.ccnum*", "**.cc_number", "**.pan",
                    "**.kortnummer", "**.kortnr", "**.credit*"]


def card_valid(text: str) -> bool:
    d = re.sub(r"\D", "", text)
    n = len(d)
    if not 13 <= n <= 19 or not luhn_full(d):
        return False
    p = lambda k: int(d[:k])
    issuer = {
        "4": n in (13, 16, 19),
        "5": (51 <= p(2) <= 55 and n == 16) or p(4) in (5018, 5020, 5038, 5893),
        "2": 2221 <= p(4) <= 2720 and n == 16,
        "3": (p(2) in (34, 37) and n == 15) or (3528 <= p(4) <= 3589 and n >= 16)
             or ((300 <= p(3) <= 305 or p(2) in (36, 38, 39)) and n >= 14),
        "6": p(4) == 6011 or 644 <= p(3) <= 649 or p(2) in (65, 62) or p(4) in (6304, 6759, 6761, 6762, 6763),
    }.get(d[0], False)
    return issuer and len(set(d)) >= 4


# IBAN lengths: SWIFT IBAN registry
IBAN_LENGTHS = dict(AD=24, AE=23, AL=28, AT=20, AZ=28, BA=20, BE=16, BG=22, BH=22, BR=29, BY=28, CH=21, CR=22,
                    CY=28, CZ=24, DE=22, DK=18, DO=28, EE=20, EG=29, ES=24, FI=18, FO=18, FR=27, GB=22, GE=22,
                    GI=23, GL=18, GR=27, GT=28, HR=21, HU=28, IE=22, IL=23, IQ=23, IS=26, IT=27, JO=30, KW=30,
                    KZ=20, LB=28, LC=32, LI=21, LT=20, LU=20, LV=21, LY=25, MC=27, MD=24, ME=22, MK=19, MR=27,
                    MT=31, MU=30, NL=18, NO=15, PK=24, PL=28, PS=29, PT=25, QA=29, RO=24, RS=22, SA=24, SC=31,
                    SE=24, SI=19, SK=24, SM=27, ST=25, SV=28, TL=23, TN=24, TR=26, UA=29, VA=22, VG=24, XK=20)
RX_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def iban_valid(text: str) -> bool:
    t = re.sub(r"\s", "", text).upper()
    if len(t) < 15 or not t.isalnum() or IBAN_LENGTHS.get(t[:2]) != len(t) or not t[2:4].isdigit():
        return False
    return int("".join(str(int(ch, 36)) for ch in t[4:] + t[:4])) % 97 == 1


def find_email(s: str) -> bool:
    return any(m.group(2).lower() in VALID_TLDS for m in EMAIL_RE.finditer(s))


def any_email_shape(s: str) -> bool:
    return bool(EMAIL_RE.search(s))


def pii_free_text(s: str, path: str = "") -> set:
    """The detectors with scope `any` on one text (one decoding layer)."""
    out = set()
    if "@" in s and find_email(s):
        out.add(PE)
    if phones_in(s):
        out.add(PP)
    if national_ids_in(s):
        out.add(PN)
    if any(card_valid(m.group(0)) for m in RX_CARD_GROUPED.finditer(s)):
        out.add(PCARD)
    if path and glob_match(CARD_FIELD_GLOBS, path) and any(card_valid(m.group(0)) for m in RX_CARD_BARE.finditer(s)):
        out.add(PCARD)
    if any(iban_valid(m.group(0)) for m in RX_IBAN.finditer(s)):
        out.add(PIBAN)
    return out


def identity_scoped(kind: str, v: str) -> set:
    """Detectors scoped to an identity kind: any dialable number in a phone field; ten digits
    (personnummer or CPR) in an external_id field."""
    out = set()
    t = v.strip()
    if kind == "phone" and re.fullmatch(r"\+?[0-9 ()-]{7,20}", t) and 7 <= len(re.sub(r"\D", "", t)) <= 15:
        out.add(PP)
    if kind == "external_id" and re.fullmatch(r"[0-9]{10}", t) and (pnr_valid(t) or dk_valid(t)):
        out.add(PN)
    return out


def plain_identity(kind: str, v: str, path: str, F: set):
    """A plaintext value in an identity field: PII detectors first, else pii/<kind> for the kinds
    the rules name (name, postal address, date of birth, gender, IP)."""
    if v.strip().lower() in PLACEHOLDER_PLAIN:
        return
    found = pii_free_text(v, path) | identity_scoped(kind, v)
    if found:
        F |= found
        return
    t = v.strip()
    ok = {"name": any(ch.isalpha() for ch in t) and len(t) <= 100,
          "postal_address": any(ch.isalnum() for ch in t),
          "date_of_birth": sum(ch.isdigit() for ch in t) >= 2,
          "gender": t.lower() in ("f", "m", "female", "male", "k", "kvinna", "man", "w", "d"),
          "ip_address": bool(re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", t)) or (":" in t and bool(re.fullmatch(r"[0-9a-fA-F:]+", t)))}
    if ok.get(kind):
        F.add(("pii", kind))


# ---- Art. 9 vocabularies (detectors/vocab/*.toml, matching semantics of vocab/FORMAT.md). The
# term lists are a hand-picked subset: every term this corpus relies on, plus the traps.

VOCAB = {
    "health": dict(
        compound=["klamydia", "gonorré", "herpes", "hepatit", "influensa", "förkylning", "forkylning", "halsont",
                  "covid", "diabet", "blodsocker", "allergi", "psoriasis", "migrän", "huvudvärk", "huvudvark",
                  "reuma", "artros", "celiaki", "magsår", "förstoppning", "blodtryck", "sjukdom", "symtom",
                  "biverkning", "illamående", "depression", "ångest", "autism", "cancer", "erektil", "gravid",
                  "ägglossning", "agglossning", "förlossning", "preventivmed", "minipiller", "vaginal", "underliv",
                  "rökavvänj", "övervikt", "viktminskning", "paracetamol", "ibuprofe", "antibiotik", "vårdcentral",
                  "vardcentral", "ungdomsmottag", "psykiat", "provtagning", "blodprov", "vaccin", "tandläkar",
                  "gynekolog", "hivtest", "rollator", "inflammation", "nätläkare", "receptförnyelse", "egenvård",
                  "chlamydi", "pregnan", "ovulation", "contracepti", "asthma", "eczema", "migrain", "anxiety",
                  "symptom", "headache", "painkiller", "erectile", "abortion"],
        prefix=["receptbelag", "receptfri", "läkemed", "lakemed", "akne", "astma", "alvedon", "ipren", "canesten",
                "nicorette", "panodil", "p pille", "sexuellt överför", "acne", "medication", "std test",
                "blood test", "viagra"],
        word=["uvi", "bvc", "feber", "smärta", "snuva", "medicin", "mediciner", "diagnos", "värk", "eksem",
              "sexuell hälsa", "psykisk hälsa", "hiv", "hpv", "ivf", "iud", "weight loss", "mental health",
              "sexual health", "morning after pill", "birth control", "allergy", "gout", "lice"],
        exclude_tokens=["sextio", "sexton", "sextionde", "sextiotal", "analys", "analyser", "analysen",
                        "läkemedelsverket", "lakemedelsverket", "allergivänlig", "allergitestad", "acnestudios",
                        "cancerfonden", "antibiotikafri"],
        exclude_phrases=["tandkräm sensitive", "tandkram sensitive", "cancer horoskop", "great depression",
                         "tropical depression", "economic depression", "allergy advice", "acne studios",
                         "dermatologiskt testad", "covid 19 information"]),
    "sex_life": dict(
        compound=["kondom", "preventivmedel", "minipiller", "sexleksak", "sexliv", "sexshop", "sexbutik",
                  "glidmedel", "erotik", "orgasm", "libido", "erektion", "potensmedel", "sexuell", "lesbisk",
                  "transperson", "sexual", "lesbian", "transgender", "erectile", "contracepti", "sextoy", "dildo",
                  "viagra", "glidemiddel", "seksual"],
        prefix=["erotisk", "onani", "porn", "erotic"],
        word=["rfsu", "rfsl", "hbtq", "p piller", "p pillret", "porr", "vibratorer", "vibratorn", "samlag",
              "säker sex", "gay", "lgbtq", "sex toy", "sex toys", "sex shop", "condom", "condoms", "vibrator",
              "vibrators", "birth control", "morning after pill", "iud"],
        exclude_tokens=["sextio", "sexton", "sextionde", "sextonde", "sextiotal", "sextiotalet", "essex",
                        "middlesex", "sussex", "wessex", "condominium", "condominiums", "homogen", "analys",
                        "analysis"],
        exclude_phrases=["sexuella trakasserier", "sexuellt trakasseri", "sexual harassment", "gay lussac"]),
    "religion": dict(
        compound=["kyrka", "frikyrk", "församling", "gudstjänst", "gudstjanst", "högmässa", "nattvard",
                  "konfirmand", "dopklänning", "dopklanning", "dopkalas", "dopgåva", "barndop", "präst",
                  "kyrkoherde", "biskop", "moské", "synagog", "kristendom", "islam", "muslim", "judendom",
                  "judisk", "katolsk", "bibel", "ramadan", "hijab", "mosque", "synagogue", "catholic",
                  "lutheran", "christening"],
        prefix=["ateis", "jehova", "diakon", "mormon"],
        word=["svenska kyrkan", "svenska kyrkans", "katolska kyrkan", "kyrkor", "pastor", "imam", "rabbin",
              "boka dop", "dop i kyrkan", "anmälan till dop", "kristna", "kristus", "koran", "halal", "kosher",
              "konfirmation", "church", "bible", "quaker", "quakers", "religious"],
        exclude_tokens=["islamabad", "islamorada", "baptiste", "churchill", "prästkrage", "prästkragen",
                        "generalförsamling", "generalförsamlingen", "folkförsamling"],
        exclude_phrases=["kristi himmelsfärdsdag", "kristi himmelsfärd", "quaker oats", "kosher salt",
                         "church street", "konfirmation av din", "konfirmation av bokning"]),
    "political": dict(
        compound=["socialdemokrat", "moderaterna", "sverigedemokrat", "vänsterparti", "centerparti",
                  "liberalerna", "folkparti", "kristdemokrat", "miljöparti", "piratparti", "partimedlem",
                  "partisympati", "valkampanj", "partiprogram", "partikongress"],
        prefix=[],
        word=["bli medlem i partiet", "medlem i partiet", "donera till partiet", "stöd partiet", "ssu", "muf",
              "labour party", "conservative party", "tories", "tory", "green party", "political party"],
        exclude_tokens=[],
        exclude_phrases=["tory burch", "green party supplies"]),
    "trade_union": dict(
        compound=["fackförbund", "fackforbund", "fackförening", "fackavgift", "fackmedlem", "landsorganisationen",
                  "arbetslöshetskassa", "vårdförbundet", "vardforbundet", "lärarförbundet", "ifmetall"],
        prefix=["facklig"],
        word=["tco", "saco", "unionen", "if metall", "handels", "facket", "fackets", "a kassa", "a kassan",
              "akassa", "trade union", "trade unions", "union member", "union dues", "unison", "teamsters"],
        exclude_tokens=["handelsbanken", "handelshögskolan", "fackla", "facklan", "fackhandel", "facklitteratur"],
        exclude_phrases=["europeiska unionen", "afrikanska unionen", "inom unionen", "utanför unionen",
                         "tco certified", "tco certifierad", "in unison", "handels och industrikammare"]),
    "ethnic_origin": dict(
        compound=["nordsamisk", "sydsamisk", "lulesamisk", "sameby", "sameting", "afrosvensk", "etnicitet",
                  "invandrarbakgrund", "resandefolk", "tornedaling", "sverigefinn", "minoritetsspråk",
                  "ethnicity", "biracial", "multiracial"],
        prefix=["samisk", "romska", "romskt", "rasifier", "urfolk"],
        word=["samer", "samerna", "sápmi", "sapmi", "romsk", "romerna", "romani", "meänkieli",
              "nationell minoritet", "nationella minoriteter", "etnisk bakgrund", "etniskt ursprung",
              "etnisk minoritet", "utländsk bakgrund", "ethnic origin", "ethnic background", "ethnic minority",
              "mixed race", "hispanic", "aboriginal"],
        exclude_tokens=["balsamisk", "balsamiska", "balsamiskt", "bromskloss", "bromsklossar", "bromskiva",
                        "romskip"],
        exclude_phrases=["hispanic food", "hispanic foods"]),
}
VOCAB_TYPES = {k: ("sensitive", k) for k in VOCAB}


def vnorm(text: str) -> str:
    return " " + " ".join(re.sub(r"[\W_]+", " ", text.lower()).split()) + " "


def _vocab_hit(norm: str, spec: dict) -> bool:
    phrases = []
    for p in spec["exclude_phrases"]:
        pn = vnorm(p).strip()
        i = norm.find(" " + pn + " ")
        while i >= 0:
            phrases.append((i + 1, i + 1 + len(pn)))
            i = norm.find(" " + pn + " ", i + 1)
    excl = set(spec["exclude_tokens"])
    for mode in ("word", "prefix", "compound"):
        for term in spec[mode]:
            t = vnorm(term).strip()
            pat = {"word": " " + t + " ", "prefix": " " + t, "compound": t}[mode]
            i = norm.find(pat)
            while i >= 0:
                s = i + (0 if mode == "compound" else 1)
                e = s + len(t)
                ts = norm.rfind(" ", 0, s) + 1
                te = norm.find(" ", e)
                touched = norm[ts:te].split()
                if not any(tok in excl for tok in touched) and not any(ps <= s and e <= pe for ps, pe in phrases):
                    return True
                i = norm.find(pat, i + 1)
    return False


def vocab_types(text: str) -> set:
    n = vnorm(text)
    return {VOCAB_TYPES[k] for k, spec in VOCAB.items() if _vocab_hit(n, spec)}




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


def url_pathq(u: str) -> str:
    sp = urlsplit(deep(u))
    return sp.path + "?" + sp.query + "#" + sp.fragment


class Ambiguous(Exception):
    pass


# ---- field-name globs (detectors/README.md): `*` inside one path segment, `**` anything,
# `**.name` at the top level, after `.`, `?` or `]`, or as a bracketed `[name]`; case-insensitive.

_GLOB_CACHE: dict = {}


def glob_re(g: str) -> str:
    if g.startswith("**."):
        name = glob_re(g[3:])[1:-1]
        return rf"^(?:(?:.*[.?\]])?{name}|.*\[{name}\])$"
    out, i = "^", 0
    while i < len(g):
        if g[i] == "*":
            if g[i + 1:i + 2] == "*":
                out += ".*"
                i += 2
                continue
            out += r"[^.\[\]?]*"
        else:
            out += re.escape(g[i])
        i += 1
    return out + "$"


def glob_match(globs, path: str) -> bool:
    for g in globs:
        rx = _GLOB_CACHE.get(g)
        if rx is None:
            rx = _GLOB_CACHE[g] = re.compile(glob_re(g), re.IGNORECASE)
        if rx.match(path):
            return True
    return False


# ---- which endpoint a request hits (hosts and paths of detectors/vendors/*.toml)


def _host_in(host, pats):
    return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) or p == "*" for p in pats)


ENDPOINTS = [
    # (endpoint key, vendor, hosts, excluded hosts, path regex, methods, body mode)
    ("adobe-bss", "adobe-analytics", ["*"], [], r"^/b/ss/[^/]+/\d+(?:/[^/]+){0,2}/?$", None, "auto"),
    ("adobe-sdk", "adobe-analytics", ["*"], [], r"^/ee/(?:[A-Za-z0-9-]+/)?v\d+/(?:interact|collect)/?$", None, "auto"),
    ("criteo-onetag", "criteo", ["*.criteo.com"], ["www.criteo.com"], r"^/event/?$", None, "auto"),
    ("criteo-dis", "criteo", ["*.criteo.com"], [], r"^/dis/dis\.aspx$", None, "auto"),
    ("criteo-s2s", "criteo", ["*.criteo.com"], ["www.criteo.com"], r"^/m/event/?$", None, "auto"),
    ("gads-conversion", "google-ads", ["googleadservices.com", "*.googleadservices.com", "googleads.g.doubleclick.net"], [],
     r"^/pagead/(?:viewthrough)?conversion/[0-9]+/?$", None, "auto"),
    ("gads-1p", "google-ads", ["*"], [], r"^/pagead/1p-(?:conversion|user-list)/[0-9]+/?$", None, "auto"),
    ("gads-ccm", "google-ads", ["google.com", "www.google.com"], [], r"^/ccm/collect/?$", None, "auto"),
    ("gads-floodlight", "google-ads", ["ad.doubleclick.net", "fls.doubleclick.net", "*.fls.doubleclick.net",
                                       "td.doubleclick.net", "adservice.google.com"], [],
     r"^/(?:ddm/)?activityi?[;/]", None, "auto"),
    ("hotjar", "hotjar", ["in.hotjar.com", "insights.hotjar.com"], [], r"^/api/v[0-9]+/client/", None, None),
    ("hotjar", "hotjar", ["*.hotjar.com"], [], r"^/api/v[0-9]+/client/ws/?$", None, None),
    ("hotjar", "hotjar", ["content.hotjar.io"], [], r"^/?$", None, None),
    ("hotjar", "hotjar", ["vc.hotjar.io"], [], r"^/sessions/[0-9]+/?$", None, None),
    ("li-collect", "linkedin", ["px.ads.linkedin.com", "px4.ads.linkedin.com"], [], r"^/collect/?$", ("GET", "POST"), "auto"),
    ("li-attr", "linkedin", ["px.ads.linkedin.com", "px4.ads.linkedin.com"], [], r"^/attribution_trigger/?$", ("GET",), "auto"),
    ("li-wa", "linkedin", ["px.ads.linkedin.com", "px4.ads.linkedin.com"], [], r"^/wa/?$", ("POST",), "auto"),
    ("matomo", "matomo", ["*"], ["*.piwik.pro"], r"/(?:matomo|piwik)\.php$", ("GET", "POST"), "auto"),
    ("clarity", "microsoft-clarity", ["clarity.ms", "*.clarity.ms"], [], r"^/(?:[A-Za-z0-9-]{2,}/)?collect/?$", None, None),
    ("clarity", "microsoft-clarity", ["c.clarity.ms"], [], r"^/c\.gif$", None, None),
    ("uet", "microsoft-uet", ["bat.bing.com", "bat.bing.net"], [], r"^/action/[0-9]+/?$", None, "auto"),
    ("pinterest", "pinterest", ["ct.pinterest.com"], [], r"^/(?:v3|user)/?$", ("GET", "POST"), "auto"),
    ("reddit-pixel", "reddit", ["alb.reddit.com"], [], r"^/rp(?:\.gif)?/?$", ("GET", "POST"), "auto"),
    ("reddit-capi", "reddit", ["ads-api.reddit.com"], [], r"^/api/v2\.0/conversions/events/[A-Za-z0-9_]+/?$", ("POST",), "auto"),
    ("reddit-capi3", "reddit", ["ads-api.reddit.com"], [], r"^/api/v3/pixels/[A-Za-z0-9_]+/conversion_events/?$", ("POST",), "auto"),
    ("snap", "snap", ["tr.snapchat.com", "tr6.snapchat.com", "tr-shadow.snapchat.com"], [], r"^/p/?$", ("GET", "POST"), "auto"),
    ("snap-cm", "snap", ["tr.snapchat.com", "tr6.snapchat.com", "tr-shadow.snapchat.com"], [], r"^/cm/[ip]/?$", ("GET", "POST"), "auto"),
    ("tiktok", "tiktok", ["analytics.tiktok.com", "analytics.us.tiktok.com"], [], r"^/api/v2/pixel(?:/(?:act|track))?/?$", ("POST", "GET"), "auto"),
    ("ua", "universal-analytics", ["google-analytics.com", "*.google-analytics.com", "stats.g.doubleclick.net",
                                   "analytics.google.com"], [], r"^/(?:j/|r/|debug/)?collect/?$", None, "auto"),
    ("x-tco", "x", ["t.co"], [], r"^/(?:1/)?i/adsctp?/?$", ("GET", "POST"), "auto"),
    ("x-analytics", "x", ["analytics.twitter.com", "analytics.x.com"], [], r"^/(?:1/)?i/adsctp?/?$", ("GET", "POST"), "auto"),
    ("x-capi", "x", ["ads-api.x.com", "ads-api.twitter.com"], [], r"^/\d+/measurement/conversions/[A-Za-z0-9]+/?$", ("POST",), "auto"),
]
ENDPOINT_VENDOR = {e[0]: e[1] for e in ENDPOINTS}
ENDPOINT_BODY = {e[0]: e[6] for e in ENDPOINTS}


def pixel_kind(r: Req):
    path = r.target.split("?", 1)[0]
    query = r.target.split("?", 1)[1] if "?" in r.target else ""
    if r.host == "www.facebook.com" and path in ("/tr", "/tr/"):
        return "meta"
    if r.host == "www.facebook.com" and path == "/privacy_sandbox/pixel/register/trigger/":
        return "twin"
    if r.host == "graph.facebook.com" and r.method == "POST" and re.fullmatch(r"/v\d+\.\d+/\d+/events", path):
        return "capi"
    if path == "/g/collect":
        return "ga4"
    for key, _vendor, hosts, excl, rx, methods, _body in ENDPOINTS:
        if methods and r.method not in methods:
            continue
        if not _host_in(r.host, hosts) or _host_in(r.host, excl):
            continue
        if not re.search(rx, path):
            continue
        if key == "adobe-sdk" and "configId" not in dict(parse_qsl(query)):
            continue
        return key
    return None


# ---- field meanings per vendor (identity kind, content, secrets), transcribed from the packs

VSPEC = {
    "google-ads": dict(
        identity=[("em.em", "email"), ("em.pn", "phone"), ("em.fn0", "name"), ("em.ln0", "name"), ("em.fn", "name"),
                  ("em.ln", "name"), ("em.sa0", "postal_address"), ("em.ct0", "postal_address"),
                  ("em.re0", "postal_address"), ("em.pc0", "postal_address"), ("em.co0", "postal_address")],
        content=["~oref", "~oref?**", "u*", "cat", "url", "ref", "tiba", "data", "url?**", "ref?**", "dl", "dr", "dt",
                 "en", "dl?**", "dr?**"],
        consent=True, split_em=True),
    "universal-analytics": dict(
        identity=[("uid", "external_id")],
        content=["dl", "dp", "dt", "dr", "dl?**", "dp?**", "dr?**", "ec", "ea", "el", "ck", "cd*", "cg*", "pr*nm",
                 "pr*ca", "pr*id", "pr*br", "pr*va", "il*nm", "il*pi*nm", "il*pi*ca", "promo*nm", "in", "iv", "utmdt",
                 "utmp", "utmp?**", "utmr", "utmr?**", "utme", "utmipn", "utmiva"],
        consent=True),
    "microsoft-uet": dict(identity=[("uid", "external_id")],
                          content=["p", "tl", "r", "el", "ea", "ec", "kw", "prodid", "pagetype", "p?**", "r?**"]),
    "microsoft-clarity": dict(identity=[], content=[]),
    "hotjar": dict(identity=[], content=[]),
    "tiktok": dict(
        identity=[("context.user.email", "email"), ("context.user.email[*]", "email"),
                  ("context.user.phone_number", "phone"), ("context.user.phone_number[*]", "phone"),
                  ("context.user.eb_phone_number", "phone"), ("context.user.external_id", "external_id"),
                  ("context.user.external_id[*]", "external_id")],
        content=["event", "context.page.url", "context.page.url?**", "context.page.referrer", "context.page.referrer?**",
                 "properties.content_name", "properties.content_category", "properties.description", "properties.query",
                 "properties.contents[*].content_name", "properties.contents[*].content_category",
                 "properties.contents[*].description", "auto_collected_properties.content_data.meta.title",
                 "auto_collected_properties.content_data.open_graph.og:title",
                 "auto_collected_properties.content_data.open_graph.og:url"]),
    "linkedin": dict(identity=[("hem", "email"), ("hem[*]", "email")], content=["url", "url?**", "pageTitle"],
                     twin=("linkedin-attribution", ["pid", "time", "url"])),
    "snap": dict(
        identity=[("u_hem", "email"), ("req[*].t.u_hem", "email"), ("req[*].*.u_hem", "email"), ("u_hpn", "phone"),
                  ("req[*].t.u_hpn", "phone"), ("req[*].*.u_hpn", "phone")],
        content=["pl", "pl?**", "rf", "rf?**", "ctx.url", "ctx.url?**", "ctx.rf", "ctx.rf?**", "e_desc", "e_ic", "e_ss",
                 "req[*].t.pl", "req[*].t.pl?**", "req[*].t.e_desc", "req[*].t.e_ic", "req[*].t.e_ss",
                 "req[*].md.md[*].tagData.title", "req[*].md.md[*].tagData.og:title", "req[*].md.md[*].tagData.og:url"]),
    "pinterest": dict(
        identity=[("pd.em", "email"), ("pd.em[*]", "email"), ("pd.hashed_em", "email"), ("pd.ph", "phone"),
                  ("pd.ph[*]", "phone"), ("pd.external_id", "external_id"), ("pd.external_id[*]", "external_id"),
                  ("pd.hashed_maids", "external_id"), ("pd.hashed_maids[*]", "external_id")],
        content=["ad.loc", "ad.loc?**", "ad.ref", "ad.ref?**", "ed.search_query", "ed.video_title", "ed.lead_type",
                 "ed.property", "ed.product_name", "ed.product_category", "ed.line_items[*].product_name",
                 "ed.line_items[*].product_category", "ed.line_items[*].product_brand",
                 "ed.line_items[*].product_variant"]),
    "x": dict(
        identity=[("email", "email"), ("email_address", "email"), ("event.email", "email"),
                  ("event.email_address", "email"), ("events[*][1].email", "email"),
                  ("events[*][1].email_address", "email"), ("conversions[*].identifiers[*].hashed_email", "email"),
                  ("phone_number", "phone"), ("event.phone_number", "phone"), ("events[*][1].phone_number", "phone"),
                  ("conversions[*].identifiers[*].hashed_phone_number", "phone"),
                  ("conversions[*].identifiers[*].ip_address", "ip_address")],
        content=["tw_document_href", "tw_document_href?**", "events[*][0]", "events[*][1].content_name",
                 "events[*][1].content_type", "events[*][1].content_category", "events[*][1].search_string",
                 "events[*][1].description", "events[*][1].contents[*].content_name",
                 "events[*][1].contents[*].content_type", "event.content_name", "event.content_type",
                 "event.search_string", "event.description", "event.contents[*].content_name",
                 "event.contents[*].content_type", "conversions[*].description",
                 "conversions[*].contents[*].content_name", "conversions[*].contents[*].content_type"],
        twin=("x-adsct", ["txn_id", "pl_id", "event_id", "tw_document_href"])),
    "reddit": dict(
        identity=[("em", "email"), ("m.em", "email"), ("email", "email"), ("events[*].user.email", "email"),
                  ("data.events[*].user.email", "email"), ("phone_number", "phone"), ("m.phoneNumber", "phone"),
                  ("events[*].user.phone_number", "phone"), ("data.events[*].user.phone_number", "phone"),
                  ("external_id", "external_id"), ("m.externalId", "external_id"), ("aaid", "external_id"),
                  ("idfa", "external_id"), ("events[*].user.external_id", "external_id"),
                  ("events[*].user.aaid", "external_id"), ("events[*].user.idfa", "external_id"),
                  ("data.events[*].user.external_id", "external_id"), ("data.events[*].user.aaid", "external_id"),
                  ("data.events[*].user.idfa", "external_id"), ("events[*].user.ip_address", "ip_address"),
                  ("data.events[*].user.ip_address", "ip_address")],
        content=["m.customEventName", "m.products", "m.products[*].name", "m.products[*].category",
                 "events[*].event_type.custom_event_name", "events[*].event_metadata.products[*].name",
                 "events[*].event_metadata.products[*].category", "data.events[*].type.custom_event_name",
                 "data.events[*].metadata.products[*].name", "data.events[*].metadata.products[*].category"]),
    "criteo": dict(
        identity=[("id.email.*", "email"), ("data.id.email.*", "email"), ("events[*].email**", "email"),
                  ("data.events[*].email**", "email"), ("id.idfa", "external_id"), ("id.gaid", "external_id"),
                  ("data.id.idfa", "external_id"), ("data.id.gaid", "external_id"), ("ip", "ip_address"),
                  ("data.ip", "ip_address")],
        content=["fu", "fu?**", "pu", "pu?**", "p0*", "p1*", "p2*", "p3*", "p4*", "p5*", "p6*", "p7*", "p8*", "p9*",
                 "ref", "ref?**", "full_url", "full_url?**", "previous_url", "previous_url?**", "events[*].keywords",
                 "events[*].category", "events[*].item[*].name", "events[*].item[*].category", "data.full_url",
                 "data.full_url?**", "data.previous_url", "data.previous_url?**", "data.events[*].keywords",
                 "data.events[*].category"]),
    "adobe-analytics": dict(
        identity=[("zip", "postal_address"), ("id", "external_id"), ("events[*].xdm.identityMap.CRM*[*].id", "external_id"),
                  ("events[*].xdm.identityMap.Email*[*].id", "email"), ("events[*].xdm.personalEmail.address", "email"),
                  ("events[*].xdm.identityMap.Phone*[*].id", "phone"), ("events[*].xdm.mobilePhone.number", "phone"),
                  ("events[*].xdm.person.name.firstName", "name"), ("events[*].xdm.person.name.lastName", "name"),
                  ("events[*].xdm.person.name.fullName", "name")],
        content=["pageName", "g", "g?**", "-g", "r", "r?**", "ch", "server", "pageType", "products", "pev1", "pev1?**",
                 "pev2", "l1", "l2", "l3", "v1*", "v2*", "v3*", "v4*", "v5*", "v6*", "v7*", "v8*", "v9*", "c1*", "c2*",
                 "c3*", "c4*", "c5*", "c6*", "c7*", "c8*", "c9*", "h1*", "h2*", "h3*", "h4*", "h5*", "eVar*", "prop*",
                 "hier*", "list*", "events[*].xdm.web.webPageDetails.URL", "events[*].xdm.web.webPageDetails.URL?**",
                 "events[*].xdm.web.webPageDetails.name", "events[*].xdm.web.webReferrer.URL",
                 "events[*].xdm.web.webReferrer.URL?**", "events[*].xdm.productListItems[*].name",
                 "events[*].xdm.productListItems[*].productCategories[*].categoryName",
                 "events[*].xdm.search.keywords", "events[*].xdm.siteSearch.keywords",
                 "events[*].xdm._experience.analytics**", "events[*].data.__adobe.analytics**"]),
    "matomo": dict(
        identity=[("uid", "external_id"), ("cip", "ip_address"), ("country", "country"), ("region", "postal_address"),
                  ("city", "postal_address")],
        content=["url", "url?**", "urlref", "urlref?**", "action_name", "e_c", "e_a", "e_n", "search", "search_cat",
                 "ec_items[*][1]", "ec_items[*][2]", "ec_items[*][2][*]", "_cvar.*[*]", "cvar.*[*]", "dimension*",
                 "c_n", "c_p", "c_t", "ma_ti", "ma_re", "download", "download?**", "link", "link?**", "_rcn", "_rck",
                 "requests[*]"],
        secrets=["token_auth"]),
}
GLOBAL_IDENTITY = [("**." + n, k) for n, k in IDENTITY_NAMES.items()]


# ---- a small decoder: query (and Floodlight ;path parameters), form / JSON / line bodies, JSON and
# URLs inside values, percent-encoding peeled at most three rounds

def _has_escape(s: str) -> bool:
    return bool(re.search(r"%[0-9A-Fa-f]{2}", s))


def _is_url(s: str) -> bool:
    return s[:8].lower().startswith(("https://", "http://"))


def _json_shaped(s: str) -> bool:
    return (s.startswith("{") and s.endswith("}")) or (s.startswith("[") and s.endswith("]"))


def dec_value(path: str, v: str, out: list):
    t, rounds = v, 0
    while True:
        tt = t.strip()
        if _is_url(tt) or _json_shaped(tt) or rounds >= 3 or not _has_escape(tt):
            break
        t, rounds = unquote(tt), rounds + 1
    t = t.strip()
    if _json_shaped(t):
        try:
            dec_json(path, json.loads(t), out)
            return
        except ValueError:
            pass
    out.append((path, t))
    if _is_url(t) and "?" in t:
        for n, x in parse_qsl(t.split("?", 1)[1].split("#", 1)[0], keep_blank_values=True):
            dec_value(f"{path}?{n}", x, out)


def dec_json(path: str, o, out: list):
    if isinstance(o, dict):
        for k, x in o.items():
            dec_json(f"{path}.{k}" if path else k, x, out)
    elif isinstance(o, list):
        for i, x in enumerate(o):
            dec_json(f"{path}[{i}]", x, out)
    elif isinstance(o, str):
        dec_value(path, o, out)
    elif isinstance(o, bool):
        out.append((path, "true" if o else "false"))
    elif o is not None:
        out.append((path, str(o)))


def dec_pairs(text: str, out: list, split_em=False):
    for name, value in parse_qsl(text, keep_blank_values=True):
        name = deep(name)
        if split_em and name == "em":
            for tok in value.split("~"):
                if "." in tok:
                    k, x = tok.split(".", 1)
                    dec_value(f"em.{k}", x, out)
            continue
        dec_value(name, value, out)


def decode_fields(r: Req, kind: str, body_visible: bool):
    spec = VSPEC[ENDPOINT_VENDOR[kind]]
    out: list = []
    path, _, query = r.target.partition("?")
    if kind == "gads-floodlight":
        dec_pairs("&".join(path.split(";")[1:]), out)
    dec_pairs(query, out, spec.get("split_em", False))
    mode = ENDPOINT_BODY[kind]
    if body_visible and r.body and mode:
        b = r.body.strip()
        if b.startswith(("{", "[")):
            dec_json("", json.loads(b), out)
        elif "x-www-form-urlencoded" in (r.ctype or ""):
            dec_pairs(b, out)
        else:
            out.append(("body", b))
    return out


def content_text(v: str) -> str:
    if _is_url(v):
        rest = v.split("//", 1)[1]
        m = re.search(r"[/?#]", rest)
        return rest[m.start():] if m else ""
    return v


def google_denied(gcs, gcd) -> bool:
    """DESIGN.md: identity sent while ad_storage, analytics_storage or ad_user_data is denied."""
    sig = ["not_set"] * 3
    if gcd:
        letters = [ch for ch in gcd[2:] if ch.isalpha()]
        for i in range(min(3, len(letters))):
            sig[i] = "denied" if letters[i] in "pqmu" else ("granted" if letters[i] in "trnv" else "not_set")
    if gcs and len(gcs) == 4 and gcs[0] == "G":
        for i, ch in ((0, gcs[2]), (1, gcs[3])):
            if ch in "01":
                sig[i] = "granted" if ch == "1" else "denied"
    return "denied" in sig


def twin_key(r: Req, kind: str):
    """(group, key) of hits sent twice under two endpoints, or None."""
    if kind in ("meta", "twin"):
        d = dict(r.pairs)
        return ("meta-tr", (d["id"], d["ev"], d["ts"], d.get("eid", "")))
    vendor = ENDPOINT_VENDOR.get(kind)
    tw = VSPEC.get(vendor, {}).get("twin") if vendor else None
    if not tw:
        return None
    fields = decode_fields(r, kind, False)
    top = lambda k: next((v for p, v in fields if p == k), "")
    return (tw[0], tuple(top(k) for k in tw[1]))


def expected_generic(r: Req, kind: str, body_visible: bool, scheme_known: bool) -> set:
    """Re-derive the findings of a hit of one of the other vendors."""
    spec = VSPEC[ENDPOINT_VENDOR[kind]]
    F: set = set()
    unchecked = []
    fields = decode_fields(r, kind, body_visible)
    for path, v in fields:
        if v == "":
            continue
        if glob_match(spec.get("secrets", []), path):
            F.add(SEC)
            continue
        kd = next((k for g, k in spec["identity"] + GLOBAL_IDENTITY if glob_match([g], path)), None)
        if kd:
            hx = hash_hex(v)
            if hx is not None:
                if hx not in PLACEHOLDERS and v.strip().lower() not in PLACEHOLDER_PLAIN:
                    F.add(("hashed_pii", "postal_address" if kd == "country" else kd))
            else:
                plain_identity(kd, v, path, F)
        else:
            F |= pii_free_text(v, path)
        if glob_match(spec["content"], path):
            F |= vocab_types(content_text(v))
        else:
            unchecked.append(v)
    if spec.get("consent"):
        top = lambda k: next((v for p, v in fields if p == k), None)
        if google_denied(top("gcs"), top("gcd")) != r.ga4_denied and any(c in ("pii", "hashed_pii") for c, _ in F):
            raise Ambiguous("consent flag of the scenario disagrees with gcs/gcd")
        if google_denied(top("gcs"), top("gcd")) and any(c in ("pii", "hashed_pii") for c, _ in F):
            F.add(CONSENT)
    # ambiguity guard: Art. 9 terms and e-mails only where the rules settle it
    for x in unchecked:
        extra = vocab_types(x) - F
        if extra:
            raise Ambiguous(f"{sorted(extra)} term in an unchecked field: {x[:80]}")
    if r.referer and (vocab_types(r.referer) or any_email_shape(r.referer)):
        raise Ambiguous("referer header carries a term or e-mail")
    visible = deep(r.target) + "\n" + (deep(r.body) if (r.body and body_visible and ENDPOINT_BODY[kind]) else "")
    if any_email_shape(visible) and PE not in F:
        raise Ambiguous("e-mail shape not reported")
    if scheme_known and r.scheme == "http":
        F.add(TRANSPORT)
    return F


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


def ident_plain(kind_key: str, v: str, F: set, path: str = ""):
    plain_identity(META_KIND[kind_key] if kind_key != "country" else "country", v, path, F)


def ident_value(kind_key: str, v: str, F: set, path: str = ""):
    if hash_kind(v):
        if v not in PLACEHOLDERS:
            F.add(("hashed_pii", META_KIND[kind_key]))
    else:
        ident_plain(kind_key, v, F, path)


def scan_anywhere(v: str, F: set, path: str = ""):
    for s in layers(v):
        F |= pii_free_text(s, path)


def sensitive_in(fields, F: set):
    for x in fields:
        F |= vocab_types(x)


def expected_by_rules(r: Req, body_visible: bool, scheme_known: bool) -> set:
    """Re-derive the findings of one pixel hit from its bytes. Raises Ambiguous when a record
    places data where the rules give no clear answer."""
    kind = pixel_kind(r)
    if kind not in ("meta", "twin", "capi", "ga4"):
        if kind is None:
            raise AssertionError("not a pixel")
        return expected_generic(r, kind, body_visible, scheme_known)
    F: set = set()
    query = r.target.split("?", 1)[1] if "?" in r.target else ""
    pairs = parse_qsl(query, keep_blank_values=True)
    health_fields = []    # values in which Art. 9 terms count
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
                ident_value(m.group(2), v, F, k)
            scan_anywhere(v, F, k)
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
            scan_anywhere(v, F, k)
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
        denied = google_denied(gcs, gcd)
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
                            ident_value(k, x, F, f"data[0].user_data.{k}")
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
    sensitive_in(health_fields, F)
    # ambiguity guard: Art. 9 terms, e-mail shapes or personal numbers only where the rules settle it
    for x in other_values:
        extra = vocab_types(deep(x)) - F
        if extra:
            raise Ambiguous(f"{sorted(extra)} term in an unchecked field: {x[:80]}")
    for x in [r.referer or ""]:
        if vocab_types(x) or any_email_shape(deep(x)):
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


# Other vendors and the newer PII types / Art. 9 categories, appended after the original traffic so
# the records above keep their bytes and positions. Bodies are only in formats that log them: a
# POST hit in squid/clf (and an EVE `http` event) is a negative whose payload the log cannot show.

SQUID += [
    T(o_gads_js), T(gads_ec), T(ua_neg), T(o_hj_js), T(hj_ws), T(uet_health), T(gads_1p_health),
    T(clarity_collect), T(li_health), LI_TWIN(), T(o_snap_js), T(snap_get_hem), T(pin_checkout),
    T(tt_purchase), T(ua_ecom_uid), T(gads_fl_email_rel), T(clarity_cgif), T(x_event_plain), T(rd_addtocart),
    T(o_matomo_js), T(matomo_email_health), T(mp_card_field, enc=True), T(gads_ccm_sex), T(hj_session, scheme="http"),
    T(criteo_email_health), T(adobe_health), T(pin_quaker_neg), T(ua_uid_cpr), T(gp_nordic_ids),
    T(adobe_legacy_zip), T(uet_ethnic), T(mn_card_negs), T(li_email_url), T(x_pageview_neg),
    T(matomo_server_side), T(gn_betongvibrator), T(pin_plain_http), T(mp_fnr_spaced), T(criteo_home_neg),
    T(gp_iban_gb_amex), T(adobe_political), T(gp_ethnic), T(gp_sex_toys_en),
]

CLF += [
    T(o_ua_js), T(ua_health), T(gads_ec_denied), T(clarity_cgif), T(hj_ws), T(uet_uid_email_phone),
    T(gads_fl_health), T(o_tt_js), T(li_lone_trigger_union), T(snap_get_hem), T(pin_checkout), T(ua_uid_hash_denied),
    T(x_purchase), X_TWIN(), T(rd_addtocart), T(criteo_ethnic), T(adobe_health), T(matomo_email_health),
    T(mp_cpr_extid), T(gads_fl_neg), T(o_x_js), T(hj_session, scheme="http"), T(pin_search_rel), T(ua_political),
    T(snap_cm_neg), T(mp_sex_search), T(gp_card_iban), T(criteo_dis_neg), T(adobe_legacy_zip), T(uet_neg_balsamic),
    T(gn_nordic_negs), T(matomo_trade_union), T(pin_plain_http), T(gp_glidmedel), T(adobe_neg),
    T(gn_iban_negs), T(gn_religion_negs), T(gn_ethnic_negs),
]

NGINX += [
    T(o_adobe_js), T(tt_purchase), T(gads_ec_denied), T(clarity_collect), T(hj_visit), T(ua_ecom_uid),
    T(li_wa_hem), T(snap_fff_ethnic), T(gads_1p_health), T(uet_ethnic), T(o_clarity_tag), T(pin_user),
    T(tt_phone_sex), T(x_event_plain), T(rd_custom_post), T(criteo_s2s), T(rd_capi_v2), T(adobe_cpr_phone),
    T(matomo_email_health), T(ua_dc_neg), T(snap_form_hpn), T(gads_fl_neg), T(x_capi), T(li_email_url),
    T(mp_cpr_extid), T(adobe_websdk), T(matomo_form_post), T(criteo_home_neg), T(pin_constant_neg),
    T(mp_sex_search), T(mn_card_negs), T(gp_nordic_ids), T(matomo_neg_eu), T(ua_uid_cpr), T(gn_betongvibrator),
    T(gp_ethnic), T(gp_sex_toys_en),
]

ZEEK_TSV += [
    T(o_li_js), T(gads_ec_denied), T(clarity_collect, scheme="http"), T(hj_session, scheme="http"), T(hj_content),
    T(uet_health), T(tt_purchase), T(tt_pageview_neg), T(li_email_url), T(snap_fff_ethnic), T(gads_fl_health),
    T(pin_user), T(x_purchase), X_TWIN(), T(ua_ecom_uid, gcs="G100"), T(rd_addtocart), T(rd_capi_v2),
    T(criteo_ethnic), T(criteo_s2s), T(gads_ccm_sex), T(adobe_legacy_zip), T(adobe_websdk), T(ua_political),
    T(matomo_server_side), T(matomo_ping_neg), T(matomo_bulk), T(snap_get_hem), T(mp_fnr_spaced), T(uet_neg),
    T(gp_card_iban), T(gn_nordic_negs), T(gp_phones), T(gp_religion), T(gp_hashed_email_name),
]

ZEEK_JSON += [
    T(o_clarity_tag), T(gads_ec_gcd_m), T(ua_health), T(gads_1p_health), T(hj_feedback_email), T(uet_uid_email_phone),
    T(tt_plain_em), T(li_health), LI_TWIN(), T(li_wa_hem), T(snap_constant_neg), T(snap_form_hpn),
    T(gads_fl_email_rel), T(pin_search_rel), T(pin_plain_http), T(x_event_plain), T(x_capi), T(ua_uid_hash_denied),
    T(o_rd_js), T(rd_custom_post), T(rd_capi_v3), T(gads_vt_neg), T(criteo_email_health), T(adobe_health),
    T(adobe_political), T(matomo_trade_union), T(matomo_form_post), T(mp_card_field), T(mn_sextio),
    T(gn_iban_negs), T(gp_nordic_ids), T(ua_neg), T(gp_glidmedel), T(gn_political_negs), T(gp_sex_toys_en),
]

EVE += [
    "dns:bat.bing.com", T(o_uet_js), T(gads_ec), T(ua_health), T(clarity_cgif), T(hj_feedback_email),
    T(uet_uid_email_phone), T(gads_fl_health), T(tt_purchase), "tls:analytics.tiktok.com", T(tt_phone_sex),
    T(li_lone_trigger_union), T(li_wa_hem), T(snap_form_hpn), T(snap_constant_neg), T(pin_checkout),
    T(pin_constant_neg), T(x_purchase), X_TWIN(), T(x_capi, ip_hashed=False), T(ua_uid_hash_denied),
    T(rd_pagevisit_neg), T(rd_capi_v2), T(gads_vt_neg), T(criteo_email_health), T(criteo_s2s), T(o_criteo_js),
    T(adobe_legacy_zip), T(adobe_political), T(ua_dc_neg), T(matomo_server_side), T(matomo_neg_eu), T(matomo_bulk),
    T(mp_cpr_extid), T(mp_sex_search), T(gp_card_iban), T(gp_hetu_2000), T(gp_religion), T(gn_union_negs),
    T(gp_hashed_email_name), T(gn_sex_negs_en),
]

HAR += [
    T(o_gads_js), T(gads_ec, ua="chrome"), T(o_hj_js), T(hj_session), T(hj_feedback_email), T(ua_ecom_uid, ua="chrome"),
    T(uet_uid_email_phone, ua="chrome"), T(clarity_collect, ua="chrome"), T(gads_ec_gcd_m, ua="chrome"),
    T(o_tt_js), T(tt_purchase, ua="chrome"), T(tt_phone_sex, ua="chrome"), T(li_health, ua="chrome"), LI_TWIN(),
    T(li_wa_hem, ua="chrome"), T(li_neg, ua="chrome"), T(snap_fff_ethnic, ua="chrome"), T(snap_ipv6_neg, ua="chrome"),
    T(gads_fl_email_rel, ua="chrome"), T(pin_checkout, ua="chrome"), T(pin_quaker_neg, ua="chrome"),
    T(x_purchase, ua="chrome"), X_TWIN(), T(uet_ethnic, ua="chrome"), T(rd_pagevisit_neg, ua="chrome"),
    T(rd_custom_post, ua="chrome"), T(x_capi), T(rd_capi_v3), T(criteo_email_health, ua="chrome"),
    T(criteo_dis_neg, ua="chrome"), T(gads_ccm_sex, ua="chrome"), T(adobe_health, ua="chrome"),
    T(adobe_cpr_phone, ua="chrome"), T(adobe_websdk, ua="chrome"), T(matomo_trade_union, ua="chrome"),
    T(matomo_form_post, ua="chrome"), T(ua_political, ua="chrome"), T(mp_card_field, ua="chrome"),
    T(mp_fnr_spaced, ua="chrome"), T(gp_iban_gb_amex, ua="chrome"), T(gp_hetu_2000, ua="chrome"),
    T(gn_nordic_negs, ua="chrome"), T(gp_phones, ua="chrome"), T(gn_religion_negs, ua="chrome"),
    T(gn_sex_negs_en, ua="chrome"),
]

ECS += [
    T(o_pin_js), T(gads_ec), T(uet_health), T(clarity_collect), T(hj_visit), T(ua_ecom_uid, gcs="G100"),
    T(gads_fl_health), T(tt_plain_em), T(tt_placeholder_neg), T(li_lone_trigger_union), T(li_neg), T(li_wa_null),
    T(snap_fff_ethnic), ("flat", T(snap_get_hem)), T(pin_search_rel), T(x_pageview_neg), T(x_capi, ip_hashed=False),
    T(rd_addtocart), T(rd_capi_v3), T(criteo_ethnic), T(criteo_s2s), T(gads_ccm_sex), T(uet_neg_balsamic),
    T(adobe_cpr_phone), T(adobe_neg), T(adobe_websdk), ("original", T(matomo_email_health)), T(matomo_bulk),
    T(ua_uid_cpr), T(mp_card_field), T(mn_sextio), T(gp_nordic_ids), T(gp_iban_gb_amex), T(gp_phones),
    T(gp_religion), T(gn_union_negs), T(gn_ethnic_negs),
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
               "ga4": (9100002, "PIXELWARDEN GA4 /g/collect request")}.get(kind)
        if sig is None:
            vendor = ENDPOINT_VENDOR[kind]
            sig = (9100010 + sorted(VSPEC).index(vendor), f"PIXELWARDEN {vendor} tracking request")
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

FIRST_PARTY_HOSTS = ({"www.example.se", "smetrics.apotek-exempel.se", "stats.example.se"}
                     | {s["sgtm"] for s in SITES.values() if "sgtm" in s})

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
    """Declared labels per record, verified against the rule checker. Twins (Meta /tr + privacy
    sandbox trigger, LinkedIn /collect + /attribution_trigger, X t.co + analytics adsct): the second
    hit of a pair (same key fields, other endpoint, same file) is a duplicate and produces nothing;
    a completed pair is forgotten, so a third hit counts again."""
    seen = {}
    out = []
    for r in recs:
        if r.kind != "pixel":
            if r.kind == "ordinary":
                assert pixel_kind(r) is None, r.url
            out.append(set())
            continue
        body_visible, scheme_known = caps(fmt, r, r.style)
        k = pixel_kind(r)
        assert k is not None, r.url
        tk = twin_key(r, k)
        endpoint = "meta-tr" if k == "meta" else k
        duplicate = False
        if tk is not None:
            if tk in seen and seen[tk] != endpoint:
                duplicate = True
                del seen[tk]
            elif tk not in seen:
                seen[tk] = endpoint
        declared = r.declared(body_visible, scheme_known, duplicate)
        derived = set() if duplicate else expected_by_rules(r, body_visible, scheme_known)
        if declared != derived:
            raise SystemExit(f"[{fmt}] label mismatch for {r.note}\n  declared={sorted(declared)}\n  rules   ={sorted(derived)}\n  url={r.url[:300]}")
        assert duplicate == hasattr(r, "twin_of"), f"[{fmt}] twin pairing not as intended: {r.note}"
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
    vstats = {}
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
            if r.kind == "pixel":
                v = vstats.setdefault(vendor_of(r), [0, 0, 0])
                v[0 if lab else 1] += 1
                v[2] += len(lab)
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
        assert 25 <= len(recs) <= 120, (path, len(recs))

    write("labels.jsonl", "".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in all_labels))

    counts = Counter()
    for x in all_labels:
        for e in x["expect"]:
            counts[(e["class"], e["type"])] += 1
    for ct in ALL_TYPES:
        need = 10 if ct in (HE, H) else 3
        assert counts[ct] >= need, (ct, counts[ct])
    write("README.md", readme(stats, counts, vstats))

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


def vendor_of(r: Req) -> str:
    k = pixel_kind(r)
    return {"meta": "meta", "twin": "meta", "capi": "meta", "ga4": "google-analytics"}.get(k) or ENDPOINT_VENDOR[k]


def readme(stats, counts, vstats) -> str:
    rows = "\n".join(f"| `{p}` | {n} | {pos} | {npx} | {no} |" for p, (n, pos, npx, no) in stats.items())
    tot = [sum(v[i] for v in stats.values()) for i in range(4)]
    crow = "\n".join(f"| `{c}/{t}` | {counts[(c, t)]} |" for c, t in ALL_TYPES)
    vrow = "\n".join(f"| {v} | {p} | {n} | {f} |" for v, (p, n, f) in sorted(vstats.items()))
    return README_TEMPLATE.format(rows=rows, t0=tot[0], t1=tot[1], t2=tot[2], t3=tot[3], crow=crow, vrow=vrow,
                                  pnr_long=PNR_ANNA_LONG, pnr_short=PNR_ERIK_SHORT, pnr12=PNR_ANNA_12,
                                  pnr10=PNR_ERIK_10, samord=SAMORD_SARA_LONG, bad_luhn=BAD_LUHN_ANNA_SHORT,
                                  bad_date=BAD_DATE_12, bad_date_short=BAD_DATE_SHORT, order10=PNR_ANNA_10,
                                  fnr=NO_FNR_KARI, fnr_spaced=NO_FNR_KARI_SPACED, fnr_bad=NO_FNR_BAD,
                                  cpr=CPR_METTE, cpr10=CPR_METTE_10, cpr_bad=CPR_BAD_DATE, hetu=HETU_MATTI,
                                  hetu2000=HETU_2000, hetu_bad=HETU_BAD, iban_se=IBAN_SE_GROUPED, iban_gb=IBAN_GB,
                                  iban_bad=IBAN_BAD, iban_lower=IBAN_LOWER, card_visa=CARD_VISA_GROUPED,
                                  card_mc=CARD_MC_BARE, card_amex=CARD_AMEX_GROUPED, card_luhn=CARD_LUHN_BAD,
                                  card_filler=CARD_FILLER, ph_no=PHONE_NO, ph_dk=PHONE_DK, ph_fi=PHONE_FI,
                                  ph_de=PHONE_DE, ph_gb=PHONE_GB, ph_us=PHONE_US, ph_bare=PHONE_BARE_NO)


README_TEMPLATE = """# Labelled corpus: recall and precision per class

Synthetic egress traffic (fictional Swedish/English shops, a pharmacy, a clinic, a bakery, an
intimate-care shop, an association site, a building-supplies shop) rendered in eight log formats,
with one label line per record that must produce findings. It covers every vendor pack in
`detectors/vendors/` and every finding type of `docs/findings.md` except `sensitive/genetic`,
`sensitive/biometric` (not asked for) and `anomaly` (reserved). Everything here is written by
`generate.py`; do not edit the data files by hand: change the script and re-run it.

```
python3 corpus/labelled/generate.py      # Python 3.11, standard library only
```

The script is deterministic (string-seeded `random.Random` per format, timestamps from
2024-03-04T08:00:00Z, fixed key order), so re-running it gives identical bytes. Each format is seeded
separately: editing one format's traffic list does not change the other files. The traffic of the
other vendors was appended after the original Meta/GA4 traffic of each file, so the original
records kept their positions, payloads and labels; only details the renderers draw from the
per-format random stream after all records are built (Squid elapsed times and sizes, Zeek uids and
ports, EVE flow ids) changed.

## Files

| file | records | positive | negative pixel hits | negative other |
|---|---|---|---|---|
{rows}
| **total** | {t0} | {t1} | {t2} | {t3} |

"negative other" = ordinary traffic (CDN, APIs, updates, SaaS, pixel and tag *script* downloads,
plain facebook.com pages), `CONNECT` tunnels, EVE `dns`/`tls` events and one garbage Squid line.

Pixel hits per vendor (all formats; "labelled pairs" counts the (class, type) pairs labelled on them):

| vendor | positive hits | negative hits | labelled pairs |
|---|---|---|---|
{vrow}

- `squid/access.log`: Squid native format with `%>ru`, space-padded `%6tr`; every third line has the
  optional `"Referer" "User-Agent"` fields; some URLs have `[`/`]` as `%5B`/`%5D`; `CONNECT host:443`
  tunnels; one truncated line. No request bodies.
- `clf/combined.log`: combined format. Forward-proxy lines use absolute-form URLs; lines for the
  first-party hosts (`sgtm.example.se`, `metrics.apotek-exempel.se`, `analys.klinik-exempel.se`,
  `www.example.se`, `smetrics.apotek-exempel.se` (Adobe CNAME), `stats.example.se` (Matomo)) are
  vhost-prefixed origin-form (`%v %h ...`). No request bodies.
- `nginx-json/access.jsonl`: `escape=json` with `time_iso8601 remote_addr request_method scheme host
  request_uri status http_referer http_user_agent content_type request_body` (`""` when empty). The
  nginx fronts the first-party endpoints and relays vendor hits, so it sees bodies.
- `zeek/http.log`: Zeek TSV, full header, `post_body` placed right after `uri` (read `#fields`!),
  `\\x0d\\x0a` / `\\x09` escapes in values, `(empty)` empty sets, `#close` trailer.
- `zeek/http.json`: Zeek JSON lines, unset fields omitted, `post_body` only on POSTs.
- `eve/eve.json`: Suricata `http` events (no bodies), `alert` events (every POST hit, one signature
  per vendor) whose `http` object carries `http_request_body` (base64), plus `dns`/`tls` events; two
  `http` events use the old `\\/` escaping.
- `har/session.har`: HAR 1.2, `queryString` decoded, `postData.text` for bodies; one form POST has only
  `postData.params` with percent-encoded names (`udff%5Bem%5D`) and no `text`.
- `ecs/ecs.jsonl`: nested ECS with `url.full` on most lines, `url.original` + `url.domain` on a few,
  and two lines with flattened dotted keys.

## labels.jsonl

```
{{"file":"squid/access.log","pos":3,"expect":[{{"class":"hashed_pii","type":"email"}},...],"note":"..."}}
```

- `pos`: 1-based physical line number for line formats (Zeek header lines count), 0-based index
  into `log.entries` for HAR.
- `expect`: the exact **set** of `(class, type)` pairs the record must produce, each pair once.
- A record without a label line must produce **no finding at all** (negatives).
- `note`: why, for humans.

Counts of (class, type) over all labels (records carrying the pair):

| class/type | labels |
|---|---|
{crow}

## What the engine reports (label semantics)

Pixel hits (hosts and paths of the packs in `detectors/vendors/`):
- Meta `/tr` and `/tr/` on `www.facebook.com`: GET query, POST form-urlencoded, POST multipart;
  `/privacy_sandbox/pixel/register/trigger/`; Conversions API `POST graph.facebook.com/v<N>/<pixel>/events`.
- GA4 `/g/collect` on any host (Google and first-party sGTM hosts), GET or `\\r\\n`-batched POST.
- Google Ads: `www.googleadservices.com/pagead/conversion/<id>/`, `googleads.g.doubleclick.net/pagead/viewthroughconversion/<id>/`,
  `/pagead/1p-conversion/<id>/` on any host (`www.google.se`), `www.google.com/ccm/collect`, Floodlight
  `ad.doubleclick.net/activity;src=..;type=..;u1=..` and `<src>.fls.doubleclick.net/activityi;..` (the `;`
  path parameters are decoded).
- Universal Analytics `/collect` and `/j/collect` on `www.google-analytics.com` / `stats.g.doubleclick.net`.
- Microsoft UET `bat.bing.com/action/0`; Microsoft Clarity `<x>.clarity.ms/collect`, `c.clarity.ms/c.gif`;
  Hotjar `in.hotjar.com/api/v2/client/sites/<id>/...`, `ws.hotjar.com/api/v2/client/ws`,
  `content.hotjar.io/?site_id=`, `vc.hotjar.io/sessions/<id>`.
- TikTok `analytics.tiktok.com/api/v2/pixel[/track]` (JSON body); LinkedIn `px.ads.linkedin.com/collect`,
  `/attribution_trigger`, `/wa/` (JSON body); Snap `tr.snapchat.com/p` (GET, form POST, JSON batch),
  `tr6.snapchat.com/p`, `/cm/i`; Pinterest `ct.pinterest.com/v3/` and `/user/` (JSON in `pd`, `ed`, `ad`);
  X `t.co/i/adsct`, `analytics.twitter.com/i/adsct`, `analytics.x.com/1/i/adsct`,
  `ads-api.x.com/12/measurement/conversions/<id>`; Reddit `alb.reddit.com/rp.gif` and `/rp` (form POST),
  `ads-api.reddit.com` Conversions API v2.0 and v3; Criteo `sslwidget.criteo.com/event`,
  `dis.eu.criteo.com/dis/dis.aspx`, `widget.criteo.com/m/event`; Adobe `/b/ss/<rsid>/1/<lib>/s<n>` on any host
  and Web SDK `edge.adobedc.net/ee/<region>/v1/interact?configId=`; Matomo `matomo.php` / `piwik.php` on any
  host (GET, form POST, bulk JSON).
- Not hits: tag and script loads (`fbevents.js`, signals config, `gtag/js`, `gtm.js`, `analytics.js`, `ga.js`,
  `conversion_async.js`, `bat.js`, `clarity.ms/tag/..`, `static.hotjar.com`, `events.js`, `insight.min.js`,
  `scevent.min.js`, `s.pinimg.com/ct/core.js`, `uwt.js`, `pixel.js`, `ld.js`, Adobe Launch, `matomo.js`),
  plain facebook.com pages, Graph API calls other than `/events`, anything that merely looks like `collect`.
- **Twins count once**: Meta `/tr` + privacy-sandbox trigger (`id ev ts eid`), LinkedIn `/collect` +
  `/attribution_trigger` (`pid time url`), X `t.co` + `analytics.twitter.com` adsct (`txn_id pl_id event_id
  tw_document_href`). The second hit of a pair (same key, other endpoint, same file) produces nothing;
  a trigger without a partner is reported like the hit it stands for.

Classes and types:
- `hashed_pii/<kind>`: a hash shape (64/40/32 hex, Snap `FFF`+64 hex, Google 43-char base64url) in an
  identity field of the vendor's pack (Meta `ud[..]`/`udff[..]`/CAPI `user_data.*`, GA4/Google Ads
  `em=tv.1~em.~pn.~fn0.~ln0.~sa0.`, TikTok `context.user.email|phone_number|external_id`, LinkedIn `hem`,
  Snap `u_hem`/`u_hpn`, Pinterest `pd.em`, X `email_address` and CAPI `identifiers[].hashed_email|ip_address`,
  Reddit `em`/`external_id` and CAPI `user.email|phone_number|ip_address`, Criteo `id.email.sha256`, Adobe
  `id` and `identityMap.Email*`, Matomo/UA/UET `uid`) or in a field named for identity
  (`identity-names.toml`: `cd[customer_hash]`, `ep.user_hash` → external_id, `ep.hashed_email` → email).
  Kind by field; a hashed `country` counts as postal_address. Placeholder hashes (`hashes.toml`: SHA-256/MD5
  of `""`, `undefined`, `null`, `test`, `[object Object]`, ..., and the Snap/Pinterest cross-site constants)
  produce nothing.
- `pii/email`: plaintext e-mail with a real TLD anywhere in a decoded payload field, also percent-encoded
  once or twice (`%40`, `%2540`).
- `pii/phone`: any plausible number in a phone identity field (Meta `ph`, TikTok `phone_number`); anywhere
  as E.164 (`+46701740605`, `+47 412 34 567`, `+1 201 555 0123`), Swedish mobile (`070-174 06 42`) or the
  national forms with separators of `phones.toml`: NO `{ph_no}`, DK `{ph_dk}`, FI `{ph_fi}`, DE mobile
  `{ph_de}`, UK `{ph_gb}`, US `{ph_us}`.
- `pii/national_id`: Swedish personnummer/samordningsnummer with a valid date (day+60) and Luhn digit,
  as `YYMMDD-NNNN` ({pnr_short}), `YYYYMMDD-NNNN` ({pnr_long}, {samord}) or `YYYYMMDDNNNN` ({pnr12})
  anywhere; Norwegian fødselsnummer with both mod-11 control digits (`{fnr}`, `{fnr_spaced}`); Danish CPR
  `DDMMYY-SSSS` with a real date (`{cpr}`); Finnish henkilötunnus with its check character (`{hetu}`,
  `{hetu2000}`). Ten digits without separator ({pnr10}, `{cpr10}`) only in external_id identity fields
  (Meta `ud[external_id]`, UA `uid`, Adobe `id`).
- `pii/payment_card`: Luhn + issuer range + at least four distinct digits; grouped anywhere
  (`{card_visa}`, Amex `{card_amex}`), ungrouped only in fields named for cards (`cd[card_number]={card_mc}`).
- `pii/iban`: upper case, grouped or not, country length and mod 97 (`{iban_se}`, `{iban_gb}`).
- `pii/name`, `pii/postal_address`, `pii/date_of_birth`, `pii/gender`, `pii/ip_address`: plaintext values in
  identity fields of those kinds (Meta `ud`/`udff`/CAPI `user_data`, Adobe `zip` and `person.name`, Matomo
  `city`/`cip`, Criteo `ip`, X CAPI `ip_address`, CAPI `client_ip_address`).
- `sensitive/<category>`: a term of `detectors/vocab/<category>.toml` in a content field of the vendor's
  pack (page URL path and query, titles, product names and categories, search terms, custom dimensions,
  event labels ...). Never from a host name or the Referer header.
- `secret/access_token`: CAPI body `access_token`, Matomo `token_auth`.
- `transport/plaintext_http`: any pixel hit sent over plain HTTP: URL scheme `http`, nginx `scheme`
  `http`, Zeek `id.resp_p`/EVE `dest_port` 80.
- `consent/denied_but_sent`: a Google hit (GA4, Google Ads, Universal Analytics) that carries `pii/*` or
  `hashed_pii/*` while ad_storage, analytics_storage or ad_user_data is denied (`gcs` `G100`/`G101`/`G110`,
  or a `p`/`q`/`m`/`u` letter among the first three `gcd` signals).
- Never reported: `fbp`/`fbc`, `cid`, Adobe `mid`/`aid`, Clarity `MUID`, Snap `u_c1`/`u_sclid`, TikTok
  `anonymous_id`, Criteo `bundle`/`mapped_user_id`, Matomo `_id`, user agents, event ids, prices,
  currencies, pixel ids, an opaque UA/GA4 `uid`, hashes outside identity fields (a 32-hex `eid`), a
  plaintext `country`.

## Decisions on ambiguous points

- **Unknown scheme is not plaintext.** Vhost-prefixed origin-form CLF lines and ECS lines with only
  `url.original` + `url.domain` do not say whether the request was HTTP or HTTPS; they never get
  `transport/plaintext_http`.
- **Zeek/EVE on port 443** stand for traffic seen decrypted (TLS-inspecting tap or mirror after a
  bumping proxy). They carry payload findings but not `transport/plaintext_http`.
- **Body not in the log = not in the record.** Squid and CLF never show bodies; an EVE `http` event
  shows none either (only `alert` events do). A POST hit whose data sits only in the body (GA4 batch,
  `/tr/` form, TikTok, Snap JSON, LinkedIn `/wa/`, Reddit `/rp`, CAPIs) is therefore a negative in
  `squid/access.log` and `clf/combined.log`.
- **Clarity and Hotjar are recognised only** (`body = "none"`): their hits never produce payload findings,
  only `transport/plaintext_http` over http. This includes a Hotjar feedback POST whose JSON body holds an
  e-mail address and "klamydiatest": the pack says recordings and feedback are not decoded, so the label is
  empty (a documented limitation, not an engine bug). Their query strings carry nothing personal.
- **`consent/denied_but_sent` needs pii or hashed pii**; a denied hit that carries only a sensitive term
  gets the `sensitive/*` label alone.
- **Identity-number look-alikes are negatives**: SE wrong Luhn ({bad_luhn}), impossible dates ({bad_date},
  {bad_date_short}), a valid-looking plain 10-digit number outside identity fields (`ep.order_id={order10}`,
  `ep.order_id={cpr10}`); NO wrong control digit (`{fnr_bad}`); DK 31 February (`{cpr_bad}`); FI wrong check
  character (`{hetu_bad}`). All Danish numbers were picked so that the same digits are not also a valid
  Swedish personnummer or Finnish check, so each is found by exactly one rule; the type is the same anyway.
- **Cards and IBANs**: negatives are a Luhn failure (`{card_luhn}`), a filler with two distinct digits
  (`{card_filler}`), an ungrouped card number outside card fields (`cd[order_ref]`), an IBAN with wrong check
  digits (`{iban_bad}`) and a lower-case IBAN (`{iban_lower}`).
- **Phones**: an ungrouped run (`{ph_bare}`) in free text is not a phone; phone-shaped texts in the corpus are
  classified by hand in `generate.py` (it stops on an unclassified one), because validity depends on the
  numbering plan.
- **Contraception is health and sex life** (`p-piller` gives both); STIs and their tests (klamydia, HIV) are
  health only. Hard negatives per category: `Tandkräm Sensitive`, `Sextio procent`, `Betongvibrator`,
  `Middlesex ... unisex`, `Quaker Oats`, `Kristi himmelsfärdsdag`, `Konfirmera din bokning`, `SD-kort`,
  `moderat pris`, `Europeiska unionen`, `TCO Certified`, `Handelsbanken`, `Balsamisk vinäger`,
  `Bromsklossar`, `same day delivery`.
- **Double encoding**: an e-mail in a page URL query shows up as `%2540` on the wire
  (`dl=...%3Femail%3Danna.svensson%2540example.se`); the `ep.login_hint` case was encoded twice
  by site code (raw `anna.svensson%2540example.se` inside the parameter); Criteo `pN` and `fu` arrive
  double-encoded. All are decoded.
- **Unhashed `ud[country]`** and Matomo `country` are never reported (the rules name no plaintext type for
  a country); plaintext GA4 `em` sub-fields are never used.
- **Sensitive terms only where the rules look**: a term in a field the pack does not list (`Referer`
  header, CAPI `event_source_url`, `cd[content_ids]`, Reddit's page URL which only travels in the Referer)
  appears only in records that are positive for that category through a listed field as well, so the label
  holds either way. Pixel `Referer` headers are origin-only (browser default
  `strict-origin-when-cross-origin`), and no site host name contains a term.
- **CAPI without `access_token` in the body** (sent as a header the log does not keep) and only
  `fbp`/`fbc`/user agent: no finding.
- **Criteo hashed e-mail inside `pN`** (`e=ce&m=[<hash>]`) is a documented limitation of the pack (the nested
  form string is not decoded); the corpus only uses a plaintext e-mail there.
- E-mail addresses in pixel payloads use real TLDs (.se .com .org .co.uk); `halsoshop.example` only
  appears as a host.

## How the labels are checked

`generate.py` declares the expected set in each scenario by hand, then re-derives it from the
request bytes with a small independent implementation of the rules above (`expected_by_rules`):
Meta/GA4/CAPI by their own parsers, every other vendor by a generic decoder (query, Floodlight `;`
path parameters, form/JSON bodies, JSON and URLs inside values) with the identity, content and secret
fields transcribed from each pack, the PII validators re-implemented (Luhn, mod 11, dates, check
characters, issuer ranges, mod 97) and a hand-picked subset of every vocabulary with the matching
semantics of `detectors/vocab/FORMAT.md`. It stops on any disagreement, and also when a sensitive
term, e-mail shape or phone-shaped text lands in a place the rules leave open. This guards against
slips in the corpus; it is not the engine. After generation the labels were compared with the real
engine (`pixelwarden scan` per file and over the whole directory): no record disagrees.

## Fictional data

People: anna.svensson@example.se, erik.johansson@example.com, maria.nilsson@example.org,
john.smith@example.co.uk, sara.lind@example.se, kari.nordmann@example.com, mette.hansen@example.com,
jane.doe@example.com. Phone numbers are from the PTS range reserved for fiction (070-174 06 xx),
Ofcom's drama ranges (07700 900xxx, 020 7946 0xxx), the US 555-01xx fiction range, and the national
examples of `detectors/pii/phones.toml` for NO, DK, FI and DE. IP addresses are RFC 5737
documentation ranges and 10/8. Pixel ids, measurement ids, tag ids, `access_token` values
(`EAAGcorpusFAKE...`) and `token_auth` values are made up. The valid personnummer (19870521-2382,
19791110-9291, 19921225-2382) are Skatteverket test numbers (registered test identities, not real
people; list as published in KentorIT/PU-Adapter `TestData/Testpersonnummer.cs`). All other identity
numbers are **synthetic**, computed by `generate.py` with each country's algorithm: the
samordningsnummer ({samord}), the Norwegian fødselsnummer, the Danish CPR numbers (date only), the
Finnish henkilötunnus, and every negative. Card numbers are the card schemes' public test numbers;
IBANs are computed over made-up account numbers.
"""


if __name__ == "__main__":
    main()
