//! The forensic scan: drives sources through the pipeline, file by file, and hands every
//! finding to a sink. A file that fails (truncated gzip or HAR, unreadable) is reported and the
//! scan goes on with the next one; every record before the failure has been processed.

use crate::detect::Severity;
use crate::error::{Skip, SkipReason};
use crate::format::{har, sniff, Format, LineParser};
use crate::pipeline::Scanner;
use crate::redact::FindingRecord;
use crate::request::Origin;
use crate::source::{Input, Line, Lines, DECOMPRESSED_TOO_LARGE};
use crate::summary::Summary;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Force a format instead of sniffing each input.
    pub format: Option<Format>,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// Skipped records reported per file with their position; the rest are only counted.
    pub skip_notes_per_file: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            format: None,
            progress: false,
            skip_notes_per_file: 5,
        }
    }
}

/// What a scan did, beyond the findings it emitted.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub summary: Summary,
    /// Per (site, vendor, pixel, field family) carrying identity or Art. 9 data: first and last
    /// seen, count and distinct people — the window an Art. 33 notification needs.
    pub breach: crate::drift::BreachWindows,
    pub max_severity: Option<Severity>,
    /// Files that stopped early, with the reason.
    pub file_errors: Vec<(String, Skip)>,
    /// Files not scanned because their format was not recognised.
    pub unrecognised: Vec<String>,
    pub formats: Vec<(String, Option<Format>)>,
}

/// A sink refused a finding (e.g. stdout closed): the scan stops.
#[derive(Debug)]
pub struct SinkError(pub io::Error);

pub fn scan(
    inputs: &[Input],
    scanner: &mut Scanner,
    opts: &ScanOptions,
    sink: &mut dyn FnMut(&FindingRecord) -> io::Result<()>,
) -> Result<ScanOutcome, SinkError> {
    let mut outcome = ScanOutcome::default();
    let read = Arc::new(AtomicU64::new(0));
    let progress = progress_bar(inputs, opts.progress);
    let started = Instant::now();
    for input in inputs {
        let label = input.label();
        scanner.stats.files += 1;
        let mut file = FileScan {
            label: label.clone(),
            notes_left: opts.skip_notes_per_file,
            skipped_quietly: 0,
        };
        let result = scan_one(
            input,
            scanner,
            opts,
            &mut outcome,
            &mut file,
            &read,
            &progress,
            started,
            sink,
        );
        match result {
            Ok(format) => outcome.formats.push((label.to_string(), format)),
            Err(FileError::Sink(e)) => return Err(SinkError(e)),
            Err(FileError::Unrecognised) => {
                scanner.count_skip(SkipReason::UnknownFormat);
                tracing::warn!(target: "pixelwarden::scan", file = %label, "not scanned: format not recognised (use --format)");
                outcome.unrecognised.push(label.to_string());
            }
            Err(FileError::Stopped(skip, format)) => {
                scanner.stats.files_failed += 1;
                scanner.count_skip(skip.reason);
                tracing::warn!(target: "pixelwarden::scan", file = %label, reason = %skip.reason, "file stopped early: {}", skip.detail);
                outcome.file_errors.push((label.to_string(), skip));
                outcome.formats.push((label.to_string(), format));
            }
        }
        if file.skipped_quietly > 0 {
            tracing::warn!(target: "pixelwarden::scan", file = %label, "{} more skipped records not shown (see the summary counts)", file.skipped_quietly);
        }
    }
    scanner.stats.bytes = read.load(Ordering::Relaxed);
    progress.finish_and_clear();
    Ok(outcome)
}

struct FileScan {
    label: Arc<str>,
    notes_left: usize,
    skipped_quietly: u64,
}

impl FileScan {
    fn note(&mut self, origin: &Origin, skip: &Skip) {
        if self.notes_left > 0 {
            self.notes_left -= 1;
            tracing::warn!(target: "pixelwarden::scan", at = %origin.label(), reason = %skip.reason, "skipped: {}", skip.detail);
        } else {
            self.skipped_quietly += 1;
        }
    }
}

enum FileError {
    Sink(io::Error),
    Unrecognised,
    Stopped(Skip, Option<Format>),
}

