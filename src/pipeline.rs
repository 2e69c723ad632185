//! Pipeline: the one place that knows every stage. A raw record goes
//! `format → pixel → detect → redact`, with the prefilter in front and the counters beside.
//!
//! [`Engine`] is the compiled, immutable part (shared by threads and by `scan`, `run` and
//! `explain`); [`Scanner`] is the per-stream state: counters, the twin cache that counts the
//! Meta `/tr` hit and its privacy-sandbox twin once, and the summary.

use crate::detect::{Class, Detectors, Finding};
use crate::error::{Error, Skip, SkipReason};
use crate::fasthash::HashMap;
use crate::format::{Format, LineParser, Parsed};
use crate::limits::Limits;
use crate::pixel::{Beacon, Recognizer, RoleMemo};
use crate::redact::{Context, FindingRecord, Redactor};
use crate::request::{Origin, Request};
use crate::rules::PackSpec;
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

/// Everything compiled from the rule packs and the limits.
#[derive(Debug, Clone)]
pub struct Engine {
    pub recognizer: Recognizer,
    pub detectors: Detectors,
    /// Consent banners (the probe's; compiled with the rest so a broken pack fails at start).
    pub banners: crate::probe::banner::Banners,
    pub limits: Limits,
    pub packs: Vec<PackSpec>,
}

impl Engine {
    /// Embedded packs plus the user's `--detectors` directories.
    pub fn load(extra: &[impl AsRef<Path>], limits: Limits) -> Result<Engine, Error> {
        Engine::from_packs(crate::rules::load(extra)?, limits)
    }

    pub fn from_packs(packs: Vec<PackSpec>, limits: Limits) -> Result<Engine, Error> {
        // The two halves compile independently: on two threads, start-up takes the longer one.
        let (recognizer, detectors) = std::thread::scope(|s| {
            let detectors = s.spawn(|| Detectors::compile(&packs));
            let recognizer = Recognizer::compile(&packs);
            let detectors = detectors
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (recognizer, detectors)
        });
        Ok(Engine {
            recognizer: recognizer?,
            detectors: detectors?,
            banners: crate::probe::banner::Banners::compile(&packs)?,
            limits,
            packs,
        })
    }

    /// Recognise, decode and detect: the pure core for one request.
    pub fn inspect(&self, req: &Request) -> Option<(Beacon, Vec<Finding>)> {
        self.inspect_memo(req, &mut RoleMemo::default())
    }

    /// [`Engine::inspect`] with a thread's memo of field roles.
    pub fn inspect_memo(
        &self,
        req: &Request,
        memo: &mut RoleMemo,
    ) -> Option<(Beacon, Vec<Finding>)> {
        let beacon = self.recognizer.beacon_memo(req, &self.limits, memo)?;
        let sem = &self.recognizer.vendors[beacon.vendor].semantics;
        let findings = self.detectors.detect(&beacon, sem);
        Some((beacon, findings))
    }

    /// [`Engine::inspect`] plus redaction of every finding: all the work on a request that does
    /// not depend on the requests before it, so it can run on any thread. Field values are
    /// dropped from the beacon once detection is done (only their paths are needed later).
    pub fn inspect_redacted(
        &self,
        req: &Request,
        origin: &Origin,
        format: Format,
        redactor: &Redactor,
        memo: &mut RoleMemo,
    ) -> Option<Inspected> {
        let (mut beacon, findings) = self.inspect_memo(req, memo)?;
        let ts = req.ts.map(crate::redact::ts_text);
        let records = findings
            .iter()
            .map(|f| redactor.record(f, &self.context(&beacon, f, ts.as_deref(), origin, format)))
            .collect();
        for f in &mut beacon.fields {
            f.value = String::new();
        }
        Some(Inspected {
            beacon,
            findings,
            records,
            ts: req.ts,
            ts_text: ts,
        })
    }

    fn context<'a>(
        &'a self,
        beacon: &'a Beacon,
        f: &Finding,
        ts: Option<&'a str>,
        origin: &'a Origin,
        format: Format,
    ) -> Context<'a> {
        Context {
            ts,
            origin,
            format,
            site: beacon.site.as_deref(),
            vendor: &self.recognizer.vendors[beacon.vendor].id,
            endpoint: &beacon.endpoint,
            pixel_id: beacon.pixel_id.as_deref(),
            event: beacon.event(f.event),
            consent: beacon.consent.as_ref(),
            truncated: beacon.notes.body_truncated,
        }
    }
}

