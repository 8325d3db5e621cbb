//! Row sources: one record at a time from a CSV or a Parquet file, as text
//! fields addressed by contract column. Columns outside the contract are named
//! (for the manifest) and otherwise never touched: a CSV record holds their text
//! in memory only as long as the record, and a Parquet file is read with a
//! projection that leaves them on disk.

use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::{ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder};

use super::IngestError;
use super::decode::UndecidedEncoding;
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

/// A CSV file read on a thread of its own: parsing, decoding (windows-1251),
/// UTF-8 checks and the checksum run beside the validation of the rows
/// before, in chunks of records.
pub struct CsvSource {
    chunks: Receiver<Result<Vec<Record>, IngestError>>,
    /// Read chunks go back to the reading thread to be filled again: records
    /// allocated on one thread and freed on another cost more than the
    /// parsing they save.
    recycle: SyncSender<Vec<Record>>,
    reader: Option<JoinHandle<()>>,
    chunk: Vec<Record>,
    current: usize,
    size_hint: Option<usize>,
    positions: Vec<Option<usize>>,
    header_len: usize,
    file: String,
}

/// One record: checked UTF-8 text, or its bytes when some field is not (the
/// first contract column that is not, if any).
enum Record {
    Text(csv::StringRecord),
    Bytes(csv::ByteRecord, Option<usize>),
}

impl Record {
    fn position(&self) -> Option<&csv::Position> {
        match self {
            Record::Text(r) => r.position(),
            Record::Bytes(r, _) => r.position(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Record::Text(r) => r.len(),
            Record::Bytes(r, _) => r.len(),
        }
    }
}

/// Records per chunk handed from the reading thread, and chunks in flight.
const CHUNK_RECORDS: usize = 4096;
const CHUNKS_AHEAD: usize = 8;

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
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(input);
        let header = reader.byte_headers().map_err(|e| csv_error(file, e))?.clone();
        let names: Vec<String> = header.iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect();
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
            chunk: Vec::new(),
            current: 0,
            size_hint,
            positions: map.positions,
            header_len: names.len(),
            file: file.to_string(),
        };
        Ok((source, map.dropped))
    }

    fn record(&self) -> Option<&Record> {
        self.chunk.get(self.current)
    }
}

/// The reading thread: records in chunks until the end of the file, an
/// error, or the consumer going away; chunks coming back are refilled.
fn read_records(
    mut reader: csv::Reader<Box<dyn Read + Send>>,
    positions: &[Option<usize>],
    file: &str,
    send: SyncSender<Result<Vec<Record>, IngestError>>,
    recycled: Receiver<Vec<Record>>,
) {
    let mut spare: Vec<csv::ByteRecord> = Vec::new();
    loop {
        if let Ok(old) = recycled.try_recv() {
            spare.extend(old.into_iter().map(|r| match r {
                Record::Text(text) => text.into_byte_record(),
                Record::Bytes(bytes, _) => bytes,
            }));
        }
        let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
        let mut done = false;
        while chunk.len() < CHUNK_RECORDS {
            let mut bytes = spare.pop().unwrap_or_default();
            match reader.read_byte_record(&mut bytes) {
                Ok(true) => chunk.push(match csv::StringRecord::from_byte_record(bytes) {
                    Ok(text) => Record::Text(text),
                    Err(e) => {
                        let bytes = e.into_byte_record();
                        // Only contract fields are looked at, so a stray byte
                        // in a dropped column costs nothing.
                        let bad = positions.iter().enumerate().find_map(|(c, p)| {
                            let field = bytes.get((*p)?)?;
                            std::str::from_utf8(field).is_err().then_some(c)
                        });
                        Record::Bytes(bytes, bad)
                    }
                }),
                Ok(false) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    let _ = send.send(Err(csv_error(file, e)));
                    return;
                }
            }
        }
        if (!chunk.is_empty() && send.send(Ok(chunk)).is_err()) || done {
            return;
        }
    }
}

