//! The ICAP parser over arbitrary bytes: the ICAP head, the encapsulated HTTP head, chunked
//! bodies with previews, exactly as the service reads them; a request that parses goes through
//! the engine and strip mode, whose output must parse as an HTTP head again.
#![no_main]
#[path = "../common.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use pixelwarden::icap::protocol::{self, Chunk};

fuzz_target!(|data: &[u8]| {
    let Some(end) = protocol::head_end(data) else { return };
    let Ok(head) = protocol::parse_head(&data[..end]) else { return };
    let rest = &data[end..];
    let Ok(n) = head.http_head_len() else { return };
    if n > rest.len() {
        return;
    }
    let Ok(http) = protocol::parse_http_head(&rest[..n]) else { return };
    let mut buf = &rest[n..];
    let mut body = Vec::new();
    for _ in 0..1000 {
        match protocol::next_chunk(buf) {
            Ok(Chunk::Data { data, used }) => {
                assert!(data.end <= used && used <= buf.len());
                body.extend_from_slice(&buf[data]);
                buf = &buf[used..];
            }
            Ok(Chunk::End { used, .. }) => {
                assert!(used <= buf.len());
                break;
            }
            Ok(Chunk::Incomplete) | Err(_) => break,
        }
    }
    let req = http.to_request(Some(&body));
    if let Some((_, findings)) = common::engine().inspect(&req) {
        let s = pixelwarden::icap::strip::strip(&http.target, Some(&body), req.content_type.as_deref(), &findings);
        let head = http.render(&s.target, s.body.as_ref().map(Vec::len));
        assert!(protocol::parse_http_head(&head).is_ok(), "a stripped request must parse again");
    }
});
