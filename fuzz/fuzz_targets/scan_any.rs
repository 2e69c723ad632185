//! Any bytes as a file: decompression by magic bytes, sniffing, damaged-head resync, HAR
//! streaming or line framing, the whole pipeline; fast path against the line-by-line reader.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::lines(None, data));
