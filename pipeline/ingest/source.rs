//! Row sources: one record at a time from a CSV or a Parquet file, as text
//! fields addressed by contract column. Columns outside the contract are named
//! (for the manifest) and otherwise never touched: a CSV record holds their text
//! in memory only as long as the record, and a Parquet file is read with a
//! projection that leaves them on disk.

use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::array::{Array, ArrayRef, BinaryArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::{ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder};

use super::decode::{Decided, Evidence, NUL_IN_HEADER, TextEncoding, windows_1251_to_utf8};
use super::{IngestError, untrusted};
use crate::contract::Table;
use crate::warehouse::ObjectParquetReader;

/// Records of one source file, field by field.
pub trait RowSource: Send {
    /// Moves to the next record; `false` at the end of the file.
    fn advance(&mut self) -> Result<bool, IngestError>;
    /// CSV: the physical line where the record starts. Parquet: the row number.
    fn line(&self) -> u64;
    /// The raw text of a contract column in the current record (`""` for an
    /// empty field); `None` when the file has no such column.
    fn field(&self, column: usize) -> Option<&str>;
    /// `(expected, found)` when the record has another number of fields than
    /// the header.
    fn shape_error(&self) -> Option<(usize, usize)>;
    /// The first contract column whose bytes are not text in the file's
    /// encoding (a stray byte, NUL, a row in another encoding): that row is
    /// rejected, not the whole file.
    fn bad_text(&self) -> Option<usize> {
        None
    }
    /// About how many records the source holds, to size the id sets once
    /// instead of growing them (a growing hash table briefly needs 1.5×).
    fn size_hint(&self) -> Option<usize> {
        None
    }
}

/// Where each contract column sits in the file, and which columns are dropped.
pub struct HeaderMap {
    pub positions: Vec<Option<usize>>,
    pub dropped: Vec<String>,
}

/// Matches a header to the contract: names compared trimmed and case-blind.
pub fn map_header(table: &Table, names: &[String], file: &str) -> Result<HeaderMap, IngestError> {
    let mut positions: Vec<Option<usize>> = vec![None; table.columns.len()];
    let mut dropped = Vec::new();
    for (i, raw) in names.iter().enumerate() {
        let name = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_lowercase();
        match table.column_index(&name) {
            Some(c) => {
                if let Some(first) = positions[c] {
                    return Err(IngestError::DuplicateColumn {
                        file: file.to_string(),
                        column: name,
                        first: first + 1,
                        second: i + 1,
                    });
                }
                positions[c] = Some(i);
            }
            None => dropped.push(if name.is_empty() { format!("(column {})", i + 1) } else { name }),
        }
    }
    for (c, column) in table.columns.iter().enumerate() {
        if column.required && positions[c].is_none() {
            return Err(IngestError::MissingColumn { file: file.to_string(), column: column.name.clone() });
        }
    }
    Ok(HeaderMap { positions, dropped })
}

/// A CSV file read on a thread of its own: parsing (`csv_core`, on the raw
/// bytes), deciding the encoding, decoding (windows-1251) or checking (UTF-8)
/// the contract fields and the checksum run beside the validation of the rows
/// before, in chunks of records.
pub struct CsvSource {
    chunks: Receiver<Result<Chunk, IngestError>>,
    /// Read chunks go back to the reading thread to be filled again.
    recycle: SyncSender<Chunk>,
    reader: Option<JoinHandle<()>>,
    chunk: Chunk,
    current: usize,
    size_hint: Option<usize>,
    positions: Vec<Option<usize>>,
    header_len: usize,
    file: String,
    encoding: Decided,
}

/// Records in one flat buffer: the fields of each record one after another,
/// so the thread checking them reads memory in order.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    /// Where each field ends, from the start of its record's data.
    ends: Vec<usize>,
    records: Vec<RecordSpan>,
}

#[derive(Clone, Copy)]
struct RecordSpan {
    data_start: usize,
    ends_start: usize,
    fields: usize,
    /// The physical line where the record starts.
    line: u64,
    /// Whether every field is text; if not, the first contract column that
    /// is not (a stray byte in a dropped column costs nothing).
    text: Text,
}

#[derive(Clone, Copy, PartialEq)]
enum Text {
    Valid,
    Invalid(Option<usize>),
}