/// A pixel hit after the pure part of the pipeline: decoded, detected and redacted, not yet
/// judged against the stream's state (twins, drift, cross-site constants).
#[derive(Debug)]
pub struct Inspected {
    /// The beacon, field values dropped.
    pub beacon: Beacon,
    pub findings: Vec<Finding>,
    /// One record per finding, in the same order.
    pub records: Vec<FindingRecord>,
    pub ts: Option<chrono::DateTime<chrono::Utc>>,
    ts_text: Option<String>,
}

/// What one line of a line-oriented stream became in the pure part of the pipeline.
#[derive(Debug)]
pub enum LineOutcome {
    /// Not a pixel hit (or dropped by the prefilter, or an ignorable line).
    Nothing,
    Hit(Box<Inspected>),
    Skipped(Skip),
}

/// The pure part of [`Scanner::line`]: prefilter, parse, inspect and redact one line, counting
/// into `stats` (records, candidates, ignored, skipped, requests). Any thread may run it.
#[allow(clippy::too_many_arguments)]
pub fn inspect_line(
    engine: &Engine,
    redactor: &Redactor,
    memo: &mut RoleMemo,
    stats: &mut Stats,
    prefilter: bool,
    parser: &mut LineParser,
    raw: &[u8],
    origin: &Origin,
) -> LineOutcome {
    let format = parser.format();
    stats.records += 1;
    *stats.records_by_format.entry(format).or_default() += 1;
    // Zeek header lines must always reach the parser; everything else only if it could be a hit.
    let header = raw.first() == Some(&b'#');
    if prefilter && !header && !engine.recognizer.prefilter(raw) {
        return LineOutcome::Nothing;
    }
    stats.candidates += 1;
    let text = match std::str::from_utf8(raw) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            stats.invalid_utf8 += 1;
            String::from_utf8_lossy(raw)
        }
    };
    match parser.parse(&text) {
        Ok(Parsed::Request(req)) => {
            stats.requests += 1;
            match engine.inspect_redacted(&req, origin, format, redactor, memo) {
                Some(hit) => LineOutcome::Hit(Box::new(hit)),
                None => LineOutcome::Nothing,
            }
        }
        Ok(Parsed::Ignored) => {
            stats.ignored += 1;
            LineOutcome::Nothing
        }
        Err(skip) => {
            *stats.skipped.entry(skip.reason).or_default() += 1;
            LineOutcome::Skipped(skip)
        }
    }
}

/// Counters of one scan or one service instance. Labels are closed sets.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub records: u64,
    pub records_by_format: BTreeMap<Format, u64>,
    /// Records the prefilter let through to parsing.
    pub candidates: u64,
    pub ignored: u64,
    pub requests: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub invalid_utf8: u64,
    pub beacons_by_vendor: BTreeMap<String, u64>,
    pub beacons_by_endpoint: BTreeMap<String, u64>,
    pub twins: u64,
    /// Twin hits counted once, by vendor.
    pub twins_by_vendor: BTreeMap<String, u64>,
    /// Hashed values suppressed because they recur across unrelated sites.
    pub cross_site_constants: u64,
    pub confirmed: u64,
    pub findings_by_class: BTreeMap<Class, u64>,
    pub decode_truncated: u64,
    pub decode_limited: u64,
    pub files: u64,
    pub files_failed: u64,
    pub bytes: u64,
}

impl Stats {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
    pub fn beacons(&self) -> u64 {
        self.beacons_by_vendor.values().sum()
    }
    pub fn findings(&self) -> u64 {
        self.findings_by_class.values().sum()
    }

