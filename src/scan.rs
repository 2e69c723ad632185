//! The forensic scan: drives sources through the pipeline, file by file, and hands every
//! finding to a sink. A file that fails (truncated gzip or HAR, unreadable) is reported and the
//! scan goes on with the next one; every record before the failure has been processed.

use crate::detect::Severity;
use crate::error::{Skip, SkipReason};
use crate::format::{har, sniff, Format, LineParser};
use crate::limits::Limits;
use crate::pipeline::{inspect_line, Engine, Inspected, LineOutcome, Scanner, Stats};
use crate::redact::FindingRecord;
use crate::redact::Redactor;
use crate::request::Origin;
use crate::source::{Input, Line, Lines, DECOMPRESSED_TOO_LARGE};
use crate::summary::Summary;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Force a format instead of sniffing each input.
    pub format: Option<Format>,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// Skipped records reported per file with their position; the rest are only counted.
    pub skip_notes_per_file: usize,
    /// Threads inspecting lines of line-oriented files (0: one per core, 1: inline).
    pub threads: usize,
    /// Block and piece sizes of the fast path. Only tests change them: the framing must give
    /// the same records wherever blocks and pieces are cut.
    pub framing: Framing,
}

/// Where the fast path cuts its input: blocks read at once (at least twice the line limit, so a
/// block always holds a whole line of the longest allowed length) and the pieces of a block
/// handed to the inspection threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub block: usize,
    pub piece: usize,
}

impl Default for Framing {
    fn default() -> Self {
        Framing {
            block: BLOCK,
            piece: CHUNK,
        }
    }
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            format: None,
            progress: false,
            skip_notes_per_file: 5,
            threads: 1,
            framing: Framing::default(),
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
    /// Files not scanned because their format was not recognised, with what was tried.
    pub unrecognised: Vec<(String, String)>,
    /// Files whose head was damaged: where their records start and what was skipped before.
    pub resynced: Vec<Resynced>,
    pub formats: Vec<(String, Option<Format>)>,
}

impl ScanOutcome {
    /// Inputs that could not be scanned at all or stopped early: the scan is incomplete
    /// (exit code 3). Records skipped one by one do not count here.
    pub fn incomplete(&self) -> bool {
        !self.unrecognised.is_empty() || !self.file_errors.is_empty()
    }
}

/// A file whose records start after a damaged head.
#[derive(Debug, Clone, PartialEq)]
pub struct Resynced {
    pub file: Arc<str>,
    pub format: Format,
    /// Byte offset (in the decompressed stream) and 1-based line of the first record.
    pub offset: u64,
    pub line: u64,
    /// Lines before it, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
}

