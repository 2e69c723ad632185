//! The streaming service (`pixelwarden run`): Kafka consumer group in, findings out, metrics
//! and health endpoints; the same [`Engine`] as `scan`.
//!
//! Flow: the async loop receives messages and hands each to the worker thread that owns its
//! partition (so per-partition order, parser state and drift state stay on one thread, and
//! detection never runs on the async executor). Workers return finding records; the loop writes
//! them to every sink and marks the message finished in the [`watermark::Watermarks`]. On a
//! timer, on partition revoke and on shutdown the sinks are flushed and synced, and only then
//! the contiguous watermarks are committed: at least once, end to end. Bounded queues give
//! backpressure all the way to the consumer.

pub mod alerts;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod watermark;

use crate::format::{Format, LineParser};
use crate::limits::Limits;
use crate::pipeline::{Engine, Scanner, Stats};
use crate::redact::{FindingRecord, Redactor};
use crate::request::Origin;
use anyhow::{Context as _, Result};
use metrics::Metrics;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use watermark::Watermarks;

/// `pixelwarden.toml` (see deploy/pixelwarden.toml for a commented example).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    pub kafka: KafkaConfig,
    pub sinks: SinkConfig,
    pub metrics: MetricsConfig,
    pub limits: Limits,
    pub drift: DriftConfig,
    pub alerts: alerts::AlertConfig,
    /// Detection threads (0: one per core).
    pub workers: usize,
    /// Messages queued per worker before the consumer waits (backpressure).
    pub queue: usize,
    /// How often processed offsets are committed.
    pub commit_interval_ms: u64,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            kafka: KafkaConfig::default(),
            sinks: SinkConfig::default(),
            metrics: MetricsConfig::default(),
            limits: Limits::default(),
            drift: DriftConfig::default(),
            alerts: alerts::AlertConfig::default(),
            workers: 0,
            queue: 1024,
            commit_interval_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `host:port,...`; none: the embedded demo cluster.
    pub brokers: Option<String>,
    pub group: String,
    pub topics: Vec<TopicConfig>,
    /// Format of topics that do not name one.
    pub format: Option<String>,
    /// Where a group without committed offsets starts: `earliest` or `latest`.
    pub start: String,
    /// librdkafka properties passed through (SASL, TLS, timeouts...).
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: None,
            group: "pixelwarden".into(),
            topics: Vec::new(),
            format: None,
            start: "earliest".into(),
            properties: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    pub name: String,
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinkConfig {
    /// JSON-lines file, flushed and synced before the offsets it covers are committed (`-`: stdout).
    pub findings_file: Option<PathBuf>,
    /// Kafka topic for findings (idempotent producer, keyed by site).
    pub findings_topic: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of `/metrics`, `/healthz`, `/readyz`.
    pub listen: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: Some("127.0.0.1:9464".into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    pub enabled: bool,
    pub learning_hours: i64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            enabled: true,
            learning_hours: 24,
        }
    }
}

impl ServiceConfig {
    pub fn load(path: &std::path::Path) -> Result<ServiceConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))
    }

    /// Topic → format, checked.
    pub fn topic_formats(&self) -> Result<Vec<(String, Format)>> {
        if self.kafka.topics.is_empty() {
            anyhow::bail!("no topics configured (--topic NAME[:FORMAT] or [[kafka.topics]])");
        }
        self.kafka
            .topics
            .iter()
            .map(|t| {
                let name = t
                    .format
                    .as_deref()
                    .or(self.kafka.format.as_deref())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "topic `{}` has no format (give --format or NAME:FORMAT)",
                            t.name
                        )
                    })?;
                let format: Format = name
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("topic `{}`: {e}", t.name))?;
                if format == Format::Har {
                    anyhow::bail!("topic `{}`: HAR is not a message format", t.name);
                }
                Ok((t.name.clone(), format))
            })
            .collect()
    }
}

/// One Kafka message for a worker.
struct Job {
    topic: Arc<str>,
    partition: i32,
    offset: i64,
    format: Format,
    payload: Vec<u8>,
    received: Instant,
}

