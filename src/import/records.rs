//! Reading CSV records: the one record reader every CSV input goes through
//! (the 19-column reader, mapped CSV, the people map).
//!
//! Owns what the readers share below the level of cells:
//!
//! * **physical line numbers**: a record's line is the line a text editor
//!   shows for its first byte. `\n`, `\r\n` and a lone `\r` each end one line,
//!   inside quoted fields too, and blank lines count. Lines are counted as
//!   the parser consumes its input (one `memchr2` scan of the bytes consumed,
//!   a carried flag for a `\r\n` split between two reads), never per byte;
//! * **bounded records**: a record is held only up to [`MAX_RECORD_BYTES`]
//!   of cell text and [`MAX_RECORD_FIELDS`] fields. A longer one is reported
//!   as [`Next::TooLong`] as soon as the bound is passed (its first part kept
//!   for an excerpt) and the rest of it is skipped, unbuffered, on the next
//!   read; so `/dev/zero` cannot grow memory, and a caller that refuses the
//!   file stops reading at once;
//! * **encoding at the start of the file**: a UTF-8 byte-order mark is
//!   skipped; UTF-16 (a byte-order mark, or NUL bytes between ASCII ones) is
//!   refused by name ([`RecordError::Utf16`]).
//!
//! Parsing itself is `csv_core`'s (RFC 4180 quoting, `\r`, `\n` and `\r\n`
//! terminators, blank lines skipped). What cells mean is left to the
//! readers; [`excerpt`] and [`raw_excerpt`] are the one way they echo input
//! in messages.

use std::io::{self, Read};
use std::ops::Range;

/// Most bytes of cell text one record may hold (delimiters and quotes not
/// counted). No valid row comes near it: kept cells are limited to
/// [`super::MAX_CELL_BYTES`] each.
pub const MAX_RECORD_BYTES: usize = 8 << 20;

/// Most fields one record may have: room for very wide exports (a header of
/// 160,000 columns is read and checked), never a line of 100 million commas.
pub const MAX_RECORD_FIELDS: usize = 1 << 18;

/// Input bytes read at a time.
const BUFFER: usize = 1 << 20;

/// A file that cannot be read as CSV records at all.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is UTF-16, not UTF-8.
    #[error("the file is UTF-16 ({0}), not UTF-8: save it as UTF-8 (\"CSV UTF-8\" in Excel)")]
    Utf16(ByteOrder),
}

/// The byte order of a UTF-16 file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian (what Windows writes).
    Little,
    /// Big-endian.
    Big,
}

impl std::fmt::Display for ByteOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ByteOrder::Little => "little-endian",
            ByteOrder::Big => "big-endian",
        })
    }
}

/// What [`Records::read`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// A whole record.
    Record,
    /// A record longer than the bounds: the [`Record`] holds its first
    /// fields (the last one cut), and the rest is skipped by the next read.
    TooLong(TooLong),
    /// The end of the input.
    End,
}

/// Where a record passed the bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    /// 1-based field that was being read when a bound was passed.
    pub column: usize,
    /// True when the field count was passed, false for the text size.
    pub fields: bool,
}

impl TooLong {
    /// Which bound was passed, as a sentence part.
    pub fn limit(&self) -> String {
        if self.fields {
            format!("record has more than {MAX_RECORD_FIELDS} fields")
        } else {
            format!("record is longer than {} MiB", MAX_RECORD_BYTES >> 20)
        }
    }

    /// The reason a rejected row gives.
    pub fn reason(&self) -> String {
        format!("{}; it is skipped", self.limit())
    }
}

