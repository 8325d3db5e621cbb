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

use super::decode::UndecidedEncoding;
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
    /// The first contract column whose text is not valid UTF-8 (CSV in UTF-8
    /// with a stray byte): that row is rejected, not the whole file.
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

/// A CSV file read on a thread of its own: parsing (`csv_core`), decoding
/// (windows-1251), UTF-8 checks and the checksum run beside the validation
/// of the rows before, in chunks of records.
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
    /// Whether every field is valid UTF-8; if not, the first contract
    /// column that is not (a stray byte in a dropped column costs nothing).
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

/// Records per chunk handed from the reading thread, and chunks in flight.
const CHUNK_RECORDS: usize = 4096;
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
    /// yields UTF-8; `size_hint` is an estimate of the number of records.
    pub fn open(
        input: Box<dyn Read + Send>,
        separator: u8,
        size_hint: Option<usize>,
        table: &Table,
        file: &str,
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
        let names: Vec<String> =
            (0..span.fields).map(|i| String::from_utf8_lossy(header.field(&span, i)).into_owned()).collect();
        if names.is_empty() || (names.len() == 1 && names[0].trim().is_empty()) {
            return Err(IngestError::EmptyFile { file: file.to_string() });
        }
        let map = map_header(table, &names, file)?;
        let (send, chunks) = sync_channel(CHUNKS_AHEAD);
        let (recycle, recycled) = sync_channel(CHUNKS_AHEAD + 2);
        let positions = map.positions.clone();
        let name = file.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("read {file}"))
            .spawn(move || read_records(reader, &positions, &name, send, recycled))
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
        };
        Ok((source, map.dropped))
    }

    fn record(&self) -> Option<&RecordSpan> {
        self.chunk.records.get(self.current)
    }
}

/// The reading thread: chunks of records until the end of the file, an
/// error, or the consumer going away; chunks coming back are refilled.
fn read_records(
    mut reader: CsvReader,
    positions: &[Option<usize>],
    file: &str,
    send: SyncSender<Result<Chunk, IngestError>>,
    recycled: Receiver<Chunk>,
) {
    loop {
        let mut chunk = recycled.try_recv().unwrap_or_default();
        chunk.clear();
        let mut done = false;
        while chunk.records.len() < CHUNK_RECORDS {
            match reader.read_into(&mut chunk) {
                Ok(true) => {}
                Ok(false) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    let _ = send.send(Err(read_error(file, e)));
                    return;
                }
            }
        }
        check_text(&mut chunk, positions);
        if (!chunk.records.is_empty() && send.send(Ok(chunk)).is_err()) || done {
            return;
        }
    }
}

/// Marks the records with a field that is not UTF-8. The whole chunk is
/// checked at once; a field is then valid when it also starts and ends on a
/// character boundary.
fn check_text(chunk: &mut Chunk, positions: &[Option<usize>]) {
    let (used, _) = chunk.used();
    let whole = std::str::from_utf8(&chunk.data[..used]).is_ok();
    let boundary = |at: usize| at >= used || (chunk.data[at] as i8) >= -0x40;
    for r in 0..chunk.records.len() {
        let record = chunk.records[r];
        let valid = if whole {
            let ends = &chunk.ends[record.ends_start..record.ends_start + record.fields];
            ends.iter().all(|&end| boundary(record.data_start + end))
        } else {
            (0..record.fields).all(|i| std::str::from_utf8(chunk.field(&record, i)).is_ok())
        };
        if !valid {
            let bad = positions.iter().enumerate().find_map(|(c, p)| {
                let field = chunk.field(&record, (*p)?);
                std::str::from_utf8(field).is_err().then_some(c)
            });
            chunk.records[r].text = Text::Invalid(bad);
        }
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
            // record's fields to start and end on character boundaries.
            Text::Valid => unsafe { std::str::from_utf8_unchecked(bytes) },
            Text::Invalid(_) => std::str::from_utf8(bytes).unwrap_or(""),
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

/// A read error of a CSV file, named; an encoding that cannot be decided
/// far down the file is said as such.
fn read_error(file: &str, e: std::io::Error) -> IngestError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<UndecidedEncoding>()) {
        Some(undecided) => IngestError::UnknownEncoding { file: file.to_string(), detail: undecided.0.clone() },
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

    /// Every record of a CSV text as (line, member_id, org_id, bad column).
    fn read(csv: &[u8]) -> Vec<(u64, String, String, Option<usize>)> {
        let table = Contract::embedded().table("members").expect("members");
        let header = "member_id,org_id,registered_on,joined_online,card_status,profcards,profcards_app,pd_consent,personal_account\n";
        let mut input = header.as_bytes().to_vec();
        input.extend_from_slice(csv);
        let (mut source, dropped) =
            CsvSource::open(Box::new(std::io::Cursor::new(input)), b',', None, table, "members.csv").unwrap();
        assert!(dropped.is_empty());
        let mut rows = Vec::new();
        while source.advance().unwrap() {
            let text = |c| source.field(c).unwrap().to_string();
            rows.push((source.line(), text(0), text(1), source.bad_text()));
        }
        rows
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
