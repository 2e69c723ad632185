//! Hostile and broken input: every case is a counted, explained skip, never a panic, and the
//! valid records around a bad one are still processed. Regression tests are named after what
//! they protect against.

mod common;

use pixelwarden::error::SkipReason;
use pixelwarden::limits::Limits;
use pixelwarden::pipeline::Engine;
use pixelwarden::source::Input;
use std::io::Write;
use std::path::{Path, PathBuf};

const HIT: &str = "1709539200.000     12 10.0.0.1 TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=1&ev=Lead&udff[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6 - HIER_DIRECT/157.240.1.35 image/gif";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn run(
    engine: &Engine,
    paths: &[PathBuf],
) -> (
    usize,
    pixelwarden::pipeline::Stats,
    pixelwarden::scan::ScanOutcome,
) {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::File(p.clone())).collect();
    let (records, stats, outcome) = common::scan_inputs(engine, &inputs, false, true);
    // Inspection threads change nothing, bad input included: same records, counters and
    // file errors (with the same line in their detail).
    let (threaded, threaded_stats, threaded_outcome) =
        common::scan_threads(engine, &inputs, false, true, 3);
    let json = |r: &[pixelwarden::redact::FindingRecord]| {
        r.iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(json(&threaded), json(&records));
    assert_eq!(format!("{threaded_stats:?}"), format!("{stats:?}"));
    assert_eq!(
        format!("{:?}", threaded_outcome.file_errors),
        format!("{:?}", outcome.file_errors)
    );
    (records.len(), stats, outcome)
}

#[test]
fn over_long_lines_are_skipped_and_the_next_line_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::load(
        &[] as &[&str],
        Limits {
            max_line_bytes: 4096,
            ..Limits::default()
        },
    )
    .unwrap();
    let long = format!("{}{}", HIT, "&x=".repeat(10_000));
    let p = write(
        dir.path(),
        "a.log",
        format!("{HIT}\n{long}\n{HIT}\n").as_bytes(),
    );
    let (n, stats, _) = run(&engine, &[p]);
    assert_eq!(n, 2);
    assert_eq!(stats.skipped.get(&SkipReason::LineTooLong), Some(&1));
}

#[test]
fn invalid_utf8_is_read_lossily_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = HIT.replace("Lead", "Le\u{fffd}d").into_bytes();
    let i = bytes
        .windows(3)
        .position(|w| w == "\u{fffd}".as_bytes())
        .unwrap();
    bytes.splice(i..i + 3, [0xff, 0xfe]);
    bytes.push(b'\n');
    let p = write(dir.path(), "a.log", &bytes);
    let (n, stats, _) = run(&common::engine(), &[p]);
    assert_eq!(n, 1);
    assert_eq!(stats.invalid_utf8, 1);
}

#[test]
fn garbage_between_good_records_is_counted_by_reason() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HIT}\n1709539200.000 1 x TCP/200 1 GET www.facebook.com-no-scheme - x -\nnot-a-time 1 x TCP/200 1 GET https://www.facebook.com/tr/ - x -\nfacebook.com\n{HIT}\n"
    );
    let p = write(dir.path(), "a.log", text.as_bytes());
    let (n, stats, _) = run(&common::engine(), &[p]);
    assert_eq!(n, 2);
    assert_eq!(stats.skipped.get(&SkipReason::BadUrl), Some(&1));
    assert_eq!(stats.skipped.get(&SkipReason::BadTimestamp), Some(&1));
    assert_eq!(stats.skipped.get(&SkipReason::BadFields), Some(&1));
}

#[test]
fn truncated_gzip_reports_the_file_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let full = gzip(format!("{HIT}\n").repeat(2000).as_bytes());
    let cut = write(dir.path(), "a.log.gz", &full[..full.len() / 2]);
    let next = write(dir.path(), "b.log", format!("{HIT}\n").as_bytes());
    let (n, stats, outcome) = run(&common::engine(), &[cut, next]);
    assert_eq!(outcome.file_errors.len(), 1);
    assert_eq!(outcome.file_errors[0].1.reason, SkipReason::Truncated);
    assert!(n > 1, "records before the cut are kept");
    assert_eq!(stats.files, 2);
    assert!(outcome.file_errors[0].0.ends_with("a.log.gz"));
}

#[test]
fn truncated_har_keeps_complete_entries_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let entry = r#"{"startedDateTime":"2024-03-04T08:00:00Z","request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1&ev=Lead&ud[em]=7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6","headers":[]},"response":{}}"#;
    let har = format!("{{\"log\":{{\"version\":\"1.2\",\"entries\":[{entry},{entry},{entry}]}}}}");
    let cut = write(dir.path(), "a.har", &har.as_bytes()[..har.len() - 150]);
    let next = write(dir.path(), "b.log", format!("{HIT}\n").as_bytes());
    let (n, _, outcome) = run(&common::engine(), &[cut, next]);
    assert_eq!(n, 3, "two complete HAR entries and the next file");
    assert_eq!(outcome.file_errors[0].1.reason, SkipReason::Truncated);
}

