//! The `pixelwarden` command line: `scan`, `explain` and `rules`.

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};
use pixelwarden::detect::Severity;
use pixelwarden::error::Error;
use pixelwarden::format::Format;
use pixelwarden::limits::Limits;
use pixelwarden::pipeline::{Engine, Scanner};
use pixelwarden::redact::{load_key, Redactor};
use pixelwarden::scan::{scan, ScanOptions};
use pixelwarden::source;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc: the scan and the service allocate many small strings per record on several
/// threads, which glibc's allocator serves markedly slower (benches/RESULTS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pixelwarden",
    version,
    about = "Finds personal data that tracking pixels carry out of your HTTP egress"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan egress logs (files, directories, .gz/.zst, `-` for stdin) and print findings as JSON lines.
    ///
    /// Exit codes: 0 done; 1 a finding at or above --fail-on; 2 usage or configuration error
    /// (nothing scanned); 3 an input could not be scanned at all or stopped early (missing or
    /// unreadable, format not recognised, truncated archive or HAR, decompression limit).
    /// When several apply the highest wins: 2, then 3, then 1.
    Scan(ScanArgs),
    /// Decode one request (a URL, or `-` for a raw HTTP request or one log line) with findings inline.
    Explain(ExplainArgs),
    /// Walk your own site in headless Chromium with a canary identity: fill and submit its
    /// forms, answer its consent banner, and report every pixel request that leaks.
    ///
    /// Exit codes as `scan`: 0 done; 1 a finding at or above --fail-on; 2 usage or
    /// configuration error; 3 a walk could not run, a page did not load or a journey step
    /// failed. Pixel requests are failed inside the browser unless --let-pixels-through.
    Probe(ProbeArgs),
    /// A self-contained HTML report (and optionally an evidence pack) from findings files:
    /// summary, Art. 33 facts, breach windows, timelines, redacted evidence, method.
    Report(ReportArgs),
    /// Check an evidence pack: every output's SHA-256, the inputs still at their paths, the
    /// Ed25519 signature. Exit 1 and name what changed when anything did.
    Verify(VerifyArgs),
    /// An ICAP (RFC 3507) REQMOD service for proxies that decrypt TLS: every request they hand
    /// over, bodies included, through the engine; monitor (unchanged), strip (identity taken
    /// out) or block (403). Fails open: a request not decided within the deadline passes.
    Icap(IcapArgs),
    /// The streaming service: Kafka consumer group in, findings out, Prometheus /metrics.
    /// With no broker configured, runs on an embedded Kafka-protocol cluster fed with sample traffic.
    Run(RunArgs),
    /// Rule packs: run their examples, or list what is loaded.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Run every pack's examples through the real engine; fails on any miss.
    Test(EngineArgs),
    /// List loaded packs, vendors, endpoints and detectors.
    List(EngineArgs),
}

#[derive(Args, Clone)]
struct EngineArgs {
    /// Extra rule-pack directory (adds packs, or replaces embedded ones with the same id). Repeatable.
    #[arg(long = "detectors", value_name = "DIR")]
    detectors: Vec<PathBuf>,
    /// Your customers' identifiers, one per line: e-mails, phones, personal numbers or hashes.
    /// Hashed in memory with each vendor's normalisation; matching findings are `confirmed`.
    /// The list itself is never written anywhere.
    #[arg(long, value_name = "FILE")]
    known_identifiers: Option<PathBuf>,
    /// Sites that are an Art. 9 context by themselves, one `HOST TYPE` per line
    /// (e.g. `klinik.example.se health`).
    #[arg(long, value_name = "FILE")]
    sites: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Args, Clone)]
struct LimitArgs {
    /// Longest log line accepted; longer lines are skipped and counted.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_line_bytes)]
    max_line_bytes: usize,
    /// Largest request body decoded; longer bodies are cut and marked truncated.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Most nested decodings of one value (percent → JSON → base64 ...).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_decode_depth)]
    max_decode_depth: usize,
    /// Deepest JSON nesting walked in a payload.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_json_depth)]
    max_json_depth: usize,
    /// Most fields decoded from one request.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_fields)]
    max_fields: usize,
    /// Largest single HAR entry.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_record_bytes)]
    max_record_bytes: u64,
    /// Most bytes one compressed file may expand to.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_decompressed_bytes)]
    max_decompressed_bytes: u64,
    /// Most bytes read past a damaged head (binary junk, a crash mid-write) looking for the
    /// first record of a known format.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_resync_bytes)]
    max_resync_bytes: u64,
}

impl LimitArgs {
    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn limits(&self) -> Limits {
        Limits {
            max_line_bytes: self.max_line_bytes,
            max_body_bytes: self.max_body_bytes,
            max_decode_depth: self.max_decode_depth,
            max_json_depth: self.max_json_depth,
            max_fields: self.max_fields,
            max_record_bytes: self.max_record_bytes,
            max_decompressed_bytes: self.max_decompressed_bytes,
            max_resync_bytes: self.max_resync_bytes,
        }
    }
}

