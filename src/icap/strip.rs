//! Strip mode: the request with the person's identity taken out, still a request the vendor
//! accepts. A query or form parameter that is an identity field (`ud[em]`, `udff[ph]`) is
//! dropped; an identity key of a JSON body (`data[0].user_data.em`) is removed; an identity
//! value nested deeper (an e-mail inside the page URL in `dl`) is cut out of its parameter in
//! whatever encoding it travels. Everything else keeps its bytes and encoding. Pure.

use crate::detect::{Class, Finding};
use crate::pixel::decode::{peel_percent, Step};

/// What stripping did.
#[derive(Debug, Default, PartialEq)]
pub struct Stripped {
    /// The new request target (path and query).
    pub target: String,
    /// The new body, when there was one.
    pub body: Option<Vec<u8>>,
    /// The identity fields removed.
    pub removed: Vec<String>,
}

/// Take every identity finding out of the request. `target` is the request target as sent
/// (absolute- or origin-form).
pub fn strip(
    target: &str,
    body: Option<&[u8]>,
    content_type: Option<&str>,
    findings: &[Finding],
) -> Stripped {
    let identity: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.class, Class::Pii | Class::HashedPii))
        .collect();
    let mut out = Stripped {
        target: target.to_string(),
        body: body.map(<[u8]>::to_vec),
        removed: Vec::new(),
    };
    if identity.is_empty() {
        return out;
    }
    let (base, query) = match target.split_once('?') {
        Some((b, q)) => (b.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let in_query: Vec<&Finding> = identity
        .iter()
        .copied()
        .filter(|f| f.chain.first() == Some(&Step::Query))
        .collect();
    if let Some(q) = query {
        let (q, removed) = strip_pairs(&q, &in_query, &identity);
        out.removed.extend(removed);
        out.target = if q.is_empty() {
            base
        } else {
            format!("{base}?{q}")
        };
    }
    let in_body: Vec<&Finding> = identity
        .iter()
        .copied()
        .filter(|f| {
            matches!(
                f.chain.first(),
                Some(Step::Form | Step::Json | Step::Multipart | Step::Lines)
            )
        })
        .collect();
    if let (Some(b), false) = (out.body.take(), in_body.is_empty()) {
        let text = String::from_utf8_lossy(&b).into_owned();
        let json = content_type.is_some_and(|c| c.contains("json"))
            || text.trim_start().starts_with(['{', '[']);
        let new = if json && in_body.iter().all(|f| f.chain.first() == Some(&Step::Json)) {
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(mut v) => {
                    for f in &in_body {
                        if remove_path(&mut v, &f.field) {
                            out.removed.push(f.field.clone());
                        }
                    }
                    scrub_strings(&mut v, "", &identity, &mut out.removed);
                    serde_json::to_string(&v).unwrap_or(text)
                }
                Err(_) => cut_values(&text, &in_body, &mut out.removed),
            }
        } else if in_body.iter().all(|f| f.chain.first() == Some(&Step::Form)) {
            let (t, removed) = strip_pairs(&text, &in_body, &identity);
            out.removed.extend(removed);
            t
        } else {
            cut_values(&text, &in_body, &mut out.removed)
        };
        out.body = Some(new.into_bytes());
    } else if let Some(b) = body {
        out.body = Some(b.to_vec());
    }
    out.removed.sort();
    out.removed.dedup();
    out
}

