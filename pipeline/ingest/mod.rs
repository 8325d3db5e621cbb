//! Ingest: a registry snapshot (CSV or Parquet, any folder or object-store
//! prefix) → validated, typed Parquet partitions of the warehouse, a rejects file
//! per table and the run's manifest.
//!
//! Ingest reads only the contract's columns and never writes a value of any
//! other column anywhere (file, log, error). It knows nothing of KPIs.

mod batch;
mod decode;
mod keys;
pub mod rejects;
mod source;
mod table;
mod untrusted;
mod validate;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::panic::AssertUnwindSafe;

use chrono::{DateTime, NaiveDate, Utc};
use futures::{FutureExt, StreamExt};
use object_store::ObjectMeta;
use object_store::buffered::BufReader;
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio_util::io::SyncIoBridge;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::contract::values::parse_iso_date;
use crate::contract::{Contract, RegionReference, Table};
use crate::stop::StopToken;
use crate::warehouse::{
    Location, Manifest, Missing, SourceFile, Stage, StagedFile, TableCounts, Warehouse, WarehouseError, layout,
};
use decode::{HashedRead, SNIFF_BYTES};
use source::{CsvSource, ParquetSource, RowSource};
use table::{Indexes, TableOutcome, TableSinks, load_table};

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("the snapshot date is unknown: folder {folder} is not named YYYY-MM-DD; give it with --as-of YYYY-MM-DD")]
    AsOfRequired { folder: String },
    #[error("snapshot {snapshot} has no file for table {table}: add {table}.csv or {table}.parquet to the export")]
    MissingFile { snapshot: String, table: String },
    #[error("snapshot {snapshot} holds {files} for table {table}: keep only one of them")]
    AmbiguousFile { snapshot: String, table: String, files: String },
    #[error("{file}: cannot be opened ({detail}); put the table's file itself in the snapshot folder")]
    UnreadableFile { file: String, detail: String },
    #[error("{file}: unknown encoding ({detail}); save the file as UTF-8 or windows-1251")]
    UnknownEncoding { file: String, detail: String },
    #[error("{file}: the file is empty; a CSV file needs at least its header row")]
    EmptyFile { file: String },
    #[error("{file}: required column {column} is missing from the header; add it (column names are in the first row)")]
    MissingColumn { file: String, column: String },
    #[error("{file}: column {column} appears twice in the header (columns {first} and {second}); keep one of them")]
    DuplicateColumn { file: String, column: String, first: usize, second: usize },
    #[error("{file}: not a readable Parquet file of the contract ({detail})")]
    BadParquet { file: String, detail: String },
    #[error(
        "{file}: the record starting at line {line} is longer than {limit_mib} MiB (an unclosed quote takes the rest of the file into one field); fix its quoting and export the file again"
    )]
    RecordTooLong { file: String, line: u64, limit_mib: usize },
    #[error("{file}: cannot be read ({detail})")]
    Read { file: String, detail: String },
    #[error("cannot write {what}: {detail}")]
    Write { what: String, detail: String },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("stopped on request (SIGTERM or SIGINT) before the snapshot was loaded; nothing was committed, run again")]
    Stopped,
    /// The Parquet encoding thread stopped; its own error is reported instead.
    #[error("the Parquet encoder stopped")]
    EncoderStopped,
}

impl IngestError {
    /// Errors in the input or the command line, which the user can fix.
    /// Every variant is listed, so a new one is classified on purpose.
    pub fn is_user_error(&self) -> bool {
        match self {
            IngestError::AsOfRequired { .. }
            | IngestError::MissingFile { .. }
            | IngestError::AmbiguousFile { .. }
            | IngestError::UnreadableFile { .. }
            | IngestError::UnknownEncoding { .. }
            | IngestError::EmptyFile { .. }
            | IngestError::MissingColumn { .. }
            | IngestError::DuplicateColumn { .. }
            | IngestError::RecordTooLong { .. }
            | IngestError::BadParquet { .. } => true,
            // The storage failed to deliver bytes: not the file's fault.
            IngestError::Read { .. }
            | IngestError::Write { .. }
            | IngestError::Internal(_)
            | IngestError::EncoderStopped
            | IngestError::Stopped => false,
            IngestError::Warehouse(e) => e.is_user_error(),
        }
    }
}

/// What to ingest (into the warehouse the caller opened and locked).
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// A local folder or object-store URL holding the snapshot's files.
    pub snapshot: String,
    /// The snapshot date; taken from the folder name when it is a date.
    pub as_of: Option<NaiveDate>,
}

