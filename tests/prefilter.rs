//! The prefilter (one Aho-Corasick pass over raw records for endpoint keywords) and the
//! inspection threads must change nothing but speed: the same findings, in the same order,
//! and the same counters, with and without them.

mod common;

use pixelwarden::source::Input;

fn compare(inputs: &[Input]) -> usize {
    let engine = common::engine();
    let (fast, fast_stats, _) = common::scan_inputs(&engine, inputs, false, true);
    let (slow, slow_stats, _) = common::scan_inputs(&engine, inputs, false, false);
    let fast: Vec<String> = fast
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let slow: Vec<String> = slow
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert_eq!(fast.len(), slow.len());
    for (a, b) in fast.iter().zip(&slow) {
        assert_eq!(a, b);
    }
    assert_eq!(
        fast_stats.beacons_by_endpoint,
        slow_stats.beacons_by_endpoint
    );
    assert!(fast_stats.candidates <= slow_stats.candidates);
    same_with_threads(&engine, inputs, &fast, &fast_stats);
    fast.len()
}

fn json(records: &[pixelwarden::redact::FindingRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect()
}

/// The threaded fast path gives exactly what the inline one gave: records, order, counters,
/// summary.
fn same_with_threads(
    engine: &pixelwarden::pipeline::Engine,
    inputs: &[Input],
    inline: &[String],
    inline_stats: &pixelwarden::pipeline::Stats,
) {
    let (_, _, inline_outcome) = common::scan_threads(engine, inputs, false, true, 1);
    for threads in [2, 3] {
        let (records, stats, outcome) = common::scan_threads(engine, inputs, false, true, threads);
        assert_eq!(json(&records), inline, "{threads} threads");
        assert_eq!(
            format!("{stats:?}"),
            format!("{inline_stats:?}"),
            "{threads} threads"
        );
        assert_eq!(
            outcome.summary.render(),
            inline_outcome.summary.render(),
            "{threads} threads"
        );
    }
}

#[test]
fn labelled_corpus_gives_identical_findings_with_and_without_the_prefilter() {
    let dir = common::root().join("corpus/labelled");
    let inputs: Vec<Input> = walkdir::WalkDir::new(&dir)
        .min_depth(2)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| Input::File(e.into_path()))
        .collect();
    assert!(compare(&inputs) > 300);
}

#[test]
fn real_captures_give_identical_findings_with_and_without_the_prefilter() {
    let dir = common::root().join("../shared/corpus/healthcare-exchange");
    if !dir.is_dir() {
        eprintln!("skipping: no shared corpus");
        return;
    }
    let mut inputs: Vec<Input> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "har"))
        .map(Input::File)
        .collect();
    inputs.sort_by_key(|i| i.label());
    compare(&inputs);
}

#[path = "../benches/support/egress_gen.rs"]
mod egress_gen;

/// The block path over generated logs of every line format, across a block boundary, with
/// CRLF endings, an over-long line, a Zeek header mid-file and no final newline.
#[test]
fn generated_logs_of_every_format_are_identical_with_and_without_the_prefilter() {
    use egress_gen::{generate, LogFormat};
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (i, format) in LogFormat::ALL.into_iter().enumerate() {
        // Squid spans several blocks (2 MiB, twice the line limit) and many 64 KiB pieces.
        let bytes = if format == LogFormat::Squid {
            4_700_000
        } else {
            400_000
        };
        let mut log = generate(format, bytes, 0.1, 7 + i as u64, false);
        match format {
            LogFormat::Squid => {
                // CRLF on every line, an over-long line, no final newline.
                let text = String::from_utf8(log).unwrap().replace('\n', "\r\n");
                let mut text = text.trim_end().to_string();
                let half = text.len() / 2;
                let cut = text[half..].find("\r\n").unwrap() + half + 2;
                text.insert_str(cut, &format!("{}\r\n", "x".repeat((1 << 20) + 10)));
                log = text.into_bytes();
            }
            LogFormat::Zeek => {
                // A new header in the middle (Zeek rotates logs by appending) with the first two
                // columns swapped: the lines after it only parse right with the new header.
                let text = String::from_utf8(log).unwrap();
                let swap = |l: &str, skip: usize| {
                    let mut cols: Vec<&str> = l.split('\t').collect();
                    cols.swap(skip, skip + 1);
                    cols.join("\t")
                };
                let header: String = text
                    .lines()
                    .filter(|l| l.starts_with('#'))
                    .map(
                        |l| match l.starts_with("#fields") || l.starts_with("#types") {
                            true => format!("{}\n", swap(l, 1)),
                            false => format!("{l}\n"),
                        },
                    )
                    .collect();
                let half = text.len() / 2;
                let cut = text[half..].find('\n').unwrap() + half + 1;
                let rest: String = text[cut..]
                    .lines()
                    .map(|l| match l.starts_with('#') {
                        true => format!("{l}\n"),
                        false => format!("{}\n", swap(l, 0)),
                    })
                    .collect();
                log = format!("{}{header}{rest}", &text[..cut]).into_bytes();
            }
            _ => {}
        }
        let path = dir.path().join(format!("{}.log", format.as_str()));
        std::fs::write(&path, log).unwrap();
        inputs.push(Input::File(path));
    }
    let engine = common::engine();
    let (fast, fast_stats, _) = common::scan_inputs(&engine, &inputs, false, true);
    let (slow, slow_stats, _) = common::scan_inputs(&engine, &inputs, false, false);
    assert!(fast.len() > 500, "{} findings", fast.len());
    assert_eq!(
        fast.iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect::<Vec<_>>(),
        slow.iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(fast_stats.records, slow_stats.records);
    assert_eq!(fast_stats.records_by_format, slow_stats.records_by_format);
    assert_eq!(fast_stats.skipped, slow_stats.skipped);
    assert_eq!(
        fast_stats
            .skipped
            .get(&pixelwarden::error::SkipReason::LineTooLong),
        Some(&1)
    );
    assert!(fast_stats.candidates < slow_stats.candidates / 2);
    // Findings after the swapped Zeek header: their time only parses with the new header.
    let late_zeek = fast
        .iter()
        .filter(|r| {
            r.format == pixelwarden::format::Format::Zeek
                && r.ts.is_some()
                && matches!(r.source, pixelwarden::request::Origin::Line { line, .. } if line > 1000)
        })
        .count();
    assert!(
        late_zeek > 20,
        "{late_zeek} Zeek findings after the new header"
    );
    let fast_json = json(&fast);
    same_with_threads(&engine, &inputs, &fast_json, &fast_stats);
}
