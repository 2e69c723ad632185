//! `pixelwarden probe` as a user runs it, against the bundled test shop served by the test
//! itself, in Debian's Chromium. Needs `/usr/bin/chromium` (or PIXELWARDEN_CHROMIUM); `.ci/run`
//! installs it. Without a browser these tests fail, unless PIXELWARDEN_SKIP_BROWSER_TESTS=1 is
//! set explicitly (then they say so and pass).
//!
//! The shop's pixels imitate real ones (assets/demo-shop/README.md): a Meta pixel that ignores
//! the banner and hashes what is typed (`udff[..]`, automatic advanced matching), a TikTok
//! pixel that sends the plain e-mail on submit after consent, a GA4 beacon with the typed phone
//! on checkout, a Snap hit from an iframe with the product name.

use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn chromium() -> Option<String> {
    let path = std::env::var("PIXELWARDEN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Path::new(&path).exists() {
        return Some(path);
    }
    if std::env::var_os("PIXELWARDEN_SKIP_BROWSER_TESTS").is_some() {
        eprintln!("SKIPPED: no Chromium at {path} and PIXELWARDEN_SKIP_BROWSER_TESTS is set");
        return None;
    }
    panic!("no Chromium at {path}: install Debian's `chromium` (or set PIXELWARDEN_SKIP_BROWSER_TESTS=1 to skip)");
}

/// The shop, served for the duration of the test on its own runtime.
struct Shop {
    base: String,
    _rt: tokio::runtime::Runtime,
}

fn shop() -> Shop {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt
        .block_on(pixelwarden::probe::demo::serve("127.0.0.1:0"))
        .unwrap();
    Shop {
        base: format!("http://{addr}/"),
        _rt: rt,
    }
}

fn probe(args: &[&str], dir: &Path) -> (Output, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_pixelwarden"))
        .arg("probe")
        .args(args)
        .env("PIXELWARDEN_HOME", dir)
        .env("PIXELWARDEN_FINGERPRINT_KEY", "probe-test-key")
        .output()
        .expect("binary runs");
    let findings = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("findings are JSON lines"))
        .collect();
    (out, findings)
}

fn has(findings: &[Value], pred: impl Fn(&Value) -> bool) -> bool {
    findings.iter().any(pred)
}

const PERSONA: &str = r#"
email = "canary.probe@example.com"
phone = "070-174 06 42"
first_name = "Kanarie"
last_name = "Provsson"
street = "Provgatan 1"
postal_code = "114 55"
city = "Stockholm"
date_of_birth = "1987-05-21"
personnummer = "19870521-2382"
gender = "kvinna"
customer_number = "K700042"
"#;