/// A file of the snapshot, found for a table.
#[derive(Debug, Clone)]
enum Found {
    Csv(ObjectMeta),
    Parquet(ObjectMeta),
    Absent,
}

impl Found {
    fn name(&self) -> Option<String> {
        match self {
            Found::Csv(m) | Found::Parquet(m) => m.location.filename().map(str::to_string),
            Found::Absent => None,
        }
    }
}

/// The snapshot date: the flag, else the folder's name; `None` when neither
/// gives one.
pub fn snapshot_date(snapshot: &Location, flag: Option<NaiveDate>) -> Option<NaiveDate> {
    flag.or_else(|| folder_date(snapshot))
}

fn folder_date(snapshot: &Location) -> Option<NaiveDate> {
    snapshot.leaf_name().and_then(|n| parse_iso_date(&n))
}

/// The snapshot date, or why there is none; a flag that differs from the
/// folder's name is said once, here.
pub fn resolve_as_of(snapshot: &Location, flag: Option<NaiveDate>) -> Result<NaiveDate, IngestError> {
    if let (Some(flag), Some(name)) = (flag, folder_date(snapshot))
        && flag != name
    {
        warn!("--as-of {flag} differs from the snapshot folder's name {name}; using {flag}");
    }
    snapshot_date(snapshot, flag).ok_or_else(|| IngestError::AsOfRequired { folder: snapshot.to_string() })
}

/// Runs a whole ingest. Nothing in the warehouse changes unless it succeeds;
/// a stop request ends it at the next safe point with `IngestError::Stopped`.
pub async fn ingest(
    warehouse: &Warehouse,
    request: &IngestRequest,
    clock: &dyn Clock,
    stop: &StopToken,
) -> Result<Manifest, IngestError> {
    let started_at = clock.now();
    let contract = Contract::embedded();
    let snapshot = Location::open(&request.snapshot, Missing::Fail)?;
    let as_of = resolve_as_of(&snapshot, request.as_of)?;
    let found = find_files(&snapshot, contract).await?;
    info!("ingesting snapshot {snapshot} as of {as_of} into {}", warehouse.location());

    let run_id = layout::run_id(started_at, "ingest", Some(as_of));
    let mut stage = warehouse.begin(&run_id);
    let times = RunTimes { started_at, clock };
    // A panic (a bug) must not leave the staging area behind either.
    let staged = AssertUnwindSafe(stage_all(&snapshot, contract, &found, &mut stage, as_of, times, stop))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(IngestError::Internal("the ingest stopped on a panic; nothing was committed".into())));
    match staged {
        Ok(manifest) => {
            let outputs = stage.commit().await?;
            info!("ingest of {as_of} committed: {} files", outputs.len());
            Ok(manifest)
        }
        Err(e) => {
            stage.abort().await;
            Err(e)
        }
    }
}

/// The file of each table: `<table>.csv` or `<table>.parquet` (any case) at
/// the snapshot's top level; nothing below it is looked at. Two names for one
/// table (`members.csv` and `MEMBERS.CSV`, or a CSV and a Parquet file) are
/// refused rather than one picked, and so is a table's entry that cannot be
/// opened (a symlink to itself or to nothing).
async fn find_files(
    snapshot: &Location,
    contract: &'static Contract,
) -> Result<Vec<(&'static Table, Found)>, IngestError> {
    let listing = snapshot.list_top_level("").await?;
    let mut found = Vec::new();
    for table in contract.tables() {
        let has_ext = |name: &str, ext: &str| name.eq_ignore_ascii_case(&format!("{}.{ext}", table.name));
        let is_table_file = |name: &str| has_ext(name, "csv") || has_ext(name, "parquet");
        if let Some((name, detail)) = listing.unreadable.iter().find(|(name, _)| is_table_file(name)) {
            return Err(IngestError::UnreadableFile { file: name.clone(), detail: detail.clone() });
        }
        let mut files: Vec<(&str, &ObjectMeta)> = listing
            .files
            .iter()
            .filter_map(|m| m.location.filename().filter(|f| is_table_file(f)).map(|f| (f, m)))
            .collect();
        files.sort_unstable_by_key(|(name, _)| *name);
        let entry = match files.as_slice() {
            [] if table.required_file => {
                return Err(IngestError::MissingFile { snapshot: snapshot.to_string(), table: table.name.clone() });
            }
            [] => Found::Absent,
            [(name, meta)] if has_ext(name, "csv") => Found::Csv((*meta).clone()),
            [(_, meta)] => Found::Parquet((*meta).clone()),
            [..] => {
                return Err(IngestError::AmbiguousFile {
                    snapshot: snapshot.to_string(),
                    table: table.name.clone(),
                    files: files.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(" and "),
                });
            }
        };
        found.push((table, entry));
    }
    Ok(found)
}

