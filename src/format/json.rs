//! JSON-lines formats: nginx `escape=json`, Zeek JSON, Suricata EVE and ECS.
//!
//! Keys are looked up both nested (`{"url":{"full":..}}`) and flattened (`{"url.full":..}`),
//! because shippers disagree. Fields named in the documentation of each format are tried in
//! order; missing ones are simply absent.

use super::{Format, Parsed};
use crate::error::{Skip, SkipReason};
use crate::request::{parse_any_time, Request};
use base64::Engine as _;
use serde_json::Value;

/// Decide which JSON-lines format an object belongs to.
pub fn sniff_object(v: &Value) -> Option<Format> {
    let obj = v.as_object()?;
    if obj.contains_key("event_type") {
        return Some(Format::Eve);
    }
    if obj.get("log").and_then(|l| l.get("entries")).is_some() {
        return Some(Format::Har);
    }
    if obj.contains_key("startedDateTime") && obj.get("request").is_some_and(Value::is_object) {
        return Some(Format::HarEntry);
    }
    if get(v, "url.full").is_some()
        || get(v, "url.original").is_some()
        || get(v, "http.request.method").is_some()
    {
        return Some(Format::Ecs);
    }
    if obj.contains_key("uid")
        || obj.contains_key("id.orig_h")
        || (obj.contains_key("uri") && obj.contains_key("ts"))
    {
        return Some(Format::ZeekJson);
    }
    if ["request_uri", "request", "request_method", "uri"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return Some(Format::NginxJson);
    }
    None
}

/// Decide from the keys in a JSON text that does not parse (cut by the sniff window, or a
/// document spread over lines).
pub fn sniff_partial(text: &str) -> Option<Format> {
    let first_line = text.lines().next().unwrap_or("").trim();
    if first_line == "{" || first_line.starts_with("{\"log\"") {
        return text.contains("\"log\"").then_some(Format::Har);
    }
    let has = |k: &str| first_line.contains(k);
    if has("\"event_type\"") {
        Some(Format::Eve)
    } else if has("\"url.full\"")
        || has("\"url.original\"")
        || has("\"url\":{\"full\"")
        || has("\"url\":{\"original\"")
    {
        Some(Format::Ecs)
    } else if has("\"id.orig_h\"") || has("\"uid\"") {
        Some(Format::ZeekJson)
    } else if [
        "\"request_uri\"",
        "\"request_method\"",
        "\"request\"",
        "\"request_body\"",
        "\"time_iso8601\"",
        "\"http_host\"",
        "\"remote_addr\"",
        "\"http_referer\"",
    ]
    .iter()
    .any(|k| has(k))
    {
        Some(Format::NginxJson)
    } else {
        None
    }
}

pub fn parse(format: Format, line: &str) -> Result<Parsed, Skip> {
    let v: Value = serde_json::from_str(line).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            Skip::new(
                SkipReason::TooDeep,
                "json: nesting deeper than the parser allows",
            )
        } else {
            Skip::new(SkipReason::BadJson, format!("json: {}", e.classify_name()))
        }
    })?;
    if !v.is_object() {
        return Err(Skip::new(
            SkipReason::BadJson,
            "json: record is not an object",
        ));
    }
    match format {
        Format::NginxJson => nginx(&v),
        Format::ZeekJson => zeek(&v),
        Format::Eve => eve(&v),
        Format::Ecs => ecs(&v),
        _ => Err(Skip::new(
            SkipReason::UnknownFormat,
            "json: not a JSON-lines format",
        )),
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "truncated object",
        }
    }
}

/// Look a dotted key up, nested or flattened or mixed.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    if let Some(found) = obj.get(path) {
        return Some(found);
    }
    let mut search = path;
    while let Some(dot) = search.rfind('.') {
        let (head, _) = path.split_at(dot);
        if let Some(inner) = obj.get(head) {
            if let Some(found) = get(inner, &path[dot + 1..]) {
                return Some(found);
            }
        }
        search = &path[..dot];
    }
    None
}

/// A string value (numbers are rendered), ignoring `null`, `""` and `-`.
fn text(v: &Value, path: &str) -> Option<String> {
    let s = match get(v, path)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s != "-").then_some(s)
}

fn first_text(v: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| text(v, p))
}

