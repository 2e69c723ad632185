//! Prometheus metrics of the service. Every label comes from a small fixed set (format, skip
//! reason, vendor id, class, type, severity, sink, partition number): never a URL, site, pixel
//! id or matched value.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    pub registry: Registry,
    pub records: IntCounterVec,
    pub invalid: IntCounterVec,
    pub beacons: IntCounterVec,
    pub findings: IntCounterVec,
    pub anomalies: IntCounterVec,
    pub sink_errors: IntCounterVec,
    pub alerts_sent: IntCounterVec,
    pub alerts_failed: IntCounterVec,
    pub commits: IntCounter,
    pub processing: Histogram,
    pub event_lag: HistogramVec,
    pub consumer_lag: IntGaugeVec,
    pub in_flight: IntGauge,
    pub assigned: IntGauge,
    pub consumer_errors: IntCounter,
    pub commit_errors: IntCounter,
    pub not_dispatched: IntCounterVec,
    pub snapshots: IntCounter,
    pub snapshot_bytes: IntGauge,
    pub restores: IntCounter,
    pub snapshot_errors: IntCounter,
    pub sink_stalled: IntGauge,
    pub sink_stalls: IntCounterVec,
    pub pending_bytes: IntGauge,
    pub reopens: IntCounter,
    pub probe_walks: IntCounterVec,
    pub probe_pages: IntCounter,
    pub probe_requests: IntCounterVec,
    pub probe_last_run: IntGauge,
    pub icap_requests: IntCounterVec,
    pub icap_seconds: Histogram,
    pub icap_connections: IntGauge,
    pub icap_fail_open: IntCounterVec,
}

