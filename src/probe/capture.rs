//! What the probe captured of each request a page made, and how it becomes a
//! [`Request`] for the engine and a HAR entry for the evidence file. Pure.

use crate::pipeline::Engine;
use crate::redact::Redactor;
use crate::request::Request;
use serde_json::{json, Value};
use std::sync::Arc;

/// Where a request stands towards the consent decision of its walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No consent banner was seen on the site (nothing to wait for).
    NoBanner,
    /// A banner was showing and had not been answered.
    BeforeDecision,
    AfterAccept,
    AfterReject,
}

/// One request a page made, as the browser was about to send it.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Its number within the walk, from 1.
    pub seq: u64,
    /// Milliseconds since the walk started.
    pub at_ms: u64,
    /// The page it was made from (the top document's URL).
    pub page: Arc<str>,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// `Image`, `XHR`, `Fetch`, `Ping` (sendBeacon), `Script`, `Document` ...
    pub resource_type: String,
    /// Failed inside the browser: a recognised pixel endpoint, never sent.
    pub blocked: bool,
    pub phase: Phase,
}

impl Captured {
    pub fn to_request(&self) -> Request {
        let mut req = Request {
            method: self.method.to_ascii_uppercase(),
            ..Request::default()
        };
        req.set_url(&self.url);
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("referer") {
                req.referer = Some(value.clone());
            } else if name.eq_ignore_ascii_case("content-type") {
                req.content_type = Some(value.clone());
            } else {
                req.add_header(name, value);
            }
        }
        req.body = self.body.clone();
        req
    }

    /// The request as a HAR 1.2 entry. Unless `reveal`, every value the engine finds personal
    /// or secret, and every canary value (plain or as the vendors hash it), is replaced by its
    /// redacted evidence in the URL, the headers and the body.
    pub fn har_entry(&self, started: chrono::DateTime<chrono::Utc>, replace: &Redactions) -> Value {
        let at = started + chrono::Duration::milliseconds(self.at_ms as i64);
        let url = replace.apply(&self.url);
        let headers: Vec<Value> = self
            .headers
            .iter()
            .map(|(n, v)| json!({"name": n, "value": replace.apply(v)}))
            .collect();
        let query: Vec<Value> = url
            .split_once('?')
            .map(|(_, q)| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(n, v)| json!({"name": n, "value": v}))
                    .collect()
            })
            .unwrap_or_default();
        let mut request = json!({
            "method": self.method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": headers,
            "queryString": query,
            "cookies": [],
            "headersSize": -1,
            "bodySize": self.body.as_ref().map_or(0, |b| b.len() as i64),
        });
        if let Some(body) = &self.body {
            let mime = self
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                .map_or("", |(_, v)| v.as_str());
            request["postData"] = json!({
                "mimeType": mime,
                "text": replace.apply(&String::from_utf8_lossy(body)),
            });
        }
        json!({
            "startedDateTime": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "time": 0,
            "request": request,
            "response": {
                "status": 0, "statusText": if self.blocked { "blocked by pixelwarden (not sent)" } else { "" },
                "httpVersion": "", "headers": [], "cookies": [], "content": {"size": 0, "mimeType": ""},
                "redirectURL": "", "headersSize": -1, "bodySize": -1,
                "_error": if self.blocked { "net::ERR_BLOCKED_BY_CLIENT" } else { "" },
            },
            "cache": {},
            "timings": {"send": 0, "wait": 0, "receive": 0},
            "pageref": self.page.to_string(),
            "_resourceType": self.resource_type,
            "_pixelwardenRequest": self.seq,
        })
    }
}

/// Raw values and what replaces them in an evidence file, longest first.
#[derive(Debug, Default, Clone)]
pub struct Redactions {
    pairs: Vec<(String, String)>,
}

impl Redactions {
    /// Nothing is replaced (`--reveal`).
    pub fn none() -> Redactions {
        Redactions::default()
    }

    pub fn add(&mut self, raw: &str, with: &str) {
        if raw.len() < 3 || raw == with {
            return;
        }
        // As written, as a form encodes it, as JavaScript's encodeURIComponent does, and with
        // every non-alphanumeric byte escaped.
        const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'!')
            .remove(b'~')
            .remove(b'*')
            .remove(b'\'')
            .remove(b'(')
            .remove(b')');
        for form in [
            raw.to_string(),
            form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>(),
            percent_encoding::utf8_percent_encode(raw, URI_COMPONENT).to_string(),
            percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        ] {
            if !self.pairs.iter().any(|(r, _)| *r == form) {
                self.pairs.push((form, with.to_string()));
            }
        }
        self.pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()));
    }

    /// What the engine finds in a request: each finding's raw value gives way to its evidence.
    pub fn add_findings(&mut self, engine: &Engine, redactor: &Redactor, req: &Request) {
        if let Some((_, findings)) = engine.inspect(req) {
            for f in &findings {
                let raw = f.value.expose();
                self.add(raw, &redactor.evidence(f).0);
            }
        }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (raw, with) in &self.pairs {
            if out.contains(raw.as_str()) {
                out = out.replace(raw.as_str(), with);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_becomes_a_request_with_its_headers_and_body() {
        let c = Captured {
            seq: 3,
            at_ms: 120,
            page: Arc::from("https://shop.example/konto"),
            method: "post".into(),
            url: "https://analytics.tiktok.com/api/v2/pixel".into(),
            headers: vec![
                ("Content-Type".into(), "text/plain".into()),
                ("Referer".into(), "https://shop.example/".into()),
                ("User-Agent".into(), "x".into()),
                ("X-Custom".into(), "1".into()),
            ],
            body: Some(b"{\"a\":1}".to_vec()),
            resource_type: "Fetch".into(),
            blocked: true,
            phase: Phase::BeforeDecision,
        };
        let r = c.to_request();
        assert_eq!(r.method, "POST");
        assert_eq!(r.host, "analytics.tiktok.com");
        assert_eq!(r.content_type.as_deref(), Some("text/plain"));
        assert_eq!(r.referer.as_deref(), Some("https://shop.example/"));
        assert_eq!(r.headers, vec![("x-custom".to_string(), "1".to_string())]);
        let mut red = Redactions::default();
        red.add("{\"a\":1}", "[redacted]");
        let har = c.har_entry(chrono::Utc::now(), &red);
        assert_eq!(har["request"]["postData"]["text"], "[redacted]");
        assert_eq!(har["response"]["_error"], "net::ERR_BLOCKED_BY_CLIENT");
    }

    #[test]
    fn redactions_cover_encoded_forms() {
        let mut red = Redactions::default();
        red.add("anna@example.se", "a***@e***.se");
        assert_eq!(
            red.apply("x?em=anna%40example.se&b=anna@example.se"),
            "x?em=a***@e***.se&b=a***@e***.se"
        );
    }
}
