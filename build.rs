//! Embeds the rule packs (`detectors/**/*.toml`) and the sample egress data
//! (`corpus/labelled/<format>/*`) into the binary.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let packs = manifest.join("detectors");
    embed(
        &packs,
        &|p| p.extension().is_some_and(|x| x == "toml"),
        "include_str",
        "embedded_packs.rs",
    );
    let corpus = manifest.join("corpus/labelled");
    // Top-level files there are the generator, the labels and the README; data sits in folders.
    embed(
        &corpus,
        &|p| p.parent() != Some(corpus.as_path()),
        "include_bytes",
        "embedded_samples.rs",
    );
}

/// Write `&[(relative path, macro!(absolute path)), ...]` for every kept file under `root`.
fn embed(root: &Path, keep: &dyn Fn(&Path) -> bool, macro_name: &str, dest: &str) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                println!("cargo:rerun-if-changed={}", path.display());
                dirs.push(path);
            } else if keep(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            out,
            "    ({rel:?}, {macro_name}!({:?})),",
            file.display().to_string()
        )
        .unwrap();
    }
    out.push(']');
    std::fs::write(
        Path::new(&std::env::var("OUT_DIR").unwrap()).join(dest),
        out,
    )
    .unwrap();
}
