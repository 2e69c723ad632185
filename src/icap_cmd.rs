//! `pixelwarden icap`: the ICAP service around [`pixelwarden::icap`] — settings, sinks
//! (findings file, findings topic, alerts) on a thread of their own, metrics.

use super::{engine, redactor, IcapArgs};
use anyhow::{Context as _, Result};
use pixelwarden::icap::{Icap, IcapConfig, Mode};
use pixelwarden::pipeline::Scanner;
use pixelwarden::redact::FindingRecord;
use pixelwarden::service::alerts::{AlertConfig, Alerter, Delivery};
use pixelwarden::service::metrics::Metrics;
use pixelwarden::service::sinks::Sinks;
use pixelwarden::service::SinkConfig;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IcapFile {
    #[serde(default)]
    icap: IcapConfig,
}

pub fn run(args: IcapArgs) -> Result<ExitCode> {
    let mut cfg = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            toml::from_str::<IcapFile>(&text)
                .map_err(|e| {
                    pixelwarden::error::Error::config(format!(
                        "{}: {}",
                        p.display(),
                        e.to_string().trim_end()
                    ))
                })?
                .icap
        }
        None => IcapConfig::default(),
    };
    if args.config.is_none() || args.listen != "0.0.0.0:1344" {
        cfg.listen = args.listen.clone();
    }
    if let Some(m) = &args.mode {
        cfg.mode = m
            .parse::<Mode>()
            .map_err(pixelwarden::error::Error::config)?;
    }
    if let Some(s) = &args.service {
        cfg.service = if s.starts_with('/') {
            s.clone()
        } else {
            format!("/{s}")
        };
    }
    if let Some(n) = args.deadline_ms {
        cfg.deadline_ms = n;
    }
    if let Some(n) = args.max_connections {
        cfg.max_connections = n;
    }
    if args.findings_file.is_some() {
        cfg.findings_file = args.findings_file.clone();
    }
    // One body limit: what the engine decodes is what the service reads (--max-body-bytes);
    // longer bodies pass unexamined and are counted.
    cfg.max_body_bytes = args.engine.limits.max_body_bytes();
    // The engine lives for the whole service: the scanner and the connection tasks share it.
    let engine: &'static pixelwarden::pipeline::Engine = Box::leak(Box::new(engine(&args.engine)?));
    let redactor = redactor(args.fingerprint_key_file.as_ref(), false)?;
    let metrics = Arc::new(Metrics::new());
    let alerts = AlertConfig {
        alertmanager_url: args.alertmanager_url.clone(),
        webhook_url: args.webhook_url.clone(),
        ..AlertConfig::default()
    };
    let kafka = args.kafka_brokers.clone().zip(args.findings_topic.clone());
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(w) = args.workers {
        rt.worker_threads(w.max(1));
    }
    let runtime = rt.enable_all().build()?;
    let sinks = runtime.block_on(async {
        let ready = Arc::new(std::sync::atomic::AtomicBool::new(true));
        if let Some(listen) = &args.metrics_listen {
            let addr = pixelwarden::service::http::serve(listen, metrics.clone(), ready).await?;
            eprintln!("pixelwarden: metrics at http://{addr}/metrics");
        }
        let (server, sinks) = start(
            cfg,
            engine,
            redactor,
            metrics.clone(),
            !args.no_drift,
            alerts,
            kafka,
        )
        .await?;
        tokio::select! {
            r = server => { r.context("the ICAP service stopped")??; }
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut t) => { t.recv().await; }
                    Err(_) => std::future::pending::<()>().await,
                }
            } => {}
        }
        eprintln!("pixelwarden: ICAP service stopping");
        Ok::<_, anyhow::Error>(sinks)
    })?;
    // The connections (and with them the last sender) end with the runtime; the sinks thread
    // then writes what is left and stops.
    drop(runtime);
    let _ = sinks.join();
    Ok(ExitCode::SUCCESS)
}

/// Findings kept in memory while the findings file cannot take them (disk full), at most.
const MAX_PENDING_BYTES: usize = 64 << 20;

