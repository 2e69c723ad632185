//! Explicit bounds on everything an untrusted input can make the engine do.
//!
//! Every limit is configurable (CLI flags, later the service config) and documented in
//! `docs/limits.md`. A record that hits a limit is skipped or truncated, counted with a
//! [`crate::error::SkipReason`], and processing goes on.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest line accepted by line-oriented formats; longer lines are skipped whole
    /// (`line_too_long`) without buffering the excess.
    pub max_line_bytes: usize,
    /// Largest request body decoded; longer bodies are cut and the beacon is marked truncated.
    pub max_body_bytes: usize,
    /// How many nested decodings (percent → JSON → base64 → ...) one value may go through.
    pub max_decode_depth: usize,
    /// Deepest JSON nesting walked inside a payload.
    pub max_json_depth: usize,
    /// Most (field, value) pairs decoded from one request.
    pub max_fields: usize,
    /// Largest single HAR entry or JSON record, in bytes of its serialised form.
    pub max_record_bytes: u64,
    /// Most bytes one compressed file may expand to before it is abandoned (`decompressed_too_large`).
    pub max_decompressed_bytes: u64,
    /// Most bytes read past a damaged head (binary junk, a crash mid-write) while looking for
    /// the first line of a known format; a file with none is not scanned (`unknown_format`).
    pub max_resync_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 1 << 20,
            max_body_bytes: 256 << 10,
            max_decode_depth: 6,
            max_json_depth: 32,
            max_fields: 4096,
            max_record_bytes: 64 << 20,
            max_decompressed_bytes: 64 << 30,
            max_resync_bytes: 256 << 20,
        }
    }
}
