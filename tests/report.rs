//! The forensic report and evidence packs as a user makes them: the numbers on a fixed input,
//! no raw value in any output, the page rendering in Debian's Chromium without console errors,
//! and `verify` rejecting a changed byte and a bad signature.

use std::path::Path;
use std::process::{Command, Output};

fn pixelwarden(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pixelwarden"))
        .args(args)
        .env("PIXELWARDEN_HOME", home)
        .env("PIXELWARDEN_FINGERPRINT_KEY", "report-test-key")
        .output()
        .expect("binary runs")
}

fn finding(
    ts: &str,
    site: &str,
    vendor: &str,
    pixel: &str,
    class: &str,
    kind: &str,
    field: &str,
    fp: &str,
    sev: &str,
) -> String {
    serde_json::json!({
        "schema": "pixelwarden.finding/v1", "ts": ts, "source": {"path": "a.log", "line": 1},
        "format": "squid", "site": site, "vendor": vendor, "endpoint": "x", "pixel_id": pixel,
        "event": "Purchase", "class": class, "type": kind, "detector": "d", "field": field,
        "decode": ["query"], "evidence": "7ad5bc… (sha256, 64 chars)", "fingerprint": fp, "severity": sev
    })
    .to_string()
}

/// Three people's hashed e-mails over three days, health product names, a consent violation:
/// the summary, the Art. 33 numbers and the breach windows say exactly that.
#[test]
fn report_numbers_on_a_fixed_input() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        finding(
            "2024-03-04T08:00:00.000Z",
            "apotek.example.se",
            "meta",
            "42",
            "hashed_pii",
            "email",
            "udff[em]",
            "hm1:aaaa000000000001",
            "high",
        ),
        finding(
            "2024-03-04T09:00:00.000Z",
            "apotek.example.se",
            "meta",
            "42",
            "hashed_pii",
            "email",
            "udff[em]",
            "hm1:aaaa000000000002",
            "high",
        ),
        finding(
            "2024-03-06T10:30:00.000Z",
            "apotek.example.se",
            "meta",
            "42",
            "hashed_pii",
            "email",
            "udff[em]",
            "hm1:aaaa000000000003",
            "high",
        ),
        finding(
            "2024-03-06T10:30:00.000Z",
            "apotek.example.se",
            "meta",
            "42",
            "sensitive",
            "health",
            "cd[content_name]",
            "hm1:bbbb000000000001",
            "critical",
        ),
        finding(
            "2024-03-05T12:00:00.000Z",
            "apotek.example.se",
            "google-analytics",
            "G-1",
            "consent",
            "denied_but_sent",
            "gcs",
            "hm1:cccc000000000001",
            "high",
        ),
    ];
    let findings = dir.path().join("findings.jsonl");
    std::fs::write(&findings, lines.join("\n") + "\n").unwrap();
    let report = dir.path().join("report.html");
    let out = pixelwarden(
        &[
            "report",
            findings.to_str().unwrap(),
            "-o",
            report.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    for want in [
        "Between 2024-03-04 and 2024-03-06, tracking requests from apotek.example.se sent e-mail addresses (hashed) of about 3 people, together with information about health to google-analytics, meta.",
        "about 3 (the most distinct values of one identity type in the data examined)",
        "<strong>special category: health</strong>",
        "<strong>meta</strong> — pixel / account 42",
        "Meta automatic advanced matching",
        "2024-03-04T08:00:00.000Z to 2024-03-06T10:30:00.000Z",
        "denied_but_sent",
    ] {
        assert!(html.contains(want), "missing: {want}");
    }
    // The udff[em] window: from the 4th to the 6th, 3 hits, about 3 people.
    let window = html
        .split("Meta automatic advanced matching")
        .nth(1)
        .unwrap();
    let row = &window[..window.find("</tr>").unwrap()];
    assert!(
        row.contains("2024-03-04") && row.contains("2024-03-06"),
        "{row}"
    );
    assert!(
        row.contains(r#"<td class="num">3</td><td class="num">3</td>"#),
        "{row}"
    );
    // Self-contained: nothing fetched, no script.
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
}

const PLANTED: &[&str] = &[
    "karin.lindqvist@example.se",
    "karin.lindqvist%40example.se",
    "46701234567",
    "19811218-9876",
    "lindqvist",
];

fn planted_log(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("planted.log");
    std::fs::write(
        &p,
        "1709539200.000     12 10.0.0.1 TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=1&ev=Purchase&dl=https%3A%2F%2Fapotek.example.se%2Fkassa%3Fpnr%3D19811218-9876&ud[em]=karin.lindqvist%40example.se&ud[ph]=%2B46701234567&ud[ln]=lindqvist&cd[content_name]=Klamydiatest - HIER_DIRECT/1.2.3.4 image/gif\n\
1709625600.000     12 10.0.0.1 TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=1&ev=Lead&udff[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6 - HIER_DIRECT/1.2.3.4 image/gif\n",
    )
    .unwrap();
    p
}

/// A scan with a report and an evidence pack: no planted raw value anywhere in them; a report
/// made from findings written with --reveal masks them again.
#[test]
fn no_raw_value_in_the_report_or_the_pack() {
    let dir = tempfile::tempdir().unwrap();
    let log = planted_log(dir.path());
    let report = dir.path().join("r.html");
    let pack = dir.path().join("pack");
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            "--report",
            report.to_str().unwrap(),
            "--evidence",
            pack.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut texts = vec![std::fs::read_to_string(&report).unwrap()];
    for e in std::fs::read_dir(&pack).unwrap() {
        texts.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    for t in &texts {
        for raw in PLANTED {
            assert!(!t.contains(raw), "raw value {raw} in an output");
        }
    }
    assert!(texts[0].contains("personal identity numbers"));
    // Findings written with --reveal, reported without it.
    let revealed = dir.path().join("revealed.jsonl");
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            "--reveal",
            "-o",
            revealed.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&revealed)
        .unwrap()
        .contains("karin.lindqvist@example.se"));
    let report2 = dir.path().join("r2.html");
    let out = pixelwarden(
        &[
            "report",
            revealed.to_str().unwrap(),
            "-o",
            report2.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let t = std::fs::read_to_string(&report2).unwrap();
    for raw in PLANTED {
        assert!(
            !t.contains(raw),
            "raw value {raw} in a report made without --reveal"
        );
    }
}

/// `verify` accepts an untouched signed pack, names a changed byte, and rejects a bad
/// signature and another signer's key.
#[test]
fn verify_rejects_a_changed_byte_and_a_bad_signature() {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let key_pem = dir.path().join("key.pem");
    std::fs::write(
        &key_pem,
        key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
    )
    .unwrap();
    let pub_pem = dir.path().join("pub.pem");
    std::fs::write(
        &pub_pem,
        key.verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap(),
    )
    .unwrap();
    let log = planted_log(dir.path());
    let pack = dir.path().join("pack");
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            "--evidence",
            pack.to_str().unwrap(),
            "--signing-key",
            key_pem.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verify = |extra: &[&str]| {
        let mut a = vec!["verify", pack.to_str().unwrap()];
        a.extend_from_slice(extra);
        pixelwarden(&a, dir.path())
    };
    let ok = verify(&["--public-key", pub_pem.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(
        text.contains("valid Ed25519 signature") && text.contains("ok       input"),
        "{text}"
    );
    // One changed byte in the report.
    let report = pack.join("report.html");
    let mut b = std::fs::read(&report).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x20;
    std::fs::write(&report, &b).unwrap();
    let bad = verify(&["--public-key", pub_pem.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("CHANGED  report.html changed"), "{text}");
    b[i] ^= 0x20;
    std::fs::write(&report, &b).unwrap();
    // A forged signature.
    std::fs::write(pack.join("manifest.sig"), "00".repeat(64) + "\n").unwrap();
    let forged = verify(&["--public-key", pub_pem.to_str().unwrap()]);
    assert_eq!(forged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&forged.stdout).contains("signature does not match"));
    // Another signer's key.
    let other = dir.path().join("other.pem");
    std::fs::write(
        &other,
        ed25519_dalek::SigningKey::from_bytes(&[4u8; 32])
            .verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        verify(&["--public-key", other.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

/// The report opens in Debian's Chromium without a console error or exception, and shows its
/// sections. Fails without a browser unless PIXELWARDEN_SKIP_BROWSER_TESTS=1.
#[test]
fn the_report_renders_in_chromium_without_console_errors() {
    use chromiumoxide::browser::{Browser, BrowserConfig};
    use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
    use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
    use futures::StreamExt;
    let chromium =
        std::env::var("PIXELWARDEN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        assert!(
            std::env::var_os("PIXELWARDEN_SKIP_BROWSER_TESTS").is_some(),
            "no Chromium at {chromium}"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("sample.html");
    let out = pixelwarden(
        &[
            "scan",
            "--sample",
            "--no-progress",
            "--no-summary",
            "--report",
            report.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let profile = dir.path().join("profile");
        let config = BrowserConfig::builder()
            .chrome_executable(&chromium)
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(&profile)
            .args([
                "disable-gpu",
                "no-first-run",
                "disable-component-update",
                "disable-sync",
            ])
            .build()
            .unwrap();
        let (mut browser, mut handler) = Browser::launch(config).await.unwrap();
        let h = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser.new_page("about:blank").await.unwrap();
        page.enable_log().await.unwrap();
        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .unwrap();
        let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
        let mut logs = page.event_listener::<EventEntryAdded>().await.unwrap();
        let started = std::time::Instant::now();
        page.goto(format!("file://{}", report.display()))
            .await
            .unwrap();
        let load_ms = started.elapsed().as_millis();
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let sections: u64 = page
            .evaluate("document.querySelectorAll('main section').length")
            .await
            .unwrap()
            .into_value()
            .unwrap();
        let title: String = page
            .evaluate("document.querySelector('h1').innerText")
            .await
            .unwrap()
            .into_value()
            .unwrap();
        let mut errors = Vec::new();
        while let Ok(Some(e)) =
            tokio::time::timeout(std::time::Duration::from_millis(100), console.next()).await
        {
            if format!("{:?}", e.r#type).to_lowercase().contains("error") {
                errors.push(format!("console: {:?}", e.args));
            }
        }
        while let Ok(Some(e)) =
            tokio::time::timeout(std::time::Duration::from_millis(100), exceptions.next()).await
        {
            errors.push(format!("exception: {:?}", e.exception_details.text));
        }
        while let Ok(Some(e)) =
            tokio::time::timeout(std::time::Duration::from_millis(100), logs.next()).await
        {
            if format!("{:?}", e.entry.level)
                .to_lowercase()
                .contains("error")
            {
                errors.push(format!("log: {}", e.entry.text));
            }
        }
        let _ = browser.close().await;
        let _ = browser.wait().await;
        h.abort();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(sections, 8);
        assert_eq!(title, "Personal data sent to tracking vendors");
        assert!(load_ms < 2000, "the report took {load_ms} ms to load");
    });
}
