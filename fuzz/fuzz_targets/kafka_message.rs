//! The Kafka message path of `run`: a message payload (first byte picks the topic's format)
//! through the worker's per-message function, and the same bytes as a drift-state snapshot
//! read back from the state topic.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use pixelwarden::format::{Format, LineParser};
use pixelwarden::request::Origin;
use std::sync::Arc;

const LINE_FORMATS: [Format; 7] = [
    Format::Squid,
    Format::Clf,
    Format::NginxJson,
    Format::Zeek,
    Format::ZeekJson,
    Format::Eve,
    Format::Ecs,
];

fuzz_target!(|data: &[u8]| {
    let Some((first, payload)) = data.split_first() else { return };
    let format = LINE_FORMATS[usize::from(*first) % LINE_FORMATS.len()];
    let mut scanner = common::scanner();
    let mut parser = LineParser::new(format);
    let origin = Origin::Kafka { topic: Arc::from("egress"), partition: 0, offset: 1 };
    let mut records = Vec::new();
    if let Some((s, e)) = pixelwarden::service::worker::inspect_message(
        &mut scanner,
        &mut parser,
        payload,
        &origin,
        &mut records,
    ) {
        assert!(s <= e && e <= payload.len());
    }
    let _ = pixelwarden::service::state::decode(payload, 1 << 20);
});
