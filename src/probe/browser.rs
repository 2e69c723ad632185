//! The probe's browser side: one headless Chromium (Debian's) per walk, driven over the
//! DevTools protocol. Every request a page makes is paused before it is sent, captured with its
//! method, URL, headers and body, and then either continued or — when the engine recognises a
//! pixel endpoint and `--let-pixels-through` is off — failed inside the browser, so nothing,
//! not even a canary, reaches a vendor. This is the async edge of the probe; what the captures
//! mean is decided by the same engine as every other source.

use super::banner::Choice;
use super::capture::{Captured, Phase};
use super::journey::{Step, Value};
use super::persona::Persona;
use crate::pipeline::Engine;
use anyhow::{Context as _, Result};
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EventRequestPaused, FailRequestParams,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, SetBypassServiceWorkerParams};
use chromiumoxide::cdp::browser_protocol::page::StopLoadingParams;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::Page;
use futures::StreamExt;
use serde::Deserialize;
use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the browser is run.
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    pub chromium: PathBuf,
    /// `HOST=ADDR` host mappings (tests, air-gapped demos).
    pub resolve: Vec<(String, String)>,
    pub let_pixels_through: bool,
    /// Longest a page may take: load, settle, banner, forms.
    pub page_budget: Duration,
    /// The network counts as settled after this long without a new request.
    pub quiet: Duration,
    /// Most requests captured per page; past it, further requests are failed and counted.
    pub request_budget: usize,
}

/// A consent mode of a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentMode {
    Ignore,
    Reject,
    Accept,
}

impl ConsentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMode::Ignore => "ignore",
            ConsentMode::Reject => "reject",
            ConsentMode::Accept => "accept",
        }
    }
}

/// What one walk does: crawl from a start URL, or follow a journey.
#[derive(Debug, Clone)]
pub enum Plan {
    Crawl {
        max_pages: usize,
        submit: bool,
    },
    Journey {
        name: String,
        steps: Vec<(Step, f64)>,
    },
}

/// How the walk answered the consent banner.
#[derive(Debug, Clone)]
pub struct Decision {
    pub at_ms: u64,
    pub choice: Choice,
    /// The platform recognised (`onetrust`, ...) or `generic`.
    pub platform: String,
    pub via: String,
}

/// A journey step that failed: the journey stops there.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub step: usize,
    pub action: String,
    pub page: String,
    pub error: String,
}

/// Everything a walk saw.
#[derive(Debug, Clone)]
pub struct WalkResult {
    pub consent: ConsentMode,
    pub journey: Option<Arc<str>>,
    pub start: Arc<str>,
    pub started: chrono::DateTime<chrono::Utc>,
    pub pages: Vec<String>,
    pub captured: Vec<Captured>,
    /// The consent platform whose banner was seen, if any.
    pub banner: Option<String>,
    pub decision: Option<Decision>,
    pub failure: Option<StepFailure>,
    /// Pages that did not finish within the budget, or failed to load.
    pub page_problems: Vec<String>,
    /// Requests failed because a page passed the request budget.
    pub over_budget: u64,
    pub elapsed: Duration,
}

/// State shared with the interception task.
struct Shared {
    captured: Vec<Captured>,
    page: Arc<str>,
    phase: Phase,
    seq: u64,
    last_request: Instant,
    page_requests: usize,
    over_budget: u64,
}

#[derive(Debug, Deserialize)]
struct InputInfo {
    i: usize,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    id: String,
    placeholder: String,
    label: String,
    autocomplete: String,
    form: i64,
}

#[derive(Debug, Deserialize)]
struct BannerAnswer {
    platform: Option<String>,
    action: Option<String>,
    via: Option<String>,
}

const PAGE_JS: &str = include_str!("../../assets/probe/page.js");