impl Chunk {
    fn clear(&mut self) {
        self.records.clear();
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The bytes of the records.
    fn bytes(&self) -> &[u8] {
        &self.data[..self.used().0]
    }

    /// How much of `data` and of `ends` the records hold: where the next
    /// record goes.
    fn used(&self) -> (usize, usize) {
        self.records.last().map_or((0, 0), |r| {
            let data = r.fields.checked_sub(1).map_or(0, |last| self.ends[r.ends_start + last]);
            (r.data_start + data, r.ends_start + r.fields)
        })
    }

    fn field(&self, record: &RecordSpan, i: usize) -> &[u8] {
        if i >= record.fields {
            return b"";
        }
        let ends = &self.ends[record.ends_start..record.ends_start + record.fields];
        let start = if i == 0 { 0 } else { ends[i - 1] };
        &self.data[record.data_start + start..record.data_start + ends[i]]
    }
}

/// Records per chunk handed from the reading thread, and chunks in flight;
/// a chunk also ends once it holds `CHUNK_BYTES`.
const CHUNK_RECORDS: usize = 4096;
const CHUNK_BYTES: usize = 8 << 20;
/// The most one record may hold: far beyond any export's (the contract's
/// values are 1 000 characters at most), and it bounds the memory an
/// unclosed quote can take — the rest of the file read as one field.
pub const MAX_RECORD_BYTES: usize = 4 << 20;
const MAX_RECORD_FIELDS: usize = 65_536;

/// A record longer than `MAX_RECORD_BYTES`, by the line where it starts;
/// carried through the reader as an I/O error.
#[derive(Debug)]
pub struct RecordTooLong(pub u64);

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the record starting at line {} is too long", self.0)
    }
}

impl std::error::Error for RecordTooLong {}
const CHUNKS_AHEAD: usize = 8;

/// Record by record from `csv_core`, the same parser as the `csv` crate's
/// (RFC 4180 quoting, `\r`, `\n` or `\r\n` ends, blank lines skipped).
struct CsvReader {
    input: std::io::BufReader<Box<dyn Read + Send>>,
    core: csv_core::Reader,
    done: bool,
}

impl CsvReader {
    /// Appends the next record to `chunk`; `false` at the end of the input.
    fn read_into(&mut self, chunk: &mut Chunk) -> std::io::Result<bool> {
        use csv_core::ReadRecordResult::*;
        use std::io::BufRead;
        if self.done {
            return Ok(false);
        }
        // The ends of the previous record and blank lines, passed here so the
        // record's line is where its first byte is (csv_core would skip them
        // within the record, counting them after its line was taken).
        loop {
            let input = self.input.fill_buf()?;
            let skip = input.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            let newlines = input[..skip].iter().filter(|&&b| b == b'\n').count();
            self.core.set_line(self.core.line() + newlines as u64);
            let more = skip == input.len() && skip > 0;
            self.input.consume(skip);
            if !more {
                break;
            }
        }
        let line = self.core.line();
        let (data_start, ends_start) = chunk.used();
        let (mut out, mut ends) = (data_start, ends_start);
        loop {
            if chunk.data.len() < out + 1024 {
                chunk.data.resize((out + 1024).max(chunk.data.len() * 2), 0);
            }
            if chunk.ends.len() < ends + 64 {
                chunk.ends.resize((ends + 64).max(chunk.ends.len() * 2), 0);
            }
            let input = self.input.fill_buf()?;
            let (result, read, wrote, ended) =
                self.core.read_record(input, &mut chunk.data[out..], &mut chunk.ends[ends..]);
            self.input.consume(read);
            out += wrote;
            ends += ended;
            if out - data_start > MAX_RECORD_BYTES || ends - ends_start > MAX_RECORD_FIELDS {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, RecordTooLong(line)));
            }
            match result {
                InputEmpty | OutputFull | OutputEndsFull => continue,
                Record => {
                    let fields = ends - ends_start;
                    chunk.records.push(RecordSpan { data_start, ends_start, fields, line, text: Text::Valid });
                    return Ok(true);
                }
                End => {
                    self.done = true;
                    return Ok(false);
                }
            }
        }
    }
}