fn port(v: &Value, paths: &[&str]) -> Option<u64> {
    paths.iter().find_map(|p| match get(v, p)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

fn time(v: &Value, paths: &[&str]) -> Result<Option<chrono::DateTime<chrono::Utc>>, Skip> {
    match first_text(v, paths) {
        None => Ok(None),
        Some(t) => parse_any_time(&t).map(Some).ok_or_else(|| {
            Skip::new(
                SkipReason::BadTimestamp,
                "json: timestamp field is not a time",
            )
        }),
    }
}

fn set_target(req: &mut Request, url: &str, what: &str) -> Result<(), Skip> {
    if req.set_url(url) {
        Ok(())
    } else {
        Err(Skip::new(
            SkipReason::BadUrl,
            format!("{what}: URL is neither absolute nor origin-form"),
        ))
    }
}

fn nginx(v: &Value) -> Result<Parsed, Skip> {
    let mut req = Request {
        ts: time(
            v,
            &[
                "time_iso8601",
                "@timestamp",
                "timestamp",
                "time",
                "time_local",
                "msec",
            ],
        )?,
        ..Request::default()
    };
    let request_line = text(v, "request");
    req.method = first_text(v, &["request_method", "method"])
        .or_else(|| {
            request_line
                .as_deref()
                .and_then(|l| l.split(' ').next())
                .map(str::to_string)
        })
        .unwrap_or_default()
        .to_ascii_uppercase();
    if req.method == "CONNECT" {
        return Ok(Parsed::Ignored);
    }
    let target = text(v, "request_uri")
        .or_else(|| {
            let uri = text(v, "uri")?;
            match first_text(v, &["args", "query_string", "request_param"]) {
                Some(q) => Some(format!("{uri}?{q}")),
                None => Some(uri),
            }
        })
        .or_else(|| {
            request_line
                .as_deref()
                .and_then(|l| l.split(' ').nth(1))
                .map(str::to_string)
        })
        .ok_or_else(|| {
            Skip::new(
                SkipReason::BadUrl,
                "nginx-json: no request_uri, uri or request",
            )
        })?;
    set_target(&mut req, &target, "nginx-json")?;
    if let Some(host) = first_text(v, &["host", "http_host", "server_name"]) {
        req.set_host_if_empty(&host);
    }
    req.scheme = req.scheme.or(match text(v, "scheme").as_deref() {
        Some("http") => Some(crate::request::Scheme::Http),
        Some("https") => Some(crate::request::Scheme::Https),
        _ => None,
    });
    req.referer = first_text(v, &["http_referer", "http_referrer", "referer", "referrer"]);
    req.content_type = first_text(v, &["content_type", "http_content_type"]);
    req.body = text(v, "request_body").map(String::into_bytes);
    Ok(Parsed::Request(Box::new(req)))
}

fn zeek(v: &Value) -> Result<Parsed, Skip> {
    let mut req = Request {
        ts: time(v, &["ts"])?,
        method: text(v, "method").unwrap_or_default(),
        ..Request::default()
    };
    if req.method.eq_ignore_ascii_case("CONNECT") {
        return Ok(Parsed::Ignored);
    }
    let uri = text(v, "uri").ok_or_else(|| Skip::new(SkipReason::BadUrl, "zeek-json: no uri"))?;
    set_target(&mut req, &uri, "zeek-json")?;
    if let Some(host) = text(v, "host") {
        req.set_host_if_empty(&host);
    }
    req.scheme_from_port(port(v, &["id.resp_p"]));
    req.referer = text(v, "referrer");
    if let Some(body) = text(v, "post_body") {
        req.body_truncated = body.ends_with("...");
        req.body = Some(body.into_bytes());
    }
    Ok(Parsed::Request(Box::new(req)))
}

fn eve(v: &Value) -> Result<Parsed, Skip> {
    let kind = text(v, "event_type").unwrap_or_default();
    if !(kind == "http" || (kind == "alert" && get(v, "http").is_some())) {
        return Ok(Parsed::Ignored);
    }
    let mut req = Request {
        ts: time(v, &["timestamp"])?,
        method: text(v, "http.http_method").unwrap_or_default(),
        ..Request::default()
    };
    if req.method.eq_ignore_ascii_case("CONNECT") {
        return Ok(Parsed::Ignored);
    }
    let url =
        text(v, "http.url").ok_or_else(|| Skip::new(SkipReason::BadUrl, "eve: no http.url"))?;
    set_target(&mut req, &url, "eve")?;
    if let Some(host) = text(v, "http.hostname") {
        req.set_host_if_empty(&host);
    }
    req.scheme_from_port(port(v, &["dest_port", "http.http_port"]));
    req.referer = text(v, "http.http_refer");
    // `http_content_type` is the response's; a request Content-Type only comes with dumped headers.
    req.content_type = get(v, "http.request_headers")
        .and_then(Value::as_array)
        .and_then(|headers| {
            headers.iter().find_map(|h| {
                let name = h.get("name")?.as_str()?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| h.get("value")?.as_str().map(str::to_string))?
            })
        });
    if let Some(b64) = text(v, "http.http_request_body") {
        let body = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| Skip::new(SkipReason::BadBody, "eve: http_request_body is not base64"))?;
        req.body = Some(body);
    } else if let Some(printable) = text(v, "http.http_request_body_printable") {
        // Lossy: Suricata replaced non-printable bytes with '.'.
        req.body = Some(printable.into_bytes());
    }
    Ok(Parsed::Request(Box::new(req)))
}

