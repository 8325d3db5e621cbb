//! Loads one table: every record of its source is parsed, checked for duplicates
//! and references, and either appended to the table's Parquet file or written to
//! its rejects file. Streams, except for a table that references itself
//! (organizations → parent), which is small and is resolved in memory.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use tracing::info;

use super::IngestError;
use super::batch::{BATCH_ROWS, BatchBuilder, parquet_writer};
use super::keys::{KeyIndex, key_hash};
use super::rejects::{self, Reject, RejectWriter};
use super::source::RowSource;
use super::validate::{ParsedRow, parse_row, record_id};
use std::borrow::Cow;

use crate::contract::values::{normalize_region_code, parse_date};
use crate::contract::{Column, ColumnType, Table};

/// Ids loaded so far, per table, for the referential checks of later tables.
#[derive(Debug, Default)]
pub struct Indexes {
    pub tables: HashMap<String, KeyIndex>,
    pub region_codes: HashSet<String>,
}

#[derive(Debug, Default, Clone)]
pub struct TableOutcome {
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    pub rejects_by_reason: std::collections::BTreeMap<String, u64>,
}

/// Logs progress a person can follow: rows so far and the rate.
struct Progress {
    table: &'static str,
    started: Instant,
    last: Instant,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(2);

    fn new(table: &'static str) -> Progress {
        let now = Instant::now();
        Progress { table, started: now, last: now }
    }

    fn tick(&mut self, rows: u64) {
        if rows.is_multiple_of(4096) && self.last.elapsed() >= Self::EVERY {
            self.last = Instant::now();
            info!("{}: {} rows read ({}/s)", self.table, rows, rate(rows, self.started.elapsed()));
        }
    }
}

pub fn rate(rows: u64, elapsed: Duration) -> u64 {
    (rows as f64 / elapsed.as_secs_f64().max(1e-3)) as u64
}

/// Loads `source` into `data` (Parquet) and `rejected` (CSV). The outputs stay
/// the caller's, so a failed load can abort them. Finished batches are encoded
/// (Parquet, zstd) on a thread of their own while the next rows are checked.
pub fn load_table(
    table: &'static Table,
    source: &mut dyn RowSource,
    file: &str,
    indexes: &mut Indexes,
    data: &mut (dyn Write + Send),
    rejected: &mut (dyn Write + Send),
    as_of: &str,
) -> Result<TableOutcome, IngestError> {
    let parquet_err =
        |e: parquet::errors::ParquetError| IngestError::Write { what: format!("{}.parquet", table.name), detail: e.to_string() };
    let schema = BatchBuilder::new(table).schema();
    std::thread::scope(|scope| {
        let (batches, received) = sync_channel::<RecordBatch>(2);
        let encoder = std::thread::Builder::new()
            .name(format!("encode {}", table.name))
            .spawn_scoped(scope, move || -> parquet::errors::Result<()> {
                let mut writer = parquet_writer(data, schema, as_of)?;
                for batch in received {
                    writer.write(&batch)?;
                }
                writer.close()?;
                Ok(())
            })
            .map_err(|e| IngestError::Internal(format!("cannot start the Parquet encoder: {e}")))?;
        let loaded = load_rows(table, source, file, indexes, rejected, &batches);
        drop(batches);
        let encoded = encoder.join().unwrap_or_else(|_| Err(parquet::errors::ParquetError::General("the encoder panicked".into())));
        match (loaded, encoded) {
            // The encoder's own error says more than "it stopped".
            (Err(IngestError::EncoderStopped), Err(e)) | (Ok(_), Err(e)) => Err(parquet_err(e)),
            (Err(e), _) => Err(e),
            (Ok(outcome), Ok(())) => Ok(outcome),
        }
    })
}

