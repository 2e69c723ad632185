//! `pixelwarden explain -`: the input parser (URL, raw HTTP request or log line) and the
//! rendering of the decoded request.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use pixelwarden::redact::Redactor;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(req) = pixelwarden::explain::parse_input(&text, None) {
        let _ = pixelwarden::explain::render(common::engine(), &req, &Redactor::new([7; 32], false));
    }
});