/// Where findings and the documents made from them go: shared by `scan` and `probe`.
#[derive(Args)]
struct OutputArgs {
    /// Write findings here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// No summary on stderr.
    #[arg(long)]
    no_summary: bool,
    /// Exit with 1 when a finding at or above this severity exists (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
    /// Print raw matched values (for trusted forensics only). Secrets stay redacted.
    #[arg(long)]
    reveal: bool,
    /// Key for fingerprints (default: PIXELWARDEN_FINGERPRINT_KEY, or a key generated once under ~/.local/state/pixelwarden).
    #[arg(long, value_name = "FILE")]
    fingerprint_key_file: Option<PathBuf>,
    /// No drift detection (new vendors, pixels, fields, personal-data types, volume changes).
    #[arg(long)]
    no_drift: bool,
    /// Load drift baselines from this file if it exists and save them there at the end (after
    /// every walk with `probe --every`), so the next run continues without re-learning or
    /// re-alerting.
    #[arg(long, value_name = "PATH")]
    state: Option<PathBuf>,
    /// Write the breach windows (identity and Art. 9 data per site, vendor, pixel and field) as JSON.
    #[arg(long, value_name = "FILE")]
    breach_report: Option<PathBuf>,
    /// Write the forensic report (one self-contained HTML file).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write an evidence pack: findings, summary, breach windows, report (for `probe` also the
    /// walk as HAR), and a manifest with the SHA-256 of every input and output.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Sign the evidence pack's manifest with this Ed25519 key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
}

#[derive(Args)]
struct ScanArgs {
    /// Files, directories or `-` (stdin).
    #[arg(value_name = "PATH", required_unless_present = "sample")]
    paths: Vec<PathBuf>,
    /// Scan the sample egress data built into the binary (every supported format).
    #[arg(long, conflicts_with = "paths")]
    sample: bool,
    /// Input format, instead of detecting it per file.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Parse every record instead of only those containing a pixel keyword (same findings, slower).
    #[arg(long)]
    no_prefilter: bool,
    /// Threads that parse and inspect lines of log files (0: one per core). Findings come out
    /// in input order whatever the number.
    #[arg(long, default_value_t = 0, value_name = "N")]
    threads: usize,
    /// Treat a hashed identity seen on this many distinct sites as a constant, not a person, and
    /// suppress it from then on (0: off). Off by default: behind a corporate proxy one person's
    /// hash legitimately recurs on every site they visit.
    #[arg(long, value_name = "SITES", default_value_t = 0)]
    cross_site_constant: usize,
    /// Drift learning window per site, in hours of event time from its first record.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    learning_hours: i64,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct ProbeArgs {
    /// Start URLs (same-site links are followed breadth-first).
    #[arg(value_name = "URL", required_unless_present = "demo")]
    urls: Vec<String>,
    /// Serve the bundled test shop on loopback and probe it (every consent mode).
    #[arg(long, conflicts_with = "urls")]
    demo: bool,
    /// Pages per walk.
    #[arg(long, default_value_t = 20, value_name = "N")]
    max_pages: usize,
    /// How to answer consent banners: ignore, reject, accept, or all (one walk each).
    #[arg(long, default_value = "reject", value_parser = ["ignore", "reject", "accept", "all"])]
    consent: String,
    /// Fill forms but do not submit them.
    #[arg(long)]
    no_submit: bool,
    /// Journeys (TOML: ordered steps; see examples/journeys/).
    #[arg(long, value_name = "FILE")]
    journeys: Option<PathBuf>,
    /// The canary identity (TOML with email, phone, first_name, ...); default: generated and printed.
    #[arg(long, value_name = "FILE")]
    persona: Option<PathBuf>,
    /// Domain of the generated canary e-mail: one you own (default example.com).
    #[arg(long, value_name = "DOMAIN")]
    persona_domain: Option<String>,
    /// Write every captured request as HAR 1.2 (values redacted unless --reveal).
    #[arg(long, value_name = "FILE")]
    har: Option<PathBuf>,
    /// Let requests to pixel endpoints leave the browser (default: captured, then failed).
    #[arg(long)]
    let_pixels_through: bool,
    /// Map a host to an address (`HOST=ADDR` or `HOST=ADDR:PORT`), as Chromium's resolver rules. Repeatable.
    #[arg(long = "resolve", value_name = "HOST=ADDR")]
    resolve: Vec<String>,
    /// Chromium to drive.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/usr/bin/chromium",
        env = "PIXELWARDEN_CHROMIUM"
    )]
    chromium: PathBuf,
    /// Seconds a page may take (load, settle, banner, forms).
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0)]
    page_budget: f64,
    /// Requests captured per page; further ones are failed and counted.
    #[arg(long, value_name = "N", default_value_t = 500)]
    request_budget: usize,
    /// Seconds a whole run may take (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    time_budget: f64,
    /// Keep walking: every DURATION (`15m`, `1h`, `90s`), serving /metrics and sending alerts.
    #[arg(long, value_name = "DURATION")]
    every: Option<String>,
    /// Address for /metrics, /healthz and /readyz in --every mode.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Alertmanager base URL: high and critical findings are sent there after each run.
    #[arg(long, value_name = "URL")]
    alertmanager_url: Option<String>,
    /// JSON webhook for the same alerts.
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    /// Kafka bootstrap servers for --kafka-topic.
    #[arg(long, value_name = "HOST:PORT,...")]
    kafka_brokers: Option<String>,
    /// Publish every captured request as a HAR-entry JSON message (a `run` fleet reads the
    /// topic with format `har-entry`). Values are published as captured: canaries only.
    #[arg(long, value_name = "TOPIC", requires = "kafka_brokers")]
    kafka_topic: Option<String>,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct IcapArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:1344")]
    listen: String,
    /// Settings file: an `[icap]` table (listen, service, mode, max_body_bytes, deadline_ms,
    /// max_connections, and `[[icap.rules]]` per-finding modes); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to do with a request that carries findings: monitor, strip or block.
    #[arg(long, value_name = "MODE")]
    mode: Option<String>,
    /// The ICAP service path proxies name (icap://host:1344/SERVICE).
    #[arg(long, value_name = "PATH")]
    service: Option<String>,
    /// A request not decided within this many milliseconds passes unexamined (fail open).
    #[arg(long, value_name = "MS")]
    deadline_ms: Option<u64>,
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Findings file (JSON lines, appended; `-` for stdout).
    #[arg(long, value_name = "PATH")]
    findings_file: Option<PathBuf>,
    /// Kafka bootstrap servers for --findings-topic.
    #[arg(long, value_name = "HOST:PORT,...")]
    kafka_brokers: Option<String>,
    /// Kafka topic for findings.
    #[arg(long, value_name = "NAME", requires = "kafka_brokers")]
    findings_topic: Option<String>,
    /// /metrics, /healthz, /readyz.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    #[arg(long, value_name = "URL")]
    alertmanager_url: Option<String>,
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    /// Threads serving connections (default: one per core).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    #[arg(long)]
    no_drift: bool,
    #[arg(long, value_name = "FILE")]
    fingerprint_key_file: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct ReportArgs {
    /// Findings files (JSON lines; .gz/.zst read; `-` for stdin).
    #[arg(value_name = "FINDINGS", required = true)]
    findings: Vec<PathBuf>,
    /// The report file.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Also write an evidence pack here: findings, report, manifest with every SHA-256.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Sign the evidence pack's manifest (Ed25519 private key, PKCS#8 PEM:
    /// `openssl genpkey -algorithm ed25519 -out key.pem`).
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
    /// A scan's --summary-json: skipped records and unexamined inputs go in the method section.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Keep raw values that the findings carry (made with --reveal); otherwise they are masked.
    #[arg(long)]
    reveal: bool,
}