/// Drop `name=value` pairs whose name is an identity field; cut nested identity values out of
/// the others. Kept pairs keep their exact bytes.
fn strip_pairs(text: &str, findings: &[&Finding], all: &[&Finding]) -> (String, Vec<String>) {
    let mut removed = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    for pair in text.split('&') {
        let raw_name = pair.split('=').next().unwrap_or("");
        let name = decode_component(raw_name);
        if let Some(f) = findings.iter().find(|f| f.field == name) {
            removed.push(f.field.clone());
            continue;
        }
        // A nested field (`dl?email`, `cd[contents][0].email`, `p0.m`) or the same identity
        // value sent again inside another parameter (findings are one per value, so the copy
        // in `dl` may have no finding of its own): cut the value out of the parameter value.
        let Some((n, v)) = pair.split_once('=') else {
            kept.push(pair.to_string());
            continue;
        };
        let mut v = v.to_string();
        for f in all {
            let before = v.len();
            v = cut_encoded(&v, f.value.expose());
            if v.len() != before {
                let nested = f.field.len() > name.len()
                    && f.field.starts_with(name.as_str())
                    && matches!(f.field.as_bytes()[name.len()], b'?' | b'.' | b'[');
                removed.push(if nested {
                    f.field.clone()
                } else {
                    format!("{name} (copy of {})", f.field)
                });
            }
        }
        kept.push(format!("{n}={v}"));
    }
    (kept.join("&"), removed)
}

fn cut_values(text: &str, findings: &[&Finding], removed: &mut Vec<String>) -> String {
    let mut t = text.to_string();
    for f in findings {
        let before = t.clone();
        t = cut_encoded(&t, f.value.expose());
        if t != before {
            removed.push(f.field.clone());
        }
    }
    t
}

/// Cut identity values still present inside the string leaves of a JSON body: a copy of the
/// e-mail in `event_source_url`, or a second key carrying the same value (findings are one per
/// value, so such copies have no finding of their own). A leaf that was nothing but the value
/// goes the way [`remove_path`] takes it: the key is removed, an array element becomes null.
fn scrub_strings(v: &mut serde_json::Value, at: &str, all: &[&Finding], removed: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            for f in all {
                let cut = cut_encoded(s, f.value.expose());
                if cut.len() != s.len() {
                    *s = cut;
                    removed.push(format!("{at} (copy of {})", f.field));
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                if scrub_leaf(x, &format!("{at}[{i}]"), all, removed) {
                    *x = Value::Null;
                }
            }
        }
        Value::Object(m) => {
            let mut gone = Vec::new();
            for (k, x) in m.iter_mut() {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                if scrub_leaf(x, &p, all, removed) {
                    gone.push(k.clone());
                }
            }
            for k in gone {
                m.remove(&k);
            }
        }
        _ => {}
    }
}

/// Scrub one child; true when it was a string made only of identity values.
fn scrub_leaf(
    x: &mut serde_json::Value,
    at: &str,
    all: &[&Finding],
    removed: &mut Vec<String>,
) -> bool {
    let was_text = x.as_str().is_some_and(|s| !s.is_empty());
    scrub_strings(x, at, all, removed);
    was_text && x.as_str() == Some("")
}

/// Remove a value in each encoding it may travel in (as is, form-encoded, percent-encoded
/// once or twice).
fn cut_encoded(text: &str, raw: &str) -> String {
    if raw.len() < 3 {
        return text.to_string();
    }
    let once: String = form_urlencoded::byte_serialize(raw.as_bytes()).collect();
    let pct =
        percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string();
    let twice: String = form_urlencoded::byte_serialize(once.as_bytes()).collect();
    let mut t = text.to_string();
    for form in [twice, once, pct, raw.to_string()] {
        if t.contains(&form) {
            t = t.replace(&form, "");
        }
    }
    t
}

fn decode_component(raw: &str) -> String {
    let plus = raw.replace('+', " ");
    peel_percent(&plus).0.into_owned()
}

