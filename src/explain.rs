//! `explain`: one request decoded the way Meta's Event Test Tool shows it, with the findings
//! inline and a sentence on what is wrong with each. Values that findings flagged are shown
//! redacted unless `--reveal`.

use crate::detect::{Class, Finding};
use crate::format::{sniff, Format, LineParser, Parsed};
use crate::pipeline::Engine;
use crate::pixel::consent::{Consent, Signal};
use crate::pixel::decode::Step;
use crate::redact::Redactor;
use crate::request::Request;
use std::fmt::Write as _;

/// Turn what the user gave `explain` into a request: a URL, a raw HTTP request, or one log line.
pub fn parse_input(text: &str, format: Option<Format>) -> Result<Request, String> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let first = t.lines().next().unwrap_or("").trim();
    if first.starts_with("http://") || first.starts_with("https://") {
        let mut req = Request {
            method: "GET".into(),
            ..Request::default()
        };
        req.set_url(first);
        return Ok(req);
    }
    let parts: Vec<&str> = first.split(' ').collect();
    if format.is_none()
        && parts.len() == 3
        && parts[2].starts_with("HTTP/")
        && parts[0].bytes().all(|b| b.is_ascii_uppercase())
    {
        return parse_http(t);
    }
    let format = format
        .or_else(|| sniff(t.as_bytes()))
        .ok_or("input is not a URL, an HTTP request or a log line of a known format")?;
    if format == Format::Har {
        return Err("explain takes one request; use `scan` for HAR files".into());
    }
    let mut parser = LineParser::new(format);
    for line in t.lines() {
        match parser.parse(line) {
            Ok(Parsed::Request(r)) => return Ok(*r),
            Ok(Parsed::Ignored) => continue,
            Err(skip) => {
                return Err(format!(
                    "{format} line not understood: {} ({})",
                    skip.detail, skip.reason
                ))
            }
        }
    }
    Err("no request found in the input".into())
}

fn parse_http(text: &str) -> Result<Request, String> {
    let (head, body) = match text.find("\r\n\r\n") {
        Some(i) => (&text[..i], &text[i + 4..]),
        None => match text.find("\n\n") {
            Some(i) => (&text[..i], &text[i + 2..]),
            None => (text, ""),
        },
    };
    let mut lines = head.lines();
    let start = lines.next().unwrap_or("");
    let mut it = start.split(' ');
    let (method, target) = (it.next().unwrap_or("GET"), it.next().unwrap_or("/"));
    let mut req = Request {
        method: method.to_string(),
        ..Request::default()
    };
    let mut host = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "host" => host = Some(value),
                "content-type" => req.content_type = Some(value),
                "referer" => req.referer = Some(value),
                _ => {}
            }
        }
    }
    if target.starts_with('/') {
        let host = host.ok_or("origin-form request without a Host header")?;
        req.set_url(&format!("https://{host}{target}"));
    } else if !req.set_url(target) {
        return Err(format!("request target `{target}` is not understood"));
    }
    if !body.is_empty() {
        req.body = Some(body.as_bytes().to_vec());
    }
    Ok(req)
}

/// Why a finding matters, in one sentence.
pub fn why(f: &Finding) -> String {
    if f.test_value {
        return format!(
            "a published test {} (no real person): the form's content reaches the vendor, so a real one would too",
            f.kind.replace('_', " ")
        );
    }
    match (f.class, &*f.kind) {
        (Class::HashedPii, k) => format!(
            "a hashed {k} identifies the person: the vendor matches the hash against its own users (hashing is not anonymisation)"
        ),
        (Class::Pii, k) => format!("the person's {k} is sent in plain text to the vendor"),
        (Class::Sensitive, k) => format!("reveals a GDPR Art. 9 special category ({k}) of what the person looked at or bought"),
        (Class::Secret, _) => "an API credential travels in the request: anyone holding the log can send events as the site".into(),
        (Class::Consent, _) => "personal data is sent although the hit itself says consent was denied".into(),
        (Class::Transport, _) => "the pixel payload crosses the network unencrypted".into(),
        (Class::Anomaly, _) => "what this pixel sends has changed".into(),
    }
}

