//! Detection workers: one thread each, the synchronous core of `scan` on batches of messages.
//!
//! A partition is pinned to one worker, and a worker takes its inbox in order, so per-partition
//! order, parser state and drift state stay on one thread and results come back in offset order.

use super::metrics::Metrics;
use super::{DriftConfig, Position};
use crate::drift::{Drift, DriftLimits, DriftState};
use crate::format::{Format, LineParser, Parsed};
use crate::pipeline::{Engine, Scanner, Stats};
use crate::redact::{FindingRecord, Redactor};
use crate::request::Origin;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

pub type Tp = (Arc<str>, i32);

/// Messages of one or more partitions, payloads packed in one buffer.
pub struct Batch {
    pub buf: Vec<u8>,
    pub items: Vec<Item>,
}

pub struct Item {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    pub format: Format,
    pub start: usize,
    pub end: usize,
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            buf: Vec::new(),
            items: Vec::new(),
        }
    }
    pub fn push(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        offset: i64,
        format: Format,
        payload: &[u8],
    ) {
        let start = self.buf.len();
        self.buf.extend_from_slice(payload);
        self.items.push(Item {
            topic: topic.clone(),
            partition,
            offset,
            format,
            start,
            end: self.buf.len(),
        });
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// The (partition, first, last) ranges this batch covers, in order of first appearance.
    pub fn positions(&self) -> Vec<Position> {
        let mut out: Vec<Position> = Vec::new();
        for it in &self.items {
            match out
                .iter_mut()
                .find(|p| p.partition == it.partition && p.topic == it.topic)
            {
                Some(p) => p.last = it.offset,
                None => out.push(Position {
                    topic: it.topic.clone(),
                    partition: it.partition,
                    first: it.offset,
                    last: it.offset,
                }),
            }
        }
        out
    }
}

impl Default for Batch {
    fn default() -> Self {
        Batch::new()
    }
}

/// What the coordinator asks of a worker.
pub enum Work {
    Batch(Batch, Vec<Position>, Instant),
    /// A partition was assigned: its baseline from the state topic (`None`: learn anew).
    Restore(Tp, Option<Box<DriftState>>),
    /// Snapshot a partition's baseline; `release` also forgets the partition (revoked).
    Snapshot(Tp, bool),
}

/// What a worker gives back.
pub enum Out {
    Done {
        positions: Vec<Position>,
        messages: usize,
        records: Vec<FindingRecord>,
        received: Instant,
    },
    Snapshot(Tp, Option<Vec<u8>>),
}

pub fn run(
    engine: &Engine,
    redactor: Redactor,
    metrics: &Metrics,
    drift: DriftConfig,
    rx: Receiver<Work>,
    out: Sender<Out>,
) {
    let mut scanner = Scanner::new(engine, redactor);
    let limits = DriftLimits {
        learning_hours: drift.learning_hours,
        ..Default::default()
    };
    let mut baselines: HashMap<Tp, Drift> = HashMap::new();
    let mut parsers: HashMap<Tp, LineParser> = HashMap::new();
    let mut exported = Exported::default();
    while let Ok(work) = rx.recv() {
        match work {
            Work::Batch(batch, positions, received) => {
                let mut records = Vec::new();
                let mut current: Option<Tp> = None;
                let mut last_line: Option<(usize, usize, Format)> = None;
                for it in &batch.items {
                    let tp: Tp = (it.topic.clone(), it.partition);
                    if current.as_ref() != Some(&tp) {
                        // Swap in this partition's baseline.
                        if let (Some(prev), Some(d)) = (current.take(), scanner.drift.take()) {
                            baselines.insert(prev, d);
                        }
                        if drift.enabled {
                            scanner.drift = Some(
                                baselines
                                    .remove(&tp)
                                    .unwrap_or_else(|| Drift::new(limits.clone())),
                            );
                        }
                        current = Some(tp.clone());
                    }
                    let parser = parsers
                        .entry(tp)
                        .or_insert_with(|| LineParser::new(it.format));
                    let origin = Origin::Kafka {
                        topic: it.topic.clone(),
                        partition: it.partition,
                        offset: it.offset,
                    };
                    let payload = &batch.buf[it.start..it.end];
                    if let Some((s, e)) =
                        inspect_message(&mut scanner, parser, payload, &origin, &mut records)
                    {
                        last_line = Some((it.start + s, it.start + e, it.format));
                    }
                }
                if let (Some(prev), Some(d)) = (current.take(), scanner.drift.take()) {
                    baselines.insert(prev, d);
                }
                // Event-time lag: the newest record of the batch stands for the batch.
                if let Some((s, e, format)) = last_line {
                    observe_lag(&batch.buf[s..e], format, metrics);
                }
                exported.export(&scanner.stats, metrics);
                for r in &records {
                    metrics
                        .findings
                        .with_label_values(&[
                            &r.vendor,
                            r.class.as_str(),
                            &r.kind,
                            r.severity.as_str(),
                        ])
                        .inc();
                    if r.class.as_str() == "anomaly" {
                        metrics.anomalies.with_label_values(&[&r.kind]).inc();
                    }
                }
                let done = Out::Done {
                    positions,
                    messages: batch.items.len(),
                    records,
                    received,
                };
                if out.send(done).is_err() {
                    return;
                }
            }
            Work::Restore(tp, state) => {
                if drift.enabled {
                    let d = match state {
                        Some(s) => Drift::with_state(*s, limits.clone()),
                        None => Drift::new(limits.clone()),
                    };
                    baselines.insert(tp, d);
                }
            }
            Work::Snapshot(tp, release) => {
                let snapshot = if release {
                    parsers.remove(&tp);
                    baselines
                        .remove(&tp)
                        .map(|d| super::state::encode(&d.state))
                } else {
                    baselines.get(&tp).map(|d| super::state::encode(&d.state))
                };
                let bytes = match snapshot {
                    Some(Ok(b)) => Some(b),
                    Some(Err(e)) => {
                        tracing::warn!(target: "pixelwarden::service", "drift snapshot failed: {e}");
                        None
                    }
                    None => None,
                };
                if out.send(Out::Snapshot(tp, bytes)).is_err() {
                    return;
                }
            }
        }
    }
}

