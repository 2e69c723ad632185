//! The forensic report: findings (JSON lines, streamed) aggregated into what a data-protection
//! officer needs to answer GDPR Art. 33 — what went to whom, since when, about how many people,
//! which categories — and rendered as one self-contained HTML file ([`html`]). Memory is bounded
//! by the number of groups (site × vendor × pixel × field family), not by the findings: people
//! are counted with HyperLogLog sketches, examples are capped per group.
//!
//! Sits after the sinks: it reads what `scan`, `run` and `probe` wrote.

pub mod html;

use crate::drift::family;
use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasherDefault;

/// A finding as read back from a findings file (`docs/findings.md`); only what the report uses.
#[derive(Debug, Deserialize)]
pub struct RecordIn<'a> {
    #[serde(borrow, default)]
    pub ts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub source: &'a serde_json::value::RawValue,
    #[serde(borrow, default)]
    pub format: Cow<'a, str>,
    #[serde(borrow, default)]
    pub site: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub vendor: Cow<'a, str>,
    #[serde(borrow, default)]
    pub pixel_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub class: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub detector: Cow<'a, str>,
    #[serde(borrow, default)]
    pub field: Cow<'a, str>,
    #[serde(default)]
    pub decode: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub evidence: Cow<'a, str>,
    #[serde(default)]
    pub revealed: bool,
    #[serde(borrow, default)]
    pub fingerprint: Cow<'a, str>,
    #[serde(borrow)]
    pub severity: Cow<'a, str>,
    #[serde(borrow, default)]
    pub hash: Option<Cow<'a, str>>,
    #[serde(default)]
    pub confirmed: bool,
    #[serde(default)]
    pub test_value: bool,
}

/// Distinct counter: exact for the first few values (most groups see few people), then a
/// HyperLogLog++ sketch, so a group costs tens of bytes until it needs more.
pub enum Distinct {
    Few(Vec<u64>),
    Many(Box<HyperLogLogPlus<u64, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>>),
}

/// Values counted exactly before a group switches to a sketch.
const EXACT: usize = 32;

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Few(Vec::new())
    }
}

impl std::fmt::Debug for Distinct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Distinct")
    }
}

impl Distinct {
    pub fn add(&mut self, fingerprint: &str) {
        if fingerprint.is_empty() {
            return;
        }
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = foldhash::fast::FixedState::with_seed(0x7065_6f70).build_hasher();
        fingerprint.hash(&mut h);
        let v = h.finish();
        match self {
            Distinct::Few(vals) => {
                if !vals.contains(&v) {
                    if vals.len() < EXACT {
                        vals.push(v);
                    } else {
                        let mut hll = HyperLogLogPlus::new(12, BuildHasherDefault::default())
                            .expect("precision 12 is valid");
                        for x in vals.iter() {
                            hll.insert(x);
                        }
                        hll.insert(&v);
                        *self = Distinct::Many(Box::new(hll));
                    }
                }
            }
            Distinct::Many(hll) => hll.insert(&v),
        }
    }
    pub fn estimate(&mut self) -> u64 {
        match self {
            Distinct::Few(vals) => vals.len() as u64,
            Distinct::Many(hll) => hll.count().round() as u64,
        }
    }
}

/// The classes of the report's timelines, in the order they are drawn.
pub const TIMELINE_CLASSES: [&str; 5] = ["pii", "hashed_pii", "sensitive", "consent", "transport"];

fn class_index(class: &str) -> Option<usize> {
    TIMELINE_CLASSES.iter().position(|c| *c == class)
}

/// Everything about one site × vendor × pixel.
#[derive(Debug, Default)]
pub struct PixelGroup {
    pub first: String,
    pub last: String,
    pub findings: u64,
    /// Findings per day (`YYYY-MM-DD`) per timeline class.
    pub days: BTreeMap<String, [u64; 5]>,
    /// Drift anomalies per day, with their types.
    pub anomalies: BTreeMap<String, BTreeSet<String>>,
    pub people: Distinct,
}

