//! Accuracy on the labelled corpus (`corpus/labelled/`): per-class recall and precision of the
//! real scan over every format, against `labels.jsonl`. Prints the table; fails below the floor.
//!
//! A record's label is the set of (class, type) it must produce; records without a label must
//! produce nothing. A finding is a true positive when its (file, position, class, type) is
//! labelled, a false positive otherwise; a labelled pair nobody found is a false negative.

mod common;

use pixelwarden::request::Origin;
use pixelwarden::source::Input;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Deserialize)]
struct Label {
    file: String,
    pos: u64,
    expect: Vec<Pair>,
}

#[derive(Deserialize)]
struct Pair {
    class: String,
    #[serde(rename = "type")]
    kind: String,
}

type Key = (String, u64, String, String);

#[test]
fn per_class_recall_and_precision_on_the_labelled_corpus() {
    let dir = common::root().join("corpus/labelled");
    let labels = std::fs::read_to_string(dir.join("labels.jsonl")).expect("labels.jsonl");
    let mut expected: BTreeSet<Key> = BTreeSet::new();
    let mut files: BTreeSet<String> = BTreeSet::new();
    for line in labels.lines().filter(|l| !l.trim().is_empty()) {
        let l: Label = serde_json::from_str(line).expect("label line");
        files.insert(l.file.clone());
        for p in l.expect {
            expected.insert((l.file.clone(), l.pos, p.class, p.kind));
        }
    }
    // Every data file of the corpus, labelled or not.
    let mut inputs = Vec::new();
    for entry in walkdir::WalkDir::new(&dir).min_depth(2).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            inputs.push(Input::File(entry.into_path()));
        }
    }
    assert!(inputs.len() >= 8, "corpus has {} files", inputs.len());
    let engine = common::engine();
    let (records, stats, outcome) = common::scan_inputs(&engine, &inputs, false, true);
    assert!(outcome.file_errors.is_empty(), "{:?}", outcome.file_errors);
    let prefix = format!("{}/", dir.display());
    let mut found: BTreeSet<Key> = BTreeSet::new();
    for r in &records {
        let (path, pos) = match &r.source {
            Origin::Line { path, line } => (path.to_string(), *line),
            Origin::Entry { path, entry } => (path.to_string(), *entry),
            Origin::Kafka { .. } => unreachable!(),
        };
        let rel = path.trim_start_matches(&prefix).to_string();
        found.insert((rel, pos, r.class.to_string(), r.kind.to_string()));
    }
    let mut by_class: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for k in expected.union(&found) {
        let e = by_class.entry(k.2.clone()).or_default();
        match (expected.contains(k), found.contains(k)) {
            (true, true) => e[0] += 1,
            (false, true) => e[1] += 1,
            (true, false) => e[2] += 1,
            _ => {}
        }
    }
    println!(
        "\nlabelled corpus: {} files, {} records, {} labelled (record, class, type) pairs",
        inputs.len(),
        stats.records,
        expected.len()
    );
    println!(
        "{:<12} {:>5} {:>5} {:>5} {:>8} {:>9}",
        "class", "tp", "fp", "fn", "recall", "precision"
    );
    let mut worst = 1.0f64;
    for (class, [tp, fp, fneg]) in &by_class {
        let recall = *tp as f64 / (*tp + *fneg).max(1) as f64;
        let precision = *tp as f64 / (*tp + *fp).max(1) as f64;
        println!("{class:<12} {tp:>5} {fp:>5} {fneg:>5} {recall:>8.3} {precision:>9.3}");
        worst = worst.min(recall).min(precision);
    }
    let mut by_type: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for k in expected.union(&found) {
        let e = by_type.entry(format!("{}/{}", k.2, k.3)).or_default();
        match (expected.contains(k), found.contains(k)) {
            (true, true) => e[0] += 1,
            (false, true) => e[1] += 1,
            (true, false) => e[2] += 1,
            _ => {}
        }
    }
    println!("\n{:<28} {:>5} {:>5} {:>5}", "class/type", "tp", "fp", "fn");
    for (t, [tp, fp, fneg]) in &by_type {
        println!("{t:<28} {tp:>5} {fp:>5} {fneg:>5}");
    }
    for k in found.difference(&expected) {
        println!("  false positive: {}:{} {}/{}", k.0, k.1, k.2, k.3);
    }
    for k in expected.difference(&found) {
        println!("  missed:         {}:{} {}/{}", k.0, k.1, k.2, k.3);
    }
    for f in &files {
        assert!(dir.join(f).exists(), "label names missing file {f}");
    }
    assert!(
        worst >= 0.95,
        "a class fell below 0.95 recall or precision (see the table above)"
    );
}
