//! Drift: learn what each site's pixels send, and report the moment it changes.
//!
//! Sits after `detect` in the flow and sees every beacon with its findings. Per
//! (site, vendor, pixel id) it keeps a baseline: event names, field families
//! (`cd[contents][0].name` → `cd[contents][].name`), the personal-data and Art. 9 types seen.
//! Per site it keeps the vendors and an hourly request count. During a site's learning window
//! (default the first 24 hours of *event time* from its first record) everything is learned and
//! nothing reported; afterwards each change is reported once, as an `anomaly` finding on the
//! record where it first appears, and then becomes part of the baseline.
//!
//! Volume: when an hour of a site's traffic has closed (event time has moved two hours past it,
//! tolerating reordering within that), its count is compared with the same hour of day on the
//! previous seven days, using the median and the median absolute deviation, so that nights and
//! weekends are their own baseline. A spike or drop is reported once and re-armed when traffic is
//! normal again.
//!
//! Memory is bounded by [`DriftLimits`]; state is plain serde data, saved and loaded by the
//! callers so a restart neither re-learns nor re-alerts.

use crate::detect::{Class, Finding, RawValue, Severity};
use crate::fasthash::HashMap;
use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

/// Bounds on drift state (documented in docs/drift.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftLimits {
    /// Sites tracked; a site past this is not learned and never reported on.
    pub max_sites: usize,
    /// (site, vendor, pixel) baselines tracked.
    pub max_pixels: usize,
    /// Field families kept per pixel; past it new families are no longer reported.
    pub max_families: usize,
    /// Event names kept per pixel.
    pub max_events: usize,
    /// Learning window per site, in hours of event time.
    pub learning_hours: i64,
}

impl Default for DriftLimits {
    fn default() -> Self {
        DriftLimits {
            max_sites: 200_000,
            max_pixels: 500_000,
            max_families: 256,
            max_events: 64,
            learning_hours: 24,
        }
    }
}

/// Hours of volume history kept per site: a ring of seven days of hourly counts.
pub const HOURS: usize = 7 * 24;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SiteState {
    /// First event time (unix seconds): the learning window starts here.
    first: i64,
    /// Vendors seen (interned names, sorted).
    vendors: Vec<u32>,
    /// Hourly request counts for the [`HOURS`] hours up to `max_hour`, at index `hour % HOURS`.
    counts: Vec<u16>,
    /// Highest hour seen (absolute hours since the epoch).
    max_hour: i64,
    /// Hours up to and including this one have been evaluated for volume.
    evaluated: i64,
    /// A spike (1) or drop (-1) is in progress and is not reported again until normal.
    volume_state: i8,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PixelState {
    first: i64,
    last: i64,
    /// Interned event names, field families and finding types, each sorted.
    events: Vec<u32>,
    families: Vec<u32>,
    types: Vec<u32>,
}

/// Names shared by many sites (field families, vendors, events, types) are stored once.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Names {
    table: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if self.index.is_empty() && !self.table.is_empty() {
            self.index = self
                .table
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect();
        }
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.table.len() as u32;
        self.table.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }
}

/// Insert into a sorted id list; true when it was not there.
fn insert_sorted(list: &mut Vec<u32>, id: u32) -> bool {
    match list.binary_search(&id) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, id);
            true
        }
    }
}

/// Everything drift knows; serialisable for `--state`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DriftState {
    #[serde(default)]
    pub version: u32,
    names: Names,
    sites: HashMap<String, SiteState>,
    /// Key: `site \u{1f} vendor \u{1f} pixel`.
    pixels: HashMap<String, PixelState>,
    /// Sightings dropped because a cap was reached.
    #[serde(default)]
    pub capped: u64,
}

/// What one beacon looked like, in value-free terms.
pub struct Observation<'a> {
    pub ts: DateTime<Utc>,
    pub site: &'a str,
    pub vendor: &'a str,
    pub pixel_id: &'a str,
    pub events: &'a [String],
    /// The beacon's fields: their paths, and whether each is an identity field.
    pub fields: &'a [crate::pixel::decode::Field],
    pub findings: &'a [Finding],
}

#[derive(Debug)]
pub struct Drift {
    pub state: DriftState,
    pub limits: DriftLimits,
    /// Reused for keys and field families, so a known pixel costs no allocation.
    scratch: String,
    /// Keyed hashes of (pixel, field paths) whose every field family is already in that
    /// pixel's baseline: a beacon of a known shape skips the per-field lookups. Families are
    /// never removed, so an entry stays true; bounded by [`SHAPES`] (cleared when full).
    shapes: crate::fasthash::HashSet<u64>,
    /// Site-hours judged for a volume change since this value was made: the work a record
    /// costs, so tests can hold it to at most a ring's worth of hours per record.
    pub hours_judged: u64,
}