impl Resynced {
    pub fn describe(&self) -> String {
        let reasons: Vec<String> = self
            .skipped
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        format!(
            "{} records start at byte {} (line {}); skipped before: {}",
            self.format,
            self.offset,
            self.line,
            if reasons.is_empty() {
                "nothing".to_string()
            } else {
                reasons.join(", ")
            }
        )
    }
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
            Err(FileError::Unrecognised(detail)) => {
                scanner.stats.files_failed += 1;
                scanner.count_skip(SkipReason::UnknownFormat);
                tracing::warn!(target: "pixelwarden::scan", file = %label, "not scanned: format not recognised ({detail}; use --format)");
                outcome.unrecognised.push((label.to_string(), detail));
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
    /// No known format at the start nor anywhere within `max_resync_bytes`: why.
    Unrecognised(String),
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
    let (format, stream, lines_before): (Format, Box<dyn Read + Send + '_>, u64) = match opts
        .format
        .or_else(|| sniff(&head))
    {
        Some(f) => (f, Box::new(Cursor::new(head).chain(reader)), 0),
        None if head.iter().all(u8::is_ascii_whitespace) && head.len() < 64 << 10 => {
            return Ok(None)
        }
        None => {
            let stream = Cursor::new(head).chain(reader);
            let start = find_start(stream, &limits)
                .map_err(|e| io_stop(e, "while looking for the first record", None))?;
            match start {
                Resync::Found(start) => {
                    let at = start.report(file.label.clone());
                    tracing::warn!(target: "pixelwarden::scan", file = %file.label, format = %start.format, "damaged head: {}", at.describe());
                    for (reason, n) in &start.skipped {
                        *scanner.stats.skipped.entry(*reason).or_default() += n;
                    }
                    scanner.stats.records += start.lines;
                    *scanner
                        .stats
                        .records_by_format
                        .entry(start.format)
                        .or_default() += start.lines;
                    outcome.resynced.push(at);
                    let rest = Cursor::new(start.first_line).chain(start.stream);
                    (start.format, Box::new(rest), start.lines)
                }
                Resync::NotFound(detail) => return Err(FileError::Unrecognised(detail)),
            }
        }
    };
    let stream = BufReader::with_capacity(256 << 10, stream);
    let mut emit = |records: &[FindingRecord], outcome: &mut ScanOutcome| -> io::Result<()> {
        for r in records {
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
                    if let Err(e) = emit(&records, outcome) {
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
            line_no: lines_before,
            format,
            threads: worker_threads(opts.threads),
            framing: opts.framing,
        };
        fast.run(stream, read, progress, started)?;
        return Ok(Some(format));
    }
    let mut lines = Lines::new(stream, limits.max_line_bytes);
    let mut buf = Vec::new();
    let mut line_no = lines_before;
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
            Ok(records) => emit(&records, outcome).map_err(FileError::Sink)?,
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

type Emit<'a> = dyn FnMut(&[FindingRecord], &mut ScanOutcome) -> io::Result<()> + 'a;

/// Takes a block and where its last whole line ends; `0` means "no new lines: finish every
/// piece handed out".
type RegionFn<'a, S> = dyn FnMut(&mut S, &Arc<Vec<u8>>, usize) -> Result<(), FileError> + 'a;

/// Input is read in blocks of this size or twice the line limit, whichever is larger (2 MiB
/// with the default limit): a block always holds a whole line of the longest allowed length.
const BLOCK: usize = 1 << 20;
/// A block is inspected in pieces of about this size, cut at newlines: small enough that a
/// piece's results stay in cache until they are merged.
const CHUNK: usize = 64 << 10;
/// Pieces handed out and not yet merged, per worker thread.
const IN_FLIGHT_PER_WORKER: usize = 8;

/// How many threads inspect lines: `requested`, or one per core when 0.
pub fn worker_threads(requested: usize) -> usize {
    match requested {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// The fast path over line formats: the prefilter runs over whole blocks of input, and only
/// the lines it matches (plus Zeek header lines and over-long lines) are cut out and parsed.
/// Lines in between are counted in bulk without being copied or parsed.
///
/// The work is split in two. [`RegionWork`] is pure (keyword search, parsing, detection,
/// redaction) and runs on worker threads over pieces of a block; the reader merges the pieces
/// strictly in input order ([`FastLines::merge`]), which is where line numbers are assigned and
/// the per-stream state (twins, drift, constants, summary, sink) is applied. With one thread
/// the same two halves run inline. The results are those of the line-by-line path in either
/// case (tests/prefilter.rs proves it).
struct FastLines<'a, 'e, 's> {
    scanner: &'a mut Scanner<'e>,
    parser: &'a mut LineParser,
    file: &'a mut FileScan,
    outcome: &'a mut ScanOutcome,
    emit: &'a mut Emit<'s>,
    max: usize,
    line_no: u64,
    format: Format,
    threads: usize,
    framing: Framing,
}

/// The pure half: one region of whole lines (the last may lack its newline at the end of the
/// input) through the keyword search and the candidate lines through [`inspect_line`].
struct RegionWork<'e> {
    engine: &'e Engine,
    redactor: Redactor,
    max: usize,
    label: Arc<str>,
    /// The region, lowercased, for the keyword search.
    lowered: Vec<u8>,
    memo: crate::pixel::RoleMemo,
}

/// What a region became. Line numbers are local to the region, starting at 1.
#[derive(Debug, Default)]
struct RegionResult {
    lines: u64,
    stats: Stats,
    /// Hits and skipped lines, in line order.
    events: Vec<(u64, RegionEvent)>,
}

#[derive(Debug)]
enum RegionEvent {
    Hit(Box<Inspected>),
    Skipped(Skip),
}

impl RegionWork<'_> {
    /// A worker's job: inspect its piece (with the parser state it carries, or the thread's
    /// own).
    fn piece(&mut self, mut job: Job, own: &mut LineParser) -> (u64, RegionResult) {
        let parser = job.parser.as_mut().unwrap_or(own);
        (job.seq, self.run(parser, &job.block[job.range.clone()]))
    }

    fn run(&mut self, parser: &mut LineParser, region: &[u8]) -> RegionResult {
        let mut r = RegionResult::default();
        let prefilter = &self.engine.recognizer;
        self.lowered.clear();
        self.lowered
            .extend(region.iter().map(u8::to_ascii_lowercase));
        let mut skipped = 0u64;
        let mut pos = 0;
        while pos < region.len() {
            let hit = prefilter
                .find_keyword_lowercased(&self.lowered[pos..])
                .map(|i| pos + i);
            let line_start = match hit {
                Some(h) => memchr::memrchr(b'\n', &region[pos..h]).map_or(pos, |i| pos + i + 1),
                None => region.len(),
            };
            // Lines without a keyword: counted; too-long ones reported; Zeek headers parsed.
            let span = &region[pos..line_start];
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', span) {
                let line = &span[start..nl];
                start = nl + 1;
                if line.len() > self.max || line.first() == Some(&b'#') {
                    self.one(parser, line, &mut r, false);
                } else {
                    r.lines += 1;
                    skipped += 1;
                }
            }
            if start < span.len() {
                self.one(parser, &span[start..], &mut r, false);
            }
            if hit.is_none() {
                break;
            }
            let line_end = memchr::memchr(b'\n', &region[line_start..])
                .map_or(region.len(), |i| line_start + i);
            self.one(parser, &region[line_start..line_end], &mut r, true);
            pos = line_end + 1;
        }
        r.stats.records += skipped;
        let format = parser.format();
        *r.stats.records_by_format.entry(format).or_default() += skipped;
        r
    }

    /// One line through the full path. `keyword`: the block search found an endpoint keyword in
    /// it, so the per-line prefilter would only repeat that search.
    fn one(&mut self, parser: &mut LineParser, line: &[u8], r: &mut RegionResult, keyword: bool) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        r.lines += 1;
        if line.len() > self.max {
            r.too_long(parser.format(), self.max);
            return;
        }
        let origin = Origin::Line {
            path: self.label.clone(),
            line: r.lines,
        };
        let outcome = inspect_line(
            self.engine,
            &self.redactor,
            &mut self.memo,
            &mut r.stats,
            !keyword,
            parser,
            line,
            &origin,
        );
        match outcome {
            LineOutcome::Nothing => {}
            LineOutcome::Hit(hit) => r.events.push((r.lines, RegionEvent::Hit(hit))),
            LineOutcome::Skipped(skip) => r.events.push((r.lines, RegionEvent::Skipped(skip))),
        }
    }
}

impl RegionResult {
    /// Count the current line (already in `lines`) as one longer than the limit.
    fn too_long(&mut self, format: Format, max: usize) {
        self.stats.records += 1;
        *self.stats.records_by_format.entry(format).or_default() += 1;
        *self
            .stats
            .skipped
            .entry(SkipReason::LineTooLong)
            .or_default() += 1;
        let skip = Skip::new(
            SkipReason::LineTooLong,
            format!("line longer than {max} bytes"),
        );
        self.events.push((self.lines, RegionEvent::Skipped(skip)));
    }
}

/// A piece of a block for a worker.
struct Job {
    seq: u64,
    block: Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
    /// The parser state at the start of the piece (formats whose parsing depends on earlier
    /// header lines: Zeek).
    parser: Option<LineParser>,
}

/// The worker threads, seen from the reader.
struct Pool<'e> {
    jobs: Option<mpsc::Sender<Job>>,
    /// The workers' queue and how many pieces wait in it: while the merging thread has nothing
    /// to merge, it inspects a waiting piece itself (when more than one waits, so the workers
    /// never run dry).
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    queued: Arc<AtomicUsize>,
    helper: RegionWork<'e>,
    helper_parser: LineParser,
    results: mpsc::Receiver<(u64, RegionResult)>,
    /// Results that arrived ahead of their turn.
    waiting: BTreeMap<u64, RegionResult>,
    next_seq: u64,
    next_merge: u64,
    limit: usize,
    /// Tracks Zeek header lines across pieces, so each piece starts with the right state.
    tracker: Option<LineParser>,
}