/// The rows of `source`, checked: loaded ones sent to the encoder in
/// batches, rejected ones written to `rejected`.
fn load_rows(
    table: &'static Table,
    source: &mut dyn RowSource,
    file: &str,
    indexes: &mut Indexes,
    rejected: &mut (dyn Write + Send),
    batches: &SyncSender<RecordBatch>,
) -> Result<TableOutcome, IngestError> {
    let write_err = |e: std::io::Error| IngestError::Write { what: format!("{} output", table.name), detail: e.to_string() };
    let send = |batch: RecordBatch| batches.send(batch).map_err(|_| IngestError::EncoderStopped);

    let mut batch = BatchBuilder::new(table);
    let mut rejects = RejectWriter::new(rejected, file).map_err(write_err)?;
    let mut own = if table.key.is_empty() { KeyIndex::default() } else { KeyIndex::with_capacity(source.size_hint().unwrap_or(0)) };
    let mut outcome = TableOutcome::default();
    let mut row = ParsedRow::default();
    let mut progress = Progress::new(&table.name);
    // Rows of a self-referencing table, held until every id is known.
    let mut held: Vec<(ParsedRow, String)> = Vec::new();
    let hold = table.self_referencing();

    while source.advance()? {
        outcome.rows_read += 1;
        progress.tick(outcome.rows_read);
        if outcome.rows_read.is_multiple_of(4096) && crate::nightly::stop::requested() {
            return Err(IngestError::Interrupted);
        }
        match check(table, &*source, &mut row, &mut own, indexes) {
            Ok(key) => {
                if let Some(key) = key {
                    own.mark_loaded(key);
                }
                if hold {
                    held.push((row.clone(), record_id(table, &*source)));
                } else {
                    batch.append(&row);
                    outcome.rows_loaded += 1;
                    if batch.len() >= BATCH_ROWS {
                        send(batch.finish())?;
                    }
                }
            }
            Err(reject) => {
                outcome.rows_rejected += 1;
                rejects.write(source.line(), &record_id(table, &*source), &reject).map_err(write_err)?;
            }
        }
    }

    if hold {
        for (row, id, reject) in resolve_self_references(table, &mut held, &mut own) {
            outcome.rows_rejected += 1;
            rejects.write(row.line, &id, &reject).map_err(write_err)?;
        }
        for (row, _) in &held {
            batch.append(row);
            outcome.rows_loaded += 1;
            if batch.len() >= BATCH_ROWS {
                send(batch.finish())?;
            }
        }
    }
    if !batch.is_empty() {
        send(batch.finish())?;
    }
    let (_, by_reason) = rejects.finish().map_err(write_err)?;
    outcome.rejects_by_reason = by_reason;

    let elapsed = progress.started.elapsed();
    info!(
        "{}: {} rows read, {} loaded, {} rejected in {:.1} s ({}/s)",
        table.name,
        outcome.rows_read,
        outcome.rows_loaded,
        outcome.rows_rejected,
        elapsed.as_secs_f64(),
        rate(outcome.rows_read, elapsed)
    );
    if !table.key.is_empty() {
        indexes.tables.insert(table.name.clone(), own);
    }
    Ok(outcome)
}

/// Format, duplicate and reference checks of the current record. Returns the
/// row's key hash when the table has a key.
fn check(
    table: &'static Table,
    source: &dyn RowSource,
    row: &mut ParsedRow,
    own: &mut KeyIndex,
    indexes: &Indexes,
) -> Result<Option<u128>, Reject> {
    let key = claim_key(table, source, own)?;
    parse_row(table, source, row)?;
    for (index, column) in table.columns.iter().enumerate() {
        let (Some(reference), Some(value)) = (&column.references, row.text(index)) else { continue };
        let known = if reference.table == "reference.regions" {
            indexes.region_codes.contains(value)
        } else if reference.table == table.name {
            true // resolved once the whole table is read
        } else {
            indexes.tables.get(&reference.table).is_some_and(|ix| ix.is_loaded(key_hash(&[value])))
        };
        if !known {
            let reason: &'static str = &reference.reason;
            return Err(Reject::new(Some(&column.name), reason, value).with("title", column.title.clone()));
        }
    }
    Ok(key)
}

