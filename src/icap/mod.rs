//! Inline: an ICAP (RFC 3507) REQMOD service, so that proxies that decrypt TLS hand
//! pixelwarden whole requests, bodies included. A request becomes a [`crate::request::Request`]
//! with an [`crate::request::Origin::Icap`] and goes through the same engine as every other
//! source; the answer depends on the mode: `monitor` (unchanged, 204), `strip` (the identity
//! taken out, [`strip`]), `block` (a 403 page). Never the proxy's bottleneck: previews let
//! non-pixel requests pass on their headers alone, bodies are bounded, a request that takes
//! longer than the deadline passes unexamined (fail open, counted), a malformed message gets an
//! ICAP error and its connection is closed.
//!
//! - [`protocol`]: the ICAP messages (pure, fuzzed);
//! - [`strip`]: taking identity out of a request (pure);
//! - this module: the tokio server and the per-request decision.

pub mod protocol;
pub mod strip;

use crate::detect::{Class, Finding};
use crate::format::Format;
use crate::pipeline::{Engine, Scanner};
use crate::redact::{FindingRecord, Redactor};
use crate::request::Origin;
use crate::service::metrics::Metrics;
use protocol::{Chunk, Method};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What is done to a request that carries findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Monitor,
    Strip,
    Block,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "monitor" => Ok(Mode::Monitor),
            "strip" => Ok(Mode::Strip),
            "block" => Ok(Mode::Block),
            _ => Err(format!("mode `{s}`: monitor, strip or block")),
        }
    }
}

/// A per-finding mode: the first rule whose every given condition matches decides.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModeRule {
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    /// A site host, or `*.suffix`.
    #[serde(default)]
    pub site: Option<String>,
    pub mode: Mode,
}

impl ModeRule {
    fn matches(&self, f: &Finding, vendor: &str, site: Option<&str>) -> bool {
        self.class.as_deref().is_none_or(|c| c == f.class.as_str())
            && self.kind.as_deref().is_none_or(|k| k == &*f.kind)
            && self.vendor.as_deref().is_none_or(|v| v == vendor)
            && self
                .site
                .as_deref()
                .is_none_or(|s| match (s.strip_prefix("*."), site) {
                    (Some(suffix), Some(site)) => {
                        site == suffix || site.ends_with(&format!(".{suffix}"))
                    }
                    (None, Some(site)) => s == site,
                    _ => false,
                })
    }
}

/// `[icap]` settings (also `pixelwarden icap` flags).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IcapConfig {
    pub listen: String,
    /// The service path proxies name (`icap://host:1344/pixelwarden`).
    pub service: String,
    pub mode: Mode,
    pub rules: Vec<ModeRule>,
    /// Bodies longer than this are not examined (the request passes, counted `too_large`).
    pub max_body_bytes: usize,
    /// A request not decided within this passes unexamined (fail open, counted `deadline`).
    pub deadline_ms: u64,
    pub max_connections: usize,
    /// Idle connections are closed after this long.
    pub idle_timeout_seconds: u64,
    /// Where findings go (JSON lines, appended; `-`: stdout).
    pub findings_file: Option<std::path::PathBuf>,
}

impl Default for IcapConfig {
    fn default() -> Self {
        IcapConfig {
            listen: "0.0.0.0:1344".into(),
            service: "/pixelwarden".into(),
            mode: Mode::Monitor,
            rules: Vec::new(),
            max_body_bytes: 1 << 20,
            deadline_ms: 250,
            max_connections: 1000,
            idle_timeout_seconds: 300,
            findings_file: None,
        }
    }
}

impl IcapConfig {
    /// The mode for one finding.
    pub fn mode_for(&self, f: &Finding, vendor: &str, site: Option<&str>) -> Mode {
        if f.class == Class::Anomaly || f.class == Class::Transport {
            return Mode::Monitor;
        }
        self.rules
            .iter()
            .find(|r| r.matches(f, vendor, site))
            .map_or(self.mode, |r| r.mode)
    }
}

/// Shared by every connection.
pub struct Icap {
    /// The engine lives as long as the service (the scanner borrows it too).
    pub engine: &'static Engine,
    pub redactor: Redactor,
    pub cfg: IcapConfig,
    pub metrics: Arc<Metrics>,
    /// The per-stream half (twins, drift, counters), in arrival order.
    pub scanner: Mutex<Scanner<'static>>,
    /// Where records go (findings file, topic, alerts): called with every request's records.
    pub emit: Box<dyn Fn(Vec<FindingRecord>) + Send + Sync>,
    pub istag: String,
    requests: AtomicU64,
    slots: tokio::sync::Semaphore,
}

