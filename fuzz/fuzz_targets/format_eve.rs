//! The `eve` parser over arbitrary bytes, through the whole scan (framing, parse, pipeline),
//! checked against the line-by-line reader.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::lines(Some(pixelwarden::format::Format::Eve), data));
