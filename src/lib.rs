//! pixelwarden: finds personal data that tracking pixels carry out of a company's HTTP egress.
//!
//! # Layout
//!
//! The flow is `source → format → pixel → detect → sink`, one noun per stage:
//!
//! - [`request`]: the normalised egress [`request::Request`] and where it came from.
//! - [`format`]: framing and parsing of log formats into requests.
//! - [`limits`], [`error`]: bounds on untrusted input; start-up errors and per-record skips.
//!
//! Sources besides files: [`service`] (Kafka), [`probe`] (a real browser on the company's own
//! site), [`icap`] (inline behind a TLS-decrypting proxy); all feed the same
//! [`pipeline::Engine`] and [`pipeline::Scanner`]. After the sinks: [`report`] (the forensic
//! report) and [`evidence`] (signed evidence packs).
pub mod detect;
pub mod drift;
pub mod error;
pub mod evidence;
pub mod explain;
pub mod format;
pub mod icap;
pub mod limits;
pub mod pipeline;
pub mod pixel;
pub mod probe;
pub mod redact;
pub mod report;
pub mod request;
pub mod rules;
pub mod ruletest;
pub mod scan;
pub mod service;
pub mod source;
pub mod summary;

/// Hash maps and sets keyed by data from the input (field paths, sites, hashed values):
/// foldhash, seeded per process, instead of SipHash, which was a tenth of the per-hit time.
pub(crate) mod fasthash {
    pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
    pub type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
}
