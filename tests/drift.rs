//! Drift on generated traffic: 30 days of stable traffic with nights and weekends raise
//! nothing; each kind of change is reported once, on the record where it first appears; state
//! saved and loaded continues without re-learning or re-alerting.

mod common;

use pixelwarden::drift::{Drift, DriftLimits, DriftState};
use pixelwarden::format::Format;
use pixelwarden::pipeline::{Engine, Scanner};
use pixelwarden::redact::{FindingRecord, Redactor};
use pixelwarden::request::{Origin, Request};

const T0: i64 = 1_709_251_200; // 2024-03-01T00:00:00Z, a Friday
const HASH: &str = "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";

/// Requests per hour: low at night, lower at weekends, a little deterministic noise.
fn per_hour(site: usize, hour: i64) -> i64 {
    let h = hour.rem_euclid(24);
    let day = (hour / 24 + 4).rem_euclid(7); // 0 = Monday
    let base = if (8..20).contains(&h) {
        60
    } else if (6..23).contains(&h) {
        25
    } else {
        4
    };
    let weekend = if day >= 5 { 0.5 } else { 1.0 };
    let noise = ((hour * 7 + site as i64 * 13) % 9) - 4;
    ((base as f64 * weekend) as i64 + noise).max(1)
}

struct Stream<'e> {
    scanner: Scanner<'e>,
    line: u64,
    anomalies: Vec<FindingRecord>,
}

impl<'e> Stream<'e> {
    fn new(engine: &'e Engine, state: Option<DriftState>) -> Self {
        Self::with_limits(engine, state, DriftLimits::default())
    }

    fn with_limits(engine: &'e Engine, state: Option<DriftState>, limits: DriftLimits) -> Self {
        let mut scanner = Scanner::new(engine, Redactor::new([1; 32], false));
        scanner.drift = Some(match state {
            Some(s) => Drift::with_state(s, limits),
            None => Drift::new(limits),
        });
        Stream {
            scanner,
            line: 0,
            anomalies: Vec::new(),
        }
    }

    fn send(&mut self, ts: i64, url: &str) -> u64 {
        self.line += 1;
        let mut req = Request {
            method: "GET".into(),
            ts: chrono::DateTime::from_timestamp(ts, 0),
            ..Request::default()
        };
        assert!(req.set_url(url));
        let origin = Origin::Line {
            path: "gen".into(),
            line: self.line,
        };
        let records = self.scanner.request(&req, &origin, Format::Squid);
        self.anomalies.extend(
            records
                .into_iter()
                .filter(|r| r.class.as_str() == "anomaly"),
        );
        self.line
    }

    fn meta(&mut self, ts: i64, site: &str, pixel: &str, extra: &str) -> u64 {
        self.send(ts, &format!("https://www.facebook.com/tr/?id={pixel}&ev=PageView&dl=https%3A%2F%2F{site}%2Fprodukt&ts={ts}000&fbp=fb.1.1.2{extra}"))
    }

    fn ga4(&mut self, ts: i64, site: &str) -> u64 {
        self.send(ts, &format!("https://www.google-analytics.com/g/collect?v=2&tid=G-1&cid=1.2&en=page_view&dl=https%3A%2F%2F{site}%2F&gcs=G111"))
    }

    /// Stable traffic for hours [from, to): every site sends Meta and GA4 at its usual volume.
    fn stable(&mut self, from: i64, to: i64) {
        for hour in from..to {
            for (i, site) in ["apotek.example.se", "shop.example.com"].iter().enumerate() {
                let n = per_hour(i, hour);
                for k in 0..n {
                    let ts = T0 + hour * 3600 + k * 3600 / n;
                    if k % 3 == 0 {
                        self.ga4(ts, site);
                    } else {
                        self.meta(ts, site, "111", &format!("&ud[em]={HASH}"));
                    }
                }
            }
        }
    }

    fn at(&self, kind: &str) -> Vec<u64> {
        self.anomalies
            .iter()
            .filter(|r| &*r.kind == kind)
            .map(|r| match r.source {
                Origin::Line { line, .. } => line,
                _ => 0,
            })
            .collect()
    }
}

#[test]
fn thirty_days_of_stable_traffic_raise_nothing() {
    let engine = common::engine();
    let mut s = Stream::new(&engine, None);
    s.stable(0, 30 * 24);
    assert!(s.line > 30_000, "{} records", s.line);
    let kinds: Vec<String> = s
        .anomalies
        .iter()
        .map(|r| format!("{} {}", r.kind, r.evidence))
        .collect();
    assert!(kinds.is_empty(), "{kinds:#?}");
}

