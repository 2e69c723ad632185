//! Probe: walk a company's own site in headless Chromium with a canary identity and inspect
//! every request its pages make. A captured request joins the flow at `pixel` as a
//! [`crate::request::Request`] with an [`crate::request::Origin::Probe`]; everything after
//! that (recognition, decoding, detection, drift, redaction, sinks) is shared with `scan` and
//! `run`.
//!
//! - [`persona`]: the canary identity, and its values as known identifiers;
//! - [`banner`]: consent banners from the consent packs (pure);
//! - [`journey`]: scripted journeys (pure);
//! - [`capture`]: a captured request as a `Request` and as a redacted HAR entry (pure);
//! - [`browser`]: the async edge driving Chromium over the DevTools protocol.

pub mod banner;
pub mod browser;
pub mod capture;
pub mod demo;
pub mod journey;
pub mod persona;

use crate::detect::{Class, Finding, RawValue, Severity};
use crate::format::Format;
use crate::pipeline::{Engine, Scanner};
use crate::redact::FindingRecord;
use crate::request::Origin;
use browser::{BrowserSettings, ConsentMode, Plan, WalkResult};
use capture::Phase;
use std::sync::Arc;

/// What to walk and how.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub urls: Vec<String>,
    pub max_pages: usize,
    pub consent: Vec<ConsentMode>,
    /// Submit the forms the walk filled (`--no-submit` turns it off).
    pub submit: bool,
    pub journeys: Vec<(journey::Journey, Vec<(journey::Step, f64)>)>,
    pub browser: BrowserSettings,
    pub persona: persona::Persona,
}

/// One walk's place in the run, for errors that kept it from happening at all.
#[derive(Debug)]
pub struct WalkError {
    pub consent: ConsentMode,
    pub journey: Option<String>,
    pub start: String,
    pub error: String,
}

/// Every walk of a run: the crawl of each URL and each journey, once per consent mode.
pub async fn walk_all(engine: Arc<Engine>, cfg: &ProbeConfig) -> (Vec<WalkResult>, Vec<WalkError>) {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for &consent in &cfg.consent {
        let mut plans: Vec<(String, Plan)> = cfg
            .urls
            .iter()
            .map(|u| {
                (
                    u.clone(),
                    Plan::Crawl {
                        max_pages: cfg.max_pages,
                        submit: cfg.submit,
                    },
                )
            })
            .collect();
        for (j, steps) in &cfg.journeys {
            let base = cfg.urls.first().cloned().unwrap_or_default();
            let start = match &j.start {
                Some(s) => browser::resolve_url(&base, s).unwrap_or_else(|| s.clone()),
                None => base,
            };
            plans.push((
                start,
                Plan::Journey {
                    name: j.name.clone(),
                    steps: steps.clone(),
                },
            ));
        }
        for (start, plan) in plans {
            let journey = match &plan {
                Plan::Journey { name, .. } => Some(name.clone()),
                Plan::Crawl { .. } => None,
            };
            match browser::walk(
                engine.clone(),
                &cfg.persona,
                &cfg.browser,
                consent,
                &start,
                &plan,
            )
            .await
            {
                Ok(w) => done.push(w),
                Err(e) => failed.push(WalkError {
                    consent,
                    journey,
                    start,
                    error: format!("{e:#}"),
                }),
            }
        }
    }
    (done, failed)
}

/// What a walk's captures became.
#[derive(Debug, Default)]
pub struct WalkSummary {
    pub requests: u64,
    /// Requests to recognised pixel endpoints, and how many of them were failed in the browser.
    pub pixel_hits: u64,
    pub blocked: u64,
    /// Requests that left the browser to a recognised pixel endpoint (only with
    /// `--let-pixels-through`).
    pub sent_to_vendors: u64,
    pub findings: u64,
}

/// Every captured request of a walk through the engine, with the timing findings only the
/// probe can make: a pixel hit before the consent banner was answered, or after "reject".
pub fn inspect_walk(
    scanner: &mut Scanner,
    walk: &WalkResult,
    emit: &mut dyn FnMut(&FindingRecord),
) -> WalkSummary {
    let mut summary = WalkSummary::default();
    let banner = walk.banner.clone();
    let decision = walk.decision.clone();
    for c in &walk.captured {
        summary.requests += 1;
        let mut req = c.to_request();
        req.ts = Some(walk.started + chrono::Duration::milliseconds(c.at_ms as i64));
        let origin = Origin::Probe {
            probe: walk.start.clone(),
            page: c.page.clone(),
            request: c.seq,
            journey: walk.journey.clone(),
            consent: walk.consent.as_str(),
        };
        let is_hit = scanner.engine.recognizer.is_hit(&req);
        if is_hit {
            summary.pixel_hits += 1;
            if c.blocked {
                summary.blocked += 1;
            } else {
                summary.sent_to_vendors += 1;
            }
        }
        let records = scanner.request_with(&req, &origin, Format::HarEntry, |beacon, findings| {
            consent_finding(
                c.phase,
                c.at_ms,
                banner.as_deref(),
                decision.as_ref(),
                beacon,
                findings,
            )
            .into_iter()
            .collect()
        });
        summary.findings += records.len() as u64;
        for r in &records {
            emit(r);
        }
    }
    summary
}

/// The timing finding for one pixel hit, if its moment says consent was not respected.
fn consent_finding(
    phase: Phase,
    at_ms: u64,
    banner: Option<&str>,
    decision: Option<&browser::Decision>,
    beacon: &crate::pixel::Beacon,
    findings: &[Finding],
) -> Option<Finding> {
    let platform = decision
        .map(|d| d.platform.as_str())
        .or(banner)
        .unwrap_or("unknown");
    let (kind, evidence) = match phase {
        Phase::BeforeDecision if banner.is_some() => (
            "fired_without_consent",
            format!(
                "sent {:.2} s into the walk, before the consent banner ({platform}) was answered",
                at_ms as f64 / 1000.0
            ),
        ),
        Phase::AfterReject => (
            "fired_after_reject",
            format!(
                "sent {:.2} s after \"reject\" on the consent banner ({platform})",
                decision.map_or(0, |d| at_ms.saturating_sub(d.at_ms)) as f64 / 1000.0
            ),
        ),
        _ => return None,
    };
    let identity = findings.iter().any(|f| f.class.is_identity());
    // A Google hit that itself says storage is denied (consent mode's cookieless ping) and
    // carries no identity did as it was told; anything else ignored the visitor's choice.
    let told_denied = beacon.consent.as_ref().is_some_and(|c| c.denied());
    let severity = if identity {
        Severity::Critical
    } else if told_denied {
        Severity::Low
    } else {
        Severity::High
    };
    Some(Finding {
        class: Class::Consent,
        kind: Arc::from(kind),
        detector: Arc::from("probe-consent-timing"),
        field: "timing".into(),
        event: 0,
        chain: Default::default(),
        severity,
        value: RawValue::new(evidence),
        norm: RawValue::new(format!(
            "{kind}:{}:{}",
            beacon.endpoint,
            beacon.pixel_id.as_deref().unwrap_or("-")
        )),
        algorithm: None,
        confirmed: false,
        test_value: false,
    })
}
