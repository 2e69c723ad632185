//! The binary as a user runs it: exit codes, redaction of everything it prints, `--reveal`,
//! `--sample`, `explain`, `rules test`, and broken rule packs refused at start-up.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn pixelwarden(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pixelwarden"))
        .args(args)
        .env("PIXELWARDEN_HOME", home)
        .env_remove("PIXELWARDEN_FINGERPRINT_KEY")
        .output()
        .expect("binary runs")
}

const EMAIL: &str = "karin.lindqvist@example.se";
const PHONE: &str = "+46701234567";
const PNR: &str = "19811218-9876";
const NAME: &str = "lindqvist";
const HASH: &str = "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";
const TOKEN: &str = "EAAGm0PX4ZCpsBAsecretTokenValue98765";
const IP: &str = "203.0.113.77";

/// One planted hit per format, every raw value somewhere.
fn plant(dir: &Path) {
    let q = format!(
        "id=1&ev=Purchase&dl=https%3A%2F%2Fapotek.example.se%2Fkassa%3Fpnr%3D{}&ud[em]={}&ud[ph]={}&ud[ln]={NAME}&udff[fn]={HASH}",
        PNR, EMAIL.replace('@', "%40"), PHONE.replace('+', "%2B")
    );
    let url = format!("https://www.facebook.com/tr/?{q}");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("squid.log"), format!("1709539200.000     12 10.0.0.1 TCP_MISS/200 44 GET {url} - HIER_DIRECT/1.2.3.4 image/gif\n")).unwrap();
    std::fs::write(
        dir.join("combined.log"),
        format!("10.0.0.1 - - [04/Mar/2024:09:00:00 +0100] \"GET {url} HTTP/1.1\" 200 44 \"-\" \"ua\"\n"),
    )
    .unwrap();
    let capi = serde_json::json!({"data":[{"event_name":"Purchase","event_source_url":"https://apotek.example.se/klamydiatest","user_data":{"em":[EMAIL],"ph":[HASH],"client_ip_address":IP}}],"access_token":TOKEN}).to_string();
    let nginx = serde_json::json!({"time_iso8601":"2024-03-04T09:00:00+01:00","request_method":"POST","scheme":"https","host":"graph.facebook.com","request_uri":"/v19.0/42/events","content_type":"application/json","request_body":capi});
    std::fs::write(dir.join("nginx.jsonl"), format!("{nginx}\n")).unwrap();
    let ecs = serde_json::json!({"@timestamp":"2024-03-04T08:00:00Z","url":{"full":url},"http":{"request":{"method":"GET"}}});
    std::fs::write(dir.join("ecs.jsonl"), format!("{ecs}\n")).unwrap();
    let eve = serde_json::json!({"timestamp":"2024-03-04T08:00:00.000000+0000","event_type":"http","dest_port":80,"http":{"hostname":"www.facebook.com","url":format!("/tr/?{q}"),"http_method":"GET"}});
    std::fs::write(dir.join("eve.json"), format!("{eve}\n")).unwrap();
    std::fs::write(
        dir.join("http.log"),
        format!("#separator \\x09\n#fields\tts\thost\turi\tmethod\tid.resp_p\n1709539200.0\twww.facebook.com\t/tr/?{q}\tGET\t80\n"),
    )
    .unwrap();
    let har = serde_json::json!({"log":{"version":"1.2","entries":[{"startedDateTime":"2024-03-04T08:00:00Z","request":{"method":"POST","url":"https://graph.facebook.com/v19.0/42/events","headers":[],"postData":{"mimeType":"application/json","text":capi}}}]}});
    std::fs::write(dir.join("session.har"), har.to_string()).unwrap();
}

fn leaks(text: &str) -> Vec<&'static str> {
    [
        EMAIL,
        PHONE,
        "811218",
        NAME,
        HASH,
        TOKEN,
        IP,
        "karin.lindqvist%40",
        "701234567",
    ]
    .into_iter()
    .filter(|v| text.contains(v))
    .collect()
}

#[test]
fn no_planted_value_appears_in_any_output_without_reveal() {
    let dir = tempfile::tempdir().unwrap();
    plant(&dir.path().join("logs"));
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            dir.path().join("logs").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.lines().count() >= 30,
        "planted findings must be found: {stdout}"
    );
    for class in ["pii", "hashed_pii", "secret", "transport", "sensitive"] {
        assert!(
            stdout.contains(&format!("\"class\":\"{class}\"")),
            "no {class} finding"
        );
    }
    assert_eq!(leaks(&stdout), Vec::<&str>::new(), "stdout leaks");
    assert_eq!(leaks(&stderr), Vec::<&str>::new(), "stderr leaks");

    // explain prints the decoded payload: still redacted.
    let url = std::fs::read_to_string(dir.path().join("logs/squid.log")).unwrap();
    let url = url.split_whitespace().nth(6).unwrap().to_string();
    let out = pixelwarden(&["explain", &url], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hashed_pii/name") || text.contains("pii/email"),
        "{text}"
    );
    assert_eq!(leaks(&text), Vec::<&str>::new(), "explain leaks:\n{text}");
}

