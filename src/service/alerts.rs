//! Alerts for people: findings at or above a severity become alerts, deduplicated per
//! (site, vendor, pixel id, detector) within a window, with counts. Delivered to Alertmanager
//! (API v2; re-sent while firing, resolved when quiet), to a generic JSON webhook (retries with
//! backoff, then a dead-letter file) and/or stdout. Evidence is the already-redacted evidence of
//! the finding: alerts carry no raw value.

use super::metrics::Metrics;
use crate::detect::Severity;
use crate::redact::FindingRecord;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Findings at or above this severity alert.
    pub min_severity: String,
    /// Dedupe window; an alert resolves when its key has been quiet this long.
    pub window_seconds: u64,
    /// How often a firing alert is re-sent to Alertmanager.
    pub resend_seconds: u64,
    pub alertmanager_url: Option<String>,
    pub webhook_url: Option<String>,
    /// Webhook alerts that could not be delivered after the retries are appended here.
    pub webhook_dead_letter: Option<PathBuf>,
    pub stdout: bool,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            min_severity: "high".into(),
            window_seconds: 600,
            resend_seconds: 60,
            alertmanager_url: None,
            webhook_url: None,
            webhook_dead_letter: None,
            stdout: false,
        }
    }
}

impl AlertConfig {
    pub fn enabled(&self) -> bool {
        self.alertmanager_url.is_some() || self.webhook_url.is_some() || self.stdout
    }
}

/// One alert as sent: Alertmanager's shape, which the webhook and stdout reuse.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    /// A re-send of a firing alert (for Alertmanager only).
    #[serde(skip)]
    pub resend: bool,
}

#[derive(Debug)]
struct Active {
    alert: Alert,
    count: u64,
    last_seen: DateTime<Utc>,
    last_sent: DateTime<Utc>,
}

/// The dedupe state. Pure: time is passed in.
#[derive(Debug)]
pub struct Alerter {
    min: Severity,
    window: chrono::Duration,
    resend: chrono::Duration,
    active: HashMap<(String, String, String, String), Active>,
}

impl Alerter {
    pub fn new(cfg: &AlertConfig) -> Result<Alerter, String> {
        Ok(Alerter {
            min: cfg.min_severity.parse()?,
            window: chrono::Duration::seconds(cfg.window_seconds as i64),
            resend: chrono::Duration::seconds(cfg.resend_seconds.max(1) as i64),
            active: HashMap::new(),
        })
    }

    /// Findings in; alerts to send now out (a new key fires at once; repeats only count).
    pub fn observe(&mut self, records: &[FindingRecord], now: DateTime<Utc>) -> Vec<Alert> {
        let mut out = Vec::new();
        for r in records.iter().filter(|r| r.severity >= self.min) {
            let site = r.site.clone().unwrap_or_else(|| "unknown".into());
            let pixel = r.pixel_id.clone().unwrap_or_else(|| "-".into());
            let key = (
                site.clone(),
                r.vendor.to_string(),
                pixel.clone(),
                r.detector.to_string(),
            );
            match self.active.get_mut(&key) {
                Some(a) => {
                    a.count += 1;
                    a.last_seen = now;
                    a.alert
                        .annotations
                        .insert("count".into(), a.count.to_string());
                    // The severity label stays: a changed label would be a new alert to Alertmanager.
                    if r.severity > severity_of(&a.alert) {
                        a.alert
                            .annotations
                            .insert("max_severity".into(), r.severity.as_str().into());
                    }
                }
                None => {
                    let mut labels = BTreeMap::new();
                    labels.insert("alertname".into(), "PixelwardenFinding".into());
                    labels.insert("severity".into(), r.severity.as_str().into());
                    labels.insert("site".into(), site.clone());
                    labels.insert("vendor".into(), r.vendor.to_string());
                    labels.insert("detector".into(), r.detector.to_string());
                    labels.insert("class".into(), r.class.as_str().into());
                    let mut annotations = BTreeMap::new();
                    annotations.insert(
                        "summary".into(),
                        format!(
                            "{} pixel {} on {} sends {}/{} ({})",
                            r.vendor,
                            pixel,
                            site,
                            r.class.as_str(),
                            r.kind,
                            r.detector
                        ),
                    );
                    annotations.insert("evidence".into(), format!("{} = {}", r.field, r.evidence));
                    annotations.insert("pixel_id".into(), pixel);
                    annotations.insert("type".into(), r.kind.to_string());
                    annotations.insert("count".into(), "1".into());
                    annotations.insert("first_event_time".into(), r.ts.clone().unwrap_or_default());
                    let alert = Alert {
                        labels,
                        annotations,
                        starts_at: rfc3339(now),
                        ends_at: None,
                        resend: false,
                    };
                    out.push(alert.clone());
                    self.active.insert(
                        key,
                        Active {
                            alert,
                            count: 1,
                            last_seen: now,
                            last_sent: now,
                        },
                    );
                }
            }
        }
        out
    }

    /// Re-send firing alerts that are due, resolve the quiet ones. Re-sends are marked
    /// (`Alert::resend`) so that only Alertmanager, which needs them, receives them.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Alert> {
        let mut out = Vec::new();
        let window = self.window;
        let resend = self.resend;
        self.active.retain(|_, a| {
            if now - a.last_seen >= window {
                let mut resolved = a.alert.clone();
                resolved.ends_at = Some(rfc3339(now));
                out.push(resolved);
                return false;
            }
            if now - a.last_sent >= resend {
                a.last_sent = now;
                let mut again = a.alert.clone();
                again.resend = true;
                out.push(again);
            }
            true
        });
        out
    }

    pub fn firing(&self) -> usize {
        self.active.len()
    }
}