#[allow(clippy::too_many_arguments)]
fn scan_one(
    input: &Input,
    scanner: &mut Scanner,
    opts: &ScanOptions,
    outcome: &mut ScanOutcome,
    file: &mut FileScan,
    read: &Arc<AtomicU64>,
    progress: &ProgressBar,
    started: Instant,
    sink: &mut dyn FnMut(&FindingRecord) -> io::Result<()>,
) -> Result<Option<Format>, FileError> {
    let limits = scanner.engine.limits.clone();
    let stopped = |reason, detail: String| FileError::Stopped(Skip::new(reason, detail), None);
    let mut reader = input
        .open(read.clone(), &limits)
        .map_err(|e| stopped(SkipReason::ReadError, format!("cannot open: {e}")))?;
    // Sniff from the first 64 KiB, then put them back in front of the stream.
    let mut head = Vec::with_capacity(64 << 10);
    (&mut reader)
        .take(64 << 10)
        .read_to_end(&mut head)
        .map_err(|e| io_stop(e, "while reading the start", None))?;
    let format = match opts.format.or_else(|| sniff(&head)) {
        Some(f) => f,
        None if head.iter().all(u8::is_ascii_whitespace) => return Ok(None),
        None => return Err(FileError::Unrecognised),
    };
    let stream = BufReader::with_capacity(256 << 10, Cursor::new(head).chain(reader));
    let mut emit = |records: Vec<FindingRecord>, outcome: &mut ScanOutcome| -> io::Result<()> {
        for r in &records {
            outcome.summary.add(r);
            outcome.breach.add(r);
            outcome.max_severity = outcome.max_severity.max(Some(r.severity));
            sink(r)?;
        }
        Ok(())
    };
    if format == Format::Har {
        let mut sink_error = None;
        let result = har::read_har(stream, &limits, |index, entry| {
            if sink_error.is_some() {
                return;
            }
            let origin = Origin::Entry {
                path: file.label.clone(),
                entry: index,
            };
            scanner.stats.records += 1;
            *scanner
                .stats
                .records_by_format
                .entry(Format::Har)
                .or_default() += 1;
            if index % 256 == 0 && !progress.is_hidden() {
                progress.set_position(read.load(Ordering::Relaxed));
            }
            match entry {
                Ok(req) => {
                    scanner.stats.candidates += 1;
                    let records = scanner.request(&req, &origin, Format::Har);
                    if let Err(e) = emit(records, outcome) {
                        sink_error = Some(e);
                    }
                }
                Err(skip) => {
                    scanner.count_skip(skip.reason);
                    file.note(&origin, &skip);
                }
            }
        });
        if let Some(e) = sink_error {
            return Err(FileError::Sink(e));
        }
        return match result {
            Ok(_) => Ok(Some(format)),
            Err(skip) => Err(FileError::Stopped(skip, Some(format))),
        };
    }
    let mut parser = LineParser::new(format);
    if scanner.prefilter {
        let mut fast = FastLines {
            scanner,
            parser: &mut parser,
            file,
            outcome,
            emit: &mut emit,
            max: limits.max_line_bytes,
            line_no: 0,
            skipped_lines: 0,
            format,
            lowered: Vec::new(),
        };
        fast.run(stream, read, progress, started)?;
        return Ok(Some(format));
    }
    let mut lines = Lines::new(stream, limits.max_line_bytes);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        let line = match lines.next_line(&mut buf) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => return Err(io_stop(e, &format!("after line {line_no}"), Some(format))),
        };
        line_no += 1;
        let origin = Origin::Line {
            path: file.label.clone(),
            line: line_no,
        };
        if line == Line::TooLong {
            scanner.stats.records += 1;
            *scanner.stats.records_by_format.entry(format).or_default() += 1;
            let skip = Skip::new(
                SkipReason::LineTooLong,
                format!("line longer than {} bytes", limits.max_line_bytes),
            );
            scanner.count_skip(skip.reason);
            file.note(&origin, &skip);
            continue;
        }
        match scanner.line(&mut parser, &buf, &origin) {
            Ok(records) => emit(records, outcome).map_err(FileError::Sink)?,
            Err(skip) => file.note(&origin, &skip),
        }
        if line_no % 8192 == 0 && !progress.is_hidden() {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            progress.set_position(read.load(Ordering::Relaxed));
            progress.set_message(format!(
                "{:.0} records/s",
                scanner.stats.records as f64 / secs
            ));
        }
    }
    Ok(Some(format))
}

type Emit<'a> = dyn FnMut(Vec<FindingRecord>, &mut ScanOutcome) -> io::Result<()> + 'a;

/// The fast path over line formats: the prefilter runs over whole blocks of input, and only
/// the lines it matches (plus Zeek header lines) are cut out and parsed. Lines in between are
/// counted in bulk (and checked against the line limit) without being copied or parsed. The
/// results are those of the line-by-line path (tests/prefilter.rs proves it).
struct FastLines<'a, 'e, 's> {
    scanner: &'a mut Scanner<'e>,
    parser: &'a mut LineParser,
    file: &'a mut FileScan,
    outcome: &'a mut ScanOutcome,
    emit: &'a mut Emit<'s>,
    max: usize,
    line_no: u64,
    /// Lines counted but not parsed since the stats were last updated.
    skipped_lines: u64,
    format: Format,
    /// The block, lowercased, for the keyword search.
    lowered: Vec<u8>,
}

/// Input is read in blocks of this size (or twice the line limit, if larger).
const BLOCK: usize = 4 << 20;