/// One CSV record: its fields' bytes back to back, and the physical line
/// and byte offset of its first byte.
#[derive(Clone, Debug, Default)]
pub struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    fields: usize,
    line: u64,
    byte: u64,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields
    }

    /// True when the record has no fields (never, once read).
    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    /// The 1-based physical line of the record's first byte.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The byte offset of the record's first byte in the input.
    pub fn byte(&self) -> u64 {
        self.byte
    }

    /// Field `i`'s range in [`as_slice`](Self::as_slice).
    pub fn range(&self, i: usize) -> Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// Field `i`, if the record has it.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        (i < self.fields).then(|| &self.bytes[self.range(i)])
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.fields).map(|i| &self.bytes[self.range(i)])
    }

    /// Every field's bytes, back to back.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.ends[..self.fields].last().copied().unwrap_or(0)]
    }

    fn clear(&mut self) {
        self.fields = 0;
    }
}

impl std::ops::Index<usize> for Record {
    type Output = [u8];
    fn index(&self, i: usize) -> &[u8] {
        assert!(
            i < self.fields,
            "field {i} of a {}-field record",
            self.fields
        );
        &self.bytes[self.range(i)]
    }
}

/// Reads CSV records from any reader, with physical line numbers and
/// bounded memory; see the module documentation.
pub struct Records<R> {
    inner: R,
    core: csv_core::Reader,
    buf: Box<[u8]>,
    /// Unconsumed input is `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Byte offset of `buf[start]` in the input.
    offset: u64,
    /// Line ends consumed so far.
    lines: u64,
    /// The last byte consumed was `\r`: a `\n` next ends no further line.
    after_cr: bool,
    /// The start of the input (byte-order mark, UTF-16) was looked at.
    started: bool,
    /// The rest of an oversized record is still to be skipped.
    skipping: bool,
    limits: (usize, usize),
}

impl<R: Read> Records<R> {
    /// A record reader over `inner`, with the standard bounds.
    pub fn new(inner: R) -> Self {
        Self::with_limits(inner, MAX_RECORD_BYTES, MAX_RECORD_FIELDS)
    }

    /// A record reader with other bounds (tests use small ones).
    pub fn with_limits(inner: R, max_bytes: usize, max_fields: usize) -> Self {
        Records {
            inner,
            core: csv_core::Reader::new(),
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            lines: 0,
            after_cr: false,
            started: false,
            skipping: false,
            limits: (max_bytes.max(1), max_fields.max(1)),
        }
    }

    /// Bytes consumed from the input so far.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Reads the next record into `record`.
    pub fn read(&mut self, record: &mut Record) -> Result<Next, RecordError> {
        use csv_core::ReadRecordResult as R;
        record.clear();
        if !self.started {
            self.start()?;
        }
        if self.skipping {
            self.skip_rest()?;
            self.skipping = false;
        }
        // Blank lines before the record: csv_core skips them too; skipping
        // them here puts the record's first byte, and so its line, at hand.
        loop {
            self.fill()?;
            let input = &self.buf[self.start..self.end];
            let blank = input
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(input.len());
            self.consume(blank);
            if self.start < self.end || self.eof {
                break;
            }
        }
        record.line = self.lines + 1;
        record.byte = self.offset;
        let (max_bytes, max_fields) = self.limits;
        if record.bytes.is_empty() {
            record.bytes.resize(1024.min(max_bytes), 0);
        }
        if record.ends.is_empty() {
            record.ends.resize(32.min(max_fields), 0);
        }
        let (mut out, mut nends) = (0, 0);
        loop {
            self.fill()?;
            let (res, nin, nout, nend) = self.core.read_record(
                &self.buf[self.start..self.end],
                &mut record.bytes[out..],
                &mut record.ends[nends..],
            );
            self.consume(nin);
            out += nout;
            nends += nend;
            match res {
                R::InputEmpty => {}
                R::OutputFull if record.bytes.len() < max_bytes => {
                    let len = (record.bytes.len() * 2).min(max_bytes);
                    record.bytes.resize(len, 0);
                }
                R::OutputEndsFull if record.ends.len() < max_fields => {
                    let len = (record.ends.len() * 2).min(max_fields);
                    record.ends.resize(len, 0);
                }
                R::OutputFull | R::OutputEndsFull => {
                    // Keep what was read, the cut field last, for an excerpt.
                    let fields = res == R::OutputEndsFull;
                    if !fields {
                        if nends == record.ends.len() {
                            nends -= 1;
                        }
                        record.ends[nends] = out;
                        nends += 1;
                    }
                    record.fields = nends;
                    self.skipping = true;
                    return Ok(Next::TooLong(TooLong {
                        column: nends + usize::from(fields),
                        fields,
                    }));
                }
                R::Record => {
                    record.fields = nends;
                    return Ok(Next::Record);
                }
                R::End => return Ok(Next::End),
            }
        }
    }

