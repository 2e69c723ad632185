//! Zeek `http.log` in its TSV form. Columns come from the `#fields` header, never from
//! positions, and a header may be re-declared mid-stream. `-` is unset, `(empty)` is empty,
//! non-printable bytes are `\xHH`. A `post_body` column (Corelight's add-on and its variants)
//! carries a possibly truncated body.

use super::{hex_byte, Parsed};
use crate::error::{Skip, SkipReason};
use crate::request::{parse_epoch, Request};

#[derive(Debug, Clone)]
pub struct ZeekHeader {
    separator: String,
    unset: String,
    empty: String,
    fields: Vec<String>,
}

impl Default for ZeekHeader {
    fn default() -> Self {
        ZeekHeader {
            separator: "\t".into(),
            unset: "-".into(),
            empty: "(empty)".into(),
            fields: Vec::new(),
        }
    }
}

impl ZeekHeader {
    pub fn parse(&mut self, line: &str) -> Result<Parsed, Skip> {
        if let Some(directive) = line.strip_prefix('#') {
            self.directive(directive);
            return Ok(Parsed::Ignored);
        }
        if self.fields.is_empty() {
            return Err(Skip::new(
                SkipReason::BadFields,
                "zeek: data line before any #fields header",
            ));
        }
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            return Err(Skip::new(
                SkipReason::BadFields,
                format!(
                    "zeek: {} values for {} #fields",
                    values.len(),
                    self.fields.len()
                ),
            ));
        }
        let get = |name: &str| -> Option<String> {
            let i = self.fields.iter().position(|f| f == name)?;
            let raw = values[i];
            if raw == self.unset {
                None
            } else if raw == self.empty {
                Some(String::new())
            } else {
                Some(unescape(raw))
            }
        };
        let ts = get("ts")
            .and_then(|t| parse_epoch(&t))
            .ok_or_else(|| Skip::new(SkipReason::BadTimestamp, "zeek: ts is not an epoch time"))?;
        let uri = get("uri").ok_or_else(|| Skip::new(SkipReason::BadUrl, "zeek: no uri"))?;
        let mut req = Request {
            ts: Some(ts),
            method: get("method").unwrap_or_default(),
            ..Request::default()
        };
        if req.method.eq_ignore_ascii_case("CONNECT") {
            return Ok(Parsed::Ignored);
        }
        if !req.set_url(&uri) {
            return Err(Skip::new(
                SkipReason::BadUrl,
                "zeek: uri is neither absolute nor origin-form",
            ));
        }
        if let Some(host) = get("host") {
            req.set_host_if_empty(&host);
        }
        req.scheme_from_port(get("id.resp_p").and_then(|p| p.parse().ok()));
        req.referer = get("referrer").filter(|r| !r.is_empty());
        if let Some(body) = get("post_body").filter(|b| !b.is_empty()) {
            req.body_truncated = body.ends_with("...");
            req.body = Some(body.into_bytes());
        }
        Ok(Parsed::Request(Box::new(req)))
    }

    fn directive(&mut self, directive: &str) {
        let (name, value) = match directive.find([' ', '\t']) {
            Some(i) => (&directive[..i], &directive[i + 1..]),
            None => (directive, ""),
        };
        match name {
            "separator" => self.separator = unescape(value.trim()),
            "unset_field" => self.unset = value.trim().to_string(),
            "empty_field" => self.empty = value.trim().to_string(),
            "fields" => {
                self.fields = value
                    .split(self.separator.as_str())
                    .map(str::to_string)
                    .collect()
            }
            _ => {}
        }
    }
}

/// Undo Zeek's `\xHH` escaping.
fn unescape(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Some(v) = hex_byte(b[i + 2], b[i + 3]) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\thttp",
        "#fields\tts\tuid\tpost_body\tid.resp_p\tmethod\thost\turi\treferrer",
    ];

    fn header() -> ZeekHeader {
        let mut h = ZeekHeader::default();
        for line in HEADER {
            assert!(matches!(h.parse(line), Ok(Parsed::Ignored)));
        }
        h
    }

    #[test]
    fn columns_by_header_not_position() {
        let mut h = header();
        let line = "1591367999.5\tC1\tid=1&ev=Lead\\x26x=1...\t80\tPOST\twww.facebook.com\t/tr/\t-";
        let Parsed::Request(r) = h.parse(line).unwrap() else {
            panic!()
        };
        assert_eq!(r.host, "www.facebook.com");
        assert_eq!(r.body.as_deref(), Some(&b"id=1&ev=Lead&x=1..."[..]));
        assert!(r.body_truncated);
        assert_eq!(r.scheme, Some(crate::request::Scheme::Http));
        assert!(r.referer.is_none());
    }

    #[test]
    fn data_before_header_and_wrong_width_are_skipped() {
        let mut h = ZeekHeader::default();
        assert_eq!(h.parse("1\t2").unwrap_err().reason, SkipReason::BadFields);
        let mut h = header();
        assert_eq!(
            h.parse("1\t2\t3").unwrap_err().reason,
            SkipReason::BadFields
        );
    }
}