fn severity_of(a: &Alert) -> Severity {
    a.labels
        .get("severity")
        .and_then(|s| s.parse().ok())
        .unwrap_or(Severity::Info)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Delivery to the configured receivers.
#[derive(Clone)]
pub struct Delivery {
    client: reqwest::Client,
    cfg: Arc<AlertConfig>,
    metrics: Arc<Metrics>,
}

impl Delivery {
    pub fn new(cfg: AlertConfig, metrics: Arc<Metrics>) -> anyhow::Result<Delivery> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Delivery {
            client,
            cfg: Arc::new(cfg),
            metrics,
        })
    }

    /// Send a batch to every receiver; failures are counted and (webhook) dead-lettered.
    pub async fn send(&self, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        if self.cfg.stdout {
            let mut out = std::io::stdout().lock();
            for a in alerts.iter().filter(|a| !a.resend) {
                let line = serde_json::json!({"schema": "pixelwarden.alert/v1", "status": if a.ends_at.is_some() { "resolved" } else { "firing" }, "alert": a});
                let _ = writeln!(out, "{line}");
            }
            self.metrics
                .alerts_sent
                .with_label_values(&["stdout"])
                .inc_by(alerts.iter().filter(|a| !a.resend).count() as u64);
        }
        if let Some(url) = &self.cfg.alertmanager_url {
            let endpoint = format!("{}/api/v2/alerts", url.trim_end_matches('/'));
            match self
                .client
                .post(&endpoint)
                .json(&alerts)
                .send()
                .await
                .and_then(|r| r.error_for_status())
            {
                Ok(_) => self
                    .metrics
                    .alerts_sent
                    .with_label_values(&["alertmanager"])
                    .inc_by(alerts.len() as u64),
                Err(e) => {
                    self.metrics
                        .alerts_failed
                        .with_label_values(&["alertmanager"])
                        .inc_by(alerts.len() as u64);
                    tracing::warn!(target: "pixelwarden::alerts", "alertmanager: {e} (re-sent while firing)");
                }
            }
        }
        if let Some(url) = &self.cfg.webhook_url {
            for a in alerts.into_iter().filter(|a| !a.resend) {
                self.webhook(url, &a).await;
            }
        }
    }

    async fn webhook(&self, url: &str, a: &Alert) {
        let body = serde_json::json!({"schema": "pixelwarden.alert/v1", "status": if a.ends_at.is_some() { "resolved" } else { "firing" }, "alert": a});
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=4 {
            match self
                .client
                .post(url)
                .json(&body)
                .send()
                .await
                .and_then(|r| r.error_for_status())
            {
                Ok(_) => {
                    self.metrics
                        .alerts_sent
                        .with_label_values(&["webhook"])
                        .inc();
                    return;
                }
                Err(e) if attempt < 4 => {
                    tracing::debug!(target: "pixelwarden::alerts", "webhook attempt {attempt} failed: {e}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    tracing::warn!(target: "pixelwarden::alerts", "webhook failed after {attempt} attempts: {e}")
                }
            }
        }
        self.metrics
            .alerts_failed
            .with_label_values(&["webhook"])
            .inc();
        if let Some(path) = &self.cfg.webhook_dead_letter {
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| writeln!(f, "{body}"));
            if let Err(e) = written {
                tracing::warn!(target: "pixelwarden::alerts", "dead-letter {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Class;
    use crate::format::Format;
    use crate::request::Origin;

    fn record(site: &str, severity: Severity) -> FindingRecord {
        FindingRecord {
            schema: crate::redact::SCHEMA,
            ts: Some("2024-03-04T08:00:00.000Z".into()),
            source: Origin::Line {
                path: "x".into(),
                line: 1,
            },
            format: Format::Squid,
            site: Some(site.into()),
            vendor: "meta".into(),
            endpoint: "meta-pixel".into(),
            pixel_id: Some("42".into()),
            event: None,
            class: Class::HashedPii,
            kind: "email".into(),
            detector: "meta-advanced-matching".into(),
            field: "udff[em]".into(),
            decode: Default::default(),
            evidence: "7ad5bc… (sha256, 64 chars)".into(),
            revealed: false,
            fingerprint: "hm1:0".into(),
            severity,
            hash: None,
            confirmed: false,
            test_value: false,
            action: None,
            consent: None,
            truncated: false,
        }
    }

    #[test]
    fn dedupe_count_resend_and_resolve() {
        let cfg = AlertConfig {
            window_seconds: 600,
            resend_seconds: 60,
            ..AlertConfig::default()
        };
        let mut a = Alerter::new(&cfg).unwrap();
        let t0 = Utc::now();
        let first = a.observe(
            &[
                record("a.se", Severity::High),
                record("a.se", Severity::High),
                record("b.se", Severity::Low),
            ],
            t0,
        );
        assert_eq!(
            first.len(),
            1,
            "one key fires once; low severity does not alert"
        );
        assert_eq!(first[0].labels["site"], "a.se");
        assert!(a.tick(t0 + chrono::Duration::seconds(30)).is_empty());
        let again = a.tick(t0 + chrono::Duration::seconds(61));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].annotations["count"], "2");
        assert!(again[0].resend, "re-sends are for Alertmanager only");
        assert!(again[0].ends_at.is_none());
        let resolved = a.tick(t0 + chrono::Duration::seconds(700));
        assert_eq!(resolved.len(), 1);
        assert!(resolved[0].ends_at.is_some());
        assert_eq!(a.firing(), 0);
    }
}