/// Run in every document before its own scripts: `navigator.serviceWorker.register` rejects,
/// as it does where service workers are disabled.
const REFUSE_SERVICE_WORKERS: &str = r#"(() => {
  try {
    if (typeof ServiceWorkerContainer === 'undefined') return;
    const refuse = function () {
      return Promise.reject(new DOMException('service workers are disabled in this browser', 'SecurityError'));
    };
    Object.defineProperty(ServiceWorkerContainer.prototype, 'register', {
      value: refuse, writable: false, configurable: false, enumerable: true
    });
  } catch (e) {}
})();"#;

/// Chromium must run without its sandbox as root (containers, CI).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// One walk in a fresh browser with an empty profile.
pub async fn walk(
    engine: Arc<Engine>,
    persona: &Persona,
    settings: &BrowserSettings,
    consent: ConsentMode,
    start: &str,
    plan: &Plan,
) -> Result<WalkResult> {
    let profile = std::env::temp_dir().join(format!(
        "pixelwarden-probe-{}-{:x}",
        std::process::id(),
        rand_u64()
    ));
    std::fs::create_dir_all(&profile).context("cannot create a browser profile directory")?;
    let mut builder = BrowserConfig::builder()
        .chrome_executable(&settings.chromium)
        .new_headless_mode()
        .enable_request_intercept()
        .user_data_dir(&profile)
        .launch_timeout(Duration::from_secs(30))
        .request_timeout(settings.page_budget.max(Duration::from_secs(5)))
        .viewport(Viewport {
            width: 1280,
            height: 900,
            ..Viewport::default()
        })
        // The machine may have no network: no background fetches, updates or QUIC probes.
        .args([
            "disable-gpu",
            "disable-quic",
            "no-first-run",
            "disable-component-update",
            "disable-sync",
            "disable-domain-reliability",
            "disable-dev-shm-usage",
            // Cross-site iframes stay in the page's process, so their requests are captured too.
            "disable-site-isolation-trials",
        ])
        .arg((
            "disable-features",
            "IsolateOrigins,site-per-process,HttpsUpgrades",
        ));
    if running_as_root() {
        builder = builder.no_sandbox();
    }
    if !settings.resolve.is_empty() {
        let rules: Vec<String> = settings
            .resolve
            .iter()
            .map(|(h, a)| format!("MAP {h} {a}"))
            .collect();
        builder = builder.arg(("host-resolver-rules", rules.join(",").as_str()));
    }
    let config = builder
        .build()
        .map_err(|e| anyhow::anyhow!("browser configuration: {e}"))?;
    let (mut browser, mut handler) = Browser::launch(config).await.with_context(|| {
        format!(
            "cannot start Chromium at {} (install Debian's `chromium`, or give --chromium)",
            settings.chromium.display()
        )
    })?;
    let handler_task = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let started_at = Instant::now();
    let started = chrono::Utc::now();
    let shared = Arc::new(Mutex::new(Shared {
        captured: Vec::new(),
        page: Arc::from(start),
        phase: Phase::BeforeDecision,
        seq: 0,
        last_request: Instant::now(),
        page_requests: 0,
        over_budget: 0,
    }));
    let result = async {
        let page = browser.new_page("about:blank").await?;
        // Service workers run in targets of their own, outside this page's interception: a
        // worker's fetch() (passing the page's requests on, or its own) would reach the vendor
        // uncaptured. So no worker may register (refused before any page script runs, in every
        // frame), and the page's requests bypass any worker regardless.
        page.evaluate_on_new_document(REFUSE_SERVICE_WORKERS)
            .await
            .context("cannot refuse service workers in the page")?;
        page.execute(SetBypassServiceWorkerParams::new(true))
            .await
            .context("cannot make the page bypass service workers")?;
        let interception = intercept(
            page.clone(),
            engine.clone(),
            shared.clone(),
            settings.clone(),
            started_at,
        )
        .await?;
        let mut w = Walker {
            page,
            engine: engine.clone(),
            persona,
            settings,
            consent,
            shared: shared.clone(),
            started_at,
            pages: Vec::new(),
            banner: None,
            decision: None,
            problems: Vec::new(),
            banner_checked: false,
        };
        let failure = match plan {
            Plan::Crawl { max_pages, submit } => {
                w.crawl(start, *max_pages, *submit).await;
                None
            }
            Plan::Journey { steps, .. } => w.journey(start, steps).await,
        };
        interception.abort();
        let (pages, banner, decision, problems) = (w.pages, w.banner, w.decision, w.problems);
        Ok::<_, anyhow::Error>((pages, banner, decision, problems, failure))
    }
    .await;
    let _ = browser.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), browser.wait()).await;
    let _ = browser.kill().await;
    handler_task.abort();
    let _ = std::fs::remove_dir_all(&profile);
    let (pages, banner, decision, problems, failure) = result?;
    let shared = std::mem::replace(
        &mut *shared.lock().unwrap_or_else(|p| p.into_inner()),
        Shared {
            captured: Vec::new(),
            page: Arc::from(""),
            phase: Phase::NoBanner,
            seq: 0,
            last_request: Instant::now(),
            page_requests: 0,
            over_budget: 0,
        },
    );
    Ok(WalkResult {
        consent,
        journey: match plan {
            Plan::Journey { name, .. } => Some(Arc::from(name.as_str())),
            Plan::Crawl { .. } => None,
        },
        start: Arc::from(start),
        started,
        pages,
        captured: shared.captured,
        banner,
        decision,
        failure,
        page_problems: problems,
        over_budget: shared.over_budget,
        elapsed: started_at.elapsed(),
    })
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Pause every request of the page, capture it, and continue it or fail it in the browser.
async fn intercept(
    page: Page,
    engine: Arc<Engine>,
    shared: Arc<Mutex<Shared>>,
    settings: BrowserSettings,
    started: Instant,
) -> Result<tokio::task::JoinHandle<()>> {
    let mut paused = page
        .event_listener::<EventRequestPaused>()
        .await
        .context("cannot listen for paused requests")?;
    Ok(tokio::spawn(async move {
        while let Some(ev) = paused.next().await {
            let r = &ev.request;
            let headers: Vec<(String, String)> = r
                .headers
                .inner()
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let body = r.post_data_entries.as_ref().map(|entries| {
                let mut b = Vec::new();
                for e in entries {
                    if let Some(bytes) = &e.bytes {
                        use base64::Engine as _;
                        let text: &str = bytes.as_ref();
                        if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(text) {
                            b.extend(d);
                        }
                    }
                }
                b
            });
            let url = match &r.url_fragment {
                Some(f) => format!("{}{f}", r.url),
                None => r.url.clone(),
            };
            let mut c = Captured {
                seq: 0,
                at_ms: started.elapsed().as_millis() as u64,
                page: Arc::from(""),
                method: r.method.clone(),
                url,
                headers,
                body: body.filter(|b| !b.is_empty()),
                resource_type: format!("{:?}", ev.resource_type),
                blocked: false,
                phase: Phase::BeforeDecision,
            };
            let is_pixel = engine.recognizer.is_hit(&c.to_request());
            let over = {
                let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                s.seq += 1;
                s.page_requests += 1;
                s.last_request = Instant::now();
                c.seq = s.seq;
                c.page = s.page.clone();
                c.phase = s.phase;
                let over = s.page_requests > settings.request_budget;
                if over {
                    s.over_budget += 1;
                }
                c.blocked = (is_pixel && !settings.let_pixels_through) || over;
                let block = c.blocked;
                if !over {
                    s.captured.push(c);
                }
                (block, over)
            };
            let result = if over.0 {
                page.execute(FailRequestParams::new(
                    ev.request_id.clone(),
                    ErrorReason::BlockedByClient,
                ))
                .await
                .map(|_| ())
            } else {
                page.execute(ContinueRequestParams::new(ev.request_id.clone()))
                    .await
                    .map(|_| ())
            };
            if let Err(e) = result {
                tracing::debug!(target: "pixelwarden::probe", "interception: {e}");
            }
        }
    }))
}