/// One field family of one pixel carrying one type of data: an Art. 33 "breach window".
#[derive(Debug, Default)]
pub struct FamilyGroup {
    pub first: String,
    pub last: String,
    pub hits: u64,
    pub people: Distinct,
    pub confirmed: u64,
    pub test_values: u64,
    /// Up to three distinct redacted examples, with their decode chains.
    pub examples: Vec<(String, String)>,
    pub severity: String,
}

/// What the findings add up to.
#[derive(Debug, Default)]
pub struct Report {
    pub records: u64,
    pub skipped_lines: u64,
    pub by_class: BTreeMap<String, u64>,
    pub by_severity: BTreeMap<String, u64>,
    pub by_type: BTreeMap<(String, String), u64>,
    pub first: String,
    pub last: String,
    pub sites: BTreeSet<String>,
    /// Vendor → pixel ids.
    pub recipients: BTreeMap<String, BTreeSet<String>>,
    pub formats: BTreeSet<String>,
    /// Distinct fingerprints per identity type (one person has one per type).
    pub people_by_type: BTreeMap<String, Distinct>,
    pub confirmed_by_type: BTreeMap<String, Distinct>,
    /// Requests carrying personal or Art. 9 data (distinct sources).
    pub requests_with_data: Distinct,
    pub pixels: BTreeMap<(String, String, String), PixelGroup>,
    /// (site, vendor, pixel, field family, class/type) → window.
    pub families: BTreeMap<(String, String, String, String, String), FamilyGroup>,
    /// Findings counted in an "(other)" group because the report holds at most
    /// [`MAX_PIXEL_GROUPS`] pixels and [`MAX_FAMILIES`] field families (bounded memory).
    pub folded: u64,
    /// Any record carried a raw value (`--reveal` when it was made).
    pub had_revealed: bool,
    pub probe: bool,
}

/// Most site × vendor × pixel groups the report keeps; more are folded per vendor.
pub const MAX_PIXEL_GROUPS: usize = 20_000;
/// Most field families (site × vendor × pixel × family × type) the report keeps.
pub const MAX_FAMILIES: usize = 50_000;

const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

pub fn severity_rank(s: &str) -> usize {
    SEVERITIES.iter().position(|x| *x == s).unwrap_or(0)
}

impl Report {
    /// Add one line of a findings file; a line that is no finding is counted and skipped.
    pub fn add_line(&mut self, line: &str, reveal: bool) {
        if line.trim().is_empty() {
            return;
        }
        match serde_json::from_str::<RecordIn>(line) {
            Ok(r) => self.add(&r, reveal),
            Err(_) => self.skipped_lines += 1,
        }
    }