/// Bind and serve the ICAP service on the current runtime, with its sinks (findings file,
/// findings topic, alerts) on a thread of their own. Returns the server task and the sinks
/// thread (which ends once every connection has).
pub async fn start(
    cfg: IcapConfig,
    engine: &'static pixelwarden::pipeline::Engine,
    redactor: pixelwarden::redact::Redactor,
    metrics: Arc<Metrics>,
    drift: bool,
    alerts: AlertConfig,
    kafka: Option<(String, String)>,
) -> Result<(
    tokio::task::JoinHandle<std::io::Result<()>>,
    std::thread::JoinHandle<()>,
)> {
    let mut scanner = Scanner::new(engine, redactor.clone());
    if drift {
        scanner.drift = Some(pixelwarden::drift::Drift::new(Default::default()));
    }
    // Sinks on their own thread: the service's findings file and topic (synced once a second,
    // a full disk keeps the records pending, SIGHUP starts a new file), and alerts. A full
    // queue holds back the connections with findings to hand over, not the runtime.
    // Room for a few seconds of findings at full speed, so a sync (fsync, topic acks) does not
    // hold the connections.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<FindingRecord>>(16_384);
    let sink_cfg = SinkConfig {
        findings_file: cfg.findings_file.clone(),
        findings_topic: kafka.as_ref().map(|(_, t)| t.clone()),
        findings_brokers: None,
    };
    let brokers = kafka.as_ref().map(|(b, _)| b.clone()).unwrap_or_default();
    let mut sinks = Sinks::open(&sink_cfg, &brokers, &Default::default())?;
    let reopen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let reopen = reopen.clone();
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    reopen.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    }
    let mut alerter = alerts
        .enabled()
        .then(|| Alerter::new(&alerts))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let (alert_tx, mut alert_rx) =
        tokio::sync::mpsc::unbounded_channel::<Vec<pixelwarden::service::alerts::Alert>>();
    if alerts.enabled() {
        let delivery = Delivery::new(alerts.clone(), metrics.clone())?;
        tokio::spawn(async move {
            while let Some(due) = alert_rx.recv().await {
                delivery.send(due).await;
            }
        });
    }
    let m = metrics.clone();
    let sinks = std::thread::Builder::new()
        .name("icap-sinks".into())
        .spawn(move || {
            let mut buf = Vec::new();
            let mut last_sync = std::time::Instant::now();
            let mut dropped_warned = false;
            loop {
                let batch = match rx.recv_timeout(std::time::Duration::from_millis(250)) {
                    Ok(b) => Some(b),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                };
                if let Some(records) = &batch {
                    // Inline, the traffic cannot be paused: past the bound, records that could
                    // not be written are counted as lost instead of filling memory.
                    if sinks.pending_bytes() > MAX_PENDING_BYTES {
                        m.sink_errors
                            .with_label_values(&["file"])
                            .inc_by(records.len() as u64);
                        if !dropped_warned {
                            tracing::error!(target: "pixelwarden::icap", pending = sinks.pending_bytes(),
                                "findings file cannot be written and the pending bound is reached: findings are being lost (counted in pixelwarden_sink_errors_total)");
                            dropped_warned = true;
                        }
                    } else if let Err((sink, e)) = sinks.write(records, &mut buf) {
                        m.sink_errors.with_label_values(&[sink]).inc();
                        tracing::error!(target: "pixelwarden::icap", sink, "findings not written: {e:#}");
                    }
                    if let Some(a) = alerter.as_mut() {
                        let due = a.observe(records, chrono::Utc::now());
                        if !due.is_empty() {
                            let _ = alert_tx.send(due);
                        }
                    }
                } else if let Some(a) = alerter.as_mut() {
                    let due = a.tick(chrono::Utc::now());
                    if !due.is_empty() {
                        let _ = alert_tx.send(due);
                    }
                }
                if reopen.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    let _ = sinks.sync();
                    match sinks.reopen() {
                        Ok(()) => m.reopens.inc(),
                        Err(e) => {
                            tracing::error!(target: "pixelwarden::icap", "findings file not reopened: {e:#}")
                        }
                    }
                }
                // Durable once a second, and whenever the queue runs dry.
                if batch.is_none() || last_sync.elapsed() >= std::time::Duration::from_secs(1) {
                    last_sync = std::time::Instant::now();
                    match sinks.sync() {
                        Ok(()) => {
                            m.sink_stalled.set(0);
                            dropped_warned = false;
                        }
                        Err(f) => {
                            m.sink_stalled.set(1);
                            m.sink_errors.with_label_values(&[f.sink()]).inc();
                            tracing::warn!(target: "pixelwarden::icap", sink = f.sink(), "findings not yet durable: {f}");
                        }
                    }
                    m.pending_bytes.set(sinks.pending_bytes() as i64);
                }
            }
            if let Err(f) = sinks.sync() {
                tracing::error!(target: "pixelwarden::icap", sink = f.sink(), "findings not durable at exit: {f}");
            }
        })?;
    let emit: Box<dyn Fn(Vec<FindingRecord>) + Send + Sync> = {
        let tx = std::sync::Mutex::new(tx);
        Box::new(move |records| {
            let tx = tx.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match tx.try_send(records) {
                Ok(()) | Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {}
                // A full queue holds this connection back until the sinks catch up. The wait
                // happens off the runtime's worker (block_in_place), so the other connections
                // on that worker go on being answered meanwhile.
                Err(std::sync::mpsc::TrySendError::Full(records)) => {
                    let wait = move || {
                        let _ = tx.send(records);
                    };
                    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                            tokio::task::block_in_place(wait)
                        }
                        _ => wait(),
                    }
                }
            }
        })
    };
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {} for ICAP", cfg.listen))?;
    eprintln!(
        "pixelwarden: ICAP service icap://{}{} (REQMOD, mode {:?}, {} per-finding rules, deadline {} ms, bodies up to {} bytes)",
        listener.local_addr()?,
        cfg.service,
        cfg.mode,
        cfg.rules.len(),
        cfg.deadline_ms,
        cfg.max_body_bytes
    );
    let icap = Icap::new(engine, redactor, cfg, metrics, scanner, emit);
    Ok((tokio::spawn(icap.serve(listener)), sinks))
}
