//! The streaming service (`pixelwarden run`): Kafka consumer group in, findings out, metrics
//! and health endpoints; the same [`Engine`] as `scan`.
//!
//! Flow: one coordinator thread polls the consumer (no async hop per message) and packs
//! messages into batches, one per detection worker; a partition is pinned to one worker, so
//! per-partition order, parser and drift state stay on one thread. Workers hand back finding
//! records per batch; the coordinator writes them to every sink and marks the batch's offset
//! ranges finished in the [`watermark::Watermarks`]. On a timer, on partition revoke and on
//! shutdown the sinks are made durable (file flushed and fsynced, producers flushed and every
//! delivery acknowledged), and only then the contiguous watermarks are committed: at least once,
//! end to end. A cap on messages in flight gives backpressure all the way to the consumer.
//! Drift baselines follow partitions through a compacted state topic ([`state`]).

pub mod alerts;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod sinks;
pub mod state;
pub mod watermark;
pub mod worker;

use crate::format::Format;
use crate::limits::Limits;
use crate::pipeline::Engine;
use crate::redact::Redactor;
use anyhow::{Context as _, Result};
use metrics::Metrics;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Deserialize;
use sinks::SinkFailure;
use sinks::Sinks;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use watermark::Watermarks;
use worker::{Batch, Out, Work};

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
    /// Messages in flight per worker before the consumer stops polling (backpressure).
    pub queue: usize,
    /// Messages per batch handed to a worker.
    pub batch_size: usize,
    /// How often processed offsets are committed.
    pub commit_interval_ms: u64,
    /// An ICAP service in the same process (`[icap]`, as `pixelwarden icap`), sharing the
    /// metrics endpoint and the alert settings; its findings go to `icap.findings_file` and the
    /// findings topic.
    pub icap: Option<crate::icap::IcapConfig>,
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
            queue: 20_000,
            batch_size: 1000,
            commit_interval_ms: 1000,
            icap: None,
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
    /// Bootstrap servers of the cluster the findings topic lives on, when it is not the one
    /// the egress is read from (a SIEM's cluster). Default: the input cluster.
    pub findings_brokers: Option<String>,
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
    /// Compacted topic where per-partition baselines are snapshotted so that they follow
    /// partitions across rebalances and restarts (empty: none; baselines are then relearned).
    pub state_topic: String,
    /// How often baselines are snapshotted (they are also snapshotted on revoke and shutdown).
    pub snapshot_interval_seconds: u64,
    /// Largest state-topic message; bigger snapshots are cut into chunks.
    pub snapshot_chunk_bytes: usize,
    /// Largest decompressed snapshot accepted on restore.
    pub snapshot_max_bytes: usize,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            enabled: true,
            learning_hours: 24,
            state_topic: "pixelwarden-drift-state".into(),
            snapshot_interval_seconds: 60,
            snapshot_chunk_bytes: 512 * 1024,
            snapshot_max_bytes: 1 << 30,
        }
    }
}

impl ServiceConfig {
    pub fn load(path: &std::path::Path) -> Result<ServiceConfig> {
        Self::layered(Some(path), std::iter::empty(), &[])
    }

    /// The file (if any), then `PIXELWARDEN__SECTION__KEY=value` environment variables, then
    /// `--set section.key=value` flags: every setting can come from any of the three.
    pub fn layered(
        path: Option<&std::path::Path>,
        env: impl Iterator<Item = (String, String)>,
        sets: &[String],
    ) -> Result<ServiceConfig> {
        let mut root = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("{}: cannot read", path.display()))?;
                toml::from_str::<toml::Table>(&text).map_err(|e| {
                    anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end())
                })?
            }
            None => toml::Table::new(),
        };
        for (k, v) in env {
            if let Some(rest) = k.strip_prefix("PIXELWARDEN__") {
                let dotted = rest.to_ascii_lowercase().replace("__", ".");
                set_path(&mut root, &dotted, &v)
                    .with_context(|| format!("environment variable {k}"))?;
            }
        }
        for s in sets {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--set {s}: expected PATH=VALUE"))?;
            set_path(&mut root, k.trim(), v).with_context(|| format!("--set {s}"))?;
        }
        let origin = path.map_or("settings".to_string(), |p| p.display().to_string());
        ServiceConfig::deserialize(toml::Value::Table(root))
            .map_err(|e| anyhow::anyhow!("{origin}: {}", e.to_string().trim_end()))
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

