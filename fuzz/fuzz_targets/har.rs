//! HAR streaming over arbitrary bytes; every entry that parses goes through the pipeline.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use pixelwarden::format::{har, Format};
use pixelwarden::request::Origin;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let mut scanner = common::scanner();
    let path: Arc<str> = Arc::from("fuzz.har");
    let _ = har::read_har(data, &common::limits(), |entry, req| {
        if let Ok(req) = req {
            let origin = Origin::Entry { path: path.clone(), entry };
            let _ = scanner.request(&req, &origin, Format::Har);
        }
    });
});
