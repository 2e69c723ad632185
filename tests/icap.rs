//! The ICAP service as a proxy meets it: the real binary on loopback, spoken to over TCP.
//! One persistent connection carrying OPTIONS, a pixel REQMOD and a previewed non-pixel POST;
//! a malformed message answered with an ICAP error and its connection closed while other
//! connections go on; a body past the limit passing unexamined and counted; strip and block
//! answers; and `run` hosting the same service from its `[icap]` settings. (Squid in front:
//! tests/e2e/icap_squid.sh.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HASH: &str = "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Service {
    child: Child,
    port: u16,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(port: u16) {
    let until = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn icap(args: &[&str]) -> Service {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_pixelwarden"))
        .arg("icap")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .env("PIXELWARDEN_FINGERPRINT_KEY", "icap-test-key")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = Service { child, port };
    wait_for(port);
    s
}

/// A REQMOD with the encapsulated HTTP head and, when given, a chunked body (whole, or a
/// preview of `preview` bytes).
fn reqmod(port: u16, http_head: &str, body: Option<&[u8]>, preview: Option<usize>) -> Vec<u8> {
    let mut head = format!(
        "REQMOD icap://127.0.0.1:{port}/pixelwarden ICAP/1.0\r\nHost: 127.0.0.1:{port}\r\n\
         Allow: 204\r\nX-Client-IP: 10.9.8.7\r\n"
    );
    if let Some(p) = preview {
        head.push_str(&format!("Preview: {p}\r\n"));
    }
    match body {
        Some(_) => head.push_str(&format!(
            "Encapsulated: req-hdr=0, req-body={}\r\n\r\n",
            http_head.len()
        )),
        None => head.push_str(&format!(
            "Encapsulated: req-hdr=0, null-body={}\r\n\r\n",
            http_head.len()
        )),
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(http_head.as_bytes());
    if let Some(b) = body {
        let first = preview.map_or(b.len(), |p| p.min(b.len()));
        if first > 0 {
            out.extend_from_slice(format!("{first:x}\r\n").as_bytes());
            out.extend_from_slice(&b[..first]);
            out.extend_from_slice(b"\r\n");
        }
        if preview.is_some() && first == b.len() {
            out.extend_from_slice(b"0; ieof\r\n\r\n");
        } else {
            out.extend_from_slice(b"0\r\n\r\n");
        }
    }
    out
}

/// One ICAP response: the head, and the encapsulated part (HTTP head and de-chunked body).
struct Answer {
    status: u16,
    head: String,
    http: String,
    body: Vec<u8>,
}

/// Lines up to and including the empty one; `None` if the connection ends first.
fn read_head(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some(head);
        }
    }
}

fn read_answer(r: &mut BufReader<TcpStream>) -> Option<Answer> {
    let head = read_head(r)?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let enc = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("encapsulated:"))
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut http = String::new();
    let mut body = Vec::new();
    if enc.contains("req-hdr") || enc.contains("res-hdr") {
        http = read_head(r)?;
    }
    if enc.contains("-body=") && !enc.contains("null-body") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if n == 0 {
                let mut end = String::new();
                r.read_line(&mut end).ok()?;
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Answer {
        status,
        head,
        http,
        body,
    })
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

