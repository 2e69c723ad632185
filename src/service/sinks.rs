//! Findings sinks of the service: a JSON-lines file and a Kafka topic.
//!
//! Both follow one rule: a write only *enqueues*; [`Sinks::sync`] makes everything enqueued
//! durable (file flushed and fsynced; producer flushed and every delivery acknowledged) and is
//! called before the offsets it covers are committed. A sink that cannot make its writes durable
//! is an error that ends the run: the offsets are not committed, so the records are read again
//! after a restart (at least once).

use crate::redact::FindingRecord;
use anyhow::{Context as _, Result};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts failed deliveries so that [`Sinks::sync`] can refuse to let offsets be committed.
#[derive(Default)]
pub struct DeliveryWatch {
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl ClientContext for DeliveryWatch {}

impl ProducerContext for DeliveryWatch {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        }
    }
}

/// A producer whose deliveries are checked at every [`DurableProducer::sync`].
pub struct DurableProducer {
    producer: ThreadedProducer<DeliveryWatch>,
    checked: u64,
    flush_timeout: Duration,
}

impl DurableProducer {
    /// Idempotent, `acks=all`; `props` are the user's librdkafka properties (TLS, SASL...).
    pub fn new(brokers: &str, props: &BTreeMap<String, String>) -> Result<DurableProducer> {
        let mut c = ClientConfig::new();
        for (k, v) in props {
            // Consumer-only properties would make the producer refuse to start.
            if is_consumer_only(k) {
                continue;
            }
            c.set(k, v);
        }
        c.set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5");
        let producer = c
            .create_with_context(DeliveryWatch::default())
            .context("cannot create a Kafka producer")?;
        Ok(DurableProducer {
            producer,
            checked: 0,
            flush_timeout: Duration::from_secs(5),
        })
    }

    /// Enqueue one record; waits (bounded by librdkafka's queue) when the queue is full.
    pub fn send(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<()> {
        let mut record = BaseRecord::to(topic).key(key).payload(payload);
        let started = Instant::now();
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r))
                    if started.elapsed() < self.flush_timeout =>
                {
                    record = r;
                    self.producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => anyhow::bail!("topic `{topic}`: {e}"),
            }
        }
    }

    /// Wait until everything enqueued is acknowledged. Still queued after the flush timeout
    /// (the broker is away): a stall, retried; librdkafka keeps retrying the messages until
    /// `message.timeout.ms`. A delivery that failed for good: the records are lost, a failure.
    pub fn sync(&mut self) -> Result<(), SinkFailure> {
        let flushed = self.producer.flush(self.flush_timeout);
        let failed = self.producer.context().failed.load(Ordering::Relaxed);
        if failed > self.checked {
            let why = self
                .producer
                .context()
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            let lost = failed - self.checked;
            self.checked = failed;
            return Err(SinkFailure::Failed(
                "kafka",
                anyhow::anyhow!("{lost} deliveries failed: {why}"),
            ));
        }
        flushed.map_err(|e| {
            SinkFailure::Stalled(
                "kafka",
                anyhow::Error::new(e).context(format!(
                    "{} messages still waiting for the broker",
                    self.producer.in_flight_count()
                )),
            )
        })
    }
}

impl SinkFailure {
    fn context(self, what: String) -> SinkFailure {
        match self {
            SinkFailure::Stalled(s, e) => SinkFailure::Stalled(s, e.context(what)),
            SinkFailure::Failed(s, e) => SinkFailure::Failed(s, e.context(what)),
        }
    }
    fn named(self, sink: &'static str) -> SinkFailure {
        match self {
            SinkFailure::Stalled(_, e) => SinkFailure::Stalled(sink, e),
            SinkFailure::Failed(_, e) => SinkFailure::Failed(sink, e),
        }
    }
}

/// librdkafka properties a producer does not accept.
fn is_consumer_only(key: &str) -> bool {
    key.starts_with("group.")
        || key.starts_with("session.")
        || key.starts_with("heartbeat.")
        || key.starts_with("auto.offset")
        || key.starts_with("enable.auto")
        || key.starts_with("fetch.")
        || key.starts_with("max.poll")
        || key.starts_with("queued.")
        || key.starts_with("partition.assignment")
        || key == "isolation.level"
        || key == "check.crcs"
}