impl Icap {
    pub fn new(
        engine: &'static Engine,
        redactor: Redactor,
        cfg: IcapConfig,
        metrics: Arc<Metrics>,
        scanner: Scanner<'static>,
        emit: Box<dyn Fn(Vec<FindingRecord>) + Send + Sync>,
    ) -> Arc<Icap> {
        let istag = format!(
            "pw-{}-{}",
            env!("CARGO_PKG_VERSION"),
            &crate::rules::packs_digest(&engine.packs)[..8]
        );
        let slots = tokio::sync::Semaphore::new(cfg.max_connections.max(1));
        Arc::new(Icap {
            engine,
            redactor,
            cfg,
            metrics,
            scanner: Mutex::new(scanner),
            emit,
            istag,
            requests: AtomicU64::new(0),
            slots,
        })
    }

    /// Accept connections until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let me = self.clone();
            tokio::spawn(async move {
                let Ok(permit) = me.slots.try_acquire() else {
                    me.metrics
                        .icap_fail_open
                        .with_label_values(&["overloaded"])
                        .inc();
                    let mut stream = stream;
                    let e = protocol::ProtocolError {
                        status: 503,
                        reason: "too many connections",
                    };
                    let _ = stream
                        .write_all(&protocol::error_response(&e, &me.istag))
                        .await;
                    return;
                };
                me.metrics.icap_connections.inc();
                if let Err(e) = me.connection(stream, peer).await {
                    tracing::debug!(target: "pixelwarden::icap", %peer, "connection ended: {e}");
                }
                me.metrics.icap_connections.dec();
                drop(permit);
            });
        }
    }

    /// One connection: requests one after another (persistent), until the peer closes, is
    /// idle too long, or sends something malformed.
    async fn connection(
        &self,
        mut stream: TcpStream,
        peer: std::net::SocketAddr,
    ) -> std::io::Result<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(16 << 10);
        let idle = Duration::from_secs(self.cfg.idle_timeout_seconds.max(1));
        loop {
            // The ICAP head.
            let head_len = loop {
                if let Some(n) = protocol::head_end(&buf) {
                    break n;
                }
                if buf.len() > protocol::MAX_HEAD_BYTES {
                    return self
                        .refuse(&mut stream, 413, "ICAP head too large", "REQMOD")
                        .await;
                }
                if !read_more(&mut stream, &mut buf, idle).await? {
                    return Ok(());
                }
            };
            let started = Instant::now();
            let head = match protocol::parse_head(&buf[..head_len]) {
                Ok(h) => h,
                Err(e) => return self.refuse(&mut stream, e.status, e.reason, "REQMOD").await,
            };
            buf.drain(..head_len);
            if head.service != self.cfg.service {
                return self
                    .refuse(&mut stream, 404, "no such ICAP service", "REQMOD")
                    .await;
            }
            match head.method {
                Method::Options => {
                    stream
                        .write_all(&protocol::options_response(
                            &self.istag,
                            self.cfg.max_connections,
                            0,
                        ))
                        .await?;
                    self.metrics
                        .icap_requests
                        .with_label_values(&["OPTIONS", "options"])
                        .inc();
                    continue;
                }
                Method::Respmod => {
                    return self
                        .refuse(&mut stream, 405, "this service does REQMOD only", "REQMOD")
                        .await;
                }
                Method::Reqmod => {}
            }
            // The encapsulated HTTP head.
            let http_len = match head.http_head_len() {
                Ok(n) => n,
                Err(e) => return self.refuse(&mut stream, e.status, e.reason, "REQMOD").await,
            };
            if http_len > protocol::MAX_HEAD_BYTES {
                return self
                    .refuse(&mut stream, 413, "HTTP head too large", "REQMOD")
                    .await;
            }
            while buf.len() < http_len {
                if !read_more(&mut stream, &mut buf, idle).await? {
                    return Ok(());
                }
            }
            let http = match protocol::parse_http_head(&buf[..http_len]) {
                Ok(h) => h,
                Err(e) => return self.refuse(&mut stream, e.status, e.reason, "REQMOD").await,
            };
            buf.drain(..http_len);
            let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
            let origin = Origin::Icap {
                icap_client: Arc::from(peer.to_string()),
                client_ip: head.header("x-client-ip").map(Arc::from),
                request: n,
            };
            // Not a pixel endpoint: answered on the headers alone (within the preview, or
            // after reading whatever body the client sends).
            let bare = http.to_request(None);
            let pixel = self.engine.recognizer.is_hit(&bare);
            let mut body: Vec<u8> = Vec::new();
            let mut too_large = false;
            if head.has_body() {
                let mut complete = false;
                if head.preview.is_some() {
                    let ieof = self
                        .read_chunks(&mut stream, &mut buf, &mut body, &mut too_large, idle)
                        .await?;
                    let Some(ieof) = ieof else { return Ok(()) };
                    if ieof {
                        complete = true;
                    } else if !pixel {
                        self.answer_unchanged(&mut stream, &head, &http, None, started)
                            .await?;
                        continue;
                    } else {
                        stream.write_all(protocol::continue_100()).await?;
                    }
                }
                if !complete {
                    match self
                        .read_chunks(&mut stream, &mut buf, &mut body, &mut too_large, idle)
                        .await?
                    {
                        Some(_) => {}
                        None => return Ok(()),
                    }
                }
            }
            if !pixel {
                self.answer_unchanged(&mut stream, &head, &http, Some(&body), started)
                    .await?;
                continue;
            }
            if too_large {
                self.metrics
                    .icap_fail_open
                    .with_label_values(&["too_large"])
                    .inc();
                self.answer_unchanged(&mut stream, &head, &http, None, started)
                    .await?;
                continue;
            }
            self.decide(&mut stream, &head, &http, body, &origin, started)
                .await?;
        }
    }

    /// Read chunks until the last one; `Some(ieof)` then, `None` when the peer went away.
    async fn read_chunks(
        &self,
        stream: &mut TcpStream,
        buf: &mut Vec<u8>,
        body: &mut Vec<u8>,
        too_large: &mut bool,
        idle: Duration,
    ) -> std::io::Result<Option<bool>> {
        loop {
            match protocol::next_chunk(buf) {
                Ok(Chunk::Incomplete) => {
                    if !read_more(stream, buf, idle).await? {
                        return Ok(None);
                    }
                }
                Ok(Chunk::Data { data, used }) => {
                    if body.len() + data.len() > self.cfg.max_body_bytes {
                        *too_large = true;
                    } else {
                        body.extend_from_slice(&buf[data]);
                    }
                    buf.drain(..used);
                }
                Ok(Chunk::End { used, ieof }) => {
                    buf.drain(..used);
                    return Ok(Some(ieof));
                }
                Err(e) => {
                    let out = protocol::error_response(&e, &self.istag);
                    stream.write_all(&out).await?;
                    self.metrics
                        .icap_requests
                        .with_label_values(&["REQMOD", "error"])
                        .inc();
                    return Err(std::io::Error::other(e.reason));
                }
            }
        }
    }

    /// No change: 204 when the client allows it (or within a preview), else the request
    /// echoed back as it came.
    async fn answer_unchanged(
        &self,
        stream: &mut TcpStream,
        head: &protocol::IcapHead,
        http: &protocol::HttpHead,
        body: Option<&[u8]>,
        started: Instant,
    ) -> std::io::Result<()> {
        let out = if head.allow_204 || head.preview.is_some() || body.is_none() {
            protocol::no_content(&self.istag)
        } else {
            let b = body.filter(|b| !b.is_empty());
            protocol::modified_request(
                &self.istag,
                &http.render(&http.target, b.map(<[u8]>::len)),
                b,
            )
        };
        stream.write_all(&out).await?;
        self.metrics
            .icap_requests
            .with_label_values(&["REQMOD", "no_content"])
            .inc();
        self.metrics
            .icap_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(())
    }

    async fn refuse(
        &self,
        stream: &mut TcpStream,
        status: u16,
        reason: &'static str,
        method: &str,
    ) -> std::io::Result<()> {
        let e = protocol::ProtocolError { status, reason };
        stream
            .write_all(&protocol::error_response(&e, &self.istag))
            .await?;
        self.metrics
            .icap_requests
            .with_label_values(&[method, "error"])
            .inc();
        tracing::debug!(target: "pixelwarden::icap", status, reason, "refused");
        Ok(())
    }

    /// Inspect a pixel request within the deadline, then answer by mode.
    async fn decide(
        &self,
        stream: &mut TcpStream,
        head: &protocol::IcapHead,
        http: &protocol::HttpHead,
        body: Vec<u8>,
        origin: &Origin,
        started: Instant,
    ) -> std::io::Result<()> {
        let mut req = http.to_request(Some(&body));
        // Inline, the arrival is the event.
        req.ts = Some(chrono::Utc::now());
        let deadline = Duration::from_millis(self.cfg.deadline_ms.max(1));
        let engine = self.engine;
        let redactor = self.redactor.clone();
        let o = origin.clone();
        let job = tokio::task::spawn_blocking(move || {
            let mut memo = crate::pixel::RoleMemo::default();
            let hit = engine.inspect_redacted(&req, &o, Format::Icap, &redactor, &mut memo);
            (req, hit)
        });
        let (req, hit) = match tokio::time::timeout(deadline, job).await {
            Ok(Ok(x)) => x,
            _ => {
                self.metrics
                    .icap_fail_open
                    .with_label_values(&["deadline"])
                    .inc();
                return self
                    .answer_unchanged(stream, head, http, Some(&body), started)
                    .await;
            }
        };
        let Some(hit) = hit else {
            return self
                .answer_unchanged(stream, head, http, Some(&body), started)
                .await;
        };
        // The findings keep their raw values until the scanner has accepted them: strip needs
        // them to find what to take out.
        let findings = hit.findings.clone();
        let vendor = self.engine.recognizer.vendors[hit.beacon.vendor].id.clone();
        let site = hit.beacon.site.clone();
        let mode = findings
            .iter()
            .map(|f| self.cfg.mode_for(f, &vendor, site.as_deref()))
            .max()
            .unwrap_or(Mode::Monitor);
        let mut answer = None;
        let mut action = None;
        let mut removed: Vec<String> = Vec::new();
        match mode {
            Mode::Block => {
                let kinds: Vec<String> = findings
                    .iter()
                    .filter(|f| self.cfg.mode_for(f, &vendor, site.as_deref()) == Mode::Block)
                    .map(|f| format!("{}/{}", f.class, f.kind))
                    .collect();
                answer = Some(protocol::blocked_response(&self.istag, &kinds.join(", ")));
                action = Some("blocked");
            }
            Mode::Strip => {
                let wanted: Vec<Finding> = findings
                    .iter()
                    .filter(|f| self.cfg.mode_for(f, &vendor, site.as_deref()) == Mode::Strip)
                    .cloned()
                    .collect();
                let s = strip::strip(
                    &http.target,
                    (!body.is_empty()).then_some(&body[..]),
                    req.content_type.as_deref(),
                    &wanted,
                );
                if !s.removed.is_empty() {
                    let new_head = http.render(&s.target, s.body.as_ref().map(Vec::len));
                    answer = Some(protocol::modified_request(
                        &self.istag,
                        &new_head,
                        s.body.as_deref(),
                    ));
                    action = Some("stripped");
                    removed = s.removed;
                }
            }
            Mode::Monitor => {}
        }
        let mut records = {
            let mut scanner = self.scanner.lock().unwrap_or_else(|p| p.into_inner());
            scanner.stats.requests += 1;
            scanner.accept(hit, origin, Format::Icap)
        };
        match action {
            // Blocked: nothing of the request left.
            Some("blocked") => {
                for r in &mut records {
                    r.action = Some("blocked");
                }
            }
            // Stripped: the identity fields that were taken out.
            Some(a) => {
                for r in records.iter_mut().filter(|r| removed.contains(&r.field)) {
                    r.action = Some(a);
                }
            }
            None => {}
        }
        for r in &records {
            self.metrics
                .findings
                .with_label_values(&[&r.vendor, r.class.as_str(), &r.kind, r.severity.as_str()])
                .inc();
        }
        if !records.is_empty() {
            (self.emit)(records);
        }
        match answer {
            Some(out) => {
                stream.write_all(&out).await?;
                let outcome = if action == Some("blocked") {
                    "blocked"
                } else {
                    "modified"
                };
                self.metrics
                    .icap_requests
                    .with_label_values(&["REQMOD", outcome])
                    .inc();
                self.metrics
                    .icap_seconds
                    .observe(started.elapsed().as_secs_f64());
                Ok(())
            }
            None => {
                self.answer_unchanged(stream, head, http, Some(&body), started)
                    .await
            }
        }
    }
}

/// Read more bytes; false at the end of the stream. Idle connections end after `idle`.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    idle: Duration,
) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 << 10];
    match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
        Ok(Ok(0)) => Ok(false),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(false),
    }
}
