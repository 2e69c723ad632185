//! Redact: turn detection results into the finding records that leave the process.
//!
//! Invariant: no raw personal value leaves this module unless the user passed `--reveal`, and a
//! secret (an access token) never does. Evidence is a masked form of the value; the
//! fingerprint is a keyed HMAC-SHA256 of the normalised value, so the same person can be
//! counted and correlated across records and runs without the value itself being stored.

use crate::detect::{Class, Finding, Severity};
use crate::format::Format;
use crate::pixel::consent::Consent;
use crate::request::Origin;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Version of the finding schema (see `docs/findings.md`).
pub const SCHEMA: &str = "pixelwarden.finding/v1";

/// One finding as written to stdout, files, Kafka and alerts.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRecord {
    pub schema: &'static str,
    /// Event time from the log, RFC 3339 UTC.
    pub ts: Option<String>,
    pub source: Origin,
    pub format: Format,
    /// First-party host the pixel was fired from.
    pub site: Option<String>,
    pub vendor: Arc<str>,
    pub endpoint: Arc<str>,
    pub pixel_id: Option<String>,
    pub event: Option<String>,
    pub class: Class,
    #[serde(rename = "type")]
    pub kind: Arc<str>,
    pub detector: Arc<str>,
    pub field: String,
    /// Decoding steps from the raw request to the value.
    pub decode: crate::pixel::decode::Chain,
    pub evidence: String,
    /// Present and true only when `--reveal` put the raw value in `evidence`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub revealed: bool,
    pub fingerprint: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<&'static str>,
    /// The identifier is one of the user's known customers (`--known-identifiers`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
    /// A published test value (a payment scheme's test card): the leak path is real.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test_value: bool,
    /// What an inline source did to the request (`stripped`, `blocked`); absent when it only
    /// watched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// The body was cut (by the log or by `max_body_bytes`): more may have been sent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// Where a finding was seen, in value-free terms.
pub struct Context<'a> {
    /// Event time as RFC 3339 UTC with milliseconds ([`ts_text`]), formatted once per request.
    pub ts: Option<&'a str>,
    pub origin: &'a Origin,
    pub format: Format,
    pub site: Option<&'a str>,
    pub vendor: &'a Arc<str>,
    pub endpoint: &'a Arc<str>,
    pub pixel_id: Option<&'a str>,
    pub event: Option<&'a str>,
    pub consent: Option<&'a Consent>,
    pub truncated: bool,
}

/// Event time as findings print it: RFC 3339 UTC with milliseconds.
pub fn ts_text(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Clone)]
pub struct Redactor {
    /// HMAC-SHA256 keyed once; every fingerprint starts from a copy.
    mac: Hmac<Sha256>,
    reveal: bool,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("reveal", &self.reveal)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    pub fn new(key: [u8; 32], reveal: bool) -> Self {
        Redactor {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length"),
            reveal,
        }
    }

    pub fn reveal(&self) -> bool {
        self.reveal
    }