#[test]
fn every_leak_of_the_shop_is_found_confirmed_and_attributed() {
    let Some(chromium) = chromium() else { return };
    let shop = shop();
    let dir = tempfile::tempdir().unwrap();
    let persona = dir.path().join("persona.toml");
    std::fs::write(&persona, PERSONA).unwrap();
    let har = dir.path().join("walk.har");
    let summary = dir.path().join("summary.json");
    let (out, f) = probe(
        &[
            &shop.base,
            "--chromium",
            &chromium,
            "--consent",
            "all",
            "--max-pages",
            "6",
            "--persona",
            persona.to_str().unwrap(),
            "--har",
            har.to_str().unwrap(),
            "--summary-json",
            summary.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let on = |v: &Value, page: &str| {
        v["source"]["page"]
            .as_str()
            .is_some_and(|p| p.ends_with(page))
    };
    let mode = |v: &Value, m: &str| v["source"]["consent"] == m;
    // Automatic advanced matching: what was typed on the account page, hashed, sent to Meta,
    // whatever the banner said; confirmed as the canary.
    for field in ["udff[em]", "udff[ph]", "udff[fn]", "udff[ln]"] {
        for m in ["ignore", "reject", "accept"] {
            assert!(
                has(&f, |v| v["field"] == field
                    && v["class"] == "hashed_pii"
                    && v["confirmed"] == true
                    && on(v, "konto.html")
                    && mode(v, m)),
                "{field} in mode {m}\n{stderr}"
            );
        }
    }
    // TikTok sends the plain e-mail on submit, only after "accept".
    assert!(has(&f, |v| v["vendor"] == "tiktok"
        && v["type"] == "email"
        && v["class"] == "pii"
        && v["confirmed"] == true
        && mode(v, "accept")));
    assert!(!has(&f, |v| v["vendor"] == "tiktok"
        && v["class"] == "pii"
        && !mode(v, "accept")));
    // The typed phone in a GA4 parameter on checkout.
    assert!(has(&f, |v| v["vendor"] == "google-analytics"
        && v["field"] == "ep.telefon"
        && v["type"] == "phone"
        && v["confirmed"] == true
        && on(v, "kassa.html")));
    // The Art. 9 product page, from the Meta pixel and from the Snap iframe.
    assert!(has(&f, |v| v["vendor"] == "meta"
        && v["type"] == "health"
        && on(v, "produkt-klamydiatest.html")));
    assert!(has(&f, |v| v["vendor"] == "snap" && v["type"] == "health"));
    // Consent: the pixels that ignore the banner, before a decision and after "reject".
    assert!(has(&f, |v| v["type"] == "fired_without_consent"
        && mode(v, "ignore")));
    assert!(has(&f, |v| v["type"] == "fired_after_reject"
        && mode(v, "reject")
        && v["vendor"] == "meta"));
    assert!(
        has(&f, |v| v["type"] == "fired_after_reject"
            && v["severity"] == "critical"),
        "a hit carrying identity after reject is critical"
    );
    assert!(!has(&f, |v| v["type"] == "fired_after_reject"
        && mode(v, "accept")));
    // No raw canary value anywhere in the findings, the summary or the HAR.
    let har_text = std::fs::read_to_string(&har).unwrap();
    let all = format!(
        "{}{}{har_text}",
        String::from_utf8_lossy(&out.stdout),
        stderr
    );
    for raw in [
        "canary.probe@example.com",
        "canary.probe%40example.com",
        "070-174 06 42",
        "0701740642",
        "19870521-2382",
        "Provsson",
    ] {
        assert!(!all.contains(raw), "raw canary value {raw} printed");
    }
    let har: Value = serde_json::from_str(&har_text).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(entries.len() > 50);
    assert!(entries
        .iter()
        .any(|e| e["response"]["_error"] == "net::ERR_BLOCKED_BY_CLIENT"));
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    for w in s["walks"].as_array().unwrap() {
        assert_eq!(w["sent_to_vendors"], 0);
        assert!(w["pixel_hits"].as_u64().unwrap() >= 10);
        assert_eq!(w["banner"], "onetrust");
    }
}

/// Every pixel host resolves to a listener that counts connections: with the default safety
/// none arrives; with --let-pixels-through they do (so the mapping itself is proven).
#[test]
fn by_default_no_connection_reaches_a_vendor() {
    let Some(chromium) = chromium() else { return };
    let shop = shop();
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    {
        let count = count.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut c) = conn {
                    let _ = c.set_read_timeout(Some(std::time::Duration::from_millis(200)));
                    let mut buf = [0u8; 1024];
                    let _ = c.read(&mut buf);
                }
            }
        });
    }
    let mut args: Vec<String> = vec![
        shop.base.clone(),
        "--chromium".into(),
        chromium.clone(),
        "--consent".into(),
        "accept".into(),
        "--max-pages".into(),
        "6".into(),
    ];
    for host in [
        "www.facebook.com",
        "analytics.tiktok.com",
        "region1.google-analytics.com",
        "tr.snapchat.com",
    ] {
        args.push("--resolve".into());
        args.push(format!("{host}=127.0.0.1:{port}"));
    }
    let har = dir.path().join("walk.har");
    let mut with_har = args.clone();
    with_har.push("--har".into());
    with_har.push(har.to_string_lossy().into_owned());
    let argv: Vec<&str> = with_har.iter().map(String::as_str).collect();
    let (out, findings) = probe(&argv, dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        findings.len() > 10,
        "the leaks were still found from the captures"
    );
    // The shop registers a service worker that would pass requests on (and send one of its
    // own) outside the page's interception: it is refused on every page.
    let har: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let urls: Vec<&str> = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["request"]["url"].as_str())
        .collect();
    assert!(
        urls.iter().any(|u| u.ends_with("/sw-state.gif?refused")),
        "the shop's worker was refused: {urls:?}"
    );
    assert!(
        !urls.iter().any(|u| u.ends_with("/sw-state.gif?registered")),
        "no worker registered"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "a connection reached a vendor host"
    );
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut through = argv.clone();
    through.push("--let-pixels-through");
    let (out, _) = probe(&through, dir.path());
    assert!(out.status.code().is_some());
    assert!(
        count.load(Ordering::SeqCst) > 0,
        "with --let-pixels-through the mapped vendor hosts are reached (the mapping works)"
    );
}

