//! The normalised egress request: the one type that flows from `format` to `pixel`.
//!
//! Every log format is reduced to this shape, so vendor recognition and decoding never know
//! which proxy or sensor produced a record. Where a record came from is kept apart in
//! [`Origin`], so findings can point back to the exact line, HAR entry or Kafka offset.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

/// One HTTP request as an egress log saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Event time from the log, never the wall clock.
    pub ts: Option<DateTime<Utc>>,
    pub method: String,
    /// `None` when the log does not say (origin-form targets, sensors without port).
    pub scheme: Option<Scheme>,
    /// Lower-case host without port; empty when the log does not carry one.
    pub host: String,
    /// Path and query exactly as logged (still percent-encoded).
    pub target: String,
    pub referer: Option<String>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
    /// The log cut the body (Zeek `post_body` ending in `...`, or our own `max_body_bytes`).
    pub body_truncated: bool,
    /// Request headers other than Referer and Content-Type, when the source has them (HAR,
    /// a browser capture, ICAP); lower-case names. Logs of proxies and sensors have none.
    pub headers: Vec<(String, String)>,
}

/// Headers that carry nothing of a person's and nothing secret, and are not decoded:
/// transport, caching, content negotiation, and the browser's own client hints.
const PLAIN_HEADERS: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "pragma",
    "origin",
    "user-agent",
    "te",
    "upgrade-insecure-requests",
    "priority",
    "dnt",
    "keep-alive",
    "transfer-encoding",
    "expect",
    "if-none-match",
    "if-modified-since",
    "range",
];

impl Request {
    /// Keep a request header for decoding, unless it is one of the plain transport headers
    /// (`sec-*` client hints included); bounded to 64 headers.
    pub fn add_header(&mut self, name: &str, value: &str) {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty()
            || name.starts_with(':')
            || name.starts_with("sec-")
            || PLAIN_HEADERS.contains(&name.as_str())
            || self.headers.len() >= 64
        {
            return;
        }
        self.headers.push((name, value.to_string()));
    }

    /// The path part of the target (before `?`).
    pub fn path(&self) -> &str {
        let t = self.target.as_str();
        let end = memchr::memchr2(b'?', b'#', t.as_bytes()).unwrap_or(t.len());
        &t[..end]
    }

    /// The raw query string (after `?`, before `#`), if any.
    pub fn query(&self) -> Option<&str> {
        let t = self.target.as_str();
        let start = memchr::memchr(b'?', t.as_bytes())? + 1;
        let end = memchr::memchr(b'#', &t.as_bytes()[start..]).map_or(t.len(), |i| start + i);
        Some(&t[start..end])
    }

    /// Fill scheme, host and target from an absolute URL or an origin-form target.
    /// Returns false when the text is neither.
    pub fn set_url(&mut self, url: &str) -> bool {
        let url = url.trim();
        if let Some((scheme, rest)) = split_scheme(url) {
            self.scheme = Some(scheme);
            let slash = memchr::memchr2(b'/', b'?', rest.as_bytes()).unwrap_or(rest.len());
            let authority = &rest[..slash];
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            self.host = strip_port(authority).to_ascii_lowercase();
            self.target = if slash < rest.len() {
                let t = &rest[slash..];
                if t.starts_with('?') {
                    format!("/{t}")
                } else {
                    t.to_string()
                }
            } else {
                "/".to_string()
            };
            !self.host.is_empty()
        } else if url.starts_with('/') {
            self.target = url.to_string();
            true
        } else {
            false
        }
    }

    /// Set the host from a `host[:port]` value when none is known yet.
    pub fn set_host_if_empty(&mut self, host: &str) {
        if self.host.is_empty() {
            self.host = strip_port(host.trim()).to_ascii_lowercase();
        }
    }

    /// Set the scheme from a destination port when the log gives no scheme.
    pub fn scheme_from_port(&mut self, port: Option<u64>) {
        if self.scheme.is_none() {
            self.scheme = match port {
                Some(80) => Some(Scheme::Http),
                Some(443) => Some(Scheme::Https),
                _ => None,
            };
        }
    }
}

fn split_scheme(url: &str) -> Option<(Scheme, &str)> {
    let has = |p: &str| crate::pixel::decode::starts_with_ignore_case(url, p);
    if has("https://") {
        Some((Scheme::Https, &url[8..]))
    } else if has("http://") {
        Some((Scheme::Http, &url[7..]))
    } else if has("wss://") {
        // WebSocket upgrades (session recorders) as HAR producers record them.
        Some((Scheme::Https, &url[6..]))
    } else if has("ws://") {
        Some((Scheme::Http, &url[5..]))
    } else {
        None
    }
}

/// `host:port` → `host`, `[v6]:port` → `v6`.
pub fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rfind(':') {
        Some(i) if authority[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &authority[..i],
        _ => authority,
    }
}

