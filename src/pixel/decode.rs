//! Payload decoding: a request's query and body become a flat list of [`Field`]s
//! (path, value), each remembering the chain of decodings that produced it.
//!
//! Layers handled, in the order real pixels stack them: query strings and form bodies (names
//! percent-decoded too: `udff%5Bem%5D`), multipart, JSON bodies, JSON inside a parameter
//! (`cd[contents]`), repeated percent-encoding, URLs inside values (their query is decoded as
//! `dl?name`), base64/base64url text, newline-batched query strings (GA4 POST) and `~`-separated
//! item strings (`pr1=idSKU~nmName`, `em=tv.1~em.<hash>`). Depth, nesting and field count are
//! bounded by [`Limits`].

use crate::limits::Limits;
use base64::Engine as _;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// One decoding step on the way from the raw request to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Query,
    Form,
    Multipart,
    Json,
    Lines,
    Percent,
    Base64,
    Url,
    Items,
    Header,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Query => "query",
            Step::Form => "form",
            Step::Multipart => "multipart",
            Step::Json => "json",
            Step::Lines => "lines",
            Step::Percent => "percent",
            Step::Base64 => "base64",
            Step::Url => "url",
            Step::Items => "items",
            Step::Header => "header",
        }
    }
}

/// The decoding steps of one value. Inline up to eight steps (deeper chains spill to the
/// heap), so copying it with every field costs no allocation.
pub type Chain = smallvec::SmallVec<[Step; 8]>;

/// A decoded (path, value) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// `ud[em]`, `cd[contents][0].name`, `data[0].user_data.em[0]`, `dl?email`, `pr1.nm`.
    pub path: String,
    pub value: String,
    pub chain: Chain,
    /// Index of the event this field belongs to (GA4 batch line, CAPI `data[i]`); 0 otherwise.
    pub event: u16,
    /// What the field means to its vendor; filled by [`crate::pixel::Recognizer::beacon`].
    pub role: crate::pixel::Role,
}

/// How `~`-separated item parameters are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitStyle {
    /// Two-letter key prefixes: `idSKU~nmName~pr9.99`.
    Tilde2,
    /// `key.value` pairs: `tv.1~em.<hash>~pn.<hash>`.
    TildeDot,
}

/// What went wrong or was cut while decoding; counted, never fatal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodeNotes {
    pub depth_exceeded: bool,
    pub nesting_exceeded: bool,
    pub too_many_fields: bool,
    pub body_truncated: bool,
}

/// Body layouts an endpoint declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    Auto,
    Lines,
}

pub struct Decoder<'a> {
    limits: &'a Limits,
    splits: &'a [(Regex, SplitStyle)],
    events_array: Option<&'a str>,
    pub fields: Vec<Field>,
    pub notes: DecodeNotes,
}

impl<'a> Decoder<'a> {
    pub fn new(
        limits: &'a Limits,
        splits: &'a [(Regex, SplitStyle)],
        events_array: Option<&'a str>,
    ) -> Self {
        Decoder {
            limits,
            splits,
            events_array,
            // Most pixel requests carry a few dozen fields: one allocation instead of several.
            fields: Vec::with_capacity(32),
            notes: DecodeNotes::default(),
        }
    }

    /// Request headers (HAR, browser captures, ICAP) as fields `header.<name>`: an
    /// `Authorization: Bearer …` to a conversion API is a secret like a token in the body.
    pub fn headers(&mut self, headers: &[(String, String)]) {
        for (name, value) in headers {
            if name == "cookie" {
                // Cookies as their own fields: `header.cookie.<name>`.
                for pair in value.split(';') {
                    if let Some((k, v)) = pair.trim().split_once('=') {
                        self.value(
                            format!("header.cookie.{k}"),
                            v,
                            &mut Chain::from_slice(&[Step::Header]),
                            0,
                            0,
                        );
                    }
                }
                continue;
            }
            self.value(
                format!("header.{name}"),
                value,
                &mut Chain::from_slice(&[Step::Header]),
                0,
                0,
            );
        }
    }

    /// Decode a raw query string.
    pub fn query(&mut self, query: &str) {
        self.pairs(query, &[Step::Query], 0);
    }

