//! The streaming service against librdkafka's mock cluster (a real Kafka protocol endpoint in
//! process): group consumption across partitions, findings to a file and a topic, restart without
//! loss, a rebalance between two consumers, a broker down and up, injected commit errors.
//!
//! Every message carries one Meta hit with a hashed e-mail, so each must yield exactly one
//! finding whose `source` names its partition and offset.

mod common;

use pixelwarden::service::metrics::Metrics;
use pixelwarden::service::{run, Handles, RunOptions, ServiceConfig, TopicConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const TOPIC: &str = "egress";

fn line(i: usize) -> String {
    format!(
        "{}.000     12 10.0.0.{} TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=1&ev=Lead&ts={i}&dl=https%3A%2F%2Fshop{}.example.se%2F&udff[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6 - HIER_DIRECT/1.2.3.4 image/gif",
        1_709_539_200 + i,
        i % 250 + 1,
        i % 7
    )
}

async fn produce(
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    from: usize,
    to: usize,
) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .create()
        .unwrap();
    // Enqueue everything, then wait for every delivery.
    let mut pending = Vec::new();
    for i in from..to {
        let (key, payload) = (format!("k{i}"), line(i));
        let future = producer
            .send_result(FutureRecord::to(TOPIC).key(&key).payload(&payload))
            .map_err(|(e, _)| e)
            .unwrap();
        pending.push(future);
    }
    for f in pending {
        f.await.unwrap().map_err(|(e, _)| e).unwrap();
    }
}

fn config(findings: &Path, group: &str) -> ServiceConfig {
    let mut cfg = ServiceConfig::default();
    cfg.kafka.group = group.into();
    cfg.kafka.topics = vec![TopicConfig {
        name: TOPIC.into(),
        format: Some("squid".into()),
    }];
    cfg.sinks.findings_file = Some(findings.to_path_buf());
    cfg.metrics.listen = None;
    cfg.drift.enabled = false;
    cfg.workers = 2;
    cfg.commit_interval_ms = 200;
    cfg
}

async fn serve(
    cfg: ServiceConfig,
    brokers: String,
    idle: f64,
    stop: tokio::sync::watch::Receiver<bool>,
) -> pixelwarden::service::RunReport {
    let engine = Arc::new(common::engine());
    let redactor = pixelwarden::redact::Redactor::new([3; 32], false);
    let opts = RunOptions {
        exit_when_idle: Some(Duration::from_secs_f64(idle)),
    };
    let handles = Handles {
        engine,
        redactor,
        metrics: Arc::new(Metrics::new()),
        ready: Arc::new(AtomicBool::new(false)),
    };
    run(cfg, brokers, handles, opts, stop).await.unwrap()
}

/// (partition, offset) of every finding in the file, and how many lines it has.
fn covered(path: &Path) -> (BTreeSet<(i64, i64)>, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut set = BTreeSet::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["source"]["topic"], TOPIC);
        set.insert((
            v["source"]["partition"].as_i64().unwrap(),
            v["source"]["offset"].as_i64().unwrap(),
        ));
    }
    (set, text.lines().count())
}

fn committed(brokers: &str, group: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(TOPIC), Duration::from_secs(5))
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition(TOPIC, p.id());
    }
    let offsets = c.committed_offsets(tpl, Duration::from_secs(5)).unwrap();
    offsets
        .elements()
        .iter()
        .map(|e| e.offset().to_raw().unwrap_or(0).max(0))
        .sum()
}