impl CsvSource {
    /// Reads the header, then starts reading records on a thread. `input`
    /// yields the file's bytes after any byte-order mark, whose encoding is
    /// `encoding` (else decided from the records); `size_hint` is an estimate
    /// of the number of records.
    pub fn open(
        input: Box<dyn Read + Send>,
        separator: u8,
        size_hint: Option<usize>,
        table: &Table,
        file: &str,
        encoding: Option<TextEncoding>,
    ) -> Result<(CsvSource, Vec<String>), IngestError> {
        let mut reader = CsvReader {
            input: std::io::BufReader::with_capacity(256 * 1024, input),
            core: csv_core::ReaderBuilder::new().delimiter(separator).build(),
            done: false,
        };
        let mut header = Chunk::default();
        if !reader.read_into(&mut header).map_err(|e| read_error(file, e))? {
            return Err(IngestError::EmptyFile { file: file.to_string() });
        }
        let span = header.records[0];
        if header.bytes().contains(&0) {
            return Err(IngestError::UnknownEncoding { file: file.to_string(), detail: NUL_IN_HEADER.to_string() });
        }
        let mut evidence = Evidence::default();
        let names: Vec<String> = (0..span.fields)
            .map(|i| {
                let name = header.field(&span, i);
                evidence.add(name);
                header_name(name)
            })
            .collect();
        if names.is_empty() || (names.len() == 1 && names[0].trim().is_empty()) {
            return Err(IngestError::EmptyFile { file: file.to_string() });
        }
        let map = map_header(table, &names, file)?;
        let (send, chunks) = sync_channel(CHUNKS_AHEAD);
        let (recycle, recycled) = sync_channel(CHUNKS_AHEAD + 2);
        let decided = Decided::default();
        let mut columns = vec![None; names.len()];
        for (c, p) in map.positions.iter().enumerate() {
            if let Some(p) = p {
                columns[*p] = Some(c);
            }
        }
        let text = match encoding {
            Some(known) => {
                decided.set(known);
                Reading::Utf8
            }
            None => Reading::Undecided { evidence, held: Vec::new(), held_bytes: 0 },
        };
        let mut thread = ReadingThread {
            reader,
            positions: map.positions.clone(),
            columns,
            file: file.to_string(),
            text,
            decided: decided.clone(),
            send,
            recycled,
            spare: None,
        };
        let thread = std::thread::Builder::new()
            .name(format!("read {file}"))
            .spawn(move || thread.run())
            .map_err(|e| IngestError::Read { file: file.to_string(), detail: e.to_string() })?;
        let source = CsvSource {
            chunks,
            recycle,
            reader: Some(thread),
            chunk: Chunk::default(),
            current: 0,
            size_hint,
            positions: map.positions,
            header_len: names.len(),
            file: file.to_string(),
            encoding: decided,
        };
        Ok((source, map.dropped))
    }

    /// The file's encoding, as decided by the time the last record was read.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding.get()
    }

    fn record(&self) -> Option<&RecordSpan> {
        self.chunk.records.get(self.current)
    }
}

