//! Detect: find personal data, hashed identifiers, Art. 9 categories, secrets, consent and
//! transport problems in a decoded [`Beacon`].
//!
//! Per field, in this order: is it a secret field (never printed)? Is it an identity field of
//! the vendor (hash-shaped → `hashed_pii`, placeholder → nothing, plaintext → `pii`)? Then the
//! PII detectors (keywords → regex → validator) and, on content fields, the Art. 9
//! vocabularies. Beacon-level rules add `transport` and `consent` findings and raise the
//! severity of Art. 9 findings that travel together with a person's identity.

pub mod hashes;
pub mod known;
pub mod sites;
pub mod validate;
pub mod vocab;

use crate::error::Error;
use crate::fasthash::HashSet;
use crate::pixel::decode::{starts_with_ignore_case, Chain, Field, Step};
use crate::pixel::lexicon::LexKind;
use crate::pixel::{Beacon, Semantics};
use crate::request::Scheme;
use crate::rules::PackSpec;
use aho_corasick::AhoCorasick;
use hashes::{hash_shape, sha256_hex, Placeholders};
use regex::Regex;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use vocab::{Vocab, VocabIndex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Pii,
    HashedPii,
    Sensitive,
    Secret,
    Consent,
    Transport,
    Anomaly,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Pii,
        Class::HashedPii,
        Class::Sensitive,
        Class::Secret,
        Class::Consent,
        Class::Transport,
        Class::Anomaly,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Pii => "pii",
            Class::HashedPii => "hashed_pii",
            Class::Sensitive => "sensitive",
            Class::Secret => "secret",
            Class::Consent => "consent",
            Class::Transport => "transport",
            Class::Anomaly => "anomaly",
        }
    }
    /// Whether the class identifies a person.
    pub fn is_identity(self) -> bool {
        matches!(self, Class::Pii | Class::HashedPii)
    }
}

impl FromStr for Class {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown class `{s}`"))
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown severity `{s}` (info, low, medium, high, critical)"))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A matched raw value. It has no `Serialize` and its `Debug` hides the text, so it cannot leak
/// through output or logs by accident; only `redact` reads it.
#[derive(Clone, PartialEq)]
pub struct RawValue(String);

impl RawValue {
    pub fn new(s: impl Into<String>) -> Self {
        RawValue(s.into())
    }
    /// The raw text. Callers outside `redact` and `explain` must not print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawValue(<{} chars>)", self.0.chars().count())
    }
}

/// What detection found, before redaction.
#[derive(Debug, Clone)]
pub struct Finding {
    pub class: Class,
    /// The `type` of the finding (`email`, `health`, `access_token`...).
    pub kind: Arc<str>,
    pub detector: Arc<str>,
    pub field: String,
    pub event: u16,
    pub chain: Chain,
    pub severity: Severity,
    pub value: RawValue,
    /// Normalised value the fingerprint is computed over (never printed).
    pub norm: RawValue,
    /// For hashed identifiers: the digest algorithm.
    pub algorithm: Option<&'static str>,
    /// The identifier matches the user's `--known-identifiers` list: a confirmed customer.
    pub confirmed: bool,
    /// A published test value (a payment scheme's test card): the leak path is real, the
    /// person is not.
    pub test_value: bool,
}

#[derive(Debug, Clone)]
enum Scope {
    Any,
    Identity,
    IdentityKind(String),
}

#[derive(Debug, Clone)]
struct PiiDetector {
    id: Arc<str>,
    kind: Arc<str>,
    regex: Regex,
    validator: Option<String>,
    scope: Scope,
    min_digits: usize,
    severity: Severity,
    has_keywords: bool,
    /// Field paths the detector is limited to (none: every field).
    fields: Option<regex::RegexSet>,
    /// Published test values, as digits (or as written when they hold letters).
    test_values: HashSet<String>,
}