#[test]
fn each_change_is_reported_once_on_the_record_where_it_appears() {
    let engine = common::engine();
    let mut s = Stream::new(&engine, None);
    s.stable(0, 10 * 24);
    let t = T0 + 10 * 24 * 3600;

    // A vendor the site never used.
    let li = s.send(t + 61, "https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=42&url=https%3A%2F%2Fapotek.example.se%2F&time=1");
    // A second Meta pixel on a known site.
    let pixel = s.meta(t + 120, "shop.example.com", "222", "");
    // Advanced matching switched on: udff[em] on a pixel that never sent it.
    let am = s.meta(
        t + 180,
        "apotek.example.se",
        "111",
        &format!("&es=automatic&udff[em]={HASH}"),
    );
    // The same again: not reported twice.
    s.meta(
        t + 181,
        "apotek.example.se",
        "111",
        &format!("&es=automatic&udff[em]={HASH}"),
    );
    // A health product in a field family the pixel already sends.
    let health = s.meta(
        t + 240,
        "apotek.example.se",
        "111",
        "&cd[content_name]=Klamydiatest",
    );
    s.meta(
        t + 241,
        "apotek.example.se",
        "111",
        "&cd[content_name]=Klamydiatest",
    );

    assert_eq!(s.at("new_vendor"), vec![li], "{:#?}", s.anomalies);
    assert_eq!(s.at("new_pixel"), vec![pixel]);
    let fields = s.at("new_field");
    assert!(
        fields.contains(&am) && fields.contains(&health),
        "{fields:?}"
    );
    assert_eq!(
        fields.iter().filter(|&&l| l == am).count(),
        2,
        "udff[em] and es on the same record"
    );
    let am_field = s
        .anomalies
        .iter()
        .find(|r| &*r.kind == "new_field" && r.field == "udff[em]")
        .unwrap();
    assert_eq!(
        am_field.severity.as_str(),
        "high",
        "identity fields rank high"
    );
    let pii = s.at("new_pii");
    assert!(
        pii.contains(&health),
        "sensitive/health first seen: {pii:?}"
    );
    assert!(
        !pii.contains(&am),
        "hashed e-mail was already in the baseline (ud[em])"
    );
    assert!(s.anomalies.iter().all(|r| r.source
        != Origin::Line {
            path: "gen".into(),
            line: am + 1
        }));
}

#[test]
fn volume_spike_and_drop_are_reported_once() {
    let engine = common::engine();
    let mut s = Stream::new(&engine, None);
    // Day 9 (a Sunday), 10:00: ten times the usual traffic on one site.
    let hour = 9 * 24 + 10;
    s.stable(0, hour + 1);
    for k in 0..600 {
        s.meta(
            T0 + hour * 3600 + k * 6,
            "apotek.example.se",
            "111",
            &format!("&ud[em]={HASH}"),
        );
    }
    // An hour is judged once event time is two hours past it (reordering tolerance): the spike
    // is reported on the site's first record of hour + 2.
    s.stable(hour + 1, hour + 2);
    let closing = s.line + 1;
    s.stable(hour + 2, hour + 4);
    let spikes = s.at("volume_spike");
    assert_eq!(spikes, vec![closing], "{:#?}", s.anomalies);
    let spike = s
        .anomalies
        .iter()
        .find(|r| &*r.kind == "volume_spike")
        .unwrap();
    assert!(spike.evidence.contains("spiked"), "{}", spike.evidence);
    // Then, on a Tuesday, apotek goes silent and shop sends a trickle for twelve hours.
    s.stable(hour + 4, 11 * 24 + 8);
    let mut closing = Vec::new();
    for h in (11 * 24 + 8)..(11 * 24 + 20) {
        let first = s.ga4(T0 + h * 3600, "shop.example.com");
        // 08:00 is judged on shop's first record of 10:00 (apotek sends nothing).
        if h == 11 * 24 + 10 {
            closing.push(first);
        }
        s.meta(
            T0 + h * 3600 + 1,
            "shop.example.com",
            "111",
            &format!("&ud[em]={HASH}"),
        );
    }
    // Apotek's silent 08:00 is judged on its first record after the silence.
    closing.push(s.line + 1);
    s.stable(11 * 24 + 20, 12 * 24);
    let drops = s.at("volume_drop");
    assert_eq!(drops, closing, "{:#?}", s.anomalies);
    assert_eq!(drops.len(), 2, "one drop per site: {:#?}", s.anomalies);
    let sites: Vec<_> = s
        .anomalies
        .iter()
        .filter(|r| &*r.kind == "volume_drop")
        .map(|r| r.site.clone().unwrap())
        .collect();
    assert!(
        sites.contains(&"apotek.example.se".to_string())
            && sites.contains(&"shop.example.com".to_string())
    );
    assert!(
        s.anomalies.iter().all(|r| r.kind.starts_with("volume")),
        "{:#?}",
        s.anomalies
    );
}