struct Walker<'a> {
    page: Page,
    engine: Arc<Engine>,
    persona: &'a Persona,
    settings: &'a BrowserSettings,
    consent: ConsentMode,
    shared: Arc<Mutex<Shared>>,
    started_at: Instant,
    pages: Vec<String>,
    banner: Option<String>,
    decision: Option<Decision>,
    problems: Vec<String>,
    banner_checked: bool,
}

impl Walker<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Breadth-first over same-site links from `start`.
    async fn crawl(&mut self, start: &str, max_pages: usize, submit: bool) {
        let mut queue: VecDeque<String> = VecDeque::from([strip_fragment(start)]);
        let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
        let site = site_of(start);
        while let Some(url) = queue.pop_front() {
            if self.pages.len() >= max_pages.max(1) {
                break;
            }
            let deadline = Instant::now() + self.settings.page_budget;
            if !self.visit(&url, deadline).await {
                continue;
            }
            self.consent_step(deadline).await;
            // Links before the forms: a submitted form navigates away.
            let links: Vec<String> = self.eval("window.__pw.links()").await.unwrap_or_default();
            self.forms(submit, deadline).await;
            for link in links {
                let link = strip_fragment(&link);
                if site_of(&link) == site && !is_download(&link) && seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
    }

    /// Follow a journey's steps; the first failure stops it.
    async fn journey(&mut self, start: &str, steps: &[(Step, f64)]) -> Option<StepFailure> {
        let deadline = Instant::now() + self.settings.page_budget;
        if !self.visit(start, deadline).await {
            return Some(StepFailure {
                step: 0,
                action: format!("goto {start}"),
                page: start.to_string(),
                error: self
                    .problems
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "did not load".into()),
            });
        }
        for (i, (step, timeout)) in steps.iter().enumerate() {
            let limit = Duration::from_secs_f64(*timeout);
            let outcome = tokio::time::timeout(limit, self.step(step, start, limit)).await;
            let error = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(_) => format!("timed out after {timeout} s"),
            };
            let page = self.lock().page.to_string();
            return Some(StepFailure {
                step: i + 1,
                action: step.describe(),
                page,
                error,
            });
        }
        None
    }

    async fn step(&mut self, step: &Step, base: &str, limit: Duration) -> Result<(), String> {
        self.helpers().await;
        let deadline = Instant::now() + limit;
        match step {
            Step::Goto(u) => {
                let url = resolve_url(base, u).ok_or_else(|| format!("`{u}` is not a URL"))?;
                if !self.visit(&url, deadline).await {
                    return Err(self.problems.last().cloned().unwrap_or_default());
                }
            }
            Step::Click(sel) => {
                let ok: bool = self.eval(&call("click", &[sel])).await.unwrap_or(false);
                if !ok {
                    return Err(format!("no element matches `{sel}`"));
                }
                self.settle(deadline).await;
            }
            Step::Fill(sel, v) => {
                let value = match v {
                    Value::Persona(k) => self.persona.value(*k),
                    Value::Literal(s) => s.clone(),
                };
                let ok: bool = self
                    .eval(&call("fillSelector", &[sel, &value]))
                    .await
                    .unwrap_or(false);
                if !ok {
                    return Err(format!("no input matches `{sel}`"));
                }
                self.settle(deadline).await;
            }
            Step::Select(sel, v) => {
                let ok: bool = self
                    .eval(&call("fillSelector", &[sel, v]))
                    .await
                    .unwrap_or(false);
                if !ok {
                    return Err(format!("no select matches `{sel}` with option `{v}`"));
                }
            }
            Step::Submit(sel) => {
                let ok: bool = self
                    .eval(&call("submitSelector", &[sel]))
                    .await
                    .unwrap_or(false);
                if !ok {
                    return Err(format!("no form or button matches `{sel}`"));
                }
                self.after_navigation(deadline).await;
            }
            Step::WaitFor(sel) => loop {
                self.helpers().await;
                if self.eval(&call("exists", &[sel])).await.unwrap_or(false) {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(format!("`{sel}` never appeared"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            },
            Step::NetworkIdle => self.settle(deadline).await,
            Step::Consent(accept) => {
                let mode = if *accept {
                    ConsentMode::Accept
                } else {
                    ConsentMode::Reject
                };
                if !self.answer_banner(mode, deadline).await {
                    return Err("no consent banner to answer".into());
                }
            }
        }
        Ok(())
    }

    /// Navigate and let the page settle, within the deadline. False when it did not load.
    async fn visit(&mut self, url: &str, deadline: Instant) -> bool {
        {
            let mut s = self.lock();
            s.page = Arc::from(url);
            s.page_requests = 0;
        }
        self.pages.push(url.to_string());
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, self.page.goto(url)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                self.problems.push(format!("{url}: {e}"));
                return false;
            }
            Err(_) => {
                // A page that never stops loading: stop it and work with what is there.
                let _ = self.page.execute(StopLoadingParams::default()).await;
                self.problems.push(format!(
                    "{url}: still loading after {:.0} s (stopped)",
                    self.settings.page_budget.as_secs_f64()
                ));
            }
        }
        self.settle(deadline).await;
        self.helpers().await;
        true
    }

    /// Wait until no request has been made for the quiet time, or the deadline.
    async fn settle(&self, deadline: Instant) {
        loop {
            let quiet = self.lock().last_request.elapsed() >= self.settings.quiet;
            if quiet || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// After a click or submit that may navigate: settle, then follow the new document.
    async fn after_navigation(&mut self, deadline: Instant) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.settle(deadline).await;
        if let Ok(Some(url)) = self.page.url().await {
            let mut s = self.lock();
            if *s.page != *url {
                s.page = Arc::from(url.as_str());
            }
        }
        self.helpers().await;
    }

    async fn helpers(&self) {
        let _ = self.page.evaluate_expression(PAGE_JS).await;
    }

    async fn eval<T: serde::de::DeserializeOwned>(&self, expr: &str) -> Option<T> {
        self.page
            .evaluate_expression(expr)
            .await
            .ok()?
            .into_value()
            .ok()
    }

    fn banner_config(&self) -> serde_json::Value {
        serde_json::json!({
            "platforms": self.engine.banners.platforms,
            "texts": self.engine.banners.texts_json(),
        })
    }

    /// On the walk's first page: is a banner showing, and answer it per the consent mode.
    async fn consent_step(&mut self, deadline: Instant) {
        if self.banner_checked {
            return;
        }
        self.banner_checked = true;
        let cfg = self.banner_config();
        let shown: Option<String> = self
            .eval(&format!("window.__pw.bannerShown({cfg})"))
            .await
            .flatten();
        if shown.is_none() {
            // No banner: nothing was waited for; the hits so far are not "before a decision".
            let mut s = self.lock();
            s.phase = Phase::NoBanner;
            for c in &mut s.captured {
                c.phase = Phase::NoBanner;
            }
            return;
        }
        self.banner = shown;
        if self.consent != ConsentMode::Ignore {
            self.answer_banner(self.consent, deadline).await;
        }
    }

    /// Click accept or reject on the banner; true when something was clicked.
    async fn answer_banner(&mut self, mode: ConsentMode, deadline: Instant) -> bool {
        self.helpers().await;
        let cfg = self.banner_config();
        let answer: Option<BannerAnswer> = self
            .eval(&format!(
                "window.__pw.banner({cfg}, {})",
                serde_json::json!(mode.as_str())
            ))
            .await;
        let Some(BannerAnswer {
            platform,
            action: Some(_),
            via,
        }) = answer
        else {
            return false;
        };
        let choice = if mode == ConsentMode::Accept {
            Choice::Accept
        } else {
            Choice::Reject
        };
        let at_ms = self.started_at.elapsed().as_millis() as u64;
        {
            let mut s = self.lock();
            s.phase = if choice == Choice::Accept {
                Phase::AfterAccept
            } else {
                Phase::AfterReject
            };
        }
        self.decision = Some(Decision {
            at_ms,
            choice,
            platform: platform.unwrap_or_else(|| "generic".into()),
            via: via.unwrap_or_default(),
        });
        self.after_navigation(deadline).await;
        true
    }

    /// Fill every input the lexicon recognises with the persona, then submit those forms.
    async fn forms(&mut self, submit: bool, deadline: Instant) {
        let inputs: Vec<InputInfo> = self.eval("window.__pw.inputs()").await.unwrap_or_default();
        let Some(lexicon) = self.engine.recognizer.lexicon.as_ref() else {
            return;
        };
        let mut fills = Vec::new();
        let mut forms = BTreeSet::new();
        for input in &inputs {
            let typed = match input.kind.as_str() {
                "email" => Some(crate::pixel::lexicon::LexKind::Email),
                "tel" => Some(crate::pixel::lexicon::LexKind::Phone),
                _ => None,
            };
            let kind = typed.or_else(|| {
                lexicon.form_kind(
                    Some(input.autocomplete.as_str()).filter(|a| !a.is_empty()),
                    [
                        input.name.as_str(),
                        input.id.as_str(),
                        input.placeholder.as_str(),
                        input.label.as_str(),
                    ],
                )
            });
            let Some(kind) = kind else { continue };
            let value = self.persona.value(kind);
            if value.is_empty() {
                continue;
            }
            fills.push(serde_json::json!({"i": input.i, "value": value}));
            if input.form >= 0 {
                forms.insert(input.form);
            }
        }
        if fills.is_empty() {
            return;
        }
        let _: Option<u64> = self
            .eval(&format!(
                "window.__pw.fill({})",
                serde_json::Value::Array(fills)
            ))
            .await;
        self.settle(deadline).await;
        if submit && !forms.is_empty() {
            let forms: Vec<i64> = forms.into_iter().collect();
            let _: Option<u64> = self
                .eval(&format!("window.__pw.submit({})", serde_json::json!(forms)))
                .await;
            self.after_navigation(deadline).await;
        }
    }
}

/// A call of a page helper with string arguments, safely quoted.
fn call(name: &str, args: &[&str]) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|a| serde_json::Value::String(a.to_string()).to_string())
        .collect();
    format!("window.__pw.{name}({})", args.join(", "))
}