/// A header name: UTF-8 when it is, else windows-1251 (for the manifest's
/// dropped columns; contract names are ASCII, the same in both).
fn header_name(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(name) => name.to_string(),
        Err(_) => encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Held-back data beyond which the encoding is decided from what there is,
/// so memory stays bounded whatever the file holds.
const HOLD_BYTES: usize = 8 << 20;

/// How the reading thread turns the raw bytes of fields into text.
enum Reading {
    /// Fields pass as they are, checked to be UTF-8 (decided, or so far
    /// ASCII, which reads the same in both encodings).
    Utf8,
    /// Contract fields are decoded, the others left out.
    Windows1251,
    /// Not decided: from the first record with a non-ASCII byte on, records
    /// are held back while their bytes are counted as evidence.
    Undecided { evidence: Evidence, held: Vec<Chunk>, held_bytes: usize },
}

/// The reading thread: chunks of records until the end of the file, an
/// error, or the consumer going away; chunks coming back are refilled.
struct ReadingThread {
    reader: CsvReader,
    /// Per contract column, its field.
    positions: Vec<Option<usize>>,
    /// Per field, its contract column.
    columns: Vec<Option<usize>>,
    file: String,
    text: Reading,
    decided: Decided,
    send: SyncSender<Result<Chunk, IngestError>>,
    recycled: Receiver<Chunk>,
    /// A raw chunk kept for the next read when its records went out decoded.
    spare: Option<Chunk>,
}

/// The consumer went away (it stopped on an error of its own).
struct Gone;

impl ReadingThread {
    fn run(&mut self) {
        if let Err(e) = self.read_all() {
            let _ = self.send.send(Err(e));
        }
    }

    fn read_all(&mut self) -> Result<(), IngestError> {
        loop {
            let mut chunk = self.fresh();
            let mut done = false;
            while chunk.records.len() < CHUNK_RECORDS && chunk.used().0 < CHUNK_BYTES {
                match self.reader.read_into(&mut chunk) {
                    Ok(true) => {}
                    Ok(false) => {
                        done = true;
                        break;
                    }
                    Err(e) => return Err(read_error(&self.file, e)),
                }
            }
            if self.take(chunk, done)?.is_err() || done {
                return Ok(());
            }
        }
    }

    fn fresh(&mut self) -> Chunk {
        let mut chunk = self.spare.take().or_else(|| self.recycled.try_recv().ok()).unwrap_or_default();
        chunk.clear();
        chunk
    }

    /// Sends a chunk on as text, or holds it back until the encoding is
    /// decided; `done` at the end of the file.
    fn take(&mut self, mut chunk: Chunk, done: bool) -> Result<Result<(), Gone>, IngestError> {
        let Reading::Undecided { evidence, held, held_bytes } = &mut self.text else {
            return Ok(self.ship(chunk));
        };
        if held.is_empty() && chunk.bytes().is_ascii() {
            check_text(&mut chunk, &self.positions);
            return Ok(self.send(chunk));
        }
        // Record by record, so the first records with evidence decide (in a
        // file in two encodings, the half that comes first).
        let mut verdict = None;
        for record in &chunk.records {
            for i in 0..record.fields {
                evidence.add(chunk.field(record, i));
            }
            verdict = evidence.decide(false);
            if verdict.is_some() {
                break;
            }
        }
        *held_bytes += chunk.bytes().len();
        held.push(chunk);
        let verdict = verdict.or_else(|| (done || *held_bytes > HOLD_BYTES).then(|| evidence.decide(true)).flatten());
        let Some(verdict) = verdict else { return Ok(Ok(())) };
        let encoding = verdict.map_err(|detail| IngestError::UnknownEncoding { file: self.file.clone(), detail })?;
        self.decided.set(encoding);
        let decided = if encoding == TextEncoding::Windows1251 { Reading::Windows1251 } else { Reading::Utf8 };
        let Reading::Undecided { held, .. } = std::mem::replace(&mut self.text, decided) else {
            unreachable!("undecided above")
        };
        for chunk in held {
            if self.ship(chunk).is_err() {
                return Ok(Err(Gone));
            }
        }
        Ok(Ok(()))
    }

    /// Sends a chunk in the decided encoding.
    fn ship(&mut self, mut chunk: Chunk) -> Result<(), Gone> {
        match self.text {
            Reading::Windows1251 => {
                let mut out = self.recycled.try_recv().unwrap_or_default();
                from_windows_1251(&chunk, &mut out, &self.columns);
                chunk.clear();
                self.spare = Some(chunk);
                self.send(out)
            }
            _ => {
                check_text(&mut chunk, &self.positions);
                self.send(chunk)
            }
        }
    }

    fn send(&self, chunk: Chunk) -> Result<(), Gone> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.send.send(Ok(chunk)).map_err(|_| Gone)
    }
}

/// Marks the records with a field that is not UTF-8 or holds NUL. The whole
/// chunk is checked at once; a field is then valid when it also starts and
/// ends on a character boundary.
fn check_text(chunk: &mut Chunk, positions: &[Option<usize>]) {
    let (used, _) = chunk.used();
    let whole = std::str::from_utf8(&chunk.data[..used]).is_ok() && !chunk.data[..used].contains(&0);
    let boundary = |at: usize| at >= used || (chunk.data[at] as i8) >= -0x40;
    let text = |field: &[u8]| std::str::from_utf8(field).is_ok() && !field.contains(&0);
    for r in 0..chunk.records.len() {
        let record = chunk.records[r];
        let valid = if whole {
            let ends = &chunk.ends[record.ends_start..record.ends_start + record.fields];
            ends.iter().all(|&end| boundary(record.data_start + end))
        } else {
            (0..record.fields).all(|i| text(chunk.field(&record, i)))
        };
        if !valid {
            let bad = positions.iter().enumerate().find_map(|(c, p)| (!text(chunk.field(&record, (*p)?))).then_some(c));
            chunk.records[r].text = Text::Invalid(bad);
        }
    }
}

/// The records of a windows-1251 chunk into `out`, their contract fields
/// decoded to UTF-8 and the others left empty (never looked at). A contract
/// field that is not windows-1251 text is left empty too and marks its record.
fn from_windows_1251(raw: &Chunk, out: &mut Chunk, columns: &[Option<usize>]) {
    out.clear();
    out.data.clear();
    out.ends.clear();
    for record in &raw.records {
        let (data_start, ends_start) = (out.data.len(), out.ends.len());
        let mut bad: Option<usize> = None;
        for i in 0..record.fields {
            if let Some(&Some(c)) = columns.get(i)
                && !windows_1251_to_utf8(raw.field(record, i), &mut out.data)
            {
                bad = Some(bad.map_or(c, |b| b.min(c)));
            }
            out.ends.push(out.data.len() - data_start);
        }
        let text = bad.map_or(Text::Valid, |c| Text::Invalid(Some(c)));
        out.records.push(RecordSpan { data_start, ends_start, fields: record.fields, line: record.line, text });
    }
}

