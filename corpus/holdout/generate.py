#!/usr/bin/env python3
"""Regenerate the held-apart (blind) corpus: python3 corpus/holdout/generate.py

Deterministic, Python 3.11 standard library only. Writes every data file, labels.jsonl,
records.jsonl, and the statistics block of README.md (between the stats markers).
"""

import sys

sys.dont_write_bytecode = True

import collections  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_lib as L  # noqa: E402
from scenarios import T0, scenarios  # noqa: E402

ORDER = ["squid", "clf", "vhost", "nginx", "zeek", "zeekjson", "eve", "har", "ecs"]


def main():
    rng = random.Random(20260302)
    scns = scenarios()
    ids = [s.sid for s in scns]
    dup = [i for i, c in collections.Counter(ids).items() if c > 1]
    assert not dup, dup

    groups = []
    for s in scns:
        if s.group not in groups:
            groups.append(s.group)
    gfmt = {}
    for s in scns:
        if s.group not in gfmt:
            gfmt[s.group] = L.choose_formats(s, groups.index(s.group))
    fmts_of = {}
    for s in scns:
        fm = list(gfmt[s.group]) if s.only is None else L.choose_formats(s, groups.index(s.group))
        if s.only is None and s.group != s.sid:
            # twin / pair members follow their group but keep their own body capability
            lead = next(x for x in scns if x.sid == s.group)
            if (lead.body is None) != (s.body is None):
                fm = L.choose_formats(s, groups.index(s.group))
        if s.kind == "connect":
            fm = ["squid", "clf"]
        if s.vhost and "vhost" not in fm:
            fm.append("vhost")
        fmts_of[s.sid] = fm

    # per-format clocks
    clock = {f: T0 + 5 + i * 0.417 for i, f in enumerate(ORDER)}
    lines = collections.defaultdict(list)   # file -> list of text lines (HAR: entries)
    records = []                            # (file, pos, scenario, fmt)
    zeek_hdr = L.zeek_header(T0)
    lines["zeek/http.log"].extend(zeek_hdr)

    for s in scns:
        for fmt in ORDER + ["evehttp"]:
            if fmt not in fmts_of[s.sid]:
                continue
            cf = "eve" if fmt == "evehttp" else fmt
            clock[cf] += rng.uniform(0.8, 9.5)
            ts = round(clock[cf], 3) if fmt in ("squid",) else round(clock[cf], 6)
            if s.kind == "capi" or (s.kind == "web" and s.body is not None):
                client = f"10.40.0.{rng.randint(10, 40)}"
            else:
                client = f"10.20.{rng.randint(1, 4)}.{rng.randint(10, 250)}"
            ua = s.ua or (rng.choice(L.BROWSER_UA) if s.kind != "capi" else "python-requests/2.32.3")
            ctx = L.Ctx(ts, client, rng.randint(49152, 65000), ua, rng)
            path = L.FILES[fmt]
            n = len(lines[path])
            if fmt == "squid":
                txt = L.render_squid(s, ctx)
            elif fmt == "clf":
                txt = L.render_clf(s, ctx)
            elif fmt == "vhost":
                txt = L.render_vhost(s, ctx)
            elif fmt == "nginx":
                txt = L.render_nginx(s, ctx, n)
            elif fmt == "zeek":
                txt = L.render_zeek(s, ctx)
            elif fmt == "zeekjson":
                txt = L.render_zeekjson(s, ctx)
            elif fmt == "eve":
                txt = L.render_eve(s, ctx, n, alert=s.body is not None)
            elif fmt == "evehttp":
                txt = L.render_eve(s, ctx, n, alert=False)
            elif fmt == "har":
                txt = L.har_entry(s, ctx)
            elif fmt == "ecs":
                txt = L.render_ecs(s, ctx, n)
            else:
                raise AssertionError(fmt)
            lines[path].append(txt)
            pos = n if fmt == "har" else n + 1
            records.append((path, pos, s, fmt))

    lines["zeek/http.log"].append(f"#close\t2026-03-02-{8 + len(lines['zeek/http.log']) // 600:02d}-00-00")

    # ---- write data files
    for path, content in lines.items():
        p = HERE / path
        p.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith(".har"):
            doc = {"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "10.3.0"},
                           "pages": [], "entries": content}}
            p.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        else:
            p.write_text("\n".join(content) + "\n", encoding="utf-8")

    # ---- labels and records
    lab_lines, rec_lines = [], []
    for path, pos, s, fmt in sorted(records, key=lambda r: (r[0], r[1])):
        labs = sorted(s.labels(fmt))
        rec = {"file": path, "pos": pos, "vendor": s.vendor, "kind": s.kind, "scenario": s.sid,
               "positive": bool(labs)}
        rec_lines.append(json.dumps(rec, ensure_ascii=False))
        if labs:
            exp = [{"class": l.split("/")[0], "type": l.split("/")[1]} for l in labs]
            lab_lines.append(json.dumps({"file": path, "pos": pos, "vendor": s.vendor, "expect": exp,
                                         "note": s.note_for(fmt), "scenario": s.sid}, ensure_ascii=False))
    (HERE / "labels.jsonl").write_text("\n".join(lab_lines) + "\n", encoding="utf-8")
    (HERE / "records.jsonl").write_text("\n".join(rec_lines) + "\n", encoding="utf-8")

    write_stats(records)


def write_stats(records):
    by_file = collections.Counter()
    pos_file = collections.Counter()
    by_vendor = collections.Counter()
    pos_vendor = collections.Counter()
    by_kind = collections.Counter()
    by_label = collections.Counter()
    scen_labels = collections.Counter()
    for path, pos, s, fmt in records:
        labs = s.labels(fmt)
        by_file[path] += 1
        by_vendor[s.vendor] += 1
        by_kind[s.kind] += 1
        if labs:
            pos_file[path] += 1
            pos_vendor[s.vendor] += 1
        for l in labs:
            by_label[l] += 1
    total = sum(by_file.values())
    npos = sum(pos_file.values())
    out = ["<!-- stats:begin (written by generate.py) -->", "",
           f"Total records: **{total}**, of which **{npos}** must produce findings ({100 * npos / total:.1f} %) "
           f"and {total - npos} must produce none.", "",
           "| file | records | positive | negative |", "|---|---:|---:|---:|"]
    for f in sorted(by_file):
        out.append(f"| `{f}` | {by_file[f]} | {pos_file[f]} | {by_file[f] - pos_file[f]} |")
    out += ["", "| vendor | records | positive | negative |", "|---|---:|---:|---:|"]
    for v in sorted(by_vendor):
        out.append(f"| {v} | {by_vendor[v]} | {pos_vendor[v]} | {by_vendor[v] - pos_vendor[v]} |")
    out += ["", "| record kind | records |", "|---|---:|"]
    for k in sorted(by_kind):
        out.append(f"| {k} | {by_kind[k]} |")
    out += ["", "| class/type | expected findings |", "|---|---:|"]
    for lab in sorted(by_label):
        out.append(f"| {lab} | {by_label[lab]} |")
    out += ["", "<!-- stats:end -->"]
    block = "\n".join(out)
    readme = HERE / "README.md"
    if readme.exists():
        txt = readme.read_text(encoding="utf-8")
        a = txt.find("<!-- stats:begin")
        b = txt.find("<!-- stats:end -->")
        if a >= 0 and b >= 0:
            txt = txt[:a] + block + txt[b + len("<!-- stats:end -->"):]
            readme.write_text(txt, encoding="utf-8")
    print(block)


if __name__ == "__main__":
    main()