#[test]
fn state_survives_a_restart_without_new_anomalies() {
    let engine = common::engine();
    let mut first = Stream::new(&engine, None);
    first.stable(0, 15 * 24);
    let saved = serde_json::to_vec(&first.scanner.drift.as_ref().unwrap().state).unwrap();
    let bytes = saved.len();

    let state: DriftState = serde_json::from_slice(&saved).unwrap();
    let mut second = Stream::new(&engine, Some(state));
    second.line = first.line;
    second.stable(15 * 24, 30 * 24);
    assert!(second.anomalies.is_empty(), "{:#?}", second.anomalies);
    // The restored baseline is live: a real change is still caught.
    let am = second.meta(
        T0 + 30 * 24 * 3600,
        "apotek.example.se",
        "111",
        &format!("&udff[em]={HASH}"),
    );
    assert_eq!(second.at("new_field"), vec![am]);
    println!("state for 2 sites: {bytes} bytes");
}

/// Beacons of a shape already seen skip the per-field work; that shortcut must not hide a
/// field that is new, nor a family refused at the cap (counted every time, as before).
#[test]
fn known_beacon_shapes_still_count_what_the_cap_refused() {
    let engine = common::engine();
    let limits = DriftLimits {
        max_families: 6,
        learning_hours: 0,
        ..DriftLimits::default()
    };
    let mut s = Stream::with_limits(&engine, None, limits);
    let capped = |s: &Stream| s.scanner.drift.as_ref().unwrap().state.capped;
    let t = T0 + 3600;
    // Five families, under the cap of six; the same shape again refuses nothing.
    s.meta(t, "apotek.example.se", "111", "");
    let first = capped(&s);
    s.meta(t + 1, "apotek.example.se", "111", "");
    assert_eq!(capped(&s), first, "a known shape adds nothing");
    // A shape with families past the cap: refused and counted on every beacon of that shape.
    let wide = "&cd[a]=1&cd[b]=2&cd[c]=3";
    s.meta(t + 2, "apotek.example.se", "111", wide);
    let once = capped(&s);
    assert!(once > first, "families past the cap are counted");
    s.meta(t + 3, "apotek.example.se", "111", wide);
    assert_eq!(
        capped(&s) - once,
        once - first,
        "counted again for the same shape"
    );
}

#[test]
fn a_new_field_after_many_beacons_of_a_known_shape_is_reported() {
    let engine = common::engine();
    let limits = DriftLimits {
        learning_hours: 0,
        ..DriftLimits::default()
    };
    let mut s = Stream::with_limits(&engine, None, limits);
    let t = T0 + 3600;
    for k in 0..50 {
        s.meta(t + k, "apotek.example.se", "111", "&cd[value]=1");
    }
    assert!(s.at("new_field").is_empty(), "{:#?}", s.anomalies);
    let am = s.meta(
        t + 60,
        "apotek.example.se",
        "111",
        &format!("&cd[value]=1&udff[em]={HASH}"),
    );
    assert_eq!(s.at("new_field"), vec![am]);
    // The known shape again: nothing new.
    s.meta(t + 61, "apotek.example.se", "111", "&cd[value]=1");
    assert_eq!(s.at("new_field"), vec![am]);
}

/// An event time far ahead (a clock jump, a hostile record) costs a ring's worth of hours, not
/// one step per hour of the gap: thousands of years of gap, back and forth, stay instant. (The
/// scan_any / format_squid fuzz targets found the per-hour walk: seconds per record.)
#[test]
fn far_jumps_in_event_time_are_cheap_and_raise_no_volume_change() {
    let engine = common::engine();
    let mut s = Stream::new(&engine, None);
    s.stable(0, 24 * 8);
    let judged_before = s.scanner.drift.as_ref().unwrap().hours_judged;
    // Forward by ~317 years a record, on twenty sites, then back to 2024 now and then.
    for k in 0..200i64 {
        let ts = if k % 10 == 9 {
            T0 + 24 * 8 * 3600 + k
        } else {
            T0 + (k / 20 + 1) * 10_000_000_000
        };
        s.meta(ts, &format!("site{}.example.se", k % 20), "111", "");
    }
    let judged = s.scanner.drift.as_ref().unwrap().hours_judged - judged_before;
    assert!(
        s.at("volume_spike").is_empty() && s.at("volume_drop").is_empty(),
        "no volume change out of a gap: {:?}",
        s.anomalies.iter().map(|r| &r.kind).collect::<Vec<_>>()
    );
    // The work is counted, not timed: at most a ring's worth of hours a record (the per-hour
    // walk judged ~2.8 million hours for each forward jump; these 200 records took over 10 s in
    // a debug build).
    assert!(judged > 0, "the forward jumps close hours that are judged");
    assert!(
        judged <= 200 * pixelwarden::drift::HOURS as u64,
        "{judged} site-hours judged for 200 records"
    );
}