impl RowSource for CsvSource {
    fn advance(&mut self) -> Result<bool, IngestError> {
        if self.current + 1 < self.chunk.len() {
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
        self.record().and_then(Record::position).map_or(0, csv::Position::line)
    }

    fn field(&self, column: usize) -> Option<&str> {
        let i = self.positions[column]?;
        Some(match self.record() {
            Some(Record::Text(r)) => r.get(i).unwrap_or(""),
            Some(Record::Bytes(r, _)) => r.get(i).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or(""),
            None => "",
        })
    }

    fn bad_text(&self) -> Option<usize> {
        match self.record() {
            Some(Record::Bytes(_, bad)) => *bad,
            _ => None,
        }
    }

    fn shape_error(&self) -> Option<(usize, usize)> {
        let len = self.record().map_or(self.header_len, Record::len);
        (len != self.header_len).then_some((self.header_len, len))
    }

    fn size_hint(&self) -> Option<usize> {
        self.size_hint
    }
}

/// Names the line of a CSV error and says what is wrong, without any field text.
fn csv_error(file: &str, e: csv::Error) -> IngestError {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Io(io) => match io.get_ref().and_then(|inner| inner.downcast_ref::<UndecidedEncoding>()) {
            Some(undecided) => IngestError::UnknownEncoding { file: file.to_string(), detail: undecided.0.clone() },
            None => IngestError::Read { file: file.to_string(), detail: io.to_string() },
        },
        _ => IngestError::BadCsv { file: file.to_string(), line, detail: "the record cannot be parsed as CSV".to_string() },
    }
}

/// A Parquet export of a table, read batch by batch. Every contract column is
/// cast to text so the same validation applies as for CSV.
pub struct ParquetSource {
    stream: ParquetRecordBatchStream<ObjectParquetReader>,
    runtime: tokio::runtime::Handle,
    /// Per contract column: its position in the projected batch.
    positions: Vec<Option<usize>>,
    columns: Vec<Option<StringArray>>,
    rows_in_batch: usize,
    row: usize,
    rows_before: u64,
    total_rows: usize,
    file: String,
}

impl ParquetSource {
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        path: Path,
        size: u64,
        table: &Table,
        file: &str,
    ) -> Result<(ParquetSource, Vec<String>), IngestError> {
        let reader = ObjectParquetReader::new(store, path, size);
        let builder = ParquetRecordBatchStreamBuilder::new(reader).await.map_err(|e| parquet_error(file, e))?;
        let names: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
        let total_rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
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
            total_rows,
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
}

/// Contract values as the text a CSV export would hold (dates ISO, `.` money).
fn as_text(array: &ArrayRef) -> Result<StringArray, String> {
    let array = match array.data_type() {
        DataType::Timestamp(_, _) | DataType::Date64 => cast(array, &DataType::Date32).map_err(|e| e.to_string())?,
        DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(_, _) => {
            return Err("a nested type, where the contract expects a plain value".to_string());
        }
        _ => array.clone(),
    };
    let text = cast(&array, &DataType::Utf8).map_err(|e| e.to_string())?;
    Ok(text.as_any().downcast_ref::<StringArray>().expect("cast to Utf8 gives a StringArray").clone())
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
            let next = self.runtime.block_on(self.stream.next());
            match next {
                None => return Ok(false),
                Some(Err(e)) => return Err(parquet_error(&self.file, e)),
                Some(Ok(batch)) => {
                    self.load(&batch)?;
                    self.row = 0;
                    if self.rows_in_batch > 0 {
                        return Ok(true);
                    }
                }
            }
        }
    }

    fn line(&self) -> u64 {
        self.rows_before + self.row as u64 + 1
    }

    fn field(&self, column: usize) -> Option<&str> {
        self.columns[column].as_ref().map(|a| if a.is_null(self.row) { "" } else { a.value(self.row) })
    }

    fn shape_error(&self) -> Option<(usize, usize)> {
        None
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.total_rows)
    }
}

fn parquet_error(file: &str, e: parquet::errors::ParquetError) -> IngestError {
    IngestError::BadParquet { file: file.to_string(), detail: e.to_string() }
}