/// Render the decoded request with findings inline.
pub fn render(engine: &Engine, req: &Request, redactor: &Redactor) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "request     {} {}://{}{}",
        req.method,
        if req.scheme == Some(crate::request::Scheme::Http) {
            "http"
        } else {
            "https"
        },
        req.host,
        req.path()
    );
    let Some((beacon, findings)) = engine.inspect(req) else {
        let _ = writeln!(
            out,
            "verdict     not a pixel hit: no vendor endpoint matches this host and path"
        );
        return out;
    };
    let vendor = &engine.recognizer.vendors[beacon.vendor];
    let _ = writeln!(
        out,
        "vendor      {} ({}, endpoint {})",
        vendor.name, vendor.pack, beacon.endpoint
    );
    let _ = writeln!(
        out,
        "pixel id    {}",
        beacon.pixel_id.as_deref().unwrap_or("-")
    );
    let events: Vec<&str> = beacon
        .events
        .iter()
        .map(String::as_str)
        .filter(|e| !e.is_empty())
        .collect();
    let _ = writeln!(
        out,
        "event       {}",
        if events.is_empty() {
            "-".into()
        } else {
            events.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "site        {}",
        beacon.site.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(out, "consent     {}", consent_text(beacon.consent.as_ref()));
    // Every raw value a finding flagged, plus its encoded forms, is masked wherever it appears.
    let mut masks: Vec<(String, String)> = Vec::new();
    if !redactor.reveal() {
        for f in &findings {
            if matches!(f.class, Class::Pii | Class::HashedPii | Class::Secret) {
                let raw = f.value.expose().to_string();
                let (ev, _) = redactor.evidence(f);
                let once: String = form_urlencoded::byte_serialize(raw.as_bytes()).collect();
                let twice: String = form_urlencoded::byte_serialize(once.as_bytes()).collect();
                for form in [raw, once, twice] {
                    if !form.is_empty() {
                        masks.push((form, format!("[{ev}]")));
                    }
                }
            }
        }
        masks.sort_by_key(|(raw, _)| std::cmp::Reverse(raw.len()));
    }
    let show = |v: &str| -> String {
        let mut s = v.to_string();
        for (raw, ev) in &masks {
            if s.contains(raw.as_str()) {
                s = s.replace(raw.as_str(), ev);
            }
        }
        let shown: String = s.chars().take(160).collect();
        if s.chars().count() > 160 {
            format!("{shown}…")
        } else {
            shown
        }
    };
    let _ = writeln!(out, "\npayload ({} fields)", beacon.fields.len());
    let width = beacon
        .fields
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    for f in &beacon.fields {
        // Nested: reached through a second decoding (JSON in a parameter, a URL's query, items).
        let nested = f
            .chain
            .iter()
            .skip(1)
            .any(|s| matches!(s, Step::Json | Step::Url | Step::Items | Step::Base64));
        let indent = if nested { "    " } else { "  " };
        let chain: Vec<&str> = f.chain.iter().map(|s| s.as_str()).collect();
        let event = if beacon.events.len() > 1 {
            format!(" [event {}]", f.event)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{indent}{:<width$}  {}   ({}){event}",
            f.path,
            show(&f.value),
            chain.join(" → ")
        );
        if let Some((kind, _)) = vendor.semantics.identity(&f.path) {
            let placeholder = engine.detectors.placeholders.is_plain(&f.value)
                || crate::detect::hashes::hash_shape(&f.value)
                    .is_some_and(|h| engine.detectors.placeholders.is_hash(&h));
            if placeholder {
                let _ = writeln!(out, "{indent}  · {kind} field holds a placeholder (empty, undefined, null, test...): not a person");
            }
        }
        for x in findings
            .iter()
            .filter(|x| x.field == f.path && x.event == f.event)
        {
            let (evidence, _) = redactor.evidence(x);
            let fp = redactor.fingerprint(&x.kind, x.norm.expose());
            let _ = writeln!(
                out,
                "{indent}  ⚠ {}/{} [{}] {}  evidence {}  {}",
                x.class, x.kind, x.severity, x.detector, evidence, fp
            );
            let _ = writeln!(out, "{indent}    {}", why(x));
        }
    }
    let beacon_level: Vec<&Finding> = findings
        .iter()
        .filter(|x| !beacon.fields.iter().any(|f| f.path == x.field))
        .collect();
    for x in &beacon_level {
        let (evidence, _) = redactor.evidence(x);
        let _ = writeln!(
            out,
            "  ⚠ {}/{} [{}] {}  {}",
            x.class, x.kind, x.severity, x.detector, evidence
        );
        let _ = writeln!(out, "    {}", why(x));
    }
    let mut counts = std::collections::BTreeMap::new();
    for x in &findings {
        *counts.entry(std::cmp::Reverse(x.severity)).or_insert(0) += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {}", s.0)).collect();
    let _ = writeln!(
        out,
        "\nverdict     {}",
        if findings.is_empty() {
            "pixel hit, nothing personal found".into()
        } else {
            format!("{} findings ({})", findings.len(), summary.join(", "))
        }
    );
    if beacon.notes.body_truncated {
        let _ = writeln!(
            out,
            "note        the body was cut (by the log or max_body_bytes); more may have been sent"
        );
    }
    out
}

fn consent_text(c: Option<&Consent>) -> String {
    let Some(c) = c else {
        return "none carried on the wire".into();
    };
    let s = |x: Signal| match x {
        Signal::Granted => "granted",
        Signal::Denied => "denied",
        Signal::NotSet => "not set",
    };
    format!(
        "{}: ad_storage {}, analytics_storage {}, ad_user_data {}, ad_personalization {}",
        c.evidence(),
        s(c.ad_storage),
        s(c.analytics_storage),
        s(c.ad_user_data),
        s(c.ad_personalization)
    )
}
