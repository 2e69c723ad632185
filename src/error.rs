//! Errors: typed, fatal start-up errors ([`Error`]) and per-record skip reasons ([`SkipReason`]).
//!
//! Start-up errors (a broken rule pack, an unreadable key file) stop the program with a message
//! that names the file, the rule and the value. Per-record problems are ordinary events: they
//! are counted by a bounded `reason` and the record is skipped.

use std::fmt;

/// A fatal configuration or start-up error.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A rule pack does not parse or does not compile.
    Rules,
    /// A configuration value is invalid.
    Config,
    /// An I/O problem outside any single record (key file, output file).
    Io,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn rules(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Rules, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Why a record (or part of one) was skipped. The set is closed so that it can be a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A line longer than `max_line_bytes`.
    LineTooLong,
    /// A JSON record that does not parse.
    BadJson,
    /// JSON nested deeper than the parser or `max_json_depth` allows.
    TooDeep,
    /// A line whose fields do not fit the format.
    BadFields,
    /// A URL or request target that cannot be understood.
    BadUrl,
    /// A timestamp that cannot be read.
    BadTimestamp,
    /// A body that could not be decoded (bad base64, broken multipart).
    BadBody,
    /// A record larger than `max_record_bytes`.
    RecordTooLarge,
    /// A file or stream that ended in the middle of a record.
    Truncated,
    /// A compressed file that expanded past `max_decompressed_bytes`.
    DecompressedTooLarge,
    /// A file whose format could not be recognised.
    UnknownFormat,
    /// A read error from the file system or decompressor.
    ReadError,
    /// A line before the first recognised record of a file with a damaged head.
    Unrecognised,
    /// Binary bytes (NUL or invalid UTF-8) before the first recognised record.
    Binary,
}

impl SkipReason {
    pub const ALL: [SkipReason; 14] = [
        SkipReason::LineTooLong,
        SkipReason::BadJson,
        SkipReason::TooDeep,
        SkipReason::BadFields,
        SkipReason::BadUrl,
        SkipReason::BadTimestamp,
        SkipReason::BadBody,
        SkipReason::RecordTooLarge,
        SkipReason::Truncated,
        SkipReason::DecompressedTooLarge,
        SkipReason::UnknownFormat,
        SkipReason::ReadError,
        SkipReason::Unrecognised,
        SkipReason::Binary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::LineTooLong => "line_too_long",
            SkipReason::BadJson => "bad_json",
            SkipReason::TooDeep => "too_deep",
            SkipReason::BadFields => "bad_fields",
            SkipReason::BadUrl => "bad_url",
            SkipReason::BadTimestamp => "bad_timestamp",
            SkipReason::BadBody => "bad_body",
            SkipReason::RecordTooLarge => "record_too_large",
            SkipReason::Truncated => "truncated",
            SkipReason::DecompressedTooLarge => "decompressed_too_large",
            SkipReason::UnknownFormat => "unknown_format",
            SkipReason::ReadError => "read_error",
            SkipReason::Unrecognised => "unrecognised",
            SkipReason::Binary => "binary",
        }
    }
}

impl SkipReason {
    /// Reasons that stop a whole input (the exit code says so), as opposed to one record.
    pub fn stops_input(self) -> bool {
        matches!(
            self,
            SkipReason::Truncated
                | SkipReason::DecompressedTooLarge
                | SkipReason::UnknownFormat
                | SkipReason::ReadError
        )
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A skipped record: the bounded reason plus a short, value-free explanation for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    pub reason: SkipReason,
    pub detail: String,
}

impl Skip {
    pub fn new(reason: SkipReason, detail: impl Into<String>) -> Self {
        Skip {
            reason,
            detail: detail.into(),
        }
    }
}
