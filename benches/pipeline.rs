//! Throughput of each pipeline stage on deterministic in-memory egress logs.
//!
//! `cargo bench --bench pipeline` (add `-- --warm-up-time 1 --measurement-time 2` for a quick
//! run, or a filter such as `-- parse/`). Inputs come from the same generator as
//! `examples/gen_egress.rs` (`benches/support/egress_gen.rs`): about 2 % pixel hits among
//! ordinary traffic, or pixel hits only.
//!
//! Every benchmark checks what it produced (records parsed, candidates, hits, fields, findings)
//! against a count taken once before timing, and that count must be positive: a stage that
//! silently stops finding things fails the run instead of getting faster.

#[path = "support/egress_gen.rs"]
mod egress_gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use egress_gen::LogFormat;
use pixelwarden::format::{Format, LineParser, Parsed};
use pixelwarden::limits::Limits;
use pixelwarden::pipeline::{Engine, Scanner};
use pixelwarden::pixel::decode::{Decoder, SplitStyle};
use pixelwarden::pixel::Beacon;
use pixelwarden::redact::Redactor;
use pixelwarden::request::{Origin, Request};
use pixelwarden::source::{Line, Lines};
use regex::Regex;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// Size of each mixed (about 2 % pixels) input.
const MIXED_BYTES: usize = 2 << 20;
/// Size of the pixel-only input.
const PIXEL_BYTES: usize = 1 << 20;
const SEED: u64 = 1;
const SHARE: f64 = 0.02;

fn format_of(f: LogFormat) -> Format {
    f.as_str()
        .parse()
        .expect("generator format is a pixelwarden format")
}

fn engine() -> Engine {
    Engine::load(&[] as &[&str], Limits::default()).expect("embedded rule packs load")
}

/// Frame `input` into lines and parse every one of them; the number of requests.
/// Panics on any skipped record: the generator must only write valid records.
fn parse_all(format: Format, input: &[u8], max_line: usize) -> usize {
    let mut parser = LineParser::new(format);
    let mut lines = Lines::new(input, max_line);
    let mut buf = Vec::with_capacity(4096);
    let mut requests = 0;
    while let Some(line) = lines.next_line(&mut buf).expect("in-memory read") {
        assert_eq!(line, Line::Text, "line longer than the limit");
        let text = std::str::from_utf8(&buf).expect("generated lines are UTF-8");
        match parser.parse(text) {
            Ok(Parsed::Request(req)) => {
                black_box(&req);
                requests += 1;
            }
            Ok(Parsed::Ignored) => {}
            Err(skip) => panic!("{format}: skipped {:?}: {}", skip.reason, skip.detail),
        }
    }
    requests
}

/// Every request of an input, parsed once (for the stages after parsing).
fn requests(format: Format, input: &[u8]) -> Vec<Request> {
    let mut parser = LineParser::new(format);
    let text = std::str::from_utf8(input).expect("generated lines are UTF-8");
    text.lines()
        .filter_map(|line| match parser.parse(line) {
            Ok(Parsed::Request(req)) => Some(*req),
            Ok(Parsed::Ignored) => None,
            Err(skip) => panic!("{format}: skipped {:?}: {}", skip.reason, skip.detail),
        })
        .collect()
}

/// The whole per-line path as `pixelwarden scan` runs it: framing, prefilter, parsing,
/// recognition, decoding, detection and redaction. The number of finding records.
fn scan_lines(engine: &Engine, format: Format, input: &[u8]) -> usize {
    let mut scanner = Scanner::new(engine, Redactor::new([7; 32], false));
    let mut parser = LineParser::new(format);
    let mut lines = Lines::new(input, engine.limits.max_line_bytes);
    let mut buf = Vec::with_capacity(4096);
    let path: Arc<str> = Arc::from("bench");
    let mut line_no = 0;
    let mut findings = 0;
    while let Some(line) = lines.next_line(&mut buf).expect("in-memory read") {
        assert_eq!(line, Line::Text, "line longer than the limit");
        line_no += 1;
        let origin = Origin::Line {
            path: path.clone(),
            line: line_no,
        };
        match scanner.line(&mut parser, &buf, &origin) {
            Ok(records) => findings += black_box(records).len(),
            Err(skip) => panic!("{format}: skipped {:?}: {}", skip.reason, skip.detail),
        }
    }
    assert_eq!(scanner.stats.skipped_total(), 0);
    findings
}

/// One hit to decode: its query and the decoding settings of the endpoint it hit.
struct DecodeJob<'a> {
    query: &'a str,
    splits: &'a [(Regex, SplitStyle)],
    events_array: Option<&'a str>,
}

/// Check a count taken before timing and hand it back for the timed closures.
fn expect_positive(what: &str, n: usize) -> usize {
    assert!(n > 0, "{what}: nothing found before timing");
    n
}

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("parse");
    for f in LogFormat::ALL {
        let format = format_of(f);
        let input = egress_gen::generate(f, MIXED_BYTES, SHARE, SEED, false);
        let want = expect_positive(f.as_str(), parse_all(format, &input, limits.max_line_bytes));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(f.as_str(), |b| {
            b.iter(|| {
                let n = parse_all(format, black_box(&input), limits.max_line_bytes);
                assert_eq!(n, want, "{f:?}: parsed records changed");
                n
            })
        });
    }
    group.finish();
}