/// Known beacon shapes remembered before the memo starts over.
const SHAPES: usize = 1 << 16;

/// The family of a field path: array indices and digit runs in names generalised.
pub fn family(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    family_into(path, &mut out);
    out
}

/// [`family`] into a buffer (cleared first).
fn family_into(path: &str, out: &mut String) {
    out.clear();
    family_push(path, out);
}

/// [`family`] appended to a buffer.
fn family_push(path: &str, out: &mut String) {
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'[' {
            let end = path[i..].find(']').map(|e| i + e);
            if let Some(end) = end {
                if end > i + 1 && b[i + 1..end].iter().all(u8::is_ascii_digit) {
                    out.push_str("[]");
                    i = end + 1;
                    continue;
                }
            }
        }
        if b[i].is_ascii_digit() && i > 0 && b[i - 1].is_ascii_alphabetic() {
            // `pr12` → `pr#`, `cd4` → `cd#`, `expv2` → `expv#`.
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push('#');
            continue;
        }
        let c = path[i..].chars().next().unwrap_or('?');
        out.push(c);
        i += c.len_utf8();
    }
}

impl Drift {
    pub fn new(limits: DriftLimits) -> Self {
        Drift {
            state: DriftState {
                version: 1,
                ..DriftState::default()
            },
            limits,
            scratch: String::new(),
            shapes: Default::default(),
            hours_judged: 0,
        }
    }

    pub fn with_state(state: DriftState, limits: DriftLimits) -> Self {
        Drift {
            state,
            limits,
            scratch: String::new(),
            shapes: Default::default(),
            hours_judged: 0,
        }
    }

    pub fn sites(&self) -> usize {
        self.state.sites.len()
    }

    pub fn pixels(&self) -> usize {
        self.state.pixels.len()
    }

