//! Shared by the fuzz targets: an engine with small limits (so that limits are reached often)
//! and the scan run twice, the fast path against the line-by-line reader.
#![allow(dead_code)]

use pixelwarden::format::Format;
use pixelwarden::limits::Limits;
use pixelwarden::pipeline::{Engine, Scanner};
use pixelwarden::redact::Redactor;
use pixelwarden::scan::{scan, Framing, ScanOptions};
use pixelwarden::source::Input;
use std::sync::{Arc, OnceLock};

pub fn limits() -> Limits {
    Limits {
        max_line_bytes: 2048,
        max_body_bytes: 4096,
        max_decode_depth: 6,
        max_json_depth: 16,
        max_fields: 256,
        max_record_bytes: 1 << 20,
        max_decompressed_bytes: 4 << 20,
        max_resync_bytes: 256 << 10,
    }
}

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(&[] as &[&str], limits()).expect("embedded packs compile"))
}

pub fn scanner() -> Scanner<'static> {
    let mut s = Scanner::new(engine(), Redactor::new([7; 32], false));
    s.drift = Some(pixelwarden::drift::Drift::new(Default::default()));
    s
}

/// The whole scan of `data` as one file (format forced or sniffed), with block and piece sizes
/// taken from the first two bytes; the fast path must give what the line-by-line reader gives.
pub fn lines(format: Option<Format>, data: &[u8]) {
    let (framing, data) = match data {
        [a, b, rest @ ..] => (
            Framing {
                block: 1 + usize::from(*a) * 64,
                piece: 1 + usize::from(*b) * 16,
            },
            rest,
        ),
        _ => (Framing::default(), data),
    };
    let input = Input::Bytes(Arc::from("fuzz"), Arc::from(data));
    let run = |prefilter: bool, framing: Framing| {
        let mut scanner = scanner();
        scanner.prefilter = prefilter;
        let opts = ScanOptions {
            format,
            framing,
            ..ScanOptions::default()
        };
        let mut out = Vec::new();
        let outcome = scan(std::slice::from_ref(&input), &mut scanner, &opts, &mut |r| {
            out.push(serde_json::to_string(r).expect("a finding serialises"));
            Ok(())
        })
        .expect("sink never fails");
        let too_long = scanner
            .stats
            .skipped
            .get(&pixelwarden::error::SkipReason::LineTooLong)
            .copied();
        (out, scanner.stats.records, too_long, outcome.incomplete())
    };
    let fast = run(true, framing);
    let slow = run(false, Framing::default());
    assert_eq!(fast, slow, "framing or prefilter changed the result");
}