/// Set `a.b.c` in a TOML table. Values are read as TOML (numbers, booleans, arrays) and
/// otherwise taken as strings. Under `kafka.properties` the rest of the path is one key, as
/// librdkafka property names contain dots.
fn set_path(root: &mut toml::Table, path: &str, value: &str) -> Result<()> {
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let parts: Vec<&str> = match path.strip_prefix("kafka.properties.") {
        Some(prop) => vec!["kafka", "properties", prop],
        None => path.split('.').collect(),
    };
    if parts.iter().any(|p| p.is_empty()) {
        anyhow::bail!("`{path}` is not a setting path");
    }
    let (last, parents) = parts.split_last().expect("non-empty");
    let mut table = root;
    for p in parents {
        let entry = table
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| anyhow::anyhow!("`{p}` in `{path}` is not a section"))?;
    }
    // Properties are strings to librdkafka, whatever they look like.
    let value = if parents == ["kafka", "properties"] {
        toml::Value::String(value.to_string())
    } else {
        parsed
    };
    table.insert(last.to_string(), value);
    Ok(())
}

/// The offsets `first..=last` of one partition, handed out and finished as a unit.
#[derive(Debug, Clone)]
pub struct Position {
    pub topic: Arc<str>,
    pub partition: i32,
    pub first: i64,
    pub last: i64,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct RunReport {
    pub messages: u64,
    pub findings: u64,
    pub commits: u64,
    pub snapshots: u64,
    /// From the first message received to the last one whose findings every sink accepted.
    pub first_message: Option<Instant>,
    pub last_finished: Option<Instant>,
}

impl RunReport {
    /// Messages per second between the first message and the last finished one.
    pub fn rate(&self) -> Option<(Duration, f64)> {
        let busy = self
            .last_finished?
            .checked_duration_since(self.first_message?)?;
        (!busy.is_zero()).then(|| (busy, self.messages as f64 / busy.as_secs_f64()))
    }
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

/// How long revoke and shutdown wait for in-flight work before giving up on it (it is then
/// not committed, and read again by the next owner).
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// The coordinator's state, shared with the rebalance callbacks (which run inside `poll`, on
/// the same thread; the lock is never held across `poll`).
struct Core {
    watermarks: Watermarks,
    sinks: Sinks,
    workers: Vec<Sender<Work>>,
    outputs: Receiver<Out>,
    /// The batch being filled for each worker.
    pending: Vec<Batch>,
    batch_size: usize,
    /// Messages handed out and not yet finished.
    in_flight: usize,
    snapshots_pending: usize,
    metrics: Arc<Metrics>,
    report: RunReport,
    alerter: Option<alerts::Alerter>,
    alert_tx: Option<tokio::sync::mpsc::UnboundedSender<Vec<alerts::Alert>>>,
    state: Option<state::StateStore>,
    drift: DriftConfig,
    /// The partitions assigned to this instance, each with the lowest offset not yet handed out.
    assigned: Vec<(Arc<str>, i32, i64)>,
    topics: HashMap<String, (Arc<str>, Format)>,
    /// An error raised inside a rebalance callback, returned by the main loop.
    fatal: Option<anyhow::Error>,
    /// After shutdown the callbacks (run again when the consumer closes) do nothing.
    closed: bool,
    buf: Vec<u8>,
    /// Since when a sink could not make its writes durable (disk full, broker away): the
    /// assigned partitions are paused and every commit tick retries the sync.
    stalled: Option<Instant>,
    last_stall_log: Option<Instant>,
    /// `/readyz`: false while stalled.
    ready: Arc<AtomicBool>,
}

impl Core {
    fn worker_of(&self, partition: i32) -> usize {
        partition.unsigned_abs() as usize % self.workers.len()
    }