    /// `hm1:` + 16 hex digits of HMAC-SHA256(key, type ‖ 0 ‖ normalised value).
    pub fn fingerprint(&self, kind: &str, norm: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(norm.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut text = String::with_capacity(20);
        text.push_str("hm1:");
        crate::detect::hashes::push_hex(&out[..8], &mut text);
        text
    }

    pub fn evidence(&self, f: &Finding) -> (String, bool) {
        let raw = f.value.expose();
        if f.class == Class::Anomaly && !self.reveal {
            let safe = safe_label(&f.field);
            return (
                mask(f.class, &f.kind, &raw.replace(&f.field, &safe), None),
                false,
            );
        }
        if self.reveal && f.class != Class::Secret {
            return (raw.to_string(), true);
        }
        (mask(f.class, &f.kind, raw, f.algorithm), false)
    }

    pub fn record(&self, f: &Finding, cx: &Context) -> FindingRecord {
        let (evidence, revealed) = self.evidence(f);
        FindingRecord {
            schema: SCHEMA,
            ts: cx.ts.map(str::to_string),
            source: cx.origin.clone(),
            format: cx.format,
            site: cx.site.map(str::to_string),
            vendor: cx.vendor.clone(),
            endpoint: cx.endpoint.clone(),
            pixel_id: cx.pixel_id.map(|p| {
                if p.contains('@') {
                    "…".to_string()
                } else if p.len() <= 100 {
                    p.to_string()
                } else {
                    p.chars().take(100).collect()
                }
            }),
            event: cx.event.map(safe_label),
            class: f.class,
            kind: f.kind.clone(),
            detector: f.detector.clone(),
            field: if self.reveal {
                f.field.clone()
            } else {
                safe_label(&f.field)
            },
            decode: f.chain.clone(),
            evidence,
            revealed,
            fingerprint: self.fingerprint(&f.kind, f.norm.expose()),
            severity: f.severity,
            hash: f.algorithm,
            confirmed: f.confirmed,
            test_value: f.test_value,
            action: None,
            consent: cx.consent.cloned(),
            truncated: cx.truncated,
        }
    }
}

/// Masked evidence for a value of a class and type.
pub fn mask(class: Class, kind: &str, raw: &str, algorithm: Option<&str>) -> String {
    match class {
        Class::HashedPii => {
            let head: String = raw.trim().chars().take(6).collect();
            format!(
                "{head}… ({}, {} chars)",
                algorithm.unwrap_or("hash"),
                raw.trim().chars().count()
            )
        }
        Class::Secret => format!("[redacted {kind}, {} chars]", raw.chars().count()),
        Class::Sensitive => {
            let t: String = raw.chars().take(60).collect();
            if raw.chars().count() > 60 {
                format!("{t}…")
            } else {
                t
            }
        }
        Class::Consent | Class::Transport => raw.to_string(),
        // Drift text is built from value-free parts, but a field family comes from the payload.
        Class::Anomaly => raw
            .split(' ')
            .map(|w| {
                if w.contains('@') {
                    "…".to_string()
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Class::Pii => match kind {
            "email" => mask_email(raw),
            "phone" => mask_digits(raw, 2),
            "national_id" => mask_digits(raw, 0),
            "ip_address" => mask_ip(raw),
            "date_of_birth" => mask_digits(raw, 0),
            _ => {
                let first: String = raw.trim().chars().take(1).collect();
                format!("{first}*** ({} chars)", raw.trim().chars().count())
            }
        },
    }
}

fn mask_email(raw: &str) -> String {
    let Some((local, domain)) = raw.rsplit_once('@') else {
        return "***".into();
    };
    let l: String = local.chars().take(1).collect();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let h: String = host.chars().take(1).collect();
    format!("{l}***@{h}***.{tld}")
}

/// Every digit but the last `keep` becomes `*`; a leading `+` and the first two digits of an
/// international number (the country code) stay.
fn mask_digits(raw: &str, keep: usize) -> String {
    let total = raw.chars().filter(char::is_ascii_digit).count();
    let intl = raw.trim_start().starts_with('+');
    let mut seen = 0;
    raw.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if (intl && seen <= 2 && keep > 0) || seen > total.saturating_sub(keep) {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

fn mask_ip(raw: &str) -> String {
    match raw.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.*.*", o[0], o[1])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:*", s[0], s[1])
        }
        Err(_) => "***".into(),
    }
}

/// Labels taken from the payload (field paths, event names, pixel ids) are not personal
/// values, but a payload can put anything anywhere: a segment holding an `@` or a long digit
/// run is masked.
pub fn safe_label(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut out = String::with_capacity(text.len().min(4 * MAX_CHARS));
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '[' | ']' | '?' | '=' | '&' | '/') {
            push_segment(&text[start..i], &mut out);
            out.push(c);
            start = i + 1;
        }
    }
    push_segment(&text[start..], &mut out);
    if let Some((cut, _)) = out.char_indices().nth(MAX_CHARS) {
        out.truncate(cut);
    }
    out
}

/// One segment of a label: itself, or `…` when it holds an `@` or a long digit run.
fn push_segment(segment: &str, out: &mut String) {
    let (mut run, mut longest, mut other) = (0, 0, false);
    for b in segment.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
            other = true;
        }
    }
    if segment.contains('@') || (longest >= 9 && other) || longest >= 10 {
        out.push('…');
    } else {
        out.push_str(segment);
    }
}