/// A crash can leave a partial last line. Its record's offset was not committed (commits
/// follow a sync, which writes whole lines only), so it is read and written again: cut the
/// partial line so the next record does not run into it. Returns the bytes removed.
fn drop_torn_tail(path: &std::path::Path) -> std::io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let meta = f.metadata()?;
    if !meta.is_file() {
        // A pipe or a device (/dev/null): nothing to repair.
        return Ok(0);
    }
    let len = meta.len();
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            let keep = start + i as u64 + 1;
            if keep < len {
                f.set_len(keep)?;
                f.sync_data()?;
            }
            return Ok(len - keep);
        }
        end = start;
    }
    // No newline at all: the whole file is one partial record.
    if len > 0 {
        f.set_len(0)?;
        f.sync_data()?;
    }
    Ok(len)
}

/// Why the sinks could not make their writes durable.
#[derive(Debug)]
pub enum SinkFailure {
    /// The condition may pass (the file system is full, the findings topic's broker is
    /// unreachable): the writes are kept, consumption pauses, and the sync is retried.
    Stalled(&'static str, anyhow::Error),
    /// Writes were lost (a delivery failed): the run ends without committing, and the records
    /// are read again after a restart.
    Failed(&'static str, anyhow::Error),
}

impl SinkFailure {
    pub fn sink(&self) -> &'static str {
        match self {
            SinkFailure::Stalled(s, _) | SinkFailure::Failed(s, _) => s,
        }
    }
    pub fn into_error(self) -> anyhow::Error {
        match self {
            SinkFailure::Stalled(_, e) | SinkFailure::Failed(_, e) => e,
        }
    }
}

impl std::fmt::Display for SinkFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkFailure::Stalled(s, e) => write!(f, "{s} stalled: {e:#}"),
            SinkFailure::Failed(s, e) => write!(f, "{s} failed: {e:#}"),
        }
    }
}

/// Errors of the file system that pass when someone makes room or the disk comes back.
fn passes(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::StorageFull | K::QuotaExceeded | K::Interrupted | K::WouldBlock
    ) || matches!(e.raw_os_error(), Some(5 | 28 | 122))
}

/// The findings file: records are serialised into `pending` and written from there, so a
/// write the file system refuses half-way (disk full) loses nothing: what was not written
/// stays pending and is written, from the same byte, when the sync is retried.
struct FileSink {
    path: PathBuf,
    out: FileOut,
    pending: Vec<u8>,
}

enum FileOut {
    Stdout(std::io::Stdout),
    File(std::fs::File),
}

/// Pending bytes written out before a sync is due, to keep the buffer small.
const FILE_WRITE_AT: usize = 1 << 20;