fn simple_counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let processing = Histogram::with_opts(
            HistogramOpts::new(
                "pixelwarden_processing_seconds",
                "Time from a batch handed to a worker to its findings accepted by every sink",
            )
            .buckets(vec![
                0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
            ]),
        )
        .expect("valid metric");
        r.register(Box::new(processing.clone()))
            .expect("unique metric");
        let event_lag = HistogramVec::new(
            HistogramOpts::new(
                "pixelwarden_event_lag_seconds",
                "Wall clock minus the event time of processed records",
            )
            .buckets(vec![
                0.1, 1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0,
            ]),
            &["format"],
        )
        .expect("valid metric");
        r.register(Box::new(event_lag.clone()))
            .expect("unique metric");
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "pixelwarden_consumer_lag_messages",
                "High watermark minus the committable offset, per assigned partition",
            ),
            &["topic", "partition"],
        )
        .expect("valid metric");
        r.register(Box::new(consumer_lag.clone()))
            .expect("unique metric");
        let in_flight = IntGauge::new(
            "pixelwarden_in_flight_messages",
            "Messages received and not yet accepted by every sink",
        )
        .expect("valid");
        r.register(Box::new(in_flight.clone()))
            .expect("unique metric");
        let assigned = IntGauge::new(
            "pixelwarden_assigned_partitions",
            "Partitions currently assigned to this instance",
        )
        .expect("valid");
        r.register(Box::new(assigned.clone()))
            .expect("unique metric");
        let commits = IntCounter::new(
            "pixelwarden_offset_commits_total",
            "Offset commits sent to the group coordinator",
        )
        .expect("valid");
        r.register(Box::new(commits.clone()))
            .expect("unique metric");
        Metrics {
            records: counter(
                &r,
                "pixelwarden_records_received_total",
                "Records received",
                &["source", "format"],
            ),
            invalid: counter(
                &r,
                "pixelwarden_records_invalid_total",
                "Records skipped as invalid",
                &["reason"],
            ),
            beacons: counter(
                &r,
                "pixelwarden_beacons_total",
                "Pixel hits recognised",
                &["vendor"],
            ),
            findings: counter(
                &r,
                "pixelwarden_findings_total",
                "Findings",
                &["vendor", "class", "type", "severity"],
            ),
            anomalies: counter(
                &r,
                "pixelwarden_anomalies_total",
                "Drift anomalies",
                &["type"],
            ),
            sink_errors: counter(
                &r,
                "pixelwarden_sink_errors_total",
                "Failed writes to a findings sink",
                &["sink"],
            ),
            alerts_sent: counter(
                &r,
                "pixelwarden_alerts_sent_total",
                "Alerts delivered",
                &["sink"],
            ),
            alerts_failed: counter(
                &r,
                "pixelwarden_alerts_failed_total",
                "Alerts that could not be delivered",
                &["sink"],
            ),
            commits,
            processing,
            event_lag,
            consumer_lag,
            in_flight,
            assigned,
            not_dispatched: counter(
                &r,
                "pixelwarden_messages_not_dispatched_total",
                "Messages received but not processed: partition no longer assigned, or delivered again",
                &["reason"],
            ),
            commit_errors: simple_counter(
                &r,
                "pixelwarden_offset_commit_errors_total",
                "Offset commits the group coordinator refused or that timed out (retried)",
            ),
            consumer_errors: simple_counter(
                &r,
                "pixelwarden_consumer_errors_total",
                "Errors reported by the Kafka consumer (the consumer retries by itself)",
            ),
            snapshots: simple_counter(
                &r,
                "pixelwarden_drift_snapshots_total",
                "Per-partition drift baselines written to the state topic",
            ),
            snapshot_bytes: gauge(
                &r,
                "pixelwarden_drift_snapshot_bytes",
                "Compressed size of the last drift snapshot written",
            ),
            restores: simple_counter(
                &r,
                "pixelwarden_drift_restores_total",
                "Per-partition drift baselines restored from the state topic on assignment",
            ),
            snapshot_errors: simple_counter(
                &r,
                "pixelwarden_drift_state_errors_total",
                "Drift baselines that could not be restored (the partition learns again)",
            ),
            sink_stalled: gauge(
                &r,
                "pixelwarden_sink_stalled",
                "1 while a findings sink cannot make its writes durable (disk full, broker away): consumption is paused and the sync retried",
            ),
            sink_stalls: counter(
                &r,
                "pixelwarden_sink_stalls_total",
                "Times a findings sink stalled, by sink",
                &["sink"],
            ),
            pending_bytes: gauge(
                &r,
                "pixelwarden_findings_pending_bytes",
                "Findings serialised but not yet written to the findings file",
            ),
            reopens: simple_counter(
                &r,
                "pixelwarden_findings_file_reopens_total",
                "Findings file reopened on SIGHUP (log rotation)",
            ),
            icap_requests: counter(
                &r,
                "pixelwarden_icap_requests_total",
                "ICAP requests answered, by method and outcome: no_content (unchanged), modified (stripped), blocked, options, error",
                &["method", "outcome"],
            ),
            icap_seconds: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "pixelwarden_icap_request_seconds",
                        "Time from an ICAP request's head to its answer (the latency pixelwarden adds)",
                    )
                    .buckets(vec![0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25]),
                )
                .expect("valid metric");
                r.register(Box::new(h.clone())).expect("unique metric");
                h
            },
            icap_connections: gauge(
                &r,
                "pixelwarden_icap_connections",
                "Open ICAP connections",
            ),
            icap_fail_open: counter(
                &r,
                "pixelwarden_icap_fail_open_total",
                "ICAP requests let through unexamined, by reason: deadline, too_large, overloaded",
                &["reason"],
            ),
            probe_walks: counter(
                &r,
                "pixelwarden_probe_walks_total",
                "Probe walks (crawls and journeys), by outcome: ok, journey_failed, error",
                &["outcome"],
            ),
            probe_pages: simple_counter(
                &r,
                "pixelwarden_probe_pages_total",
                "Pages the probe visited",
            ),
            probe_requests: counter(
                &r,
                "pixelwarden_probe_requests_total",
                "Requests probed pages made, by outcome: continued, blocked (a pixel endpoint failed in the browser), sent_to_vendor (with --let-pixels-through)",
                &["outcome"],
            ),
            probe_last_run: gauge(
                &r,
                "pixelwarden_probe_last_run_timestamp_seconds",
                "When the last probe run finished (Unix time)",
            ),
            registry: r,
        }
    }

    /// Create the series of the fixed label sets at 0, so `increase()` sees their first event.
    pub fn preset(&self, vendors: &[&str]) {
        for reason in crate::error::SkipReason::ALL {
            self.invalid.with_label_values(&[reason.as_str()]);
        }
        for reason in ["not_assigned", "redelivered"] {
            self.not_dispatched.with_label_values(&[reason]);
        }
        for m in ["REQMOD", "OPTIONS"] {
            for o in ["no_content", "modified", "blocked", "options", "error"] {
                self.icap_requests.with_label_values(&[m, o]);
            }
        }
        for r in ["deadline", "too_large", "overloaded"] {
            self.icap_fail_open.with_label_values(&[r]);
        }
        for outcome in ["ok", "journey_failed", "error"] {
            self.probe_walks.with_label_values(&[outcome]);
        }
        for outcome in ["continued", "blocked", "sent_to_vendor"] {
            self.probe_requests.with_label_values(&[outcome]);
        }
        for sink in ["file", "kafka", "state"] {
            self.sink_errors.with_label_values(&[sink]);
            self.sink_stalls.with_label_values(&[sink]);
        }
        for sink in ["alertmanager", "webhook", "stdout"] {
            self.alerts_sent.with_label_values(&[sink]);
            self.alerts_failed.with_label_values(&[sink]);
        }
        for kind in [
            "new_vendor",
            "new_pixel",
            "new_field",
            "new_pii",
            "volume_spike",
            "volume_drop",
        ] {
            self.anomalies.with_label_values(&[kind]);
        }
        for vendor in vendors {
            self.beacons.with_label_values(&[vendor]);
        }
    }

    /// The text exposition format for `/metrics`.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("encodable");
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