    /// Looks at the first bytes: skips a UTF-8 byte-order mark, refuses
    /// UTF-16.
    fn start(&mut self) -> Result<(), RecordError> {
        self.started = true;
        // Enough bytes to recognise the encoding, unless the file is shorter.
        while self.end < 64 && !self.eof {
            let n = read_some(&mut self.inner, &mut self.buf[self.end..])?;
            self.end += n;
            self.eof = n == 0;
        }
        let head = &self.buf[..self.end];
        if head.starts_with(b"\xef\xbb\xbf") {
            self.start = 3;
            self.offset = 3;
            return Ok(());
        }
        if let Some(order) = utf16(head) {
            return Err(RecordError::Utf16(order));
        }
        Ok(())
    }

    /// Discards the rest of an oversized record, a buffer at a time.
    fn skip_rest(&mut self) -> Result<(), RecordError> {
        use csv_core::ReadRecordResult as R;
        let mut scratch = vec![0u8; 1 << 16];
        let mut ends = vec![0usize; 1 << 12];
        loop {
            self.fill()?;
            let (res, nin, _, _) =
                self.core
                    .read_record(&self.buf[self.start..self.end], &mut scratch, &mut ends);
            self.consume(nin);
            if matches!(res, R::Record | R::End) {
                return Ok(());
            }
        }
    }

    /// Makes unconsumed input available, unless the input is at its end.
    fn fill(&mut self) -> io::Result<()> {
        if self.start == self.end && !self.eof {
            let n = read_some(&mut self.inner, &mut self.buf)?;
            self.start = 0;
            self.end = n;
            self.eof = n == 0;
        }
        Ok(())
    }

    /// Marks `n` bytes of input consumed, counting the line ends in them.
    fn consume(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let bytes = &self.buf[self.start..self.start + n];
        self.lines += count_line_ends(bytes, self.after_cr);
        self.after_cr = bytes[n - 1] == b'\r';
        self.start += n;
        self.offset += n as u64;
    }
}

/// Reads once, retrying when interrupted.
fn read_some(inner: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match inner.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The line ends in `bytes`: every `\r`, and every `\n` not right after a
/// `\r` (`after_cr`: the byte before `bytes` was one).
pub fn count_line_ends(bytes: &[u8], after_cr: bool) -> u64 {
    let mut n = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        let follows_cr = if i == 0 {
            after_cr
        } else {
            bytes[i - 1] == b'\r'
        };
        n += u64::from(bytes[i] == b'\r' || !follows_cr);
    }
    n
}

