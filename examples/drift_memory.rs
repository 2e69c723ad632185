//! Memory of drift state for many sites: `cargo run --release --example drift_memory -- 100000`.
//! Each site gets one Meta pixel with a typical field set, an identity type and a week of
//! hourly traffic; prints resident memory before and after, and the saved state size.

use pixelwarden::detect::{Class, Finding, RawValue, Severity};
use pixelwarden::drift::{Drift, DriftLimits, Observation};
use pixelwarden::pixel::decode::Field;
use pixelwarden::pixel::Role;
use std::sync::Arc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let sites: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let fields: Vec<String> = [
        "id",
        "ev",
        "dl",
        "rl",
        "if",
        "ts",
        "sw",
        "sh",
        "v",
        "r",
        "ec",
        "o",
        "fbp",
        "it",
        "coo",
        "rqm",
        "cd[content_name]",
        "cd[value]",
        "cd[currency]",
        "udff[em]",
        "udff[ph]",
        "es",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let finding = Finding {
        class: Class::HashedPii,
        kind: Arc::from("email"),
        detector: Arc::from("meta-advanced-matching"),
        field: "udff[em]".into(),
        event: 0,
        chain: Default::default(),
        severity: Severity::High,
        value: RawValue::new("x"),
        norm: RawValue::new("x"),
        algorithm: None,
        confirmed: false,
        test_value: false,
    };
    let beacon_fields: Vec<Field> = fields
        .iter()
        .map(|f| Field {
            path: f.clone(),
            value: String::new(),
            chain: Default::default(),
            event: 0,
            role: Role {
                identity: f.starts_with("udff").then_some(0),
                ..Role::default()
            },
        })
        .collect();
    let before = rss_kib();
    let mut drift = Drift::new(DriftLimits {
        max_sites: sites * 2,
        max_pixels: sites * 2,
        ..DriftLimits::default()
    });
    let events = vec!["PageView".to_string()];
    let t0 = 1_709_251_200i64;
    // Every site: one hit per hour for a week (fills the hourly ring), same fields.
    for hour in 0..(7 * 24) {
        for s in 0..sites {
            let site = format!("site{s}.example.se");
            let anomalies = drift.observe(Observation {
                ts: chrono::DateTime::from_timestamp(t0 + hour * 3600 + (s as i64 % 3600), 0)
                    .unwrap(),
                site: &site,
                vendor: "meta",
                pixel_id: "1234567890123456",
                events: &events,
                fields: &beacon_fields,
                findings: std::slice::from_ref(&finding),
            });
            assert!(anomalies.is_empty());
        }
        if sites >= 100_000 && hour % 24 == 0 {
            eprintln!("day {}: rss {} MiB", hour / 24, rss_kib() / 1024);
        }
    }
    let after = rss_kib();
    let saved = serde_json::to_vec(&drift.state).unwrap().len();
    println!(
        "{sites} sites, {} pixels: resident memory {} MiB ({} MiB before), {:.0} bytes per site; saved state {} MiB",
        drift.pixels(),
        after / 1024,
        before / 1024,
        (after - before) as f64 * 1024.0 / sites as f64,
        saved >> 20
    );
}