    /// Add another counter set (a worker's share of a scan) to this one.
    pub fn absorb(&mut self, o: &Stats) {
        fn add<K: Ord + Clone>(a: &mut BTreeMap<K, u64>, b: &BTreeMap<K, u64>) {
            for (k, n) in b {
                *a.entry(k.clone()).or_default() += n;
            }
        }
        // Destructured, so a counter added later cannot be forgotten here.
        let Stats {
            records,
            records_by_format,
            candidates,
            ignored,
            requests,
            skipped,
            invalid_utf8,
            beacons_by_vendor,
            beacons_by_endpoint,
            twins,
            twins_by_vendor,
            cross_site_constants,
            confirmed,
            findings_by_class,
            decode_truncated,
            decode_limited,
            files,
            files_failed,
            bytes,
        } = o;
        self.records += records;
        add(&mut self.records_by_format, records_by_format);
        self.candidates += candidates;
        self.ignored += ignored;
        self.requests += requests;
        add(&mut self.skipped, skipped);
        self.invalid_utf8 += invalid_utf8;
        add(&mut self.beacons_by_vendor, beacons_by_vendor);
        add(&mut self.beacons_by_endpoint, beacons_by_endpoint);
        self.twins += twins;
        add(&mut self.twins_by_vendor, twins_by_vendor);
        self.cross_site_constants += cross_site_constants;
        self.confirmed += confirmed;
        add(&mut self.findings_by_class, findings_by_class);
        self.decode_truncated += decode_truncated;
        self.decode_limited += decode_limited;
        self.files += files;
        self.files_failed += files_failed;
        self.bytes += bytes;
    }
}

/// Count one for `key`, allocating the key only the first time.
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// Remembers recent twin keys so that the second hit of a pair is recognised. Bounded.
#[derive(Debug, Default)]
struct TwinCache {
    /// By a keyed hash of (group, key); the entry keeps both to rule out a collision.
    seen: HashMap<u64, TwinEntry>,
    /// Hashes in insertion order, for eviction.
    order: VecDeque<u64>,
}

#[derive(Debug)]
struct TwinEntry {
    group: Arc<str>,
    key: Box<str>,
    endpoint: Arc<str>,
}

const TWIN_CACHE: usize = 16_384;

impl TwinCache {
    /// True when this hit is the twin of one already seen under another endpoint.
    fn is_twin(&mut self, group: &Arc<str>, key: &str, endpoint: &Arc<str>) -> bool {
        use std::hash::BuildHasher as _;
        let h = self.seen.hasher().hash_one((&**group, key));
        match self.seen.get(&h) {
            Some(e) if *e.group == **group && *e.key == *key => {
                if e.endpoint == *endpoint {
                    return false;
                }
                // A pair is complete: forget it so a third hit counts again.
                self.seen.remove(&h);
                true
            }
            other => {
                // New, or a different pair under the same hash (the newer one replaces it).
                if other.is_none() {
                    if self.order.len() >= TWIN_CACHE {
                        if let Some(old) = self.order.pop_front() {
                            self.seen.remove(&old);
                        }
                    }
                    self.order.push_back(h);
                }
                self.seen.insert(
                    h,
                    TwinEntry {
                        group: group.clone(),
                        key: key.into(),
                        endpoint: endpoint.clone(),
                    },
                );
                false
            }
        }
    }
}

/// Optional (`--cross-site-constant N`): a hashed identity value seen on N unrelated sites is
/// taken for a constant a tag injects, not a person, and suppressed from then on. Off by
/// default: behind a corporate proxy one employee's hash legitimately recurs on every shop they
/// visit, so the curated constants in `detectors/hashes.toml` are the default defence.
/// Bounded: at most [`CROSS_SITE_VALUES`] values are tracked.
#[derive(Debug, Default)]
struct CrossSite {
    threshold: usize,
    sites: HashMap<String, Vec<Arc<str>>>,
}

pub const CROSS_SITE_VALUES: usize = 200_000;

impl CrossSite {
    /// Record a sighting; true when the value is a cross-site constant.
    fn is_constant(&mut self, value: &str, site: Option<&str>) -> bool {
        if self.threshold == 0 {
            return false;
        }
        let Some(site) = site else {
            return self
                .sites
                .get(value)
                .is_some_and(|s| s.len() >= self.threshold);
        };
        if !self.sites.contains_key(value) && self.sites.len() >= CROSS_SITE_VALUES {
            return false;
        }
        let seen = self.sites.entry(value.to_string()).or_default();
        if seen.len() < self.threshold && !seen.iter().any(|s| &**s == site) {
            seen.push(Arc::from(site));
        }
        seen.len() >= self.threshold
    }
}

/// A skipped record worth telling the user about.
#[derive(Debug, Clone)]
pub struct SkipNote {
    pub origin: Origin,
    pub skip: Skip,
}