    pub fn add(&mut self, r: &RecordIn, reveal: bool) {
        self.records += 1;
        *self.by_class.entry(r.class.to_string()).or_default() += 1;
        *self.by_severity.entry(r.severity.to_string()).or_default() += 1;
        *self
            .by_type
            .entry((r.class.to_string(), r.kind.to_string()))
            .or_default() += 1;
        let ts = r.ts.as_deref().unwrap_or("");
        if !ts.is_empty() {
            if self.first.is_empty() || ts < self.first.as_str() {
                self.first = ts.to_string();
            }
            if ts > self.last.as_str() {
                self.last = ts.to_string();
            }
        }
        let site = r.site.as_deref().unwrap_or("unknown");
        let pixel = r.pixel_id.as_deref().unwrap_or("-");
        if !self.sites.contains(site) {
            self.sites.insert(site.to_string());
        }
        let pixels = self.recipients.entry(r.vendor.to_string()).or_default();
        if !pixels.contains(pixel) {
            pixels.insert(pixel.to_string());
        }
        if !self.formats.contains(r.format.as_ref()) {
            self.formats.insert(r.format.to_string());
        }
        self.had_revealed |= r.revealed;
        self.probe |= r.source.get().contains("\"probe\"");
        let identity = matches!(&*r.class, "pii" | "hashed_pii");
        if identity && !r.test_value {
            self.people_by_type
                .entry(r.kind.to_string())
                .or_default()
                .add(&r.fingerprint);
            if r.confirmed {
                self.confirmed_by_type
                    .entry(r.kind.to_string())
                    .or_default()
                    .add(&r.fingerprint);
            }
        }
        if identity || r.class == "sensitive" {
            self.requests_with_data.add(r.source.get());
        }
        let day = ts.get(..10).unwrap_or("unknown").to_string();
        let mut key = (site.to_string(), r.vendor.to_string(), pixel.to_string());
        let mut folded = false;
        if self.pixels.len() >= MAX_PIXEL_GROUPS && !self.pixels.contains_key(&key) {
            key = (
                "(other sites)".into(),
                r.vendor.to_string(),
                "(other pixels)".into(),
            );
            folded = true;
        }
        let g = self.pixels.entry(key).or_default();
        g.findings += 1;
        if !ts.is_empty() {
            if g.first.is_empty() || ts < g.first.as_str() {
                g.first = ts.to_string();
            }
            if ts > g.last.as_str() {
                g.last = ts.to_string();
            }
        }
        if let Some(i) = class_index(&r.class) {
            g.days.entry(day.clone()).or_default()[i] += 1;
        }
        if r.class == "anomaly" {
            g.anomalies
                .entry(day)
                .or_default()
                .insert(r.kind.to_string());
        }
        if identity && !r.test_value {
            g.people.add(&r.fingerprint);
        }
        if matches!(
            &*r.class,
            "pii" | "hashed_pii" | "sensitive" | "consent" | "transport" | "secret"
        ) {
            let mut key = (
                site.to_string(),
                r.vendor.to_string(),
                pixel.to_string(),
                family(&r.field),
                format!("{}/{}", r.class, r.kind),
            );
            if self.families.len() >= MAX_FAMILIES && !self.families.contains_key(&key) {
                key = (
                    "(other sites)".into(),
                    r.vendor.to_string(),
                    "(other pixels)".into(),
                    "(other fields)".into(),
                    key.4,
                );
                folded = true;
            }
            let f = self.families.entry(key).or_default();
            if !ts.is_empty() {
                if f.first.is_empty() || ts < f.first.as_str() {
                    f.first = ts.to_string();
                }
                if ts > f.last.as_str() {
                    f.last = ts.to_string();
                }
            }
            f.hits += 1;
            if identity {
                f.people.add(&r.fingerprint);
            }
            f.confirmed += r.confirmed as u64;
            f.test_values += r.test_value as u64;
            if severity_rank(&r.severity) >= severity_rank(&f.severity) {
                f.severity = r.severity.to_string();
            }
            if f.examples.len() < 3 {
                let evidence = if r.revealed && !reveal {
                    remask(&r.class, &r.kind, &r.evidence, r.hash.as_deref())
                } else {
                    r.evidence.to_string()
                };
                let chain = r.decode.join(" → ");
                if !f.examples.iter().any(|(e, _)| *e == evidence) {
                    f.examples.push((evidence, chain));
                }
            }
        }
        self.folded += folded as u64;
    }

    /// About how many people: a person has one fingerprint per identity type, so the count is
    /// the largest number of distinct values of one type — of a type that is one per person
    /// (e-mail, phone, personal number, customer id) when there is one, else of any type.
    pub fn people(&mut self) -> u64 {
        estimate_people(&mut self.people_by_type)
    }

    pub fn confirmed_people(&mut self) -> u64 {
        estimate_people(&mut self.confirmed_by_type)
    }

    /// The worst severity seen.
    pub fn worst(&self) -> Option<&str> {
        self.by_severity
            .keys()
            .max_by_key(|s| severity_rank(s))
            .map(String::as_str)
    }