impl RowSource for CsvSource {
    fn advance(&mut self) -> Result<bool, IngestError> {
        if self.current + 1 < self.chunk.records.len() {
            self.current += 1;
            return Ok(true);
        }
        match self.chunks.recv() {
            Ok(Ok(chunk)) => {
                let old = std::mem::replace(&mut self.chunk, chunk);
                // Back to the reader, unless it is behind on taking them.
                let _ = self.recycle.try_send(old);
                self.current = 0;
                Ok(true)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                // The end: the thread has read the whole file (and so
                // finished its checksum).
                self.chunk.clear();
                if let Some(thread) = self.reader.take() {
                    thread.join().map_err(|_| IngestError::Read {
                        file: self.file.clone(),
                        detail: "the reading thread stopped unexpectedly".to_string(),
                    })?;
                }
                Ok(false)
            }
        }
    }

    fn line(&self) -> u64 {
        self.record().map_or(0, |r| r.line)
    }

    #[inline]
    fn field(&self, column: usize) -> Option<&str> {
        let i = self.positions[column]?;
        let Some(record) = self.record() else { return Some("") };
        let bytes = self.chunk.field(record, i);
        Some(match record.text {
            // SAFETY: check_text found the chunk valid UTF-8 and this
            // record's fields to start and end on character boundaries, or
            // from_windows_1251 wrote every field as UTF-8.
            Text::Valid => unsafe { std::str::from_utf8_unchecked(bytes) },
            // The field at fault reads as empty: its bytes reach no output.
            Text::Invalid(_) => std::str::from_utf8(bytes).ok().filter(|s| !s.contains('\0')).unwrap_or(""),
        })
    }

    fn bad_text(&self) -> Option<usize> {
        match self.record()?.text {
            Text::Invalid(bad) => bad,
            Text::Valid => None,
        }
    }

    fn shape_error(&self) -> Option<(usize, usize)> {
        let len = self.record().map_or(self.header_len, |r| r.fields);
        (len != self.header_len).then_some((self.header_len, len))
    }

    fn size_hint(&self) -> Option<usize> {
        self.size_hint
    }
}

fn read_error(file: &str, e: std::io::Error) -> IngestError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<RecordTooLong>()) {
        Some(RecordTooLong(line)) => {
            IngestError::RecordTooLong { file: file.to_string(), line: *line, limit_mib: MAX_RECORD_BYTES >> 20 }
        }
        None => IngestError::Read { file: file.to_string(), detail: e.to_string() },
    }
}

/// A Parquet export of a table, read batch by batch. Every contract column is
/// cast to text so the same validation applies as for CSV. The file is not
/// trusted: its footer is checked against its size before anything is read
/// or sized from it (`ObjectParquetReader`), and a panic of the reader on
/// damaged bytes refuses the file like any other damage.
pub struct ParquetSource {
    stream: ParquetRecordBatchStream<ObjectParquetReader>,
    runtime: tokio::runtime::Handle,
    /// Per contract column: its position in the projected batch.
    positions: Vec<Option<usize>>,
    columns: Vec<Option<TextColumn>>,
    rows_in_batch: usize,
    row: usize,
    rows_before: u64,
    size_hint: usize,
    file: String,
}

/// A contract column of the current batch as text.
struct TextColumn {
    text: StringArray,
    /// For a binary column: the rows whose bytes are not UTF-8 (their text is
    /// null), when there is any.
    not_utf8: Option<Vec<bool>>,
}

/// The fewest bytes a row of a contract table takes in a Parquet file, for
/// sizing only: a footer's row count is believed up to what the file's size
/// allows at this rate, and the id sets grow past it when they must.
const MIN_ROW_BYTES: u64 = 8;