/// What a worker made of one message.
struct Done {
    topic: Arc<str>,
    partition: i32,
    offset: i64,
    records: Vec<FindingRecord>,
    received: Instant,
}

/// Everything the rebalance callback needs to commit before partitions are taken away.
struct Shared {
    watermarks: Watermarks,
    sinks: Sinks,
}

struct Sinks {
    file: Option<Box<dyn Write + Send>>,
    file_path: Option<PathBuf>,
    file_handle: Option<std::fs::File>,
    producer: Option<(FutureProducer, String)>,
}

impl Sinks {
    fn open(cfg: &SinkConfig, brokers: &str, props: &BTreeMap<String, String>) -> Result<Sinks> {
        let (file, file_handle): (Option<Box<dyn Write + Send>>, Option<std::fs::File>) =
            match &cfg.findings_file {
                Some(p) if p.as_os_str() == "-" => (Some(Box::new(std::io::stdout())), None),
                Some(p) => {
                    let f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .with_context(|| format!("{}: cannot open", p.display()))?;
                    let handle = f.try_clone()?;
                    (
                        Some(Box::new(std::io::BufWriter::with_capacity(1 << 16, f))),
                        Some(handle),
                    )
                }
                None => (None, None),
            };
        let producer = match &cfg.findings_topic {
            Some(topic) => {
                let mut c = ClientConfig::new();
                for (k, v) in props {
                    c.set(k, v);
                }
                c.set("bootstrap.servers", brokers)
                    .set("enable.idempotence", "true")
                    .set("acks", "all");
                Some((
                    c.create::<FutureProducer>()
                        .context("cannot create the findings producer")?,
                    topic.clone(),
                ))
            }
            None => None,
        };
        Ok(Sinks {
            file,
            file_path: cfg.findings_file.clone(),
            file_handle,
            producer,
        })
    }

    fn write_file(&mut self, records: &[FindingRecord]) -> std::io::Result<()> {
        if let Some(w) = self.file.as_mut() {
            for r in records {
                serde_json::to_writer(&mut *w, r)?;
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Flush and fsync: after this, everything written survives a crash.
    fn sync(&mut self) -> std::io::Result<()> {
        if let Some(w) = self.file.as_mut() {
            w.flush()?;
        }
        if let Some(h) = &self.file_handle {
            h.sync_data()?;
        }
        Ok(())
    }
}

struct ServiceContext {
    shared: Arc<Mutex<Shared>>,
    metrics: Arc<Metrics>,
}

impl ClientContext for ServiceContext {}

impl ConsumerContext for ServiceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            // Commit what is done for the partitions we lose, after syncing the sinks.
            let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = shared.sinks.sync() {
                tracing::warn!(target: "pixelwarden::service", "sink sync before revoke failed: {e}");
                return;
            }
            let mut commit = TopicPartitionList::new();
            for e in tpl.elements() {
                let _ = self
                    .metrics
                    .consumer_lag
                    .remove_label_values(&[e.topic(), &e.partition().to_string()]);
                if let Some(off) = shared.watermarks.revoke(e.topic(), e.partition()) {
                    let _ =
                        commit.add_partition_offset(e.topic(), e.partition(), Offset::Offset(off));
                }
            }
            if commit.count() > 0 {
                match consumer.commit(&commit, CommitMode::Sync) {
                    Ok(()) => self.metrics.commits.inc(),
                    Err(e) => {
                        tracing::warn!(target: "pixelwarden::service", "commit on revoke failed: {e}")
                    }
                }
            }
            self.metrics.assigned.sub(tpl.count() as i64);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            self.metrics.assigned.add(tpl.count() as i64);
            tracing::info!(target: "pixelwarden::service", "assigned {} partitions", tpl.count());
        }
    }
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct RunReport {
    pub messages: u64,
    pub findings: u64,
    pub commits: u64,
}

/// Options that are not configuration: how long to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop after this long without a message and nothing in flight (tests, demo, batch runs).
    pub exit_when_idle: Option<Duration>,
}