    fn dispatch(&mut self, topic: &str, partition: i32, offset: i64, payload: &[u8]) -> Result<()> {
        // Only messages of partitions we own, each offset once: a message delivered after its
        // partition was revoked, or delivered again (a fetch rewound), is not handed out a
        // second time, so a watermark never covers work that is still to be done.
        let Some(next) = self
            .assigned
            .iter_mut()
            .find(|(t, p, _)| *p == partition && &**t == topic)
            .map(|(_, _, n)| n)
        else {
            self.metrics
                .not_dispatched
                .with_label_values(&["not_assigned"])
                .inc();
            return Ok(());
        };
        if offset < *next {
            self.metrics
                .not_dispatched
                .with_label_values(&["redelivered"])
                .inc();
            return Ok(());
        }
        *next = offset + 1;
        let Some((name, format)) = self.topics.get(topic) else {
            anyhow::bail!("message from unsubscribed topic `{topic}`");
        };
        let (name, format) = (name.clone(), *format);
        let w = self.worker_of(partition);
        self.pending[w].push(&name, partition, offset, format, payload);
        self.in_flight += 1;
        self.report.messages += 1;
        if self.report.first_message.is_none() {
            self.report.first_message = Some(Instant::now());
        }
        self.metrics.in_flight.inc();
        if self.pending[w].len() >= self.batch_size {
            self.send_batch(w)?;
        }
        Ok(())
    }

    fn send_batch(&mut self, w: usize) -> Result<()> {
        if self.pending[w].is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending[w]);
        let positions = batch.positions();
        for p in &positions {
            self.watermarks
                .start_range(&p.topic, p.partition, p.first, p.last);
        }
        self.workers[w]
            .send(Work::Batch(batch, positions, Instant::now()))
            .map_err(|_| anyhow::anyhow!("a detection worker stopped"))
    }

    fn send_all(&mut self) -> Result<()> {
        for w in 0..self.workers.len() {
            self.send_batch(w)?;
        }
        Ok(())
    }

    /// Take what the workers finished; wait up to `wait` for the first one.
    fn drain(&mut self, wait: Duration) -> Result<usize> {
        let mut n = 0;
        if !wait.is_zero() {
            match self.outputs.recv_timeout(wait) {
                Ok(out) => {
                    self.take(out)?;
                    n += 1;
                }
                Err(RecvTimeoutError::Timeout) => return Ok(0),
                Err(RecvTimeoutError::Disconnected) => {
                    anyhow::bail!("the detection workers stopped")
                }
            }
        }
        while let Ok(out) = self.outputs.try_recv() {
            self.take(out)?;
            n += 1;
        }
        Ok(n)
    }

    fn take(&mut self, out: Out) -> Result<()> {
        match out {
            Out::Done {
                positions,
                messages,
                records,
                received,
            } => {
                if let (Some(alerter), Some(tx)) = (self.alerter.as_mut(), self.alert_tx.as_ref()) {
                    let due = alerter.observe(&records, chrono::Utc::now());
                    if !due.is_empty() {
                        let _ = tx.send(due);
                    }
                }
                if let Err((sink, e)) = self.sinks.write(&records, &mut self.buf) {
                    // Serialising or enqueueing failed outright (not a full disk: the file
                    // keeps what it cannot write yet).
                    self.metrics.sink_errors.with_label_values(&[sink]).inc();
                    return Err(e.context(format!("findings sink `{sink}`")));
                }
                for p in &positions {
                    self.watermarks.finish(&p.topic, p.partition, p.first);
                }
                self.in_flight -= messages;
                self.metrics.in_flight.sub(messages as i64);
                self.metrics
                    .processing
                    .observe(received.elapsed().as_secs_f64());
                self.report.findings += records.len() as u64;
                self.report.last_finished = Some(Instant::now());
            }
            Out::Snapshot((topic, partition), bytes) => {
                self.snapshots_pending = self.snapshots_pending.saturating_sub(1);
                if let (Some(store), Some(bytes)) = (&self.state, bytes) {
                    store.save(&topic, partition, &bytes)?;
                    self.report.snapshots += 1;
                    self.metrics.snapshots.inc();
                    self.metrics.snapshot_bytes.set(bytes.len() as i64);
                }
            }
        }
        Ok(())
    }

