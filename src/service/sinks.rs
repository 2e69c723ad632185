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
            flush_timeout: Duration::from_secs(60),
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

    /// Wait until everything enqueued is acknowledged; an error if any delivery failed.
    pub fn sync(&mut self) -> Result<()> {
        self.producer
            .flush(self.flush_timeout)
            .context("flushing the producer")?;
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
            anyhow::bail!("{} deliveries failed: {why}", failed - self.checked);
        }
        self.checked = failed;
        Ok(())
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

pub struct Sinks {
    file: Option<Box<dyn Write + Send>>,
    pub file_path: Option<PathBuf>,
    file_handle: Option<std::fs::File>,
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
        let (file, file_handle): (Option<Box<dyn Write + Send>>, Option<std::fs::File>) = match &cfg
            .findings_file
        {
            Some(p) if p.as_os_str() == "-" => (Some(Box::new(std::io::stdout())), None),
            Some(p) => {
                let torn = drop_torn_tail(p)
                    .with_context(|| format!("{}: cannot check its last line", p.display()))?;
                if torn > 0 {
                    tracing::warn!(target: "pixelwarden::service", path = %p.display(), bytes = torn,
                            "findings file ended in a partial line (a crash mid-write); removed it: its record was not committed and is written again");
                }
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
            Some(topic) => Some((
                DurableProducer::new(brokers, props).context("findings topic")?,
                topic.clone(),
            )),
            None => None,
        };
        Ok(Sinks {
            file,
            file_path: cfg.findings_file.clone(),
            file_handle,
            producer,
            state: None,
        })
    }

    /// Hand records to every sink. Errors name the sink (`file` or `kafka`).
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
        if let Some(w) = self.file.as_mut() {
            let path = self.file_path.clone();
            let err =
                |e: std::io::Error| ("file", anyhow::Error::new(e).context(format!("{path:?}")));
            for r in records {
                serde_json::to_writer(&mut *w, r).map_err(|e| err(e.into()))?;
                w.write_all(b"\n").map_err(err)?;
            }
        }
        Ok(())
    }

    /// Make everything written so far durable. Errors name the sink.
    pub fn sync(&mut self) -> Result<(), (&'static str, anyhow::Error)> {
        if let Some(w) = self.file.as_mut() {
            w.flush().map_err(|e| ("file", e.into()))?;
        }
        if let Some(h) = &self.file_handle {
            h.sync_data().map_err(|e| ("file", e.into()))?;
        }
        if let Some((p, topic)) = self.producer.as_mut() {
            p.sync()
                .map_err(|e| ("kafka", e.context(format!("findings topic `{topic}`"))))?;
        }
        if let Some(p) = &self.state {
            p.lock()
                .unwrap_or_else(|p| p.into_inner())
                .sync()
                .map_err(|e| ("state", e.context("drift state topic")))?;
        }
        Ok(())
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
