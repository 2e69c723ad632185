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
    // Enough that the first instance is stopped with messages left, and few enough that the
    // mock cluster keeps them all (it drops old segments past 5 MB per partition).
    const N: usize = 30_000;
    produce(&cluster, 0, N).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.jsonl");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let brokers = cluster.bootstrap_servers();
    let mut cfg = config(&file, "g3");
    // Findings reach the file at the first commit: make it early, and stop right then.
    cfg.commit_interval_ms = 50;
    // Small batches and a low in-flight cap keep intake at the workers' pace.
    cfg.batch_size = 50;
    cfg.queue = 100;
    let first = tokio::spawn(serve(cfg.clone(), brokers.clone(), 30.0, rx));
    // Stop as soon as some findings are on disk.
    for _ in 0..4000 {
        // Count complete lines only: the service may be in the middle of writing one.
        let written = std::fs::read(&file)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if written > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tx.send(true).unwrap();
    let first = first.await.unwrap();
    assert!(
        (first.messages as usize) < N,
        "stopped mid-stream ({} messages)",
        first.messages
    );
    eprintln!("first instance: {first:?}");
    let second = serve(cfg, brokers, 2.0, never()).await;
    let (set, lines) = covered(&file);
    eprintln!("second instance: {second:?}");
    assert_eq!(
        set.len(),
        N,
        "every message's finding is there at least once"
    );
    assert!(
        lines - N <= first.messages as usize,
        "duplicates bounded by what was in flight: {}",
        lines - N
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

/// A Meta hit from one of seven sites, keyed by site (as the drift design asks), two seconds
/// of event time apart; `extra` adds query parameters.
fn site_line(i: usize, extra: &str) -> (String, String) {
    let site = format!("shop{}.example.se", i % 7);
    let line = format!(
        "{}.000     12 10.0.0.{} TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=42&ev=PageView&dl=https%3A%2F%2F{site}%2F&udff[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6{extra} - HIER_DIRECT/1.2.3.4 image/gif",
        1_709_539_200 + 2 * i,
        i % 250 + 1,
    );
    (site, line)
}

/// Produce `lines` keyed by site; the offsets they landed at.
async fn produce_keyed(brokers: &str, lines: &[(String, String)]) -> Vec<(i32, i64)> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let mut pending = Vec::new();
    for (key, payload) in lines {
        pending.push(
            producer
                .send_result(FutureRecord::to(TOPIC).key(key).payload(payload))
                .map_err(|(e, _)| e)
                .unwrap(),
        );
    }
    let mut at = Vec::new();
    for f in pending {
        let d = f.await.unwrap().map_err(|(e, _)| e).unwrap();
        at.push((d.partition, d.offset));
    }
    at
}

/// Anomaly records in the findings file: (type, partition, offset).
fn anomalies(path: &Path) -> Vec<(String, i64, i64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["class"] == "anomaly")
        .map(|v| {
            (
                v["type"].as_str().unwrap().to_string(),
                v["source"]["partition"].as_i64().unwrap(),
                v["source"]["offset"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn drift_across_restart(state_topic: &str) -> (Vec<(String, i64, i64)>, (i32, i64)) {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 3, 1).unwrap();
    if !state_topic.is_empty() {
        // The mock cluster does not implement CreateTopics: create it the mock's way.
        cluster.create_topic(state_topic, 1, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.jsonl");
    let mut cfg = config(&file, "drift");
    cfg.drift.enabled = true;
    cfg.drift.learning_hours = 1;
    cfg.drift.state_topic = state_topic.into();
    // About 1 h 40 min of event time: past every site's learning hour.
    let first: Vec<_> = (0..3000).map(|i| site_line(i, "")).collect();
    produce_keyed(&brokers, &first).await;
    let a = serve(cfg.clone(), brokers.clone(), 2.0, never()).await;
    assert_eq!(a.messages, 3000);
    assert!(
        anomalies(&file).is_empty(),
        "stable traffic: {:?}",
        anomalies(&file)
    );
    // A new instance (as after a crash or a rebalance): more of the same, then one site starts
    // sending a hashed phone number: advanced matching switched on.
    let mut second: Vec<_> = (3000..3500).map(|i| site_line(i, "")).collect();
    second.push(site_line(
        3500,
        "&udff[ph]=d36e83082288d9f2c98b3f3f87cd317a31e95527cb09972090d3456a7430ad4d",
    ));
    second.extend((3501..3700).map(|i| site_line(i, "")));
    let at = produce_keyed(&brokers, &second).await;
    let b = serve(cfg, brokers, 2.0, never()).await;
    assert_eq!(b.messages, 700);
    (anomalies(&file), at[500])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_baselines_follow_partitions_through_the_state_topic() {
    let (found, (partition, offset)) = drift_across_restart("pixelwarden-drift-state").await;
    assert!(!found.is_empty(), "the switch must be reported");
    for (kind, p, o) in &found {
        assert_eq!(
            (*p as i32, *o),
            (partition, offset),
            "{kind} reported on another record"
        );
    }
    let kinds: BTreeSet<&str> = found.iter().map(|(k, _, _)| k.as_str()).collect();
    assert!(kinds.contains("new_field"), "{kinds:?}");
    assert_eq!(found.len(), kinds.len(), "each change once: {found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_state_topic_a_new_instance_learns_again() {
    // The contrast: no false anomalies either, but the switch goes unnoticed (learning).
    let (found, _) = drift_across_restart("").await;
    assert!(found.is_empty(), "{found:?}");
}