    /// Learn from one beacon; return the anomalies it reveals.
    pub fn observe(&mut self, o: Observation) -> Vec<Finding> {
        let mut out = Vec::new();
        let t = o.ts.timestamp();
        let hour = t.div_euclid(3600);
        let limits = &self.limits;
        let scratch = &mut self.scratch;
        let hours_judged = &mut self.hours_judged;
        let DriftState {
            names,
            sites,
            pixels,
            capped,
            ..
        } = &mut self.state;
        if !sites.contains_key(o.site) && sites.len() >= limits.max_sites {
            *capped += 1;
            return out;
        }
        if !sites.contains_key(o.site) {
            sites.insert(
                o.site.to_string(),
                SiteState {
                    first: t,
                    counts: vec![0; HOURS],
                    max_hour: hour,
                    evaluated: hour - 1,
                    ..SiteState::default()
                },
            );
        }
        let Some(site) = sites.get_mut(o.site) else {
            return out;
        };
        // A record older than the site's first one moves the start back (moderate reordering).
        site.first = site.first.min(t);
        let learning = t < site.first + limits.learning_hours * 3600;

        // Volume: advance the ring (clearing hours never seen), count, evaluate closed hours.
        if hour > site.max_hour {
            for h in (site.max_hour + 1).max(hour - HOURS as i64 + 1)..=hour {
                site.counts[h.rem_euclid(HOURS as i64) as usize] = 0;
            }
            site.max_hour = hour;
        }
        if hour > site.max_hour - HOURS as i64 {
            let slot = &mut site.counts[hour.rem_euclid(HOURS as i64) as usize];
            *slot = slot.saturating_add(1);
        }
        // Hours that left the ring have no count to judge (`count_at` is `None`): skip them
        // at once, so an event time far ahead (a clock jump, a hostile record) costs at most a
        // ring's worth of hours, not one step per hour of the gap.
        site.evaluated = site.evaluated.max(site.max_hour - HOURS as i64);
        while site.evaluated < site.max_hour - 2 {
            site.evaluated += 1;
            *hours_judged += 1;
            let h = site.evaluated;
            if h < site.first.div_euclid(3600) + 7 * 24 {
                continue; // a week of history before volume is judged
            }
            if let Some(kind) = volume_change(site, h) {
                let text = format!(
                    "requests in the hour from {} {}",
                    hour_text(h),
                    kind_text(kind, site, h)
                );
                out.push(anomaly(kind, "volume", text, Severity::Medium));
            }
        }

        let vendor_id = names.id(o.vendor);
        if insert_sorted(&mut site.vendors, vendor_id) && !learning {
            out.push(anomaly(
                "new_vendor",
                o.vendor,
                format!(
                    "{} pixels first seen on this site (site known since {})",
                    o.vendor,
                    time_text(site.first)
                ),
                Severity::High,
            ));
        }

        scratch.clear();
        let _ = write!(scratch, "{}\u{1f}{}\u{1f}{}", o.site, o.vendor, o.pixel_id);
        let is_new_pixel = !pixels.contains_key(scratch.as_str());
        if is_new_pixel && pixels.len() >= limits.max_pixels {
            *capped += 1;
            return out;
        }
        let site_first = site.first;
        if is_new_pixel {
            pixels.insert(
                scratch.clone(),
                PixelState {
                    first: t,
                    last: t,
                    ..PixelState::default()
                },
            );
        }
        let Some(px) = pixels.get_mut(scratch.as_str()) else {
            return out;
        };
        px.first = px.first.min(t);
        px.last = px.last.max(t);
        if is_new_pixel && !learning && !out.iter().any(|a| &*a.kind == "new_vendor") {
            out.push(anomaly(
                "new_pixel",
                o.pixel_id,
                format!("{} pixel {} first seen on this site", o.vendor, o.pixel_id),
                Severity::Medium,
            ));
        }
        let baseline_since = || time_text(site_first);
        let shape = {
            use std::hash::{BuildHasher as _, Hasher as _};
            let mut h = self.shapes.hasher().build_hasher();
            h.write(scratch.as_bytes());
            for f in o.fields {
                h.write_u8(0xff);
                h.write(f.path.as_bytes());
            }
            h.finish()
        };
        let known_shape = self.shapes.contains(&shape);
        // Whether every family of this beacon is now in the baseline (none refused at the cap).
        let mut complete = true;
        let fields: &[crate::pixel::decode::Field] = if known_shape { &[] } else { o.fields };
        for f in fields {
            let (path, identity) = (f.path.as_str(), f.role.identity.is_some());
            // Only digits generalise: a path without any is its own family.
            let fam = if path.bytes().any(|b| b.is_ascii_digit()) {
                family_into(path, scratch);
                scratch.as_str()
            } else {
                path
            };
            let id = names.id(fam);
            if px.families.binary_search(&id).is_ok() {
                continue;
            }
            if px.families.len() >= limits.max_families {
                *capped += 1;
                complete = false;
                continue;
            }
            insert_sorted(&mut px.families, id);
            if !learning && !is_new_pixel {
                let severity = if identity {
                    Severity::High
                } else {
                    Severity::Low
                };
                let what = if identity { "identity field" } else { "field" };
                out.push(anomaly(
                    "new_field",
                    fam,
                    format!(
                        "{what} {fam} first sent by {} pixel {} (baseline since {})",
                        o.vendor,
                        o.pixel_id,
                        baseline_since()
                    ),
                    severity,
                ));
            }
        }
        if !known_shape && complete {
            if self.shapes.len() >= SHAPES {
                self.shapes.clear();
            }
            self.shapes.insert(shape);
        }
        for e in o.events.iter().filter(|e| !e.is_empty()) {
            if px.events.len() < limits.max_events {
                let id = names.id(e);
                insert_sorted(&mut px.events, id);
            }
        }
        let mut new_types: BTreeSet<String> = BTreeSet::new();
        for f in o
            .findings
            .iter()
            .filter(|f| matches!(f.class, Class::Pii | Class::HashedPii | Class::Sensitive))
        {
            scratch.clear();
            let _ = write!(scratch, "{}/{}", f.class, f.kind);
            let id = names.id(scratch);
            if insert_sorted(&mut px.types, id) && !learning && !is_new_pixel {
                new_types.insert(scratch.clone());
            }
        }
        for ty in new_types {
            let severity = if ty.starts_with("sensitive/") || ty.starts_with("pii/") {
                Severity::Critical
            } else {
                Severity::High
            };
            out.push(anomaly(
                "new_pii",
                &ty,
                format!(
                    "{ty} first sent by {} pixel {} (baseline since {})",
                    o.vendor,
                    o.pixel_id,
                    baseline_since()
                ),
                severity,
            ));
        }
        out
    }
}

fn anomaly(kind: &str, field: &str, text: String, severity: Severity) -> Finding {
    Finding {
        class: Class::Anomaly,
        kind: Arc::from(kind),
        detector: Arc::from("drift"),
        field: field.to_string(),
        event: 0,
        chain: Default::default(),
        severity,
        norm: RawValue::new(format!("{kind}:{field}")),
        value: RawValue::new(text),
        algorithm: None,
        confirmed: false,
        test_value: false,
    }
}

fn count_at(site: &SiteState, hour: i64) -> Option<u32> {
    (hour <= site.max_hour && hour > site.max_hour - HOURS as i64)
        .then(|| u32::from(site.counts[hour.rem_euclid(HOURS as i64) as usize]))
}

/// Median and MAD of the same hour of day over the previous seven days.
fn baseline(site: &SiteState, hour: i64) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = (1..7)
        .filter_map(|d| count_at(site, hour - d * 24))
        .map(f64::from)
        .collect();
    if v.len() < 5 {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(|a, b| a.total_cmp(b));
    Some((median, dev[dev.len() / 2]))
}

