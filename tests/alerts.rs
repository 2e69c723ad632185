//! Alerts end to end: the service posts deduplicated, redacted alerts to a real Alertmanager
//! (Debian's prometheus-alertmanager, started here on loopback); the webhook retries with backoff
//! and dead-letters what it cannot deliver.

mod common;

use pixelwarden::service::alerts::{AlertConfig, Alerter, Delivery};
use pixelwarden::service::metrics::Metrics;
use pixelwarden::service::{run, Handles, RunOptions, ServiceConfig, TopicConfig};
use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const HASH: &str = "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_a_real_alertmanager() {
    let bin = "/usr/bin/prometheus-alertmanager";
    if !std::path::Path::new(bin).exists() {
        eprintln!("skipping: {bin} is not installed (apt-get install prometheus-alertmanager)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("am.yml"),
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let port = free_port();
    let _am = Child(
        std::process::Command::new(bin)
            .arg(format!(
                "--config.file={}",
                dir.path().join("am.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("{base}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("egress", 2, 1).unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .create()
        .unwrap();
    for i in 0..40 {
        let line = format!(
            "{}.000 1 10.0.0.1 TCP_MISS/200 1 GET https://www.facebook.com/tr/?id=9&ev=Lead&dl=https%3A%2F%2Fshop{}.example.se%2F&udff[em]={HASH} - HIER_DIRECT/x -",
            1_709_539_200 + i,
            i % 2
        );
        producer
            .send(
                FutureRecord::to("egress").key("k").payload(&line),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    let mut cfg = ServiceConfig::default();
    cfg.kafka.group = "alerts".into();
    cfg.kafka.topics = vec![TopicConfig {
        name: "egress".into(),
        format: Some("squid".into()),
    }];
    cfg.metrics.listen = None;
    cfg.alerts.alertmanager_url = Some(base.clone());
    let metrics = Arc::new(Metrics::new());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let handles = Handles {
        engine: Arc::new(common::engine()),
        redactor: pixelwarden::redact::Redactor::new([5; 32], false),
        metrics: metrics.clone(),
        ready: Arc::new(AtomicBool::new(false)),
    };
    let report = run(
        cfg,
        cluster.bootstrap_servers(),
        handles,
        RunOptions {
            exit_when_idle: Some(Duration::from_secs(2)),
        },
        rx,
    )
    .await
    .unwrap();
    assert_eq!(report.messages, 40);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts: serde_json::Value = client
        .get(format!("{base}/api/v2/alerts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ours: Vec<&serde_json::Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["labels"]["alertname"] == "PixelwardenFinding")
        .collect();
    assert_eq!(
        ours.len(),
        2,
        "one alert per site, deduplicated: {alerts:#}"
    );
    for a in &ours {
        assert_eq!(a["labels"]["vendor"], "meta");
        assert_eq!(a["labels"]["class"], "hashed_pii");
        assert!(a["labels"]["site"]
            .as_str()
            .unwrap()
            .ends_with(".example.se"));
        let text = a.to_string();
        assert!(!text.contains(HASH), "no full hash in an alert");
        assert!(a["annotations"]["evidence"]
            .as_str()
            .unwrap()
            .contains("7ad5bc…"));
    }
    assert_eq!(
        metrics
            .alerts_sent
            .with_label_values(&["alertmanager"])
            .get(),
        2
    );
}

/// A webhook receiver that fails `failures` times, then accepts; returns what it received.
fn receiver(failures: usize) -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { return };
            let mut buf = vec![0u8; 65536];
            let got = s.read(&mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..got]).to_string();
            let status = if n < failures {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            if n >= failures {
                let _ = tx.send(text);
            }
        }
    });
    (port, rx)
}

fn findings() -> Vec<pixelwarden::redact::FindingRecord> {
    let engine = common::engine();
    let mut scanner = pixelwarden::pipeline::Scanner::new(
        &engine,
        pixelwarden::redact::Redactor::new([1; 32], false),
    );
    let mut req = pixelwarden::request::Request {
        method: "GET".into(),
        ..Default::default()
    };
    req.set_url(&format!("https://www.facebook.com/tr/?id=9&ev=Lead&dl=https%3A%2F%2Fshop.example.se%2F&udff[em]={HASH}"));
    scanner.request(
        &req,
        &pixelwarden::request::Origin::Line {
            path: "t".into(),
            line: 1,
        },
        pixelwarden::format::Format::Squid,
    )
}

#[tokio::test]
async fn webhook_retries_with_backoff() {
    let (port, received) = receiver(2);
    let metrics = Arc::new(Metrics::new());
    let cfg = AlertConfig {
        webhook_url: Some(format!("http://127.0.0.1:{port}/hook")),
        ..AlertConfig::default()
    };
    let mut alerter = Alerter::new(&cfg).unwrap();
    let due = alerter.observe(&findings(), chrono::Utc::now());
    Delivery::new(cfg, metrics.clone()).unwrap().send(due).await;
    let body = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        body.contains("pixelwarden.alert/v1") && body.contains("\"status\":\"firing\""),
        "{body}"
    );
    assert!(!body.contains(HASH));
    assert_eq!(metrics.alerts_sent.with_label_values(&["webhook"]).get(), 1);
    assert_eq!(
        metrics.alerts_failed.with_label_values(&["webhook"]).get(),
        0
    );
}

#[tokio::test]
async fn undeliverable_webhook_alerts_go_to_the_dead_letter_file() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("dead.jsonl");
    let metrics = Arc::new(Metrics::new());
    let cfg = AlertConfig {
        webhook_url: Some(format!("http://127.0.0.1:{}/hook", free_port())),
        webhook_dead_letter: Some(dead.clone()),
        ..AlertConfig::default()
    };
    let mut alerter = Alerter::new(&cfg).unwrap();
    let due = alerter.observe(&findings(), chrono::Utc::now());
    Delivery::new(cfg, metrics.clone()).unwrap().send(due).await;
    let text = std::fs::read_to_string(&dead).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("PixelwardenFinding") && !text.contains(HASH));
    assert_eq!(
        metrics.alerts_failed.with_label_values(&["webhook"]).get(),
        1
    );
}