impl FileSink {
    fn open(path: &std::path::Path) -> Result<FileSink> {
        if path.as_os_str() == "-" {
            return Ok(FileSink {
                path: path.to_path_buf(),
                out: FileOut::Stdout(std::io::stdout()),
                pending: Vec::new(),
            });
        }
        let torn = drop_torn_tail(path)
            .with_context(|| format!("{}: cannot check its last line", path.display()))?;
        if torn > 0 {
            tracing::warn!(target: "pixelwarden::service", path = %path.display(), bytes = torn,
                    "findings file ended in a partial line (a crash mid-write); removed it: its record was not committed and is written again");
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        Ok(FileSink {
            path: path.to_path_buf(),
            out: FileOut::File(f),
            pending: Vec::with_capacity(FILE_WRITE_AT),
        })
    }

    /// Write what is pending, keeping whatever the file system refuses.
    fn write_out(&mut self) -> std::io::Result<()> {
        let mut done = 0;
        let result = loop {
            if done == self.pending.len() {
                break Ok(());
            }
            let n = match &mut self.out {
                FileOut::Stdout(o) => o.write(&self.pending[done..]),
                FileOut::File(f) => f.write(&self.pending[done..]),
            };
            match n {
                Ok(0) => break Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.pending.drain(..done);
        result
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.write_out()?;
        match &mut self.out {
            FileOut::Stdout(o) => o.flush(),
            FileOut::File(f) => f.sync_data(),
        }
    }

    /// Start a new file at the same path (after log rotation moved the old one away): what is
    /// pending goes into the new file.
    fn reopen(&mut self) -> Result<()> {
        if let FileOut::File(f) = &mut self.out {
            // Whole records written so far stay in the old file.
            let _ = f.sync_data();
            let fresh = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .with_context(|| format!("{}: cannot reopen", self.path.display()))?;
            *f = fresh;
        }
        Ok(())
    }
}

pub struct Sinks {
    file: Option<FileSink>,
    pub file_path: Option<PathBuf>,
    producer: Option<(DurableProducer, String)>,
    /// Drift snapshots go through the same durability step as findings.
    pub state: Option<Arc<Mutex<DurableProducer>>>,
}

impl Sinks {
    pub fn open(
        cfg: &super::SinkConfig,
        brokers: &str,
        props: &BTreeMap<String, String>,
    ) -> Result<Sinks> {
        let file = match &cfg.findings_file {
            Some(p) => Some(FileSink::open(p)?),
            None => None,
        };
        let producer = match &cfg.findings_topic {
            Some(topic) => Some((
                DurableProducer::new(brokers, props).context("findings topic")?,
                topic.clone(),
            )),
            None => None,
        };
        Ok(Sinks {
            file,
            file_path: cfg.findings_file.clone(),
            producer,
            state: None,
        })
    }

    /// Hand records to every sink. Errors name the sink (`file` or `kafka`). A file that
    /// cannot take them now keeps them pending (the next [`Sinks::sync`] says so).
    pub fn write(
        &mut self,
        records: &[FindingRecord],
        buf: &mut Vec<u8>,
    ) -> Result<(), (&'static str, anyhow::Error)> {
        if records.is_empty() {
            return Ok(());
        }
        if let Some((producer, topic)) = &self.producer {
            for r in records {
                buf.clear();
                serde_json::to_writer(&mut *buf, r).map_err(|e| ("kafka", e.into()))?;
                let key = r.site.as_deref().unwrap_or_default();
                producer
                    .send(topic, key.as_bytes(), buf)
                    .map_err(|e| ("kafka", e))?;
            }
        }
        if let Some(file) = self.file.as_mut() {
            for r in records {
                serde_json::to_writer(&mut file.pending, r).map_err(|e| ("file", e.into()))?;
                file.pending.push(b'\n');
            }
            if file.pending.len() >= FILE_WRITE_AT {
                // Refused now (disk full): kept, and reported by the next sync.
                let _ = file.write_out();
            }
        }
        Ok(())
    }

    /// Bytes of findings not yet written to the file (waiting for room on a full disk).
    pub fn pending_bytes(&self) -> usize {
        self.file.as_ref().map_or(0, |f| f.pending.len())
    }

    /// Make everything written so far durable.
    pub fn sync(&mut self) -> Result<(), SinkFailure> {
        if let Some(file) = self.file.as_mut() {
            if let Err(e) = file.sync() {
                let path = file.path.display().to_string();
                let err = anyhow::Error::new(e).context(path);
                return Err(
                    if err.downcast_ref::<std::io::Error>().is_some_and(passes) {
                        SinkFailure::Stalled("file", err)
                    } else {
                        SinkFailure::Failed("file", err)
                    },
                );
            }
        }
        if let Some((p, topic)) = self.producer.as_mut() {
            p.sync()
                .map_err(|f| f.context(format!("findings topic `{topic}`")))?;
        }
        if let Some(p) = &self.state {
            p.lock()
                .unwrap_or_else(|p| p.into_inner())
                .sync()
                .map_err(|f| f.context("drift state topic".into()).named("state"))?;
        }
        Ok(())
    }

    /// SIGHUP: start a new findings file at the same path (log rotation).
    pub fn reopen(&mut self) -> Result<()> {
        match self.file.as_mut() {
            Some(f) => f.reopen(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::drop_torn_tail;

    #[test]
    fn a_torn_last_line_is_cut_and_whole_lines_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.jsonl");
        assert_eq!(drop_torn_tail(&p).unwrap(), 0, "no file yet");
        std::fs::write(&p, "{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        assert_eq!(drop_torn_tail(&p).unwrap(), 5);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
        assert_eq!(drop_torn_tail(&p).unwrap(), 0, "whole lines are left alone");
        std::fs::write(&p, "partial").unwrap();
        assert_eq!(drop_torn_tail(&p).unwrap(), 7);
        assert_eq!(std::fs::read(&p).unwrap(), b"");
    }
}