/// Ingests every table into the staging area and stages the manifest.
async fn stage_all(
    snapshot: &Location,
    contract: &'static Contract,
    found: &[(&'static Table, Found)],
    stage: &mut Stage,
    as_of: NaiveDate,
    times: RunTimes<'_>,
    stop: &StopToken,
) -> Result<Manifest, IngestError> {
    let mut indexes = Indexes {
        region_codes: RegionReference::embedded().regions.iter().map(|r| r.region_code.clone()).collect(),
        ..Indexes::default()
    };
    let mut files = Vec::new();
    let mut tables = BTreeMap::new();
    let mut outputs = Vec::new();
    for (table, entry) in found {
        let data_path = layout::registry_file(&table.name, as_of);
        let rejects_path = layout::rejects_file(&table.name, as_of);
        let staged_data = stage.partition_file(&data_path);
        let staged_rejects = stage.partition_file(&rejects_path);
        outputs.push(data_path);
        outputs.push(rejects_path);

        let job = TableJob {
            table,
            entry: entry.clone(),
            snapshot: snapshot.clone(),
            target: stage.location().clone(),
            staged_data,
            staged_rejects,
            as_of,
            stop: stop.clone(),
        };
        let (outcome, source_file, dropped, back) = job.run(indexes).await?;
        indexes = back;
        if !dropped.is_empty() {
            info!("{}: dropped columns not in the contract: {}", table.name, dropped.join(", "));
        }
        tables.insert(
            table.name.clone(),
            TableCounts {
                source: entry.name(),
                rows_read: outcome.rows_read,
                rows_loaded: outcome.rows_loaded,
                rows_rejected: outcome.rows_rejected,
                dropped_columns: dropped,
                rejects_by_reason: outcome.rejects_by_reason,
            },
        );
        files.extend(source_file);
    }
    debug_assert_eq!(tables.len(), contract.tables().len());

    let manifest_path = layout::manifest_file(as_of);
    outputs.push(manifest_path.clone());
    let manifest = Manifest {
        engine: "reestr".to_string(),
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        as_of,
        snapshot: snapshot.to_string(),
        started_at: times.started_at,
        finished_at: times.clock.now(),
        files,
        tables,
        outputs,
        queries: Vec::new(),
    };
    let staged_manifest = stage.file(&manifest_path);
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| IngestError::Internal(e.to_string()))?;
    stage.location().write(&staged_manifest, text).await?;
    Ok(manifest)
}

/// When the run started, and the clock that says when it finished.
#[derive(Clone, Copy)]
struct RunTimes<'a> {
    started_at: DateTime<Utc>,
    clock: &'a dyn Clock,
}

/// One table's ingest. Parsing is synchronous, so it runs on a blocking thread.
struct TableJob {
    table: &'static Table,
    entry: Found,
    snapshot: Location,
    target: Location,
    staged_data: String,
    staged_rejects: String,
    as_of: NaiveDate,
    stop: StopToken,
}

type JobResult = (TableOutcome, Option<SourceFile>, Vec<String>, Indexes);

/// What the blocking part of a job writes to.
struct TableOutput {
    table: &'static Table,
    indexes: Indexes,
    target: Location,
    staged_data: String,
    staged_rejects: String,
    as_of: NaiveDate,
    stop: StopToken,
}