fn findings(path: &Path, want: usize) -> Vec<serde_json::Value> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let v: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if v.len() >= want || Instant::now() > until {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn metric(port: u16, name: &str, label: &str) -> f64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn meta_get(extra: &str) -> String {
    format!(
        "GET https://www.facebook.com/tr/?id=4242&ev=Purchase&ud[em]={HASH}{extra} HTTP/1.1\r\n\
         Host: www.facebook.com\r\nUser-Agent: test\r\n\r\n"
    )
}

#[test]
fn one_connection_carries_options_a_pixel_and_a_previewed_non_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.jsonl");
    let svc = icap(&["--findings-file", out.to_str().unwrap()]);
    let (mut w, mut r) = connect(svc.port);

    write!(
        w,
        "OPTIONS icap://127.0.0.1:{}/pixelwarden ICAP/1.0\r\nHost: x\r\n\r\n",
        svc.port
    )
    .unwrap();
    let a = read_answer(&mut r).expect("OPTIONS answered");
    assert_eq!(a.status, 200, "{}", a.head);
    for h in [
        "Methods: REQMOD",
        "ISTag:",
        "Preview:",
        "Allow: 204",
        "Max-Connections:",
    ] {
        assert!(a.head.contains(h), "OPTIONS lacks {h}: {}", a.head);
    }

    w.write_all(&reqmod(svc.port, &meta_get(""), None, None))
        .unwrap();
    let a = read_answer(&mut r).expect("pixel REQMOD answered");
    assert_eq!(a.status, 204, "monitor passes the request: {}", a.head);

    // Not a pixel: decided on the preview, the rest of the body never asked for.
    let post = "POST https://shop.example.se/api/cart HTTP/1.1\r\nHost: shop.example.se\r\n\
                Content-Type: application/json\r\nContent-Length: 40\r\n\r\n";
    let body = br#"{"email":"anna@example.se","qty":1234567}"#;
    w.write_all(&reqmod(svc.port, post, Some(&body[..]), Some(8)))
        .unwrap();
    let a = read_answer(&mut r).expect("previewed REQMOD answered");
    assert_eq!(a.status, 204, "{}", a.head);

    // Still the same connection.
    w.write_all(&reqmod(svc.port, &meta_get("&cd[value]=1"), None, None))
        .unwrap();
    assert_eq!(read_answer(&mut r).unwrap().status, 204);

    let f = findings(&out, 2);
    assert_eq!(f.len(), 2, "one finding per pixel request: {f:?}");
    for x in &f {
        assert_eq!(x["format"], "icap");
        assert_eq!(x["vendor"], "meta");
        assert_eq!(x["type"], "email");
        assert_eq!(x["source"]["client_ip"], "10.9.8.7");
        assert!(x["source"]["icap_client"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"));
        assert!(x.get("action").is_none(), "monitor takes no action");
        assert!(
            !x.to_string().contains(HASH),
            "the hash is evidence, redacted"
        );
    }
}

#[test]
fn a_malformed_message_closes_only_its_own_connection() {
    let mport = free_port();
    let svc = icap(&["--metrics-listen", &format!("127.0.0.1:{mport}")]);
    wait_for(mport);
    let (mut good, mut good_r) = connect(svc.port);
    let (mut bad, mut bad_r) = connect(svc.port);
    bad.write_all(b"HELLO WORLD\r\nthis is not ICAP\r\n\r\n")
        .unwrap();
    let a = read_answer(&mut bad_r).expect("an ICAP error, not silence");
    assert!(
        (400..600).contains(&a.status),
        "an ICAP error status: {}",
        a.head
    );
    let mut rest = Vec::new();
    assert_eq!(
        bad_r.read_to_end(&mut rest).unwrap_or(0),
        0,
        "the connection is closed"
    );
    // A chunk size that is not hex, on a pixel request.
    let (mut bad2, mut bad2_r) = connect(svc.port);
    let post = "POST https://www.facebook.com/tr/ HTTP/1.1\r\nHost: www.facebook.com\r\n\r\n";
    let mut msg = reqmod(svc.port, post, Some(b"x"), None);
    let cut = msg.len() - b"1\r\nx\r\n0\r\n\r\n".len();
    msg.truncate(cut);
    msg.extend_from_slice(b"zz\r\nx\r\n0\r\n\r\n");
    bad2.write_all(&msg).unwrap();
    assert!(read_answer(&mut bad2_r).is_some_and(|a| a.status >= 400));

    // The other connection is still served.
    good.write_all(&reqmod(svc.port, &meta_get(""), None, None))
        .unwrap();
    assert_eq!(read_answer(&mut good_r).unwrap().status, 204);
    assert!(metric(mport, "pixelwarden_icap_requests_total", "error") >= 2.0);
}

#[test]
fn a_body_past_the_limit_passes_unexamined_and_is_counted() {
    let mport = free_port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.jsonl");
    let svc = icap(&[
        "--max-body-bytes",
        "1024",
        "--findings-file",
        out.to_str().unwrap(),
        "--metrics-listen",
        &format!("127.0.0.1:{mport}"),
    ]);
    wait_for(mport);
    let mut body = format!("ud[em]={HASH}&ev=Purchase&pad=").into_bytes();
    body.resize(4096, b'a');
    let post = format!(
        "POST https://www.facebook.com/tr/ HTTP/1.1\r\nHost: www.facebook.com\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (mut w, mut r) = connect(svc.port);
    w.write_all(&reqmod(svc.port, &post, Some(&body), None))
        .unwrap();
    let a = read_answer(&mut r).unwrap();
    assert_eq!(a.status, 204, "fail open: {}", a.head);
    assert_eq!(
        metric(
            mport,
            "pixelwarden_icap_fail_open_total",
            "reason=\"too_large\""
        ),
        1.0
    );
    // A body within the limit on the same connection is inspected.
    let small = format!("ud[em]={HASH}&ev=Purchase");
    let post = format!(
        "POST https://www.facebook.com/tr/ HTTP/1.1\r\nHost: www.facebook.com\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        small.len()
    );
    w.write_all(&reqmod(svc.port, &post, Some(small.as_bytes()), None))
        .unwrap();
    assert_eq!(read_answer(&mut r).unwrap().status, 204);
    assert_eq!(findings(&out, 1).len(), 1);
}

#[test]
fn strip_hands_back_a_valid_request_and_block_a_403() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.jsonl");
    let svc = icap(&["--mode", "strip", "--findings-file", out.to_str().unwrap()]);
    let (mut w, mut r) = connect(svc.port);
    let body = format!(
        r#"{{"data":[{{"event_name":"Purchase","user_data":{{"em":["{HASH}"],"client_user_agent":"x"}},"custom_data":{{"value":10}}}}]}}"#
    );
    let post = format!(
        "POST https://graph.facebook.com/v19.0/1234/events?access_token=EAAB HTTP/1.1\r\n\
         Host: graph.facebook.com\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    w.write_all(&reqmod(svc.port, &post, Some(body.as_bytes()), None))
        .unwrap();
    let a = read_answer(&mut r).unwrap();
    assert_eq!(a.status, 200, "{}", a.head);
    assert!(a.http.starts_with("POST "), "{}", a.http);
    let sent: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert!(!String::from_utf8_lossy(&a.body).contains(HASH));
    assert_eq!(sent["data"][0]["custom_data"]["value"], 10);
    assert!(
        a.http
            .contains(&format!("Content-Length: {}\r\n", a.body.len())),
        "Content-Length fixed: {}",
        a.http
    );
    let f = findings(&out, 1);
    assert!(f.iter().any(|x| x["action"] == "stripped"), "{f:?}");
    drop(svc);

    let svc = icap(&["--mode", "block"]);
    let (mut w, mut r) = connect(svc.port);
    w.write_all(&reqmod(svc.port, &meta_get(""), None, None))
        .unwrap();
    let a = read_answer(&mut r).unwrap();
    assert_eq!(a.status, 200, "{}", a.head);
    assert!(a.http.starts_with("HTTP/1.1 403"), "{}", a.http);
    assert!(String::from_utf8_lossy(&a.body).contains("pixelwarden"));
}

#[test]
fn run_serves_icap_from_its_settings() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let icap_out = dir.path().join("icap.jsonl");
    let cfg = dir.path().join("pixelwarden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[icap]\nlisten = \"127.0.0.1:{port}\"\nfindings_file = \"{}\"\n\n[metrics]\nlisten = \"127.0.0.1:{}\"\n",
            icap_out.display(),
            free_port()
        ),
    )
    .unwrap();
    // No brokers: the embedded demo cluster, so the Kafka half has work too.
    let child = Command::new(env!("CARGO_BIN_EXE_pixelwarden"))
        .args(["run", "--config", cfg.to_str().unwrap(), "--findings-file"])
        .arg(dir.path().join("kafka.jsonl"))
        .env("PIXELWARDEN_FINGERPRINT_KEY", "icap-test-key")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let svc = Service { child, port };
    wait_for(port);
    let (mut w, mut r) = connect(port);
    w.write_all(&reqmod(port, &meta_get(""), None, None))
        .unwrap();
    assert_eq!(read_answer(&mut r).unwrap().status, 204);
    let f = findings(&icap_out, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["format"], "icap");
    assert!(
        !findings(&dir.path().join("kafka.jsonl"), 1).is_empty(),
        "the Kafka half runs beside it"
    );
    drop(svc);
}

#[test]
fn sighup_starts_a_new_findings_file_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.jsonl");
    let svc = icap(&["--findings-file", out.to_str().unwrap()]);
    let (mut w, mut r) = connect(svc.port);
    w.write_all(&reqmod(svc.port, &meta_get("&n=1"), None, None))
        .unwrap();
    assert_eq!(read_answer(&mut r).unwrap().status, 204);
    assert_eq!(findings(&out, 1).len(), 1);
    // Rotation: move the file away, then SIGHUP.
    let rotated = dir.path().join("f.jsonl.1");
    std::fs::rename(&out, &rotated).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &svc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(600));
    w.write_all(&reqmod(svc.port, &meta_get("&n=2"), None, None))
        .unwrap();
    assert_eq!(read_answer(&mut r).unwrap().status, 204);
    assert_eq!(
        findings(&out, 1).len(),
        1,
        "the new file has the new finding"
    );
    assert_eq!(findings(&rotated, 1).len(), 1, "the old one kept its own");
}
