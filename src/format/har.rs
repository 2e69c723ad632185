//! HAR 1.2, read as a stream: `log.entries[]` is walked one entry at a time with a serde
//! `DeserializeSeed`, so a multi-gigabyte capture never sits in memory. Each entry is bounded by
//! `max_record_bytes` (the reader refuses to feed more bytes into one entry), responses are
//! skipped without being stored, and a truncated file ends with an error after every complete
//! entry before it has been delivered.
//!
//! `request.url` is parsed by us; `queryString[]` is ignored because producers disagree on
//! whether it is decoded. A body comes from `postData.text` (base64 when a producer marks it so)
//! or, when only `params[]` is present, is rebuilt from them.

use crate::error::{Skip, SkipReason};
use crate::limits::Limits;
use crate::request::{parse_iso, Request};
use base64::Engine as _;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

/// Read every entry of a HAR stream, calling `on_entry(index, request_or_skip)` for each.
/// Returns the number of entries seen, or the error that stopped the file.
pub fn read_har<R: Read>(
    reader: R,
    limits: &Limits,
    mut on_entry: impl FnMut(u64, Result<Request, Skip>),
) -> Result<u64, Skip> {
    let used = Rc::new(Cell::new(0u64));
    let bounded = EntryBound {
        inner: reader,
        used: used.clone(),
        cap: limits.max_record_bytes,
    };
    let mut de = serde_json::Deserializer::from_reader(bounded);
    let mut state = State {
        on_entry: &mut on_entry,
        used,
        count: 0,
        cap: limits.max_record_bytes,
    };
    let result = TopSeed(&mut state).deserialize(&mut de);
    let count = state.count;
    match result {
        Ok(true) => Ok(count),
        Ok(false) => Err(Skip::new(SkipReason::BadJson, "har: no log.entries array")),
        Err(e) => Err(classify(&e, count, limits)),
    }
}

fn classify(e: &serde_json::Error, count: u64, limits: &Limits) -> Skip {
    let at = format!("after {count} entries");
    if e.is_io() && e.to_string().contains(TOO_LARGE) {
        Skip::new(
            SkipReason::RecordTooLarge,
            format!(
                "har: entry larger than {} bytes {at}",
                limits.max_record_bytes
            ),
        )
    } else if e.is_io() {
        Skip::new(SkipReason::ReadError, format!("har: read error {at}: {e}"))
    } else if e.is_eof() {
        Skip::new(
            SkipReason::Truncated,
            format!("har: file ends inside the JSON document {at}"),
        )
    } else if e.to_string().contains("recursion limit") {
        Skip::new(SkipReason::TooDeep, format!("har: nesting too deep {at}"))
    } else {
        Skip::new(
            SkipReason::BadJson,
            format!(
                "har: invalid JSON {at} (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    }
}

const TOO_LARGE: &str = "HAR entry exceeds max_record_bytes";

/// A reader that fails once more than `cap` bytes are read since `used` was last reset.
struct EntryBound<R> {
    inner: R,
    used: Rc<Cell<u64>>,
    cap: u64,
}

impl<R: Read> Read for EntryBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let used = self.used.get() + n as u64;
        self.used.set(used);
        if used > self.cap {
            return Err(io::Error::other(TOO_LARGE));
        }
        Ok(n)
    }
}

struct State<'f> {
    on_entry: &'f mut dyn FnMut(u64, Result<Request, Skip>),
    used: Rc<Cell<u64>>,
    count: u64,
    cap: u64,
}

/// `{ "log": { "entries": [...] } }` — returns whether `entries` was found.
struct TopSeed<'s, 'f>(&'s mut State<'f>);
struct LogSeed<'s, 'f>(&'s mut State<'f>);
struct EntriesSeed<'s, 'f>(&'s mut State<'f>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                found |= map.next_value_seed(LogSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            // Bound metadata between entries too, without counting entries already delivered.
            self.0.used.set(0);
        }
        Ok(found)
    }
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR log object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                map.next_value_seed(EntriesSeed(&mut *self.0))?;
                found = true;
            } else {
                self.0.used.set(0);
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR entries array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let _ = self.0.cap;
        loop {
            self.0.used.set(0);
            let Some(entry) = seq.next_element::<RawEntry>()? else {
                break;
            };
            let index = self.0.count;
            self.0.count += 1;
            (self.0.on_entry)(index, entry.into_request());
        }
        Ok(())
    }
}

/// One HAR entry as a JSON line (a probe's capture published to Kafka): the request it holds.
pub fn entry_line(line: &str) -> Result<Request, Skip> {
    let entry: RawEntry = serde_json::from_str(line)
        .map_err(|_| Skip::new(SkipReason::BadJson, "har-entry: not a HAR entry object"))?;
    entry.into_request()
}

/// Only what we need of an entry; everything else (responses, timings) is skipped unread.
/// Loosely typed so that one odd entry is a counted skip, not the end of the file.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "startedDateTime", default)]
    started: Option<Value>,
    #[serde(default)]
    request: Option<Value>,
}