/// The host of an absolute URL, lower-cased, if the text is one.
pub fn url_host(url: &str) -> Option<String> {
    let (_, rest) = split_scheme(url.trim())?;
    let end = memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()).unwrap_or(rest.len());
    let authority = rest[..end].rsplit('@').next()?;
    let host = strip_port(authority).to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Origin {
    /// A line of a line-oriented file (1-based).
    Line { path: Arc<str>, line: u64 },
    /// An entry of a HAR file (0-based, as in `log.entries[N]`).
    Entry { path: Arc<str>, entry: u64 },
    /// A Kafka message.
    Kafka {
        topic: Arc<str>,
        partition: i32,
        offset: i64,
    },
    /// A request a page made while `probe` walked a site in a browser.
    Probe {
        /// The URL the walk (or journey) started from.
        probe: Arc<str>,
        /// The page the request was made from.
        page: Arc<str>,
        /// The request's number within the walk, from 1.
        request: u64,
        /// The journey's name, or `null` for the crawl.
        journey: Option<Arc<str>>,
        /// The consent mode of the walk: `ignore`, `reject` or `accept`.
        consent: &'static str,
    },
    /// A request a proxy handed over ICAP.
    Icap {
        /// The ICAP client (the proxy) `address:port`.
        icap_client: Arc<str>,
        /// The client address the proxy passed (`X-Client-IP`), if any.
        client_ip: Option<Arc<str>>,
        /// The request's number on this service, from 1.
        request: u64,
    },
}

impl Origin {
    pub fn label(&self) -> String {
        match self {
            Origin::Line { path, line } => format!("{path}:{line}"),
            Origin::Entry { path, entry } => format!("{path}#entry{entry}"),
            Origin::Kafka {
                topic,
                partition,
                offset,
            } => format!("{topic}/{partition}@{offset}"),
            Origin::Probe { page, request, .. } => format!("{page}#request{request}"),
            Origin::Icap {
                icap_client,
                request,
                ..
            } => format!("icap:{icap_client}#{request}"),
        }
    }
}

/// Parse the timestamp shapes seen in egress logs.
pub fn parse_epoch(text: &str) -> Option<DateTime<Utc>> {
    let secs: f64 = text.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    // Milliseconds when the number is clearly too large to be seconds.
    let secs = if secs > 1e11 { secs / 1000.0 } else { secs };
    let whole = secs.trunc() as i64;
    let nanos = ((secs - secs.trunc()) * 1e9).round() as u32;
    Utc.timestamp_opt(whole, nanos.min(999_999_999)).single()
}

/// RFC 3339 / ISO 8601 with optional offset forms (`+0000`, `Z`, `+01:00`).
pub fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Some(naive.and_utc());
        }
    }
    None
}

/// Common log format time: `25/Oct/2016:14:49:34 +0200`.
pub fn parse_clf_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text.trim(), "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Any timestamp: epoch number or ISO text.
pub fn parse_any_time(text: &str) -> Option<DateTime<Utc>> {
    parse_iso(text)
        .or_else(|| parse_epoch(text))
        .or_else(|| parse_clf_time(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_url_splits_into_parts() {
        let mut r = Request::default();
        assert!(r.set_url("https://WWW.Facebook.com:443/tr/?id=1&ev=PageView"));
        assert_eq!(r.scheme, Some(Scheme::Https));
        assert_eq!(r.host, "www.facebook.com");
        assert_eq!(r.path(), "/tr/");
        assert_eq!(r.query(), Some("id=1&ev=PageView"));
    }

    #[test]
    fn query_without_path_gets_a_slash() {
        let mut r = Request::default();
        assert!(r.set_url("http://example.com?a=1"));
        assert_eq!(r.target, "/?a=1");
        assert_eq!(r.scheme, Some(Scheme::Http));
        assert!(r.set_url("wss://ws12.hotjar.com/api/v2/client/ws?site_id=1"));
        assert_eq!(
            (r.scheme, r.host.as_str()),
            (Some(Scheme::Https), "ws12.hotjar.com")
        );
    }

    #[test]
    fn timestamps_of_every_shape() {
        assert_eq!(
            parse_epoch("1591367999.512593").unwrap().timestamp(),
            1591367999
        );
        assert_eq!(
            parse_epoch("1686170368751").unwrap().timestamp(),
            1686170368
        );
        assert!(parse_iso("2024-03-04T08:00:00.000000+0000").is_some());
        assert!(parse_iso("2025-04-28T15:23:24.940Z").is_some());
        assert_eq!(
            parse_clf_time("25/Oct/2016:14:49:34 +0200")
                .unwrap()
                .to_rfc3339(),
            "2016-10-25T12:49:34+00:00"
        );
        assert!(parse_any_time("not a time").is_none());
    }

    #[test]
    fn url_host_ignores_port_and_userinfo() {
        assert_eq!(
            url_host("https://u:p@Shop.Example.se:8443/x").as_deref(),
            Some("shop.example.se")
        );
        assert_eq!(url_host("/relative"), None);
    }
}
