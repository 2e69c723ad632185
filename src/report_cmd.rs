//! `pixelwarden report` and `pixelwarden verify`, and the report / evidence-pack outputs that
//! `scan` and `probe` share ([`Outputs`]).

use anyhow::{Context as _, Result};
use pixelwarden::evidence::{self, Manifest};
use pixelwarden::report::html::{self, ReportMeta};
use pixelwarden::report::Report;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What a run asked for beyond findings: a report file and/or an evidence pack.
pub struct Outputs {
    pub report: Option<PathBuf>,
    pub evidence: Option<PathBuf>,
    pub signing_key: Option<ed25519_dalek::SigningKey>,
    pub reveal: bool,
    /// The aggregation, fed every finding line.
    pub aggregate: Report,
    /// The evidence pack's copy of the findings.
    findings: Option<std::io::BufWriter<std::fs::File>>,
}

impl Outputs {
    pub fn new(
        report: Option<PathBuf>,
        evidence: Option<PathBuf>,
        signing_key: Option<&Path>,
        reveal: bool,
    ) -> Result<Outputs> {
        let signing_key = signing_key.map(evidence::load_signing_key).transpose()?;
        if signing_key.is_some() && evidence.is_none() {
            anyhow::bail!("--signing-key signs an evidence pack: give --evidence DIR too");
        }
        let findings = match &evidence {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("{}: cannot create", dir.display()))?;
                if std::fs::read_dir(dir)?.next().is_some() {
                    anyhow::bail!(
                        "{}: the evidence directory is not empty (an evidence pack holds one run)",
                        dir.display()
                    );
                }
                Some(std::io::BufWriter::new(
                    std::fs::File::create(dir.join("findings.jsonl"))
                        .with_context(|| format!("{}: cannot write", dir.display()))?,
                ))
            }
            None => None,
        };
        Ok(Outputs {
            report,
            evidence,
            signing_key,
            reveal,
            aggregate: Report::default(),
            findings,
        })
    }

    pub fn wanted(&self) -> bool {
        self.report.is_some() || self.evidence.is_some()
    }

    /// One finding as its JSON line (with the newline).
    pub fn add(&mut self, line: &[u8]) -> std::io::Result<()> {
        if let Some(f) = self.findings.as_mut() {
            f.write_all(line)?;
        }
        if self.wanted() {
            self.aggregate
                .add_line(std::str::from_utf8(line).unwrap_or_default(), self.reveal);
        }
        Ok(())
    }

    /// Write the report, and the evidence pack (summary, breach windows, report, manifest).
    pub fn finish(
        mut self,
        mut meta: ReportMeta,
        summary: Option<&serde_json::Value>,
        breach: Option<&serde_json::Value>,
        inputs: &[PathBuf],
        packs_digest: &str,
    ) -> Result<()> {
        if !self.wanted() {
            return Ok(());
        }
        meta.reveal = self.reveal || self.aggregate.had_revealed && self.reveal;
        if self.evidence.is_some() {
            meta.inputs = inputs
                .iter()
                .map(|p| {
                    let d = evidence::sha256_file(p).ok();
                    (
                        p.display().to_string(),
                        d.as_ref().map(|x| x.0),
                        d.map(|x| x.1),
                    )
                })
                .collect();
        }
        let html = html::render(&mut self.aggregate, &meta);
        if let Some(path) = &self.report {
            std::fs::write(path, &html)
                .with_context(|| format!("{}: cannot write the report", path.display()))?;
        }
        let Some(dir) = self.evidence.clone() else {
            return Ok(());
        };
        if let Some(mut f) = self.findings.take() {
            f.flush()?;
        }
        std::fs::write(dir.join("report.html"), &html)?;
        if let Some(s) = summary {
            std::fs::write(dir.join("summary.json"), serde_json::to_vec_pretty(s)?)?;
        }
        if let Some(b) = breach {
            std::fs::write(dir.join("breach.json"), serde_json::to_vec_pretty(b)?)?;
        }
        let manifest = Manifest {
            schema: "pixelwarden.evidence/v1".into(),
            tool: "pixelwarden".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            rule_packs_sha256: packs_digest.to_string(),
            command: std::env::args().collect(),
            created_at: meta.generated_at.clone(),
            time_range: (self.aggregate.first.clone(), self.aggregate.last.clone()),
            inputs: Vec::new(),
            outputs: Vec::new(),
            public_key: None,
        };
        let m = evidence::seal(&dir, manifest, inputs, self.signing_key.as_ref())?;
        eprintln!(
            "pixelwarden: evidence pack {}: {} outputs, {} inputs hashed{}",
            dir.display(),
            m.outputs.len(),
            m.inputs.len(),
            if self.signing_key.is_some() {
                ", signed (Ed25519)"
            } else {
                ""
            }
        );
        Ok(())
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `pixelwarden report FINDINGS... -o report.html`
pub fn cmd_report(args: super::ReportArgs) -> Result<ExitCode> {
    let mut outputs = Outputs::new(
        Some(args.output.clone()),
        args.evidence.clone(),
        args.signing_key.as_deref(),
        args.reveal,
    )?;
    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let limits = pixelwarden::limits::Limits::default();
    let mut line = String::new();
    for path in &args.findings {
        let input = if path.as_os_str() == "-" {
            pixelwarden::source::Input::Stdin
        } else {
            pixelwarden::source::Input::File(path.clone())
        };
        let mut r = input
            .open(read.clone(), &limits)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        loop {
            line.clear();
            let n = r
                .read_line(&mut line)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            if n == 0 {
                break;
            }
            if !line.ends_with('\n') {
                line.push('\n');
            }
            outputs.add(line.as_bytes())?;
        }
    }
    let mut meta = ReportMeta {
        generated_at: now(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        packs_digest: pixelwarden::rules::packs_digest(&pixelwarden::rules::load(&[] as &[&str])?),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        ..ReportMeta::default()
    };
    meta.inputs = args
        .findings
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::metadata(p).ok().map(|m| m.len()),
                None,
            )
        })
        .collect();
    // A scan's summary JSON gives the skipped records and the inputs it could not examine.
    let summary = match &args.summary {
        Some(p) => {
            let v: serde_json::Value = serde_json::from_slice(
                &std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?,
            )
            .with_context(|| format!("{}: not a summary JSON", p.display()))?;
            if let Some(s) = v.get("skipped").and_then(|s| s.as_object()) {
                meta.skipped = s
                    .iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                    .collect();
            }
            if let Some(items) = v.get("incomplete").and_then(|s| s.as_array()) {
                meta.incomplete = items
                    .iter()
                    .map(|i| {
                        format!(
                            "{}: {} ({})",
                            i["file"].as_str().unwrap_or("?"),
                            i["detail"].as_str().unwrap_or(""),
                            i["reason"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
            }
            Some(v)
        }
        None => None,
    };
    let records = outputs.aggregate.records;
    let digest = meta.packs_digest.clone();
    outputs.finish(meta, summary.as_ref(), None, &args.findings, &digest)?;
    eprintln!(
        "pixelwarden: report {} from {} findings",
        args.output.display(),
        records
    );
    Ok(ExitCode::SUCCESS)
}

/// `pixelwarden verify DIR`
pub fn cmd_verify(args: super::VerifyArgs) -> Result<ExitCode> {
    let key = args
        .public_key
        .as_deref()
        .map(evidence::load_public_key)
        .transpose()?;
    let v = evidence::verify(&args.dir, key.as_ref())?;
    let mut out = std::io::stdout().lock();
    for f in &v.verified {
        writeln!(out, "ok       {f}")?;
    }
    for i in &v.inputs_verified {
        writeln!(out, "ok       input {i}")?;
    }
    for i in &v.inputs_unavailable {
        writeln!(out, "absent   input {i} (not checked)")?;
    }
    for p in &v.problems {
        writeln!(out, "CHANGED  {p}")?;
    }
    writeln!(out, "signature: {}", v.signature)?;
    if v.ok() {
        writeln!(out, "evidence pack verified")?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(
            out,
            "evidence pack FAILED verification ({} problems)",
            v.problems.len()
        )?;
        Ok(ExitCode::from(1))
    }
}
