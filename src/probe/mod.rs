//! Probe: walk a company's own site in headless Chromium with a canary identity and inspect
//! every request its pages make. A captured request joins the flow at `pixel` as a
//! [`crate::request::Request`] with its own origin; everything after that is shared with
//! `scan` and `run`.

pub mod banner;