/// Recognises UTF-16 from a file's first bytes: a byte-order mark, or text
/// whose every other byte is NUL (ASCII characters in UTF-16) in at least
/// three pairs in four, the first pair included.
fn utf16(head: &[u8]) -> Option<ByteOrder> {
    if head.starts_with(b"\xff\xfe") {
        return Some(ByteOrder::Little);
    }
    if head.starts_with(b"\xfe\xff") {
        return Some(ByteOrder::Big);
    }
    let pairs: Vec<(u8, u8)> = head.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    if pairs.len() < 2 {
        return None;
    }
    let ascii_then_nul = |&(a, b): &(u8, u8)| a != 0 && a < 0x80 && b == 0;
    let nul_then_ascii = |&(a, b): &(u8, u8)| a == 0 && b != 0 && b < 0x80;
    let mostly = |f: &dyn Fn(&(u8, u8)) -> bool| {
        f(&pairs[0]) && pairs.iter().filter(|p| f(p)).count() * 4 >= pairs.len() * 3
    };
    if mostly(&ascii_then_nul) {
        Some(ByteOrder::Little)
    } else if mostly(&nul_then_ascii) {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

/// Why a header row cannot be read, before any reader's own checks; each
/// reader words it as its own error.
#[derive(Debug)]
pub enum HeaderError {
    /// The records cannot be read at all.
    Records(RecordError),
    /// There is no record: the file is empty.
    Empty,
    /// The header row passes the record bounds.
    TooLong {
        /// Line of the header.
        line: u64,
        /// Where it passed them.
        too_long: TooLong,
    },
    /// A header cell is not valid UTF-8.
    Encoding {
        /// Line of the header.
        line: u64,
        /// 1-based column.
        column: usize,
    },
}

/// A side table's header text as a comparison key: its letters and
/// digits, lowercase (`Identity ID`, `identity_id` and `IdentityId` are one
/// column).
pub fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A side table (a people map, a decisions file, a revocation list) that
/// cannot be read at all: what each such reader refuses a file with.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// No header row.
    #[error("{path}: file is empty: expected a header row")]
    Empty {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A header cell cannot be read, or appears twice.
    #[error("{path}:{line}:{column}: {message}")]
    Header {
        /// The file.
        path: std::path::PathBuf,
        /// Line of the header.
        line: u64,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file is UTF-16: whocan reads UTF-8 only.
    #[error("{path}: {}", RecordError::Utf16(*.byte_order))]
    Utf16 {
        /// The file.
        path: std::path::PathBuf,
        /// Its byte order.
        byte_order: ByteOrder,
    },
    /// Required columns are absent.
    #[error("{path}:{line}: missing required column{} {}", if .columns.len() == 1 { "" } else { "s" }, .columns.join(", "))]
    MissingColumns {
        /// The file.
        path: std::path::PathBuf,
        /// Line of the header.
        line: u64,
        /// The missing columns, quoted.
        columns: Vec<String>,
    },
}

impl TableError {
    /// The error for a table at `path` whose header row cannot be read.
    pub fn header(path: &std::path::Path, e: HeaderError) -> TableError {
        let path = path.to_path_buf();
        match e {
            HeaderError::Records(RecordError::Io(source)) => TableError::Io { path, source },
            HeaderError::Records(RecordError::Utf16(byte_order)) => {
                TableError::Utf16 { path, byte_order }
            }
            HeaderError::Empty => TableError::Empty { path },
            HeaderError::TooLong { line, too_long } => TableError::Header {
                path,
                line,
                column: too_long.column,
                message: format!("header row: {}", too_long.limit()),
            },
            HeaderError::Encoding { line, column } => TableError::Header {
                path,
                line,
                column,
                message: "header is not valid UTF-8".into(),
            },
        }
    }
}

/// The one header reader every CSV input goes through: reads the first
/// record of `csv` into `record` and gives each cell, as text and in column
/// order, to `cell` (with the header's line and the 0-based column), which
/// trims, folds case and checks duplicates as its format says. A missing,
/// overlong or non-UTF-8 header is turned into the reader's error by
/// `error`; a UTF-8 byte-order mark is already skipped by [`Records`].
/// Returns the header's line.
pub fn read_header<R: Read, E>(
    csv: &mut Records<R>,
    record: &mut Record,
    error: impl Fn(HeaderError) -> E,
    mut cell: impl FnMut(u64, usize, &str) -> Result<(), E>,
) -> Result<u64, E> {
    let line = match csv.read(record) {
        Ok(Next::Record) => record.line(),
        Ok(Next::End) => return Err(error(HeaderError::Empty)),
        Ok(Next::TooLong(too_long)) => {
            return Err(error(HeaderError::TooLong {
                line: record.line(),
                too_long,
            }));
        }
        Err(e) => return Err(error(HeaderError::Records(e))),
    };
    for (i, bytes) in record.iter().enumerate() {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            error(HeaderError::Encoding {
                line,
                column: i + 1,
            })
        })?;
        cell(line, i, text)?;
    }
    Ok(line)
}

/// Most characters of an input value echoed in a message.
pub const EXCERPT_CHARS: usize = 64;

/// An input value as a message quotes it: escaped like `{:?}`, and cut to
/// [`EXCERPT_CHARS`] characters with its length in bytes when longer, so no
/// message echoes a huge cell or header.
pub fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        None => format!("{s:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &s[..cut], s.len()),
    }
}