#[derive(Args)]
struct VerifyArgs {
    /// The evidence pack directory.
    dir: PathBuf,
    /// The signer's Ed25519 public key (SPKI PEM: `openssl pkey -in key.pem -pubout`).
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
}

#[derive(Args)]
struct ExplainArgs {
    /// A pixel URL, or `-` to read a raw HTTP request or one log line from stdin.
    input: String,
    /// Method for a URL input (default GET, or POST with --body).
    #[arg(long)]
    method: Option<String>,
    /// Request body for a URL input.
    #[arg(long)]
    body: Option<String>,
    /// Content-Type of the body.
    #[arg(long)]
    content_type: Option<String>,
    /// Referer of the request.
    #[arg(long)]
    referer: Option<String>,
    /// Format of a log line read from stdin, instead of detecting it.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Show raw values.
    #[arg(long)]
    reveal: bool,
    #[arg(long, value_name = "FILE")]
    fingerprint_key_file: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Configuration file (TOML; see deploy/pixelwarden.toml). Flags and environment override it.
    #[arg(long, value_name = "FILE", env = "PIXELWARDEN_CONFIG")]
    config: Option<PathBuf>,
    /// Any setting of the configuration file, by its path (repeatable):
    /// `--set drift.learning_hours=48`. Environment: `PIXELWARDEN__DRIFT__LEARNING_HOURS=48`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// A librdkafka property for the consumer and producers (repeatable), e.g. for TLS or SASL:
    /// `-X security.protocol=SSL -X ssl.ca.location=/etc/ca.pem`.
    #[arg(short = 'X', long = "kafka-property", value_name = "KEY=VALUE")]
    kafka_properties: Vec<String>,
    /// Kafka bootstrap servers; none: the embedded demo cluster.
    #[arg(long, value_name = "HOST:PORT,...", env = "PIXELWARDEN_KAFKA_BROKERS")]
    kafka_brokers: Option<String>,
    /// Topic to consume, `NAME` or `NAME:FORMAT`. Repeatable.
    #[arg(
        long = "topic",
        value_name = "NAME[:FORMAT]",
        env = "PIXELWARDEN_TOPICS",
        value_delimiter = ','
    )]
    topics: Vec<String>,
    /// Consumer group.
    #[arg(long, env = "PIXELWARDEN_GROUP")]
    group: Option<String>,
    /// Format of topics given without one.
    #[arg(long, env = "PIXELWARDEN_FORMAT")]
    format: Option<String>,
    /// JSON-lines findings file (`-`: stdout), synced before offsets are committed.
    #[arg(long, value_name = "PATH", env = "PIXELWARDEN_FINDINGS_FILE")]
    findings_file: Option<PathBuf>,
    /// Kafka topic for findings (idempotent producer, keyed by site).
    #[arg(long, value_name = "NAME", env = "PIXELWARDEN_FINDINGS_TOPIC")]
    findings_topic: Option<String>,
    /// Bootstrap servers of the findings topic's cluster, when it is not the input cluster.
    #[arg(
        long,
        value_name = "HOST:PORT,...",
        env = "PIXELWARDEN_FINDINGS_BROKERS"
    )]
    findings_brokers: Option<String>,
    /// Address for /metrics, /healthz and /readyz.
    #[arg(long, value_name = "ADDR", env = "PIXELWARDEN_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Detection threads (default: one per core).
    #[arg(long, env = "PIXELWARDEN_WORKERS")]
    workers: Option<usize>,
    /// Alertmanager base URL (API v2 alerts are posted to URL/api/v2/alerts).
    #[arg(long, value_name = "URL", env = "PIXELWARDEN_ALERTMANAGER_URL")]
    alertmanager_url: Option<String>,
    /// Generic JSON webhook for alerts (retried with backoff, then dead-lettered).
    #[arg(long, value_name = "URL", env = "PIXELWARDEN_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// Also print alerts as JSON lines on stdout.
    #[arg(long)]
    alerts_stdout: bool,
    /// Stop after this many seconds without a message (batch runs, tests).
    #[arg(long, value_name = "SECONDS")]
    exit_when_idle: Option<f64>,
    #[arg(long, value_name = "FILE", env = "PIXELWARDEN_FINGERPRINT_KEY_FILE")]
    fingerprint_key_file: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn main() -> ExitCode {
    // `PIXELWARDEN_LOG`: a level (`info`) or `target=level` directives
    // (`warn,pixelwarden::service=debug`). A target filter rather than `EnvFilter`: the latter's
    // dependencies make every small regex in the engine compile a full DFA at start-up.
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let spec = std::env::var("PIXELWARDEN_LOG").ok();
    let parsed = spec
        .as_deref()
        .map(str::parse::<tracing_subscriber::filter::Targets>);
    let filter = match &parsed {
        Some(Ok(t)) => t.clone(),
        // chromiumoxide warns about every DevTools message newer than its protocol revision;
        // those say nothing about the walk.
        _ => tracing_subscriber::filter::Targets::new()
            .with_default(tracing::level_filters::LevelFilter::WARN)
            .with_target("chromiumoxide", tracing::level_filters::LevelFilter::ERROR),
    };
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_max_level(tracing::level_filters::LevelFilter::TRACE)
        .with_target(false)
        .with_ansi(io::stderr().is_terminal())
        .without_time()
        .finish()
        .with(filter)
        .init();
    if let Some(Err(e)) = parsed {
        tracing::warn!(
            event = "log_filter_invalid",
            "PIXELWARDEN_LOG: {e}; logging warnings and errors only"
        );
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => cmd_scan(args),
        Command::Explain(args) => cmd_explain(args),
        Command::Probe(args) => probe_cmd::run(args),
        Command::Report(args) => report_cmd::cmd_report(args),
        Command::Icap(args) => icap_cmd::run(args),
        Command::Verify(args) => report_cmd::cmd_verify(args),
        Command::Run(args) => cmd_run(args),
        Command::Rules {
            command: RulesCommand::Test(args),
        } => cmd_rules_test(args),
        Command::Rules {
            command: RulesCommand::List(args),
        } => cmd_rules_list(args),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pixelwarden: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Drift baselines from a state file (`--state`), or fresh ones when there is none yet.
fn load_drift(
    state: Option<&std::path::Path>,
    limits: pixelwarden::drift::DriftLimits,
) -> Result<pixelwarden::drift::Drift> {
    match state {
        Some(path) if path.exists() => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("{}: cannot read state", path.display()))?;
            let state = serde_json::from_reader(io::BufReader::new(file))
                .with_context(|| format!("{}: not a pixelwarden state file", path.display()))?;
            Ok(pixelwarden::drift::Drift::with_state(state, limits))
        }
        _ => Ok(pixelwarden::drift::Drift::new(limits)),
    }
}

