//! The decoder chain and the detectors on one request: first line `METHOD URL`, second line the
//! content type, the rest the body (percent, form, multipart, JSON, base64, nested strings).
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use pixelwarden::format::Format;
use pixelwarden::request::{Origin, Request};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let first = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let content_type = parts.next().map(|c| String::from_utf8_lossy(c).into_owned());
    let body = parts.next().map(<[u8]>::to_vec);
    let (method, url) = first.split_once(' ').unwrap_or(("POST", &first));
    let mut req = Request {
        method: method.to_string(),
        content_type,
        body,
        ..Request::default()
    };
    req.set_url(url);
    let engine = common::engine();
    let _ = engine.inspect(&req);
    let mut scanner = common::scanner();
    let origin = Origin::Line { path: Arc::from("fuzz"), line: 1 };
    let _ = scanner.request(&req, &origin, Format::Ecs);
});