impl Pool<'_> {
    /// Inspect one waiting piece on this thread, if more than one waits.
    fn help(&mut self) -> Option<(u64, RegionResult)> {
        if self.queued.load(Ordering::Relaxed) < 2 {
            return None;
        }
        // `try_lock`: a worker waiting in `recv` holds the lock while the queue is empty.
        let job = self.queue.try_lock().ok()?.try_recv().ok()?;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        Some(self.helper.piece(job, &mut self.helper_parser))
    }
}

/// Blocks handed to workers come back here to be refilled once every piece is done.
#[derive(Default)]
struct Blocks {
    spare: Vec<Arc<Vec<u8>>>,
}

impl Blocks {
    fn get(&mut self, size: usize) -> Vec<u8> {
        if let Some(i) = self.spare.iter().position(|b| Arc::strong_count(b) == 1) {
            if let Ok(v) = Arc::try_unwrap(self.spare.swap_remove(i)) {
                return v;
            }
        }
        vec![0; size]
    }
    fn retire(&mut self, block: Arc<Vec<u8>>) {
        if self.spare.len() < 8 {
            self.spare.push(block);
        }
    }
}

impl<'e> FastLines<'_, 'e, '_> {
    fn run(
        &mut self,
        stream: impl Read,
        read: &Arc<AtomicU64>,
        progress: &ProgressBar,
        started: Instant,
    ) -> Result<(), FileError> {
        let shared = self.scanner.engine;
        let redactor = self.scanner.redactor.clone();
        let (max, label) = (self.max, self.file.label.clone());
        let work = |engine| RegionWork {
            engine,
            redactor: redactor.clone(),
            max,
            label: label.clone(),
            lowered: Vec::new(),
            memo: Default::default(),
        };
        if self.threads <= 1 {
            let mut inline = work(shared);
            return self.read_blocks(stream, read, progress, started, &mut |me, block, end| {
                for piece in pieces(block, end, me.framing.piece) {
                    let r = inline.run(me.parser, &block[piece]);
                    me.merge(r)?;
                }
                Ok(())
            });
        }
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (result_tx, result_rx) = mpsc::channel();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let stop = Arc::new(AtomicBool::new(false));
        let format = self.format;
        // A copy of the engine per worker: compiled regexes keep a scratch cache per copy, and
        // one copy shared by threads makes them queue for it.
        // The merging thread inspects pieces too, so it counts as one of the threads.
        let engines: Vec<Engine> = (0..self.threads).map(|_| shared.clone()).collect();
        let queued = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for engine in &engines[1..] {
                let queued = queued.clone();
                let jobs = job_rx.clone();
                let results = result_tx.clone();
                let stop = stop.clone();
                let mut w = work(engine);
                scope.spawn(move || {
                    let mut own = LineParser::new(format);
                    loop {
                        let job = match jobs.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        queued.fetch_sub(1, Ordering::Relaxed);
                        if stop.load(Ordering::Relaxed) {
                            continue;
                        }
                        if results.send(w.piece(job, &mut own)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(result_tx);
            let mut pool = Pool {
                jobs: Some(job_tx),
                queue: job_rx.clone(),
                queued: queued.clone(),
                helper: work(&engines[0]),
                helper_parser: LineParser::new(format),
                results: result_rx,
                waiting: BTreeMap::new(),
                next_seq: 0,
                next_merge: 0,
                limit: self.threads * IN_FLIGHT_PER_WORKER,
                tracker: (format == Format::Zeek).then(|| self.parser.clone()),
            };
            let result = self
                .read_blocks(stream, read, progress, started, &mut |me, block, end| {
                    me.hand_out(&mut pool, block, end)
                })
                .and_then(|()| self.drain(&mut pool, 0));
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            if let Some(tracker) = pool.tracker.take() {
                *self.parser = tracker;
            }
            drop(pool.jobs.take());
            result
        })
    }

    /// Read the stream in blocks and pass each block's whole lines to `region` (the block and
    /// where its last whole line ends). Over-long lines without a newline in a whole block are
    /// counted and thrown away up to their newline. On a read error the complete lines read
    /// before it are still processed.
    fn read_blocks(
        &mut self,
        mut stream: impl Read,
        read: &Arc<AtomicU64>,
        progress: &ProgressBar,
        started: Instant,
        region: &mut RegionFn<'_, Self>,
    ) -> Result<(), FileError> {
        let size = self
            .framing
            .block
            .max(self.max.saturating_mul(2).saturating_add(2));
        let mut blocks = Blocks::default();
        let mut buf = blocks.get(size);
        let mut filled = 0;
        // Bytes of an over-long line still to be thrown away, up to its newline.
        let mut discarding = false;
        let mut eof = false;
        while !eof || filled > 0 {
            while !eof && filled < size {
                match stream.read(&mut buf[filled..]) {
                    Ok(0) => eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // Keep every complete line read before the error, then stop the file.
                        // An over-long line being thrown away may end in what was read: the
                        // lines after it are whole and kept too.
                        let mut start = 0;
                        if discarding {
                            if let Some(i) = memchr::memchr(b'\n', &buf[..filled]) {
                                start = i + 1;
                                discarding = false;
                            }
                        }
                        if !discarding {
                            buf.copy_within(start..filled, 0);
                            filled -= start;
                            let end = memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1);
                            let tail = filled - end;
                            if end > 0 {
                                region(self, &Arc::new(buf), end)?;
                            }
                            // The cut line at the error is lost, but one already longer than
                            // the limit is counted as such (as the line-by-line reader does).
                            if tail > self.max.saturating_add(1) {
                                region(self, &Arc::new(Vec::new()), 0)?;
                                let mut r = RegionResult {
                                    lines: 1,
                                    ..RegionResult::default()
                                };
                                r.too_long(self.format, self.max);
                                self.merge(r)?;
                            }
                        }
                        // Finish every piece before reporting where the file stopped.
                        region(self, &Arc::new(Vec::new()), 0)?;
                        return Err(io_stop(
                            e,
                            &format!("after line {}", self.line_no),
                            Some(self.format),
                        ));
                    }
                }
            }
            if discarding {
                match memchr::memchr(b'\n', &buf[..filled]) {
                    Some(i) => {
                        buf.copy_within(i + 1..filled, 0);
                        filled -= i + 1;
                        discarding = false;
                        // What follows the over-long line is only the start of a block: fill
                        // it before looking for its last newline, or a partial line here
                        // would be taken for another over-long one.
                        continue;
                    }
                    None => {
                        filled = 0;
                        continue;
                    }
                }
            }
            let end = match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(i) => i + 1,
                None if eof => filled,
                None => {
                    // A full block without a newline: one line longer than the limit.
                    let mut r = RegionResult {
                        lines: 1,
                        ..RegionResult::default()
                    };
                    r.too_long(self.format, self.max);
                    // Everything before it is merged first, so it gets its place in line order.
                    region(self, &Arc::new(Vec::new()), 0)?;
                    self.merge(r)?;
                    filled = 0;
                    discarding = true;
                    continue;
                }
            };
            // The partial line after `end` starts the next block.
            let mut next = blocks.get(size);
            next[..filled - end].copy_from_slice(&buf[end..filled]);
            filled -= end;
            let block = Arc::new(std::mem::replace(&mut buf, next));
            region(self, &block, end)?;
            blocks.retire(block);
            if !progress.is_hidden() {
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                progress.set_position(read.load(Ordering::Relaxed));
                progress.set_message(format!(
                    "{:.0} records/s",
                    self.scanner.stats.records as f64 / secs
                ));
            }
        }
        Ok(())
    }