    /// Decode a request body according to its content type and the endpoint's body mode.
    pub fn body(&mut self, body: &[u8], content_type: Option<&str>, mode: BodyMode) {
        let body = if body.len() > self.limits.max_body_bytes {
            self.notes.body_truncated = true;
            &body[..self.limits.max_body_bytes]
        } else {
            body
        };
        let text = String::from_utf8_lossy(body);
        let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if text.is_empty() {
            return;
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        if ct.starts_with("multipart/form-data")
            || (text.starts_with("--") && text.contains("Content-Disposition"))
        {
            self.multipart(text, content_type.unwrap_or(""));
        } else if text.starts_with('{') || text.starts_with('[') {
            match serde_json::from_str::<Value>(text) {
                Ok(v) => self.json_body(&v),
                Err(_) => self.leaf("body", text.to_string(), &[], 0),
            }
        } else if mode == BodyMode::Lines {
            for (i, line) in text
                .split('\n')
                .map(|l| l.trim_end_matches('\r'))
                .enumerate()
            {
                if !line.is_empty() {
                    self.pairs(
                        line,
                        &[Step::Lines, Step::Form],
                        i.min(u16::MAX as usize) as u16,
                    );
                }
            }
        } else if ct.contains("x-www-form-urlencoded") || looks_like_form(text) {
            self.pairs(text, &[Step::Form], 0);
        } else {
            self.value("body".to_string(), text, &mut Chain::new(), 0, 0);
        }
    }

    fn pairs(&mut self, text: &str, chain: &[Step], event: u16) {
        for (name, value) in form_urlencoded::parse(text.as_bytes()) {
            let (name, _) = peel_percent(&name);
            let name = name.into_owned();
            if let Some(style) = self
                .splits
                .iter()
                .find(|(re, _)| re.is_match(&name))
                .map(|(_, s)| *s)
            {
                self.items(&name, &value, style, chain, event);
                continue;
            }
            self.value(name, &value, &mut Chain::from_slice(chain), event, 0);
        }
    }

    fn items(&mut self, name: &str, value: &str, style: SplitStyle, chain: &[Step], event: u16) {
        let mut chain = Chain::from_slice(chain);
        chain.push(Step::Items);
        for token in value.split('~').filter(|t| !t.is_empty()) {
            let (key, val) = match style {
                SplitStyle::Tilde2 => match token.char_indices().nth(2) {
                    Some((i, _)) => (&token[..i], &token[i..]),
                    None => continue,
                },
                SplitStyle::TildeDot => match token.split_once('.') {
                    Some(kv) => kv,
                    None => continue,
                },
            };
            self.value(format!("{name}.{key}"), val, &mut chain.clone(), event, 1);
        }
    }

    fn multipart(&mut self, text: &str, ct: &str) {
        let boundary = ct
            .split(';')
            .find_map(|p| {
                let p = p.trim();
                p.get(..9)
                    .filter(|k| k.eq_ignore_ascii_case("boundary="))
                    .map(|_| &p[9..])
            })
            .map(|b| b.trim_matches('"').to_string())
            .or_else(|| {
                text.lines()
                    .next()
                    .and_then(|l| l.strip_prefix("--"))
                    .map(|b| b.trim().to_string())
            });
        let Some(boundary) = boundary.filter(|b| !b.is_empty()) else {
            self.leaf("body", text.to_string(), &[], 0);
            return;
        };
        let delimiter = format!("--{boundary}");
        for part in text.split(delimiter.as_str()) {
            let part = part
                .strip_prefix("\r\n")
                .or_else(|| part.strip_prefix('\n'))
                .unwrap_or(part);
            if part.starts_with("--") || part.trim().is_empty() {
                continue;
            }
            let (head, body) = match part.find("\r\n\r\n") {
                Some(i) => (&part[..i], &part[i + 4..]),
                None => match part.find("\n\n") {
                    Some(i) => (&part[..i], &part[i + 2..]),
                    None => continue,
                },
            };
            let name = head.lines().find_map(|l| {
                let lower = l.to_ascii_lowercase();
                if !lower.starts_with("content-disposition") {
                    return None;
                }
                let start = lower.find("name=\"")? + 6;
                let end = l[start..].find('"')? + start;
                Some(l[start..end].to_string())
            });
            if let Some(name) = name {
                let value = body
                    .strip_suffix("\r\n")
                    .or_else(|| body.strip_suffix('\n'))
                    .unwrap_or(body);
                let (name, _) = peel_percent(&name);
                self.value(
                    name.into_owned(),
                    value,
                    &mut Chain::from_slice(&[Step::Multipart]),
                    0,
                    0,
                );
            }
        }
    }

    /// A JSON body: the `events_array` (CAPI `data`, Snap `req`, Reddit `data.events`, `[]` for
    /// a body that is itself the array) gives each element its own event index.
    fn json_body(&mut self, v: &Value) {
        let mut chain = Chain::from_slice(&[Step::Json]);
        match self.events_array {
            Some(at) => self.json_events("", v, at.trim_start_matches("[]"), &mut chain, 0),
            None => self.json("", v, &mut chain, 0, 0, 0),
        }
    }

    /// Walk down the dotted keys of `rest` to the events array; everything beside the way is
    /// read as one event (index 0).
    fn json_events(&mut self, path: &str, v: &Value, rest: &str, chain: &mut Chain, jdepth: usize) {
        if jdepth > self.limits.max_json_depth {
            self.notes.nesting_exceeded = true;
            return;
        }
        if rest.is_empty() {
            if let Value::Array(events) = v {
                for (i, e) in events.iter().enumerate() {
                    let event = i.min(u16::MAX as usize) as u16;
                    self.json(&format!("{path}[{i}]"), e, chain, event, 0, jdepth + 1);
                }
                return;
            }
        }
        let Value::Object(map) = v else {
            self.json(path, v, chain, 0, 0, jdepth);
            return;
        };
        let (head, tail) = rest.split_once('.').unwrap_or((rest, ""));
        for (k, x) in map {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if !rest.is_empty() && k == head {
                self.json_events(&child, x, tail, chain, jdepth + 1);
            } else {
                self.json(&child, x, chain, 0, 0, jdepth + 1);
            }
        }
    }

    fn json(
        &mut self,
        path: &str,
        v: &Value,
        chain: &mut Chain,
        event: u16,
        depth: usize,
        jdepth: usize,
    ) {
        if jdepth > self.limits.max_json_depth {
            self.notes.nesting_exceeded = true;
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    self.json(&child, x, chain, event, depth, jdepth + 1);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    self.json(&format!("{path}[{i}]"), x, chain, event, depth, jdepth + 1);
                }
            }
            Value::String(s) => self.value(path.to_string(), s, chain, event, depth),
            Value::Number(n) => self.leaf(path, n.to_string(), chain, event),
            Value::Bool(b) => self.leaf(path, b.to_string(), chain, event),
            Value::Null => {}
        }
    }

    /// Decode one value as deep as it goes, then record what is left.
    fn value(&mut self, path: String, value: &str, chain: &mut Chain, event: u16, depth: usize) {
        if self.fields.len() >= self.limits.max_fields {
            self.notes.too_many_fields = true;
            return;
        }
        if depth >= self.limits.max_decode_depth {
            self.notes.depth_exceeded = true;
            self.leaf(path, value.to_string(), chain, event);
            return;
        }
        // Peel percent-encoding one round at a time, stopping as soon as the value is a URL or
        // JSON: decoding a URL whole would destroy the structure of its own query.
        let mut peeled: Cow<str> = Cow::Borrowed(value);
        let mut rounds = 0;
        loop {
            let t = peeled.trim();
            if is_http_url(t) || json_shaped(t) || rounds >= 3 || !has_escape(t) {
                break;
            }
            let next = percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned();
            peeled = Cow::Owned(next);
            rounds += 1;
        }
        let mark = chain.len();
        if rounds > 0 {
            chain.push(Step::Percent);
        }
        let t = peeled.trim();
        if json_shaped(t) {
            match serde_json::from_str::<Value>(t) {
                Ok(v) => {
                    chain.push(Step::Json);
                    self.json(&path, &v, chain, event, depth + 1, 0);
                    chain.truncate(mark);
                    return;
                }
                // Deeper than the parser goes: kept as text, so the PII detectors still see it.
                Err(e) if e.to_string().contains("recursion limit") => {
                    self.notes.nesting_exceeded = true
                }
                Err(_) => {}
            }
        }
        if is_http_url(t) {
            self.leaf(&path, t.to_string(), chain, event);
            if let Some(q) = t
                .split_once('?')
                .map(|(_, q)| q.split('#').next().unwrap_or(""))
            {
                chain.push(Step::Url);
                for (name, v) in form_urlencoded::parse(q.as_bytes()) {
                    self.value(format!("{path}?{name}"), &v, chain, event, depth + 1);
                }
            }
            chain.truncate(mark);
            return;
        }
        if let Some(text) = base64_text(t) {
            chain.push(Step::Base64);
            self.value(path, &text, chain, event, depth + 1);
            chain.truncate(mark);
            return;
        }
        // A form string packed into one field (Criteo `p0=e%3Dce%26m%3D%5B<hash>%5D`, a GA4
        // parameter holding `a=b&email=x`, Matomo bulk requests): its pairs become fields under
        // the field's path, after the whole value is kept for the detectors that read text.
        if is_nested_form(t) {
            self.leaf(&path, t.to_string(), chain, event);
            chain.push(Step::Form);
            for (name, v) in form_urlencoded::parse(t.as_bytes()) {
                let (name, _) = peel_percent(&name);
                let child = format!("{path}.{name}");
                // A bracketed list without quotes (OneTag `m=[<hash>]`): its items.
                match v.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                    Some(inner) if !inner.contains(['[', ']', '"']) => {
                        let items: Vec<&str> = inner.split(',').filter(|x| !x.is_empty()).collect();
                        if let [one] = items.as_slice() {
                            self.value(child, one, chain, event, depth + 1);
                        } else {
                            for (i, item) in items.iter().enumerate() {
                                self.value(format!("{child}[{i}]"), item, chain, event, depth + 1);
                            }
                        }
                    }
                    _ => self.value(child, &v, chain, event, depth + 1),
                }
            }
            chain.truncate(mark);
            return;
        }
        let owned = t.to_string();
        self.leaf(path, owned, chain, event);
        chain.truncate(mark);
    }

    fn leaf(&mut self, path: impl Into<String>, value: String, chain: &[Step], event: u16) {
        if self.fields.len() >= self.limits.max_fields {
            self.notes.too_many_fields = true;
            return;
        }
        self.fields.push(Field {
            path: path.into(),
            value,
            chain: Chain::from_slice(chain),
            event,
            role: Default::default(),
        });
    }
}

