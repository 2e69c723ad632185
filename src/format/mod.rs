//! Format: framing and parsing of egress logs into [`Request`]s.
//!
//! Sits between the sources (bytes with an [`crate::request::Origin`]) and `pixel`. Line
//! formats are parsed one line at a time by a [`LineParser`] (which keeps the little state some
//! formats need, such as Zeek's `#fields` header); HAR is read as a stream of entries by
//! [`har::read_har`]. No I/O happens here beyond the reader a caller hands in.

pub mod clf;
pub mod har;
pub mod json;
pub mod squid;
pub mod zeek;

use crate::error::{Skip, SkipReason};
use crate::request::Request;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The log formats pixelwarden reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Squid native `access.log` (with full URLs: `%>ru` or `strip_query_terms off`).
    Squid,
    /// Common / combined log format of Squid, Apache and nginx, optionally vhost-prefixed.
    Clf,
    /// nginx `escape=json` access logs.
    NginxJson,
    /// Zeek `http.log`, TSV with `#fields` header.
    Zeek,
    /// Zeek `http.log` as JSON lines.
    ZeekJson,
    /// Suricata EVE JSON (`http` and `alert` events).
    Eve,
    /// HAR 1.2.
    Har,
    /// Elastic Common Schema JSON lines.
    Ecs,
    /// One HAR 1.2 entry per line (what `probe --kafka-topic` publishes).
    HarEntry,
    /// A whole HTTP request handed over ICAP (not a log format: `icap` findings only).
    Icap,
}

impl Format {
    pub const ALL: [Format; 10] = [
        Format::Squid,
        Format::Clf,
        Format::NginxJson,
        Format::Zeek,
        Format::ZeekJson,
        Format::Eve,
        Format::Har,
        Format::Ecs,
        Format::HarEntry,
        Format::Icap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Squid => "squid",
            Format::Clf => "clf",
            Format::NginxJson => "nginx-json",
            Format::Zeek => "zeek",
            Format::ZeekJson => "zeek-json",
            Format::Eve => "eve",
            Format::Har => "har",
            Format::Ecs => "ecs",
            Format::HarEntry => "har-entry",
            Format::Icap => "icap",
        }
    }

    /// JSON-lines formats whose records are one JSON object per line.
    pub fn is_json_lines(self) -> bool {
        matches!(
            self,
            Format::NginxJson | Format::ZeekJson | Format::Eve | Format::Ecs | Format::HarEntry
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown format `{s}` (known: {})", names.join(", "))
            })
    }
}

/// What one line turned into.
#[derive(Debug)]
pub enum Parsed {
    Request(Box<Request>),
    /// A line that is valid but carries no HTTP request: headers, comments, `CONNECT`
    /// tunnels, non-HTTP sensor events.
    Ignored,
}

/// Parses lines of one stream. Holds the per-stream state of formats that need it.
#[derive(Debug, Clone)]
pub struct LineParser {
    format: Format,
    zeek: zeek::ZeekHeader,
}

impl LineParser {
    pub fn new(format: Format) -> Self {
        LineParser {
            format,
            zeek: zeek::ZeekHeader::default(),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Parse one line (without its line terminator).
    pub fn parse(&mut self, line: &str) -> Result<Parsed, Skip> {
        if line.trim().is_empty() {
            return Ok(Parsed::Ignored);
        }
        match self.format {
            Format::Squid => squid::parse(line),
            Format::Clf => clf::parse(line),
            Format::Zeek => self.zeek.parse(line),
            Format::NginxJson | Format::ZeekJson | Format::Eve | Format::Ecs => {
                json::parse(self.format, line)
            }
            Format::HarEntry => har::entry_line(line).map(|r| Parsed::Request(Box::new(r))),
            Format::Har | Format::Icap => {
                Err(Skip::new(SkipReason::UnknownFormat, "not a line format"))
            }
        }
    }
}

/// Guess the format of a stream from its first bytes.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    if trimmed.starts_with("#separator") || trimmed.starts_with("#fields") {
        return Some(Format::Zeek);
    }
    if trimmed.starts_with('{') {
        let first = trimmed.lines().next().unwrap_or("");
        return match serde_json::from_str::<serde_json::Value>(first) {
            Ok(v) => json::sniff_object(&v),
            // A first line longer than the sniffed head, or a document spread over many lines.
            Err(_) => json::sniff_partial(trimmed),
        };
    }
    // Line formats: look at the first few non-empty lines and take the first one that fits.
    for line in trimmed.lines().filter(|l| !l.trim().is_empty()).take(8) {
        if squid::looks_like(line) {
            return Some(Format::Squid);
        }
        if clf::looks_like(line) {
            return Some(Format::Clf);
        }
    }
    None
}