/// All detectors, compiled once.
#[derive(Debug, Clone)]
pub struct Detectors {
    pii: Vec<PiiDetector>,
    /// Every PII detector's regex in one set: one pass over a value says which detectors can
    /// match at all, so the individual regexes only run where they will find something.
    screen: regex::RegexSet,
    keywords: AhoCorasick,
    /// Which detector owns each keyword pattern.
    keyword_owner: Vec<usize>,
    pub placeholders: Placeholders,
    pub vocabs: Vec<Vocab>,
    /// All vocabularies' terms in one automaton.
    vocab_index: VocabIndex,
    /// The user's customers (`--known-identifiers`), if given.
    pub known: Option<Arc<known::KnownIdentifiers>>,
    /// Sites the user marked as an Art. 9 context (`--sites`).
    pub sites: sites::SiteContexts,
}

fn parse_severity(
    s: &Option<String>,
    default: Severity,
    ctx: &dyn Fn(String) -> Error,
) -> Result<Severity, Error> {
    match s {
        None => Ok(default),
        Some(s) => s.parse().map_err(|e: String| ctx(e)),
    }
}

impl Detectors {
    pub fn compile(packs: &[PackSpec]) -> Result<Detectors, Error> {
        let mut pii = Vec::new();
        let mut keywords = Vec::new();
        let mut keyword_owner = Vec::new();
        let mut placeholders = Placeholders::default();
        let mut vocabs = Vec::new();
        let mut ids = HashSet::default();
        for pack in packs {
            for d in &pack.detectors {
                let ctx =
                    |msg: String| Error::rules(format!("{}: rule `{}`: {msg}", pack.source, d.id));
                if !crate::rules::is_kebab(&d.id) {
                    return Err(ctx("id is not kebab-case".into()));
                }
                if !ids.insert(d.id.clone()) {
                    return Err(ctx("id is used twice".into()));
                }
                let regex = Regex::new(&d.regex)
                    .map_err(|e| ctx(format!("regex does not compile: {e}")))?;
                if let Some(v) = &d.validator {
                    if !validate::known(v) {
                        return Err(ctx(format!(
                            "validator `{v}` is unknown (known: {})",
                            validate::NAMES.join(", ")
                        )));
                    }
                }
                let scope = match d.scope.as_str() {
                    "any" => Scope::Any,
                    "identity" => Scope::Identity,
                    s => match s.strip_prefix("identity:") {
                        Some(kind) => Scope::IdentityKind(kind.to_string()),
                        None => {
                            return Err(ctx(format!(
                                "scope `{s}` is not any, identity or identity:KIND"
                            )))
                        }
                    },
                };
                let index = pii.len();
                for k in &d.keywords {
                    keywords.push(k.to_ascii_lowercase());
                    keyword_owner.push(index);
                }
                pii.push(PiiDetector {
                    id: Arc::from(d.id.as_str()),
                    kind: Arc::from(d.kind.as_str()),
                    regex,
                    validator: d.validator.clone(),
                    scope,
                    min_digits: d.min_digits,
                    severity: parse_severity(&d.severity, Severity::Critical, &ctx)?,
                    has_keywords: !d.keywords.is_empty(),
                    fields: if d.fields.is_empty() {
                        None
                    } else {
                        let globs: Vec<String> = d
                            .fields
                            .iter()
                            .map(|g| crate::rules::glob_to_regex(g))
                            .collect();
                        Some(
                            regex::RegexSetBuilder::new(&globs)
                                .case_insensitive(true)
                                .build()
                                .map_err(|e| ctx(format!("fields do not compile: {e}")))?,
                        )
                    },
                    test_values: packs
                        .iter()
                        .flat_map(|p| &p.test_values)
                        .filter(|t| t.kind == d.kind)
                        .flat_map(|t| t.values.iter().map(|v| test_key(v)))
                        .collect(),
                });
            }
            for p in &pack.placeholders {
                match (&p.plain, &p.hash) {
                    (Some(plain), _) => placeholders.add_plain(plain),
                    (None, Some(hash)) => placeholders.add_hash(hash),
                    (None, None) => {
                        return Err(Error::rules(format!(
                            "{}: a placeholder needs `plain` or `hash`",
                            pack.source
                        )));
                    }
                }
            }
            if !pack.terms.is_empty() {
                let v = Vocab::compile(pack)?;
                let ctx = |msg: String| {
                    Error::rules(format!(
                        "{}: vocabulary `{}`: {msg}",
                        pack.source, pack.pack.id
                    ))
                };
                parse_severity(&v.severity, Severity::High, &ctx)?;
                vocabs.push(v);
            }
        }
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| Error::rules(format!("detector keywords do not compile: {e}")))?;
        let screen = regex::RegexSet::new(pii.iter().map(|d| d.regex.as_str()))
            .map_err(|e| Error::rules(format!("detector regexes do not compile as a set: {e}")))?;
        Ok(Detectors {
            pii,
            screen,
            keywords,
            keyword_owner,
            placeholders,
            vocab_index: VocabIndex::new(&vocabs)?,
            vocabs,
            known: None,
            sites: sites::SiteContexts::default(),
        })
    }

    /// Ids of every PII detector, for `rules list`.
    pub fn pii_ids(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pii.iter().map(|d| (&*d.id, &*d.kind))
    }

    /// Run every rule over a beacon whose fields carry their roles (as [`crate::pixel::Recognizer::beacon`] fills them).
    pub fn detect(&self, beacon: &Beacon, sem: &Semantics) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        // The site's country decides how a phone number without country code is read.
        let region = beacon.site.as_deref().and_then(validate::region_of_site);
        for f in &beacon.fields {
            if f.value.is_empty() {
                continue;
            }
            if let Some((kind, detector)) = sem.secret_of(f.role) {
                out.push(finding(
                    f,
                    Class::Secret,
                    kind.clone(),
                    detector.clone(),
                    Severity::High,
                    &f.value,
                    f.value.clone(),
                ));
                continue;
            }
            match sem.identity_of(f.role) {
                Some((kind, detector)) => {
                    let lex = sem.lexicon_kind(f.role);
                    let named = sem.kind_from_sibling(f.role, &f.path, &beacon.fields);
                    let kind = named.as_ref().unwrap_or(kind);
                    self.identity_field(f, kind, detector, lex, region, &mut out)
                }
                None => self.pii_in(f, None, region, &mut out),
            }
            if f.role.content {
                self.vocab_in(f, &mut out);
            }
        }
        self.beacon_rules(beacon, &mut out);
        if let Some(known) = &self.known {
            for f in out.iter_mut().filter(|f| f.class.is_identity()) {
                // Hashed values and plaintext e-mails/phones carry a hex digest as their norm;
                // plaintext names, addresses and dates their lower-case text.
                let norm = f.norm.expose();
                f.confirmed = known.contains_digest(norm)
                    || (f.class == Class::Pii
                        && matches!(&*f.kind, "name" | "postal_address" | "date_of_birth")
                        && known.contains_digest(&sha256_hex(norm)));
            }
        }
        dedupe(out)
    }

    fn identity_field(
        &self,
        f: &Field,
        kind: &Arc<str>,
        detector: &Arc<str>,
        lex: Option<LexKind>,
        region: Option<validate::Region>,
        out: &mut Vec<Finding>,
    ) {
        if self.placeholders.is_plain(&f.value) {
            return;
        }
        if let Some(h) = hash_shape(&f.value) {
            if self.placeholders.is_hash(&h) {
                return;
            }
            let ty: Arc<str> = if &**kind == "country" {
                Arc::from("postal_address")
            } else {
                kind.clone()
            };
            let mut x = finding(
                f,
                Class::HashedPii,
                ty,
                detector.clone(),
                Severity::High,
                &f.value,
                h.hex.clone(),
            );
            x.algorithm = Some(h.algorithm);
            out.push(x);
            return;
        }
        let before = out.len();
        self.pii_in(f, Some(kind), region, out);
        if out.len() > before {
            return;
        }
        let v = f.value.trim();
        // A custom field named for identity is only as good as its value: a flag, a number
        // where a name belongs, a postal code that is no postal code, is not a person.
        if lex.is_some_and(|k| !validate::lexicon_value(k, v)) {
            return;
        }
        let plain_ok = match &**kind {
            "name" => v.chars().any(char::is_alphabetic) && v.chars().count() <= 100,
            "postal_address" => v.chars().any(char::is_alphanumeric),
            "date_of_birth" => v.chars().filter(char::is_ascii_digit).count() >= 2,
            "gender" => validate::gender(v),
            "ip_address" => v.parse::<std::net::IpAddr>().is_ok(),
            _ => false,
        };
        if plain_ok {
            out.push(finding(
                f,
                Class::Pii,
                kind.clone(),
                detector.clone(),
                Severity::Critical,
                v,
                v.to_lowercase(),
            ));
        }
    }

    fn pii_in(
        &self,
        f: &Field,
        identity_kind: Option<&Arc<str>>,
        region: Option<validate::Region>,
        out: &mut Vec<Finding>,
    ) {
        let value = f.value.as_str();
        let digits = value.bytes().filter(u8::is_ascii_digit).count();
        let mut keyed: u128 = 0;
        let mut keyed_overflow = Vec::new();
        if self
            .pii
            .iter()
            .any(|d| d.has_keywords && digits >= d.min_digits)
        {
            for m in self.keywords.find_overlapping_iter(value) {
                let owner = self.keyword_owner[m.pattern().as_usize()];
                if owner < 128 {
                    keyed |= 1 << owner;
                } else {
                    keyed_overflow.push(owner);
                }
            }
        }
        // Detectors whose keywords, digit count, scope and fields allow them here.
        let eligible = |i: usize, d: &PiiDetector| {
            if d.has_keywords {
                let hit = if i < 128 {
                    keyed & (1 << i) != 0
                } else {
                    keyed_overflow.contains(&i)
                };
                if !hit {
                    return false;
                }
            }
            if digits < d.min_digits {
                return false;
            }
            let in_scope = match (&d.scope, identity_kind) {
                (Scope::Any, _) => true,
                (Scope::Identity, Some(_)) => true,
                (Scope::IdentityKind(k), Some(kind)) => k.as_str() == &**kind,
                _ => false,
            };
            in_scope && d.fields.as_ref().is_none_or(|set| set.is_match(&f.path))
        };
        let mut first = None;
        let mut several = false;
        for (i, d) in self.pii.iter().enumerate() {
            if eligible(i, d) {
                several = first.is_some();
                first.get_or_insert(i);
                if several {
                    break;
                }
            }
        }
        let Some(first) = first else { return };
        // With more than one candidate, one pass of the combined set rules most of them out.
        let screened = several.then(|| self.screen.matches(value));
        for (i, d) in self.pii.iter().enumerate().skip(first) {
            if screened.as_ref().is_some_and(|s| !s.matched(i)) || !eligible(i, d) {
                continue;
            }
            for m in d.regex.find_iter(value) {
                let text = m.as_str();
                let test_value =
                    !d.test_values.is_empty() && d.test_values.contains(&test_key(text));
                // A field named for the kind vouches for a test value the validator refuses
                // (a test card with few distinct digits); elsewhere the validator decides.
                if !(test_value && d.fields.is_some())
                    && d.validator
                        .as_deref()
                        .is_some_and(|v| !validate::run_in(v, text, region))
                {
                    continue;
                }
                let norm = normalize_pii(&d.kind, text, region);
                let mut x = finding(
                    f,
                    Class::Pii,
                    d.kind.clone(),
                    d.id.clone(),
                    if test_value {
                        Severity::Low
                    } else {
                        d.severity
                    },
                    text,
                    norm,
                );
                x.test_value = test_value;
                out.push(x);
            }
        }
    }

    fn vocab_in(&self, f: &Field, out: &mut Vec<Finding>) {
        let text = content_text(&f.value);
        let norm = vocab::normalize(text);
        for (vi, m) in self.vocab_index.find_each(&self.vocabs, &norm) {
            let v = &self.vocabs[vi];
            {
                let class = v.class.parse().unwrap_or(Class::Sensitive);
                let severity = v
                    .severity
                    .as_deref()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(Severity::High);
                let mut x = finding(
                    f,
                    class,
                    v.kind.clone(),
                    v.id.clone(),
                    severity,
                    &m.tokens,
                    format!("term:{}", m.term),
                );
                x.value = RawValue::new(m.tokens);
                out.push(x);
            }
        }
    }

    fn beacon_rules(&self, beacon: &Beacon, out: &mut Vec<Finding>) {
        if let Some((host, kind)) = beacon.site.as_deref().and_then(|s| self.sites.lookup(s)) {
            let evidence = format!("site {host} is marked {kind}");
            out.push(Finding {
                class: Class::Sensitive,
                kind: kind.clone(),
                detector: Arc::from("site-context"),
                field: "site".into(),
                event: 0,
                chain: Chain::new(),
                severity: Severity::High,
                value: RawValue::new(evidence),
                norm: RawValue::new(format!("site:{host}")),
                algorithm: None,
                confirmed: false,
                test_value: false,
            });
        }
        let identity = out.iter().any(|f| f.class.is_identity());
        if identity {
            for f in out.iter_mut().filter(|f| f.class == Class::Sensitive) {
                f.severity = Severity::Critical;
            }
        }
        if let Some(consent) = &beacon.consent {
            // The first event whose identity was sent against a refusal (the request's own
            // signal, or the event's in a batched conversion API).
            let denied = out
                .iter()
                .filter(|f| f.class.is_identity())
                .map(|f| f.event)
                .find(|&e| consent.denied_for(e));
            if let Some(event) = denied {
                let (field, evidence) = consent.denial(event);
                let step = if field == "gcs" || field == "gcd" {
                    Step::Query
                } else {
                    Step::Json
                };
                out.push(Finding {
                    class: Class::Consent,
                    kind: Arc::from("denied_but_sent"),
                    detector: Arc::from(if step == Step::Query {
                        "google-consent-denied"
                    } else {
                        "payload-consent-denied"
                    }),
                    field,
                    event,
                    chain: Chain::from_slice(&[step]),
                    severity: Severity::High,
                    value: RawValue::new(evidence.clone()),
                    norm: RawValue::new(evidence),
                    algorithm: None,
                    confirmed: false,
                    test_value: false,
                });
            }
        }
        if beacon.scheme == Some(Scheme::Http) {
            out.push(Finding {
                class: Class::Transport,
                kind: Arc::from("plaintext_http"),
                detector: Arc::from("transport-plaintext-http"),
                field: "url".into(),
                event: 0,
                chain: Chain::new(),
                severity: Severity::Medium,
                value: RawValue::new(beacon.location.clone()),
                norm: RawValue::new(beacon.location.clone()),
                algorithm: None,
                confirmed: false,
                test_value: false,
            });
        }
    }
}