impl TableJob {
    async fn run(self, indexes: Indexes) -> Result<JobResult, IngestError> {
        let table = self.table;
        match self.entry.clone() {
            Found::Csv(meta) => {
                let store = self.snapshot.store().clone();
                self.on_blocking_thread(indexes, move |out| {
                    let file = meta.location.filename().unwrap_or_default().to_string();
                    let raw = SyncIoBridge::new(BufReader::with_capacity(store, &meta, 1 << 20));
                    let (mut hashed, digests) = HashedRead::new(raw);
                    let mut sample = Vec::with_capacity(SNIFF_BYTES);
                    (&mut hashed)
                        .take(SNIFF_BYTES as u64)
                        .read_to_end(&mut sample)
                        .map_err(|e| IngestError::Read { file: file.clone(), detail: e.to_string() })?;
                    if sample.is_empty() {
                        return Err(IngestError::EmptyFile { file });
                    }
                    let rows_estimate = decode::estimate_records(&sample, meta.size);
                    // A byte-order mark decides at once; otherwise the records do.
                    let bom = decode::byte_order_mark(&sample)
                        .map_err(|detail| IngestError::UnknownEncoding { file: file.clone(), detail })?;
                    let mut start = Cursor::new(sample);
                    start.set_position(if bom.is_some() { 3 } else { 0 });
                    let separator = decode::detect_separator(&start.get_ref()[start.position() as usize..]);
                    let input = Box::new(start.chain(hashed));
                    let (mut source, dropped) = CsvSource::open(input, separator, rows_estimate, table, &file, bom)?;
                    let outcome = out.write(&mut source, &file)?;
                    let (size, sha256) = digests.get();
                    let source_file = SourceFile {
                        table: table.name.clone(),
                        file,
                        format: "csv".to_string(),
                        encoding: Some(source.encoding().label().to_string()),
                        separator: Some((separator as char).to_string()),
                        size,
                        sha256,
                    };
                    Ok((outcome, Some(source_file), dropped))
                })
                .await
            }
            Found::Parquet(meta) => {
                let file = meta.location.filename().unwrap_or_default().to_string();
                let sha256 = sha256_of(&self.snapshot, &meta, &file).await?;
                let store = self.snapshot.store().clone();
                let (mut source, dropped) =
                    ParquetSource::open(store, meta.location.clone(), meta.size, table, &file).await?;
                let source_file = SourceFile {
                    table: table.name.clone(),
                    file: file.clone(),
                    format: "parquet".to_string(),
                    encoding: None,
                    separator: None,
                    size: meta.size,
                    sha256,
                };
                self.on_blocking_thread(indexes, move |out| {
                    let outcome = out.write(&mut source, &file)?;
                    Ok((outcome, Some(source_file), dropped))
                })
                .await
            }
            Found::Absent => {
                info!("{}: no file in the snapshot (optional table); loading it empty", table.name);
                self.on_blocking_thread(indexes, |out| Ok((out.write(&mut EmptySource, "")?, None, Vec::new()))).await
            }
        }
    }

    async fn on_blocking_thread<F>(self, indexes: Indexes, work: F) -> Result<JobResult, IngestError>
    where
        F: FnOnce(&mut TableOutput) -> Result<(TableOutcome, Option<SourceFile>, Vec<String>), IngestError>
            + Send
            + 'static,
    {
        let mut out = TableOutput {
            table: self.table,
            indexes,
            target: self.target,
            staged_data: self.staged_data,
            staged_rejects: self.staged_rejects,
            as_of: self.as_of,
            stop: self.stop,
        };
        tokio::task::spawn_blocking(move || {
            let (outcome, source_file, dropped) = work(&mut out)?;
            Ok((outcome, source_file, dropped, out.indexes))
        })
        .await
        .map_err(|e| IngestError::Internal(format!("ingest task failed: {e}")))?
    }
}

impl TableOutput {
    /// Loads a source into the staged Parquet and rejects files, aborting both
    /// uploads when anything fails.
    fn write<S: RowSource>(&mut self, source: &mut S, file: &str) -> Result<TableOutcome, IngestError> {
        let mut data = StagedFile::create(&self.target, &self.staged_data);
        let mut rejects = StagedFile::create(&self.target, &self.staged_rejects);
        let as_of = self.as_of.format("%Y-%m-%d").to_string();
        let sinks = TableSinks { data: &mut data, rejected: &mut rejects };
        match load_table(self.table, source, file, &mut self.indexes, sinks, &as_of, &self.stop) {
            Ok(outcome) => {
                let finish = |f: StagedFile, what: &str| {
                    f.finish().map_err(|e| IngestError::Write { what: what.to_string(), detail: e.to_string() })
                };
                finish(data, &self.staged_data)?;
                finish(rejects, &self.staged_rejects)?;
                Ok(outcome)
            }
            Err(e) => {
                data.abort();
                rejects.abort();
                Err(e)
            }
        }
    }
}

async fn sha256_of(location: &Location, meta: &ObjectMeta, file: &str) -> Result<String, IngestError> {
    use object_store::ObjectStoreExt;
    let read_err = |e: object_store::Error| IngestError::Read { file: file.to_string(), detail: e.to_string() };
    let mut stream = location.store().get(&meta.location).await.map_err(read_err)?.into_stream();
    let mut hasher = Sha256::new();
    while let Some(chunk) = stream.next().await {
        hasher.update(&chunk.map_err(read_err)?);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The source of an optional table the snapshot does not have.
struct EmptySource;

impl RowSource for EmptySource {
    fn advance(&mut self) -> Result<bool, IngestError> {
        Ok(false)
    }
    fn line(&self) -> u64 {
        0
    }
    fn field(&self, _: usize) -> Option<&str> {
        None
    }
    fn shape_error(&self) -> Option<(usize, usize)> {
        None
    }
}