/// Most bytes of a rejected record's raw text kept.
pub const RAW_EXCERPT_BYTES: usize = 1024;

/// A record as one line of CSV text (RFC 4180 quoting, `\n` inside quoted
/// fields kept, invalid UTF-8 replaced), cut at [`RAW_EXCERPT_BYTES`] with
/// `…`, so a person can fix and re-import it. Linear in the part kept: a
/// field is scanned once to decide its quoting and copied only as far as
/// the excerpt reaches.
pub fn raw_excerpt(record: &Record) -> String {
    raw_excerpt_of(record.iter())
}

/// [`raw_excerpt`] over any fields.
pub fn raw_excerpt_of<'a>(fields: impl ExactSizeIterator<Item = &'a [u8]>) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(256);
    // One bytes past the budget tells a cut from an exact fit.
    let budget = RAW_EXCERPT_BYTES + 4;
    let single = fields.len() == 1;
    for (i, field) in fields.enumerate() {
        if out.len() >= budget {
            break;
        }
        if i > 0 {
            out.push(b',');
        }
        // The csv writer's rule: quote a field holding a delimiter, quote,
        // CR or LF, or the lone empty field of a record.
        let quote = (single && field.is_empty())
            || memchr::memchr3(b',', b'"', b'\n', field).is_some()
            || memchr::memchr(b'\r', field).is_some();
        if quote {
            out.push(b'"');
        }
        for &b in field {
            if out.len() >= budget {
                break;
            }
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        if quote {
            out.push(b'"');
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if text.len() > RAW_EXCERPT_BYTES {
        let mut cut = RAW_EXCERPT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `input` as `line: fields|…`, or `line: too long`.
    fn lines(input: &[u8], max_bytes: usize, max_fields: usize) -> Vec<String> {
        let mut records = Records::with_limits(input, max_bytes, max_fields);
        let mut record = Record::new();
        let mut out = Vec::new();
        loop {
            match records.read(&mut record).unwrap() {
                Next::End => return out,
                Next::Record => {
                    let fields: Vec<String> = record
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect();
                    out.push(format!("{}: {}", record.line(), fields.join("|")));
                }
                Next::TooLong(t) => {
                    out.push(format!("{}: too long at {}", record.line(), t.column))
                }
            }
        }
    }

    #[test]
    fn issue_13_every_line_end_counts_once_and_blank_lines_count() {
        let input = b"h1,h2\r\na,b\r\n\r\n\"x\r\ny\",z\rc,d\n\nlast,\"q\"";
        assert_eq!(
            lines(input, 1 << 20, 1 << 10),
            ["1: h1|h2", "2: a|b", "4: x\r\ny|z", "6: c|d", "8: last|q"]
        );
    }

    #[test]
    fn issue_13_a_crlf_split_between_two_reads_is_one_line_end() {
        // A reader that hands out one byte at a time splits every CRLF.
        struct Bytewise<'a>(&'a [u8]);
        impl Read for Bytewise<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let input = b"\xef\xbb\xbfa\r\n\r\nb\r\"c\r\nd\"\r\ne";
        let mut records = Records::new(Bytewise(input));
        let mut record = Record::new();
        let mut got = Vec::new();
        while records.read(&mut record).unwrap() == Next::Record {
            got.push((
                record.line(),
                String::from_utf8_lossy(&record[0]).into_owned(),
            ));
        }
        assert_eq!(
            got,
            [
                (1, "a".into()),
                (3, "b".into()),
                (4, "c\r\nd".into()),
                (6, "e".into())
            ]
        );
    }

    #[test]
    fn issue_13_an_oversized_record_is_cut_and_skipped() {
        let input = b"a,b\nxxxxxxxxxxxxxxxxxxxxxxx,\"y\ny\"\nc,d\n,,,,,,,,,,\ne,f\n";
        assert_eq!(
            lines(input, 8, 4),
            [
                "1: a|b",
                "2: too long at 1",
                "4: c|d",
                "5: too long at 5",
                "6: e|f"
            ]
        );
    }

    #[test]
    fn issue_13_an_endless_record_stops_at_the_bound() {
        // A record with no end: reading it returns once the bound is passed,
        // having read the bound and one buffer at most.
        let endless = io::repeat(0).take(1 << 40);
        let mut records = Records::with_limits(endless, 4096, 16);
        let mut record = Record::new();
        let next = records.read(&mut record).unwrap();
        assert!(matches!(next, Next::TooLong(_)), "{next:?}");
        assert!(records.position() <= (4096 + BUFFER) as u64);
        assert_eq!(record.len(), 1);
        assert_eq!(record[0].len(), 4096);
    }

    #[test]
    fn issue_13_utf16_is_recognised_with_or_without_bom() {
        let read = |input: &[u8]| Records::new(input).read(&mut Record::new()).map(|_| ());
        for (input, order) in [
            (&b"\xff\xfeP\0r\0"[..], ByteOrder::Little),
            (b"\xfe\xff\0P\0r", ByteOrder::Big),
            (b"P\0r\0o\0j\0,\0x\0\n\0", ByteOrder::Little),
            (b"\0P\0r\0o\0j\0,\0x\0\n", ByteOrder::Big),
        ] {
            match read(input) {
                Err(RecordError::Utf16(o)) => assert_eq!(o, order),
                other => panic!("{input:?}: {other:?}"),
            }
        }
        for fine in [&b"\0\0\0\0\0\0"[..], b"a,b\n", b"", b"\xef\xbb\xbfa\n"] {
            assert!(read(fine).is_ok(), "{fine:?}");
        }
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(excerpt("ab\"c"), "\"ab\\\"c\"");
        let long = "é".repeat(100);
        assert_eq!(
            excerpt(&long),
            format!("\"{}\"… (200 bytes)", "é".repeat(EXCERPT_CHARS))
        );
    }

    /// The csv writer's text of a record, cut like [`raw_excerpt`].
    fn written(fields: &[&[u8]]) -> String {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        writer.write_record(fields).unwrap();
        let bytes = writer.into_inner().unwrap();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        text.pop();
        if text.len() > RAW_EXCERPT_BYTES {
            let mut cut = RAW_EXCERPT_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    proptest::proptest! {
        #[test]
        fn raw_excerpt_is_the_csv_writers_text(
            fields in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![b'a', b',', b'"', b'\n', b'\r', b' ', 0xc3, 0xa9]),
                    0..400,
                ),
                1..8,
            )
        ) {
            let refs: Vec<&[u8]> = fields.iter().map(|f| &f[..]).collect();
            proptest::prop_assert_eq!(raw_excerpt_of(refs.iter().copied()), written(&refs));
        }
    }

    #[test]
    fn issue_13_raw_excerpt_of_a_huge_record_is_linear() {
        // 20 MB of quoted commas and newlines in one field: the excerpt reads
        // one scan of it and copies 1 KiB (the csv writer took seconds).
        let field = b",\n".repeat(10 << 20);
        let text = raw_excerpt_of([&field[..]].into_iter());
        assert!(text.starts_with("\",\n,\n"));
        assert!(text.ends_with('…'));
        assert_eq!(text.chars().count(), RAW_EXCERPT_BYTES + 1);
    }
}