/// A journey whose step cannot be done is reported with its page and step, stops, the next
/// journey still runs, and the exit code says so.
#[test]
fn a_failing_journey_step_is_reported_and_the_other_journeys_run() {
    let Some(chromium) = chromium() else { return };
    let shop = shop();
    let dir = tempfile::tempdir().unwrap();
    let journeys = dir.path().join("journeys.toml");
    std::fs::write(
        &journeys,
        r##"
[[journeys]]
name = "broken"
start = "/kassa.html"
[[journeys.steps]]
click = "#no-such-button"
timeout_seconds = 2
[[journeys.steps]]
fill = "input[name=epost]"
with = "email"

[[journeys]]
name = "checkout"
start = "/"
[[journeys.steps]]
consent = "accept"
[[journeys.steps]]
goto = "/produkt-klamydiatest.html"
[[journeys.steps]]
click = "#lagg-i-varukorg"
[[journeys.steps]]
goto = "/kassa.html"
[[journeys.steps]]
fill = "#kassa input[type=email]"
with = "email"
[[journeys.steps]]
fill = "#kassa input[type=tel]"
with = "phone"
[[journeys.steps]]
submit = "form#kassa"
[[journeys.steps]]
wait = "network-idle"
"##,
    )
    .unwrap();
    let summary = dir.path().join("summary.json");
    let (out, findings) = probe(
        &[
            &shop.base,
            "--chromium",
            &chromium,
            "--max-pages",
            "1",
            "--journeys",
            journeys.to_str().unwrap(),
            "--summary-json",
            summary.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("journey broken [reject] failed at step 1 (click #no-such-button)")
            && stderr.contains("kassa.html"),
        "{stderr}"
    );
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let walks = s["walks"].as_array().unwrap();
    let checkout = walks.iter().find(|w| w["journey"] == "checkout").unwrap();
    assert!(checkout["failure"].is_null(), "{checkout}");
    assert!(findings.iter().any(|v| v["source"]["journey"] == "checkout"
        && v["vendor"] == "tiktok"
        && v["type"] == "email"));
}

/// A page that never finishes loading cannot hang the walk: it is stopped at the page budget,
/// reported, and what it sent before is inspected.
#[test]
fn a_page_that_never_finishes_loading_is_bounded() {
    let Some(chromium) = chromium() else { return };
    let shop = shop();
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let url = format!("{}slow.html", shop.base);
    let summary = dir.path().join("summary.json");
    let (out, _) = probe(
        &[
            &url,
            "--chromium",
            &chromium,
            "--max-pages",
            "1",
            "--page-budget",
            "4",
            "--consent",
            "ignore",
            "--summary-json",
            summary.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed().as_secs() < 40,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("still loading after 4 s"), "{stderr}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let w = &s["walks"][0];
    assert!(
        w["pixel_hits"].as_u64().unwrap() >= 1,
        "what the page sent before it was stopped is inspected: {w}"
    );
    assert_eq!(w["page_problems"].as_array().unwrap().len(), 1);
}