/// Save drift baselines: written and synced beside the file, then renamed over it, so a crash
/// never leaves half a state file.
fn save_drift(path: &std::path::Path, drift: &pixelwarden::drift::Drift) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("{}: cannot write", tmp.display()))?;
    let mut w = io::BufWriter::new(file);
    serde_json::to_writer(&mut w, &drift.state)?;
    w.into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

mod icap_cmd;
mod probe_cmd;
mod report_cmd;

fn engine(args: &EngineArgs) -> Result<Engine> {
    let mut engine = Engine::load(&args.detectors, args.limits.limits())?;
    if let Some(path) = &args.known_identifiers {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::config(format!("{}: cannot read: {e}", path.display())))?;
        let known = pixelwarden::detect::known::KnownIdentifiers::read(io::BufReader::new(file))
            .map_err(|e| Error::config(format!("{}: cannot read: {e}", path.display())))?;
        eprintln!(
            "pixelwarden: {} known identifiers loaded{}",
            known.people,
            if known.unrecognised > 0 {
                format!(
                    " ({} lines not recognised as e-mail, phone, personal number or hash)",
                    known.unrecognised
                )
            } else {
                String::new()
            }
        );
        engine.detectors.known = Some(std::sync::Arc::new(known));
    }
    if let Some(path) = &args.sites {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("{}: cannot read: {e}", path.display())))?;
        engine.detectors.sites =
            pixelwarden::detect::sites::SiteContexts::parse(&text, &path.display().to_string())?;
    }
    Ok(engine)
}

