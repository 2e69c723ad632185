"""Held-apart scenarios, written from vendor documentation and public captures
(see README.md for the sources). Every request is fictional: e-mail addresses are
at example.* domains, phones come from fiction ranges, national IDs are
published test numbers or computed test values, cards are public test cards.

Label strings are 'class/type'. U = labels visible in the URL (query/path),
B = labels visible only in the request body, H = labels from HAR request headers.
"""

from gen_lib import RAW, Scn, g43, jdump, jenc, md5, pct, plus, qs, sha1, sha256

T0 = 1772434800  # 2026-03-02T07:00:00Z
MS = T0 * 1000

# ---------------------------------------------------------------------------
# fictional people (normalised the way the vendors document before hashing)
# ---------------------------------------------------------------------------
ANNA = dict(em="anna.lindqvist@example.se", ph="46701740605", fn="anna", ln="lindqvist",
            ct="stockholm", zp="11122", db="19870521", ge="f", xid="KUND-448812")
ERIK = dict(em="erik.berg@example.com", ph="46701740618", fn="erik", ln="berg", xid="C-20931")
KARI = dict(em="kari.nordmann@example.no", ph="4741234567", fn="kari", ln="nordmann", ct="oslo", zp="0150")
METTE = dict(em="mette.hansen@example.dk", ph="4512345678", fn="mette", ln="hansen")
MATTI = dict(em="matti.virtanen@example.fi", ph="358401234567", fn="matti", ln="virtanen")
JONAS = dict(em="jonas.schulz@example.de", ph="4915123456789", fn="jonas", ln="schulz", ct="berlin", zp="10115")
JSMITH = dict(em="j.smith@example.org", ph="12025550173", fn="john", ln="smith")

PH_UNDEF = sha256("undefined")
PH_TEST = sha256("test")
PH_EMPTY = sha256("")
PH_NULL = sha256("null")

FBP = "fb.1.1772430012345.1183927461"
FBC = "fb.1.1772430011000.IwAR2xYz8kLmN0pQrStUv"
META_A = "1480247793182459"
META_B = "872215630471889"


def meta_url(pid, ev, ts, extra=(), dl=None, host="www.facebook.com", path="/tr/", scheme="https",
             rqm="GET", eid=None, es=None):
    pairs = [("id", pid), ("ev", ev)]
    if dl is not None:
        pairs += [("dl", pct(dl)), ("rl", "")]
    pairs += [("if", "false"), ("ts", str(ts))]
    pairs += list(extra)
    pairs += [("sw", "1920"), ("sh", "1080"), ("v", "2.9.179"), ("r", "stable"), ("ec", "2"),
              ("o", "4126"), ("fbp", FBP), ("it", str(ts - 5211)), ("coo", "false")]
    if es:
        pairs.append(("es", es))
    if eid:
        pairs.append(("eid", eid))
    pairs.append(("rqm", rqm))
    return f"{scheme}://{host}{path}?{qs(pairs)}"


SANDBOX = "/privacy_sandbox/pixel/register/trigger/"

GA_A = "G-7QK2M4XR9D"
GA_B = "G-H3LP9W2ZQ1"
GA_C = "G-N0RD1C4AB7"
GCD = {"G111": "13r3r3r3r1l1", "G100": "13p3p3p2p1l1", "G101": "13p3r3p2p1l1", "G110": "13r3p3r3r1l1"}


def ga4_url(tid, en, dl, dt, extra=(), gcs="G111", host="region1.google-analytics.com", scheme="https",
            cid="1839204711.1772431200", ul="sv-se", path="/g/collect", sid="1772433001"):
    pairs = [("v", "2"), ("tid", tid), ("gtm", "45je6321v9181412190za200"), ("_p", "1772434811002")]
    if gcs:
        pairs += [("gcs", gcs), ("gcd", GCD.get(gcs, "13l3l3l3l1l1"))]
    pairs += [("npa", "0"), ("dma", "0"), ("cid", cid), ("ul", ul), ("sr", "1920x1080"),
              ("uaa", "x86"), ("uab", "64"), ("uamb", "0"), ("uap", "Windows"), ("uapv", "15.0.0"),
              ("_s", "3"), ("sid", sid), ("sct", "7"), ("seg", "1")]
    if dl is not None:
        pairs.append(("dl", pct(dl)))
    pairs.append(("dr", ""))
    if dt is not None:
        pairs.append(("dt", pct(dt)))
    pairs.append(("en", en))
    pairs += list(extra)
    pairs += [("_et", "1203"), ("tfd", "4812")]
    return f"{scheme}://{host}{path}?{qs(pairs)}"


def ua_url(tid, t, dl, dt, extra=(), scheme="https", gcs=None):
    pairs = [("v", "1"), ("_v", "j101"), ("a", "1839211"), ("t", t), ("_s", "1"), ("dl", pct(dl)),
             ("ul", "sv-se"), ("de", "UTF-8"), ("dt", pct(dt)), ("sd", "24-bit"), ("sr", "1920x1080"),
             ("vp", "1903x947"), ("je", "0")]
    pairs += list(extra)
    if gcs:
        pairs.append(("gcs", gcs))
    pairs += [("_u", "QACAAEABAAAAACAAI~"), ("jid", ""), ("gjid", ""), ("cid", "1839204711.1772431200"),
              ("tid", tid), ("_gid", "902211345.1772431200"), ("z", "1290483712")]
    return f"{scheme}://www.google-analytics.com/collect?{qs(pairs)}"


AW = "10987654321"


def gads_url(path, extra=(), gcs="G111", scheme="https", host="www.googleadservices.com", url=None, tiba=None):
    pairs = [("random", "1772434866123"), ("cv", "11"), ("fst", "1772434866123"), ("bg", "ffffff"),
             ("guid", "ON"), ("async", "1"), ("gtm", "45be6321v9181412190za200")]
    if gcs:
        pairs += [("gcs", gcs), ("gcd", GCD.get(gcs, "13l3l3l3l1l1"))]
    pairs += [("dma", "0"), ("u_w", "1920"), ("u_h", "1080")]
    if url:
        pairs += [("url", pct(url)), ("ref", "")]
    pairs += [("frm", "0")]
    if tiba:
        pairs.append(("tiba", pct(tiba)))
    pairs += list(extra)
    pairs += [("hn", "www.googleadservices.com"), ("npa", "0"), ("pscdl", "noapi"), ("auid", "1553298714.1772431200"),
              ("uaa", "x86"), ("uab", "64"), ("rfmt", "3"), ("fmt", "4")]
    return f"{scheme}://{host}{path}?{qs(pairs)}"


TT_PIXEL = "CQ4VJ3RC77U8M1T2K0AG"


def tiktok_pixel_body(event, url, properties, user=None, style=0, title=None):
    ctx = {
        "ad": {"sdk_env": "external", "jsb_status": 2},
        "user": {"anonymous_id": "n3V7fQk2mZ8pXc1Ld9Ra0Tw6"},
        "pixel": {"code": TT_PIXEL},
        "page": {"url": url, "referrer": ""},
        "library": {"name": "pixel.js", "version": "2.2.1"},
        "device": {"platform": "pc"},
        "session_id": "b6f1e0a2-7c1d-4c55-9d67-1f2e3a4b5c6d::Jk29Wm",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    }
    if user:
        ctx["user"].update(user)
    if title:
        ctx["page"]["title"] = title
    body = {"event": event, "event_id": "", "message_id": "messageId-1772434877-9311-m18",
            "is_onsite": False, "timestamp": "2026-03-02T07:01:17.412Z", "context": ctx,
            "properties": properties, "partner": "GoogleTagManagerClient",
            "signal_diagnostic_labels": {"raw_email": {"label": "missing"}, "raw_phone": {"label": "missing"},
                                         "hashed_email": {"label": "missing"}, "hashed_phone": {"label": "missing"}}}
    return jdump(body, style)


SNAP_PID = "5b0e4f7a-2c19-4e3d-9a8b-71c2d0e3f4a5"
PIN_TID = "2612345678901"
LI_PID = "4412389"
UET_TI = "187654321"
X_PIXEL = "o8z6j"
RDT = "a2_fk29x7q1mdz3"
AMZ_TAG = "8c5f2a91-3d4e-4b7a-a1c0-59e2d7b6f013"
CRITEO_A = "48213"


def criteo_url(events, fu, extra=()):
    pairs = [("a", CRITEO_A), ("v", "5.31.0"), ("otl", "1")]
    for i, e in enumerate(events):
        pairs.append((f"p{i}", pct(e)))
    pairs += [("adce", "1"), ("bundle", "fNt6A19rbVVOdSUyQjFNdkN3"), ("tld", "example.se"), ("dy", "1"),
              ("fu", pct(pct(fu))), ("ceid", "d2b7a3f0-91c4-4e5b-8f6d-0a1b2c3d4e5f"), ("dtycbr", "48211")]
    pairs += list(extra)
    return "https://sslwidget.criteo.com/event?" + qs(pairs)


def adobe_url(host, rsid, params, scheme="https", ver="JS-2.22.4", rnd="s71942651820735"):
    pairs = [("AQB", "1"), ("ndh", "1"), ("pf", "1"), ("t", pct("2/2/2026 8:01:13 1 -60")),
             ("fid", "2A9F1C3D4E5B6A70-1F2E3D4C5B6A7980"), ("ce", "UTF-8"), ("mid", "58213390481726354091827364501928374")]
    pairs += list(params)
    pairs += [("s", "1920x1080"), ("c", "24"), ("j", "1.6"), ("v", "N"), ("k", "Y"), ("bw", "1903"),
              ("bh", "947"), ("lrt", "211"), ("AQE", "1")]
    return f"{scheme}://{host}/b/ss/{rsid}/1/{ver}/{rnd}?{qs(pairs)}"


def matomo_url(host, params, path="/matomo.php", scheme="https", idsite="3"):
    pairs = [("idsite", idsite), ("rec", "1")] + list(params) + [
        ("rand", "482913"), ("h", "8"), ("m", "1"), ("s", "13"), ("_id", "4f2a9c1d7e3b5a60"),
        ("_idn", "0"), ("send_image", "0"), ("_refts", "0"), ("pv_id", "Xk2Lm9"), ("res", "1920x1080"),
        ("cookie", "1")]
    return f"{scheme}://{host}{path}?{qs(pairs)}"


BROWSER = None  # marker: renderer picks a browser User-Agent