    /// Ask the owning workers for snapshots of these partitions and wait for them.
    fn snapshot(&mut self, partitions: &[(String, i32)], release: bool) -> Result<()> {
        if !self.drift.enabled || (self.state.is_none() && !release) {
            return Ok(());
        }
        for (topic, partition) in partitions {
            let tp: worker::Tp = (Arc::from(topic.as_str()), *partition);
            let w = self.worker_of(*partition);
            if self.workers[w].send(Work::Snapshot(tp, release)).is_ok() {
                self.snapshots_pending += 1;
            }
        }
        let deadline = Instant::now() + DRAIN_LIMIT;
        while self.snapshots_pending > 0 && Instant::now() < deadline {
            self.drain(Duration::from_millis(100))?;
        }
        Ok(())
    }

    /// Make the sinks durable, then commit the watermarks that moved. A sink that stalls
    /// (disk full, findings broker away) pauses consumption instead of ending the run; the
    /// next tick retries, and nothing is committed meanwhile.
    fn commit(&mut self, consumer: &BaseConsumer<ServiceContext>, mode: CommitMode) -> Result<()> {
        // The last (synchronous) commit covers every partition: the failure of an earlier
        // asynchronous commit may still be on its way back through the commit callback.
        let pending = if matches!(mode, CommitMode::Sync) {
            self.watermarks.take_all_commits()
        } else {
            self.watermarks.take_commits()
        };
        if pending.is_empty() && self.stalled.is_none() {
            return Ok(());
        }
        match self.sinks.sync() {
            Ok(()) => self.unstall(consumer),
            Err(SinkFailure::Stalled(sink, e)) if !matches!(mode, CommitMode::Sync) => {
                self.watermarks.retry(&pending);
                self.stall(consumer, sink, &e);
                return Ok(());
            }
            Err(f) => {
                let sink = f.sink();
                self.metrics.sink_errors.with_label_values(&[sink]).inc();
                return Err(f.into_error().context(format!(
                    "findings sink `{sink}` could not make its writes durable; offsets not committed"
                )));
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        tracing::debug!(target: "pixelwarden::service", "committing {pending:?}");
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
                    self.metrics.commits.inc();
                    self.report.commits += 1;
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
        self.watermarks.retry(&pending);
        Ok(())
    }

    fn stall(
        &mut self,
        consumer: &BaseConsumer<ServiceContext>,
        sink: &'static str,
        e: &anyhow::Error,
    ) {
        let now = Instant::now();
        if self.stalled.is_none() {
            self.stalled = Some(now);
            self.metrics.sink_stalls.with_label_values(&[sink]).inc();
            self.metrics.sink_stalled.set(1);
            self.ready.store(false, Ordering::Relaxed);
        }
        // Partitions assigned since the stall began are paused too.
        if let Ok(tpl) = consumer.assignment() {
            let _ = consumer.pause(&tpl);
        }
        self.metrics
            .pending_bytes
            .set(self.sinks.pending_bytes() as i64);
        if self
            .last_stall_log
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(30))
        {
            self.last_stall_log = Some(now);
            tracing::warn!(target: "pixelwarden::service", event = "sink_stalled", sink,
                pending_bytes = self.sinks.pending_bytes(),
                "findings sink `{sink}` cannot make its writes durable ({e:#}); consumption paused, retrying every commit tick");
        }
    }

    fn unstall(&mut self, consumer: &BaseConsumer<ServiceContext>) {
        let Some(since) = self.stalled.take() else {
            return;
        };
        self.last_stall_log = None;
        if let Ok(tpl) = consumer.assignment() {
            let _ = consumer.resume(&tpl);
        }
        self.metrics.sink_stalled.set(0);
        self.metrics.pending_bytes.set(0);
        self.ready.store(true, Ordering::Relaxed);
        tracing::warn!(target: "pixelwarden::service", event = "sink_recovered",
            "findings sinks durable again after {:.1} s; consumption resumed", since.elapsed().as_secs_f64());
    }

    /// SIGHUP: make the findings durable, then start a new findings file at the same path.
    fn reopen(&mut self) -> Result<()> {
        if let Err(f) = self.sinks.sync() {
            tracing::warn!(target: "pixelwarden::service", "SIGHUP: findings not yet durable ({:#}); reopening anyway, pending findings go to the new file", f.into_error());
        }
        self.sinks.reopen()?;
        self.metrics.reopens.inc();
        tracing::warn!(target: "pixelwarden::service", event = "findings_file_reopened", "SIGHUP: findings file reopened");
        Ok(())
    }

    /// Partitions are being taken away: finish their work, snapshot their baselines, commit.
    fn revoke(
        &mut self,
        consumer: &BaseConsumer<ServiceContext>,
        tpl: &TopicPartitionList,
    ) -> Result<()> {
        let lost: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        self.send_all()?;
        let deadline = Instant::now() + DRAIN_LIMIT;
        while lost
            .iter()
            .any(|(t, p)| self.watermarks.in_flight_of(t, *p) > 0)
            && Instant::now() < deadline
        {
            self.drain(Duration::from_millis(100))?;
        }
        self.snapshot(&lost, true)?;
        let durable = match self.sinks.sync() {
            Ok(()) => true,
            // Not durable now: the revoked partitions are not committed, so their next owner
            // reads the uncommitted records again (duplicates, never a loss).
            Err(SinkFailure::Stalled(sink, e)) => {
                tracing::warn!(target: "pixelwarden::service", sink, "revoke while stalled: not committing the revoked partitions ({e:#})");
                false
            }
            Err(f) => {
                let sink = f.sink();
                self.metrics.sink_errors.with_label_values(&[sink]).inc();
                return Err(f
                    .into_error()
                    .context(format!("findings sink `{sink}` failed before a revoke")));
            }
        };
        let mut commit = TopicPartitionList::new();
        for (topic, partition) in &lost {
            let _ = self
                .metrics
                .consumer_lag
                .remove_label_values(&[topic, &partition.to_string()]);
            // Still in flight after the limit: not committed, the next owner reads it again.
            if let Some(off) = self.watermarks.revoke(topic, *partition) {
                if durable {
                    commit.add_partition_offset(topic, *partition, Offset::Offset(off))?;
                }
            }
            self.assigned
                .retain(|(t, p, _)| !(*p == *partition && &**t == topic.as_str()));
        }
        tracing::debug!(target: "pixelwarden::service", "revoked {lost:?}, committing {:?}", commit.to_topic_map());
        if commit.count() > 0 {
            match consumer.commit(&commit, CommitMode::Sync) {
                Ok(()) => {
                    self.metrics.commits.inc();
                    self.report.commits += 1;
                }
                Err(e) => {
                    tracing::warn!(target: "pixelwarden::service", "commit on revoke failed: {e}")
                }
            }
        }
        self.metrics.assigned.set(self.assigned.len() as i64);
        Ok(())
    }

    /// Partitions were assigned: restore their baselines before any of their messages.
    fn assign(&mut self, tpl: &TopicPartitionList) -> Result<()> {
        let got: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        let snapshots = match (&self.state, self.drift.enabled) {
            (Some(store), true) => match store.load(&got) {
                Ok(s) => s,
                Err(e) => {
                    // Without its baseline a partition learns again: no false anomalies, but
                    // nothing new is reported until its learning window has passed.
                    tracing::warn!(target: "pixelwarden::service", "drift state not restored: {e:#}");
                    self.metrics.snapshot_errors.inc();
                    HashMap::new()
                }
            },
            _ => HashMap::new(),
        };
        for tp in &got {
            let baseline = match snapshots.get(tp) {
                Some(bytes) => match state::decode(bytes, self.drift.snapshot_max_bytes) {
                    Ok(s) => {
                        self.metrics.restores.inc();
                        Some(Box::new(s))
                    }
                    Err(e) => {
                        tracing::warn!(target: "pixelwarden::service", topic = tp.0, partition = tp.1, "drift snapshot unreadable, learning again: {e:#}");
                        self.metrics.snapshot_errors.inc();
                        None
                    }
                },
                None => None,
            };
            let w = self.worker_of(tp.1);
            self.workers[w]
                .send(Work::Restore((Arc::from(tp.0.as_str()), tp.1), baseline))
                .map_err(|_| anyhow::anyhow!("a detection worker stopped"))?;
            if !self
                .assigned
                .iter()
                .any(|(t, p, _)| *p == tp.1 && &**t == tp.0.as_str())
            {
                self.assigned
                    .push((Arc::from(tp.0.as_str()), tp.1, i64::MIN));
            }
        }
        self.metrics.assigned.set(self.assigned.len() as i64);
        tracing::info!(target: "pixelwarden::service", "assigned {} partitions ({} baselines restored)", got.len(), snapshots.len());
        Ok(())
    }

    fn assigned_partitions(&self) -> Vec<(String, i32)> {
        self.assigned
            .iter()
            .map(|(t, p, _)| (t.to_string(), *p))
            .collect()
    }

    /// Consumer lag per assigned partition from librdkafka's cached high watermarks.
    fn update_lag(&self, consumer: &BaseConsumer<ServiceContext>) {
        for (topic, partition, _) in &self.assigned {
            if let Some(high) = cached_high_watermark(consumer, topic, *partition) {
                let at = self.watermarks.committable(topic, *partition);
                let lag = at.map_or(0, |c| (high - c).max(0));
                self.metrics
                    .consumer_lag
                    .with_label_values(&[&**topic, &partition.to_string()])
                    .set(lag);
            }
        }
    }
}

/// librdkafka's cached high watermark (from the last fetch response): no network round trip.
fn cached_high_watermark(
    consumer: &BaseConsumer<ServiceContext>,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let topic = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is valid while `consumer` lives; the topic is a NUL-terminated
    // string that outlives the call; `low` and `high` are valid for writes.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|p| p.into_inner())
}

struct ServiceContext {
    core: Arc<Mutex<Core>>,
}

impl ClientContext for ServiceContext {}

impl ConsumerContext for ServiceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let mut core = lock(&self.core);
            if core.closed {
                return;
            }
            if let Err(e) = core.revoke(consumer, tpl) {
                core.fatal.get_or_insert(e);
            }
        }
    }

    /// Timer commits are asynchronous: a failure comes back here, and the offsets are handed
    /// out again so the next tick commits them even when nothing new finished.
    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        offsets: &TopicPartitionList,
    ) {
        if let Err(e) = result {
            let mut core = lock(&self.core);
            core.metrics.commit_errors.inc();
            tracing::warn!(target: "pixelwarden::service", "offset commit failed (retried at the next tick): {e}");
            let failed: Vec<((String, i32), i64)> = offsets
                .elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some(((e.topic().to_string(), e.partition()), o)),
                    _ => None,
                })
                .collect();
            core.watermarks.retry(&failed);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let mut core = lock(&self.core);
            if core.closed {
                return;
            }
            if let Err(e) = core.assign(tpl) {
                core.fatal.get_or_insert(e);
            }
        }
    }
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
    let findings_brokers = cfg
        .sinks
        .findings_brokers
        .clone()
        .unwrap_or_else(|| brokers.clone());
    let mut sinks = Sinks::open(&cfg.sinks, &findings_brokers, &cfg.kafka.properties)?;
    let state = if cfg.drift.enabled && !cfg.drift.state_topic.is_empty() {
        let store = state::StateStore::open(
            &cfg.drift.state_topic,
            &cfg.kafka.group,
            &brokers,
            &cfg.kafka.properties,
            cfg.drift.snapshot_chunk_bytes,
        )
        .await?;
        sinks.state = Some(store.producer());
        Some(store)
    } else {
        None
    };

    // Alerts: deduplicated on the coordinator, delivered on the async runtime.
    let (alerter, alert_tx, delivery_task) = if cfg.alerts.enabled() {
        let alerter = alerts::Alerter::new(&cfg.alerts)
            .map_err(|e| anyhow::anyhow!("alerts.min_severity: {e}"))?;
        let delivery = alerts::Delivery::new(cfg.alerts.clone(), metrics.clone())?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<alerts::Alert>>();
        let task = tokio::spawn(async move {
            let mut sending = tokio::task::JoinSet::new();
            while let Some(due) = rx.recv().await {
                let d = delivery.clone();
                sending.spawn(async move { d.send(due).await });
                while sending.try_join_next().is_some() {}
            }
            while sending.join_next().await.is_some() {}
        });
        (Some(alerter), Some(tx), Some(task))
    } else {
        (None, None, None)
    };

    // Workers: one thread each, partitions pinned by number.
    let n_workers = if cfg.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        cfg.workers
    };
    let (out_tx, out_rx) = std::sync::mpsc::channel::<Out>();
    let mut worker_txs = Vec::new();
    let mut threads = Vec::new();
    for i in 0..n_workers {
        let (tx, rx) = std::sync::mpsc::channel::<Work>();
        worker_txs.push(tx);
        let engine = engine.clone();
        let redactor = redactor.clone();
        let metrics = metrics.clone();
        let out_tx = out_tx.clone();
        let drift = cfg.drift.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("pw-detect-{i}"))
                .spawn(move || worker::run(&engine, redactor, &metrics, drift, rx, out_tx))?,
        );
    }
    drop(out_tx);

    let core = Arc::new(Mutex::new(Core {
        watermarks: Watermarks::default(),
        sinks,
        workers: worker_txs,
        outputs: out_rx,
        pending: (0..n_workers).map(|_| Batch::new()).collect(),
        batch_size: cfg.batch_size.max(1),
        in_flight: 0,
        snapshots_pending: 0,
        metrics: metrics.clone(),
        report: RunReport::default(),
        alerter,
        alert_tx,
        state,
        drift: cfg.drift.clone(),
        assigned: Vec::new(),
        topics: topics
            .iter()
            .map(|(t, f)| (t.clone(), (Arc::from(t.as_str()), *f)))
            .collect(),
        fatal: None,
        closed: false,
        buf: Vec::new(),
        stalled: None,
        last_stall_log: None,
        ready: ready.clone(),
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
    let consumer: BaseConsumer<ServiceContext> = client
        .create_with_context(ServiceContext { core: core.clone() })
        .context("cannot create the Kafka consumer")?;
    let names: Vec<&str> = topics.iter().map(|(t, _)| t.as_str()).collect();
    consumer.subscribe(&names).context("cannot subscribe")?;

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while shutdown.changed().await.is_ok() {
                if *shutdown.borrow() {
                    break;
                }
            }
            // Fired, or the sender is gone (treated as "run until idle").
            if *shutdown.borrow() {
                stop.store(true, Ordering::Relaxed);
            }
        })
    };
    // SIGHUP: reopen the findings file (log rotation), between two loop iterations.
    let reopen = Arc::new(AtomicBool::new(false));
    let hangup = {
        let reopen = reopen.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                reopen.store(true, Ordering::Relaxed);
            }
        })
    };
    ready.store(true, Ordering::Relaxed);
    let loop_cfg = LoopConfig {
        max_in_flight: cfg.queue.max(1) * n_workers,
        poll_budget: cfg.batch_size.max(1) * n_workers,
        commit_every: Duration::from_millis(cfg.commit_interval_ms.max(50)),
        snapshot_every: Duration::from_secs(cfg.drift.snapshot_interval_seconds.max(1)),
        idle: opts.exit_when_idle,
    };
    let result = {
        let core = core.clone();
        tokio::task::spawn_blocking(move || {
            let r = coordinate(&consumer, &core, &stop, &reopen, &loop_cfg);
            // Closing the consumer runs the revoke callback again: make it a no-op.
            lock(&core).closed = true;
            drop(consumer);
            r
        })
        .await
        .context("the coordinator panicked")?
    };
    ready.store(false, Ordering::Relaxed);
    watcher.abort();
    hangup.abort();
    // Workers end when their inboxes close.
    let (report, alert_tx) = {
        let mut c = lock(&core);
        c.workers.clear();
        (std::mem::take(&mut c.report), c.alert_tx.take())
    };
    for h in threads {
        let _ = h.join();
    }
    drop(alert_tx);
    if let Some(task) = delivery_task {
        let _ = task.await;
    }
    result.map(|()| report)
}