/// Where the fingerprint key lives when none is given.
pub fn default_key_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PIXELWARDEN_HOME") {
        return Some(PathBuf::from(dir).join("fingerprint.key"));
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return Some(PathBuf::from(dir).join("pixelwarden/fingerprint.key"));
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".local/state/pixelwarden/fingerprint.key"))
}

/// The fingerprint key: from `PIXELWARDEN_FINGERPRINT_KEY` (64 hex digits, or any text, which
/// is hashed), else from the key file, generated there once (mode 0600) if it does not exist.
/// Returns the key and, when it was just created, where.
pub fn load_key(path: Option<&Path>) -> Result<([u8; 32], Option<PathBuf>), crate::error::Error> {
    use crate::error::{Error, ErrorKind};
    if let Ok(text) = std::env::var("PIXELWARDEN_FINGERPRINT_KEY") {
        // A short or empty key is a well-known key: fingerprints could be recomputed by anyone.
        if text.trim().len() < 8 {
            return Err(Error::config("PIXELWARDEN_FINGERPRINT_KEY is shorter than 8 characters; use a long random secret (e.g. 64 hex digits)"));
        }
        return Ok((key_from_text(&text), None));
    }
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => default_key_path().ok_or_else(|| {
            Error::config("no fingerprint key: set PIXELWARDEN_FINGERPRINT_KEY, --fingerprint-key-file or HOME")
        })?,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((key_from_text(text.trim()), None)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot generate a key: {e}")))?;
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("{}: cannot create: {e}", dir.display()),
                    )
                })?;
            }
            write_private(&path, &hex).map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("{}: cannot write key: {e}", path.display()),
                )
            })?;
            Ok((key, Some(path)))
        }
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("{}: cannot read key: {e}", path.display()),
        )),
    }
}

fn key_from_text(text: &str) -> [u8; 32] {
    let t = text.trim();
    if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate() {
            *k = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        key
    } else {
        use sha2::Digest;
        Sha256::digest(t.as_bytes()).into()
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(
            mask(Class::Pii, "email", "anna.svensson@example.se", None),
            "a***@e***.se"
        );
        assert_eq!(
            mask(Class::Pii, "phone", "+46 70-123 45 67", None),
            "+46 **-*** ** 67"
        );
        assert_eq!(
            mask(Class::Pii, "national_id", "811218-9876", None),
            "******-****"
        );
        assert_eq!(
            mask(Class::Pii, "ip_address", "203.0.113.7", None),
            "203.0.*.*"
        );
        assert_eq!(mask(Class::Pii, "name", "anna", None), "a*** (4 chars)");
        let h = mask(
            Class::HashedPii,
            "email",
            "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6",
            Some("sha256"),
        );
        assert_eq!(h, "7ad5bc… (sha256, 64 chars)");
        assert_eq!(
            mask(Class::Secret, "access_token", "EAAGsecret", None),
            "[redacted access_token, 10 chars]"
        );
    }

    #[test]
    fn fingerprints_are_keyed() {
        let a = Redactor::new([1; 32], false).fingerprint("email", "x");
        let b = Redactor::new([2; 32], false).fingerprint("email", "x");
        assert_ne!(a, b);
        assert!(a.starts_with("hm1:") && a.len() == 20);
    }

    #[test]
    fn labels_from_payloads_are_masked_when_they_look_personal() {
        assert_eq!(safe_label("cd[contents][0].name"), "cd[contents][0].name");
        assert_eq!(safe_label("anna@example.se"), "….se");
        assert_eq!(safe_label("dl?email"), "dl?email");
        assert_eq!(safe_label("x.8112189876"), "x.…");
        assert_eq!(safe_label("1234567890123"), "…");
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/fingerprint.key");
        let (k1, created) = load_key(Some(&path)).unwrap();
        assert!(created.is_some());
        let (k2, created) = load_key(Some(&path)).unwrap();
        assert!(created.is_none());
        assert_eq!(k1, k2);
    }
}
