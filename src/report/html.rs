//! The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched;
//! readable on screen and printable to PDF. Written for a data-protection officer first (a
//! one-screen summary, then the Art. 33 facts), with the forensic detail below.

use super::{severity_rank, Report};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Facts about how the report was made (the method section).
#[derive(Debug, Default, Clone)]
pub struct ReportMeta {
    pub generated_at: String,
    pub tool_version: String,
    pub packs_digest: String,
    /// The findings files or the scanned inputs, with size and SHA-256 when known.
    pub inputs: Vec<(String, Option<u64>, Option<String>)>,
    /// Records skipped while scanning, by reason (when the report comes with a scan).
    pub skipped: BTreeMap<String, u64>,
    /// Inputs that could not be scanned at all or stopped early.
    pub incomplete: Vec<String>,
    pub command: String,
    pub reveal: bool,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const COLORS: [&str; 5] = ["#c0392b", "#e67e22", "#8e44ad", "#2980b9", "#7f8c8d"];
const CLASS_NAMES: [&str; 5] = [
    "plain identity",
    "hashed identity",
    "Art. 9 data",
    "consent",
    "plaintext transport",
];

fn type_name(kind: &str) -> &str {
    match kind {
        "email" => "e-mail addresses",
        "phone" => "phone numbers",
        "name" => "names",
        "postal_address" => "postal addresses",
        "date_of_birth" => "dates of birth",
        "gender" => "genders",
        "national_id" => "personal identity numbers",
        "external_id" => "customer ids",
        "ip_address" => "IP addresses",
        "payment_card" => "payment card numbers",
        "iban" => "bank account numbers (IBAN)",
        "health" => "health",
        "sex_life" => "sex life and sexual orientation",
        "religion" => "religious or philosophical beliefs",
        "political" => "political opinions",
        "trade_union" => "trade-union membership",
        "ethnic_origin" => "racial or ethnic origin",
        "genetic" => "genetic data",
        "biometric" => "biometric data",
        other => other,
    }
}

/// What a field family is, in words, where the vendor's own name says it.
fn family_name(vendor: &str, family: &str) -> Option<&'static str> {
    let f = family.to_ascii_lowercase();
    Some(match vendor {
        "meta" if f.starts_with("udff[") => "Meta automatic advanced matching",
        "meta" if f.starts_with("ud[") => "Meta advanced matching (manual)",
        "meta" if f.starts_with("cd[") => "Meta custom data",
        "meta" if f.contains("user_data") => "Meta Conversions API user data",
        "google-analytics" if f.starts_with("ep.") || f.starts_with("up.") => {
            "GA4 event / user parameters"
        }
        "google-analytics" | "google-ads" if f.starts_with("em") => {
            "Google user-provided data (enhanced conversions)"
        }
        _ if f == "dl" || f.ends_with(".url") || f == "url" || f.starts_with("dl?") => {
            "page address"
        }
        _ if f == "dt" || f.contains("title") => "page title",
        _ => return None,
    })
}

/// How disclosing one category can hurt the people concerned (Art. 33(3)(c)).
fn consequence(kind: &str) -> &'static str {
    match kind {
        "health" => "disclosure of health conditions, tests and treatments to an advertising platform that can link them to the person; profiling and targeting on health; stigma and distress",
        "sex_life" => "disclosure of sexual health or orientation; profiling and targeting on it; risk of discrimination, stigma or outing",
        "religion" => "disclosure of religious belief or membership; profiling on belief; risk of discrimination",
        "political" => "disclosure of political opinion or party support; political profiling and micro-targeting",
        "trade_union" => "disclosure of trade-union membership; risk of discrimination at work",
        "ethnic_origin" => "disclosure of ethnic origin; risk of discrimination and profiling on ethnicity",
        "genetic" | "biometric" => "disclosure of genetic or biometric data, which cannot be changed once exposed",
        "email" | "phone" | "name" | "postal_address" | "national_id" | "date_of_birth" => "the vendor can identify the person (hashed values are matched against its own users: hashing is not anonymisation) and link the site visit and purchases to their profile",
        "external_id" => "the site's customer id lets the vendor link visits of the same person over time",
        "ip_address" => "the IP address locates and re-identifies the visitor",
        "payment_card" | "iban" => "financial data exposed to a third party: risk of fraud",
        _ => "loss of confidentiality towards the recipient",
    }
}