#[test]
fn decompression_bomb_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::load(
        &[] as &[&str],
        Limits {
            max_decompressed_bytes: 1 << 20,
            ..Limits::default()
        },
    )
    .unwrap();
    let bomb = write(
        dir.path(),
        "bomb.log.gz",
        &gzip(format!("{HIT}\n").repeat(200_000).as_bytes()),
    );
    let (_, _, outcome) = run(&engine, &[bomb]);
    assert_eq!(
        outcome.file_errors[0].1.reason,
        SkipReason::DecompressedTooLarge
    );
}

#[test]
fn deep_json_and_broken_json_lines_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"@timestamp":"2024-03-04T08:00:00Z","url":{"full":"https://www.facebook.com/tr/?id=1&ev=Lead&ud[em]=a%40example.se"},"http":{"request":{"method":"GET"}}}"#;
    let deep = format!(
        "{{\"url\":{{\"full\":\"https://www.facebook.com/tr/\"}},\"x\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let broken = r#"{"url":{"full":"https://www.facebook.com/tr/?id=1"#;
    let p = write(
        dir.path(),
        "a.jsonl",
        format!("{good}\n{deep}\n{broken}\n{good}\n").as_bytes(),
    );
    let (n, stats, _) = run(&common::engine(), &[p]);
    assert_eq!(n, 2);
    assert_eq!(stats.skipped.get(&SkipReason::TooDeep), Some(&1));
    assert_eq!(stats.skipped.get(&SkipReason::BadJson), Some(&1));
}

#[test]
fn deeply_nested_payload_inside_a_parameter_is_cut_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // Deeper than max_json_depth (32) but within the parser: walking stops at the limit.
    let nested = format!(
        "{}\"anna@example.se\"{}",
        "%5B".repeat(60),
        "%5D".repeat(60)
    );
    let line = HIT.replace("ev=Lead", &format!("ev=Lead&cd[x]={nested}"));
    // Deeper than the JSON parser goes: the value stays text and the PII detectors still see it.
    let deeper = format!(
        "{}\"anna@example.se\"{}",
        "%5B".repeat(300),
        "%5D".repeat(300)
    );
    let line2 = HIT.replace("ev=Lead", &format!("ev=Lead&cd[x]={deeper}"));
    let p = write(dir.path(), "a.log", format!("{line}\n{line2}\n").as_bytes());
    let (n, stats, _) = run(&common::engine(), &[p]);
    assert_eq!(
        n,
        1 + 2,
        "the hashed e-mail twice, the e-mail only where it stayed text"
    );
    assert_eq!(stats.decode_limited, 2);
}

#[test]
fn oversized_bodies_are_cut_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::load(
        &[] as &[&str],
        Limits {
            max_body_bytes: 1024,
            ..Limits::default()
        },
    )
    .unwrap();
    let body = format!(
        "id=1&ev=Lead&ud%5Bem%5D=anna%40example.se&pad={}",
        "x".repeat(100_000)
    );
    let line = serde_json::json!({"time_iso8601":"2024-03-04T08:00:00+00:00","request_method":"POST","scheme":"https","host":"www.facebook.com","request_uri":"/tr/","content_type":"application/x-www-form-urlencoded","request_body": body});
    let p = write(dir.path(), "a.jsonl", format!("{line}\n").as_bytes());
    let inputs = vec![Input::File(p)];
    let (records, stats, _) = common::scan_inputs(&engine, &inputs, false, true);
    assert_eq!(records.len(), 1);
    assert!(records[0].truncated);
    assert_eq!(stats.decode_truncated, 1);
}

#[test]
fn zeek_data_before_header_empty_files_and_binary_noise_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let zeek = write(
        dir.path(),
        "z.log",
        b"#separator \\x09\n#fields\tts\turi\n1.0\t/g/collect\textra\n",
    );
    let empty = write(dir.path(), "empty.log", b"");
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let binary = write(dir.path(), "noise.bin", &noise);
    let (n, stats, outcome) = run(&common::engine(), &[zeek, empty, binary]);
    assert_eq!(n, 0);
    assert_eq!(stats.skipped.get(&SkipReason::BadFields), Some(&1));
    assert!(outcome.file_errors.is_empty());
    assert_eq!(
        outcome.unrecognised.len(),
        1,
        "the binary noise is not a log"
    );
}

#[test]
fn crlf_line_endings_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.log",
        format!("{HIT}\r\n{HIT}\r\n").as_bytes(),
    );
    let (n, stats, _) = run(&common::engine(), &[p]);
    assert_eq!(n, 2);
    assert_eq!(stats.skipped_total(), 0);
}