/// One Kafka message through the scanner: each of its lines (a producer may batch several),
/// bounded by the line limit like a line of a file. Returns where its last non-empty line lies
/// in `payload`, for the event-time lag. Pure apart from the scanner's state: the fuzz target
/// `kafka_message` drives it with arbitrary payloads.
pub fn inspect_message(
    scanner: &mut Scanner,
    parser: &mut LineParser,
    payload: &[u8],
    origin: &Origin,
    records: &mut Vec<FindingRecord>,
) -> Option<(usize, usize)> {
    let max = scanner.engine.limits.max_line_bytes;
    let mut last = None;
    let mut at = 0;
    for line in payload.split(|&b| b == b'\n') {
        let begin = at;
        at += line.len() + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.len() > max {
            scanner.stats.records += 1;
            *scanner
                .stats
                .records_by_format
                .entry(parser.format())
                .or_default() += 1;
            scanner.count_skip(crate::error::SkipReason::LineTooLong);
            continue;
        }
        last = Some((begin, begin + line.len()));
        // A skipped line is counted in the scanner's stats, exported by the worker.
        if let Ok(r) = scanner.line(parser, line, origin) {
            records.extend(r);
        }
    }
    last
}

/// Parse one line again for its timestamp only.
fn observe_lag(line: &[u8], format: Format, metrics: &Metrics) {
    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    // A fresh parser: the partition's parser state must not change. Zeek TSV needs its header,
    // so its records are not sampled here.
    if format == Format::Zeek {
        return;
    }
    if let Ok(Parsed::Request(req)) = LineParser::new(format).parse(text) {
        if let Some(ts) = req.ts {
            let lag = (chrono::Utc::now() - ts).num_milliseconds() as f64 / 1000.0;
            metrics
                .event_lag
                .with_label_values(&[format.as_str()])
                .observe(lag.max(0.0));
        }
    }
}

/// What has already been moved from a scanner's stats into the metrics.
#[derive(Default)]
struct Exported {
    records: HashMap<Format, u64>,
    skipped: HashMap<crate::error::SkipReason, u64>,
    beacons: HashMap<String, u64>,
}

impl Exported {
    /// Move counter deltas into the metrics (no copy of the stats maps).
    fn export(&mut self, now: &Stats, m: &Metrics) {
        for (format, n) in &now.records_by_format {
            let seen = self.records.entry(*format).or_default();
            if *n > *seen {
                m.records
                    .with_label_values(&["kafka", format.as_str()])
                    .inc_by(n - *seen);
                *seen = *n;
            }
        }
        for (reason, n) in &now.skipped {
            let seen = self.skipped.entry(*reason).or_default();
            if *n > *seen {
                m.invalid
                    .with_label_values(&[reason.as_str()])
                    .inc_by(n - *seen);
                *seen = *n;
            }
        }
        for (vendor, n) in &now.beacons_by_vendor {
            let seen = match self.beacons.get_mut(vendor) {
                Some(s) => s,
                None => self.beacons.entry(vendor.clone()).or_default(),
            };
            if *n > *seen {
                m.beacons.with_label_values(&[vendor]).inc_by(n - *seen);
                *seen = *n;
            }
        }
    }
}
