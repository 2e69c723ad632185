//! The prefilter (one Aho-Corasick pass over raw records for endpoint keywords) must change
//! nothing but speed: the same findings, in the same order, with and without it.

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
    fast.len()
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