#[test]
fn reveal_prints_values_but_never_the_token_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    plant(&dir.path().join("logs"));
    let out = pixelwarden(
        &[
            "scan",
            "--reveal",
            "--no-progress",
            dir.path().join("logs").to_str().unwrap(),
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains(EMAIL));
    assert!(stdout.contains(HASH));
    assert!(!stdout.contains(TOKEN), "the access token is never printed");
    assert!(
        stderr.contains("--reveal"),
        "the user is told raw values are printed"
    );
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    plant(&dir.path().join("logs"));
    let logs = dir.path().join("logs");
    let logs = logs.to_str().unwrap();
    assert_eq!(
        pixelwarden(
            &["scan", "--no-progress", "--fail-on", "critical", logs],
            dir.path()
        )
        .status
        .code(),
        Some(1)
    );
    let clean = dir.path().join("clean.log");
    std::fs::write(&clean, "1709539200.000 1 10.0.0.1 TCP_MISS/200 1 GET https://cdn.example.com/a.js - HIER_DIRECT/x -\n").unwrap();
    assert_eq!(
        pixelwarden(
            &[
                "scan",
                "--no-progress",
                "--fail-on",
                "low",
                clean.to_str().unwrap()
            ],
            dir.path()
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        pixelwarden(&["scan", "--fail-on", "whatever", logs], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(pixelwarden(&["scan"], dir.path()).status.code(), Some(2));
    // An input that could not be scanned at all: 3, even when findings exist elsewhere
    // (a scan that missed evidence must not pass for complete), and listed first.
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3, 0xff].repeat(100)).unwrap();
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            "--fail-on",
            "critical",
            logs,
            junk.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    let summary = &err[err.find("== pixelwarden scan summary ==").unwrap()..];
    assert!(
        summary.lines().nth(1).unwrap().starts_with("INCOMPLETE"),
        "{summary}"
    );
    assert!(
        summary.contains("junk.bin: format not recognised"),
        "{summary}"
    );
    // A truncated archive: 3.
    let gz = dir.path().join("cut.log.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, "1709539200.000 1 10.0.0.1 TCP_MISS/200 1 GET https://cdn.example.com/a.js - HIER_DIRECT/x -\n".repeat(2000).as_bytes()).unwrap();
    let bytes = e.finish().unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(
        pixelwarden(&["scan", "--no-progress", gz.to_str().unwrap()], dir.path())
            .status
            .code(),
        Some(3)
    );
    // A path that does not exist beside one that does: 3; none that exists: 2.
    assert_eq!(
        pixelwarden(
            &[
                "scan",
                "--no-progress",
                clean.to_str().unwrap(),
                "/nonexistent/x.log"
            ],
            dir.path()
        )
        .status
        .code(),
        Some(3)
    );
    assert_eq!(
        pixelwarden(&["scan", "--no-progress", "/nonexistent/x.log"], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        pixelwarden(&["scan", "--format", "nope", logs], dir.path())
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn broken_pack_is_refused_with_file_rule_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let packs = dir.path().join("packs");
    std::fs::create_dir(&packs).unwrap();
    std::fs::write(
        packs.join("bad.toml"),
        "[pack]\nid = \"my-pii\"\n[[detectors]]\nid = \"my-rule\"\ntype = \"email\"\nregex = \"([unclosed\"\n",
    )
    .unwrap();
    let out = pixelwarden(
        &["rules", "test", "--detectors", packs.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("my-rule") && err.contains("regex"),
        "{err}"
    );
}

#[test]
fn user_pack_adds_a_detector_with_its_own_examples() {
    let dir = tempfile::tempdir().unwrap();
    let packs = dir.path().join("packs");
    std::fs::create_dir(&packs).unwrap();
    std::fs::write(
        packs.join("member.toml"),
        r#"[pack]
id = "acme-member-number"
[[detectors]]
id = "acme-member"
type = "external_id"
keywords = ["ACME-"]
regex = 'ACME-[0-9]{6}'
[[examples]]
text = "member ACME-123456"
expect = ["pii/external_id"]
[[examples]]
text = "ACME-12"
expect = []
"#,
    )
    .unwrap();
    let out = pixelwarden(
        &["rules", "test", "--detectors", packs.to_str().unwrap()],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("acme-member-number") && text.contains("2/2"),
        "{text}"
    );
}

#[test]
fn sample_scan_and_rules_test_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = pixelwarden(&["scan", "--sample", "--no-progress"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 100);
    let summary = String::from_utf8_lossy(&out.stderr);
    for f in [
        "squid",
        "clf",
        "nginx-json",
        "zeek",
        "zeek-json",
        "eve",
        "har",
        "ecs",
    ] {
        assert!(
            summary.contains(&format!("{f} ")),
            "sample lacks {f}: {summary}"
        );
    }
    let out = pixelwarden(&["rules", "test"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn known_customers_are_confirmed_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    plant(&dir.path().join("logs"));
    let known = dir.path().join("customers.txt");
    // The planted hash is anna's e-mail, who is not on the list.
    std::fs::write(
        &known,
        format!("# our customers\n{EMAIL}\nnot-a-customer-id\n"),
    )
    .unwrap();
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            "--known-identifiers",
            known.to_str().unwrap(),
            dir.path().join("logs").to_str().unwrap(),
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let confirmed = stdout
        .lines()
        .filter(|l| l.contains("\"confirmed\":true"))
        .count();
    assert!(
        confirmed >= 7,
        "the planted e-mail is confirmed in every format: {confirmed}"
    );
    // Its hash in udff[fn] belongs to another value, so not every identity finding is confirmed.
    assert!(stdout
        .lines()
        .any(|l| l.contains("\"class\":\"hashed_pii\"") && !l.contains("confirmed")));
    assert!(
        stderr.contains("1 known identifiers loaded (1 lines not recognised"),
        "{stderr}"
    );
    assert!(stderr.contains("confirmed customers"), "{stderr}");
    assert_eq!(leaks(&stdout), Vec::<&str>::new());
    assert!(
        !stderr.contains("anna.svensson"),
        "the list is never echoed"
    );
}

#[test]
fn marked_sites_report_their_category() {
    let dir = tempfile::tempdir().unwrap();
    plant(&dir.path().join("logs"));
    let sites = dir.path().join("sites.txt");
    std::fs::write(&sites, "apotek.example.se health\n").unwrap();
    let out = pixelwarden(
        &[
            "scan",
            "--no-progress",
            "--sites",
            sites.to_str().unwrap(),
            dir.path().join("logs").to_str().unwrap(),
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("\"detector\":\"site-context\"")
                && l.contains("\"type\":\"health\"")),
        "{stdout}"
    );
    std::fs::write(&sites, "apotek.example.se wellness\n").unwrap();
    let out = pixelwarden(
        &[
            "scan",
            "--sites",
            sites.to_str().unwrap(),
            dir.path().join("logs").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn drift_state_carries_over_between_scans() {
    let dir = tempfile::tempdir().unwrap();
    let line = |secs: i64, extra: &str| {
        format!(
            "{secs}.000     12 10.0.0.1 TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=77&ev=PageView&dl=https%3A%2F%2Fapotek.example.se%2F&ud[em]={HASH}{extra} - HIER_DIRECT/1.2.3.4 image/gif\n"
        )
    };
    let t0 = 1_709_251_200i64;
    let a: String = (0..120).map(|i| line(t0 + i * 60, "")).collect();
    // The next day: Advanced Matching starts sending the phone on the 3rd line.
    let b: String = (0..3)
        .map(|i| {
            line(
                t0 + 86_400 + i * 60,
                if i == 2 {
                    "&udff[ph]=a7274f98c43038d9c630738ac54c4cd06495600f29d7904131a2474a91d3d042"
                } else {
                    ""
                },
            )
        })
        .collect();
    std::fs::write(dir.path().join("a.log"), a).unwrap();
    std::fs::write(dir.path().join("b.log"), b).unwrap();
    let state = dir.path().join("state.json");
    let scan = |file: &str, state: Option<&Path>| {
        let mut args = vec!["scan", "--no-progress", "--learning-hours", "1"];
        let s;
        if let Some(p) = state {
            s = p.to_str().unwrap().to_string();
            args.extend(["--state", s.as_str()]);
        }
        let path = dir.path().join(file);
        let path = path.to_str().unwrap().to_string();
        args.push(&path);
        let out = pixelwarden(&args, dir.path());
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"class\":\"anomaly\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{} {} line {}",
                    v["type"].as_str().unwrap(),
                    v["field"].as_str().unwrap(),
                    v["source"]["line"]
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(scan("a.log", Some(&state)).is_empty());
    assert!(state.exists());
    // Without the state, b.log is a new site still learning: the change goes unseen.
    assert!(scan("b.log", None).is_empty());
    // With it, the change is reported on the line where it appears, once.
    let found = scan("b.log", Some(&state));
    assert_eq!(
        found,
        vec![
            "new_field udff[ph] line 3",
            "new_pii hashed_pii/phone line 3"
        ],
        "{found:?}"
    );
    // And not again after a restart.
    assert!(scan("b.log", Some(&state)).is_empty());
}