/// What a running service shares with its surroundings.
#[derive(Clone)]
pub struct Handles {
    pub engine: Arc<Engine>,
    pub redactor: Redactor,
    pub metrics: Arc<Metrics>,
    /// Set while consuming (`/readyz`).
    pub ready: Arc<AtomicBool>,
}

/// Run until `shutdown` fires (or idle, with `exit_when_idle`); commits on the way out.
pub async fn run(
    cfg: ServiceConfig,
    brokers: String,
    handles: Handles,
    opts: RunOptions,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<RunReport> {
    let Handles {
        engine,
        redactor,
        metrics,
        ready,
    } = handles;
    let vendors: Vec<&str> = engine.recognizer.vendors.iter().map(|v| &*v.id).collect();
    metrics.preset(&vendors);
    let topics = cfg.topic_formats()?;
    let formats: HashMap<String, Format> = topics.iter().cloned().collect();
    let shared = Arc::new(Mutex::new(Shared {
        watermarks: Watermarks::default(),
        sinks: Sinks::open(&cfg.sinks, &brokers, &cfg.kafka.properties)?,
    }));
    let mut client = ClientConfig::new();
    for (k, v) in &cfg.kafka.properties {
        client.set(k, v);
    }
    client
        .set("bootstrap.servers", &brokers)
        .set("group.id", &cfg.kafka.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", &cfg.kafka.start)
        .set("enable.partition.eof", "false");
    let consumer: StreamConsumer<ServiceContext> = client
        .create_with_context(ServiceContext {
            shared: shared.clone(),
            metrics: metrics.clone(),
        })
        .context("cannot create the Kafka consumer")?;
    let names: Vec<&str> = topics.iter().map(|(t, _)| t.as_str()).collect();
    consumer.subscribe(&names).context("cannot subscribe")?;

    // Workers: one thread each, partitions pinned by number.
    let workers = if cfg.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        cfg.workers
    };
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(cfg.queue.max(1) * workers);
    let mut job_txs = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..workers {
        let (tx, rx) = mpsc::channel::<Job>(cfg.queue.max(1));
        job_txs.push(tx);
        let engine = engine.clone();
        let redactor = redactor.clone();
        let metrics = metrics.clone();
        let done_tx = done_tx.clone();
        let drift = cfg.drift.clone();
        threads.push(std::thread::spawn(move || {
            worker(&engine, redactor, &metrics, drift, rx, done_tx)
        }));
    }
    drop(done_tx);

    let mut alerter = if cfg.alerts.enabled() {
        let alerter = alerts::Alerter::new(&cfg.alerts)
            .map_err(|e| anyhow::anyhow!("alerts.min_severity: {e}"))?;
        Some((
            alerter,
            alerts::Delivery::new(cfg.alerts.clone(), metrics.clone())?,
        ))
    } else {
        None
    };
    ready.store(true, Ordering::Relaxed);
    let mut report = RunReport::default();
    let mut tick = tokio::time::interval(Duration::from_millis(cfg.commit_interval_ms.max(50)));
    let mut last_message = Instant::now();
    let mut lag_at = Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            msg = consumer.recv() => {
                let m = match msg {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(target: "pixelwarden::service", "consumer error: {e}");
                        continue;
                    }
                };
                last_message = Instant::now();
                report.messages += 1;
                let topic: Arc<str> = Arc::from(m.topic());
                let format = formats.get(m.topic()).copied().unwrap_or(Format::Squid);
                let job = Job { topic: topic.clone(), partition: m.partition(), offset: m.offset(), format, payload: m.payload().unwrap_or_default().to_vec(), received: Instant::now() };
                shared.lock().unwrap_or_else(|p| p.into_inner()).watermarks.start(&topic, m.partition(), m.offset());
                metrics.in_flight.inc();
                let w = (m.partition().unsigned_abs() as usize) % job_txs.len();
                if job_txs[w].send(job).await.is_err() {
                    anyhow::bail!("a detection worker stopped");
                }
            }
                        Some(done) = done_rx.recv() => {
                if let Some((alerter, delivery)) = alerter.as_mut() {
                    let due = alerter.observe(&done.records, chrono::Utc::now());
                    let delivery = delivery.clone();
                    tokio::spawn(async move { delivery.send(due).await });
                }
                finish(&shared, &metrics, done, &mut report).await?;
            }
            _ = tick.tick() => {
                                commit(&consumer, &shared, &metrics, CommitMode::Async, &mut report)?;
                if let Some((alerter, delivery)) = alerter.as_mut() {
                    let due = alerter.tick(chrono::Utc::now());
                    let delivery = delivery.clone();
                    tokio::spawn(async move { delivery.send(due).await });
                }
                if lag_at.elapsed() > Duration::from_secs(10) {
                    lag_at = Instant::now();
                    update_lag(&consumer, &shared, &metrics);
                }
                                if metrics.assigned.get() == 0 {
                    // Not idle while the group is still forming.
                    last_message = Instant::now();
                }
                if let Some(idle) = opts.exit_when_idle {
                    let in_flight = shared.lock().unwrap_or_else(|p| p.into_inner()).watermarks.in_flight();
                    if in_flight == 0 && last_message.elapsed() >= idle {
                        break;
                    }
                }
            }
        }
    }
    // Drain: no more messages; let workers finish what they have, write it, commit it.
    ready.store(false, Ordering::Relaxed);
    drop(job_txs);
    while let Some(done) = done_rx.recv().await {
        if let Some((alerter, delivery)) = alerter.as_mut() {
            delivery
                .send(alerter.observe(&done.records, chrono::Utc::now()))
                .await;
        }
        finish(&shared, &metrics, done, &mut report).await?;
    }
    for h in threads {
        let _ = h.join();
    }
    commit(&consumer, &shared, &metrics, CommitMode::Sync, &mut report)?;
    Ok(report)
}

