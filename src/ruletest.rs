//! `rules test`: every pack's own examples, run through the real engine (prefilter, parsing,
//! recognition, decoding, detection), exactly as a log line would go.

use crate::detect::{Class, Finding};
use crate::pipeline::Engine;
use crate::request::Request;
use crate::rules::{ExampleSpec, PackSpec};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct PackResult {
    pub pack: String,
    pub source: String,
    pub passed: usize,
    pub failures: Vec<String>,
}

/// Run the examples of every loaded pack.
pub fn run(engine: &Engine) -> Vec<PackResult> {
    engine.packs.iter().map(|p| run_pack(engine, p)).collect()
}

fn run_pack(engine: &Engine, pack: &PackSpec) -> PackResult {
    let mut result = PackResult {
        pack: pack.pack.id.clone(),
        source: pack.source.clone(),
        ..PackResult::default()
    };
    for (i, ex) in pack.examples.iter().enumerate() {
        let name = if ex.name.is_empty() {
            format!("example {}", i + 1)
        } else {
            ex.name.clone()
        };
        match check(engine, pack, ex) {
            Ok(()) => result.passed += 1,
            Err(why) => result.failures.push(format!("{name}: {why}")),
        }
    }
    result
}

/// A request line `METHOD URL` plus body into a request.
pub fn example_request(ex: &ExampleSpec, line: &str) -> Result<Request, String> {
    let (method, url) = line.split_once(' ').ok_or("request must be `METHOD URL`")?;
    let mut req = Request {
        method: method.to_string(),
        ..Request::default()
    };
    if !req.set_url(url) {
        return Err(format!("`{url}` is not an absolute URL"));
    }
    req.content_type = ex.content_type.clone();
    req.referer = ex.referer.clone();
    req.body = ex.body.clone().map(String::into_bytes);
    for (name, value) in &ex.headers {
        req.add_header(name, value);
    }
    Ok(req)
}

fn produced(engine: &Engine, req: &Request) -> Result<Option<Vec<Finding>>, String> {
    // The prefilter sees the request as a proxy log would print it.
    let raw = format!("{} {}://{}{}", req.method, "https", req.host, req.target);
    if !engine.recognizer.prefilter(raw.as_bytes()) {
        return Ok(None);
    }
    Ok(engine.inspect(req).map(|(_, f)| f))
}

fn labels(findings: &[Finding]) -> BTreeSet<String> {
    findings
        .iter()
        .map(|f| format!("{}/{}", f.class, f.kind))
        .collect()
}

fn check(engine: &Engine, pack: &PackSpec, ex: &ExampleSpec) -> Result<(), String> {
    if let Some(line) = &ex.request {
        let req = example_request(ex, line)?;
        let found = produced(engine, &req)?;
        let want_hit = ex.hit.unwrap_or(true);
        return match (found, want_hit) {
            (None, false) => Ok(()),
            (Some(_), false) => Err("recognised as a pixel hit but should not be".into()),
            (None, true) => Err("not recognised as a pixel hit".into()),
            (Some(findings), true) => compare(&labels(&findings), ex),
        };
    }
    let text = ex
        .text
        .as_deref()
        .ok_or("an example needs `request` or `text`")?;
    if !pack.texts.is_empty() || !pack.platforms.is_empty() {
        // Consent: what a banner button with this text does (`expect = ["accept"]`, `["reject"]`
        // or `[]`), inside a recognised banner when `banner = true`.
        let got: BTreeSet<String> = engine
            .banners
            .classify(text, ex.banner.unwrap_or(false))
            .map(|c| c.as_str().to_string())
            .into_iter()
            .collect();
        return compare(&got, ex);
    }
    if !pack.terms.is_empty() {
        // Vocabulary: the text as a product name in a Meta hit.
        let field = ex.field.as_deref().unwrap_or("cd[content_name]");
        let findings = run_text(engine, field, text)?;
        let hit = findings
            .iter()
            .any(|f| *f.detector == *pack.pack.id && f.class == Class::Sensitive);
        let want = ex.matches.ok_or("vocabulary examples need `matches`")?;
        return if hit == want {
            Ok(())
        } else if want {
            Err(format!("`{text}` should match but does not"))
        } else {
            let term = findings
                .iter()
                .find(|f| *f.detector == *pack.pack.id)
                .map(|f| f.value.expose().to_string())
                .unwrap_or_default();
            Err(format!(
                "`{text}` should not match but matches (in `{term}`)"
            ))
        };
    }
    let field = ex.field.as_deref().unwrap_or("cd[note]");
    let findings = run_text(engine, field, text)?;
    // Only identity, PII and hashed classes are the business of PII/placeholder packs.
    let got: BTreeSet<String> = labels(&findings)
        .into_iter()
        .filter(|l| l.starts_with("pii/") || l.starts_with("hashed_pii/"))
        .collect();
    compare(&got, ex)
}

fn run_text(engine: &Engine, field: &str, text: &str) -> Result<Vec<Finding>, String> {
    let value: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let url = format!("https://www.facebook.com/tr/?id=1&ev=Test&{field}={value}");
    let mut req = Request {
        method: "GET".into(),
        ..Request::default()
    };
    req.set_url(&url);
    produced(engine, &req)?.ok_or_else(|| "the test carrier request was not recognised".to_string())
}

fn compare(got: &BTreeSet<String>, ex: &ExampleSpec) -> Result<(), String> {
    let want: BTreeSet<String> = ex.expect.iter().cloned().collect();
    let rejected: Vec<&String> = ex.reject.iter().filter(|r| got.contains(*r)).collect();
    if !rejected.is_empty() {
        return Err(format!("produced rejected {rejected:?}"));
    }
    if *got != want {
        let missing: Vec<_> = want.difference(got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        return Err(format!("missing {missing:?}, unexpected {extra:?}"));
    }
    Ok(())
}