/// Remove the value at a decoded field path (`data[0].user_data.em[0]`) from a JSON value:
/// an object key is removed, an array element becomes null (indexes of the others stay).
fn remove_path(v: &mut serde_json::Value, path: &str) -> bool {
    let mut segs: Vec<Seg> = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            match idx.trim_end_matches(']').parse::<usize>() {
                Ok(n) => segs.push(Seg::Index(n)),
                Err(_) => segs.push(Seg::Key(idx.trim_end_matches(']').to_string())),
            }
        }
    }
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = v;
    for s in parents {
        cur = match (s, cur) {
            (Seg::Key(k), serde_json::Value::Object(m)) => match m.get_mut(k) {
                Some(x) => x,
                None => return false,
            },
            (Seg::Index(i), serde_json::Value::Array(a)) => match a.get_mut(*i) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        (Seg::Key(k), serde_json::Value::Object(m)) => m.remove(k).is_some(),
        (Seg::Index(i), serde_json::Value::Array(a)) if *i < a.len() => {
            a[*i] = serde_json::Value::Null;
            true
        }
        _ => false,
    }
}

enum Seg {
    Key(String),
    Index(usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::pipeline::Engine;
    use crate::request::Request;

    fn findings(method: &str, url: &str, ct: Option<&str>, body: Option<&str>) -> Vec<Finding> {
        let engine = Engine::load(&[] as &[&str], Limits::default()).unwrap();
        let mut r = Request {
            method: method.into(),
            content_type: ct.map(Into::into),
            body: body.map(|b| b.as_bytes().to_vec()),
            ..Request::default()
        };
        r.set_url(url);
        engine.inspect(&r).map(|(_, f)| f).unwrap_or_default()
    }

    #[test]
    fn identity_parameters_are_dropped_and_the_rest_keeps_its_bytes() {
        let url = "https://www.facebook.com/tr/?id=1&ev=Purchase&ud[em]=anna%40example.se&udff[ph]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6&cd[content_name]=Alvedon&dl=https%3A%2F%2Fshop.example.se%2Fkassa%3Femail%3Danna%2540example.se";
        let f = findings("GET", url, None, None);
        let s = strip("/tr/?id=1&ev=Purchase&ud[em]=anna%40example.se&udff[ph]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6&cd[content_name]=Alvedon&dl=https%3A%2F%2Fshop.example.se%2Fkassa%3Femail%3Danna%2540example.se", None, None, &f);
        assert!(s.target.starts_with("/tr/?id=1&ev=Purchase&cd[content_name]=Alvedon&dl=https%3A%2F%2Fshop.example.se%2Fkassa%3Femail%3D"), "{}", s.target);
        assert!(
            !s.target.contains("anna") && !s.target.contains("7ad5bc"),
            "{}",
            s.target
        );
        assert!(
            s.removed.contains(&"ud[em]".to_string())
                && s.removed.contains(&"udff[ph]".to_string())
        );
        // What is left carries no identity.
        assert!(findings(
            "GET",
            &format!("https://www.facebook.com{}", s.target),
            None,
            None
        )
        .iter()
        .all(|f| !matches!(f.class, Class::Pii | Class::HashedPii)));
    }

    #[test]
    fn json_bodies_lose_their_identity_keys() {
        let body = r#"{"data":[{"event_name":"Purchase","user_data":{"em":["7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6"],"ph":"46701234567","client_user_agent":"x"},"event_source_url":"https://shop.example.se/kassa?tel=46701234567&step=2","custom_data":{"value":10}}],"access_token":"EAAtoken123"}"#;
        let f = findings(
            "POST",
            "https://graph.facebook.com/v19.0/123/events",
            Some("application/json"),
            Some(body),
        );
        let s = strip(
            "/v19.0/123/events",
            Some(body.as_bytes()),
            Some("application/json"),
            &f,
        );
        let out: serde_json::Value = serde_json::from_slice(s.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            out["data"][0]["user_data"]["em"][0],
            serde_json::Value::Null
        );
        assert!(out["data"][0]["user_data"].get("ph").is_none());
        assert_eq!(out["data"][0]["custom_data"]["value"], 10);
        assert_eq!(
            out["data"][0]["event_source_url"], "https://shop.example.se/kassa?tel=&step=2",
            "the copy of the phone number in the page URL is cut too"
        );
        assert_eq!(
            out["access_token"], "EAAtoken123",
            "not identity: the vendor still accepts the request"
        );
    }
}
