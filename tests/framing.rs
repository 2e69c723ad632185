//! Framing: any input, cut into blocks and pieces at any points, gives the same records as the
//! line-by-line reader, for every number of inspection threads. The cases crowd the line
//! limit: lines of exactly the limit, one over, with and without `\r`, at the end of the input
//! without a newline, and lines many blocks long.

mod common;

use pixelwarden::limits::Limits;
use pixelwarden::pipeline::{Engine, Scanner, Stats};
use pixelwarden::redact::{FindingRecord, Redactor};
use pixelwarden::scan::{scan, Framing, ScanOptions};
use pixelwarden::source::Input;
use proptest::prelude::*;

const MAX: usize = 300;

/// A Meta hit with a plain e-mail; `n` varies it so findings differ line by line.
fn hit(n: u32) -> String {
    format!("1709539200.{n:03}     12 10.0.0.1 TCP_MISS/200 44 GET https://www.facebook.com/tr/?id=1&ev=Lead&ts={n}&udff[em]=p{n}%40example.se - HIER_DIRECT/157.240.1.35 image/gif")
}

#[derive(Debug, Clone)]
enum Piece {
    Hit(u32),
    /// A line of exactly this many bytes (no keyword).
    Filler(usize),
    /// A pixel hit padded to this many bytes: over the limit it is skipped, at it it is read.
    PaddedHit(u32, usize),
    Empty,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => (0u32..1000).prop_map(Piece::Hit),
        3 => prop_oneof![0usize..40, (MAX - 3)..(MAX + 4), (2 * MAX)..(2 * MAX + 5), (3 * MAX)..(9 * MAX)]
            .prop_map(Piece::Filler),
        2 => ((0u32..1000), prop_oneof![(MAX - 2)..(MAX + 3), (MAX + 3)..(7 * MAX)])
            .prop_map(|(n, len)| Piece::PaddedHit(n, len)),
        1 => Just(Piece::Empty),
    ]
}

fn render(pieces: &[(Piece, bool)], final_newline: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (p, crlf)) in pieces.iter().enumerate() {
        let mut line = match p {
            Piece::Hit(n) => hit(*n).into_bytes(),
            Piece::Filler(len) => vec![b'x'; *len],
            Piece::PaddedHit(n, len) => {
                let mut l = format!("{}&pad=", hit(*n)).into_bytes();
                l.resize((*len).max(l.len()), b'p');
                l
            }
            Piece::Empty => Vec::new(),
        };
        if *crlf {
            line.push(b'\r');
        }
        out.extend_from_slice(&line);
        if i + 1 < pieces.len() || final_newline {
            out.push(b'\n');
        }
    }
    out
}

fn run(
    engine: &Engine,
    input: &Input,
    prefilter: bool,
    threads: usize,
    framing: Framing,
) -> (Vec<String>, Stats) {
    let mut scanner = Scanner::new(engine, Redactor::new([7; 32], false));
    scanner.prefilter = prefilter;
    let opts = ScanOptions {
        threads,
        framing,
        format: Some(pixelwarden::format::Format::Squid),
        ..ScanOptions::default()
    };
    let mut records: Vec<FindingRecord> = Vec::new();
    scan(std::slice::from_ref(input), &mut scanner, &opts, &mut |r| {
        records.push(r.clone());
        Ok(())
    })
    .expect("sink never fails");
    let json = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    (json, scanner.stats)
}

/// What an independent reader says: lines split on `\n`, `\r` dropped, over-long ones skipped.
fn expected_too_long(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        return 0;
    }
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if bytes.last() == Some(&b'\n') {
        lines.pop();
    }
    lines
        .iter()
        .filter(|l| l.strip_suffix(b"\r").unwrap_or(l).len() > MAX)
        .count() as u64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_cut_gives_the_records_of_one_pass(
        pieces in prop::collection::vec((piece(), prop::bool::weighted(0.2)), 0..40),
        final_newline in any::<bool>(),
        block in 1usize..(5 * MAX),
        piece_size in 1usize..(3 * MAX),
        threads in 1usize..4,
    ) {
        let engine = Engine::load(&[] as &[&str], Limits { max_line_bytes: MAX, ..Limits::default() }).unwrap();
        let bytes = render(&pieces, final_newline);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.log");
        std::fs::write(&path, &bytes).unwrap();
        let input = Input::File(path);
        let (one_pass, one_stats) = run(&engine, &input, false, 1, Framing::default());
        let framing = Framing { block, piece: piece_size };
        let (cut, cut_stats) = run(&engine, &input, true, threads, framing);
        prop_assert_eq!(&cut, &one_pass);
        prop_assert_eq!(cut_stats.records, one_stats.records);
        // Lines without a keyword are not parsed by the fast path (so not counted as bad
        // fields): compare what framing decides, the over-long lines.
        let too_long = |s: &Stats| s.skipped.get(&pixelwarden::error::SkipReason::LineTooLong).copied();
        prop_assert_eq!(too_long(&cut_stats), too_long(&one_stats));
        prop_assert_eq!(&cut_stats.findings_by_class, &one_stats.findings_by_class);
        let too_long = one_stats.skipped.get(&pixelwarden::error::SkipReason::LineTooLong).copied().unwrap_or(0);
        prop_assert_eq!(too_long, expected_too_long(&bytes));
        // Every hit that fits the limit gives its e-mail, at its physical line.
        let readable_hits = bytes
            .split(|b| *b == b'\n')
            .filter(|l| l.strip_suffix(b"\r").unwrap_or(l).len() <= MAX)
            .filter(|l| l.windows(12).any(|w| w == b"facebook.com"))
            .count();
        let emails = one_pass.iter().filter(|r| r.contains("\"type\":\"email\"")).count();
        prop_assert_eq!(emails, readable_hits);
    }
}

/// The sizes that broke before, pinned: a long line that ends a few bytes into a block.
#[test]
fn pinned_block_boundaries_around_a_long_line() {
    let engine = Engine::load(
        &[] as &[&str],
        Limits {
            max_line_bytes: MAX,
            ..Limits::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let block = 2 * MAX + 2;
    for long in [
        block - 1,
        block,
        block + 1,
        2 * block - 3,
        2 * block + 3,
        3 * block,
    ] {
        let bytes = format!("{}\n{}\n{}\n", hit(1), "y".repeat(long), hit(2));
        let path = dir.path().join("b.log");
        std::fs::write(&path, &bytes).unwrap();
        for threads in 1..=3 {
            let (records, stats) = run(
                &engine,
                &Input::File(path.clone()),
                true,
                threads,
                Framing { block, piece: 64 },
            );
            assert_eq!(records.len(), 2, "long {long}, threads {threads}");
            assert_eq!(stats.records, 3);
        }
    }
}