impl ParquetSource {
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        path: Path,
        size: u64,
        table: &Table,
        file: &str,
    ) -> Result<(ParquetSource, Vec<String>), IngestError> {
        untrusted::fenced_future(Self::try_open(store, path, size, table, file))
            .await
            .unwrap_or_else(|panic| Err(damaged(file, &panic)))
    }

    async fn try_open(
        store: Arc<dyn ObjectStore>,
        path: Path,
        size: u64,
        table: &Table,
        file: &str,
    ) -> Result<(ParquetSource, Vec<String>), IngestError> {
        let reader = ObjectParquetReader::new(store, path, size);
        let builder = ParquetRecordBatchStreamBuilder::new(reader).await.map_err(|e| parquet_error(file, e))?;
        let names: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
        let claimed = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let size_hint = usize::try_from(claimed.min(size / MIN_ROW_BYTES)).unwrap_or(usize::MAX);
        let map = map_header(table, &names, file)?;
        let mut kept: Vec<usize> = map.positions.iter().flatten().copied().collect();
        kept.sort_unstable();
        let mask = ProjectionMask::roots(builder.parquet_schema(), kept.iter().copied());
        let positions = map
            .positions
            .iter()
            .map(|p| p.map(|file_idx| kept.iter().position(|&k| k == file_idx).expect("kept column")))
            .collect();
        let stream = builder.with_projection(mask).with_batch_size(8192).build().map_err(|e| parquet_error(file, e))?;
        let source = ParquetSource {
            stream,
            runtime: tokio::runtime::Handle::current(),
            positions,
            columns: Vec::new(),
            rows_in_batch: 0,
            row: 0,
            rows_before: 0,
            size_hint,
            file: file.to_string(),
        };
        Ok((source, map.dropped))
    }

    fn load(&mut self, batch: &RecordBatch) -> Result<(), IngestError> {
        let mut columns = Vec::with_capacity(self.positions.len());
        for p in &self.positions {
            columns.push(match p {
                None => None,
                Some(i) => Some(as_text(batch.column(*i)).map_err(|detail| IngestError::BadParquet {
                    file: self.file.clone(),
                    detail: format!("column {}: {detail}", batch.schema().field(*i).name()),
                })?),
            });
        }
        self.columns = columns;
        self.rows_in_batch = batch.num_rows();
        Ok(())
    }

    /// The next batch, loaded; `None` at the end of the file.
    fn next_batch(&mut self) -> Result<Option<()>, IngestError> {
        let (runtime, stream) = (&self.runtime, &mut self.stream);
        let batch = match untrusted::fenced(|| runtime.block_on(stream.next())) {
            Err(panic) => return Err(damaged(&self.file, &panic)),
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => return Err(parquet_error(&self.file, e)),
            Ok(Some(Ok(batch))) => batch,
        };
        untrusted::fenced(|| self.load(&batch)).unwrap_or_else(|panic| Err(damaged(&self.file, &panic)))?;
        Ok(Some(()))
    }
}

/// Whether a column holds bytes (BYTE_ARRAY without the UTF8 annotation).
fn is_binary(data_type: &DataType) -> bool {
    match data_type {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => true,
        DataType::Dictionary(_, values) => is_binary(values),
        _ => false,
    }
}

/// Contract values as the text a CSV export would hold (dates ISO, `.` money).
fn as_text(array: &ArrayRef) -> Result<TextColumn, String> {
    if is_binary(array.data_type()) {
        // Bytes are text when they are UTF-8; a row whose bytes are not is
        // rejected `bad_encoding`, the rest of the file loads.
        let binary = cast(array, &DataType::Binary).map_err(|e| e.to_string())?;
        let binary = binary.as_any().downcast_ref::<BinaryArray>().expect("cast to Binary gives a BinaryArray");
        let mut not_utf8 = vec![false; binary.len()];
        let text: StringArray = binary
            .iter()
            .enumerate()
            .map(|(i, value)| {
                value.and_then(|bytes| {
                    let text = std::str::from_utf8(bytes).ok();
                    not_utf8[i] = text.is_none();
                    text
                })
            })
            .collect();
        let any = not_utf8.contains(&true);
        return Ok(TextColumn { text, not_utf8: any.then_some(not_utf8) });
    }
    let array = match array.data_type() {
        DataType::Timestamp(_, _) | DataType::Date64 => cast(array, &DataType::Date32).map_err(|e| e.to_string())?,
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _) => {
            return Err("a nested type, where the contract expects a plain value".to_string());
        }
        _ => array.clone(),
    };
    let text = cast(&array, &DataType::Utf8).map_err(|e| e.to_string())?;
    let text = text.as_any().downcast_ref::<StringArray>().expect("cast to Utf8 gives a StringArray").clone();
    Ok(TextColumn { text, not_utf8: None })
}

