//! Deterministic egress-log generator for memory and throughput measurements.
//!
//! `cargo run --release --example gen_egress -- [--bytes N] [--pixel-share 0.02] [--seed S] [--pixel-only] [--format FMT]`
//! writes an egress log to stdout: ordinary traffic (CDNs, APIs, updates, SaaS) mixed with pixel
//! hits (Meta with hashed or plaintext identity and health products, GA4 with items and
//! consent). The same arguments always give the same bytes.
//!
//! `FMT` is one of `squid` (default; Squid native `access.log`), `clf` (combined log format with
//! absolute-form URLs, as a forward proxy logs them), `nginx-json`, `zeek` (`http.log` TSV with
//! its `#fields` header), `eve` (Suricata EVE `http` events) and `ecs` (Elastic Common Schema).
//! Every format carries the same requests for the same seed; the generator itself lives in
//! `benches/support/egress_gen.rs` so the benchmarks can use it in memory.

#[path = "../benches/support/egress_gen.rs"]
mod egress_gen;

use egress_gen::{Generator, LogFormat};
use std::io::{self, BufWriter, Write};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let bytes: u64 = arg("--bytes")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200 << 20);
    let share: f64 = arg("--pixel-share")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.02);
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let pixel_only = args.iter().any(|a| a == "--pixel-only");
    let format = match arg("--format") {
        None => LogFormat::Squid,
        Some(name) => LogFormat::parse(&name).unwrap_or_else(|| {
            let known: Vec<_> = LogFormat::ALL.iter().map(|f| f.as_str()).collect();
            eprintln!(
                "gen_egress: unknown format `{name}` (known: {})",
                known.join(", ")
            );
            std::process::exit(2)
        }),
    };
    let mut generator = Generator::new(format, seed, share, pixel_only);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let header = generator.header();
    out.write_all(header.as_bytes())?;
    let mut written = header.len() as u64;
    let mut line = String::with_capacity(1024);
    while written < bytes {
        line.clear();
        generator.next_record(&mut line);
        written += line.len() as u64;
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}
