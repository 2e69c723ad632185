//! `pixelwarden probe`: the command around [`pixelwarden::probe`] — persona, walks, findings
//! through the shared scanner, summary, HAR evidence, exit code; and `--every` (metrics,
//! alerts, a walk every interval).

use super::{engine, redactor, ProbeArgs};
use anyhow::{Context as _, Result};
use pixelwarden::pipeline::{Engine, Scanner};
use pixelwarden::probe::browser::{BrowserSettings, ConsentMode, WalkResult};
use pixelwarden::probe::capture::Redactions;
use pixelwarden::probe::persona::Persona;
use pixelwarden::probe::{self, ProbeConfig, WalkError};
use pixelwarden::redact::{FindingRecord, Redactor};
use pixelwarden::service::alerts::{AlertConfig, Alerter, Delivery};
use pixelwarden::service::metrics::Metrics;
use pixelwarden::summary::Summary;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: ProbeArgs) -> Result<ExitCode> {
    let mut engine = engine(&args.engine)?;
    let redactor = redactor(args.out.fingerprint_key_file.as_ref(), args.out.reveal)?;
    let persona = match &args.persona {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            Persona::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => {
            let domain = args.persona_domain.as_deref().unwrap_or("example.com");
            let mut seed = [0u8; 8];
            let _ = getrandom::fill(&mut seed);
            Persona::generate(domain, u64::from_le_bytes(seed))
        }
    };
    if args.persona.is_none() {
        eprintln!(
            "pixelwarden: canary persona (keep it to recognise this run's leaks; values no real person has):\n{}",
            indent(&persona.to_toml())
        );
        if args.persona_domain.is_none() && !args.demo {
            eprintln!("pixelwarden: the canary e-mail is at example.com: give --persona-domain with a domain you own");
        }
    }
    // The persona's values are known identifiers for this run: every leak of them is confirmed.
    let mut known = persona.known_identifiers();
    if let Some(k) = &engine.detectors.known {
        known.merge(k);
    }
    engine.detectors.known = Some(Arc::new(known));
    let engine = Arc::new(engine);
    let journeys = match &args.journeys {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            probe::journey::parse(&text, &path.display().to_string())
                .map_err(|e| pixelwarden::error::Error::config(e))?
        }
        None => Vec::new(),
    };
    let mut resolve = Vec::new();
    for r in &args.resolve {
        let (h, a) = r
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--resolve {r}: expected HOST=ADDR"))?;
        resolve.push((h.trim().to_string(), a.trim().to_string()));
    }
    let consent = match (args.demo, args.consent.as_str()) {
        (true, _) | (_, "all") => vec![
            ConsentMode::Ignore,
            ConsentMode::Reject,
            ConsentMode::Accept,
        ],
        (_, "ignore") => vec![ConsentMode::Ignore],
        (_, "accept") => vec![ConsentMode::Accept],
        _ => vec![ConsentMode::Reject],
    };
    if !(args.page_budget > 0.0) {
        anyhow::bail!("--page-budget must be positive");
    }
    let every = args.every.as_deref().map(parse_duration).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut urls = args.urls.clone();
        if args.demo {
            let addr = probe::demo::serve("127.0.0.1:0").await?;
            eprintln!("pixelwarden: demo: the test shop \"Apoteket Exempel\" at http://{addr}/ (its pixels are caught in the browser, nothing leaves)");
            urls = vec![format!("http://{addr}/")];
        }
        for u in &urls {
            if url::Url::parse(u).map(|x| !matches!(x.scheme(), "http" | "https")).unwrap_or(true) {
                anyhow::bail!("{u}: not an http(s) URL");
            }
        }
        let cfg = ProbeConfig {
            urls,
            max_pages: args.max_pages,
            consent,
            submit: !args.no_submit,
            journeys,
            browser: BrowserSettings {
                chromium: args.chromium.clone(),
                resolve,
                let_pixels_through: args.let_pixels_through,
                page_budget: Duration::from_secs_f64(args.page_budget),
                quiet: Duration::from_millis(600),
                request_budget: args.request_budget,
            },
            persona,
        };
        match every {
            None => {
                let outcome = once(&args, &engine, &redactor, &cfg, None).await?;
                // A one-shot run (a CronJob) alerts directly.
                if let Some((mut alerter, delivery)) = alerting(&args, Arc::new(Metrics::new()))? {
                    delivery
                        .send(alerter.observe(&outcome.records, chrono::Utc::now()))
                        .await;
                }
                Ok(outcome.code)
            }
            Some(period) => continuous(&args, &engine, &redactor, &cfg, period).await,
        }
    })
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `15m`, `1h`, `90s`, `2h30m`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return Ok(Duration::from_secs_f64(secs.max(1.0)));
    }
    let mut total = 0.0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num
            .parse()
            .map_err(|_| anyhow::anyhow!("--every {text}: expected e.g. 15m, 1h, 90s"))?;
        num.clear();
        total += n * match c {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            _ => anyhow::bail!("--every {text}: unit `{c}` (s, m, h, d)"),
        };
    }
    if !num.is_empty() {
        anyhow::bail!("--every {text}: a number needs a unit (s, m, h, d)");
    }
    if total < 1.0 {
        anyhow::bail!("--every {text}: at least one second");
    }
    Ok(Duration::from_secs_f64(total))
}