/// Per-stream processing state.
#[derive(Debug)]
pub struct Scanner<'e> {
    pub engine: &'e Engine,
    pub redactor: Redactor,
    pub stats: Stats,
    /// When false, every record is parsed (to prove the prefilter changes nothing).
    pub prefilter: bool,
    /// Baselines per site and pixel; `None` when drift detection is off.
    pub drift: Option<crate::drift::Drift>,
    twins: TwinCache,
    constants: CrossSite,
    memo: RoleMemo,
}

impl<'e> Scanner<'e> {
    pub fn new(engine: &'e Engine, redactor: Redactor) -> Self {
        Scanner {
            engine,
            redactor,
            stats: Stats::default(),
            prefilter: true,
            drift: None,
            twins: TwinCache::default(),
            constants: CrossSite::default(),
            memo: RoleMemo::default(),
        }
    }

    /// One line of a line-oriented stream.
    pub fn line(
        &mut self,
        parser: &mut LineParser,
        raw: &[u8],
        origin: &Origin,
    ) -> Result<Vec<FindingRecord>, Skip> {
        let format = parser.format();
        match inspect_line(
            self.engine,
            &self.redactor,
            &mut self.memo,
            &mut self.stats,
            self.prefilter,
            parser,
            raw,
            origin,
        ) {
            LineOutcome::Nothing => Ok(Vec::new()),
            LineOutcome::Hit(hit) => Ok(self.accept(*hit, origin, format)),
            LineOutcome::Skipped(skip) => Err(skip),
        }
    }

    /// A request that is already parsed (HAR entries, Kafka records, `explain`).
    pub fn request(
        &mut self,
        req: &Request,
        origin: &Origin,
        format: Format,
    ) -> Vec<FindingRecord> {
        self.stats.requests += 1;
        match self
            .engine
            .inspect_redacted(req, origin, format, &self.redactor, &mut self.memo)
        {
            Some(hit) => self.accept(hit, origin, format),
            None => Vec::new(),
        }
    }

    /// [`Scanner::request`] with findings that only the source can judge (the probe knows
    /// when a hit fired relative to the consent banner): `extra` sees the decoded beacon and
    /// the findings and returns more, which are redacted, counted, drift-observed and emitted
    /// like the rest.
    pub fn request_with(
        &mut self,
        req: &Request,
        origin: &Origin,
        format: Format,
        extra: impl FnOnce(&Beacon, &[Finding]) -> Vec<Finding>,
    ) -> Vec<FindingRecord> {
        self.stats.requests += 1;
        let Some(mut hit) =
            self.engine
                .inspect_redacted(req, origin, format, &self.redactor, &mut self.memo)
        else {
            return Vec::new();
        };
        for f in extra(&hit.beacon, &hit.findings) {
            let cx = self
                .engine
                .context(&hit.beacon, &f, hit.ts_text.as_deref(), origin, format);
            hit.records.push(self.redactor.record(&f, &cx));
            hit.findings.push(f);
        }
        self.accept(hit, origin, format)
    }

    /// The per-stream part for one inspected hit, in stream order: twin pairs counted once,
    /// counters, drift, cross-site constants. Returns the records to emit, each pointing at
    /// `origin`.
    pub fn accept(
        &mut self,
        hit: Inspected,
        origin: &Origin,
        format: Format,
    ) -> Vec<FindingRecord> {
        let Inspected {
            beacon,
            mut findings,
            mut records,
            ts,
            ts_text,
        } = hit;
        let vendor = &self.engine.recognizer.vendors[beacon.vendor];
        if let Some((group, key)) = &beacon.twin {
            if self.twins.is_twin(group, key, &beacon.endpoint) {
                self.stats.twins += 1;
                bump(&mut self.stats.twins_by_vendor, &vendor.id);
                return Vec::new();
            }
        }
        bump(&mut self.stats.beacons_by_vendor, &vendor.id);
        bump(&mut self.stats.beacons_by_endpoint, &beacon.endpoint);
        if beacon.notes.body_truncated {
            self.stats.decode_truncated += 1;
        }
        if beacon.notes.depth_exceeded
            || beacon.notes.nesting_exceeded
            || beacon.notes.too_many_fields
        {
            self.stats.decode_limited += 1;
        }
        for r in &mut records {
            r.source.clone_from(origin);
        }
        if let (Some(drift), Some(ts)) = (self.drift.as_mut(), ts) {
            let anomalies = drift.observe(crate::drift::Observation {
                ts,
                site: beacon.site.as_deref().unwrap_or("unknown"),
                vendor: &vendor.id,
                pixel_id: beacon.pixel_id.as_deref().unwrap_or("-"),
                events: &beacon.events,
                fields: &beacon.fields,
                findings: &findings,
            });
            for a in &anomalies {
                let cx = self
                    .engine
                    .context(&beacon, a, ts_text.as_deref(), origin, format);
                records.push(self.redactor.record(a, &cx));
            }
            findings.extend(anomalies);
        }
        // Filtered in place: the records keep the allocation they were built in.
        let mut next = findings.iter();
        records.retain(|_| {
            let Some(f) = next.next() else { return false };
            let constant = f.class == Class::HashedPii
                && self
                    .constants
                    .is_constant(f.norm.expose(), beacon.site.as_deref());
            self.stats.cross_site_constants += constant as u64;
            if !constant {
                self.stats.confirmed += f.confirmed as u64;
                *self.stats.findings_by_class.entry(f.class).or_default() += 1;
            }
            !constant
        });
        records
    }