/// Percent-decode repeatedly (at most three rounds) while valid `%XX` escapes remain.
pub fn peel_percent(s: &str) -> (Cow<'_, str>, u8) {
    let mut current: Cow<str> = Cow::Borrowed(s);
    let mut rounds = 0;
    while rounds < 3 && has_escape(&current) {
        let decoded = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == current.as_ref() {
            break;
        }
        current = Cow::Owned(decoded);
        rounds += 1;
    }
    (current, rounds)
}

fn has_escape(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr_iter(b'%', b)
        .any(|i| i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
}

fn json_shaped(t: &str) -> bool {
    (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'))
}

fn is_http_url(t: &str) -> bool {
    starts_with_ignore_case(t, "https://") || starts_with_ignore_case(t, "http://")
}

/// ASCII-case-insensitive prefix test, without lowercasing a copy.
pub fn starts_with_ignore_case(t: &str, prefix: &str) -> bool {
    t.len() >= prefix.len() && t.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// A value that is itself a form string: `key=value` pairs joined by `&`, keys short names,
/// no spaces, at least one non-empty value (so `abc=` base64 padding is not one).
fn is_nested_form(text: &str) -> bool {
    if !text.contains('=') || text.contains([' ', '\n', '{', '"']) || text.len() < 3 {
        return false;
    }
    let mut any_value = false;
    for part in text.split('&') {
        let Some((k, v)) = part.split_once('=') else {
            return false;
        };
        let key_ok = !k.is_empty()
            && k.len() <= 64
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.[]%".contains(&b));
        if !key_ok {
            return false;
        }
        any_value |= !v.is_empty();
    }
    any_value
}

fn looks_like_form(text: &str) -> bool {
    let first = text.split('&').next().unwrap_or("");
    text.contains('=')
        && !text.contains(['\n', ' '])
        && first
            .split_once('=')
            .is_some_and(|(k, _)| !k.is_empty() && !k.contains(['{', '"']))
}

const NOT_BASE64: u8 = 1;
const NOT_HEX: u8 = 2;
/// Per byte: [`NOT_BASE64`] outside both base64 alphabets, [`NOT_HEX`] when not a hex digit.
static BASE64_CLASS: [u8; 256] = {
    let mut t = [NOT_BASE64 | NOT_HEX; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_') {
            t[c] = if b.is_ascii_hexdigit() { 0 } else { NOT_HEX };
        }
        c += 1;
    }
    t
};

/// Decode base64 / base64url that turns out to be readable text; `None` otherwise.
fn base64_text(t: &str) -> Option<String> {
    if t.len() < 16 || t.len() > 1 << 20 {
        return None;
    }
    // One pass over the value: every byte in the base64 alphabets, and not all of them hex
    // digits (hex digests and long numbers are valid base64 alphabets but never payloads).
    let mut seen = 0u8;
    for &c in t.as_bytes() {
        seen |= BASE64_CLASS[c as usize];
    }
    if seen & NOT_BASE64 != 0 || seen & NOT_HEX == 0 {
        return None;
    }
    let unpadded = t.trim_end_matches('=');
    let bytes = if unpadded.contains(['-', '_']) {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(unpadded)
            .ok()?
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(unpadded)
            .ok()?
    };
    let text = String::from_utf8(bytes).ok()?;
    let total = text.chars().count();
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    // Readable text, and shaped like something worth decoding further.
    (total >= 4 && printable * 100 >= total * 95 && text.chars().any(|c| c.is_alphabetic()))
        .then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_query(q: &str) -> Vec<Field> {
        let limits = Limits::default();
        let splits = vec![
            (Regex::new(r"^pr[0-9]+$").unwrap(), SplitStyle::Tilde2),
            (Regex::new(r"^em$").unwrap(), SplitStyle::TildeDot),
        ];
        let mut d = Decoder::new(&limits, &splits, None);
        d.query(q);
        d.fields
    }

    fn get<'a>(fields: &'a [Field], path: &str) -> &'a Field {
        fields
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no {path} in {fields:#?}"))
    }

    #[test]
    fn bracket_names_and_json_in_params() {
        let f = decode_query("udff%5Bem%5D=abc&cd[contents]=%5B%7B%22id%22%3A%221%22%2C%22name%22%3A%22Klamydiatest%22%7D%5D");
        assert_eq!(get(&f, "udff[em]").value, "abc");
        let name = get(&f, "cd[contents][0].name");
        assert_eq!(name.value, "Klamydiatest");
        assert_eq!(name.chain.as_slice(), [Step::Query, Step::Json]);
    }

    #[test]
    fn double_encoding_and_urls_inside_values() {
        let f = decode_query("x=anna%2540example.se&dl=https%3A%2F%2Fshop.example%2Fcheckout%3Femail%3Danna%2540example.se");
        assert_eq!(get(&f, "x").value, "anna@example.se");
        assert_eq!(get(&f, "x").chain.as_slice(), [Step::Query, Step::Percent]);
        assert_eq!(
            get(&f, "dl").value,
            "https://shop.example/checkout?email=anna%40example.se"
        );
        assert_eq!(get(&f, "dl?email").value, "anna@example.se");
    }

    #[test]
    fn items_and_user_provided_data() {
        let f = decode_query("pr1=id4711~nmGraviditetstest%202-pack~pr99&em=tv.1~em.etW8GRcLKWiX2S0pNLzM-ox61N414BMjK1vmR9VXeLY");
        assert_eq!(get(&f, "pr1.nm").value, "Graviditetstest 2-pack");
        assert_eq!(get(&f, "pr1.id").value, "4711");
        assert_eq!(
            get(&f, "em.em").value,
            "etW8GRcLKWiX2S0pNLzM-ox61N414BMjK1vmR9VXeLY"
        );
        assert_eq!(get(&f, "em.tv").value, "1");
    }

    #[test]
    fn base64_text_is_opened_and_binary_is_not() {
        let f = decode_query("payload=eyJlbWFpbCI6ImFubmFAZXhhbXBsZS5zZSJ9&h=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6");
        assert_eq!(get(&f, "payload.email").value, "anna@example.se");
        assert_eq!(
            get(&f, "payload.email").chain.as_slice(),
            [Step::Query, Step::Base64, Step::Json]
        );
        assert!(get(&f, "h").chain.as_slice() == [Step::Query]);
    }

    #[test]
    fn batched_lines_multipart_and_events_array() {
        let limits = Limits::default();
        let mut d = Decoder::new(&limits, &[], None);
        d.body(
            b"en=page_view\r\nen=purchase&ep.x=1",
            Some("text/plain"),
            BodyMode::Lines,
        );
        assert_eq!(
            d.fields
                .iter()
                .filter(|f| f.path == "en")
                .map(|f| f.event)
                .collect::<Vec<_>>(),
            vec![0, 1]
        );

        let mut d = Decoder::new(&limits, &[], None);
        let body =
            "--B\r\nContent-Disposition: form-data; name=\"ud[em]\"\r\n\r\nx@y.se\r\n--B--\r\n";
        d.body(
            body.as_bytes(),
            Some("multipart/form-data; boundary=B"),
            BodyMode::Auto,
        );
        assert_eq!(d.fields[0].path, "ud[em]");
        assert_eq!(d.fields[0].value, "x@y.se");

        let mut d = Decoder::new(&limits, &[], Some("data"));
        d.body(
            br#"{"data":[{"event_name":"A"},{"event_name":"B"}],"access_token":"t"}"#,
            Some("application/json"),
            BodyMode::Auto,
        );
        let ev: Vec<_> = d
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.event))
            .collect();
        assert!(ev.contains(&("data[1].event_name", 1)), "{ev:?}");
        assert!(ev.contains(&("access_token", 0)));

        // Nested (Reddit v3 `data.events`) and the body itself as the array (Snap v2).
        let events = |at: &str, body: &[u8]| {
            let mut d = Decoder::new(&limits, &[], Some(at));
            d.body(body, Some("application/json"), BodyMode::Auto);
            d.fields
                .iter()
                .map(|f| (f.path.clone(), f.event))
                .collect::<Vec<_>>()
        };
        let ev = events(
            "data.events",
            br#"{"data":{"test_mode":false,"events":[{"type":"A"},{"type":"B","user":{"email":"e"}}]},"events":[{"x":1},{"x":2}]}"#,
        );
        assert!(
            ev.contains(&("data.events[1].user.email".into(), 1)),
            "{ev:?}"
        );
        assert!(ev.contains(&("data.events[0].type".into(), 0)));
        assert!(ev.contains(&("data.test_mode".into(), 0)));
        assert!(
            ev.contains(&("events[1].x".into(), 0)),
            "only the path named splits: {ev:?}"
        );
        let ev = events("[]", br#"[{"event_type":"A"},{"event_type":"B"}]"#);
        assert_eq!(
            ev,
            vec![("[0].event_type".into(), 0), ("[1].event_type".into(), 1)]
        );
        let ev = events("[]", br#"{"event_type":"A"}"#);
        assert_eq!(ev, vec![("event_type".into(), 0)], "a single event object");
    }

    #[test]
    fn bounds_hold() {
        let limits = Limits {
            max_fields: 3,
            max_decode_depth: 2,
            max_json_depth: 4,
            max_body_bytes: 10,
            ..Limits::default()
        };
        let mut d = Decoder::new(&limits, &[], None);
        d.query("a=1&b=2&c=3&d=4&e=5");
        assert_eq!(d.fields.len(), 3);
        assert!(d.notes.too_many_fields);

        let mut d = Decoder::new(&limits, &[], None);
        d.body(b"a=1&b=2&c=3&d=4", None, BodyMode::Auto);
        assert!(d.notes.body_truncated);

        let deep = format!("x={}1{}", "%5B".repeat(20), "%5D".repeat(20));
        let mut d = Decoder::new(&limits, &[], None);
        d.query(&deep);
        assert!(d.notes.nesting_exceeded);
    }
}