/// The contract: of the rows with one id, the first is the one (even when it
/// is rejected for another reason); every later one is a duplicate. A row
/// whose fields do not line up with the header, or whose key is empty, claims
/// nothing.
fn claim_key(table: &'static Table, source: &dyn RowSource, own: &mut KeyIndex) -> Result<Option<u128>, Reject> {
    if table.key_indices().is_empty() || source.shape_error().is_some() {
        return Ok(None);
    }
    let mut parts: Vec<Cow<'_, str>> = Vec::with_capacity(table.key_indices().len());
    for &c in table.key_indices() {
        let raw = source.field(c).unwrap_or("").trim();
        if raw.is_empty() {
            return Ok(None);
        }
        parts.push(key_part(&table.columns[c], raw));
    }
    let refs: Vec<&str> = parts.iter().map(|p| p.as_ref()).collect();
    let hash = key_hash(&refs);
    match own.first_seen(hash, source.line()) {
        Ok(()) => Ok(Some(hash)),
        Err(first_line) => {
            let column = &table.columns[table.key_indices()[0]];
            Err(Reject::new(Some(&column.name), rejects::DUPLICATE_ID, &record_id(table, source))
                .with("first_line", first_line.to_string()))
        }
    }
}

/// A key value as the loaded row will hold it (`01.01.2023` = `2023-01-01`,
/// region `1` = `01`), so spelling variants of one id are one id.
fn key_part<'a>(column: &Column, raw: &'a str) -> Cow<'a, str> {
    let normalized = match column.kind {
        ColumnType::Date => parse_date(raw).map(|d| d.to_string()),
        ColumnType::RegionCode => normalize_region_code(raw),
        ColumnType::Enum => column.canonical_enum(raw).map(str::to_string),
        _ => None,
    };
    normalized.map_or(Cow::Borrowed(raw), Cow::Owned)
}

/// Rejects held rows whose reference into their own table points to a row not
/// loaded — repeatedly, since rejecting a parent orphans its children.
fn resolve_self_references(
    table: &'static Table,
    held: &mut Vec<(ParsedRow, String)>,
    own: &mut KeyIndex,
) -> Vec<(ParsedRow, String, Reject)> {
    let key_column = table.key_indices()[0];
    let self_refs: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.references.as_ref().is_some_and(|r| r.table == table.name))
        .map(|(i, _)| i)
        .collect();
    let mut rejected = Vec::new();
    loop {
        let mut keep = Vec::with_capacity(held.len());
        let before = rejected.len();
        for (row, id) in held.drain(..) {
            let orphan = self_refs.iter().find_map(|&c| {
                let value = row.text(c)?;
                (!own.is_loaded(key_hash(&[value]))).then(|| (c, value.to_string()))
            });
            match orphan {
                None => keep.push((row, id)),
                Some((c, value)) => {
                    let column = &table.columns[c];
                    if let Some(key) = row.text(key_column) {
                        own.unmark_loaded(key_hash(&[key]));
                    }
                    let reason: &'static str = &column.references.as_ref().expect("self reference").reason;
                    let reject = Reject::new(Some(&column.name), reason, &value).with("title", column.title.clone());
                    rejected.push((row, id, reject));
                }
            }
        }
        *held = keep;
        if rejected.len() == before {
            break;
        }
    }
    // Every chain must end at an organization without a parent (a regional
    // one). What never gets there is a cycle, or hangs from one.
    let key_of = |row: &ParsedRow| row.text(key_column).map(|k| key_hash(&[k]));
    let parents_of = |row: &ParsedRow| self_refs.iter().filter_map(|&c| row.text(c).map(|v| key_hash(&[v]))).collect::<Vec<_>>();
    let mut rooted: HashSet<u128> = held.iter().filter(|(r, _)| parents_of(r).is_empty()).filter_map(|(r, _)| key_of(r)).collect();
    loop {
        let before = rooted.len();
        for (row, _) in held.iter() {
            if let Some(key) = key_of(row)
                && !rooted.contains(&key) && parents_of(row).iter().all(|p| rooted.contains(p)) {
                    rooted.insert(key);
                }
        }
        if rooted.len() == before {
            break;
        }
    }
    let (keep, cyclic): (Vec<_>, Vec<_>) =
        held.drain(..).partition(|(row, _)| key_of(row).is_some_and(|k| rooted.contains(&k)));
    *held = keep;
    for (row, id) in cyclic {
        if let Some(key) = key_of(&row) {
            own.unmark_loaded(key);
        }
        let c = self_refs[0];
        let column = &table.columns[c];
        let value = row.text(c).unwrap_or_default().to_string();
        let reject = Reject::new(Some(&column.name), rejects::PARENT_CYCLE, &value).with("title", column.title.clone());
        rejected.push((row, id, reject));
    }
    rejected.sort_by_key(|(row, _, _)| row.line);
    rejected
}