fn finding(
    f: &Field,
    class: Class,
    kind: Arc<str>,
    detector: Arc<str>,
    severity: Severity,
    value: &str,
    norm: String,
) -> Finding {
    Finding {
        class,
        kind,
        detector,
        field: f.path.clone(),
        event: f.event,
        chain: f.chain.clone(),
        severity,
        value: RawValue::new(value),
        norm: RawValue::new(norm),
        algorithm: None,
        confirmed: false,
        test_value: false,
    }
}

/// A test value as compared: its digits, or the text upper-cased when it holds letters.
fn test_key(text: &str) -> String {
    if text.chars().any(|c| c.is_ascii_alphabetic()) {
        text.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase()
    } else {
        validate::digits(text)
    }
}

/// The same person's e-mail or phone gets one fingerprint whether it was sent in plain text or
/// as the SHA-256 Meta and Google send: plaintext is normalised and hashed the way they do.
fn normalize_pii(kind: &str, text: &str, region: Option<validate::Region>) -> String {
    match kind {
        "email" => sha256_hex(&text.trim().to_lowercase()),
        "phone" => validate::plausible_phone_in(text, region)
            .map(|d| sha256_hex(&d))
            .unwrap_or_else(|| validate::digits(text)),
        // SE and DK numbers share the ten-digit shape: one value, one fingerprint, whichever matched.
        "national_id" => match validate::se_personnummer(text) {
            Some(ten) => format!("nid:{ten}"),
            None if text.chars().any(|c| c.is_ascii_alphabetic()) => {
                format!("nid:{}", text.trim().to_ascii_uppercase())
            }
            None => format!("nid:{}", validate::digits(text)),
        },
        "payment_card" | "iban" => text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase(),
        _ => text.trim().to_lowercase(),
    }
}