fn never() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(tx);
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_consumes_every_partition_and_commits_what_it_wrote() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 3, 1).unwrap();
    produce(&cluster, 0, 300).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.jsonl");
    let report = serve(
        config(&file, "g1"),
        cluster.bootstrap_servers(),
        2.0,
        never(),
    )
    .await;
    let (set, lines) = covered(&file);
    assert_eq!(report.messages, 300);
    assert_eq!(set.len(), 300, "every message has its finding");
    assert_eq!(lines, 300);
    assert_eq!(
        set.iter().map(|(p, _)| *p).collect::<BTreeSet<_>>().len(),
        3,
        "all partitions"
    );
    assert_eq!(
        committed(&cluster.bootstrap_servers(), "g1"),
        300,
        "offsets committed to the end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_continues_without_loss() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 3, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.jsonl");
    produce(&cluster, 0, 200).await;
    serve(
        config(&file, "g2"),
        cluster.bootstrap_servers(),
        2.0,
        never(),
    )
    .await;
    // Stopped; more traffic arrives; a new instance of the same group picks up where it was.
    produce(&cluster, 200, 400).await;
    let second = serve(
        config(&file, "g2"),
        cluster.bootstrap_servers(),
        2.0,
        never(),
    )
    .await;
    let (set, lines) = covered(&file);
    assert_eq!(set.len(), 400, "nothing lost across the restart");
    assert_eq!(
        second.messages, 200,
        "committed messages are not read again"
    );
    assert_eq!(lines, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_stream_then_restart_loses_nothing() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 3, 1).unwrap();
    produce(&cluster, 0, 3000).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.jsonl");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let brokers = cluster.bootstrap_servers();
    let cfg = config(&file, "g3");
    let first = tokio::spawn(serve(cfg.clone(), brokers.clone(), 30.0, rx));
    // Stop as soon as some findings are on disk.
    for _ in 0..200 {
        // Count complete lines only: the service may be in the middle of writing one.
        let written = std::fs::read(&file)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if written > 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tx.send(true).unwrap();
    let first = first.await.unwrap();
    assert!(
        first.messages < 3000,
        "stopped mid-stream ({} messages)",
        first.messages
    );
    serve(cfg, brokers, 2.0, never()).await;
    let (set, lines) = covered(&file);
    assert_eq!(
        set.len(),
        3000,
        "every message's finding is there at least once"
    );
    assert!(
        lines - 3000 <= first.messages as usize,
        "duplicates bounded by what was in flight: {}",
        lines - 3000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consumers_share_the_partitions() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 4, 1).unwrap();
    produce(&cluster, 0, 800).await;
    let dir = tempfile::tempdir().unwrap();
    let (fa, fb) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let brokers = cluster.bootstrap_servers();
    let a = tokio::spawn(serve(config(&fa, "g4"), brokers.clone(), 4.0, never()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = tokio::spawn(serve(config(&fb, "g4"), brokers.clone(), 4.0, never()));
    let (ra, rb) = (a.await.unwrap(), b.await.unwrap());
    let (sa, _) = covered(&fa);
    let (sb, _) = covered(&fb);
    let all: BTreeSet<_> = sa.union(&sb).cloned().collect();
    assert_eq!(
        all.len(),
        800,
        "a {} + b {} messages",
        ra.messages,
        rb.messages
    );
    assert_eq!(committed(&brokers, "g4"), 800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_and_up_and_commit_errors_lose_nothing() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 3, 3).unwrap();
    produce(&cluster, 0, 300).await;
    // The first commits fail; they are retried at the next tick.
    cluster.request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        ],
    );
    cluster.broker_down(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.jsonl");
    let brokers = cluster.bootstrap_servers();
    let handle = tokio::spawn(serve(config(&file, "g5"), brokers.clone(), 3.0, never()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.broker_up(2).unwrap();
    handle.await.unwrap();
    let (set, _) = covered(&file);
    assert_eq!(set.len(), 300);
    assert_eq!(
        committed(&brokers, "g5"),
        300,
        "commits retried after the injected errors"
    );
}

#[test]
fn the_example_config_in_deploy_parses() {
    let path = common::root().join("deploy/pixelwarden.toml");
    let cfg = ServiceConfig::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(!cfg.topic_formats().unwrap().is_empty());
    assert!(cfg.alerts.alertmanager_url.is_some());
}
