//! The real captures in `../shared/corpus/healthcare-exchange`: every file parses without a
//! skipped entry, and every Meta and GA4 hit in them is recognised. Hits are counted here
//! independently of the engine, straight from each HAR's `request.url`.

mod common;

use pixelwarden::source::Input;
use std::collections::BTreeMap;
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

/// Which vendor a request is a pixel hit of, decided here from host and path alone,
/// independently of the rule packs.
fn vendor_of(host: &str, path: &str) -> Option<&'static str> {
    let on = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    if on("facebook.com")
        && (path == "/tr"
            || path == "/tr/"
            || path.starts_with("/privacy_sandbox/pixel/register/trigger"))
    {
        return Some("meta");
    }
    if path.ends_with("/g/collect") && !on("clarity.ms") {
        return Some("google-analytics");
    }
    if (on("google-analytics.com") || host == "stats.g.doubleclick.net")
        && ["/collect", "/j/collect", "/r/collect", "/__utm.gif"].contains(&path)
    {
        return Some("universal-analytics");
    }
    let ads = (on("googleadservices.com") || host == "googleads.g.doubleclick.net")
        && path.contains("conversion/")
        || path.starts_with("/pagead/1p-")
        || path.contains("/form-data/")
        || host == "td.doubleclick.net"
            && (path.starts_with("/td/rul/") || path.starts_with("/td/fls/rul/"))
        || host == "www.google.com" && path == "/ccm/collect"
        || host == "ad.doubleclick.net" && path.starts_with("/activity")
        || host.ends_with(".fls.doubleclick.net") && path.starts_with("/activityi")
        || host == "adservice.google.com" && path.starts_with("/ddm/fls/");
    if ads {
        return Some("google-ads");
    }
    if host == "bat.bing.com" && path.starts_with("/action/") {
        return Some("microsoft-uet");
    }
    if on("clarity.ms")
        && (path.ends_with("/collect") || host == "c.clarity.ms" && path == "/c.gif")
    {
        return Some("microsoft-clarity");
    }
    if host == "content.hotjar.io"
        || host == "vc.hotjar.io"
        || (on("hotjar.com") && path.contains("/client/"))
    {
        return Some("hotjar");
    }
    if on("ads.linkedin.com")
        && ["/collect", "/wa/", "/attribution_trigger"]
            .iter()
            .any(|p| path.starts_with(p))
    {
        return Some("linkedin");
    }
    if host == "ct.pinterest.com" && (path.starts_with("/v3") || path.starts_with("/user")) {
        return Some("pinterest");
    }
    if host.starts_with("tr") && on("snapchat.com") && (path == "/p" || path.starts_with("/cm/")) {
        return Some("snap");
    }
    if on("tiktok.com")
        && host.starts_with("analytics")
        && (path.starts_with("/api/v2/pixel") || path.ends_with("/track"))
    {
        return Some("tiktok");
    }
    if (host == "t.co" || host == "analytics.twitter.com")
        && (path == "/i/adsct" || path == "/1/i/adsct")
    {
        return Some("x");
    }
    None
}

#[test]
fn every_file_parses_and_every_pixel_hit_goes_to_the_right_vendor() {
    let Some(dir) = corpus() else { return };
    let mut hars: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "har"))
        .collect();
    hars.sort();
    assert_eq!(hars.len(), 19);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let (mut tr, mut trigger, mut entries) = (0u64, 0u64, 0u64);
    for p in &hars {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        for e in v["log"]["entries"].as_array().unwrap() {
            entries += 1;
            let u = url::Url::parse(e["request"]["url"].as_str().unwrap()).unwrap();
            let (host, path) = (u.host_str().unwrap_or(""), u.path());
            if let Some(vendor) = vendor_of(host, path) {
                *expected.entry(vendor.to_string()).or_default() += 1;
            }
            if host.ends_with("facebook.com") && (path == "/tr" || path == "/tr/") {
                tr += 1;
            } else if host.ends_with("facebook.com")
                && path.starts_with("/privacy_sandbox/pixel/register/trigger")
            {
                trigger += 1;
            }
        }
    }
    let engine = common::engine();
    let inputs: Vec<Input> = hars.iter().map(|p| Input::File(p.clone())).collect();
    let (_, stats, outcome) = common::scan_inputs(&engine, &inputs, false, true);
    let mut got: BTreeMap<String, u64> = stats.beacons_by_vendor.clone();
    for (vendor, n) in &stats.twins_by_vendor {
        *got.entry(vendor.clone()).or_default() += n;
    }
    println!("entries {entries}; requests per vendor (independent): {expected:?}");
    println!("engine hits + twins per vendor:                  {got:?}");
    println!(
        "hits {:?}, twins counted once {:?}",
        stats.beacons_by_vendor, stats.twins_by_vendor
    );
    assert!(outcome.file_errors.is_empty(), "{:?}", outcome.file_errors);
    assert_eq!(stats.skipped_total(), 0, "{:?}", stats.skipped);
    assert_eq!(stats.records, entries);
    assert_eq!(got, expected);
    assert_eq!(
        stats
            .beacons_by_endpoint
            .get("meta-pixel")
            .copied()
            .unwrap_or(0),
        tr
    );
    // Each trigger is either the twin of a /tr (counted once) or a hit of its own.
    let meta_twins = stats.twins_by_vendor.get("meta").copied().unwrap_or(0);
    assert_eq!(
        meta_twins
            + stats
                .beacons_by_endpoint
                .get("meta-privacy-sandbox")
                .copied()
                .unwrap_or(0),
        trigger
    );
    assert!(expected.len() >= 12, "{expected:?}");
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