async fn finish(
    shared: &Arc<Mutex<Shared>>,
    metrics: &Metrics,
    done: Done,
    report: &mut RunReport,
) -> Result<()> {
    // The Kafka sink first (awaited), then the file; the message is finished only after both.
    let producer = shared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .sinks
        .producer
        .clone();
    if let Some((producer, topic)) = producer {
        for r in &done.records {
            let payload = serde_json::to_vec(r)?;
            let key = r.site.clone().unwrap_or_default();
            let record = FutureRecord::to(&topic).key(&key).payload(&payload);
            if let Err((e, _)) = producer.send(record, Duration::from_secs(30)).await {
                metrics.sink_errors.with_label_values(&["kafka"]).inc();
                anyhow::bail!("findings topic `{topic}`: {e}");
            }
        }
    }
    let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(e) = s.sinks.write_file(&done.records) {
        metrics.sink_errors.with_label_values(&["file"]).inc();
        return Err(e).context(format!("findings file {:?}", s.sinks.file_path));
    }
    s.watermarks
        .finish(&done.topic, done.partition, done.offset);
    metrics.in_flight.dec();
    metrics
        .processing
        .observe(done.received.elapsed().as_secs_f64());
    report.findings += done.records.len() as u64;
    Ok(())
}

fn commit(
    consumer: &StreamConsumer<ServiceContext>,
    shared: &Arc<Mutex<Shared>>,
    metrics: &Metrics,
    mode: CommitMode,
    report: &mut RunReport,
) -> Result<()> {
    let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
    let pending = s.watermarks.take_commits();
    if pending.is_empty() {
        return Ok(());
    }
    // Findings covered by these offsets must be on disk before the offsets are committed.
    s.sinks.sync().context("cannot sync the findings file")?;
    drop(s);
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in &pending {
        tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    // On shutdown there is no next tick: retry here a few times.
    let attempts = if matches!(mode, CommitMode::Sync) {
        6
    } else {
        1
    };
    for attempt in 1..=attempts {
        match consumer.commit(&tpl, mode) {
            Ok(()) => {
                metrics.commits.inc();
                report.commits += 1;
                return Ok(());
            }
            Err(e) if attempt < attempts => {
                tracing::debug!(target: "pixelwarden::service", "offset commit failed, retrying: {e}");
                std::thread::sleep(Duration::from_millis(100 << attempt));
            }
            Err(e) => {
                tracing::warn!(target: "pixelwarden::service", "offset commit failed (retried later): {e}")
            }
        }
    }
    // Hand the offsets out again so the next tick retries them even without new progress.
    shared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .watermarks
        .retry(&pending);
    Ok(())
}

fn update_lag(
    consumer: &StreamConsumer<ServiceContext>,
    shared: &Arc<Mutex<Shared>>,
    metrics: &Metrics,
) {
    let Ok(assignment) = consumer.assignment() else {
        return;
    };
    for e in assignment.elements() {
        let high = tokio::task::block_in_place(|| {
            consumer.fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(1))
        });
        if let Ok((_, high)) = high {
            let at = shared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .watermarks
                .committable(e.topic(), e.partition());
            let lag = at.map_or(0, |c| (high - c).max(0));
            metrics
                .consumer_lag
                .with_label_values(&[e.topic(), &e.partition().to_string()])
                .set(lag);
        }
    }
}