fn recognize(c: &mut Criterion) {
    let engine = engine();
    let input = egress_gen::generate(LogFormat::Squid, MIXED_BYTES, SHARE, SEED, false);
    let lines: Vec<&[u8]> = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let candidates = |lines: &[&[u8]]| {
        lines
            .iter()
            .filter(|l| engine.recognizer.prefilter(l))
            .count()
    };
    let want_candidates = expect_positive("prefilter", candidates(&lines));
    let reqs = requests(Format::Squid, &input);
    let hits = |reqs: &[Request]| reqs.iter().filter(|r| engine.recognizer.is_hit(r)).count();
    let want_hits = expect_positive("endpoint", hits(&reqs));
    assert!(want_hits <= want_candidates && want_hits < reqs.len());

    let mut group = c.benchmark_group("recognize");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("prefilter-squid-2pct", |b| {
        b.iter(|| {
            let n = candidates(black_box(&lines));
            assert_eq!(n, want_candidates, "prefilter candidates changed");
            n
        })
    });
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function("endpoint-squid-2pct", |b| {
        b.iter(|| {
            let n = hits(black_box(&reqs));
            assert_eq!(n, want_hits, "recognised hits changed");
            n
        })
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let engine = engine();
    let input = egress_gen::generate(LogFormat::Squid, PIXEL_BYTES, SHARE, SEED, true);
    let reqs = requests(Format::Squid, &input);
    // Each hit with the decoding settings of the endpoint the recognizer picks for it, and the
    // number of fields the engine itself decodes from it.
    let mut work: Vec<DecodeJob> = Vec::new();
    let mut engine_fields = 0;
    for req in &reqs {
        let beacon = engine
            .recognizer
            .beacon(req, &engine.limits)
            .expect("every pixel-only record is a hit");
        assert!(req.body.is_none(), "the generator writes no bodies");
        let (splits, events_array) = engine
            .recognizer
            .decode_settings(&beacon.endpoint)
            .expect("the endpoint of a beacon exists");
        work.push(DecodeJob {
            query: req.query().unwrap_or(""),
            splits,
            events_array,
        });
        engine_fields += beacon.fields.len();
    }
    let limits = &engine.limits;
    let decode_all = |work: &[DecodeJob]| {
        let mut fields = 0;
        for job in work {
            let mut decoder = Decoder::new(limits, job.splits, job.events_array);
            decoder.query(job.query);
            fields += black_box(decoder.fields).len();
        }
        fields
    };
    let want = expect_positive("decode", decode_all(&work));
    assert_eq!(want, engine_fields, "bench decodes like the engine");
    let bytes: usize = work.iter().map(|job| job.query.len()).sum();

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("query-pixel-only", |b| {
        b.iter(|| {
            let n = decode_all(black_box(&work));
            assert_eq!(n, want, "decoded fields changed");
            n
        })
    });
    group.finish();
}

fn detect(c: &mut Criterion) {
    let engine = engine();
    let input = egress_gen::generate(LogFormat::Squid, PIXEL_BYTES, SHARE, SEED, true);
    let beacons: Vec<Beacon> = requests(Format::Squid, &input)
        .iter()
        .map(|r| {
            engine
                .recognizer
                .beacon(r, &engine.limits)
                .expect("every pixel-only record is a hit")
        })
        .collect();
    let detect_all = |beacons: &[Beacon]| {
        beacons
            .iter()
            .map(|b| {
                let sem = &engine.recognizer.vendors[b.vendor].semantics;
                black_box(engine.detectors.detect(b, sem)).len()
            })
            .sum::<usize>()
    };
    let want = expect_positive("detect", detect_all(&beacons));

    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Elements(beacons.len() as u64));
    group.bench_function("beacons-pixel-only", |b| {
        b.iter(|| {
            let n = detect_all(black_box(&beacons));
            assert_eq!(n, want, "findings changed");
            n
        })
    });
    group.finish();
}

fn scanner(c: &mut Criterion) {
    let engine = engine();
    let mut group = c.benchmark_group("scanner-line");
    let mut inputs: Vec<(String, LogFormat, Vec<u8>)> = LogFormat::ALL
        .into_iter()
        .map(|f| {
            let input = egress_gen::generate(f, MIXED_BYTES, SHARE, SEED, false);
            (format!("{}-2pct", f.as_str()), f, input)
        })
        .collect();
    inputs.push((
        "squid-pixel-only".into(),
        LogFormat::Squid,
        egress_gen::generate(LogFormat::Squid, PIXEL_BYTES, SHARE, SEED, true),
    ));
    for (name, f, input) in &inputs {
        let format = format_of(*f);
        let want = expect_positive(name, scan_lines(&engine, format, input));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                let n = scan_lines(&engine, format, black_box(input));
                assert_eq!(n, want, "{name}: findings changed");
                n
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = parse, recognize, decode, detect, scanner
}
criterion_main!(benches);