/// Recognise a line format from one whole line alone: the line must look like the format and
/// parse as it. Used to find where a file's records start after a damaged head (binary junk, a
/// crash mid-write), so it never answers HAR, a document rather than lines.
pub fn recognise_line(line: &[u8]) -> Option<Format> {
    let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
    let text = std::str::from_utf8(line).ok()?.trim();
    if text.starts_with("#separator") || text.starts_with("#fields") {
        return Some(Format::Zeek);
    }
    let format = if text.starts_with('{') {
        let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
        json::sniff_object(&value).filter(|f| *f != Format::Har)?
    } else if squid::looks_like(text) {
        Format::Squid
    } else if clf::looks_like(text) {
        Format::Clf
    } else {
        return None;
    };
    matches!(LineParser::new(format).parse(text), Ok(Parsed::Request(_))).then_some(format)
}

/// Read a double-quoted, backslash-escaped field starting at `s[0] == '"'`.
/// Returns the unescaped text and the rest after the closing quote.
pub(crate) fn read_quoted(s: &str) -> Option<(String, &str)> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let text = String::from_utf8(out)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                return Some((text, &s[i + 1..]));
            }
            b'\\' if i + 1 < bytes.len() => {
                let next = bytes[i + 1];
                if next == b'x' && i + 3 < bytes.len() {
                    if let Some(b) = hex_byte(bytes[i + 2], bytes[i + 3]) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                }
                out.push(match next {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    other => other,
                });
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

pub(crate) fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    let h = (hi as char).to_digit(16)?;
    let l = (lo as char).to_digit(16)?;
    Some((h * 16 + l) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_every_format() {
        let cases: &[(&str, Format)] = &[
            ("1709539200.123    45 10.0.0.1 TCP_MISS/200 512 GET https://www.facebook.com/tr/?id=1 - HIER_DIRECT/1.2.3.4 image/gif\n", Format::Squid),
            ("10.0.0.1 - - [04/Mar/2024:09:00:00 +0100] \"GET https://x.example/ HTTP/1.1\" 200 5 \"-\" \"ua\"\n", Format::Clf),
            ("#separator \\x09\n#set_separator\t,\n", Format::Zeek),
            ("{\"ts\":1.5,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"host\":\"a\",\"uri\":\"/\"}\n", Format::ZeekJson),
            ("{\"timestamp\":\"2024-03-04T08:00:00.000000+0000\",\"event_type\":\"http\",\"http\":{}}\n", Format::Eve),
            ("{\"@timestamp\":\"2024-03-04T08:00:00Z\",\"url\":{\"full\":\"https://a/\"}}\n", Format::Ecs),
            ("{\"time_iso8601\":\"2024-03-04T08:00:00+00:00\",\"request_uri\":\"/\",\"host\":\"a\"}\n", Format::NginxJson),
            ("{\n  \"log\": {\n    \"version\": \"1.2\",\n", Format::Har),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head.as_bytes()), Some(*want), "{head}");
        }
        assert_eq!(sniff(b"hello world\n"), None);
        // A JSON line cut by the sniff window is recognised from its keys.
        assert_eq!(
            sniff(br#"{"time_iso8601":"2024","request_uri":"/tr/","request_body":"xxxxx"#),
            Some(Format::NginxJson)
        );
        assert_eq!(
            sniff(br#"{"timestamp":"x","event_type":"alert","http":{"url":"/a"#),
            Some(Format::Eve)
        );
    }

    #[test]
    fn single_lines_are_recognised_only_when_they_parse() {
        let squid = b"1709539200.123    45 10.0.0.1 TCP_MISS/200 512 GET https://www.facebook.com/tr/?id=1 - HIER_DIRECT/1.2.3.4 image/gif";
        assert_eq!(recognise_line(squid), Some(Format::Squid));
        assert_eq!(recognise_line(b"#fields\tts\tuid"), Some(Format::Zeek));
        let eve = br#"{"timestamp":"2024-03-04T08:00:00.000000+0000","event_type":"http","http":{"hostname":"a.example","url":"/"}}"#;
        assert_eq!(recognise_line(eve), Some(Format::Eve));
        // Half a JSON line, binary junk, a HAR document's first line, prose.
        assert_eq!(recognise_line(br#"{"timestamp":"2024-03-04T08:00"#), None);
        assert_eq!(recognise_line(b"\x00\x01\xff\xfe junk"), None);
        assert_eq!(
            recognise_line(br#"{"log":{"version":"1.2","entries":[]}}"#),
            None
        );
        assert_eq!(recognise_line(b"hello world"), None);
    }

    #[test]
    fn quoted_fields_unescape() {
        let (text, rest) = read_quoted(r#""GET /a\"b\x41 HTTP/1.1" 200"#).unwrap();
        assert_eq!(text, "GET /a\"bA HTTP/1.1");
        assert_eq!(rest, " 200");
        assert!(read_quoted("\"unterminated").is_none());
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), f);
        }
        assert!("bogus".parse::<Format>().is_err());
    }
}