fn worker(
    engine: &Engine,
    redactor: Redactor,
    metrics: &Metrics,
    drift: DriftConfig,
    mut rx: mpsc::Receiver<Job>,
    done: mpsc::Sender<Done>,
) {
    let mut scanner = Scanner::new(engine, redactor);
    if drift.enabled {
        scanner.drift = Some(crate::drift::Drift::new(crate::drift::DriftLimits {
            learning_hours: drift.learning_hours,
            ..Default::default()
        }));
    }
    let mut parsers: HashMap<(Arc<str>, i32), LineParser> = HashMap::new();
    let mut seen = Stats::default();
    while let Some(job) = rx.blocking_recv() {
        let origin = Origin::Kafka {
            topic: job.topic.clone(),
            partition: job.partition,
            offset: job.offset,
        };
        let parser = parsers
            .entry((job.topic.clone(), job.partition))
            .or_insert_with(|| LineParser::new(job.format));
        let mut records = Vec::new();
        for line in job.payload.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            // A skipped line is counted in the scanner's stats, exported below.
            if let Ok(r) = scanner.line(parser, line, &origin) {
                records.extend(r);
            }
        }
        export(&scanner.stats, &mut seen, metrics, job.format);
        for r in &records {
            metrics
                .findings
                .with_label_values(&[&r.vendor, r.class.as_str(), &r.kind, r.severity.as_str()])
                .inc();
            if r.class.as_str() == "anomaly" {
                metrics.anomalies.with_label_values(&[&r.kind]).inc();
            }
            if let Some(ts) = r.ts.as_deref().and_then(crate::request::parse_iso) {
                let lag = (chrono::Utc::now() - ts).num_milliseconds() as f64 / 1000.0;
                metrics
                    .event_lag
                    .with_label_values(&[job.format.as_str()])
                    .observe(lag.max(0.0));
            }
        }
        let d = Done {
            topic: job.topic,
            partition: job.partition,
            offset: job.offset,
            records,
            received: job.received,
        };
        if done.blocking_send(d).is_err() {
            return;
        }
    }
}

/// Move counter deltas from the scanner's stats into the metrics.
fn export(now: &Stats, seen: &mut Stats, m: &Metrics, format: Format) {
    let delta = now.records - seen.records;
    if delta > 0 {
        m.records
            .with_label_values(&["kafka", format.as_str()])
            .inc_by(delta);
    }
    for (reason, n) in &now.skipped {
        let before = seen.skipped.get(reason).copied().unwrap_or(0);
        if *n > before {
            m.invalid
                .with_label_values(&[reason.as_str()])
                .inc_by(n - before);
        }
    }
    for (vendor, n) in &now.beacons_by_vendor {
        let before = seen.beacons_by_vendor.get(vendor).copied().unwrap_or(0);
        if *n > before {
            m.beacons.with_label_values(&[vendor]).inc_by(n - before);
        }
    }
    seen.records = now.records;
    seen.skipped = now.skipped.clone();
    seen.beacons_by_vendor = now.beacons_by_vendor.clone();
}