/// The part of a value that says what a person looked at: for URLs, path and query without
/// scheme and host.
fn content_text(value: &str) -> &str {
    let rest = if starts_with_ignore_case(value, "https://") {
        &value[8..]
    } else if starts_with_ignore_case(value, "http://") {
        &value[7..]
    } else {
        return value;
    };
    match memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()) {
        Some(i) => &rest[i..],
        None => "",
    }
}

fn dedupe(mut findings: Vec<Finding>) -> Vec<Finding> {
    if findings.len() < 2 {
        return findings;
    }
    let keep: Vec<bool> = {
        let mut seen: HashSet<(Class, &str, &str)> = HashSet::default();
        findings
            .iter()
            .map(|f| {
                let text = match f.class {
                    Class::Secret | Class::Transport | Class::Consent => f.field.as_str(),
                    _ => f.norm.expose(),
                };
                seen.insert((f.class, &*f.kind, text))
            })
            .collect()
    };
    let mut keep = keep.into_iter();
    findings.retain(|_| keep.next().unwrap_or(false));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_text_drops_scheme_and_host() {
        assert_eq!(
            content_text("https://nevadahealthlink.com/plans?x=1"),
            "/plans?x=1"
        );
        assert_eq!(content_text("http://a.example"), "");
        assert_eq!(content_text("Klamydiatest"), "Klamydiatest");
    }

    #[test]
    fn plaintext_and_hashed_email_share_a_fingerprint_input() {
        assert_eq!(
            normalize_pii("email", " Anna.Svensson@Example.se", None),
            "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6"
        );
    }

    #[test]
    fn one_pass_over_all_vocabularies_finds_what_each_finds_alone() {
        let packs = crate::rules::load(&[] as &[&str]).unwrap();
        let d = Detectors::compile(&packs).unwrap();
        let texts: Vec<String> = packs
            .iter()
            .flat_map(|p| p.examples.iter().filter_map(|e| e.text.clone()))
            .collect();
        assert!(texts.len() > 50, "only {} example texts", texts.len());
        // Each example alone, and neighbours run together so several vocabularies match.
        let joined = texts.windows(3).map(|w| w.join(" / "));
        let mut matched = 0;
        for text in texts.iter().cloned().chain(joined) {
            let norm = vocab::normalize(&text);
            let each: Vec<_> = d
                .vocabs
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.find_normalized(&norm).map(|m| (i, m)))
                .collect();
            matched += each.len();
            assert_eq!(d.vocab_index.find_each(&d.vocabs, &norm), each, "{text}");
        }
        assert!(matched > 50, "only {matched} matches");
    }

    #[test]
    fn raw_values_do_not_print() {
        let v = RawValue::new("anna@example.se");
        assert!(!format!("{v:?}").contains("anna"));
    }
}