impl RowSource for ParquetSource {
    fn advance(&mut self) -> Result<bool, IngestError> {
        if self.row + 1 < self.rows_in_batch {
            self.row += 1;
            return Ok(true);
        }
        loop {
            self.rows_before += self.rows_in_batch as u64;
            self.rows_in_batch = 0;
            if self.next_batch()?.is_none() {
                return Ok(false);
            }
            self.row = 0;
            if self.rows_in_batch > 0 {
                return Ok(true);
            }
        }
    }

    fn line(&self) -> u64 {
        self.rows_before + self.row as u64 + 1
    }

    fn field(&self, column: usize) -> Option<&str> {
        self.columns[column].as_ref().map(|c| if c.text.is_null(self.row) { "" } else { c.text.value(self.row) })
    }

    fn bad_text(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.as_ref().and_then(|c| c.not_utf8.as_ref()).is_some_and(|bad| bad[self.row]))
    }

    fn shape_error(&self) -> Option<(usize, usize)> {
        None
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.size_hint)
    }
}

fn parquet_error(file: &str, e: parquet::errors::ParquetError) -> IngestError {
    IngestError::BadParquet { file: file.to_string(), detail: e.to_string() }
}

/// The reader panicked on the file's bytes. What it said goes to the debug
/// log only: a message built from the file's bytes is not for the error.
fn damaged(file: &str, panic: &str) -> IngestError {
    tracing::debug!("{file}: the Parquet reader stopped: {panic}");
    IngestError::BadParquet {
        file: file.to_string(),
        detail: "the file is damaged: its footer or pages do not decode; export it again".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;

    type Record = (u64, String, String, Option<usize>);

    /// Every record of a CSV text as (line, member_id, org_id, bad column).
    #[test]
    fn an_unclosed_quote_cannot_take_the_rest_of_the_file_into_memory() {
        let table = Contract::embedded().table("members").expect("members");
        let header = "member_id,org_id,registered_on,joined_online,card_status,profcards,profcards_app,pd_consent,personal_account\n";
        let mut input = header.as_bytes().to_vec();
        input.extend_from_slice(b"M1,P1,2020-01-01,0,none,0,0,1,0\nM2,\"P2\n");
        input.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        let opened = CsvSource::open(Box::new(std::io::Cursor::new(input)), b',', None, table, "members.csv", None);
        let (mut source, _) = opened.unwrap();
        let mut outcome = source.advance();
        while let Ok(true) = outcome {
            outcome = source.advance();
        }
        match outcome {
            Err(IngestError::RecordTooLong { file, line: 3, .. }) => assert_eq!(file, "members.csv"),
            other => panic!("{:?}", other.err()),
        }
    }

    fn read(csv: &[u8]) -> Vec<Record> {
        read_in(csv).0
    }

    /// The records, and the encoding decided.
    fn read_in(csv: &[u8]) -> (Vec<Record>, TextEncoding) {
        let table = Contract::embedded().table("members").expect("members");
        let header = "member_id,org_id,registered_on,joined_online,card_status,profcards,profcards_app,pd_consent,personal_account\n";
        let mut input = header.as_bytes().to_vec();
        input.extend_from_slice(csv);
        let (mut source, dropped) =
            CsvSource::open(Box::new(std::io::Cursor::new(input)), b',', None, table, "members.csv", None).unwrap();
        assert!(dropped.is_empty());
        let mut rows = Vec::new();
        while source.advance().unwrap() {
            let text = |c| source.field(c).unwrap().to_string();
            rows.push((source.line(), text(0), text(1), source.bad_text()));
        }
        (rows, source.encoding())
    }

    #[test]
    fn held_back_records_are_bounded() {
        // A stray byte, then more ASCII than is held back: decided from what
        // there is (UTF-8 with a stray byte), not from the windows-1251 text
        // after, whose rows are then rejected rather than decoded.
        let mut csv = b"M0,P\xE9\n".to_vec();
        let padding = (HOLD_BYTES + (1 << 20)) / 12;
        for i in 0..padding {
            csv.extend(format!("M{i:08},P1\n").as_bytes());
        }
        csv.extend(encoding_rs::WINDOWS_1251.encode("M1,Ромашка\n").0.as_ref());
        let (rows, encoding) = read_in(&csv);
        assert_eq!(encoding, TextEncoding::Utf8);
        assert_eq!(rows.len(), padding + 2);
        assert_eq!(rows[0], (2, "M0".into(), String::new(), Some(1)));
        assert_eq!(rows[1].3, None);
        assert_eq!(rows[padding + 1], (padding as u64 + 3, "M1".into(), String::new(), Some(1)));
    }

    #[test]
    fn windows_1251_records_decode_and_keep_their_lines() {
        let cp1251 = |text: &str| encoding_rs::WINDOWS_1251.encode(text).0.into_owned();
        let mut csv = b"M1,P1\n".to_vec();
        csv.extend(cp1251("M2,\"Первичная\nорганизация\"\n"));
        // A UTF-8 row and an undefined byte cost their rows, named by column.
        csv.extend("M3,Школа\n".as_bytes());
        csv.extend(b"M4,\xCF\x98\xCE\n");
        csv.extend(cp1251("M5,Ромашка\n"));
        let (rows, encoding) = read_in(&csv);
        assert_eq!(encoding, TextEncoding::Windows1251);
        assert_eq!(
            rows,
            vec![
                (2, "M1".into(), "P1".into(), None),
                (3, "M2".into(), "Первичная\nорганизация".into(), None),
                (5, "M3".into(), String::new(), Some(1)),
                (6, "M4".into(), String::new(), Some(1)),
                (7, "M5".into(), "Ромашка".into(), None),
            ]
        );
    }

    #[test]
    fn records_keep_their_lines_quotes_and_stray_bytes() {
        let rows = read(b"M1,\"P,1\"\r\n\nM2,\"P\n\"\"2\"\"\"\nM3,P\xFF3\nM4,P4");
        assert_eq!(rows[0], (2, "M1".into(), "P,1".into(), None));
        // A blank line is skipped; a quoted newline makes a record two lines.
        assert_eq!(rows[1], (4, "M2".into(), "P\n\"2\"".into(), None));
        // A stray byte spoils its own field, which is named, and nothing else.
        assert_eq!(rows[2], (6, "M3".into(), String::new(), Some(1)));
        assert_eq!(rows[3], (7, "M4".into(), "P4".into(), None), "the last line needs no newline");
    }

    #[test]
    fn a_character_split_by_a_separator_is_not_text() {
        // `Ж` is D0 96: split by the separator, each field is invalid though
        // the bytes of the record together are valid UTF-8.
        let rows = read(b"M\xD0,\x96P\nM2,\xD0\x96\n");
        assert_eq!(rows[0].3, Some(0));
        assert_eq!(rows[1], (3, "M2".into(), "Ж".into(), None));
    }

    /// A footer may claim more rows than the pages hold (the reader yields
    /// what is there), but the id sets are sized from the file's size, never
    /// from the claim alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_parquet_size_hint_is_capped_by_the_file_size() {
        use arrow::datatypes::{Field, Schema};
        use parquet::file::metadata::{FileMetaData, ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter};

        let table = Contract::embedded().table("members").expect("members");
        let required: Vec<&str> = table.columns.iter().filter(|c| c.required).map(|c| c.name.as_str()).collect();
        let schema = Arc::new(Schema::new(
            required.iter().map(|name| Field::new(*name, DataType::Utf8, false)).collect::<Vec<_>>(),
        ));
        let text: ArrayRef = Arc::new(StringArray::from(vec!["x1", "x2"]));
        let batch = RecordBatch::try_new(schema.clone(), vec![text; required.len()]).unwrap();
        let mut good = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut good, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        // The same data under a footer claiming 100 000 rows.
        let meta = ParquetMetaDataReader::new().parse_and_finish(&bytes::Bytes::from(good.clone())).unwrap();
        let claim = 100_000;
        let fm = meta.file_metadata();
        let lying = ParquetMetaData::new(
            FileMetaData::new(fm.version(), claim, None, None, fm.schema_descr_ptr(), None),
            meta.row_groups().iter().map(|rg| rg.clone().into_builder().set_num_rows(claim).build().unwrap()).collect(),
        );
        let footer = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap()) as usize;
        let mut file = good[..good.len() - 8 - footer].to_vec();
        ParquetMetaDataWriter::new(&mut file, &lying).finish().unwrap();

        let store = Arc::new(object_store::memory::InMemory::new());
        let path = Path::from("members.parquet");
        object_store::ObjectStoreExt::put(store.as_ref(), &path, file.clone().into()).await.unwrap();
        let (source, _) = ParquetSource::open(store, path, file.len() as u64, table, "members.parquet").await.unwrap();
        let hint = source.size_hint().unwrap();
        assert!(hint <= file.len() / 8, "hint {hint} for a file of {} bytes", file.len());
    }
}