fn redactor(key_file: Option<&PathBuf>, reveal: bool) -> Result<Redactor> {
    let (key, created) = load_key(key_file.map(PathBuf::as_path))?;
    if let Some(path) = created {
        eprintln!("pixelwarden: generated a fingerprint key at {} (keep it to compare fingerprints across runs)", path.display());
    }
    if reveal {
        eprintln!("pixelwarden: --reveal: raw personal values WILL be printed; handle the output as personal data");
    }
    Ok(Redactor::new(key, reveal))
}

fn cmd_scan(args: ScanArgs) -> Result<ExitCode> {
    let engine = engine(&args.engine)?;
    let redactor = redactor(args.out.fingerprint_key_file.as_ref(), args.out.reveal)?;
    let (inputs, missing) = if args.sample {
        (source::samples(), Vec::new())
    } else {
        source::expand(&args.paths)
    };
    for (path, e) in &missing {
        eprintln!("pixelwarden: {}: {e}", path.display());
    }
    if inputs.is_empty() {
        anyhow::bail!("nothing to scan");
    }
    let missing: Vec<(String, String)> = missing
        .iter()
        .map(|(p, e)| (p.display().to_string(), e.to_string()))
        .collect();
    let out: Box<dyn Write> = match &args.out.output {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("{}: cannot create", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut scanner = Scanner::new(&engine, redactor);
    scanner.prefilter = !args.no_prefilter;
    scanner.set_cross_site_constant(args.cross_site_constant);
    if !args.out.no_drift {
        let limits = pixelwarden::drift::DriftLimits {
            learning_hours: args.learning_hours,
            ..Default::default()
        };
        scanner.drift = Some(load_drift(args.out.state.as_deref(), limits)?);
    }
    let opts = ScanOptions {
        format: args.format,
        progress: !args.no_progress,
        threads: args.threads,
        ..ScanOptions::default()
    };
    let started = std::time::Instant::now();
    // Each record is serialised into one reused buffer and written whole: serde_json's many
    // small writes cost less into a Vec than through the BufWriter.
    let mut line = Vec::with_capacity(1024);
    let mut outputs = report_cmd::Outputs::new(
        args.out.report.clone(),
        args.out.evidence.clone(),
        args.out.signing_key.as_deref(),
        args.out.reveal,
    )?;
    let mut sink = |r: &pixelwarden::redact::FindingRecord| -> io::Result<()> {
        line.clear();
        serde_json::to_writer(&mut line, r)?;
        line.push(b'\n');
        outputs.add(&line)?;
        out.write_all(&line)
    };
    let outcome = match scan(&inputs, &mut scanner, &opts, &mut sink) {
        Ok(o) => o,
        Err(e) if e.0.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e.0).context("cannot write findings"),
    };
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        r => r.context("cannot write findings")?,
    }
    let elapsed = started.elapsed();
    if let (Some(path), Some(drift)) = (&args.out.state, &scanner.drift) {
        save_drift(path, drift)?;
    }
    if let Some(path) = &args.out.breach_report {
        std::fs::write(path, serde_json::to_vec_pretty(&outcome.breach.to_json())?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let summary_json = {
        let stats = &scanner.stats;
        serde_json::json!({
            "summary": outcome.summary.to_json(),
            "records": stats.records, "requests": stats.requests, "beacons": stats.beacons_by_vendor,
            "twins_counted_once": stats.twins,
            "findings": stats.findings_by_class.iter().map(|(c, n)| (c.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "skipped": stats.skipped.iter().map(|(r, n)| (r.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "file_errors": outcome.file_errors.iter().map(|(f, s)| serde_json::json!({"file": f, "reason": s.reason.as_str(), "detail": s.detail})).collect::<Vec<_>>(),
            "incomplete": incomplete_json(&missing, &outcome),
            "resynced": outcome.resynced.iter().map(|r| serde_json::json!({"file": &*r.file, "format": r.format, "offset": r.offset, "line": r.line, "skipped": r.skipped.iter().map(|(k, n)| (k.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>()})).collect::<Vec<_>>(),
        })
    };
    if let Some(path) = &args.out.summary_json {
        std::fs::write(path, serde_json::to_vec_pretty(&summary_json)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    if outputs.wanted() {
        let packs_digest = pixelwarden::rules::packs_digest(&engine.packs);
        let meta = pixelwarden::report::html::ReportMeta {
            generated_at: report_cmd::now(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            packs_digest: packs_digest.clone(),
            inputs: inputs
                .iter()
                .map(|i| (i.label().to_string(), i.size(), None))
                .collect(),
            skipped: scanner
                .stats
                .skipped
                .iter()
                .map(|(r, n)| (r.to_string(), *n))
                .collect(),
            incomplete: incomplete_lines(&missing, &outcome),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            reveal: args.out.reveal,
        };
        let files: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                source::Input::File(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        outputs.finish(
            meta,
            Some(&summary_json),
            Some(&outcome.breach.to_json()),
            &files,
            &packs_digest,
        )?;
    }
    if !args.out.no_summary {
        let mut err = io::stderr().lock();
        let s = &scanner.stats;
        let _ = writeln!(err, "\n== pixelwarden scan summary ==");
        // What could not be scanned comes first: the findings below are incomplete.
        let incomplete = incomplete_lines(&missing, &outcome);
        if !incomplete.is_empty() {
            let _ = writeln!(
                err,
                "INCOMPLETE: {} inputs could not be scanned or stopped early (exit code 3):",
                incomplete.len()
            );
            for line in &incomplete {
                let _ = writeln!(err, "  {line}");
            }
            let _ = writeln!(err);
        }
        for r in &outcome.resynced {
            let _ = writeln!(err, "damaged head: {}: {}", r.file, r.describe());
        }
        if outcome.summary.is_empty() {
            let _ = writeln!(err, "no findings");
        } else {
            let _ = write!(err, "{}", outcome.summary.render());
        }
        let formats: Vec<String> = s
            .records_by_format
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        let _ = writeln!(
            err,
            "\n{} files, {} records ({}), {} bytes read in {:.2}s",
            s.files,
            s.records,
            formats.join(", "),
            s.bytes,
            elapsed.as_secs_f64()
        );
        let vendors: Vec<String> = s
            .beacons_by_vendor
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect();
        let _ = writeln!(
            err,
            "pixel hits: {} ({}){}",
            s.beacons(),
            if vendors.is_empty() {
                "none".into()
            } else {
                vendors.join(", ")
            },
            if s.twins > 0 {
                {
                    let by: Vec<String> = s
                        .twins_by_vendor
                        .iter()
                        .map(|(v, n)| format!("{v} {n}"))
                        .collect();
                    format!(
                        "; {} hits the vendor sends twice counted once ({})",
                        s.twins,
                        by.join(", ")
                    )
                }
            } else {
                String::new()
            }
        );
        if s.cross_site_constants > 0 {
            let _ = writeln!(
                err,
                "not people: {} findings of hashed values seen on {}+ sites were suppressed (--cross-site-constant)", s.cross_site_constants, args.cross_site_constant);
        }
        if s.confirmed > 0 {
            let _ = writeln!(
                err,
                "confirmed customers: {} findings match --known-identifiers",
                s.confirmed
            );
        }
        let classes: Vec<String> = s
            .findings_by_class
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        let _ = writeln!(
            err,
            "findings: {} ({})",
            s.findings(),
            if classes.is_empty() {
                "none".into()
            } else {
                classes.join(", ")
            }
        );
        if s.skipped_total() > 0 {
            let reasons: Vec<String> = s.skipped.iter().map(|(r, n)| format!("{r} {n}")).collect();
            let _ = writeln!(
                err,
                "skipped: {} ({})",
                s.skipped_total(),
                reasons.join(", ")
            );
        }
        if !outcome.breach.is_empty() {
            let _ = writeln!(
                err,
                "\nbreach windows (identity and Art. 9 data by site, vendor, pixel and field):"
            );
            let _ = write!(err, "{}", outcome.breach.render());
        }
        if let Some(d) = &scanner.drift {
            let _ = writeln!(
                err,
                "drift: {} sites and {} pixels in the baseline{}",
                d.sites(),
                d.pixels(),
                if d.state.capped > 0 {
                    format!(", {} sightings past the state caps", d.state.capped)
                } else {
                    String::new()
                }
            );
        }
        if s.decode_truncated + s.decode_limited > 0 {
            let _ = writeln!(
                err,
                "payloads cut by limits: {} truncated bodies, {} hit decode limits",
                s.decode_truncated, s.decode_limited
            );
        }
    }
    let failed =
        matches!((args.out.fail_on, outcome.max_severity), (Some(bar), Some(max)) if max >= bar);
    Ok(if !missing.is_empty() || outcome.incomplete() {
        ExitCode::from(3)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Inputs that could not be scanned at all or stopped early, one line each, for the summary.
fn incomplete_lines(
    missing: &[(String, String)],
    outcome: &pixelwarden::scan::ScanOutcome,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (file, e) in missing {
        lines.push(format!("not scanned: {file}: {e}"));
    }
    for (file, detail) in &outcome.unrecognised {
        lines.push(format!(
            "not scanned: {file}: format not recognised ({detail}; see --format)"
        ));
    }
    for (file, skip) in &outcome.file_errors {
        lines.push(format!(
            "stopped early: {file}: {} ({})",
            skip.detail, skip.reason
        ));
    }
    lines
}

fn incomplete_json(
    missing: &[(String, String)],
    outcome: &pixelwarden::scan::ScanOutcome,
) -> serde_json::Value {
    let mut items = Vec::new();
    for (file, e) in missing {
        items.push(serde_json::json!({"file": file, "reason": "read_error", "detail": e}));
    }
    for (file, detail) in &outcome.unrecognised {
        items.push(serde_json::json!({"file": file, "reason": "unknown_format", "detail": detail}));
    }
    for (file, s) in &outcome.file_errors {
        items.push(
            serde_json::json!({"file": file, "reason": s.reason.as_str(), "detail": s.detail}),
        );
    }
    serde_json::Value::Array(items)
}

fn cmd_explain(args: ExplainArgs) -> Result<ExitCode> {
    let engine = engine(&args.engine)?;
    let redactor = redactor(args.fingerprint_key_file.as_ref(), args.reveal)?;
    let text = if args.input == "-" {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .take(engine.limits.max_record_bytes)
            .read_to_end(&mut buf)?;
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        args.input.clone()
    };
    let mut req =
        pixelwarden::explain::parse_input(&text, args.format).map_err(|e| anyhow::anyhow!(e))?;
    if let Some(body) = args.body {
        req.body = Some(body.into_bytes());
        if args.method.is_none() {
            req.method = "POST".into();
        }
    }
    if let Some(m) = args.method {
        req.method = m.to_ascii_uppercase();
    }
    if args.content_type.is_some() {
        req.content_type = args.content_type;
    }
    if args.referer.is_some() {
        req.referer = args.referer;
    }
    print!("{}", pixelwarden::explain::render(&engine, &req, &redactor));
    Ok(ExitCode::SUCCESS)
}

fn cmd_run(args: RunArgs) -> Result<ExitCode> {
    use pixelwarden::service::{self, RunOptions, ServiceConfig, TopicConfig};
    let mut sets = args.sets.clone();
    for p in &args.kafka_properties {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("-X {p}: expected KEY=VALUE"))?;
        sets.push(format!("kafka.properties.{}={v}", k.trim()));
    }
    let mut cfg = ServiceConfig::layered(args.config.as_deref(), std::env::vars(), &sets)?;
    if let Some(b) = args.kafka_brokers {
        cfg.kafka.brokers = Some(b);
    }
    if !args.topics.is_empty() {
        cfg.kafka.topics = args
            .topics
            .iter()
            .map(|t| match t.split_once(':') {
                Some((name, format)) => TopicConfig {
                    name: name.into(),
                    format: Some(format.into()),
                },
                None => TopicConfig {
                    name: t.clone(),
                    format: None,
                },
            })
            .collect();
    }
    if let Some(g) = args.group {
        cfg.kafka.group = g;
    }
    if args.format.is_some() {
        cfg.kafka.format = args.format;
    }
    if args.findings_file.is_some() {
        cfg.sinks.findings_file = args.findings_file;
    }
    if args.findings_topic.is_some() {
        cfg.sinks.findings_topic = args.findings_topic;
    }
    if args.findings_brokers.is_some() {
        cfg.sinks.findings_brokers = args.findings_brokers;
    }
    if args.metrics_listen.is_some() {
        cfg.metrics.listen = args.metrics_listen;
    }
    if let Some(w) = args.workers {
        cfg.workers = w;
    }
    if args.alertmanager_url.is_some() {
        cfg.alerts.alertmanager_url = args.alertmanager_url;
    }
    if args.webhook_url.is_some() {
        cfg.alerts.webhook_url = args.webhook_url;
    }
    cfg.alerts.stdout |= args.alerts_stdout;
    let engine = std::sync::Arc::new(engine(&args.engine)?);
    let redactor = redactor(args.fingerprint_key_file.as_ref(), false)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let metrics = std::sync::Arc::new(service::metrics::Metrics::new());
        let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            eprintln!("pixelwarden: stopping: draining in-flight messages and committing");
            let _ = stop_tx.send(true);
        });
        // No broker: the embedded demo cluster with the bundled sample traffic.
        let mut _demo = None;
        let brokers = match cfg.kafka.brokers.clone() {
            Some(b) => b,
            None => {
                let demo = service::demo::start(3).await?;
                if cfg.kafka.topics.is_empty() {
                    cfg.kafka.topics = demo.topics.iter().map(|(t, f)| TopicConfig { name: t.clone(), format: Some(f.as_str().into()) }).collect();
                }
                if cfg.sinks.findings_file.is_none() && cfg.sinks.findings_topic.is_none() {
                    cfg.sinks.findings_file = Some(PathBuf::from("-"));
                }
                eprintln!(
                    "pixelwarden: demo: embedded Kafka-protocol cluster at {} with {} sample messages in {}",
                    demo.cluster.bootstrap_servers(),
                    demo.messages,
                    demo.topics.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(", ")
                );
                let b = demo.cluster.bootstrap_servers();
                _demo = Some(demo);
                b
            }
        };
        if let Some(listen) = cfg.metrics.listen.clone() {
            let addr = service::http::serve(&listen, metrics.clone(), ready.clone()).await?;
            eprintln!("pixelwarden: metrics at http://{addr}/metrics (also /healthz, /readyz)");
        }
        let opts = RunOptions { exit_when_idle: args.exit_when_idle.map(std::time::Duration::from_secs_f64) };
        // `[icap]`: the ICAP service in the same process, on the same /metrics.
        let _icap = match cfg.icap.clone() {
            Some(mut icap) => {
                icap.max_body_bytes = cfg.limits.max_body_bytes;
                let icap_engine: &'static Engine = Box::leak(Box::new((*engine).clone()));
                let kafka = cfg.sinks.findings_topic.clone().map(|t| (cfg.sinks.findings_brokers.clone().unwrap_or_else(|| brokers.clone()), t));
                Some(icap_cmd::start(icap, icap_engine, redactor.clone(), metrics.clone(), cfg.drift.enabled, cfg.alerts.clone(), kafka).await?)
            }
            None => None,
        };
        let handles = service::Handles { engine, redactor, metrics, ready };
        let report = service::run(cfg, brokers, handles, opts, stop_rx).await?;
        if let Some((server, sinks)) = _icap {
            // The server's end drops the last sender: the sinks thread writes what is left.
            server.abort();
            let _ = server.await;
            let _ = tokio::task::spawn_blocking(move || sinks.join()).await;
        }
        let rate = report.rate().map(|(busy, r)| format!(" in {:.2} s ({:.0} messages/s)", busy.as_secs_f64(), r)).unwrap_or_default();
        eprintln!("pixelwarden: {} messages{rate}, {} findings, {} offset commits", report.messages, report.findings, report.commits);
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_rules_test(args: EngineArgs) -> Result<ExitCode> {
    let engine = engine(&args)?;
    let results = pixelwarden::ruletest::run(&engine);
    let mut failed = 0;
    let mut passed = 0;
    for r in &results {
        let total = r.passed + r.failures.len();
        println!(
            "{:<32} {:>4}/{:<4} {}",
            r.pack,
            r.passed,
            total,
            if r.failures.is_empty() {
                "ok"
            } else {
                "FAILED"
            }
        );
        for f in &r.failures {
            println!("    {}: {f}", r.source);
        }
        failed += r.failures.len();
        passed += r.passed;
    }
    let no_examples: Vec<&str> = results
        .iter()
        .filter(|r| r.passed + r.failures.len() == 0)
        .map(|r| r.pack.as_str())
        .collect();
    println!("\n{passed} passed, {failed} failed");
    if !no_examples.is_empty() {
        println!("packs without examples: {}", no_examples.join(", "));
        return Ok(ExitCode::from(1));
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cmd_rules_list(args: EngineArgs) -> Result<ExitCode> {
    let engine = engine(&args)?;
    let mut out = io::stdout().lock();
    writeln!(out, "packs:")?;
    for p in &engine.packs {
        writeln!(
            out,
            "  {:<32} {:<12} {} examples  {}",
            p.pack.id,
            p.pack.status,
            p.examples.len(),
            p.source
        )?;
    }
    writeln!(out, "endpoints:")?;
    for (vendor, ep) in &engine.recognizer.endpoint_ids {
        writeln!(out, "  {vendor:<20} {ep}")?;
    }
    writeln!(out, "pii detectors:")?;
    for (id, kind) in engine.detectors.pii_ids() {
        writeln!(out, "  {id:<32} {kind}")?;
    }
    writeln!(out, "vocabularies:")?;
    for v in &engine.detectors.vocabs {
        writeln!(
            out,
            "  {:<32} {}/{}  {} terms",
            v.id, v.class, v.kind, v.term_count
        )?;
    }
    if io::stdout().is_terminal() {
        writeln!(
            out,
            "placeholder values: {}",
            engine.detectors.placeholders.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