fn ecs(v: &Value) -> Result<Parsed, Skip> {
    let mut req = Request {
        ts: time(v, &["@timestamp", "event.created"])?,
        method: text(v, "http.request.method")
            .unwrap_or_default()
            .to_ascii_uppercase(),
        ..Request::default()
    };
    if req.method == "CONNECT" {
        return Ok(Parsed::Ignored);
    }
    let url = first_text(v, &["url.full", "url.original"])
        .or_else(|| {
            let path = text(v, "url.path")?;
            match text(v, "url.query") {
                Some(q) => Some(format!("{path}?{q}")),
                None => Some(path),
            }
        })
        .ok_or_else(|| {
            Skip::new(
                SkipReason::BadUrl,
                "ecs: no url.full, url.original or url.path",
            )
        })?;
    set_target(&mut req, &url, "ecs")?;
    if let Some(host) = first_text(v, &["url.domain", "destination.domain"]) {
        req.set_host_if_empty(&host);
    }
    req.scheme = req.scheme.or(match text(v, "url.scheme").as_deref() {
        Some("http") => Some(crate::request::Scheme::Http),
        Some("https") => Some(crate::request::Scheme::Https),
        _ => None,
    });
    req.scheme_from_port(port(v, &["url.port", "destination.port"]));
    req.referer = text(v, "http.request.referrer");
    req.content_type = text(v, "http.request.mime_type");
    req.body = text(v, "http.request.body.content").map(String::into_bytes);
    Ok(Parsed::Request(Box::new(req)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Scheme;

    fn req(format: Format, line: &str) -> Request {
        match parse(format, line).unwrap() {
            Parsed::Request(r) => *r,
            Parsed::Ignored => panic!("ignored: {line}"),
        }
    }

    #[test]
    fn nested_flat_and_mixed_keys() {
        let v: Value = serde_json::from_str(
            r#"{"url":{"full":"a"},"http.request":{"method":"GET"},"x.y.z":1}"#,
        )
        .unwrap();
        assert_eq!(get(&v, "url.full").unwrap(), "a");
        assert_eq!(get(&v, "http.request.method").unwrap(), "GET");
        assert_eq!(get(&v, "x.y.z").unwrap(), 1);
        assert!(get(&v, "url.missing").is_none());
    }

    #[test]
    fn nginx_with_body() {
        let r = req(
            Format::NginxJson,
            r#"{"time_iso8601":"2024-03-04T09:00:00+01:00","request_method":"POST","scheme":"https","host":"sgtm.example.se","request_uri":"/g/collect?v=2","content_type":"text/plain","request_body":"en=page_view\r\nen=purchase","http_referer":""}"#,
        );
        assert_eq!(r.host, "sgtm.example.se");
        assert_eq!(r.scheme, Some(Scheme::Https));
        assert_eq!(r.body.as_deref(), Some(&b"en=page_view\r\nen=purchase"[..]));
        assert!(r.referer.is_none());
    }

    #[test]
    fn eve_http_and_alert_bodies() {
        let r = req(
            Format::Eve,
            r#"{"timestamp":"2024-03-04T08:00:00.000000+0000","event_type":"alert","dest_port":80,"http":{"hostname":"www.facebook.com","url":"\/tr\/","http_method":"POST","http_request_body":"aWQ9MSZldj1MZWFk"}}"#,
        );
        assert_eq!(r.body.as_deref(), Some(&b"id=1&ev=Lead"[..]));
        assert_eq!(r.scheme, Some(Scheme::Http));
        assert!(matches!(
            parse(Format::Eve, r#"{"event_type":"dns"}"#),
            Ok(Parsed::Ignored)
        ));
        assert_eq!(
            parse(
                Format::Eve,
                r#"{"event_type":"http","http":{"url":"/","http_request_body":"!!"}}"#
            )
            .unwrap_err()
            .reason,
            SkipReason::BadBody
        );
    }

    #[test]
    fn ecs_original_plus_domain() {
        let r = req(
            Format::Ecs,
            r#"{"@timestamp":"2024-03-04T08:00:00Z","url":{"original":"/tr/?id=1","domain":"www.facebook.com","scheme":"https"},"http":{"request":{"method":"get"}}}"#,
        );
        assert_eq!(r.host, "www.facebook.com");
        assert_eq!(r.method, "GET");
        assert_eq!(r.scheme, Some(Scheme::Https));
    }

    #[test]
    fn broken_and_deep_json_are_counted() {
        assert_eq!(
            parse(Format::Ecs, "{\"a\":").unwrap_err().reason,
            SkipReason::BadJson
        );
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(
            parse(Format::Ecs, &deep).unwrap_err().reason,
            SkipReason::TooDeep
        );
        assert_eq!(
            parse(Format::Ecs, "[1]").unwrap_err().reason,
            SkipReason::BadJson
        );
    }
}