struct Outcome {
    code: ExitCode,
    records: Vec<FindingRecord>,
    walks: Vec<WalkResult>,
    errors: Vec<WalkError>,
}

/// One run: every walk, every capture through the engine, the outputs.
async fn once(
    args: &ProbeArgs,
    engine: &Arc<Engine>,
    redactor: &Redactor,
    cfg: &ProbeConfig,
    metrics: Option<&Metrics>,
) -> Result<Outcome> {
    let started = std::time::Instant::now();
    let walked = if args.time_budget > 0.0 {
        match tokio::time::timeout(
            Duration::from_secs_f64(args.time_budget),
            probe::walk_all(engine.clone(), cfg),
        )
        .await
        {
            Ok(w) => w,
            Err(_) => (
                Vec::new(),
                vec![WalkError {
                    consent: ConsentMode::Ignore,
                    journey: None,
                    start: cfg.urls.join(" "),
                    error: format!("the run passed --time-budget {} s", args.time_budget),
                }],
            ),
        }
    } else {
        probe::walk_all(engine.clone(), cfg).await
    };
    let (walks, errors) = walked;
    if let (Some(brokers), Some(topic)) = (&args.kafka_brokers, &args.kafka_topic) {
        publish(brokers, topic, &walks)?;
    }
    let mut scanner = Scanner::new(engine, redactor.clone());
    if !args.out.no_drift {
        let limits = pixelwarden::drift::DriftLimits::default();
        scanner.drift = Some(super::load_drift(args.out.state.as_deref(), limits)?);
    }
    let mut records = Vec::new();
    let mut per_walk = Vec::new();
    for w in &walks {
        let s = probe::inspect_walk(&mut scanner, w, &mut |r| records.push(r.clone()));
        per_walk.push(s);
    }
    // Findings out.
    let out: Box<dyn Write> = match &args.out.output {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("{}: cannot create", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = io::BufWriter::new(out);
    let mut summary = Summary::default();
    let mut breach = pixelwarden::drift::BreachWindows::default();
    let mut max = None;
    // With --every, each run's evidence pack is a directory of its own under --evidence.
    let evidence = args.out.evidence.as_ref().map(|d| {
        if metrics.is_some() {
            d.join(format!(
                "run-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ))
        } else {
            d.clone()
        }
    });
    let mut outputs = super::report_cmd::Outputs::new(
        args.out.report.clone(),
        evidence.clone(),
        args.out.signing_key.as_deref(),
        args.out.reveal,
    )?;
    let mut line = Vec::new();
    for r in &records {
        line.clear();
        serde_json::to_writer(&mut line, r)?;
        line.push(b'\n');
        out.write_all(&line)?;
        outputs.add(&line)?;
        summary.add(r);
        breach.add(r);
        max = max.max(Some(r.severity));
    }
    out.flush()?;
    if let Some(path) = &args.har {
        write_har(path, engine, redactor, cfg, &walks)?;
    }
    if let Some(dir) = &evidence {
        // The walk itself is part of the evidence: every captured request, redacted.
        write_har(&dir.join("walk.har"), engine, redactor, cfg, &walks)?;
    }
    if let (Some(path), Some(d)) = (&args.out.state, &scanner.drift) {
        super::save_drift(path, d)?;
    }
    if let Some(path) = &args.out.breach_report {
        std::fs::write(path, serde_json::to_vec_pretty(&breach.to_json())?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let failed_journeys: Vec<&WalkResult> = walks.iter().filter(|w| w.failure.is_some()).collect();
    let problems: usize = walks.iter().map(|w| w.page_problems.len()).sum();
    let incomplete = !errors.is_empty() || !failed_journeys.is_empty() || problems > 0;
    if let Some(m) = metrics {
        for (w, s) in walks.iter().zip(&per_walk) {
            let outcome = if w.failure.is_some() {
                "journey_failed"
            } else {
                "ok"
            };
            m.probe_walks.with_label_values(&[outcome]).inc();
            m.probe_pages.inc_by(w.pages.len() as u64);
            m.probe_requests
                .with_label_values(&["continued"])
                .inc_by(s.requests - s.blocked - s.sent_to_vendors);
            m.probe_requests
                .with_label_values(&["blocked"])
                .inc_by(s.blocked);
            m.probe_requests
                .with_label_values(&["sent_to_vendor"])
                .inc_by(s.sent_to_vendors);
        }
        m.probe_walks
            .with_label_values(&["error"])
            .inc_by(errors.len() as u64);
        for r in &records {
            m.findings
                .with_label_values(&[&r.vendor, r.class.as_str(), &r.kind, r.severity.as_str()])
                .inc();
        }
        m.probe_last_run.set(chrono::Utc::now().timestamp());
    }
    let summary_json = serde_json::json!({
        "summary": summary.to_json(),
        "walks": walks.iter().zip(&per_walk).map(|(w, s)| walk_json(w, s)).collect::<Vec<_>>(),
        "errors": errors.iter().map(|e| serde_json::json!({"consent": e.consent.as_str(), "journey": e.journey, "start": e.start, "error": e.error})).collect::<Vec<_>>(),
        "incomplete": incomplete,
    });
    if let Some(path) = &args.out.summary_json {
        std::fs::write(path, serde_json::to_vec_pretty(&summary_json)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    if outputs.wanted() {
        let packs_digest = pixelwarden::rules::packs_digest(&engine.packs);
        let mut incomplete_lines: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "walk {} [{}] did not run: {}",
                    e.start,
                    e.consent.as_str(),
                    e.error
                )
            })
            .collect();
        for w in &walks {
            incomplete_lines.extend(journey_failure(w));
            incomplete_lines.extend(w.page_problems.iter().cloned());
        }
        let meta = pixelwarden::report::html::ReportMeta {
            generated_at: super::report_cmd::now(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            packs_digest: packs_digest.clone(),
            inputs: walks
                .iter()
                .map(|w| {
                    (
                        format!(
                            "probe of {} [{}{}]: {} pages, {} requests",
                            w.start,
                            w.consent.as_str(),
                            w.journey
                                .as_deref()
                                .map(|j| format!(", journey {j}"))
                                .unwrap_or_default(),
                            w.pages.len(),
                            w.captured.len()
                        ),
                        None,
                        None,
                    )
                })
                .collect(),
            skipped: Default::default(),
            incomplete: incomplete_lines,
            command: std::env::args().collect::<Vec<_>>().join(" "),
            reveal: args.out.reveal,
        };
        outputs.finish(
            meta,
            Some(&summary_json),
            Some(&breach.to_json()),
            &[],
            &packs_digest,
        )?;
    }
    if !args.out.no_summary {
        print_summary(
            &walks,
            &per_walk,
            &errors,
            &summary,
            &breach,
            started.elapsed(),
        );
    }
    let failed = matches!((args.out.fail_on, max), (Some(bar), Some(m)) if m >= bar);
    let code = if incomplete {
        ExitCode::from(3)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    Ok(Outcome {
        code,
        records,
        walks,
        errors,
    })
}

/// The line that says where a journey stopped, if it did.
fn journey_failure(w: &WalkResult) -> Option<String> {
    w.failure.as_ref().map(|f| {
        format!(
            "journey {} [{}] failed at step {} ({}) on {}: {}",
            w.journey.as_deref().unwrap_or("-"),
            w.consent.as_str(),
            f.step,
            f.action,
            f.page,
            f.error
        )
    })
}

fn walk_json(w: &WalkResult, s: &probe::WalkSummary) -> serde_json::Value {
    serde_json::json!({
        "consent": w.consent.as_str(),
        "journey": w.journey.as_deref(),
        "start": &*w.start,
        "pages": w.pages,
        "requests": s.requests,
        "pixel_hits": s.pixel_hits,
        "blocked_in_browser": s.blocked,
        "sent_to_vendors": s.sent_to_vendors,
        "findings": s.findings,
        "over_request_budget": w.over_budget,
        "banner": w.banner,
        "decision": w.decision.as_ref().map(|d| serde_json::json!({"choice": d.choice.as_str(), "platform": d.platform, "at_ms": d.at_ms})),
        "failure": w.failure.as_ref().map(|f| serde_json::json!({"step": f.step, "action": f.action, "page": f.page, "error": f.error})),
        "page_problems": w.page_problems,
        "seconds": w.elapsed.as_secs_f64(),
    })
}

fn print_summary(
    walks: &[WalkResult],
    per_walk: &[probe::WalkSummary],
    errors: &[WalkError],
    summary: &Summary,
    breach: &pixelwarden::drift::BreachWindows,
    elapsed: Duration,
) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "\n== pixelwarden probe summary ==");
    let failed: Vec<&WalkResult> = walks.iter().filter(|w| w.failure.is_some()).collect();
    if !errors.is_empty() || !failed.is_empty() || walks.iter().any(|w| !w.page_problems.is_empty())
    {
        let _ = writeln!(err, "INCOMPLETE (exit code 3):");
        for e in errors {
            let _ = writeln!(
                err,
                "  walk did not run: {} [{}{}]: {}",
                e.start,
                e.consent.as_str(),
                e.journey
                    .as_deref()
                    .map(|j| format!(", journey {j}"))
                    .unwrap_or_default(),
                e.error
            );
        }
        for w in &failed {
            if let Some(line) = journey_failure(w) {
                let _ = writeln!(err, "  {line}");
            }
        }
        for w in walks {
            for p in &w.page_problems {
                let _ = writeln!(err, "  page [{}]: {p}", w.consent.as_str());
            }
        }
        let _ = writeln!(err);
    }
    let _ = writeln!(
        err,
        "{:<8} {:<12} {:>5} {:>8} {:>10} {:>8} {:>9}  banner",
        "consent", "walk", "pages", "requests", "pixel hits", "blocked", "findings"
    );
    for (w, s) in walks.iter().zip(per_walk) {
        let banner = match (&w.banner, &w.decision) {
            (None, _) => "none seen".to_string(),
            (Some(p), None) => format!("{p} (not answered)"),
            (Some(_), Some(d)) => format!(
                "{} → {} at {:.1} s",
                d.platform,
                d.choice.as_str(),
                d.at_ms as f64 / 1000.0
            ),
        };
        let _ = writeln!(
            err,
            "{:<8} {:<12} {:>5} {:>8} {:>10} {:>8} {:>9}  {banner}",
            w.consent.as_str(),
            w.journey.as_deref().unwrap_or("crawl"),
            w.pages.len(),
            s.requests,
            s.pixel_hits,
            s.blocked,
            s.findings,
        );
    }
    let sent: u64 = per_walk.iter().map(|s| s.sent_to_vendors).sum();
    let hits: u64 = per_walk.iter().map(|s| s.pixel_hits).sum();
    let _ = writeln!(
        err,
        "{}",
        if sent == 0 {
            format!("safety: {hits} pixel requests were captured and failed inside the browser; nothing was sent to a vendor")
        } else {
            format!("safety: --let-pixels-through: {sent} pixel requests were sent to vendors")
        }
    );
    let _ = writeln!(err);
    if summary.is_empty() {
        let _ = writeln!(err, "no findings");
    } else {
        let _ = write!(err, "{}", summary.render());
    }
    if !breach.is_empty() {
        let _ = writeln!(
            err,
            "\nbreach windows (identity and Art. 9 data by site, vendor, pixel and field):"
        );
        let _ = write!(err, "{}", breach.render());
    }
    let _ = writeln!(
        err,
        "\n{} walks in {:.1} s",
        walks.len(),
        elapsed.as_secs_f64()
    );
}

/// The captured requests as one HAR 1.2 file: every value the engine flags and every canary
/// value redacted, unless --reveal.
fn write_har(
    path: &std::path::Path,
    engine: &Engine,
    redactor: &Redactor,
    cfg: &ProbeConfig,
    walks: &[WalkResult],
) -> Result<()> {
    let mut red = Redactions::default();
    if !redactor.reveal() {
        let p = &cfg.persona;
        for (v, what) in [
            (&p.email, "[canary email]"),
            (&p.phone, "[canary phone]"),
            (&p.personnummer, "[canary personnummer]"),
            (&p.first_name, "[canary first name]"),
            (&p.last_name, "[canary last name]"),
            (&p.street, "[canary street]"),
            (&p.postal_code, "[canary postal code]"),
        ] {
            red.add(v, what);
        }
        for w in walks {
            for c in &w.captured {
                red.add_findings(engine, redactor, &c.to_request());
            }
        }
    }
    let mut entries = Vec::new();
    let mut pages = Vec::new();
    for w in walks {
        for p in &w.pages {
            pages.push(serde_json::json!({
                "startedDateTime": w.started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "id": red.apply(p),
                "title": format!("{} [{}{}]", red.apply(p), w.consent.as_str(), w.journey.as_deref().map(|j| format!(", {j}")).unwrap_or_default()),
                "pageTimings": {},
            }));
        }
        for c in &w.captured {
            let mut e = c.har_entry(w.started, &red);
            e["pageref"] = serde_json::Value::String(red.apply(&c.page));
            entries.push(e);
        }
    }
    let har = serde_json::json!({"log": {
        "version": "1.2",
        "creator": {"name": "pixelwarden probe", "version": env!("CARGO_PKG_VERSION"), "comment": if redactor.reveal() { "values as captured (--reveal)" } else { "personal and canary values redacted" }},
        "pages": pages,
        "entries": entries,
    }});
    std::fs::write(path, serde_json::to_vec_pretty(&har)?)
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Every captured request as a HAR-entry JSON message (keyed by page), acknowledged before
/// the run goes on.
fn publish(brokers: &str, topic: &str, walks: &[WalkResult]) -> Result<()> {
    let mut producer =
        pixelwarden::service::sinks::DurableProducer::new(brokers, &Default::default())?;
    for w in walks {
        for c in &w.captured {
            let entry = c.har_entry(w.started, &Redactions::none());
            producer.send(topic, c.page.as_bytes(), entry.to_string().as_bytes())?;
        }
    }
    producer
        .sync()
        .map_err(|f| f.into_error().context(format!("--kafka-topic {topic}")))
}

/// Alerts to Alertmanager or a webhook, when either is given.
fn alerting(args: &ProbeArgs, metrics: Arc<Metrics>) -> Result<Option<(Alerter, Delivery)>> {
    let cfg = AlertConfig {
        alertmanager_url: args.alertmanager_url.clone(),
        webhook_url: args.webhook_url.clone(),
        ..AlertConfig::default()
    };
    if !cfg.enabled() {
        return Ok(None);
    }
    Ok(Some((
        Alerter::new(&cfg).map_err(|e| anyhow::anyhow!(e))?,
        Delivery::new(cfg, metrics)?,
    )))
}

/// `--every`: walk, report, sleep; /metrics and alerts between runs. Ends on Ctrl-C/SIGTERM.
async fn continuous(
    args: &ProbeArgs,
    engine: &Arc<Engine>,
    redactor: &Redactor,
    cfg: &ProbeConfig,
    period: Duration,
) -> Result<ExitCode> {
    let metrics = Arc::new(Metrics::new());
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(true));
    if let Some(listen) = &args.metrics_listen {
        let addr =
            pixelwarden::service::http::serve(listen, metrics.clone(), ready.clone()).await?;
        eprintln!("pixelwarden: metrics at http://{addr}/metrics");
    }
    let mut alerter = alerting(args, metrics.clone())?;
    let mut stop = Box::pin(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    });
    let last = loop {
        let outcome = once(args, engine, redactor, cfg, Some(&metrics)).await?;
        if let Some((alerter, delivery)) = alerter.as_mut() {
            let now = chrono::Utc::now();
            let mut due = alerter.observe(&outcome.records, now);
            due.extend(alerter.tick(now));
            delivery.send(due).await;
        }
        eprintln!(
            "pixelwarden: probe run done ({} walks, {} findings, {} walks failed); next in {:.0} s",
            outcome.walks.len(),
            outcome.records.len(),
            outcome.errors.len(),
            period.as_secs_f64()
        );
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = &mut stop => break outcome.code,
        }
    };
    Ok(last)
}