    /// Suppress hashed values once seen on `sites` distinct sites (0: never).
    pub fn set_cross_site_constant(&mut self, sites: usize) {
        self.constants.threshold = sites;
    }

    pub fn count_skip(&mut self, reason: SkipReason) {
        *self.stats.skipped.entry(reason).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::load(&[] as &[&str], Limits::default()).unwrap()
    }

    #[test]
    fn twin_of_a_tr_hit_counts_once() {
        let e = engine();
        let mut s = Scanner::new(&e, Redactor::new([0; 32], false));
        let mut p = LineParser::new(Format::Squid);
        let q = "id=1&ev=Lead&ts=1709539200000&udff[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";
        let tr = format!("1709539200.000 1 10.0.0.1 TCP_MISS/200 1 GET https://www.facebook.com/tr/?{q} - HIER_DIRECT/x image/gif");
        let twin = format!("1709539200.001 1 10.0.0.1 TCP_MISS/200 1 GET https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?{q} - HIER_DIRECT/x -");
        let o = Origin::Line {
            path: "t".into(),
            line: 1,
        };
        assert_eq!(s.line(&mut p, tr.as_bytes(), &o).unwrap().len(), 1);
        assert_eq!(s.line(&mut p, twin.as_bytes(), &o).unwrap().len(), 0);
        assert_eq!(s.stats.twins, 1);
        // A third, identical hit is a new hit.
        assert_eq!(s.line(&mut p, tr.as_bytes(), &o).unwrap().len(), 1);
    }

    #[test]
    fn cross_site_constants_only_when_asked() {
        let e = engine();
        let hit = |site: &str| {
            let mut r = Request {
                method: "GET".into(),
                ..Request::default()
            };
            r.set_url(&format!(
                "https://www.facebook.com/tr/?id=1&ev=Lead&dl=https%3A%2F%2F{site}%2F&udff[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6"
            ));
            r
        };
        let o = Origin::Line {
            path: "t".into(),
            line: 1,
        };
        let mut s = Scanner::new(&e, Redactor::new([0; 32], false));
        let found: usize = ["a.se", "b.se", "c.se", "d.se"]
            .iter()
            .map(|x| s.request(&hit(x), &o, Format::Squid).len())
            .sum();
        assert_eq!(found, 4, "off by default: one person visiting four shops");
        let mut s = Scanner::new(&e, Redactor::new([0; 32], false));
        s.set_cross_site_constant(3);
        let found: usize = ["a.se", "b.se", "c.se", "d.se"]
            .iter()
            .map(|x| s.request(&hit(x), &o, Format::Squid).len())
            .sum();
        assert_eq!(found, 2, "suppressed from the third site on");
        assert_eq!(s.stats.cross_site_constants, 2);
    }

    #[test]
    fn prefilter_skips_parsing_of_unrelated_lines() {
        let e = engine();
        let mut s = Scanner::new(&e, Redactor::new([0; 32], false));
        let mut p = LineParser::new(Format::Squid);
        let o = Origin::Line {
            path: "t".into(),
            line: 1,
        };
        assert!(s
            .line(&mut p, b"garbage that is not squid", &o)
            .unwrap()
            .is_empty());
        assert_eq!(s.stats.candidates, 0);
        s.prefilter = false;
        assert!(s.line(&mut p, b"garbage that is not squid", &o).is_err());
    }
}