struct LoopConfig {
    max_in_flight: usize,
    poll_budget: usize,
    commit_every: Duration,
    snapshot_every: Duration,
    idle: Option<Duration>,
}

/// The coordinator loop: poll, batch, collect, commit; then drain and commit on the way out.
fn coordinate(
    consumer: &BaseConsumer<ServiceContext>,
    core: &Mutex<Core>,
    stop: &AtomicBool,
    reopen: &AtomicBool,
    cfg: &LoopConfig,
) -> Result<()> {
    let mut last_message = Instant::now();
    let mut last_commit = Instant::now();
    let mut last_snapshot = Instant::now();
    let mut last_lag = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Some(e) = lock(core).fatal.take() {
            return Err(e);
        }
        let mut got = 0;
        if lock(core).in_flight < cfg.max_in_flight {
            let mut timeout = Duration::from_millis(20);
            while got < cfg.poll_budget {
                match consumer.poll(timeout) {
                    None => break,
                    Some(Ok(m)) => {
                        lock(core).dispatch(
                            m.topic(),
                            m.partition(),
                            m.offset(),
                            m.payload().unwrap_or_default(),
                        )?;
                        got += 1;
                        timeout = Duration::ZERO;
                    }
                    Some(Err(e)) => {
                        lock(core).metrics.consumer_errors.inc();
                        tracing::warn!(target: "pixelwarden::service", "consumer error: {e}");
                        break;
                    }
                }
            }
        }
        let mut c = lock(core);
        if got > 0 {
            last_message = Instant::now();
        }
        c.send_all()?;
        // At the in-flight cap, wait for the workers instead of polling.
        let wait = if c.in_flight >= cfg.max_in_flight {
            Duration::from_millis(50)
        } else {
            Duration::ZERO
        };
        c.drain(wait)?;
        if last_commit.elapsed() >= cfg.commit_every {
            last_commit = Instant::now();
            c.commit(consumer, CommitMode::Async)?;
            let c = &mut *c;
            if let (Some(alerter), Some(tx)) = (c.alerter.as_mut(), c.alert_tx.as_ref()) {
                let due = alerter.tick(chrono::Utc::now());
                if !due.is_empty() {
                    let _ = tx.send(due);
                }
            }
            if c.assigned.is_empty() {
                // Not idle while the group is still forming.
                last_message = Instant::now();
            }
        }
        if last_snapshot.elapsed() >= cfg.snapshot_every {
            last_snapshot = Instant::now();
            let all: Vec<(String, i32)> = c.assigned_partitions();
            c.snapshot(&all, false)?;
        }
        if last_lag.elapsed() >= Duration::from_secs(5) {
            last_lag = Instant::now();
            c.update_lag(consumer);
        }
        if reopen.swap(false, Ordering::Relaxed) {
            c.reopen()?;
        }
        if c.stalled.is_some() {
            // Waiting for a sink is not being idle.
            last_message = Instant::now();
        }
        if let Some(idle) = cfg.idle {
            if c.in_flight == 0 && last_message.elapsed() >= idle {
                break;
            }
        }
    }
    // Drain: no more messages; let workers finish what they have, write it, snapshot, commit.
    let mut c = lock(core);
    c.send_all()?;
    let deadline = Instant::now() + DRAIN_LIMIT;
    while c.in_flight > 0 && Instant::now() < deadline {
        c.drain(Duration::from_millis(100))?;
    }
    let all: Vec<(String, i32)> = c.assigned_partitions();
    c.snapshot(&all, false)?;
    if c.snapshots_pending == 0 && !all.is_empty() && c.state.is_some() {
        // Snapshots must be durable even when no offset moved since the last commit.
        if let Err(f) = c.sinks.sync() {
            let sink = f.sink();
            c.metrics.sink_errors.with_label_values(&[sink]).inc();
            return Err(f
                .into_error()
                .context(format!("sink `{sink}` failed at shutdown")));
        }
    }
    c.commit(consumer, CommitMode::Sync)?;
    Ok(())
}