    /// Identity types (plain or hashed) and Art. 9 categories that left.
    pub fn categories(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut identity = BTreeSet::new();
        let mut art9 = BTreeSet::new();
        for ((class, kind), _) in &self.by_type {
            match class.as_str() {
                "pii" | "hashed_pii" => {
                    identity.insert(kind.clone());
                }
                "sensitive" => {
                    art9.insert(kind.clone());
                }
                _ => {}
            }
        }
        (identity, art9)
    }
}

const ONE_PER_PERSON: [&str; 4] = ["email", "phone", "national_id", "external_id"];

fn estimate_people(by_type: &mut BTreeMap<String, Distinct>) -> u64 {
    let strong = by_type
        .iter_mut()
        .filter(|(k, _)| ONE_PER_PERSON.contains(&k.as_str()))
        .map(|(_, d)| d.estimate())
        .max();
    strong.filter(|n| *n > 0).unwrap_or_else(|| {
        by_type
            .values_mut()
            .map(|d| d.estimate())
            .max()
            .unwrap_or(0)
    })
}

/// Evidence that was written raw (`--reveal`) masked again, for a report made without it.
fn remask(class: &str, kind: &str, raw: &str, hash: Option<&str>) -> String {
    use crate::detect::Class;
    let class = match class {
        "pii" => Class::Pii,
        "hashed_pii" => Class::HashedPii,
        "sensitive" => Class::Sensitive,
        "secret" => Class::Secret,
        "consent" => Class::Consent,
        "transport" => Class::Transport,
        _ => Class::Anomaly,
    };
    crate::redact::mask(class, kind, raw, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: &str, class: &str, kind: &str, fp: &str, field: &str) -> String {
        serde_json::json!({"schema":"pixelwarden.finding/v1","ts":ts,"source":{"path":"a.log","line":1},
            "format":"squid","site":"apotek.example.se","vendor":"meta","endpoint":"meta-pixel","pixel_id":"42",
            "event":"Purchase","class":class,"type":kind,"detector":"x","field":field,"decode":["query"],
            "evidence":"7ad5bc… (sha256, 64 chars)","fingerprint":fp,"severity":"high"}).to_string()
    }

    #[test]
    fn findings_add_up_per_day_family_and_person() {
        let mut r = Report::default();
        r.add_line(
            &line(
                "2024-03-04T08:00:00.000Z",
                "hashed_pii",
                "email",
                "hm1:01",
                "udff[em]",
            ),
            false,
        );
        r.add_line(
            &line(
                "2024-03-04T09:00:00.000Z",
                "hashed_pii",
                "email",
                "hm1:02",
                "udff[em]",
            ),
            false,
        );
        r.add_line(
            &line(
                "2024-03-05T09:00:00.000Z",
                "hashed_pii",
                "email",
                "hm1:01",
                "udff[em]",
            ),
            false,
        );
        r.add_line(
            &line(
                "2024-03-05T09:00:00.000Z",
                "sensitive",
                "health",
                "hm1:03",
                "cd[content_name]",
            ),
            false,
        );
        r.add_line("not json", false);
        assert_eq!(r.records, 4);
        assert_eq!(r.skipped_lines, 1);
        assert_eq!(r.people(), 2);
        assert_eq!(
            (r.first.as_str(), r.last.as_str()),
            ("2024-03-04T08:00:00.000Z", "2024-03-05T09:00:00.000Z")
        );
        let g = &r.pixels[&("apotek.example.se".into(), "meta".into(), "42".into())];
        assert_eq!(g.days["2024-03-04"][1], 2);
        assert_eq!(g.days["2024-03-05"], [0, 1, 1, 0, 0]);
        let f = &r.families[&(
            "apotek.example.se".into(),
            "meta".into(),
            "42".into(),
            "udff[em]".into(),
            "hashed_pii/email".into(),
        )];
        assert_eq!((f.hits, f.examples.len()), (3, 1));
        let (identity, art9) = r.categories();
        assert!(identity.contains("email") && art9.contains("health"));
    }
}
