//! Helpers shared by the integration tests: run the real scan over inputs and collect records.
#![allow(dead_code)]

use pixelwarden::limits::Limits;
use pixelwarden::pipeline::{Engine, Scanner, Stats};
use pixelwarden::redact::{FindingRecord, Redactor};
use pixelwarden::scan::{scan, ScanOptions, ScanOutcome};
use pixelwarden::source::Input;
use std::path::{Path, PathBuf};

pub fn engine() -> Engine {
    Engine::load(&[] as &[&str], Limits::default()).expect("embedded packs compile")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scan inputs with the real pipeline; findings as JSON values (exactly what `scan` prints).
pub fn scan_inputs(
    engine: &Engine,
    inputs: &[Input],
    reveal: bool,
    prefilter: bool,
) -> (Vec<FindingRecord>, Stats, ScanOutcome) {
    scan_threads(engine, inputs, reveal, prefilter, 1)
}

/// [`scan_inputs`] with `threads` inspection threads.
pub fn scan_threads(
    engine: &Engine,
    inputs: &[Input],
    reveal: bool,
    prefilter: bool,
    threads: usize,
) -> (Vec<FindingRecord>, Stats, ScanOutcome) {
    let mut scanner = Scanner::new(engine, Redactor::new([7; 32], reveal));
    scanner.prefilter = prefilter;
    let mut records = Vec::new();
    let opts = ScanOptions {
        threads,
        ..ScanOptions::default()
    };
    let outcome = scan(inputs, &mut scanner, &opts, &mut |r| {
        records.push(r.clone());
        Ok(())
    })
    .expect("sink never fails");
    (records, scanner.stats, outcome)
}

pub fn files(paths: &[&Path]) -> Vec<Input> {
    paths.iter().map(|p| Input::File(p.to_path_buf())).collect()
}
