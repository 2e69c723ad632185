//! The real captures in `../shared/corpus/healthcare-exchange`: every file parses without a
//! skipped entry, and every Meta and GA4 hit in them is recognised. Hits are counted here
//! independently of the engine, straight from each HAR's `request.url`.

mod common;

use pixelwarden::source::Input;
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = common::root().join("../shared/corpus/healthcare-exchange");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is not present", dir.display());
        None
    }
}

#[test]
fn every_file_parses_and_every_meta_and_ga4_hit_is_recognised() {
    let Some(dir) = corpus() else { return };
    let mut hars: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "har"))
        .collect();
    hars.sort();
    assert_eq!(hars.len(), 19);
    let (mut tr, mut trigger, mut ga4, mut entries) = (0u64, 0u64, 0u64, 0u64);
    for p in &hars {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        for e in v["log"]["entries"].as_array().unwrap() {
            entries += 1;
            let url = e["request"]["url"].as_str().unwrap();
            let u = url::Url::parse(url).unwrap();
            let host = u.host_str().unwrap_or("");
            let path = u.path();
            if host.ends_with("facebook.com") && (path == "/tr" || path == "/tr/") {
                tr += 1;
            } else if host.ends_with("facebook.com")
                && path.starts_with("/privacy_sandbox/pixel/register/trigger")
            {
                trigger += 1;
            } else if path.ends_with("/g/collect") {
                ga4 += 1;
            }
        }
    }
    let engine = common::engine();
    let inputs: Vec<Input> = hars.iter().map(|p| Input::File(p.clone())).collect();
    let (_, stats, outcome) = common::scan_inputs(&engine, &inputs, false, true);
    println!("entries {entries}: meta /tr {tr}, privacy-sandbox triggers {trigger}, ga4 {ga4}");
    println!(
        "engine: {:?}, twins counted once {}",
        stats.beacons_by_endpoint, stats.twins
    );
    assert!(outcome.file_errors.is_empty(), "{:?}", outcome.file_errors);
    assert_eq!(stats.skipped_total(), 0, "{:?}", stats.skipped);
    assert_eq!(stats.records, entries);
    assert_eq!(
        stats
            .beacons_by_endpoint
            .get("meta-pixel")
            .copied()
            .unwrap_or(0),
        tr
    );
    // Each trigger is either the twin of a /tr (counted once) or a hit of its own.
    assert_eq!(
        stats.twins
            + stats
                .beacons_by_endpoint
                .get("meta-privacy-sandbox")
                .copied()
                .unwrap_or(0),
        trigger
    );
    assert_eq!(
        stats
            .beacons_by_endpoint
            .get("ga4-collect")
            .copied()
            .unwrap_or(0),
        ga4
    );
    assert!(tr >= 24 && ga4 >= 37);
}

#[test]
fn findings_on_real_captures_are_the_justified_ones() {
    let Some(dir) = corpus() else { return };
    let engine = common::engine();
    let inputs = vec![Input::File(dir.join("nevada-nevadahealthlink.com.har"))];
    let (records, _, _) = common::scan_inputs(&engine, &inputs, false, true);
    // HubSpot's ud[external_id] (32 hex) is a hashed identifier sent to Meta.
    assert!(records.iter().any(|r| r.class.as_str() == "hashed_pii"
        && &*r.kind == "external_id"
        && r.field == "ud[external_id]"));
    // Nothing is reported from the host name alone ("nevadahealthlink").
    for r in &records {
        assert!(!r.evidence.contains("nevadahealthlink"), "{r:?}");
    }
}