    /// Cut a block into pieces at newlines and give them to the workers, merging finished
    /// pieces in order whenever too many are out. `end == 0` only waits for every piece.
    fn hand_out(
        &mut self,
        pool: &mut Pool<'_>,
        block: &Arc<Vec<u8>>,
        end: usize,
    ) -> Result<(), FileError> {
        if end == 0 {
            return self.drain(pool, 0);
        }
        for piece in pieces(block, end, self.framing.piece) {
            let (start, cut) = (piece.start, piece.end);
            let parser = pool.tracker.as_mut().map(|tracker| {
                let at_start = tracker.clone();
                track_headers(tracker, &block[start..cut], self.max);
                at_start
            });
            let job = Job {
                seq: pool.next_seq,
                block: block.clone(),
                range: start..cut,
                parser,
            };
            pool.next_seq += 1;
            if let Some(jobs) = &pool.jobs {
                pool.queued.fetch_add(1, Ordering::Relaxed);
                if jobs.send(job).is_err() {
                    // Every worker is gone (a panic): nothing more can be inspected.
                    return Err(FileError::Stopped(
                        Skip::new(SkipReason::ReadError, "inspection threads stopped"),
                        Some(self.format),
                    ));
                }
            }
            self.drain(pool, pool.limit - 1)?;
        }
        Ok(())
    }