fn strip_fragment(url: &str) -> String {
    url.split('#').next().unwrap_or(url).to_string()
}

fn is_download(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [
        ".pdf", ".zip", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".mp4", ".mp3", ".doc", ".docx",
        ".xls", ".xlsx", ".exe", ".dmg",
    ]
    .iter()
    .any(|x| path.ends_with(x))
}

/// The site a URL belongs to: its registrable domain, or the host when it has none
/// (`localhost`, an address).
pub fn site_of(url: &str) -> Option<String> {
    let host = crate::request::url_host(url)?;
    if host.parse::<std::net::IpAddr>().is_ok() || host.trim_matches(['[', ']']).contains(':') {
        return Some(host);
    }
    Some(
        psl::domain_str(&host)
            .filter(|d| *d != host || host.contains('.'))
            .unwrap_or(&host)
            .to_string(),
    )
}

/// `u` against `base` (absolute URLs pass through).
pub fn resolve_url(base: &str, u: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    base.join(u).ok().map(|x| x.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_and_relative_urls() {
        assert_eq!(
            site_of("https://www.apotek.example.se/a"),
            site_of("https://kassa.apotek.example.se/b")
        );
        assert_ne!(
            site_of("https://www.apotek.example.se/"),
            site_of("https://www.1177.se/")
        );
        assert_eq!(
            site_of("http://127.0.0.1:8080/x"),
            Some("127.0.0.1".to_string())
        );
        assert_eq!(
            resolve_url("http://127.0.0.1:8080/a/b.html", "/kassa.html").as_deref(),
            Some("http://127.0.0.1:8080/kassa.html")
        );
        assert!(is_download("https://a.se/x.PDF?y"));
        assert_eq!(
            call("click", &["a[href=\"x\"]"]),
            "window.__pw.click(\"a[href=\\\"x\\\"]\")"
        );
    }
}