/// `volume_spike` / `volume_drop` when the hour is far outside its robust baseline.
fn volume_change(site: &mut SiteState, hour: i64) -> Option<&'static str> {
    let n = f64::from(count_at(site, hour)?);
    let (median, mad) = baseline(site, hour)?;
    let spread = (1.4826 * mad).max(median.sqrt()).max(1.0);
    let spike = n >= median * 3.0 + 20.0 && n > median + 6.0 * spread;
    let drop = median >= 30.0 && n <= median * 0.1;
    let state = if spike {
        1
    } else if drop {
        -1
    } else {
        0
    };
    let was = site.volume_state;
    site.volume_state = state;
    match (state, was) {
        (1, s) if s != 1 => Some("volume_spike"),
        (-1, s) if s != -1 => Some("volume_drop"),
        _ => None,
    }
}

fn kind_text(kind: &str, site: &SiteState, hour: i64) -> String {
    let n = count_at(site, hour).unwrap_or(0);
    let (median, _) = baseline(site, hour).unwrap_or((0.0, 0.0));
    let word = if kind == "volume_spike" {
        "spiked"
    } else {
        "dropped"
    };
    format!("{word}: {n} against a usual {median:.0} for that hour of day")
}

fn hour_text(hour: i64) -> String {
    time_text(hour * 3600)
}

fn time_text(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| {
            d.with_minute(d.minute())
                .unwrap_or(d)
                .format("%Y-%m-%dT%H:%MZ")
                .to_string()
        })
        .unwrap_or_default()
}

/// The breach window a DPO needs for an Art. 33 notification: for every
/// (site, vendor, pixel, field family) that carried identity or Art. 9 data, when it started,
/// when it was last seen, how often, and roughly how many people.
#[derive(Debug, Default)]
pub struct BreachWindows {
    windows: crate::summary::Grouped<(String, String, String, String, String), Window>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Window {
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    pub distinct_people: usize,
    #[serde(skip)]
    people: crate::fasthash::HashSet<u64>,
}

impl BreachWindows {
    pub fn add(&mut self, r: &crate::redact::FindingRecord) {
        if !matches!(r.class, Class::Pii | Class::HashedPii | Class::Sensitive) {
            return;
        }
        let site = r.site.as_deref().unwrap_or("unknown");
        let pixel = r.pixel_id.as_deref().unwrap_or("-");
        let w = self.windows.entry(
            |j| {
                for part in [site, "\u{1f}", &r.vendor, "\u{1f}", pixel, "\u{1f}"] {
                    j.push_str(part);
                }
                family_push(&r.field, j);
                for part in ["\u{1f}", r.class.as_str(), "/", &r.kind] {
                    j.push_str(part);
                }
            },
            || {
                (
                    site.to_string(),
                    r.vendor.to_string(),
                    pixel.to_string(),
                    family(&r.field),
                    format!("{}/{}", r.class, r.kind),
                )
            },
        );
        let ts = r.ts.as_deref().unwrap_or_default();
        if w.first_seen.is_empty() || ts < w.first_seen.as_str() {
            w.first_seen = ts.to_string();
        }
        if ts > w.last_seen.as_str() {
            w.last_seen = ts.to_string();
        }
        w.count += 1;
        if w.people.len() < crate::summary::MAX_DISTINCT {
            w.people.insert(
                u64::from_str_radix(r.fingerprint.trim_start_matches("hm1:"), 16).unwrap_or(0),
            );
        }
        w.distinct_people = w.people.len();
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.windows
                .sorted()
                .into_iter()
                .map(|((site, vendor, pixel, family, ty), w)| {
                    serde_json::json!({"site": site, "vendor": vendor, "pixel_id": pixel, "field_family": family, "type": ty,
                        "first_seen": w.first_seen, "last_seen": w.last_seen, "count": w.count, "distinct_people": w.distinct_people})
                })
                .collect(),
        )
    }

    /// One line per window, for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for ((site, vendor, pixel, family, ty), w) in self.windows.sorted() {
            out.push_str(&format!(
                "{site} {vendor} pixel {pixel} {family} ({ty}): from {} to {}, {} hits, about {} distinct people\n",
                w.first_seen, w.last_seen, w.count, w.distinct_people
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_generalise_indices_and_numbered_names() {
        assert_eq!(family("cd[contents][0].name"), "cd[contents][].name");
        assert_eq!(family("data[12].user_data.em[0]"), "data[].user_data.em[]");
        assert_eq!(family("pr12.nm"), "pr#.nm");
        assert_eq!(family("udff[em]"), "udff[em]");
        assert_eq!(family("expv2[3]"), "expv#[]");
    }
}