    /// Merge finished pieces in order until at most `left` are still out.
    fn drain(&mut self, pool: &mut Pool<'_>, left: usize) -> Result<(), FileError> {
        while pool.next_seq - pool.next_merge > left as u64 {
            if let Some(r) = pool.waiting.remove(&pool.next_merge) {
                pool.next_merge += 1;
                self.merge(r)?;
                continue;
            }
            let received = match pool.results.try_recv() {
                Ok(x) => Ok(x),
                Err(mpsc::TryRecvError::Disconnected) => Err(()),
                Err(mpsc::TryRecvError::Empty) => match pool.help() {
                    Some(x) => Ok(x),
                    None => pool.results.recv().map_err(|_| ()),
                },
            };
            let r = match received {
                Ok((seq, r)) if seq == pool.next_merge => r,
                Ok((seq, r)) => {
                    pool.waiting.insert(seq, r);
                    continue;
                }
                Err(_) => {
                    return Err(FileError::Stopped(
                        Skip::new(SkipReason::ReadError, "inspection threads stopped"),
                        Some(self.format),
                    ))
                }
            };
            pool.next_merge += 1;
            self.merge(r)?;
        }
        Ok(())
    }

    /// The sequential half: place a region's results after everything merged before it.
    fn merge(&mut self, r: RegionResult) -> Result<(), FileError> {
        let base = self.line_no;
        self.scanner.stats.absorb(&r.stats);
        for (local, event) in r.events {
            let origin = Origin::Line {
                path: self.file.label.clone(),
                line: base + local,
            };
            match event {
                RegionEvent::Hit(hit) => {
                    // The hit is freed here, while still in this core's cache: handing it back
                    // to a worker to free cost more (cold memory, measured in RESULTS.md).
                    let records = self.scanner.accept(*hit, &origin, self.format);
                    (self.emit)(&records, self.outcome).map_err(FileError::Sink)?;
                }
                RegionEvent::Skipped(skip) => self.file.note(&origin, &skip),
            }
        }
        self.line_no += r.lines;
        Ok(())
    }
}