fn site_name(site: &str) -> &str {
    if site == "unknown" {
        "(site not known)"
    } else {
        site
    }
}

fn fmt_n(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn day(ts: &str) -> &str {
    ts.get(..10).unwrap_or(ts)
}

/// Render the whole report.
pub fn render(report: &mut Report, meta: &ReportMeta) -> String {
    let mut h = String::with_capacity(64 << 10);
    let (identity, art9) = report.categories();
    let people = report.people();
    let confirmed = report.confirmed_people();
    let requests = report.requests_with_data.estimate();
    let worst = report.worst().unwrap_or("none").to_string();
    let vendors: Vec<String> = report.recipients.keys().cloned().collect();
    let sites: Vec<String> = report.sites.iter().cloned().collect();
    let _ = write!(
        h,
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tracking-pixel disclosure report – {sites_title}</title>
<style>{CSS}</style></head><body>
<header><p class="kicker">pixelwarden · forensic report</p>
<h1>Personal data sent to tracking vendors</h1>
<p class="scope">{scope}</p>
<p class="meta">Generated {generated} · {records} findings · period {first} → {last} · {redaction}</p>
<nav><a href="#summary">Summary</a><a href="#art33">Art. 33 notification</a><a href="#windows">Breach windows</a><a href="#timelines">Timelines</a><a href="#evidence">Evidence</a><a href="#consent">Consent</a><a href="#transport">Transport</a><a href="#method">Method and limits</a></nav>
</header><main>
"##,
        CSS = CSS,
        sites_title = esc(&sites.join(", ")),
        scope = esc(&format!(
            "{} site{} · {} recipient{}: {}",
            sites.len(),
            if sites.len() == 1 { "" } else { "s" },
            vendors.len(),
            if vendors.len() == 1 { "" } else { "s" },
            vendors.join(", ")
        )),
        generated = esc(&meta.generated_at),
        records = fmt_n(report.records),
        first = esc(day(&report.first)),
        last = esc(day(&report.last)),
        redaction = if meta.reveal {
            "<strong class=\"warn\">contains raw personal values (--reveal): handle as personal data</strong>"
        } else {
            "evidence redacted, people counted by keyed fingerprints"
        },
    );

    // ---------------------------------------------------------------- summary
    let identity_words: Vec<&str> = identity.iter().map(|k| type_name(k)).collect();
    let art9_words: Vec<&str> = art9.iter().map(|k| type_name(k)).collect();
    let hashed = report.by_class.contains_key("hashed_pii");
    let plain = report.by_class.contains_key("pii");
    let sentence = if identity.is_empty() && art9.is_empty() {
        "No personal data or special-category data was found in the tracking requests examined."
            .to_string()
    } else {
        format!(
            "{}, tracking requests from {} sent {}{} to {}{}.",
            if day(&report.first) == day(&report.last) {
                format!("On {}", day(&report.first))
            } else {
                format!("Between {} and {}", day(&report.first), day(&report.last))
            },
            if sites.len() == 1 {
                sites[0].clone()
            } else {
                format!("{} sites", sites.len())
            },
            if identity.is_empty() {
                "data".to_string()
            } else {
                format!(
                    "{} ({}) of about {} people",
                    identity_words.join(", "),
                    match (plain, hashed) {
                        (true, true) => "in plain text and hashed",
                        (true, false) => "in plain text",
                        _ => "hashed",
                    },
                    fmt_n(people)
                )
            },
            if art9.is_empty() {
                String::new()
            } else {
                format!(
                    ", together with information about {}",
                    art9_words.join(", ")
                )
            },
            vendors.join(", "),
            if confirmed > 0 {
                format!(
                    " — {} of them confirmed as known customers",
                    fmt_n(confirmed)
                )
            } else {
                String::new()
            }
        )
    };
    let _ = write!(
        h,
        r##"<section id="summary"><h2>Summary</h2><p class="lead">{}</p><div class="cards">"##,
        esc(&sentence)
    );
    let card = |h: &mut String, label: &str, value: &str, note: &str| {
        let _ = write!(
            h,
            r##"<div class="card"><div class="label">{}</div><div class="value">{}</div><div class="note">{}</div></div>"##,
            esc(label),
            value,
            esc(note)
        );
    };
    card(
        &mut h,
        "Sites",
        &fmt_n(sites.len() as u64),
        &sites.iter().take(4).cloned().collect::<Vec<_>>().join(", "),
    );
    card(
        &mut h,
        "Recipients",
        &fmt_n(vendors.len() as u64),
        &vendors.join(", "),
    );
    card(
        &mut h,
        "People (approx.)",
        &fmt_n(people),
        "most distinct values of one identity type",
    );
    card(
        &mut h,
        "Requests with personal data",
        &fmt_n(requests),
        "approximate",
    );
    card(
        &mut h,
        "Worst severity",
        &format!(r##"<span class="sev sev-{w}">{w}</span>"##, w = esc(&worst)),
        "",
    );
    let period = if day(&report.first) == day(&report.last) {
        format!("<span class=\"small\">{}</span>", esc(day(&report.first)))
    } else {
        format!(
            "<span class=\"small\">{}<br>→ {}</span>",
            esc(day(&report.first)),
            esc(day(&report.last))
        )
    };
    card(
        &mut h,
        "Period",
        &period,
        "first and last seen (event time)",
    );
    let _ = write!(h, "</div>");
    let _ = write!(h, r##"<div class="cats"><div><h3>Personal data</h3>"##);
    if identity.is_empty() {
        let _ = write!(h, "<p>none found</p>");
    } else {
        let _ = write!(h, "<ul>");
        for k in &identity {
            let p = report
                .by_type
                .get(&("pii".to_string(), k.clone()))
                .copied()
                .unwrap_or(0);
            let hsh = report
                .by_type
                .get(&("hashed_pii".to_string(), k.clone()))
                .copied()
                .unwrap_or(0);
            let _ = write!(
                h,
                "<li><strong>{}</strong> <span class=\"muted\">{} plain, {} hashed</span></li>",
                esc(type_name(k)),
                fmt_n(p),
                fmt_n(hsh)
            );
        }
        let _ = write!(h, "</ul>");
    }
    let _ = write!(h, r##"</div><div><h3>Special categories (Art. 9)</h3>"##);
    if art9.is_empty() {
        let _ = write!(h, "<p>none found</p>");
    } else {
        let _ = write!(h, "<ul>");
        for k in &art9 {
            let n = report
                .by_type
                .get(&("sensitive".to_string(), k.clone()))
                .copied()
                .unwrap_or(0);
            let _ = write!(
                h,
                "<li><strong>{}</strong> <span class=\"muted\">{} findings</span></li>",
                esc(type_name(k)),
                fmt_n(n)
            );
        }
        let _ = write!(h, "</ul>");
    }
    let _ = write!(h, "</div></div></section>");

    // ---------------------------------------------------------------- Art. 33
    let _ = write!(
        h,
        r##"<section id="art33"><h2>Art. 33 notification — prefilled</h2>
<p class="muted">The facts pixelwarden can establish from the data examined. The controller completes the assessment, the measures and the contact details.</p>
<dl class="art33">"##
    );
    let nature = format!(
        "Disclosure (loss of confidentiality) of personal data of website visitors and customers to third parties through tracking technologies (pixels and server-side conversion APIs) on {}. The data was sent to the recipients below without a legal basis being established for it{}.",
        if sites.len() <= 5 { sites.join(", ") } else { format!("{} sites", sites.len()) },
        if report.by_type.keys().any(|(c, _)| c == "consent") {
            ", in part before or against the visitors' consent choices"
        } else {
            ""
        }
    );
    let dt = |h: &mut String, term: &str, def: &str| {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(term), def);
    };
    dt(&mut h, "Nature of the breach", &esc(&nature));
    let mut cats = Vec::new();
    for k in &identity {
        cats.push(esc(type_name(k)));
    }
    for k in &art9 {
        cats.push(format!(
            "<strong>special category: {}</strong>",
            esc(type_name(k))
        ));
    }
    dt(
        &mut h,
        "Categories of personal data",
        &if cats.is_empty() {
            "none established".into()
        } else {
            cats.join("; ")
        },
    );
    dt(
        &mut h,
        "Categories of data subjects",
        &esc(&if report.probe {
            "website visitors and customers (established with a canary identity walking the site: every visitor who uses the same pages and forms is affected)".to_string()
        } else {
            "visitors and customers of the websites concerned".to_string()
        }),
    );
    dt(
        &mut h,
        "Approximate number of data subjects",
        &format!(
            "about {} (the most distinct values of one identity type in the data examined){}",
            fmt_n(people),
            if confirmed > 0 {
                format!("; {} confirmed as known customers", fmt_n(confirmed))
            } else {
                String::new()
            }
        ),
    );
    dt(
        &mut h,
        "Approximate number of records",
        &format!(
            "about {} requests carrying personal or special-category data; {} findings in all",
            fmt_n(requests),
            fmt_n(report.records)
        ),
    );
    dt(
        &mut h,
        "Period",
        &esc(&format!(
            "{} to {} (first and last seen in the data examined; the breach may extend beyond it)",
            report.first, report.last
        )),
    );
    let mut rec = String::from("<ul>");
    for (v, pixels) in &report.recipients {
        let list: Vec<String> = pixels.iter().take(8).map(|p| esc(p)).collect();
        let _ = write!(
            rec,
            "<li><strong>{}</strong> — pixel / account {}{}</li>",
            esc(v),
            list.join(", "),
            if pixels.len() > 8 { " …" } else { "" }
        );
    }
    rec.push_str("</ul>");
    dt(&mut h, "Recipients", &rec);
    // One line per consequence, naming every category it applies to.
    let mut by_consequence: Vec<(&str, Vec<&str>)> = Vec::new();
    for k in identity.iter().chain(art9.iter()) {
        let c = consequence(k);
        match by_consequence.iter_mut().find(|(x, _)| *x == c) {
            Some((_, kinds)) => kinds.push(type_name(k)),
            None => by_consequence.push((c, vec![type_name(k)])),
        }
    }
    let mut cons = String::from("<ul>");
    for (c, kinds) in &by_consequence {
        let _ = write!(
            cons,
            "<li><strong>{}</strong>: {}</li>",
            esc(&kinds.join(", ")),
            esc(c)
        );
    }
    cons.push_str("</ul>");
    dt(&mut h, "Likely consequences", &cons);
    dt(&mut h, "Measures taken or proposed", "<span class=\"fill\">to be completed by the controller (e.g. pixel removed or advanced matching switched off on …; deletion requested from each recipient on …)</span>");
    let _ = write!(h, "</dl></section>");

    // ---------------------------------------------------------------- breach windows
    let _ = write!(
        h,
        r##"<section id="windows"><h2>Breach windows</h2>
<p class="muted">Per site, recipient, pixel and field family: when identity or special-category data started and stopped flowing, and to about how many people.</p>
<table><thead><tr><th>Site</th><th>Recipient / pixel</th><th>Field family</th><th>Data</th><th>From</th><th>To</th><th class="num">Hits</th><th class="num">People ≈</th><th>Severity</th></tr></thead><tbody>"##
    );
    let mut windows: Vec<_> = report
        .families
        .iter_mut()
        .filter(|(k, _)| {
            k.4.starts_with("pii/")
                || k.4.starts_with("hashed_pii/")
                || k.4.starts_with("sensitive/")
        })
        .collect();
    windows.sort_by(|a, b| {
        severity_rank(&b.1.severity)
            .cmp(&severity_rank(&a.1.severity))
            .then(b.1.hits.cmp(&a.1.hits))
    });
    let total = windows.len();
    for (i, ((site, vendor, pixel, fam, ty), w)) in windows.iter_mut().take(500).enumerate() {
        if i == 20 {
            let _ = write!(
                h,
                "</tbody></table><details><summary>All {} breach windows</summary><table><thead><tr><th>Site</th><th>Recipient / pixel</th><th>Field family</th><th>Data</th><th>From</th><th>To</th><th class=\"num\">Hits</th><th class=\"num\">People ≈</th><th>Severity</th></tr></thead><tbody>",
                fmt_n(total as u64)
            );
        }
        let name = family_name(vendor, fam)
            .map(|n| format!("{n}<br><code>{}</code>", esc(fam)))
            .unwrap_or_else(|| format!("<code>{}</code>", esc(fam)));
        let (class, kind) = ty.split_once('/').unwrap_or(("", ty));
        let people = if class == "sensitive" {
            "–".to_string()
        } else {
            fmt_n(w.people.estimate())
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}{}</td><td class=\"date\">{}</td><td class=\"date\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><span class=\"sev sev-{sev}\">{sev}</span></td></tr>",
            esc(site_name(site)), esc(vendor), esc(pixel), name,
            esc(type_name(kind)),
            match class { "hashed_pii" => " <span class=\"tag\">hashed</span>", "pii" => " <span class=\"tag plain\">plain</span>", _ => "" },
            esc(day(&w.first)), esc(day(&w.last)), fmt_n(w.hits), people,
            sev = esc(&w.severity),
        );
    }
    let _ = write!(h, "</tbody></table>");
    if total > 20 {
        let _ = write!(h, "</details>");
    }
    if total > 500 {
        let _ = write!(
            h,
            "<p class=\"muted\">{} more windows in breach.json of the evidence pack.</p>",
            total - 500
        );
    }
    let _ = write!(h, "</section>");

    // ---------------------------------------------------------------- timelines
    let _ = write!(
        h,
        r##"<section id="timelines"><h2>Timelines</h2><p class="muted">Findings per day by class, per site, recipient and pixel; ◆ marks a day with a drift anomaly (a new field, personal-data type or pixel).</p><div class="legend">"##
    );
    for (i, n) in CLASS_NAMES.iter().enumerate() {
        let _ = write!(
            h,
            r##"<span><i style="background:{}"></i>{}</span>"##,
            COLORS[i], n
        );
    }
    let _ = write!(h, "</div>");
    let mut groups: Vec<_> = report.pixels.iter().collect();
    groups.sort_by(|a, b| b.1.findings.cmp(&a.1.findings));
    for ((site, vendor, pixel), g) in groups.iter().take(30) {
        let _ = write!(
            h,
            r##"<figure><figcaption><strong>{}</strong> → {} <span class="muted">pixel {} · {} findings · {} → {}</span></figcaption>{}</figure>"##,
            esc(site),
            esc(vendor),
            esc(pixel),
            fmt_n(g.findings),
            esc(day(&g.first)),
            esc(day(&g.last)),
            chart(&g.days, &g.anomalies)
        );
    }
    if groups.len() > 30 {
        let _ = write!(
            h,
            "<p class=\"muted\">{} smaller groups not drawn.</p>",
            groups.len() - 30
        );
    }
    let _ = write!(h, "</section>");

    // ---------------------------------------------------------------- evidence
    let _ = write!(
        h,
        r##"<section id="evidence"><h2>Evidence by field family</h2><p class="muted">Redacted examples of what was sent, with the decoding steps from the raw request to the value{}.</p>
<table><thead><tr><th>Recipient / pixel</th><th>Field family</th><th>Finding</th><th>Examples (redacted)</th><th>Decoded through</th><th class="num">Hits</th></tr></thead><tbody>"##,
        if meta.reveal { " (raw: --reveal)" } else { "" }
    );
    let mut fams: Vec<_> = report
        .families
        .iter()
        .filter(|(k, _)| !k.4.starts_with("consent/") && !k.4.starts_with("transport/"))
        .collect();
    fams.sort_by(|a, b| b.1.hits.cmp(&a.1.hits));
    for (i, ((_, vendor, pixel, fam, ty), f)) in fams.iter().take(300).enumerate() {
        if i == 30 {
            let _ = write!(h, "</tbody></table><details><summary>All {} field families</summary><table><thead><tr><th>Recipient / pixel</th><th>Field family</th><th>Finding</th><th>Examples (redacted)</th><th>Decoded through</th><th class=\"num\">Hits</th></tr></thead><tbody>", fmt_n(fams.len() as u64));
        }
        let ex: Vec<String> = f
            .examples
            .iter()
            .map(|(e, _)| format!("<code>{}</code>", esc(e)))
            .collect();
        let chain = f.examples.first().map(|(_, c)| c.as_str()).unwrap_or("");
        let _ = write!(
            h,
            "<tr><td>{} <span class=\"muted\">{}</span></td><td><code>{}</code></td><td>{}{}{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(vendor), esc(pixel), esc(fam), esc(ty),
            if f.confirmed > 0 { format!(" <span class=\"tag\">{} confirmed</span>", fmt_n(f.confirmed)) } else { String::new() },
            if f.test_values > 0 { " <span class=\"tag\">test value</span>" } else { "" },
            ex.join("<br>"), esc(chain), fmt_n(f.hits)
        );
    }
    let _ = write!(
        h,
        "</tbody></table>{}</section>",
        if fams.len() > 30 { "</details>" } else { "" }
    );

    // ---------------------------------------------------------------- consent and transport
    for (id, title, prefix, explain) in [
        ("consent", "Consent violations", "consent/", "Google hits that carried personal data while their own consent state said storage was denied; with the probe, pixels that fired before the banner was answered or after \"reject\"."),
        ("transport", "Plaintext transport", "transport/", "Pixel requests sent over unencrypted HTTP: anyone on the path could read them."),
    ] {
        let rows: Vec<_> = report.families.iter().filter(|(k, _)| k.4.starts_with(prefix)).collect();
        let _ = write!(h, r##"<section id="{id}"><h2>{title}</h2><p class="muted">{explain}</p>"##);
        if rows.is_empty() {
            let _ = write!(h, "<p>None found.</p></section>");
            continue;
        }
        let _ = write!(h, "<table><thead><tr><th>Site</th><th>Recipient / pixel</th><th>Finding</th><th>From</th><th>To</th><th class=\"num\">Hits</th><th>Example</th></tr></thead><tbody>");
        for ((site, vendor, pixel, _, ty), f) in rows.iter().take(100) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                esc(site), esc(vendor), esc(pixel), esc(ty), esc(day(&f.first)), esc(day(&f.last)), fmt_n(f.hits),
                esc(f.examples.first().map(|(e, _)| e.as_str()).unwrap_or(""))
            );
        }
        let _ = write!(h, "</tbody></table></section>");
    }

    // ---------------------------------------------------------------- method
    let _ = write!(
        h,
        r##"<section id="method"><h2>Method and limits</h2><dl class="art33">"##
    );
    let mut inputs = String::from("<ul>");
    for (path, bytes, sha) in meta.inputs.iter().take(50) {
        let _ = write!(
            inputs,
            "<li><code>{}</code>{}{}</li>",
            esc(path),
            bytes
                .map(|b| format!(" <span class=\"muted\">{} bytes</span>", fmt_n(b)))
                .unwrap_or_default(),
            sha.as_ref()
                .map(|s| format!(" <span class=\"muted\">SHA-256 {}</span>", esc(s)))
                .unwrap_or_default()
        );
    }
    if meta.inputs.len() > 50 {
        let _ = write!(
            inputs,
            "<li>… {} more (manifest.json)</li>",
            meta.inputs.len() - 50
        );
    }
    inputs.push_str("</ul>");
    dt(&mut h, "Inputs", &inputs);
    dt(
        &mut h,
        "Time range of the data",
        &esc(&format!("{} to {}", report.first, report.last)),
    );
    dt(
        &mut h,
        "Formats",
        &esc(&report
            .formats
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")),
    );
    let mut skipped = String::new();
    if meta.skipped.is_empty() {
        skipped.push_str("none reported");
    } else {
        let parts: Vec<String> = meta
            .skipped
            .iter()
            .map(|(r, n)| format!("{} {}", esc(r), fmt_n(*n)))
            .collect();
        skipped.push_str(&parts.join(", "));
    }
    if report.folded > 0 {
        let _ = write!(skipped, "; {} findings of groups beyond the report's limits ({} pixels, {} field families) are counted under \"(other sites)\" per recipient", fmt_n(report.folded), fmt_n(super::MAX_PIXEL_GROUPS as u64), fmt_n(super::MAX_FAMILIES as u64));
    }
    if report.skipped_lines > 0 {
        let _ = write!(
            skipped,
            "; {} lines of the findings files were not findings",
            fmt_n(report.skipped_lines)
        );
    }
    dt(&mut h, "Records skipped", &skipped);
    if !meta.incomplete.is_empty() {
        let items: Vec<String> = meta
            .incomplete
            .iter()
            .map(|s| format!("<li>{}</li>", esc(s)))
            .collect();
        dt(
            &mut h,
            "Inputs not fully examined",
            &format!("<ul class=\"warn\">{}</ul>", items.join("")),
        );
    }
    dt(
        &mut h,
        "What this cannot show",
        "<ul><li>Egress logs see requests leaving the company's network: pixels in customers' own browsers go directly to the vendors and are only seen by walking the site (<code>pixelwarden probe</code>).</li><li>Proxy and sensor logs usually carry URLs, not request bodies: data sent in POST bodies is only visible where bodies were logged (nginx <code>request_body</code>, Zeek <code>post_body</code>, Suricata alerts, HAR, ICAP).</li><li>People are counted by keyed fingerprints of the identifiers seen; people whose data left only without an identifier are not counted.</li><li>Only requests to the vendor endpoints in the rule packs are examined.</li></ul>",
    );
    dt(
        &mut h,
        "Tool",
        &esc(&format!(
            "pixelwarden {}; rule packs SHA-256 {}{}",
            meta.tool_version,
            meta.packs_digest,
            if meta.command.is_empty() {
                String::new()
            } else {
                format!("; command: {}", meta.command)
            }
        )),
    );
    let _ = write!(
        h,
        "</dl></section></main><footer>pixelwarden · {} · {}</footer></body></html>\n",
        esc(&meta.generated_at),
        if meta.reveal {
            "contains raw values"
        } else {
            "redacted"
        }
    );
    h
}

/// Findings per day as stacked bars (one SVG, no script); long periods are drawn per week or
/// month so bars stay readable.
fn chart(
    days: &BTreeMap<String, [u64; 5]>,
    anomalies: &BTreeMap<String, std::collections::BTreeSet<String>>,
) -> String {
    // Bucket: day, ISO-ish week (first day of the 7-day run), or month.
    let span = days.len();
    let bucket = |d: &str| -> String {
        if span <= 90 {
            d.to_string()
        } else if span <= 400 {
            // Weeks counted from the first day.
            let first = days.keys().next().map(String::as_str).unwrap_or(d);
            let n = day_number(d).saturating_sub(day_number(first)) / 7;
            format!("{first}+{n}w")
        } else {
            d.get(..7).unwrap_or(d).to_string()
        }
    };
    let mut bars: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for (d, v) in days {
        let b = bars.entry(bucket(d)).or_default();
        for i in 0..5 {
            b[i] += v[i];
        }
    }
    let marks: std::collections::BTreeSet<String> = anomalies.keys().map(|d| bucket(d)).collect();
    let max = bars
        .values()
        .map(|v| v.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (w, hgt, pad) = (760.0f64, 130.0f64, 28.0f64);
    let n = bars.len().max(1) as f64;
    let step = (w - pad) / n;
    let bw = (step * 0.8).clamp(1.0, 36.0);
    let mut s = format!(
        r##"<svg viewBox="0 0 {w} {}" role="img" aria-label="findings per day" class="chart">"##,
        hgt + 22.0
    );
    let _ = write!(
        s,
        r##"<line x1="{pad}" y1="{hgt}" x2="{w}" y2="{hgt}" class="axis"/><text x="0" y="10" class="tick">{}</text><text x="0" y="{hgt}" class="tick">0</text>"##,
        fmt_n(max)
    );
    for (i, (b, v)) in bars.iter().enumerate() {
        let x = pad + i as f64 * step;
        let mut y = hgt;
        for (c, count) in v.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let bh = (*count as f64 / max as f64) * (hgt - 14.0);
            y -= bh;
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="{}"><title>{} {}: {}</title></rect>"##,
                COLORS[c],
                esc(b),
                CLASS_NAMES[c],
                count
            );
        }
        if marks.contains(b) {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" class="mark">◆</text>"##,
                x + bw / 2.0 - 4.0,
                (y - 3.0).max(9.0)
            );
        }
    }
    let (first, last) = (
        bars.keys().next().cloned().unwrap_or_default(),
        bars.keys().last().cloned().unwrap_or_default(),
    );
    let _ = write!(
        s,
        r##"<text x="{pad}" y="{}" class="tick">{}</text><text x="{w}" y="{}" class="tick" text-anchor="end">{}</text></svg>"##,
        hgt + 16.0,
        esc(&first),
        hgt + 16.0,
        esc(&last)
    );
    s
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (0 when it does not parse).
fn day_number(d: &str) -> u64 {
    chrono::NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
        .map(|x| {
            (x - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date"))
                .num_days()
                .max(0) as u64
        })
        .unwrap_or(0)
}

const CSS: &str = r##"
:root{--ink:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#f6f7f9;--accent:#1f4e8c}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:28px 40px 12px}header h1{margin:4px 0 6px;font-size:28px}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--accent);font-weight:600}
.scope{margin:0;font-size:16px}.meta{margin:6px 0 12px;color:var(--muted);font-size:13px}
nav{display:flex;flex-wrap:wrap;gap:14px;font-size:13px}nav a{color:var(--accent);text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 40px 40px}section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin:20px 0}
h2{margin:0 0 8px;font-size:20px}h3{margin:0 0 6px;font-size:15px}.lead{font-size:17px;margin:4px 0 16px}
.muted{color:var(--muted)}.warn{color:#a61b1b}.fill{color:#8a6d00;background:#fff6d6;padding:1px 4px;border-radius:3px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px}.card .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:650;margin:2px 0}.card .value .small{font-size:17px}
td.date{white-space:nowrap}details{margin-top:10px}summary{cursor:pointer;color:var(--accent);font-size:13px}.card .note{font-size:12px;color:var(--muted);overflow-wrap:anywhere}
.cats{display:grid;grid-template-columns:1fr 1fr;gap:20px;margin-top:16px}.cats ul{margin:0;padding-left:18px}
table{width:100%;border-collapse:collapse;font-size:13px;margin-top:8px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;background:#fafbfc}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eef0f3}
.sev-critical{background:#fbe3e1;color:#a61b1b}.sev-high{background:#fdebd9;color:#9a4a00}.sev-medium{background:#fff4cc;color:#7a5c00}.sev-low{background:#e6f0fb;color:#1f4e8c}
.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:11px;background:#eef0f3;color:var(--muted)}.tag.plain{background:#fbe3e1;color:#a61b1b}
dl.art33{display:grid;grid-template-columns:230px 1fr;gap:8px 18px;margin:8px 0 0}dl.art33 dt{font-weight:600}dl.art33 dd{margin:0}dl.art33 ul{margin:0;padding-left:18px}
figure{margin:14px 0 4px}figcaption{font-size:13px;margin-bottom:2px}.chart{width:100%;height:auto;max-height:170px}
.axis{stroke:#9aa3b2;stroke-width:1}.tick{font-size:10px;fill:var(--muted)}.mark{font-size:11px;fill:#1d2330}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
footer{text-align:center;color:var(--muted);font-size:12px;padding:0 0 30px}
@media print{details{display:block}details>summary{display:none}body{background:#fff;font-size:11pt}header{padding:0 0 8px}nav{display:none}main{padding:0;max-width:none}section{border:0;padding:0;margin:14px 0;break-inside:auto}
section h2{break-after:avoid}table{font-size:9pt}tr,figure{break-inside:avoid}.card{break-inside:avoid}}
"##;
