//! The rule-pack loader: any text as a pack file; a pack that parses is compiled on its own and
//! its examples run through the engine it makes. Errors are fine, panics are not.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = pixelwarden::rules::parse(text, "fuzz.toml") else { return };
    if let Ok(engine) = pixelwarden::pipeline::Engine::from_packs(vec![spec], common::limits()) {
        let _ = pixelwarden::ruletest::run(&engine);
    }
});