impl RawEntry {
    fn into_request(self) -> Result<Request, Skip> {
        let r = self
            .request
            .ok_or_else(|| Skip::new(SkipReason::BadFields, "har: entry has no request"))?;
        let url = r
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| Skip::new(SkipReason::BadUrl, "har: request.url missing"))?;
        let mut req = Request {
            ts: self
                .started
                .as_ref()
                .and_then(Value::as_str)
                .and_then(parse_iso),
            method: r
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            ..Request::default()
        };
        if !req.set_url(url) || req.host.is_empty() {
            return Err(Skip::new(
                SkipReason::BadUrl,
                "har: request.url is not an absolute URL",
            ));
        }
        if let Some(headers) = r.get("headers").and_then(Value::as_array) {
            for h in headers {
                let (Some(name), Some(value)) = (
                    h.get("name").and_then(Value::as_str),
                    h.get("value").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if name.eq_ignore_ascii_case("referer") {
                    req.referer = Some(value.to_string());
                } else if name.eq_ignore_ascii_case("content-type") {
                    req.content_type = Some(value.to_string());
                } else {
                    req.add_header(name, value);
                }
            }
        }
        if let Some(post) = r.get("postData") {
            if let Some(mime) = post
                .get("mimeType")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
            {
                req.content_type = Some(mime.to_string());
            }
            let text = post
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty());
            if let Some(text) = text {
                let base64 = post.get("encoding").and_then(Value::as_str) == Some("base64");
                req.body = Some(if base64 {
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|_| {
                            Skip::new(
                                SkipReason::BadBody,
                                "har: postData.text marked base64 is not base64",
                            )
                        })?
                } else {
                    text.as_bytes().to_vec()
                });
            } else if let Some(params) = post.get("params").and_then(Value::as_array) {
                // Producers differ on whether names and values are decoded: encode them again and
                // let the decoder peel repeated percent-encoding off.
                let mut form = form_urlencoded::Serializer::new(String::new());
                for p in params {
                    let name = p.get("name").and_then(Value::as_str).unwrap_or("");
                    let value = p.get("value").and_then(Value::as_str).unwrap_or("");
                    form.append_pair(name, value);
                }
                req.body = Some(form.finish().into_bytes());
                req.content_type
                    .get_or_insert_with(|| "application/x-www-form-urlencoded".into());
            }
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, limits: &Limits) -> (Vec<Result<Request, Skip>>, Result<u64, Skip>) {
        let mut got = Vec::new();
        let result = read_har(text.as_bytes(), limits, |_, r| got.push(r));
        (got, result)
    }

    const HAR: &str = r#"{"log":{"version":"1.2","creator":{"name":"t"},"pages":[],"entries":[
      {"startedDateTime":"2025-04-28T15:23:24.940Z","request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1&ev=PageView","headers":[{"name":"Referer","value":"https://a.example/"}]},"response":{"content":{"text":"xxxxxxxx"}}},
      {"request":{"method":"POST","url":"https://www.facebook.com/tr/","postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"udff%5Bem%5D","value":"abc"}]}}},
      {"request":{"method":"GET","url":42}},
      {"request":{"method":"POST","url":"https://x.example/","postData":{"mimeType":"text/plain","text":"aGVsbG8=","encoding":"base64"}}}
    ]}}"#;

    #[test]
    fn entries_stream_and_odd_entries_are_skipped_alone() {
        let (got, result) = read(HAR, &Limits::default());
        assert_eq!(result.unwrap(), 4);
        let first = got[0].as_ref().unwrap();
        assert_eq!(first.referer.as_deref(), Some("https://a.example/"));
        assert_eq!(first.ts.unwrap().timestamp(), 1745853804);
        let second = got[1].as_ref().unwrap();
        assert_eq!(second.body.as_deref(), Some(&b"udff%255Bem%255D=abc"[..]));
        assert_eq!(got[2].as_ref().unwrap_err().reason, SkipReason::BadUrl);
        assert_eq!(
            got[3].as_ref().unwrap().body.as_deref(),
            Some(&b"hello"[..])
        );
    }

    #[test]
    fn truncated_file_delivers_complete_entries_first() {
        let cut = &HAR[..HAR
            .find("{\"request\":{\"method\":\"GET\",\"url\":42")
            .unwrap()
            + 10];
        let (got, result) = read(cut, &Limits::default());
        assert_eq!(got.len(), 2);
        assert_eq!(result.unwrap_err().reason, SkipReason::Truncated);
    }

    #[test]
    fn oversized_entry_stops_the_file() {
        let limits = Limits {
            max_record_bytes: 150,
            ..Limits::default()
        };
        let (_, result) = read(HAR, &limits);
        assert_eq!(result.unwrap_err().reason, SkipReason::RecordTooLarge);
    }

    #[test]
    fn not_a_har() {
        let (_, result) = read(r#"{"foo":1}"#, &Limits::default());
        assert_eq!(result.unwrap_err().reason, SkipReason::BadJson);
        let (_, result) = read("[1,2", &Limits::default());
        assert!(result.is_err());
    }
}