impl FastLines<'_, '_, '_> {
    fn run(
        &mut self,
        mut stream: impl Read,
        read: &Arc<AtomicU64>,
        progress: &ProgressBar,
        started: Instant,
    ) -> Result<(), FileError> {
        let block = BLOCK.max(self.max.saturating_mul(2).saturating_add(2));
        let mut buf: Vec<u8> = Vec::with_capacity(block);
        // Bytes of an over-long line still to be thrown away, up to its newline.
        let mut discarding = false;
        let mut eof = false;
        while !eof || !buf.is_empty() {
            // Fill the block.
            while !eof && buf.len() < block {
                let len = buf.len();
                buf.resize(block, 0);
                match stream.read(&mut buf[len..]) {
                    Ok(0) => {
                        buf.truncate(len);
                        eof = true;
                    }
                    Ok(n) => buf.truncate(len + n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
                    Err(e) => {
                        // Keep every complete line read before the error, then stop the file.
                        buf.truncate(len);
                        if !discarding {
                            if let Some(i) = memchr::memrchr(b'\n', &buf) {
                                self.region(&buf[..=i])?;
                            }
                        }
                        self.flush_counts();
                        return Err(io_stop(
                            e,
                            &format!("after line {}", self.line_no),
                            Some(self.format),
                        ));
                    }
                }
            }
            if discarding {
                match memchr::memchr(b'\n', &buf) {
                    Some(i) => {
                        buf.drain(..=i);
                        discarding = false;
                    }
                    None => {
                        buf.clear();
                        continue;
                    }
                }
            }
            let end = match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None if eof => buf.len(),
                None => {
                    // A full block without a newline: one line longer than the limit.
                    self.too_long();
                    buf.clear();
                    discarding = true;
                    continue;
                }
            };
            self.region(&buf[..end])?;
            buf.drain(..end);
            if !progress.is_hidden() {
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                progress.set_position(read.load(Ordering::Relaxed));
                progress.set_message(format!(
                    "{:.0} records/s",
                    (self.scanner.stats.records + self.skipped_lines) as f64 / secs
                ));
            }
        }
        self.flush_counts();
        Ok(())
    }

    /// Whole lines (the last may lack its newline at the end of the input).
    fn region(&mut self, region: &[u8]) -> Result<(), FileError> {
        let prefilter = &self.scanner.engine.recognizer;
        self.lowered.clear();
        self.lowered.extend_from_slice(region);
        self.lowered.make_ascii_lowercase();
        let mut pos = 0;
        while pos < region.len() {
            let hit = prefilter
                .find_keyword_lowercased(&self.lowered[pos..])
                .map(|i| pos + i);
            let line_start = match hit {
                Some(h) => memchr::memrchr(b'\n', &region[pos..h]).map_or(pos, |i| pos + i + 1),
                None => region.len(),
            };
            self.between(&region[pos..line_start])?;
            if hit.is_none() {
                break;
            }
            let line_end = memchr::memchr(b'\n', &region[line_start..])
                .map_or(region.len(), |i| line_start + i);
            self.one(&region[line_start..line_end])?;
            pos = line_end + 1;
        }
        Ok(())
    }

    /// Lines without a keyword: counted; too-long ones reported; Zeek headers parsed.
    fn between(&mut self, span: &[u8]) -> Result<(), FileError> {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', span) {
            let line = &span[start..nl];
            start = nl + 1;
            if line.len() > self.max || line.first() == Some(&b'#') {
                self.one(line)?;
            } else {
                self.line_no += 1;
                self.skipped_lines += 1;
            }
        }
        if start < span.len() {
            self.one(&span[start..])?;
        }
        Ok(())
    }

    /// One line through the full path.
    fn one(&mut self, line: &[u8]) -> Result<(), FileError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.max {
            self.too_long();
            return Ok(());
        }
        self.line_no += 1;
        let origin = Origin::Line {
            path: self.file.label.clone(),
            line: self.line_no,
        };
        match self.scanner.line(self.parser, line, &origin) {
            Ok(records) => (self.emit)(records, self.outcome).map_err(FileError::Sink),
            Err(skip) => {
                self.file.note(&origin, &skip);
                Ok(())
            }
        }
    }

    fn too_long(&mut self) {
        self.line_no += 1;
        self.scanner.stats.records += 1;
        *self
            .scanner
            .stats
            .records_by_format
            .entry(self.format)
            .or_default() += 1;
        let skip = Skip::new(
            SkipReason::LineTooLong,
            format!("line longer than {} bytes", self.max),
        );
        self.scanner.count_skip(skip.reason);
        let origin = Origin::Line {
            path: self.file.label.clone(),
            line: self.line_no,
        };
        self.file.note(&origin, &skip);
    }

    fn flush_counts(&mut self) {
        let n = std::mem::take(&mut self.skipped_lines);
        self.scanner.stats.records += n;
        *self
            .scanner
            .stats
            .records_by_format
            .entry(self.format)
            .or_default() += n;
    }
}

fn io_stop(e: io::Error, at: &str, format: Option<Format>) -> FileError {
    let text = e.to_string();
    let reason = if text.contains(DECOMPRESSED_TOO_LARGE) {
        SkipReason::DecompressedTooLarge
    } else if e.kind() == io::ErrorKind::UnexpectedEof
        || text.contains("corrupt")
        || text.contains("invalid")
    {
        SkipReason::Truncated
    } else {
        SkipReason::ReadError
    };
    FileError::Stopped(Skip::new(reason, format!("{at}: {text}")), format)
}

fn progress_bar(inputs: &[Input], wanted: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if !wanted || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: u64 = inputs.iter().filter_map(Input::size).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg} [{elapsed_precise}, eta {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