def scenarios():
    S = []
    add = S.append

    # =====================================================================
    # META PIXEL (browser)
    # =====================================================================
    add(Scn("m01", "meta", "pixel", "GET",
            meta_url(META_A, "PageView", MS + 1100, dl="https://www.apotek.example.se/"),
            referer="https://www.apotek.example.se/",
            note="pharmacy home page: sensitive category is never inferred from a host name alone"))
    add(Scn("m02", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 2100,
                     dl="https://www.apotek.example.se/produkt/klamydiatest-hemmatest-1-st",
                     extra=[("cd[content_name]", pct("Klamydiatest hemmatest 1 st")),
                            ("cd[content_category]", pct("Självtester")),
                            ("cd[content_ids]", pct('["761230"]')), ("cd[value]", "199.00"),
                            ("cd[currency]", "SEK"), ("cd[content_type]", "product")]),
            referer="https://www.apotek.example.se/produkt/klamydiatest-hemmatest-1-st",
            U=["sensitive/health"], note="chlamydia self-test product (sv) in dl and cd[content_name]"))
    m03_extra = [("ud[em]", sha256(ANNA["em"])), ("ud[ph]", sha256(ANNA["ph"])),
                 ("ud[fn]", sha256(ANNA["fn"])), ("ud[ln]", sha256(ANNA["ln"])),
                 ("ud[zp]", sha256(ANNA["zp"])), ("ud[ct]", sha256(ANNA["ct"])),
                 ("ud[country]", "se"), ("ud[external_id]", sha256(ANNA["xid"])),
                 ("cd[content_name]", pct("Graviditetstest Early 2-pack")), ("cd[value]", "149.00"),
                 ("cd[currency]", "SEK"), ("cd[num_items]", "1")]
    add(Scn("m03", "meta", "pixel", "GET",
            meta_url(META_A, "Purchase", MS + 3300, extra=m03_extra,
                     dl="https://www.apotek.example.se/kassa/bekraftelse", eid="ord-5518274"),
            referer="https://www.apotek.example.se/kassa/bekraftelse",
            U=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/name", "hashed_pii/postal_address",
               "hashed_pii/external_id", "sensitive/health"],
            also=['squid', 'zeek'], note="manual advanced matching (ud[em,ph,fn,ln,zp,ct,external_id] SHA-256) with a pregnancy test purchase; plaintext ud[country]=se is not pii"))
    add(Scn("m04", "meta", "pixel", "GET",
            meta_url(META_A, "Purchase", MS + 3300, extra=m03_extra,
                     dl="https://www.apotek.example.se/kassa/bekraftelse", eid="ord-5518274",
                     path=SANDBOX, rqm="FGET"),
            referer="https://www.apotek.example.se/kassa/bekraftelse", group="m03", twin_second=True,
            also=['squid', 'zeek'], note="privacy_sandbox twin of the previous /tr hit (same id, ev, ts, eid): only the first is reported"))
    add(Scn("m05", "meta", "pixel", "GET",
            meta_url(META_B, "PageView", MS + 4100, dl="https://www.example.com/",
                     extra=[("udff[em]", PH_UNDEF), ("udff[fn]", PH_TEST), ("udff[ln]", PH_TEST),
                            ("udff[ph]", PH_EMPTY), ("udff[zp]", PH_NULL)], es="automatic"),
            note="automatic advanced matching carrying only placeholder hashes (undefined, test, empty, null)"))
    add(Scn("m06", "meta", "pixel", "GET",
            meta_url(META_B, "Lead", MS + 5100, dl="https://www.example.com/contact-us",
                     extra=[("udff[em]", sha256(JSMITH["em"])), ("udff[ph]", sha256(JSMITH["ph"]))],
                     es="automatic"),
            U=["hashed_pii/email", "hashed_pii/phone"], note="automatic advanced matching udff[em], udff[ph]"))
    add(Scn("m07", "meta", "pixel", "GET",
            meta_url(META_A, "CompleteRegistration", MS + 6100, dl="https://www.example.se/mina-sidor/registrera",
                     extra=[("cd[personnummer]", "198705212382"), ("cd[status]", "true")]),
            U=["pii/national_id"], note="Swedish personnummer (Skatteverket test number, 12 digits, no separator) in a field named for it"))
    add(Scn("m08", "meta", "pixel", "GET",
            meta_url(META_A, "SubscribedButtonClick", MS + 7100, dl="https://www.example.se/vard/boka",
                     extra=[("cd[buttonFeatures]", jenc({"classList": "btn btn-primary", "destination": "https://www.example.se/vard/boka/tid",
                                                         "id": "", "imageUrl": "", "innerText": "Boka tid på vårdcentralen",
                                                         "numChildButtons": 0, "tag": "a", "type": None, "name": ""})),
                            ("cd[buttonText]", pct("Boka tid på vårdcentralen")),
                            ("cd[formFeatures]", pct("[]")),
                            ("cd[pageFeatures]", jenc({"title": "Vårdcentral Söder – boka tid"}))]),
            U=["sensitive/health"], note="automatic button-click event: button text and page title name a primary-care clinic (vårdcentral)"))
    m09_body = qs([("id", META_A), ("ev", "Lead"), ("dl", plus("https://www.example.se/forsamling/konfirmation/anmalan-konfirmationslager")),
                   ("rl", ""), ("if", "false"), ("ts", str(MS + 8100)),
                   ("cd%5Bcontent_name%5D", plus("Anmälan konfirmationsläger sommar 2026")),
                   ("udff%5Bem%5D", sha256(ANNA["em"])), ("udff%5Bfn%5D", sha256(ANNA["fn"])),
                   ("udff%5Bln%5D", sha256(ANNA["ln"])), ("sw", "1920"), ("sh", "1080"), ("v", "2.9.179"),
                   ("r", "stable"), ("ec", "3"), ("o", "4126"), ("fbp", FBP), ("es", "automatic"), ("rqm", "formPOST")])
    add(Scn("m09", "meta", "pixel", "POST", "https://www.facebook.com/tr/", body=m09_body,
            ctype="application/x-www-form-urlencoded", bodyless=True,
            referer="https://www.example.se/forsamling/konfirmation/anmalan-konfirmationslager",
            B=["hashed_pii/email", "hashed_pii/name", "sensitive/religion"],
            note="Meta /tr/ form POST (percent-encoded bracket keys): udff hashes and a confirmation-camp sign-up (religion)"))
    bnd = "----WebKitFormBoundaryq8Zb3XnR2tV0yLkM"
    parts = [("id", META_B), ("ev", "AddToCart"), ("dl", "https://www.example.com/shop/intimate/condoms-10-pack"),
             ("ts", str(MS + 9100)), ("cd[content_name]", "Condoms ultra thin 10-pack"),
             ("cd[contents]", '[{"id":"SKU-3391","quantity":1,"item_price":9.9}]'),
             ("ud[ph]", sha256(JSMITH["ph"])), ("fbp", FBP), ("rqm", "formPOST")]
    m10_body = "".join(f"--{bnd}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in parts) + f"--{bnd}--\r\n"
    add(Scn("m10", "meta", "pixel", "POST", "https://www.facebook.com/tr/", body=m10_body,
            ctype=f"multipart/form-data; boundary={bnd}",
            B=["hashed_pii/phone", "sensitive/sex_life"],
            also=['zeek', 'nginx'], note="Meta /tr/ multipart POST: hashed ud[ph] and a condom purchase (contraception = sex life)"))
    # non-twins: different ev, same ts
    add(Scn("m11a", "meta", "pixel", "GET",
            meta_url(META_A, "PageView", MS + 10100, dl="https://www.example.no/helse/depresjon-behandling"),
            U=["sensitive/health"], note="Norwegian depression-treatment page in dl"))
    add(Scn("m11b", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 10100, dl="https://www.example.no/helse/depresjon-behandling",
                     path=SANDBOX, rqm="FGET"),
            group="m11a", U=["sensitive/health"],
            note="privacy_sandbox hit with a DIFFERENT ev than the /tr hit before it: not a twin, reported on its own"))
    add(Scn("m12a", "meta", "pixel", "GET",
            meta_url(META_B, "Purchase", MS + 11100, dl="https://www.example.com/checkout/complete",
                     extra=[("ud[em]", sha256(ERIK["em"])), ("cd[value]", "59.00"), ("cd[currency]", "USD")],
                     eid="a1b2c3d4e5f60718293a4b5c6d7e8f90"),
            U=["hashed_pii/email"], note="purchase with hashed ud[em]; eid is a 32-hex event id, not identity"))
    add(Scn("m12b", "meta", "pixel", "GET",
            meta_url(META_B, "Purchase", MS + 11100, dl="https://www.example.com/checkout/complete",
                     extra=[("ud[em]", sha256(ERIK["em"])), ("cd[value]", "59.00"), ("cd[currency]", "USD")],
                     eid="0f9e8d7c6b5a49382716f5e4d3c2b1a0"),
            group="m12a", U=["hashed_pii/email"],
            note="second Purchase with the same ts but a different eid: a second event, not a twin"))
    m13_extra = [("cd[search_string]", pct("gå ur svenska kyrkan"))]
    add(Scn("m13a", "meta", "pixel", "GET",
            meta_url(META_A, "Search", MS + 12100, extra=m13_extra, dl="https://www.example.se/sok?q=g%C3%A5+ur+svenska+kyrkan",
                     path=SANDBOX, rqm="FGET", eid="srch-77120"),
            U=["sensitive/religion"], note="search for leaving the Church of Sweden; the privacy_sandbox hit comes first here"))
    add(Scn("m13b", "meta", "pixel", "GET",
            meta_url(META_A, "Search", MS + 12100, extra=m13_extra, dl="https://www.example.se/sok?q=g%C3%A5+ur+svenska+kyrkan",
                     eid="srch-77120"),
            group="m13a", twin_second=True, note="/tr twin (same id, ev, ts, eid) of the privacy_sandbox hit just before it"))
    # Conversions API
    capi14 = {"data": [{"event_name": "Purchase", "event_time": T0 + 13, "action_source": "website",
                        "event_id": "ord-5520011", "event_source_url": "https://www.apotek.example.se/kassa/bekraftelse",
                        "user_data": {"em": [sha256(ANNA["em"])], "ph": [sha256(ANNA["ph"])],
                                      "client_ip_address": "203.0.113.24",
                                      "client_user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X)",
                                      "fbp": FBP, "fbc": FBC},
                        "custom_data": {"currency": "SEK", "value": 229.0, "content_type": "product",
                                        "contents": [{"id": "880011", "quantity": 1, "item_price": 229.0}],
                                        "content_name": "HIV-självtest 1 st"}}],
              "access_token": "EAAGm0PX4ZCpsBAO7xQZBk2ZAt1ZCw9rLqK3vYhN8sT2mD6uFjG0bR5cW1eXyZA"}
    add(Scn("m14", "meta", "capi", "POST", f"https://graph.facebook.com/v21.0/{META_A}/events",
            body=jdump(capi14, 0), ctype="application/json", ua="fbbizsdk-python-v21.0.2",
            B=["hashed_pii/email", "hashed_pii/phone", "pii/ip_address", "sensitive/health", "secret/access_token"],
            note="Conversions API: hashed em/ph, plaintext client_ip_address, HIV self-test, access_token in the body"))
    capi15 = {"data": [{"event_name": "Lead", "event_time": T0 + 14, "action_source": "website",
                        "event_source_url": "https://www.example.se/offert",
                        "user_data": {"em": [ANNA["em"]], "ph": ["0701740605"], "fn": ["anna"],
                                      "client_user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
                        "custom_data": {"Postnummer": "11122", "lead_type": "offert"}}],
              "access_token": "EAAB9kQZCw1ZBv8ZAo3ZCx7pNqL2mR5tY8uIoP0aS4dF6gH"}
    add(Scn("m15", "meta", "capi", "POST", f"https://graph.facebook.com/v20.0/{META_A}/events",
            body=jdump(capi15, 2), ctype="application/json", ua="python-requests/2.32.3",
            B=["pii/email", "pii/phone", "pii/name", "pii/postal_address", "secret/access_token"],
            note="Conversions API with UNhashed em, national-format phone without country code, first name, custom_data.Postnummer; token in body"))
    capi16_data = [{"event_name": "Lead", "event_time": T0 + 15, "action_source": "website",
                    "event_source_url": "https://www.example.de/beratung/kirchenaustritt",
                    "user_data": {"em": [sha256(JONAS["em"])], "external_id": [sha256("CRM-77120-DE")]},
                    "custom_data": {"content_name": "Beratung Kirchenaustritt"}}]
    m16_body = qs([("data", plus(jdump(capi16_data, 0))), ("access_token", "EAAJx1ZBq0ZCk2ZAnR8sT3vW5yZ")])
    add(Scn("m16", "meta", "capi", "POST", f"https://graph.facebook.com/v19.0/{META_B}/events",
            body=m16_body, ctype="application/x-www-form-urlencoded", ua="Guzzle/7.8 curl/8.5.0 PHP/8.3.4",
            B=["hashed_pii/email", "hashed_pii/external_id", "sensitive/religion", "secret/access_token"],
            note="Conversions API form-encoded: data= is a JSON string inside a form field; Kirchenaustritt (leaving the church)"))
    capi17 = {"data": [{"event_name": "Purchase", "event_time": T0 + 16, "action_source": "website",
                        "user_data": {"em": [sha256(ERIK["em"])]},
                        "custom_data": {"content_name": "Tandkräm Sensitive 75 ml", "value": 39.0, "currency": "SEK"}}]}
    add(Scn("m17", "meta", "capi", "POST",
            f"https://graph.facebook.com/v21.0/{META_A}/events?access_token=EAAGm0PX4ZCpsBAN3kQw8ZBrT5yU7iOp",
            body=jdump(capi17, 1), ctype="application/json", ua="Go-http-client/2.0", bodyless=True,
            U=["secret/access_token"], B=["hashed_pii/email"],
            note="access_token in the query string; 'Tandkräm Sensitive' is toothpaste, not a special category"))
    add(Scn("m18", "meta", "script", "GET", "https://connect.facebook.net/en_US/fbevents.js",
            referer="https://www.apotek.example.se/produkt/klamydiatest-hemmatest-1-st?email=anna.lindqvist%40example.se",
            note="tag library download, not a hit"))
    add(Scn("m19", "meta", "script", "GET",
            f"https://connect.facebook.net/signals/config/{META_A}?v=2.9.179&r=stable&domain=www.apotek.example.se&hme=&ex_m=70%2C121",
            note="pixel configuration download, not a hit"))
    add(Scn("m20", "meta", "pixel", "GET", f"http://www.facebook.com/tr?id={META_B}&ev=PageView&noscript=1",
            referer="http://www.example.org/", U=["transport/plaintext_http"],
            note="<noscript> pixel over plain http; nothing personal"))
    add(Scn("m21", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 17100, dl="https://www.example.dk/dating/profil/opret",
                     extra=[("ud[ge]", sha256("f")), ("ud[db]", sha256("19870521"))]),
            U=["hashed_pii/gender", "hashed_pii/date_of_birth", "sensitive/sex_life"],
            note="hashed gender and date of birth on a Danish dating-profile page"))
    add(Scn("m22", "meta", "pixel", "GET",
            meta_url(META_A, "InitiateCheckout", MS + 18100, dl="https://www.example.se/kassa",
                     extra=[("cd[fornamn]", "Anna"), ("cd[efternamn]", "Lindqvist"), ("cd[value]", "412.00"),
                            ("cd[currency]", "SEK")]),
            U=["pii/name"], note="plaintext first/last name in Swedish-named custom fields"))
    add(Scn("m23", "meta", "pixel", "GET",
            meta_url(META_A, "AddToCart", MS + 19100, dl="https://www.example.se/foto/minneskort/sd-kort-64gb",
                     extra=[("cd[content_name]", pct("SD-kort 64GB Class 10")), ("cd[content_category]", "Minneskort"),
                            ("cd[value]", "129.00"), ("cd[currency]", "SEK")]),
            note="hard negative: SD-kort is a memory card, not the party SD"))
    add(Scn("m24", "meta", "pixel", "GET",
            meta_url(META_B, "FindLocation", MS + 20100, dl="https://www.example.se/butiker/goteborg-kyrkogatan-12",
                     extra=[("cd[content_name]", pct("Butik Kyrkogatan 12, Göteborg"))]),
            note="hard negative: store on Kyrkogatan (street name), not religion and not a person's address"))
    add(Scn("m25", "meta", "pixel", "GET",
            meta_url(META_A, "Donate", MS + 21100, dl="https://www.example.se/stod-oss/manadsgivare",
                     extra=[("cd[content_name]", pct("Månadsgivare Socialdemokraterna")), ("cd[value]", "100"),
                            ("cd[currency]", "SEK")]),
            U=["sensitive/political"], note="monthly donation to a named party (Socialdemokraterna)"))
    add(Scn("m26", "meta", "pixel", "GET",
            meta_url(META_A, "CompleteRegistration", MS + 22100, dl="https://www.example.no/bli-medlem/fagforbundet/innmelding"),
            U=["sensitive/trade_union"], note="Norwegian union sign-up (Fagforbundet innmelding) in dl"))
    add(Scn("m27", "meta", "pixel", "GET",
            meta_url(META_B, "Bestilling", MS + 23100, dl="https://www.example.dk/shop/dna",
                     extra=[("cd[produkt]", pct("DNA-test til slægtsforskning")), ("cd[value]", "799"), ("cd[currency]", "DKK")]),
            U=["sensitive/genetic"], note="custom event: ancestry DNA test (da)"))
    add(Scn("m28", "meta", "pixel", "GET",
            meta_url(META_A, "Lead", MS + 24100, dl="https://www.example.se/kundservice",
                     extra=[("udff[ct]", sha256("stockholm")), ("udff[zp]", sha256("11122")),
                            ("cudff[em]", "*******%40*****.***"), ("cudff[ct]", "%5E%5E%5E%5E%5E%5E%5E%5E%5E")],
                     es="automatic"),
            U=["hashed_pii/postal_address"], note="hashed city and postcode; cudff[em] is only the masked shape of an e-mail, not an address"))
    add(Scn("m29", "meta", "pixel", "GET",
            meta_url(META_B, "PageView", MS + 25100, dl="https://www.example.com/pricing",
                     extra=[("ud[external_id]", md5("hubspot-contact-88121"))], eid="5f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f",
                     rqm="GET"),
            U=["hashed_pii/external_id"], note="ud[external_id] is a 32-hex (HubSpot-style) identifier; eid is an event id"))
    add(Scn("m30", "meta", "pixel", "GET",
            meta_url(META_A, "Microdata", MS + 26100, dl="https://www.example.se/psykoterapi-online",
                     extra=[("cd[DataLayer]", pct("[]")),
                            ("cd[Meta]", jenc({"title": "Psykoterapi online – KBT vid ångest och depression",
                                               "meta:description": "Träffa en legitimerad psykolog via video."})),
                            ("cd[OpenGraph]", pct("{}")), ("cd[Schema.org]", pct("[]"))]),
            U=["sensitive/health"], note="Microdata event: page title about psychotherapy for anxiety/depression"))
    add(Scn("m31", "meta", "pixel", "GET",
            meta_url(META_A, "PageView", MS + 27100,
                     dl="https://www.example.se/nyhetsbrev/tack?email=anna.lindqvist%40example.se&utm_source=nl"),
            U=["pii/email"], note="plaintext e-mail inside the dl page URL (double-encoded)"))
    add(Scn("m32", "meta", "pixel", "GET", f"https://www.facebook.com/tr?id={META_A}&ev=PageView&noscript=1",
            referer="https://www.apotek.example.se/produkt/klamydiatest?kund=anna.lindqvist%40example.se",
            note="noscript hit whose only sensitive data is in the Referer header: not counted"))
    add(Scn("m33", "meta", "pixel", "GET",
            meta_url(META_B, "PageView", MS + 29100, dl="https://www.example.org/blog/spring-sale",
                     extra=[("fbc", FBC)]),
            note="plain page view with _fbp/_fbc cookies only"))
    add(Scn("m34", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 30100, dl="https://www.example.se/bygg/maskiner/betongvibrator-38mm",
                     extra=[("cd[content_name]", pct("Betongvibrator 38 mm")), ("cd[value]", "2490"), ("cd[currency]", "SEK")]),
            note="hard negative: Betongvibrator is a concrete tool"))
    add(Scn("m35", "meta", "pixel", "GET",
            meta_url(META_B, "AddPaymentInfo", MS + 31100, dl="https://www.example.no/kasse/betaling",
                     extra=[("cd[kontonummer]", pct("NO93 8601 1117 947")), ("cd[value]", "499"), ("cd[currency]", "NOK")]),
            U=["pii/iban"], note="Norwegian IBAN (valid mod-97) in a custom field"))
    add(Scn("m36", "meta", "pixel", "GET",
            meta_url(META_B, "Purchase", MS + 32100, dl="https://www.example.com/checkout/complete",
                     extra=[("cd[order_id]", "4539578763621486"), ("cd[content_ids]", pct(f'["{sha256("SKU-1102")}"]')),
                            ("cd[value]", "19.99"), ("cd[currency]", "USD")]),
            note="hard negative: Luhn-valid 16-digit order id (ungrouped, not a card field) and a hashed product id"))
    add(Scn("m37", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 33100, dl="https://www.example.de/kabel/spdif-optisch-2m",
                     extra=[("cd[content_name]", pct("SPDIF-Kabel optisch 2 m")), ("cd[currency]", "EUR")]),
            note="hard negative: SPDIF cable, not the SPD party"))
    add(Scn("m38", "meta", "pixel", "GET",
            meta_url(META_B, "ViewContent", MS + 34100, dl="https://www.example.fi/leirit/rippikoulu-kesa-2026",
                     extra=[("cd[content_name]", pct("Rippikoulu kesäleiri 2026"))]),
            U=["sensitive/religion"], note="Finnish confirmation camp (rippikoulu)"))
    add(Scn("m39", "meta", "pixel", "GET",
            meta_url(META_A, "Contact", MS + 35100, dl="https://www.example.de/queer/beratung-lgbtiq"),
            U=["sensitive/sex_life"], note="German LGBTIQ counselling page"))
    add(Scn("m40", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 36100, dl="https://www.example.de/ferienhaus/im-gruenen",
                     extra=[("cd[content_name]", pct("Ferienhaus im Grünen am See"))]),
            note="hard negative: 'im Grünen' (in the countryside) is not the Green party"))

    # =====================================================================
    # GOOGLE ANALYTICS 4 / UNIVERSAL ANALYTICS
    # =====================================================================
    add(Scn("g01", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "page_view", "https://www.example.se/mina-sidor/journal/provsvar", "Provsvar – Journalen"),
            U=["sensitive/health"], google=True, note="patient journal test results page (journal/provsvar)"))
    add(Scn("g02", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "login", "https://www.example.se/konto", "Mitt konto", gcs="G100",
                    extra=[("uid", "anna.lindqvist%40example.se")]),
            U=["pii/email", "consent/denied_but_sent"], google=True, gcs_denied=True,
            note="user_id is an e-mail address while gcs=G100 (both storages denied)"))
    add(Scn("g03", "google-analytics", "pixel", "GET",
            ga4_url(GA_B, "purchase", "https://www.example.com/checkout/thanks", "Thanks", gcs="G101", ul="en-us",
                    extra=[("em", f"tv.1~em.{g43(ERIK['em'])}~pn.{g43('+' + ERIK['ph'])}"), ("ec_mode", "a"),
                           ("ep.transaction_id", "T-99120"), ("epn.value", "59")]),
            U=["hashed_pii/email", "hashed_pii/phone", "consent/denied_but_sent"], google=True, gcs_denied=True,
            note="user-provided data em=tv.1~em.~pn. (base64url SHA-256) while ad_storage denied (G101)"))
    add(Scn("g04", "google-analytics", "pixel", "GET",
            ga4_url(GA_B, "sign_up", "https://www.example.com/welcome", "Welcome", gcs="G111", ul="en-us",
                    extra=[("em", f"tv.1~em.{g43(JSMITH['em'])}"), ("ep.method", "email")]),
            U=["hashed_pii/email"], google=True, note="hashed e-mail, consent granted"))
    add(Scn("g05", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "generate_lead", "https://www.example.se/offert/tack", "Tack för din förfrågan", gcs=None,
                    extra=[("ep.telefon", "0701740642"), ("ep.form_id", "offert")]),
            U=["pii/phone"], google=True, note="Swedish mobile in national format without country code in ep.telefon; no consent mode on this site"))
    add(Scn("g06", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "form_submit", "https://www.example.se/kontakt", "Kontakta oss",
                    extra=[("ep.form_data", pct("kontakt=1&email=" + pct("anna.lindqvist@example.se") + "&telefon=0701740618"))]),
            U=["pii/email", "pii/phone"], google=True,
            note="ep.form_data holds a nested form string (kontakt=1&email=...&telefon=...)"))
    g07_body = "\r\n".join([
        "en=view_item&pr1=idA-5531~nmSchwangerschaftstest%20digital%202%20St.~caGesundheit~brExample~pr12.99~qt1&ep.currency=EUR&_et=8",
        "en=add_to_cart&pr1=idA-5531~nmSchwangerschaftstest%20digital%202%20St.~pr12.99~qt1&_et=2311",
    ])
    add(Scn("g07", "google-analytics", "pixel", "POST",
            ga4_url(GA_C, "page_view", "https://www.example.de/shop/drogerie", "Drogerie – Shop", ul="de-de",
                    host="www.google-analytics.com"),
            body=g07_body, ctype="text/plain;charset=UTF-8", bodyless=True, google=True,
            B=["sensitive/health"], note="GA4 batched POST: item name (pregnancy test, de) only in the body lines"))
    g08_body = "\r\n".join(["en=sign_up&ep.method=form&ep.fodelsedatum=1987-05-21&ep.kon=kvinna&_et=12",
                            "en=page_view&_et=4"])
    add(Scn("g08", "google-analytics", "pixel", "POST",
            ga4_url(GA_A, "user_engagement", "https://www.example.se/registrera", "Skapa konto", gcs="G110",
                    host="www.google-analytics.com"),
            body=g08_body, ctype="text/plain;charset=UTF-8", bodyless=True, google=True, gcs_denied=True,
            B=["pii/date_of_birth", "pii/gender"],
            note="date of birth and gender (sv field names) in the batch body while analytics_storage denied (G110)"))
    add(Scn("g09", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "view_search_results", "https://www.example.se/sok?q=klamydia+symptom", "Sök: klamydia symptom",
                    extra=[("ep.search_term", pct("klamydia symptom"))]),
            U=["sensitive/health"], google=True, note="site search for an STI symptom"))
    add(Scn("g10", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "add_shipping_info", "https://www.example.se/kassa/leverans", "Leverans",
                    extra=[("up.Postnummer", "11122"), ("up.POSTORT", "Stockholm")]),
            U=["pii/postal_address"], google=True, note="postcode and city as user properties named for them (sv)"))
    add(Scn("g11", "google-analytics", "pixel", "GET",
            ga4_url(GA_B, "page_view", "https://www.example.com/", "Home", gcs="G100", ul="en-gb"),
            google=True, gcs_denied=True, note="consent denied but nothing personal in the hit: no finding"))
    add(Scn("g12", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "form_submit", "https://www.example.se/bolan/ansok", "Ansök om bolån", host="sgtm.example.se",
                    extra=[("ep.personnummer", "19870521-2382")]),
            vhost=True, U=["pii/national_id"], google=True,
            note="first-party server-side GTM endpoint; personnummer with separator"))
    add(Scn("g13", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "add_payment_info", "https://www.example.se/kassa/betalning", "Betalning",
                    extra=[("ep.kortnummer", "4242424242424242"), ("ep.payment_type", "kort")]),
            U=["pii/payment_card"], google=True, note="ungrouped test card number in a card-named field (kortnummer)"))
    add(Scn("g14", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "page_view", "https://www.example.de/steuern/kirchensteuer-rechner", "Kirchensteuer berechnen",
                    ul="de-de"),
            U=["sensitive/religion"], google=True, note="church-tax calculator page (Kirchensteuer)"))
    add(Scn("g15", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "page_view", "http://www.example.se/", "Startsida", host="sgtm.example.se", scheme="http"),
            vhost=True, U=["transport/plaintext_http"], google=True,
            note="GA4 hit to a first-party tagging server over plain http"))
    add(Scn("g16", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "select_content", "https://www.example.se/medlemskap", "Medlemskap",
                    extra=[("ep.event_label", pct("Bli medlem i IF Metall"))]),
            U=["sensitive/trade_union"], google=True, note="IF Metall membership sign-up click"))
    add(Scn("g17", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "page_view", "https://www.example.se/historia/europeiska-unionen", "Europeiska unionens historia"),
            google=True, note="hard negative: 'Europeiska unionen' is the EU, not the union Unionen"))
    add(Scn("g18", "google-analytics", "pixel", "GET",
            ga4_url(GA_B, "view_item", "https://www.example.com/tickets/metallica-stockholm", "Metallica – tickets", ul="en-us"),
            google=True, note="hard negative: Metallica concert tickets"))
    add(Scn("g19", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "page_view", "https://www.example.fi/liity-jaseneksi/jhl", "Liity JHL:n jäseneksi", ul="fi-fi"),
            U=["sensitive/trade_union"], google=True, note="Finnish union JHL join page"))
    add(Scn("g20", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "view_item", "https://www.example.fi/tuote/raskaustesti-2-kpl", "Raskaustesti 2 kpl", ul="fi-fi",
                    extra=[("pr1", "idF-2201~nmRaskaustesti%202%20kpl~caTerveys~pr8.90~qt1")]),
            U=["sensitive/health"], google=True, note="Finnish pregnancy test product (item tuple pr1)"))
    add(Scn("g21", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "donate", "https://www.example.fi/tue-toimintaa", "Tue toimintaa", ul="fi-fi",
                    extra=[("ep.lahjoitus", "Perussuomalaiset"), ("epn.summa", "20")]),
            U=["sensitive/political"], google=True, note="donation to a named Finnish party"))
    add(Scn("g22", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "generate_lead", "https://www.example.fi/yhteydenotto", "Yhteydenotto", ul="fi-fi",
                    extra=[("ep.sahkoposti_hash", sha256(MATTI["em"])), ("ep.puhelin", "040%201234567")]),
            U=["hashed_pii/email", "pii/phone"], google=True,
            note="Finnish field names: hashed e-mail (sähköposti) and a national-format phone (puhelin)"))
    add(Scn("g23", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "form_submit", "https://www.example.fi/hakemus", "Hakemus", ul="fi-fi",
                    extra=[("ep.hetu", "131052-308T")]),
            U=["pii/national_id"], google=True, note="valid Finnish HETU"))
    add(Scn("g24", "google-analytics", "pixel", "GET",
            ua_url("UA-44120931-1", "pageview", "https://www.example.com/pride/lgbtq-support-groups", "LGBTQ+ support groups near you"),
            U=["sensitive/sex_life"], google=True, note="Universal Analytics page view of LGBTQ+ support groups"))
    add(Scn("g26", "google-analytics", "pixel", "GET",
            ua_url("UA-44120931-1", "pageview", "https://www.example.com/account/verify?email=j.smith%40example.org",
                   "Verify your account", gcs="G100"),
            U=["pii/email", "consent/denied_but_sent"], google=True, gcs_denied=True,
            note="UA hit, e-mail in dl, consent denied (gcs=G100)"))
    add(Scn("g27", "google-analytics", "pixel", "GET",
            ua_url("UA-77310022-3", "event", "http://www.example.se/medlem", "Medlemskap",
                   extra=[("ec", "medlemskap"), ("ea", "klick"), ("el", pct("Kommunal – bli medlem"))], scheme="http"),
            U=["sensitive/trade_union", "transport/plaintext_http"], google=True,
            note="plain-http UA event: joining the union Kommunal"))
    mp28 = {"client_id": "1839204711.1772431200", "user_id": "KUND-448812", "timestamp_micros": (T0 + 40) * 1000000,
            "user_data": {"sha256_email_address": [sha256(ANNA["em"])], "sha256_phone_number": [sha256("+" + ANNA["ph"])],
                          "address": [{"sha256_first_name": sha256("anna"), "sha256_last_name": sha256("lindqvist"),
                                       "city": "stockholm", "postal_code": "11122", "country": "SE"}]},
            "events": [{"name": "purchase", "params": {"transaction_id": "T-55120", "currency": "SEK", "value": 699,
                                                      "items": [{"item_id": "BP-220", "item_name": "Blodtrycksmätare överarm",
                                                                 "item_category": "Egenvård", "price": 699, "quantity": 1}]}}]}
    add(Scn("g28", "google-analytics", "capi", "POST",
            f"https://www.google-analytics.com/mp/collect?measurement_id={GA_A}&api_secret=Zk3pQ_9sLwR2vXy7TnB4aA",
            body=jdump(mp28, 1), ctype="application/json", ua="python-requests/2.32.3", bodyless=True, google=True,
            U=["secret/access_token"],
            B=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/name", "pii/postal_address", "sensitive/health"],
            note="Measurement Protocol: api_secret in the query; user_data hashes plus plaintext city/postal_code; blood-pressure monitor"))
    add(Scn("g29", "google-analytics", "capi", "POST",
            f"https://www.google-analytics.com/mp/collect?measurement_id={GA_B}&api_secret=Qw8Er5Ty2Ui9Op3As6Df1g",
            body=jdump({"client_id": "55120911.1772430000", "events": [{"name": "page_view", "params": {"page_location": "https://www.example.com/"}}]}, 0),
            ctype="application/json", ua="okhttp/4.12.0", google=True, U=["secret/access_token"],
            note="Measurement Protocol with nothing personal; only the api_secret key"))
    add(Scn("g30", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "page_view", "https://www.example.se/oppettider", "Öppettider Kristi himmelsfärd",
                    extra=[("ep.event_label", pct("moderat pris"))]),
            google=True, note="hard negatives: a public holiday name and 'moderat pris' (moderate price)"))
    add(Scn("g31", "google-analytics", "pixel", "GET",
            ga4_url(GA_B, "form_field_change", "https://www.example.com/checkout/payment", "Payment", ul="en-gb",
                    extra=[("ep.field_value", pct("5555 5555 5555 4444"))]),
            U=["pii/payment_card"], google=True, note="grouped Mastercard test number captured from a form field"))
    add(Scn("g32", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "add_payment_info", "https://www.example.se/autogiro", "Autogiro",
                    extra=[("ep.iban", "SE4550000000058398257466")]),
            U=["pii/iban"], google=True, note="Swedish IBAN, no spaces"))
    add(Scn("g33", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "view_item", "https://www.example.se/produkt/kaffe-mellanrost", "Kaffe mellanrost 450 g",
                    extra=[("ep.artikelnummer", "7310865004703"), ("pr1", "id7310865004703~nmKaffe%20mellanrost~pr54.90~qt1")]),
            google=True, note="EAN barcode in an article-number field: not a phone or ID"))
    add(Scn("g34", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "select_content", "https://www.example.de/mitmachen", "Mitmachen", ul="de-de",
                    extra=[("ep.event_label", pct("Mitglied werden bei der CDU"))]),
            U=["sensitive/political"], google=True, note="joining the CDU"))
    add(Scn("g35", "google-analytics", "pixel", "GET",
            ga4_url(GA_A, "page_view", "https://www.example.se/sametinget/rostlangd/anmalan", "Anmälan till samernas röstlängd"),
            U=["sensitive/ethnic_origin"], google=True, note="registering in the Sami electoral roll reveals Sami ethnicity"))
    add(Scn("g36", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "settings_update", "https://www.example.dk/konto/sikkerhed", "Sikkerhed", ul="da-dk",
                    extra=[("ep.event_label", pct("Fingeraftryk registreret til login"))]),
            U=["sensitive/biometric"], google=True, note="fingerprint enrolled for login (da)"))
    add(Scn("g37", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "view_item", "https://www.example.de/konzerte/verdi-requiem", "Verdi: Requiem – Konzertkarten", ul="de-de"),
            google=True, note="hard negative: Verdi's Requiem, not the union ver.di"))

    # =====================================================================
    # GOOGLE ADS
    # =====================================================================
    add(Scn("a01", "google-ads", "pixel", "GET",
            gads_url(f"/pagead/conversion/{AW}/", url="https://www.example.se/kassa/tack", tiba="Tack för din beställning",
                     extra=[("label", "AbC-D_efGhIjKlMn0"), ("value", "499.00"), ("currency_code", "SEK"), ("oid", "ORD1001"),
                            ("em", f"tv.1~em.{g43(ANNA['em'])}"), ("ec_mode", "c")]),
            U=["hashed_pii/email"], google=True, note="enhanced conversion with hashed e-mail, consent granted"))
    add(Scn("a02", "google-ads", "pixel", "GET",
            gads_url(f"/pagead/conversion/{AW}/", gcs="G100", url="https://www.example.se/kassa/tack",
                     tiba="Tack för din beställning",
                     extra=[("label", "AbC-D_efGhIjKlMn0"), ("value", "99.00"), ("currency_code", "SEK"), ("oid", "ORD1002"),
                            ("em", f"tv.1~em.{g43(ERIK['em'])}")]),
            U=["hashed_pii/email", "consent/denied_but_sent"], google=True, gcs_denied=True,
            note="enhanced conversion with hashed e-mail while gcs=G100"))
    add(Scn("a03", "google-ads", "pixel", "GET",
            gads_url(f"/pagead/viewthroughconversion/{AW}/", host="googleads.g.doubleclick.net",
                     url="https://www.example.no/prevensjon/kondomer-12-pk",
                     extra=[("data", pct("event=view_item;ecomm_prodid=K12;ecomm_pagetype=product"))]),
            U=["sensitive/sex_life"], google=True, note="remarketing hit on a Norwegian contraception (condoms) page"))
    add(Scn("a04", "google-ads", "pixel", "GET",
            gads_url(f"/pagead/1p-conversion/{AW}/", host="www.google.com", url="https://www.example.dk/bliv-medlem/kvittering",
                     tiba="Bekræftelse: Indmeldelse i 3F", extra=[("label", "Zx9-Yw8_Vu7"), ("value", "0")]),
            U=["sensitive/trade_union"], google=True, note="Danish union 3F membership confirmation (page title)"))
    gads5 = {"conversions": [{"gclid": "Cj0KCQjw7Z2aBhDUARIsAJ8Qk9dLmN", "conversionAction": "customers/1234567890/conversionActions/665544",
                              "conversionDateTime": "2026-03-02 08:03:00+01:00", "conversionValue": 349.0, "currencyCode": "SEK",
                              "orderId": "ORD-7781",
                              "userIdentifiers": [{"hashedEmail": sha256(ANNA["em"])}, {"hashedPhoneNumber": sha256("+" + ANNA["ph"])}],
                              "consent": {"adUserData": "GRANTED"}}], "partialFailure": True}
    add(Scn("a05", "google-ads", "capi", "POST", "https://googleads.googleapis.com/v19/customers/1234567890:uploadClickConversions",
            body=jdump(gads5, 1), ctype="application/json", ua="gl-python/3.11.7 grpc/1.62.1 gax/2.17.1 gapic/25.1.0",
            headers=[("Authorization", "Bearer ya29.a0AfB_byDq7XkP2mN4vR9sT1uW3yZ5bC8dE0fG"), ("developer-token", "Ab1Cd2Ef3Gh4Ij5Kl6"),
                     ("login-customer-id", "9876543210")],
            B=["hashed_pii/email", "hashed_pii/phone"], H=["secret/access_token"],
            note="Google Ads API uploadClickConversions with userIdentifiers; OAuth bearer only visible in HAR"))
    gads6 = {"conversions": [{"gbraid": "0AAAAAo3xYzT1", "conversionAction": "customers/1234567890/conversionActions/665545",
                              "conversionDateTime": "2026-03-02 08:04:00+01:00", "conversionValue": 1200.0, "currencyCode": "NOK",
                              "userIdentifiers": [{"addressInfo": {"hashedFirstName": sha256("kari"), "hashedLastName": sha256("nordmann"),
                                                                   "city": "Oslo", "postalCode": "0150", "countryCode": "NO"}}]}],
             "partialFailure": True}
    add(Scn("a06", "google-ads", "capi", "POST", "https://googleads.googleapis.com/v19/customers/1234567890:uploadClickConversions",
            body=jdump(gads6, 0), ctype="application/json", ua="google-ads-java/34.0.0",
            headers=[("Authorization", "Bearer ya29.c.b0AXv0zTq9LmN2pQ4rS6tU8vW"), ("developer-token", "Zy9Xw8Vu7Ts6Rq5Po4")],
            B=["hashed_pii/name", "pii/postal_address"], H=["secret/access_token"],
            note="addressInfo: hashed names, plaintext city and postal code"))
    add(Scn("a07", "google-ads", "pixel", "GET",
            f"http://www.googleadservices.com/pagead/conversion/{AW}/?label=AbC-D_efGhIjKlMn0&guid=ON&script=0",
            referer="http://www.example.org/thanks", U=["transport/plaintext_http"], google=True,
            note="noscript conversion image over plain http"))
    add(Scn("a08", "google-ads", "pixel", "GET",
            gads_url(f"/td/rul/{AW}", host="td.doubleclick.net", url="https://www.example.de/spd-mitglied-werden",
                     tiba="Jetzt SPD-Mitglied werden"),
            U=["sensitive/political"], google=True, note="remarketing hit on 'become an SPD member'"))
    add(Scn("a09", "google-ads", "script", "GET",
            "https://www.googletagmanager.com/gtag/js?id=AW-10987654321&l=dataLayer&cx=c&email=anna.lindqvist%40example.se",
            note="tag library download (even with an e-mail in its URL): not a hit"))

    # =====================================================================
    # TIKTOK
    # =====================================================================
    add(Scn("t01", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("ViewContent", "https://www.example.se/produkt/klamydia-gonorre-test",
                                   {"content_id": "A881", "content_name": "Klamydia- och gonorrétest", "content_type": "product",
                                    "value": 349, "currency": "SEK"}, style=0),
            ctype="text/plain;charset=UTF-8", bodyless=True, B=["sensitive/health"],
            note="TikTok pixel JSON body: STI test product and page URL (body only)"))
    add(Scn("t02", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("CompletePayment", "https://www.example.com/order/complete",
                                   {"value": 59, "currency": "USD", "content_type": "product"},
                                   user={"email": sha256(JSMITH["em"]), "phone_number": sha256("+" + JSMITH["ph"]),
                                         "external_id": sha256("cust-9912")}, style=1),
            ctype="text/plain;charset=UTF-8", B=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/external_id"],
            note="advanced matching in context.user"))
    add(Scn("t03", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("SubmitForm", "https://www.example.no/kundeservice",
                                   {"fornavn": "Kari", "efternavn": "Nordmann", "telefon": "41234567"}, style=0),
            ctype="text/plain;charset=UTF-8", B=["pii/name", "pii/phone"],
            note="Norwegian-named properties: first/last name and an 8-digit national mobile number"))
    tt5 = {"event_source": "web", "event_source_id": TT_PIXEL, "test_event_code": None,
           "data": [{"event": "CompletePayment", "event_time": T0 + 60, "event_id": "ord-88120",
                     "user": {"email": sha256(ANNA["em"]), "phone": sha256("+" + ANNA["ph"]),
                              "external_id": sha256(ANNA["xid"]), "ttp": "2dQ1xZ7bMk9vL3aW0pR5yT8uN",
                              "ip": "198.51.100.23", "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8)"},
                     "properties": {"currency": "SEK", "value": 89.0, "content_type": "product",
                                    "contents": [{"content_id": "GT-12", "content_name": "Graviditetstest tidigt besked",
                                                  "price": 89.0, "quantity": 1}]},
                     "page": {"url": "https://www.example.se/kassa/klar"}}]}
    add(Scn("t05", "tiktok", "capi", "POST", "https://business-api.tiktok.com/open_api/v1.3/event/track/",
            body=jdump(tt5, 1), ctype="application/json", ua="python-requests/2.31.0",
            B=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/external_id", "pii/ip_address", "sensitive/health"],
            note="Events API 2.0 (/open_api/v1.3/event/track/); Access-Token header is not in the logs"))
    tt7 = {"pixel_code": TT_PIXEL, "event": "SubmitForm", "event_id": "frm-551", "timestamp": "2026-03-02T07:01:40Z",
           "context": {"user": {"email": METTE["em"], "phone_number": "+45 12 34 56 78"}, "ip": "192.0.2.10",
                       "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
                       "page": {"url": "https://www.example.dk/selvbetjening/kirkeskat-fritagelse"}},
           "properties": {}}
    add(Scn("t07", "tiktok", "capi", "POST", "https://business-api.tiktok.com/open_api/v1.3/pixel/track/",
            body=jdump(tt7, 0), ctype="application/json", ua="node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            B=["pii/email", "pii/phone", "pii/ip_address", "sensitive/religion"],
            note="legacy pixel/track shape with unhashed e-mail and phone; Danish church-tax exemption page"))
    add(Scn("t08", "tiktok", "script", "GET", f"https://analytics.tiktok.com/i18n/pixel/events.js?sdkid={TT_PIXEL}&lib=ttq",
            note="tag library download"))
    add(Scn("t09", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("Pageview", "https://www.example.com/", {}, style=0),
            ctype="text/plain;charset=UTF-8", note="page view with an anonymous id only"))
    add(Scn("t10", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("Search", "https://www.example.de/suche?q=kondome", {"query": "Kondome bestellen"}, style=1),
            ctype="text/plain;charset=UTF-8", B=["sensitive/sex_life"], note="search for condoms (de)"))
    add(Scn("t11", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("Pageview", "https://www.example.se/bekrafta?email=anna.lindqvist%40example.se&token=88", {}, style=0),
            ctype="text/plain;charset=UTF-8", B=["pii/email"], note="e-mail in the page URL inside the JSON body"))
    add(Scn("t12", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("AddPaymentInfo", "https://www.example.se/kassa/betalning",
                                   {"kortnummer": "4242424242424242", "value": 412}, style=0),
            ctype="text/plain;charset=UTF-8", B=["pii/payment_card"], note="ungrouped card number in a property named for it"))
    add(Scn("t13", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("ViewContent", "https://www.example.no/vesker/skulderveske",
                                   {"content_name": "Skulderveske med lomme på venstre side", "value": 599, "currency": "NOK"}, style=0),
            ctype="text/plain;charset=UTF-8", note="hard negative: 'venstre side' = left side, not the party Venstre"))
    tt14 = {"event_source": "web", "event_source_id": TT_PIXEL, "partner_name": "GoogleTagManager",
            "data": [{"event": "CompletePayment", "event_time": T0 + 61,
                      "user": {"email": sha256(KARI["em"]), "ip": "198.51.100.61"},
                      "properties": {"contents": [{"content_name": "Graviditetstest"}]}}]}
    add(Scn("t14", "tiktok", "capi", "POST", "https://business-api.tiktok.com/open_api/v1.3/event/track/",
            body=jdump(tt14, 0), ctype="application/json", ua="Go-http-client/2.0", zeek_trunc=100, BZ=[],
            only=["zeek", "zeekjson", "nginx", "har"],
            B=["hashed_pii/email", "pii/ip_address", "sensitive/health"],
            note="Events API body; in Zeek the post_body is cut at 100 bytes before any identity or product"))

    # =====================================================================
    # SNAP
    # =====================================================================
    snap1 = {"ctx": {"url": "https://www.example.com/account/created", "ua": "Mozilla/5.0", "sdkv": "1.2.0", "cm": 1},
             "req": [{"t": {"pid": SNAP_PID, "ev": "SIGN_UP", "u_hem": "FFF" + sha256(JSMITH["em"]),
                            "u_c1": "f3a1b2c4-d5e6-47f8-9a0b-1c2d3e4f5a6b", "u_sclid": "", "gat": ["G-H3LP9W2ZQ1"]}, "del": 198}]}
    add(Scn("s01", "snap", "pixel", "POST", "https://tr.snapchat.com/p", body=jdump(snap1, 0), ctype="text/plain",
            B=["hashed_pii/email"], note="Snap pixel JSON: u_hem is 'FFF' + SHA-256"))
    add(Scn("s02", "snap", "pixel", "GET",
            "https://tr.snapchat.com/p?" + qs([("pid", SNAP_PID), ("ev", "PURCHASE"), ("pl", pct("https://shop.example.no/produkter/graviditetstest-digital")),
                                               ("ts", str(MS + 70100)), ("rf", ""), ("v", "1.5"), ("u_hem", sha256(KARI["em"])),
                                               ("u_hpn", sha256(KARI["ph"])), ("e_ic", "Helse"), ("e_pr", "149"), ("e_cur", "NOK"),
                                               ("e_tid", "NO-4411")]),
            U=["hashed_pii/email", "hashed_pii/phone", "sensitive/health"], note="legacy Snap GET with u_hem/u_hpn and a pregnancy test page"))
    add(Scn("s03", "snap", "pixel", "GET",
            "https://tr.snapchat.com/p?" + qs([("pid", SNAP_PID), ("ev", "PAGE_VIEW"), ("pl", pct("https://www.example.com/")),
                                               ("ts", str(MS + 71100)), ("v", "1.5"), ("u_hem", "FFF" + PH_NULL)]),
            note="u_hem is the hash of 'null': placeholder"))
    snap4 = {"pixel_id": SNAP_PID, "event_type": "PURCHASE", "event_conversion_type": "WEB", "timestamp": str(MS + 72100),
             "hashed_email": sha256(ANNA["em"]), "hashed_phone_number": sha256(ANNA["ph"]),
             "hashed_ip_address": sha256("203.0.113.5"), "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X)",
             "page_url": "https://www.example.se/kassa/klar", "item_category": "Självtester", "description": "Klamydiatest",
             "price": "199", "currency": "SEK", "transaction_id": "SE-77120"}
    add(Scn("s04", "snap", "capi", "POST", "https://tr.snapchat.com/v2/conversion", body=jdump(snap4, 1),
            ctype="application/json", ua="axios/1.7.2",
            headers=[("Authorization", "Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6IkNhbnZhc1MyU0hNQUNQcm9kIn0.eyJhdWQiOiJjYW52YXMtY2FudmFzYXBpIn0.dGhpc2lzbm90YXJlYWx0b2tlbg")],
            B=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/ip_address", "sensitive/health"], H=["secret/access_token"],
            also=["har"], note="Snap CAPI v2: hashed e-mail, phone and IP; chlamydia test"))
    snap5 = {"data": [{"event_name": "SIGN_UP", "event_time": T0 + 73, "action_source": "WEB",
                       "event_source_url": "https://www.example.se/bli-medlem/unionen",
                       "user_data": {"em": [sha256(ERIK["em"])], "ph": [sha256(ERIK["ph"])],
                                     "client_ip_address": "198.51.100.77", "client_user_agent": "Mozilla/5.0 (Windows NT 10.0)"},
                       "custom_data": {"sign_up_method": "form"}}]}
    add(Scn("s05", "snap", "capi", "POST",
            f"https://tr.snapchat.com/v3/{SNAP_PID}/events?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXBpIn0.c2VjcmV0dG9rZW4",
            body=jdump(snap5, 0), ctype="application/json", ua="python-requests/2.32.3", bodyless=True,
            U=["secret/access_token"], B=["hashed_pii/email", "hashed_pii/phone", "pii/ip_address", "sensitive/trade_union"],
            note="Snap CAPI v3 with access_token in the query (as documented); joining the union Unionen"))
    add(Scn("s06", "snap", "script", "GET", "https://sc-static.net/scevent.min.js", note="tag library download"))

    # =====================================================================
    # PINTEREST
    # =====================================================================
    add(Scn("p01", "pinterest", "pixel", "GET",
            "https://ct.pinterest.com/v3/?" + qs([("event", "checkout"),
                                                  ("ed", jenc({"value": 249, "order_quantity": 1, "currency": "SEK",
                                                               "line_items": [{"product_name": "Ägglossningstest 20 st", "product_id": "OV-20",
                                                                               "product_price": 249, "product_quantity": 1}]})),
                                                  ("tid", PIN_TID), ("pd", jenc({"em": sha256(ANNA["em"])})),
                                                  ("ad", jenc({"loc": "https://www.example.se/kassa/klar", "ref": "", "if": False, "sh": 1080, "sw": 1920})),
                                                  ("cb", str(MS + 80100))]),
            U=["hashed_pii/email", "sensitive/health"], note="Pinterest tag: hashed pd.em and an ovulation test line item"))
    add(Scn("p02", "pinterest", "pixel", "GET",
            "https://ct.pinterest.com/user/?" + qs([("tid", PIN_TID), ("pd", jenc({"em": sha256(KARI["em"])})),
                                                    ("cb", str(MS + 81100)), ("dep", "2%2CPAGE_LOAD")]),
            U=["hashed_pii/email"], note="user sync with hashed e-mail"))
    add(Scn("p03", "pinterest", "pixel", "GET",
            "https://ct.pinterest.com/v3/?" + qs([("event", "pagevisit"), ("tid", PIN_TID), ("pd", jenc({"em": KARI["em"]})),
                                                  ("ad", jenc({"loc": "https://www.example.no/", "ref": ""})), ("cb", str(MS + 82100))]),
            U=["pii/email"], note="pd.em sent unhashed"))
    pin4 = {"data": [{"event_name": "checkout", "action_source": "web", "event_time": T0 + 83, "event_id": "NO-9911",
                      "event_source_url": "https://www.example.no/kasse/ferdig",
                      "user_data": {"em": [sha256(KARI["em"])], "ph": [sha256(KARI["ph"])], "external_id": [sha256("NO-CUST-771")],
                                    "client_ip_address": "2001:db8:85a3::8a2e:370:7334", "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
                      "custom_data": {"currency": "NOK", "value": "299", "content_ids": ["A1"], "num_items": 1, "order_id": "NO-9911"}}]}
    add(Scn("p04", "pinterest", "capi", "POST", "https://api.pinterest.com/v5/ad_accounts/549755885175/events",
            body=jdump(pin4, 2), ctype="application/json", ua="pinterest-sdk-python/0.2.4",
            headers=[("Authorization", "Bearer pina_AMAZXZWWAAAAAGQAAQA2ADQLbXkqRdLrcpE4ytGTJ5J1zU")],
            B=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/external_id", "pii/ip_address"], H=["secret/access_token"],
            also=["har"], note="Pinterest Conversions API v5 with an IPv6 client address"))
    pin5 = {"data": [{"event_name": "lead", "action_source": "web", "event_time": T0 + 84,
                      "user_data": {"em": [sha256(ERIK["em"])], "client_user_agent": "Mozilla/5.0"}}]}
    add(Scn("p05", "pinterest", "capi", "POST",
            "https://api.pinterest.com/v5/ad_accounts/549755885175/events?access_token=pina_AMAV2XYAAAAAGQAAQA2AHx7pLrQ",
            body=jdump(pin5, 0), ctype="application/json", ua="Go-http-client/1.1", bodyless=True,
            U=["secret/access_token"], B=["hashed_pii/email"], note="conversion token placed in the query string"))
    add(Scn("p06", "pinterest", "script", "GET", "https://s.pinimg.com/ct/core.js", note="tag library download"))
    add(Scn("p07", "pinterest", "pixel", "GET",
            "https://ct.pinterest.com/v3/?" + qs([("event", "search"), ("tid", PIN_TID),
                                                  ("ed", jenc({"search_query": "Kirkenes hotell"})), ("cb", str(MS + 85100))]),
            note="hard negative: Kirkenes is a town"))
    add(Scn("p08", "pinterest", "pixel", "GET",
            "https://ct.pinterest.com/v3/?" + qs([("event", "addtocart"), ("tid", PIN_TID),
                                                  ("ed", jenc({"value": 14.5, "currency": "GBP",
                                                               "line_items": [{"product_name": "Hair braids clip-in, 3 pack"}]})),
                                                  ("cb", str(MS + 86100))]),
            note="hard negative: 'braids' contains the letters of a health term"))

    # =====================================================================
    # LINKEDIN
    # =====================================================================
    add(Scn("l01", "linkedin", "pixel", "GET",
            f"https://px.ads.linkedin.com/collect?v=2&fmt=js&pid={LI_PID}&time={MS + 90100}&url=https%3A%2F%2Fwww.example.se%2Fkarriar",
            note="Insight tag page visit, nothing personal"))
    add(Scn("l02", "linkedin", "pixel", "GET",
            f"https://px.ads.linkedin.com/collect?v=2&fmt=js&pid={LI_PID}&time={MS + 91100}&conversionId=15512309"
            f"&url={pct('https://www.example.de/verdi-mitglied-werden/beitrittserklaerung')}",
            U=["sensitive/trade_union"], note="ver.di membership application page"))
    wa3 = {"pids": [int(LI_PID)], "scriptVersion": 215, "time": MS + 92100, "domain": "example.no",
           "url": "https://www.example.no/psykisk-helse/time-hos-psykolog", "pageTitle": "Bestill time hos psykolog",
           "websiteSignalRequestId": "0e8d1c2b-3a4f-4e5d-8c7b-6a5f4e3d2c1b", "liFatId": "", "liGiant": "",
           "misc": {"psbState": -4}, "isLinkedInApp": False, "hem": None, "signalType": "PAGE_VISIT"}
    add(Scn("l03", "linkedin", "pixel", "POST", "https://px.ads.linkedin.com/wa/", body=jdump(wa3, 0), ctype="text/plain;charset=UTF-8",
            bodyless=True, B=["sensitive/health"], note="/wa/ JSON: booking a psychologist (no)"))
    wa4 = dict(wa3, url="https://www.example.com/webinar/registered", pageTitle="You're registered", hem=sha256(JSMITH["em"]),
               time=MS + 93100, domain="example.com")
    add(Scn("l04", "linkedin", "pixel", "POST", "https://px.ads.linkedin.com/wa/", body=jdump(wa4, 1), ctype="text/plain;charset=UTF-8",
            B=["hashed_pii/email"], note="/wa/ with hem (hashed e-mail)"))
    li5 = {"conversion": "urn:lla:llaPartnerConversion:15512309", "conversionHappenedAt": MS + 94100,
           "conversionValue": {"currencyCode": "EUR", "amount": "120.0"},
           "user": {"userIds": [{"idType": "SHA256_EMAIL", "idValue": sha256(MATTI["em"])}],
                    "userInfo": {"firstName": "Matti", "lastName": "Virtanen", "companyName": "Esimerkki Oy",
                                 "title": "Hankintapäällikkö", "countryCode": "FI"}},
           "eventId": "fi-lead-4411"}
    add(Scn("l05", "linkedin", "capi", "POST", "https://api.linkedin.com/rest/conversionEvents", body=jdump(li5, 1),
            ctype="application/json", ua="Apache-HttpClient/5.3 (Java/17.0.10)",
            headers=[("Authorization", "Bearer AQXdSP_W41_UPs5ioT_t8HESyODB4FqbkJ8LrV_5mff4gPODzOYR"),
                     ("LinkedIn-Version", "202502"), ("X-Restli-Protocol-Version", "2.0.0")],
            B=["hashed_pii/email", "pii/name"], H=["secret/access_token"],
            also=["har"], note="LinkedIn Conversions API: SHA256_EMAIL userId and plaintext userInfo names"))
    li6 = {"elements": [
        {"conversion": "urn:lla:llaPartnerConversion:15512310", "conversionHappenedAt": MS + 95100,
         "user": {"userIds": [{"idType": "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "idValue": "5c1e8a2b-9d3f-4e7a-b6c0-2f1d3e4a5b6c"}]},
         "eventId": "b-1"},
        {"conversion": "urn:lla:llaPartnerConversion:15512310", "conversionHappenedAt": MS + 95200,
         "user": {"userIds": [{"idType": "SHA256_EMAIL", "idValue": sha256(ERIK["em"])}]}, "eventId": "b-2"}]}
    add(Scn("l06", "linkedin", "capi", "POST", "https://api.linkedin.com/rest/conversionEvents", body=jdump(li6, 0),
            ctype="application/json", ua="python-requests/2.32.3",
            headers=[("Authorization", "Bearer AQVm3x9Kp2LwQ8rT5yU1iO4pA7sD0fG3hJ6kL9zX"), ("X-RestLi-Method", "BATCH_CREATE"),
                     ("LinkedIn-Version", "202502")],
            B=["hashed_pii/email"], H=["secret/access_token"], note="batch create: one element with a hashed e-mail"))
    li7 = {"conversion": "urn:lla:llaPartnerConversion:15512311", "conversionHappenedAt": MS + 96100,
           "user": {"userIds": [{"idType": "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "idValue": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"}]},
           "eventId": "q-77"}
    add(Scn("l07", "linkedin", "capi", "POST",
            "https://api.linkedin.com/rest/conversionEvents?oauth2_access_token=AQUk8mN2pQ5rS7tU9vW1xY3zA5bC7dE9fG",
            body=jdump(li7, 0), ctype="application/json", ua="curl/8.5.0", bodyless=True,
            U=["secret/access_token"], note="access token in the query; body carries only a first-party tracking UUID"))
    add(Scn("l08", "linkedin", "script", "GET", "https://snap.licdn.com/li.lms-analytics/insight.min.js", note="tag library download"))
    add(Scn("l09", "linkedin", "pixel", "GET",
            f"https://px.ads.linkedin.com/attribution_trigger?pid={LI_PID}&time={MS + 97100}&url=https%3A%2F%2Fwww.example.fi%2F",
            note="attribution trigger with nothing personal"))

    # =====================================================================
    # MICROSOFT UET
    # =====================================================================
    def uet(extra, evt="pageLoad", scheme="https", p=None, tl=None, ts=0):
        pairs = [("ti", UET_TI), ("tm", "gtm002"), ("Ver", "2"), ("mid", "8f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8"),
                 ("bo", "1"), ("sid", "4a1b2c30f10e11f0a9b8c7d6e5f4a3b2"), ("vid", "4a1b3e70f10e11f0b1c2d3e4f5a6b7c8"),
                 ("vids", "0"), ("msclkid", "N"), ("uach", pct("pv=15.0.0")), ("pi", "918639831"), ("lg", "sv-SE"),
                 ("sw", "1920"), ("sh", "1080"), ("sc", "24")]
        if tl:
            pairs.append(("tl", pct(tl)))
        if p:
            pairs += [("p", pct(p)), ("r", "")]
        pairs += [("evt", evt)] + list(extra) + [("sv", "1"), ("cdb", "AQAQ"), ("rn", str(311250 + ts))]
        return f"{scheme}://bat.bing.com/action/0?{qs(pairs)}"

    add(Scn("u01", "microsoft-uet", "pixel", "GET",
            uet([], p="https://www.example.de/schwangerschaft/frauenarzt-termin", tl="Frauenarzt: Termin buchen", ts=1),
            U=["sensitive/health"], note="gynaecologist appointment page"))
    add(Scn("u02", "microsoft-uet", "pixel", "GET",
            uet([("ec", "lead"), ("ea", "submit"), ("el", "anna.lindqvist%40example.se"), ("ev", "0")], evt="custom",
                p="https://www.example.se/kontakt", ts=2),
            U=["pii/email"], note="custom event label holds an e-mail address"))
    add(Scn("u03", "microsoft-uet", "pixel", "GET",
            uet([("gv", "412.00"), ("gc", "SEK"), ("prodid", "A-1001"), ("pagetype", "purchase")], evt="custom",
                p="https://www.example.se/kassa/tack", tl="Tack!", ts=3),
            note="purchase revenue only"))
    add(Scn("u04", "microsoft-uet", "pixel", "GET",
            uet([], p="https://www.example.se/bli-medlem/kommunal", tl="Bli medlem i Kommunal", ts=4),
            U=["sensitive/trade_union"], note="joining the union Kommunal"))
    add(Scn("u05", "microsoft-uet", "pixel", "GET",
            uet([], p="https://www.example.se/forskola/kommunal-forskola-solna", tl="Kommunal förskola i Solna", ts=5),
            note="hard negative: 'kommunal förskola' = municipal preschool"))
    uet6 = {"data": [{"eventType": "custom", "eventId": "ord-66120", "eventName": "purchase", "eventTime": T0 + 105,
                      "eventSourceUrl": "https://www.example.de/kasse/danke", "adStorageConsent": "G",
                      "userData": {"em": sha256(JONAS["em"]), "ph": sha256(JONAS["ph"]), "clientIpAddress": "203.0.113.99",
                                   "clientUserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "msclkid": "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6-1"},
                      "customData": {"eventCategory": "checkout", "value": 89.9, "currency": "EUR", "transactionId": "DE-66120",
                                     "itemIds": ["K-01"]}}],
            "continueOnValidationError": True}
    add(Scn("u06", "microsoft-uet", "capi", "POST", f"https://capi.uet.microsoft.com/v1/{UET_TI}/events", body=jdump(uet6, 1),
            ctype="application/json", ua="python-requests/2.32.3",
            headers=[("Authorization", "Bearer UETcapi.7f3a9c2e1d4b6a8f0e2c4a6b8d0f2e4a")],
            B=["hashed_pii/email", "hashed_pii/phone", "pii/ip_address"], H=["secret/access_token"],
            also=["har"], note="UET Conversions API: hashed em/ph and a client IP"))
    uet7 = {"data": [{"eventType": "pageLoad", "eventTime": T0 + 106, "eventSourceUrl": "https://www.example.de/gemeinde/spenden",
                      "pageTitle": "Moschee-Spende zum Freitagsgebet",
                      "userData": {"anonymousId": "a9b8c7d6-e5f4-4321-8765-0fedcba98765"}}]}
    add(Scn("u07", "microsoft-uet", "capi", "POST", f"https://capi.uet.microsoft.com/v1/{UET_TI}/events", body=jdump(uet7, 0),
            ctype="application/json", ua="node-fetch/3.3.2",
            headers=[("Authorization", "Bearer UETcapi.1b2c3d4e5f60718293a4b5c6d7e8f901")],
            B=["sensitive/religion"], H=["secret/access_token"], note="mosque donation page title, anonymous id only"))
    add(Scn("u08", "microsoft-uet", "script", "GET", "https://bat.bing.com/bat.js", note="tag library download"))
    add(Scn("u09", "microsoft-uet", "pixel", "GET", uet([], scheme="http", p="http://www.example.com/", tl="Home", ts=9),
            U=["transport/plaintext_http"], note="UET page load over plain http"))
    add(Scn("u10", "microsoft-uet", "pixel", "GET",
            uet([], p="https://www.example.fi/kirkkonummi/asunnot", tl="Asunnot Kirkkonummi", ts=10),
            note="hard negative: Kirkkonummi is a town"))

    # =====================================================================
    # X / TWITTER
    # =====================================================================
    def xurl(host, events, doc, extra=()):
        pairs = [("bci", "3"), ("dv", pct("Europe/Stockholm&sv-SE&Google Inc.&Win32&255&1920&1080&24&24&1920&1040&0&na")),
                 ("eci", "2"), ("event_id", "8d7c6b5a-4e3f-4a2b-9c1d-0e9f8a7b6c5d"), ("events", pct(events)),
                 ("integration", "advertiser"), ("p_id", "Twitter"), ("p_user_id", "0"), ("pl_id", "3f2e1d0c-9b8a-4776-b5a4-c3b2a1f0e9d8"),
                 ("tw_document_href", pct(doc)), ("tw_iframe_status", "0")] + list(extra) + [
                 ("txn_id", X_PIXEL), ("type", "javascript"), ("version", "2.3.31")]
        path = "/i/adsct" if host == "t.co" else "/1/i/adsct"
        return f"https://{host}{path}?{qs(pairs)}"

    add(Scn("x01", "x", "pixel", "GET", xurl("t.co", '[["pageview",{}]]', "https://www.example.com/"), note="page view, nothing personal"))
    add(Scn("x02", "x", "pixel", "GET", xurl("analytics.twitter.com", '[["pageview",{}]]', "https://www.example.com/"),
            group="x01", note="second beacon of the X pair, nothing personal"))
    ev3 = '[["purchase",{"value":"59.00","currency":"USD","email_address":"' + sha256(JSMITH["em"]) + '","conversion_id":"T-99120"}]]'
    add(Scn("x03a", "x", "pixel", "GET", xurl("t.co", ev3, "https://www.example.com/checkout/thank-you",
                                              extra=[("tw_sale_amount", "59"), ("tw_order_quantity", "1")]),
            U=["hashed_pii/email"], note="X purchase event with a hashed email_address in the events JSON"))
    add(Scn("x03b", "x", "pixel", "GET", xurl("analytics.twitter.com", ev3, "https://www.example.com/checkout/thank-you",
                                              extra=[("tw_sale_amount", "59"), ("tw_order_quantity", "1")]),
            group="x03a", U=["hashed_pii/email"],
            note="the paired analytics.twitter.com beacon is a separate request to X (the twin rule is Meta's only)"))
    add(Scn("x04", "x", "pixel", "GET", xurl("t.co", '[["pageview",{}]]', "https://www.example.co.uk/join/labour-party-membership"),
            U=["sensitive/political"], note="joining the Labour Party"))
    x5 = {"conversions": [{"conversion_time": "2026-03-02T07:02:00.000Z", "event_id": f"tw-{X_PIXEL}-o87ne",
                           "identifiers": [{"twclid": "23opevjt88psuo13lu8d020qkn"}, {"hashed_email": sha256(JSMITH["em"])},
                                           {"hashed_phone_number": sha256(JSMITH["ph"])},
                                           {"ip_address": "198.51.100.14", "user_agent": "Mozilla/5.0 (Macintosh)"}],
                           "value": "99.00", "price_currency": "USD", "number_items": 1, "conversion_id": "US-99871",
                           "contents": [{"content_id": "DNA-1", "content_name": "Ancestry DNA test kit", "content_price": 99.0, "num_items": 1}]}]}
    add(Scn("x05", "x", "capi", "POST", f"https://ads-api.x.com/12/measurement/conversions/{X_PIXEL}", body=jdump(x5, 1),
            ctype="application/json", ua="twurl/0.9.7",
            B=["hashed_pii/email", "hashed_pii/phone", "pii/ip_address", "sensitive/genetic"],
            note="X Conversions API identifiers; DNA test kit"))
    add(Scn("x06", "x", "script", "GET", "https://static.ads-twitter.com/uwt.js", note="tag library download"))

    # =====================================================================
    # REDDIT
    # =====================================================================
    def rdt(event, extra=(), ts=0):
        pairs = [("ts", str(MS + 110100 + ts)), ("id", RDT), ("event", event)] + list(extra) + [
            ("uuid", "1772430012345.4f6e2a1b-9c8d-4e7f-a6b5-c4d3e2f1a0b9"), ("aaid", ""), ("idfa", ""),
            ("integration", "reddit"), ("opt_out", "0"), ("sh", "1080"), ("sw", "1920"), ("v", "rdt_5a7c2e9d")]
        return "https://alb.reddit.com/rp.gif?" + qs(pairs)

    add(Scn("r01", "reddit", "pixel", "GET", rdt("PageVisit", [("em", ""), ("external_id", "")]), note="page visit, empty match keys"))
    add(Scn("r02", "reddit", "pixel", "GET",
            rdt("Purchase", [("m.itemCount", "1"), ("m.value", "7.99"), ("m.valueDecimal", "7.99"), ("m.currency", "EUR"),
                             ("m.products", jenc([{"id": "K12", "name": "Kondome 12er Packung", "category": "Verhütung"}])),
                             ("em", sha256(JONAS["em"]))], ts=1),
            U=["hashed_pii/email", "sensitive/sex_life"], note="condom purchase with hashed e-mail match key"))
    add(Scn("r03", "reddit", "pixel", "GET", rdt("SignUp", [("em", PH_EMPTY), ("external_id", PH_UNDEF)], ts=2),
            note="placeholder hashes only (empty string, 'undefined')"))
    r4 = {"test_mode": False, "events": [{"event_at": "2026-03-02T07:03:00Z", "event_type": {"tracking_type": "SignUp"},
                                          "click_id": "t2_abc123_xyz", "event_metadata": {"conversion_id": "su-5512", "currency": "USD", "value_decimal": 0},
                                          "user": {"email": sha256(JSMITH["em"]), "external_id": sha256("u-8812"),
                                                   "ip_address": sha256("198.51.100.31"), "user_agent": "Mozilla/5.0",
                                                   "uuid": "1772430012345.4f6e2a1b-9c8d-4e7f-a6b5-c4d3e2f1a0b9"}}]}
    add(Scn("r04", "reddit", "capi", "POST", "https://ads-api.reddit.com/api/v2.0/conversions/events/t2_fk29x7q1", body=jdump(r4, 0),
            ctype="application/json", ua="python-requests/2.32.3",
            headers=[("Authorization", "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIn0.eyJzdWIiOiJ0Ml9mazI5In0.sig")],
            B=["hashed_pii/email", "hashed_pii/external_id", "hashed_pii/ip_address"], H=["secret/access_token"],
            note="Reddit CAPI v2.0: hashed email, external_id and ip_address"))
    r5 = {"data": {"events": [{"event_at": MS + 112100, "action_source": "WEBSITE", "type": {"tracking_type": "PURCHASE"},
                               "metadata": {"conversion_id": "don-7741", "currency": "USD", "value": 50,
                                            "products": [{"id": "RAM-26", "name": "Mosque donation – Ramadan appeal", "category": "Donations"}]},
                               "user": {"email": JSMITH["em"], "phone_number": "+1 202 555 0173", "ip_address": "198.51.100.55"}}]}}
    add(Scn("r05", "reddit", "capi", "POST", f"https://ads-api.reddit.com/api/v3/pixels/{RDT}/conversion_events", body=jdump(r5, 1),
            ctype="application/json", ua="undici",
            headers=[("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJhY2NvdW50IjoiYTJfZmsyOSJ9.c2ln")],
            B=["pii/email", "pii/phone", "pii/ip_address", "sensitive/religion"], H=["secret/access_token"],
            also=["har"], note="Reddit CAPI v3 with unhashed user fields; mosque donation"))
    add(Scn("r06", "reddit", "script", "GET", "https://www.redditstatic.com/ads/pixel.js", note="tag library download"))

    # =====================================================================
    # AMAZON
    # =====================================================================
    add(Scn("z01", "amazon", "pixel", "GET",
            f"https://s.amazon-adsystem.com/iu3?pid={AMZ_TAG}&event=PageView&eventSource=gtm-server-side&ts={MS + 120100}",
            note="Amazon ad tag page view"))
    add(Scn("z02", "amazon", "pixel", "GET",
            f"https://aax-eu.amazon-adsystem.com/s/iu3?pid={AMZ_TAG}&event=Off-AmazonPurchases&ts={MS + 121100}&currencyCode=EUR"
            f"&value=14.99&unitsSold=1&attr1=Schwangerschaftstest_digital&MATCH_ID=KD-44812&gdpr=1&gdpr_pd=1",
            U=["sensitive/health"], note="purchase attribute names a pregnancy test; MATCH_ID is a plain customer number"))
    env3 = {"gdpr": 1, "gdprConsent": "CQHk1QAQHk1QAAKA1AENBaFsAP_gAEPgAAqIKXNV_G__bWlr8X73aftkeY1P9_h77sQxBhfJE-4FzLvW_JwXx2E5NAzatqIKmRIAu3TBIQNlHJDURVCgaogVryDMaEyUoTNKJ6BkiFMRI2dYCFxvm4tjeQCY5vr991dx2B-t7dr83dzyy4hHn3a5_2S1WJCdAYetDfv9bROb-9IOd_x8v4v4_F_pE2_eT1l_tWvp7D9-cts7_XW89_fff_9Ln_-uB_-_3_vBIQAkw0KiAMsiQkINAwggQAqCsICKBAAAACQNEBACYMCnYGAS6wkQAgBQADBACAAEGQAIAABIAEIgAkAPBAABAIBAAAAAAAAAAQAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "hashedRecords": [{"type": "email", "record": sha256(JONAS["em"])}, {"type": "phonenumber", "record": sha256(JONAS["ph"])}],
            "ttl": 9600, "amazonConsentString": {"geo": {"ipAddress": "203.0.113.44"},
                                                  "consent": {"amazonConsentFormat": {"amzn_ad_storage": "GRANTED", "amzn_user_data": "GRANTED"}}}}
    add(Scn("z03", "amazon", "pixel", "POST", "https://tk.amazon-adsystem.com/envelope", body=jdump(env3, 0), ctype="application/json",
            ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
            B=["hashed_pii/email", "hashed_pii/phone", "pii/ip_address"],
            note="Amazon identity-token request: hashed e-mail and phone, plaintext IP for geo consent"))
    ev4 = {"eventData": [{"name": "Checkout", "eventType": "OFF_AMAZON_PURCHASES", "eventActionSource": "WEBSITE", "countryCode": "DE",
                          "timestamp": "2026-03-02T07:04:00.000Z", "value": 34.9, "currencyCode": "EUR", "unitsSold": 1,
                          "clientDedupeId": "de-ord-88120",
                          "matchKeys": [{"type": "EMAIL", "values": [sha256(JONAS["em"])]}, {"type": "PHONE", "values": [sha256(JONAS["ph"])]},
                                        {"type": "FIRST_NAME", "values": [sha256("jonas")]}, {"type": "POSTAL", "values": [sha256("10115")]}],
                          "consent": {"geo": {"ipAddress": "192.0.2.77"}, "amazonConsent": {"amznAdStorage": "GRANTED", "amznUserData": "GRANTED"}},
                          "customAttributes": [{"name": "produkt", "dataType": "STRING", "value": "Blutzuckermessgerät Starter-Set"}]}],
           "ingestionMethod": "SERVER_TO_SERVER"}
    add(Scn("z04", "amazon", "capi", "POST", "https://advertising-api-eu.amazon.com/events/v1", body=jdump(ev4, 2),
            ctype="application/json", ua="Java/17.0.10",
            headers=[("Authorization", "Bearer Atza|IwEBIJ3kQm9xPz7LrT5yU1iO4pA7sD0fG3hJ6kL9zXcVbNm"),
                     ("Amazon-Ads-AccountId", "amzn1.ads-account.g.7x2k9q1m"), ("Amazon-Advertising-API-ClientId", "amzn1.application-oa2-client.4f1e")],
            B=["hashed_pii/email", "hashed_pii/phone", "hashed_pii/name", "hashed_pii/postal_address", "pii/ip_address", "sensitive/health"],
            H=["secret/access_token"], note="Amazon Events API: typed matchKeys (EMAIL, PHONE, FIRST_NAME, POSTAL); blood-glucose meter"))
    ev5 = {"eventData": [{"name": "PageView", "eventType": "PAGE_VIEW", "eventActionSource": "WEBSITE", "countryCode": "SE",
                          "timestamp": "2026-03-02T07:04:30.000Z", "matchKeys": [{"type": "MATCH_ID", "values": ["KD-44812"]}]}],
           "ingestionMethod": "SERVER_TO_SERVER"}
    add(Scn("z05", "amazon", "capi", "POST", "https://advertising-api-eu.amazon.com/events/v1", body=jdump(ev5, 0),
            ctype="application/json", ua="Java/17.0.10",
            headers=[("Authorization", "Bearer Atza|IwEBIK7pLmN2qR4sT6uV8wX0yZ2aB4cD6eF8gH")],
            H=["secret/access_token"], also=["har"], note="only an advertiser MATCH_ID; the bearer token is visible in HAR"))

    # =====================================================================
    # CRITEO
    # =====================================================================
    add(Scn("c01", "criteo", "pixel", "GET",
            criteo_url(["e=exd&site_type=d", "e=vh", f"e=ce&m=[{sha256(ANNA['em'])}]", "e=dis"], "https://www.example.se/"),
            U=["hashed_pii/email"], note="OneTag: p2 is itself a form string e=ce&m=[<sha256>] (customer e-mail)"))
    add(Scn("c02", "criteo", "pixel", "GET",
            criteo_url(["e=exd&site_type=m", "e=vp&p=GT-12"], "https://www.example.se/produkt/graviditetstest-tidigt-besked"),
            U=["sensitive/health"], note="product view; the page URL in fu is double-encoded"))
    add(Scn("c03", "criteo", "pixel", "GET",
            criteo_url(["e=exd&site_type=d", f"e=ce&m=[{md5(ERIK['em'])}]&h=md5", "e=vl&p=[A1,A2,A3]"], "https://www.example.com/shop"),
            U=["hashed_pii/email"], note="customer e-mail as MD5"))
    add(Scn("c04", "criteo", "pixel", "GET",
            criteo_url(["e=exd&site_type=d", f"e=ce&m=[{PH_EMPTY}]", "e=vh"], "https://www.example.com/"),
            note="customer e-mail hash of the empty string: placeholder"))
    c5 = {"account": int(CRITEO_A), "site_type": "d", "version": "s2s_v0",
          "id": {"mapped_user_id": "f8e7d6c5b4a3", "email": [{"type": "sha256", "value": sha256(ERIK["em"])}]},
          "ip": "203.0.113.61", "full_url": "https://www.example.com/cart", "previous_url": "https://www.example.com/",
          "retailer_visitor_id": "rv-55120", "events": [{"event": "viewBasket", "item": [{"id": "A1", "price": 19.9, "quantity": 1}]}]}
    add(Scn("c05", "criteo", "capi", "POST", "https://widget.criteo.com/m/event?version=s2s_v0", body=jdump(c5, 0),
            ctype="application/json", ua="Go-http-client/2.0", B=["hashed_pii/email", "pii/ip_address"],
            note="Criteo server-to-server event with a hashed e-mail and the visitor IP"))
    add(Scn("c06", "criteo", "script", "GET", "https://static.criteo.net/js/ld/ld.js", note="tag library download"))
    add(Scn("c07", "criteo", "pixel", "GET",
            criteo_url(["e=exd&site_type=d", "e=vc&id=ORD-77&p=" + pct('[{"i":"A1","pr":19.9,"q":1}]')], "https://www.example.com/thanks"),
            note="transaction with ids and prices only"))

    # =====================================================================
    # ADOBE ANALYTICS
    # =====================================================================
    add(Scn("ad01", "adobe-analytics", "pixel", "GET",
            adobe_url("metrics.example.se", "exempelseprod",
                      [("pageName", pct("mina-sidor:provsvar:lista")), ("g", pct("https://www.example.se/mina-sidor/provsvar")),
                       ("cc", "SEK"), ("ch", "mina-sidor"), ("v1", "inloggad")]),
            vhost=True, U=["sensitive/health"], note="first-party Adobe collection host; test results page (provsvar)"))
    add(Scn("ad02", "adobe-analytics", "pixel", "GET",
            adobe_url("example.sc.omtrdc.net", "exempelglobal",
                      [("pageName", "konto"), ("g", pct("https://www.example.se/konto")), ("v5", "anna.lindqvist%40example.se")]),
            U=["pii/email"], note="e-mail in an eVar"))
    add(Scn("ad03", "adobe-analytics", "pixel", "GET",
            adobe_url("example.sc.omtrdc.net", "exempelglobal",
                      [("pageName", "kundservice:aterringning"), ("g", pct("https://www.example.se/kundservice")),
                       ("c.&kund.&telefon=0701740655&.kund&.c", RAW)]),
            U=["pii/phone"], note="context data (c.&kund.&telefon=...&.kund&.c) carries a phone number"))
    add(Scn("ad04", "adobe-analytics", "pixel", "GET",
            adobe_url("metrics.example.se", "exempelseprod",
                      [("pageName", "kassa:bekraftelse"), ("g", pct("https://www.example.se/kassa/bekraftelse")),
                       ("events", "purchase"), ("products", pct(";Graviditetstest Early 2-pack;1;149.00")), ("purchaseID", "ORD-5518274")]),
            vhost=True, U=["sensitive/health"], note="products string names a pregnancy test"))
    ad5 = {"events": [{"xdm": {"eventType": "web.webpagedetails.pageViews",
                               "web": {"webPageDetails": {"URL": "https://www.example.de/kirche/austritt", "name": "Kirchenaustritt online erklären"}},
                               "identityMap": {"Email": [{"id": JONAS["em"], "authenticatedState": "authenticated", "primary": False}],
                                               "ECID": [{"id": "58213390481726354091827364501928374", "primary": True}]},
                               "timestamp": "2026-03-02T07:05:00.000Z"}}],
           "meta": {"state": {"domain": "example.de", "cookiesEnabled": True}}}
    add(Scn("ad05", "adobe-analytics", "pixel", "POST",
            "https://edge.adobedc.net/ee/v2/interact?configId=5b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e&requestId=9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
            body=jdump(ad5, 0), ctype="text/plain; charset=UTF-8", bodyless=True,
            B=["pii/email", "sensitive/religion"], note="Adobe Web SDK XDM: identityMap e-mail on a church-leaving page"))
    ad6 = ('<?xml version="1.0" encoding="UTF-8"?><request><sc_xml_ver>1.0</sc_xml_ver><reportSuiteID>exempeldk</reportSuiteID>'
           '<visitorID>1772430012345</visitorID><pageURL>https://www.example.dk/kundeservice</pageURL><pageName>kundeservice</pageName>'
           f'<evar3>{METTE["em"]}</evar3><events>event7</events><timestamp>2026-03-02T07:05:30+01:00</timestamp></request>')
    add(Scn("ad06", "adobe-analytics", "capi", "POST", "https://example.sc.omtrdc.net/b/ss//6", body=ad6, ctype="application/xml",
            ua="Java/17.0.10", B=["pii/email"], note="Data Insertion API XML: e-mail in evar3"))
    add(Scn("ad07", "adobe-analytics", "pixel", "GET",
            adobe_url("metrics.example.se", "exempelseprod",
                      [("pageName", pct("produkter:bygg:betongvibrator")), ("g", pct("https://www.example.se/bygg/betongvibrator"))]),
            vhost=True, note="hard negative: concrete vibrator"))
    add(Scn("ad08", "adobe-analytics", "script", "GET", "https://assets.adobedtm.com/2a9f1c3d4e5b/6a7f8e9d0c1b/launch-EN4f2a9c1d7e3b.min.js",
            note="tag library download"))
    add(Scn("ad09", "adobe-analytics", "pixel", "GET",
            adobe_url("metrics.example.com", "exampleglobal", [("pageName", "home"), ("g", pct("http://www.example.com/"))],
                      scheme="http", ver="H.27.5", rnd="s38625912899643"),
            vhost=True, U=["transport/plaintext_http"], note="legacy H-code beacon over plain http"))
    add(Scn("ad10", "adobe-analytics", "pixel", "GET",
            adobe_url("example.sc.omtrdc.net", "exempelde",
                      [("pageName", "konto:bankverbindung"), ("g", pct("https://www.example.de/konto/bank")),
                       ("v12", pct("DE89 3704 0044 0532 0130 00"))]),
            U=["pii/iban"], note="German IBAN (valid) in an eVar"))
    add(Scn("ad11", "adobe-analytics", "pixel", "GET",
            adobe_url("example.sc.omtrdc.net", "exempelde",
                      [("pageName", pct("filialen:berlin:kirchstrasse")), ("g", pct("https://www.example.de/filialen/berlin-kirchstrasse-5"))]),
            note="hard negative: branch on Kirchstraße"))

    # =====================================================================
    # MATOMO
    # =====================================================================
    add(Scn("mt01", "matomo", "pixel", "GET",
            matomo_url("stats.example.se", [("action_name", pct("Mina recept – Förnya recept")),
                                            ("url", pct("https://www.example.se/recept/mina-recept/fornya"))]),
            vhost=True, U=["sensitive/health"], note="renewing prescriptions"))
    add(Scn("mt02", "matomo", "pixel", "GET",
            matomo_url("stats.example.no", [("action_name", pct("Min side")), ("url", pct("https://www.example.no/min-side")),
                                            ("uid", "kari.nordmann%40example.no")]),
            vhost=True, U=["pii/email"], note="Matomo user id is an e-mail address"))
    mt3 = {"requests": [
        "?idsite=3&rec=1&url=" + pct("https://www.example.no/kirken/utmelding") + "&action_name=" + pct("Meld deg ut av Den norske kirke") + "&_id=4f2a9c1d7e3b5a60",
        "?idsite=3&rec=1&e_c=Skjema&e_a=Sendt&uid=" + pct(KARI["em"]) + "&_id=4f2a9c1d7e3b5a60"],
        "token_auth": "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}
    add(Scn("mt03", "matomo", "pixel", "POST", "https://stats.example.no/matomo.php", body=jdump(mt3, 1), ctype="application/json",
            bodyless=True, ua="matomo-php-tracker/3.3.0",
            B=["sensitive/religion", "pii/email", "secret/access_token"],
            note="bulk tracking: each requests[] entry is a query string; leaving the Church of Norway, e-mail uid, token_auth"))
    add(Scn("mt04", "matomo", "pixel", "GET",
            matomo_url("stats.example.se", [("action_name", "S%C3%B6k"), ("url", pct("https://www.example.se/sok")),
                                            ("search", plus("hiv test anonymt")), ("search_cat", ""), ("search_count", "4")]),
            vhost=True, U=["sensitive/health"], note="site search for an anonymous HIV test (+ for spaces)"))
    add(Scn("mt05", "matomo", "script", "GET", "https://stats.example.se/matomo.js", note="tag library download"))
    add(Scn("mt06", "matomo", "pixel", "GET",
            matomo_url("analys.example.se", [("action_name", "Ans%C3%B6kan"), ("url", pct("https://www.example.se/ansokan")),
                                             ("cvar", pct('{"1":["personnummer","19791110-9291"]}'))], path="/piwik.php", idsite="1"),
            U=["pii/national_id"], note="legacy piwik.php custom variable holds a personnummer"))
    add(Scn("mt07", "matomo", "pixel", "GET",
            matomo_url("example.matomo.cloud", [("action_name", "Betala"), ("url", pct("https://www.example.se/betala")),
                                                ("dimension1", pct("Sparbanken Syd"))], idsite="2"),
            note="hard negative: bank name"))
    add(Scn("mt08", "matomo", "pixel", "GET",
            matomo_url("stats.example.se", [("idgoal", "0"), ("ec_id", "ORD-9901"), ("revenue", "399"),
                                            ("ec_items", pct('[["SKU-77","Vibrator uppladdningsbar","Intimt",399,1]]')),
                                            ("url", pct("https://www.example.se/kassa/klar"))]),
            U=["sensitive/sex_life"], note="e-commerce item: a sex toy"))
    add(Scn("mt09", "matomo", "pixel", "GET",
            matomo_url("example.matomo.cloud", [("e_c", "checkout"), ("e_a", "field"), ("e_n", pct("3782 822463 10005")),
                                                ("url", pct("https://www.example.com/pay"))], idsite="5"),
            U=["pii/payment_card"], note="grouped Amex test number in an event name"))
    add(Scn("mt10", "matomo", "pixel", "GET",
            matomo_url("stats.example.dk", [("e_c", "Formular"), ("e_a", "Indsendt"), ("e_n", pct("CPR 070761-4064")),
                                            ("url", pct("https://www.example.dk/ansoegning"))], idsite="4"),
            U=["pii/national_id"], note="Danish CPR number in an event name"))
    add(Scn("mt11", "matomo", "pixel", "GET",
            matomo_url("stats.example.no", [("action_name", "Soknad"), ("url", pct("https://www.example.no/soknad")),
                                            ("uid", "15068841248")]),
            U=["pii/national_id"], note="Norwegian fødselsnummer (valid check digits) used as user id"))

    # =====================================================================
    # NON-TRACKING TRAFFIC
    # =====================================================================
    add(Scn("n01", "none", "web", "GET", "https://www.example.se/login?email=anna.lindqvist%40example.se&next=%2Fkonto",
            note="first-party page with an e-mail in the URL: not a tracker"))
    add(Scn("n02", "none", "web", "GET", "https://www.google.com/search?q=klamydiatest+apotek&hl=sv",
            note="web search, not a pixel"))
    add(Scn("n03", "none", "connect", "CONNECT", "www.facebook.com:443", note="TLS tunnel"))
    add(Scn("n04", "none", "connect", "CONNECT", "analytics.tiktok.com:443", note="TLS tunnel"))
    add(Scn("n05", "none", "web", "POST", "https://api.example.com/v1/orders",
            body=jdump({"email": ERIK["em"], "phone": "070-174 06 55", "items": [{"sku": "A1", "qty": 1}]}, 0),
            ctype="application/json", ua="okhttp/4.12.0", note="first-party API call with personal data: not a tracker"))
    add(Scn("n06", "none", "web", "GET", "https://www.example.se/sjukdomar/depression-symtom", note="health page itself"))
    add(Scn("n07", "none", "web", "GET", "https://cdn.example.net/img/logo.png", resp_mime="image/png", note="static asset"))
    add(Scn("n08", "none", "web", "GET", "https://fonts.googleapis.com/css2?family=Inter:wght@400;700&display=swap",
            resp_mime="text/css", note="font CSS"))
    add(Scn("n09", "none", "web", "GET",
            "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.apotek.example.se%2Fprodukt%2Fklamydiatest",
            note="share dialog on a vendor host, not a pixel"))
    add(Scn("n10", "none", "web", "GET", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", note="video page"))
    add(Scn("n11", "none", "connect", "CONNECT", "graph.facebook.com:443", note="TLS tunnel to the CAPI host"))
    add(Scn("n12", "none", "web", "GET", "http://www.example.org/index.html", note="plain-http page, not a tracker"))
    # ---- additional hard negatives and one Danish party case
    add(Scn("h01", "meta", "pixel", "GET",
            meta_url(META_A, "ViewContent", MS + 140100, dl="https://www.example.se/forvaring/metallhylla-5-hyllplan",
                     extra=[("cd[content_name]", pct("Metallhylla 5 hyllplan, galvaniserad"))]),
            note="hard negative: 'Metallhylla' (metal shelf) contains 'Metall'"))
    add(Scn("h02", "snap", "pixel", "GET",
            "https://tr.snapchat.com/p?" + qs([("pid", SNAP_PID), ("ev", "PAGE_VIEW"),
                                               ("pl", pct("https://www.example.dk/butikker/aarhus-kirkegade-7")),
                                               ("ts", str(MS + 141100)), ("v", "1.5")]),
            note="hard negative: store on Kirkegade (street name)"))
    add(Scn("h03", "pinterest", "pixel", "GET",
            "https://ct.pinterest.com/v3/?" + qs([("event", "search"), ("tid", PIN_TID),
                                                  ("ed", jenc({"search_query": "Pride and Prejudice hardcover"})), ("cb", str(MS + 142100))]),
            note="hard negative: a novel title containing 'Pride'"))
    add(Scn("h04", "reddit", "pixel", "GET",
            rdt("AddToCart", [("m.itemCount", "1"), ("m.products", jenc([{"id": "T-3", "name": "Grüner Tee Sencha 100 g", "category": "Tee"}]))], ts=40),
            note="hard negative: green tea, not the Greens"))
    add(Scn("h05", "linkedin", "pixel", "GET",
            f"https://px.ads.linkedin.com/collect?v=2&fmt=js&pid={LI_PID}&time={MS + 143100}"
            f"&url={pct('https://www.example.se/jobb/ekonom-kommunal-sektor')}",
            note="hard negative: 'kommunal sektor' = municipal sector"))
    add(Scn("h06", "snap", "pixel", "GET",
            "https://tr.snapchat.com/p?" + qs([("pid", SNAP_PID), ("ev", "SIGN_UP"),
                                               ("pl", pct("https://www.example.dk/bliv-medlem-af-venstre")),
                                               ("ts", str(MS + 144100)), ("v", "1.5")]),
            U=["sensitive/political"], note="joining the Danish party Venstre"))
    # ---- POST hits that carry nothing personal
    tt15 = {"event_source": "web", "event_source_id": TT_PIXEL,
            "data": [{"event": "ViewContent", "event_time": T0 + 150, "event_id": "vc-1150",
                      "user": {"ttclid": "E.C.P.v3Xk9Lm2Pq8Rs5Tu1Vw4Yz7", "ttp": "2dQ1xZ7bMk9vL3aW0pR5yT8uN",
                               "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
                      "properties": {"content_type": "product", "contents": [{"content_id": "BK-77", "content_name": "Trädgårdsbok"}]},
                      "page": {"url": "https://www.example.se/bocker/tradgard"}}]}
    add(Scn("h07", "tiktok", "capi", "POST", "https://business-api.tiktok.com/open_api/v1.3/event/track/", body=jdump(tt15, 0),
            ctype="application/json", ua="python-requests/2.31.0",
            note="Events API with click id, cookie id and user agent only (no IP, no hashes)"))
    snap8 = {"ctx": {"url": "https://www.example.com/blog", "ua": "Mozilla/5.0", "sdkv": "1.2.0", "cm": 1},
             "req": [{"t": {"pid": SNAP_PID, "ev": "PAGE_VIEW", "u_c1": "f3a1b2c4-d5e6-47f8-9a0b-1c2d3e4f5a6b", "u_sclid": ""}, "del": 88}]}
    add(Scn("h08", "snap", "pixel", "POST", "https://tr.snapchat.com/p", body=jdump(snap8, 0), ctype="text/plain",
            note="Snap pixel with a cookie id only"))
    wa9 = {"pids": [int(LI_PID)], "scriptVersion": 215, "time": MS + 152100, "domain": "example.fi",
           "url": "https://www.example.fi/tuotteet/kahvinkeitin", "pageTitle": "Kahvinkeitin 10 kuppia",
           "websiteSignalRequestId": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b", "liFatId": "", "liGiant": "",
           "misc": {"psbState": -4}, "isLinkedInApp": False, "hem": None, "signalType": "PAGE_VISIT"}
    add(Scn("h09", "linkedin", "pixel", "POST", "https://px.ads.linkedin.com/wa/", body=jdump(wa9, 0),
            ctype="text/plain;charset=UTF-8", note="coffee-maker page, hem null"))
    add(Scn("h10", "google-analytics", "pixel", "POST",
            ga4_url(GA_B, "page_view", "https://www.example.com/garden/tools", "Garden tools", ul="en-gb",
                    host="www.google-analytics.com"),
            body="en=scroll&epn.percent_scrolled=90&_et=5121\r\nen=user_engagement&_et=9001",
            ctype="text/plain;charset=UTF-8", google=True, note="batched engagement events, nothing personal"))
    m41_body = qs([("id", META_B), ("ev", "PageView"), ("dl", plus("https://www.example.org/recipes/apple-pie")), ("rl", ""),
                   ("if", "false"), ("ts", str(MS + 154100)), ("sw", "1440"), ("sh", "900"), ("v", "2.9.179"), ("r", "stable"),
                   ("ec", "0"), ("o", "4126"), ("fbp", FBP), ("rqm", "formPOST")])
    add(Scn("h11", "meta", "pixel", "POST", "https://www.facebook.com/tr/", body=m41_body, ctype="application/x-www-form-urlencoded",
            note="form POST page view of a recipe"))
    ad12 = {"events": [{"xdm": {"eventType": "web.webpagedetails.pageViews",
                                "web": {"webPageDetails": {"URL": "https://www.example.de/fahrraeder", "name": "Fahrräder"}},
                                "identityMap": {"ECID": [{"id": "58213390481726354091827364501928374", "primary": True}]}}}]}
    add(Scn("h12", "adobe-analytics", "pixel", "POST",
            "https://edge.adobedc.net/ee/v2/interact?configId=5b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e&requestId=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            body=jdump(ad12, 0), ctype="text/plain; charset=UTF-8", note="Web SDK page view with the ECID only"))
    # ---- special categories in the remaining languages
    add(Scn("q01", "meta", "pixel", "GET",
            meta_url(META_B, "Schedule", MS + 160100, dl="https://www.example.dk/sundhed/laegevagt/bestil-tid",
                     extra=[("cd[content_name]", pct("Bestil tid hos lægevagten"))]),
            U=["sensitive/health"], note="booking the out-of-hours doctor (lægevagt, da)"))
    add(Scn("q02", "x", "pixel", "GET", xurl("t.co", '[["pageview",{}]]', "https://www.example.co.uk/clinic/chemotherapy-appointments"),
            U=["sensitive/health"], note="chemotherapy appointments page (en)"))
    add(Scn("q03", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "add_to_cart", "https://www.example.fi/tuote/kondomit-12", "Kondomit 12 kpl", ul="fi-fi",
                    extra=[("pr1", "idK-12~nmKondomit%2012%20kpl~pr9.90~qt1")]),
            U=["sensitive/sex_life"], google=True, note="condoms (fi)"))
    add(Scn("q04", "linkedin", "pixel", "GET",
            f"https://px.ads.linkedin.com/collect?v=2&fmt=js&pid={LI_PID}&time={MS + 163100}"
            f"&url={pct('https://www.example.no/bli-medlem-i-arbeiderpartiet')}",
            U=["sensitive/political"], note="joining Arbeiderpartiet (no)"))
    add(Scn("q05", "adobe-analytics", "pixel", "GET",
            adobe_url("example.sc.omtrdc.net", "exampleuk",
                      [("pageName", pct("join:unison:confirmation")), ("g", pct("https://www.example.co.uk/join-unison/thank-you"))]),
            U=["sensitive/trade_union"], note="UNISON membership confirmation (en)"))
    add(Scn("q06", "meta", "pixel", "GET",
            meta_url(META_A, "SubmitApplication", MS + 165100, dl="https://www.example.no/sametinget/innmelding-i-samemanntallet"),
            U=["sensitive/ethnic_origin"], note="enrolling in the Sami electoral register (no)"))
    add(Scn("q07", "tiktok", "pixel", "POST", "https://analytics.tiktok.com/api/v2/pixel",
            body=tiktok_pixel_body("AddToCart", "https://www.example.de/gentests/abstammung",
                                   {"content_name": "DNA-Abstammungstest Komplett", "value": 79, "currency": "EUR"}, style=1),
            ctype="text/plain;charset=UTF-8", B=["sensitive/genetic"], note="ancestry DNA test (de)"))
    add(Scn("q08", "microsoft-uet", "pixel", "GET",
            uet([("ec", "security"), ("ea", "enable"), ("el", pct("Fingerprint login enabled")), ("ev", "0")], evt="custom",
                p="https://www.example.com/account/security", ts=20),
            U=["sensitive/biometric"], note="fingerprint enrolment (en)"))
    add(Scn("q09", "criteo", "pixel", "GET",
            criteo_url(["e=exd&site_type=d", "e=vp&p=DNA-01"], "https://www.example.se/dna-test-slaktforskning"),
            U=["sensitive/genetic"], note="DNA test for genealogy (sv) in the page URL"))
    add(Scn("q10", "google-analytics", "pixel", "GET",
            ga4_url(GA_C, "page_view", "https://www.example.de/beratung/sinti-und-roma", "Beratungsstelle für Sinti und Roma", ul="de-de"),
            U=["sensitive/ethnic_origin"], google=True, note="counselling service for Sinti and Roma (de)"))
    return S