/// `block[..end]` in pieces of about `size` bytes, each ending after a newline (or at `end`).
fn pieces(
    block: &[u8],
    end: usize,
    size: usize,
) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let size = size.max(1);
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= end {
            return None;
        }
        let cut = match start + size {
            c if c >= end => end,
            c => memchr::memchr(b'\n', &block[c..end]).map_or(end, |i| c + i + 1),
        };
        let piece = start..cut;
        start = cut;
        Some(piece)
    })
}

/// Feed the header lines of a piece (lines starting with `#`) to a parser, so that it holds
/// the state the next piece starts with.
fn track_headers(parser: &mut LineParser, piece: &[u8], max: usize) {
    for i in memchr::memchr_iter(b'#', piece) {
        if i > 0 && piece[i - 1] != b'\n' {
            continue;
        }
        let end = memchr::memchr(b'\n', &piece[i..]).map_or(piece.len(), |e| i + e);
        let line = &piece[i..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() <= max {
            let _ = parser.parse(&String::from_utf8_lossy(line));
        }
    }
}

enum Resync<R> {
    Found(Start<R>),
    /// Why nothing was found (for the message).
    NotFound(String),
}

/// Where a file's records start after a damaged head.
struct Start<R> {
    format: Format,
    /// The first recognised line with its terminator: put back in front of `stream`.
    first_line: Vec<u8>,
    stream: R,
    /// Physical lines and bytes before it.
    lines: u64,
    bytes: u64,
    skipped: BTreeMap<SkipReason, u64>,
}

impl<R> Start<R> {
    fn report(&self, file: Arc<str>) -> Resynced {
        Resynced {
            file,
            format: self.format,
            offset: self.bytes,
            line: self.lines + 1,
            skipped: self.skipped.clone(),
        }
    }
}

/// Look for the first line that a line format recognises on its own ([`recognise_line`]),
/// reading at most `max_resync_bytes`. Lines before it are classified (over-long, binary,
/// unrecognised) and thrown away without being buffered beyond the line limit.
fn find_start<R: Read>(stream: R, limits: &Limits) -> io::Result<Resync<BufReader<R>>> {
    let mut stream = BufReader::with_capacity(256 << 10, stream);
    let mut line = Vec::new();
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut skipped: BTreeMap<SkipReason, u64> = BTreeMap::new();
    loop {
        if bytes >= limits.max_resync_bytes {
            return Ok(Resync::NotFound(format!(
                "no known format in the first {bytes} bytes ({lines} lines; --max-resync-bytes)"
            )));
        }
        line.clear();
        let (mut len, mut too_long, mut ended) = (0u64, false, false);
        while !ended {
            let avail = match stream.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            let used = match memchr::memchr(b'\n', avail) {
                Some(i) => {
                    ended = true;
                    i + 1
                }
                None => avail.len(),
            };
            if !too_long && line.len() + used > limits.max_line_bytes.saturating_add(2) {
                too_long = true;
                line.clear();
            }
            if !too_long {
                line.extend_from_slice(&avail[..used]);
            }
            len += used as u64;
            stream.consume(used);
        }
        if len == 0 {
            return Ok(Resync::NotFound(format!(
                "no known format in {bytes} bytes ({lines} lines)"
            )));
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !too_long {
            if let Some(format) = crate::format::recognise_line(text) {
                return Ok(Resync::Found(Start {
                    format,
                    first_line: line,
                    stream,
                    lines,
                    bytes,
                    skipped,
                }));
            }
        }
        let reason = if too_long {
            Some(SkipReason::LineTooLong)
        } else if text.contains(&0) || std::str::from_utf8(text).is_err() {
            Some(SkipReason::Binary)
        } else if text.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(SkipReason::Unrecognised)
        };
        if let Some(reason) = reason {
            *skipped.entry(reason).or_default() += 1;
        }
        lines += 1;
        bytes += len;
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
