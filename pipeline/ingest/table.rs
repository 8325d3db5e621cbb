//! Loads one table: every record of its source is parsed, checked for duplicates
//! and references, and either appended to the table's Parquet file or written to
//! its rejects file. Streams, except for a table that references itself
//! (organizations → parent), which is small and is resolved in memory.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use tracing::info;

use super::IngestError;
use super::batch::{BATCH_ROWS, BatchBuilder, FilledBatch, parquet_writer};
use super::keys::{Claim, KEY_SEPARATOR, KeyIndex, key_hash};
use super::rejects::{self, Reject, RejectWriter};
use super::source::RowSource;
use super::validate::{Rejected, parse_row, record_id, trim};

use crate::contract::values::{normalize_region_code, parse_date};
use crate::contract::{Column, ColumnType, Table};
use crate::stop::StopToken;

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

/// Where a table's rows go: the loaded ones (Parquet) and the rejected ones
/// (CSV). The outputs stay the caller's, so a failed load can abort them.
pub struct TableSinks<'a> {
    pub data: &'a mut (dyn Write + Send),
    pub rejected: &'a mut (dyn Write + Send),
}

/// Loads `source` into its sinks.
///
/// Two threads share the work: this one parses and checks the rows, a block
/// at a time; the other settles each block (claims its ids, writes its
/// rejects in line order, drops its duplicates) and encodes its rows
/// (Parquet, zstd) while the next block is checked. A table that refers to
/// itself is settled here instead: its rows are held until every id is known.
pub fn load_table<S: RowSource + ?Sized>(
    table: &'static Table,
    source: &mut S,
    file: &str,
    indexes: &mut Indexes,
    sinks: TableSinks<'_>,
    as_of: &str,
    stop: &StopToken,
) -> Result<TableOutcome, IngestError> {
    let started = Instant::now();
    let TableSinks { data, rejected } = sinks;
    let settler = Settler {
        table,
        own: if table.key.is_empty() {
            KeyIndex::default()
        } else {
            KeyIndex::with_capacity(source.size_hint().unwrap_or(0))
        },
        rejects: RejectWriter::new(rejected, file).map_err(|e| rejects_error(table, e))?,
        rows_loaded: 0,
        rows_rejected: 0,
    };
    let hold = table.self_referencing();
    let (rows_read, settler) = std::thread::scope(|scope| {
        let (work, received) = sync_channel::<Work>(2);
        let (spent, to_refill) = sync_channel::<Spent>(4);
        let (mut here, there) = if hold { (Some(settler), None) } else { (None, Some(settler)) };
        let encoder = std::thread::Builder::new()
            .name(format!("encode {}", table.name))
            .spawn_scoped(scope, move || encode(table, data, as_of, received, spent, there))
            .map_err(|e| IngestError::Internal(format!("cannot start the Parquet encoder: {e}")))?;
        let read = read_rows(table, source, indexes, here.as_mut(), &work, &to_refill, stop);
        drop(work);
        let encoded =
            encoder.join().unwrap_or_else(|_| Err(IngestError::Internal("the Parquet encoder panicked".into())));
        match (read, encoded) {
            // The encoder's own error says more than "it stopped".
            (Err(IngestError::EncoderStopped), Err(e)) | (Ok(_), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
            (Ok(rows_read), Ok(there)) => Ok((rows_read, here.or(there).expect("one of the threads settles"))),
        }
    })?;

    let Settler { own, rejects, rows_loaded, rows_rejected, .. } = settler;
    let (_, rejects_by_reason) = rejects.finish().map_err(|e| rejects_error(table, e))?;
    let outcome = TableOutcome { rows_read, rows_loaded, rows_rejected, rejects_by_reason };
    let elapsed = started.elapsed();
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

fn rejects_error(table: &Table, e: impl std::fmt::Display) -> IngestError {
    IngestError::Write { what: format!("{} rejects", table.name), detail: e.to_string() }
}

/// A block of rows for the encoding thread: to settle (unless this thread
/// did), then to encode.
struct Work {
    block: Option<Block>,
    batch: Option<Rows>,
}

/// Buffers the encoding thread is done with, back to be filled again:
/// fresh memory for every block cost more in page faults than the work.
enum Spent {
    Batch(FilledBatch),
    Block(Block),
}

/// Rows to encode: as filled by the checks, or already a batch.
enum Rows {
    Filled(FilledBatch),
    Ready(RecordBatch),
}

impl Rows {
    /// The batch; filled buffers go back to `spent` to be filled again.
    fn into_batch(self, spent: Option<&SyncSender<Spent>>) -> Result<RecordBatch, IngestError> {
        match self {
            Rows::Filled(filled) => {
                let batch = filled
                    .to_batch()
                    .map_err(|e| IngestError::Internal(format!("cannot assemble a batch of rows: {e}")))?;
                if let Some(spent) = spent {
                    let _ = spent.try_send(Spent::Batch(filled));
                }
                Ok(batch)
            }
            Rows::Ready(batch) => Ok(batch),
        }
    }
}

/// The encoding thread: settles the blocks it is given a settler for, and
/// writes the rows that stay. Hands the settler back at the end.
fn encode<'w>(
    table: &'static Table,
    data: &mut (dyn Write + Send),
    as_of: &str,
    received: Receiver<Work>,
    spent: SyncSender<Spent>,
    mut settler: Option<Settler<'w>>,
) -> Result<Option<Settler<'w>>, IngestError> {
    let parquet_err = |e: parquet::errors::ParquetError| IngestError::Write {
        what: format!("{}.parquet", table.name),
        detail: e.to_string(),
    };
    let mut writer = parquet_writer(data, table, as_of).map_err(parquet_err)?;
    for Work { block, batch } in received {
        let batch = batch.map(|rows| rows.into_batch(Some(&spent))).transpose()?;
        let batch = match (settler.as_mut(), block) {
            (Some(settler), Some(mut block)) => {
                let batch = settler.settle_batch(&block, batch)?;
                block.clear();
                let _ = spent.try_send(Spent::Block(block));
                batch
            }
            _ => batch,
        };
        if let Some(batch) = batch {
            writer.write(&batch).map_err(parquet_err)?;
        }
    }
    writer.close().map_err(parquet_err)?;
    Ok(settler)
}

/// Parses and checks every row of `source`, a block at a time, handing the
/// blocks on (or settling them here, with `here`). Returns the rows read.
fn read_rows<S: RowSource + ?Sized>(
    table: &'static Table,
    source: &mut S,
    indexes: &Indexes,
    mut here: Option<&mut Settler<'_>>,
    work: &SyncSender<Work>,
    to_refill: &Receiver<Spent>,
    stop: &StopToken,
) -> Result<u64, IngestError> {
    let mut batch = BatchBuilder::new(table);
    let mut block = Block::default();
    // A self-referencing table's rows stay in memory until every id is known.
    let mut held = Held::default();
    let self_refs = self_references(table);
    let mut key_text = String::new();
    let mut rows_read = 0u64;
    let mut progress = Progress::new(&table.name);
    let mut references = reference_targets(table, indexes);
    let hold = here.is_some();

    let mut end_block = |block: &mut Block, batch: &mut BatchBuilder, held: &mut Held| match here.as_deref_mut() {
        Some(settler) => held.settle_block(settler, block, batch),
        None => hand_on(block, batch, work, to_refill),
    };

    while source.advance()? {
        rows_read += 1;
        progress.tick(rows_read);
        if rows_read.is_multiple_of(4096) && stop.requested() {
            return Err(IngestError::Stopped);
        }
        let index = block.rows.len() as u32;
        let line = source.line();
        let key = claimed_key(table, &*source, &mut key_text, &mut block.ids);
        let checked = check(table, &*source, &mut batch, &mut references);
        if let Some(key) = key {
            block.claims.push(Claim { key, line, loaded: checked.is_ok(), row: index });
        }
        let verdict = match checked {
            Ok(()) => {
                if hold {
                    held.rows.push(HeldRow::new(table, &batch, line, record_id(table, &*source), &self_refs));
                }
                batch.commit_row();
                Verdict::Accepted
            }
            Err(reject) => {
                block.rejects.push((record_id(table, &*source), reject));
                Verdict::Rejected(block.rejects.len() as u32 - 1)
            }
        };
        let id_end = block.ids.len() as u32;
        block.rows.push(RowState { line, id_end, verdict });
        if block.rows.len() >= BATCH_ROWS {
            end_block(&mut block, &mut batch, &mut held)?;
        }
    }
    if !block.rows.is_empty() {
        end_block(&mut block, &mut batch, &mut held)?;
    }

    if let Some(settler) = here {
        held.load(table, settler, work, stop)?;
    }
    Ok(rows_read)
}

fn send(work: &SyncSender<Work>, work_item: Work) -> Result<(), IngestError> {
    work.send(work_item).map_err(|_| IngestError::EncoderStopped)
}

/// Hands a full block and its rows to the encoding thread, in buffers it has
/// finished with where there are some.
fn hand_on(
    block: &mut Block,
    batch: &mut BatchBuilder,
    work: &SyncSender<Work>,
    to_refill: &Receiver<Spent>,
) -> Result<(), IngestError> {
    let mut fresh = Block::default();
    while let Ok(spent) = to_refill.try_recv() {
        match spent {
            Spent::Batch(filled) => batch.reuse(filled),
            Spent::Block(spent) => fresh = spent,
        }
    }
    send(
        work,
        Work {
            block: Some(std::mem::replace(block, fresh)),
            batch: (!batch.is_empty()).then(|| Rows::Filled(batch.finish())),
        },
    )
}

/// The accepted rows of a self-referencing table, held until every id is
/// known: what their parent checks need, and their batches.
#[derive(Default)]
struct Held {
    rows: Vec<HeldRow>,
    batches: Vec<RecordBatch>,
}

impl Held {
    /// Settles a full block here: its duplicates leave the held rows, and its
    /// batch is kept without them.
    fn settle_block(
        &mut self,
        settler: &mut Settler<'_>,
        block: &mut Block,
        batch: &mut BatchBuilder,
    ) -> Result<(), IngestError> {
        let (dropped, accepted) = settler.settle_rows(block)?;
        let start = self.rows.len() - accepted;
        let mut at = 0;
        let mut dropping = dropped.iter().copied().peekable();
        let tail = self.rows.split_off(start);
        self.rows.extend(tail.into_iter().filter(|_| {
            let drop = dropping.next_if_eq(&at).is_some();
            at += 1;
            !drop
        }));
        if !batch.is_empty() {
            self.batches.push(without_rows(Rows::Filled(batch.finish()).into_batch(None)?, &dropped)?);
        }
        block.clear();
        Ok(())
    }

    /// Once the whole table is read: rejects the rows whose parents are not
    /// loaded, and hands the rest on to be encoded.
    fn load(
        self,
        table: &'static Table,
        settler: &mut Settler<'_>,
        work: &SyncSender<Work>,
        stop: &StopToken,
    ) -> Result<(), IngestError> {
        let Resolution { keep, rejected, visits } = resolve_self_references(table, &self.rows, &mut settler.own, stop)?;
        tracing::debug!("{}: parents resolved in {visits} visits of {} rows", table.name, self.rows.len());
        for (line, id, reject) in rejected {
            settler.reject(line, &id, &reject)?;
        }
        let mut from = 0;
        for batch in self.batches {
            let rows = &keep[from..from + batch.num_rows()];
            from += batch.num_rows();
            settler.rows_loaded += rows.iter().filter(|k| **k).count() as u64;
            let dropped: Vec<usize> = rows.iter().enumerate().filter(|(_, k)| !**k).map(|(i, _)| i).collect();
            send(work, Work { block: None, batch: Some(Rows::Ready(without_rows(batch, &dropped)?)) })?;
        }
        Ok(())
    }
}

/// Rows read but not settled yet. Their ids are claimed together when the
/// block is full (in hash order, see `keys.rs`); only then is each row known
/// to be loaded, a duplicate, or rejected for what its checks found.
#[derive(Default)]
struct Block {
    rows: Vec<RowState>,
    claims: Vec<Claim>,
    /// The record ids of the rows that claim one, one after another.
    ids: String,
    /// Rows rejected by their own checks: record id and why.
    rejects: Vec<(String, Rejected)>,
}

impl Block {
    fn clear(&mut self) {
        self.rows.clear();
        self.claims.clear();
        self.ids.clear();
        self.rejects.clear();
    }
}

struct RowState {
    line: u64,
    /// Where the row's record id ends in `Block::ids` (it starts where the
    /// previous row's ends).
    id_end: u32,
    verdict: Verdict,
}

enum Verdict {
    /// Appended to the batch (or held): the next accepted row of the block.
    Accepted,
    Rejected(u32),
}

/// Settles blocks in the order of the file: owns the table's id set and its
/// rejects file, and counts.
struct Settler<'w> {
    table: &'static Table,
    own: KeyIndex,
    rejects: RejectWriter<&'w mut (dyn Write + Send)>,
    rows_loaded: u64,
    rows_rejected: u64,
}

impl Settler<'_> {
    fn reject(&mut self, line: u64, id: &str, reject: &Reject) -> Result<(), IngestError> {
        self.rows_rejected += 1;
        self.rejects.write(line, id, reject).map_err(|e| rejects_error(self.table, e))
    }

    /// Claims the block's ids and writes its rejects in line order. Returns
    /// the accepted rows that are duplicates after all (by their place among
    /// the block's accepted rows), and how many rows the block accepted.
    fn settle_rows(&mut self, block: &Block) -> Result<(Vec<usize>, usize), IngestError> {
        let duplicates = self.own.claim_all(&block.claims);
        let mut duplicates = duplicates.into_iter().peekable();
        let mut dropped = Vec::new();
        let mut accepted = 0usize;
        let mut id_start = 0usize;
        for (index, row) in block.rows.iter().enumerate() {
            let id = &block.ids[id_start..row.id_end as usize];
            id_start = row.id_end as usize;
            let first_line = duplicates.next_if(|&(r, _)| r as usize == index).map(|(_, first)| first);
            let was_accepted = matches!(row.verdict, Verdict::Accepted);
            match (first_line, &row.verdict) {
                (Some(first_line), _) => {
                    // The contract: every later row of an id is a duplicate,
                    // whatever else is wrong with it.
                    if was_accepted {
                        dropped.push(accepted);
                    }
                    let column = &self.table.columns[self.table.key_indices()[0]];
                    let reject =
                        Reject::new(Some(column), rejects::DUPLICATE_ID, id).with("first_line", first_line.to_string());
                    self.reject(row.line, id, &reject)?;
                }
                (None, Verdict::Rejected(i)) => {
                    let (id, reject) = &block.rejects[*i as usize];
                    self.reject(row.line, id, reject)?;
                }
                (None, Verdict::Accepted) => {}
            }
            if was_accepted {
                accepted += 1;
            }
        }
        Ok((dropped, accepted))
    }

    /// Settles a block whose accepted rows are `batch`, and returns the rows to load.
    fn settle_batch(&mut self, block: &Block, batch: Option<RecordBatch>) -> Result<Option<RecordBatch>, IngestError> {
        let (dropped, accepted) = self.settle_rows(block)?;
        self.rows_loaded += (accepted - dropped.len()) as u64;
        batch.map(|batch| without_rows(batch, &dropped)).transpose()
    }
}

/// `batch` without the rows at `dropped` (ascending).
fn without_rows(batch: RecordBatch, dropped: &[usize]) -> Result<RecordBatch, IngestError> {
    if dropped.is_empty() {
        return Ok(batch);
    }
    let mut keep = vec![true; batch.num_rows()];
    for &i in dropped {
        keep[i] = false;
    }
    arrow::compute::filter_record_batch(&batch, &arrow::array::BooleanArray::from(keep))
        .map_err(|e| IngestError::Internal(format!("cannot drop rejected rows: {e}")))
}

/// Format and reference checks of the current record.
fn check<S: RowSource + ?Sized>(
    table: &'static Table,
    source: &S,
    out: &mut BatchBuilder,
    references: &mut [Reference<'_>],
) -> Result<(), Rejected> {
    let checked = parse_row(table, source, out).and_then(|()| check_references(table, out, references));
    if checked.is_err() {
        out.rollback_row();
    }
    checked
}

/// The reference checks of the row being filled in `out`.
fn check_references(
    table: &'static Table,
    out: &BatchBuilder,
    references: &mut [Reference<'_>],
) -> Result<(), Rejected> {
    for reference in references.iter_mut() {
        let index = reference.column;
        let Some(value) = out.text(index) else { continue };
        // Exports list the rows of one organization together: the answer
        // for the previous row's value is usually the answer.
        let known = if reference.last.as_deref() == Some(value) {
            reference.last_known
        } else {
            let known = match reference.target {
                Target::Regions(codes) => codes.contains(value),
                Target::Own => true, // resolved once the whole table is read
                Target::Table(ids) => ids.is_some_and(|ids| ids.is_loaded(key_hash(value))),
            };
            let last = reference.last.get_or_insert_with(String::new);
            last.clear();
            last.push_str(value);
            reference.last_known = known;
            known
        };
        if !known {
            let column = &table.columns[index];
            let reason: &'static str = &column.references.as_ref().expect("a reference column").reason;
            return Err(Box::new(Reject::new(Some(column), reason, value).with("title", column.title.clone())));
        }
    }
    Ok(())
}

/// What a reference column's values must be found in.
#[derive(Clone, Copy)]
enum Target<'a> {
    Regions(&'a HashSet<String>),
    /// The table itself (an organization's parent).
    Own,
    /// The ids loaded from a table read before (none when it is not known).
    Table(Option<&'a KeyIndex>),
}

/// A reference column, its target looked up once, and the last value checked.
struct Reference<'a> {
    column: usize,
    target: Target<'a>,
    last: Option<String>,
    last_known: bool,
}

/// The table's reference columns and their targets.
fn reference_targets<'a>(table: &Table, indexes: &'a Indexes) -> Vec<Reference<'a>> {
    let targets = table.columns.iter().enumerate().filter_map(|(column, spec)| {
        let reference = spec.references.as_ref()?;
        let target = if reference.table == "reference.regions" {
            Target::Regions(&indexes.region_codes)
        } else if reference.table == table.name {
            Target::Own
        } else {
            Target::Table(indexes.tables.get(&reference.table))
        };
        Some(Reference { column, target, last: None, last_known: false })
    });
    targets.collect()
}

/// The hash of the record's id, and its text (as the rejects file names it)
/// appended to `ids`. The contract: of the rows with one id, the first is the
/// one (even when it is rejected for another reason). A row whose fields do
/// not line up with the header, or whose key is empty, claims nothing.
fn claimed_key<S: RowSource + ?Sized>(
    table: &'static Table,
    source: &S,
    scratch: &mut String,
    ids: &mut String,
) -> Option<u128> {
    let columns = table.key_indices();
    if columns.is_empty() || source.shape_error().is_some() {
        return None;
    }
    let start = ids.len();
    scratch.clear();
    for (i, &c) in columns.iter().enumerate() {
        let raw = trim(source.field(c).unwrap_or(""));
        if raw.is_empty() {
            ids.truncate(start);
            return None;
        }
        if i > 0 {
            ids.push('/');
            scratch.push(KEY_SEPARATOR);
        }
        ids.push_str(raw);
        scratch.push_str(&key_part(&table.columns[c], raw));
    }
    Some(key_hash(scratch))
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

/// A row of a self-referencing table, loaded into its batch but not yet
/// known to stay: what the check of its parents needs.
struct HeldRow {
    line: u64,
    key: Option<u128>,
    id: Box<str>,
    /// Column, hash and text of each reference into the table itself.
    parents: Box<[(usize, u128, Box<str>)]>,
}

impl HeldRow {
    /// The held row of the row being filled in `out`.
    fn new(table: &Table, out: &BatchBuilder, line: u64, id: String, self_refs: &[usize]) -> HeldRow {
        let key = out.text(table.key_indices()[0]).map(key_hash);
        let parents = self_refs.iter().filter_map(|&c| out.text(c).map(|v| (c, key_hash(v), v.into()))).collect();
        HeldRow { line, key, id: id.into(), parents }
    }
}

/// The columns of a table that refer to the table itself.
fn self_references(table: &Table) -> Vec<usize> {
    let columns = table.columns.iter().enumerate();
    columns.filter(|(_, c)| c.references.as_ref().is_some_and(|r| r.table == table.name)).map(|(i, _)| i).collect()
}

/// A reject of a held row: its line, its key text, why.
type LineReject = (u64, Box<str>, Reject);

/// Which held rows stay, and the rejects by line.
struct Resolution {
    keep: Vec<bool>,
    rejected: Vec<LineReject>,
    /// Rows visited: linear in the rows and their references, however deep
    /// the chains (a test holds it to that).
    visits: u64,
}

/// Rejects held rows whose reference into their own table points to a row not
/// loaded — and then their children, since rejecting a parent orphans them —
/// and then the rows whose chain of parents never reaches a root (a cycle, or
/// hanging from one). Each row is visited a bounded number of times: a chain
/// of 100 000 organizations listed children first is as quick as a flat list.
fn resolve_self_references(
    table: &'static Table,
    held: &[HeldRow],
    own: &mut KeyIndex,
    stop: &StopToken,
) -> Result<Resolution, IngestError> {
    let self_refs = self_references(table);
    let reject = |c: usize, reason: &'static str, value: &str| {
        let column = &table.columns[c];
        Reject::new(Some(column), reason, value).with("title", column.title.clone())
    };
    let mut visits = 0u64;
    let mut visit = || {
        visits += 1;
        if visits.is_multiple_of(4096) && stop.requested() { Err(IngestError::Stopped) } else { Ok(()) }
    };
    // The rows referring to each key, one entry per reference.
    let mut children: HashMap<u128, Vec<usize>> = HashMap::new();
    for (i, row) in held.iter().enumerate() {
        for (_, parent, _) in &row.parents {
            children.entry(*parent).or_default().push(i);
        }
    }
    let mut keep = vec![true; held.len()];
    let mut rejected = Vec::new();

    // Orphans: a row whose parent is not loaded goes, then its children.
    let mut orphans: Vec<usize> = (0..held.len()).collect();
    while let Some(i) = orphans.pop() {
        visit()?;
        let row = &held[i];
        if !keep[i] {
            continue;
        }
        let Some((c, _, value)) = row.parents.iter().find(|(_, parent, _)| !own.is_loaded(*parent)) else {
            continue;
        };
        keep[i] = false;
        let reason: &'static str = &table.columns[*c].references.as_ref().expect("self reference").reason;
        rejected.push((row.line, row.id.clone(), reject(*c, reason, value)));
        if let Some(key) = row.key {
            own.unmark_loaded(key);
            orphans.extend(children.get(&key).into_iter().flatten().copied().filter(|&child| keep[child]));
        }
    }

    // Every chain must end at an organization without a parent (a regional
    // one): roots first, then each row once all its parents are rooted.
    let mut waiting: Vec<usize> = held.iter().map(|row| row.parents.len()).collect();
    let mut rooted = vec![false; held.len()];
    let mut ready: Vec<usize> = (0..held.len()).filter(|&i| keep[i] && waiting[i] == 0).collect();
    while let Some(i) = ready.pop() {
        visit()?;
        rooted[i] = true;
        let Some(key) = held[i].key else { continue };
        for &child in children.get(&key).into_iter().flatten() {
            waiting[child] -= 1;
            if waiting[child] == 0 && keep[child] {
                ready.push(child);
            }
        }
    }
    for (i, row) in held.iter().enumerate() {
        if keep[i] && !rooted[i] {
            keep[i] = false;
            if let Some(key) = row.key {
                own.unmark_loaded(key);
            }
            let value = row.parents.iter().find(|(c, _, _)| *c == self_refs[0]).map_or("", |(_, _, v)| v);
            rejected.push((row.line, row.id.clone(), reject(self_refs[0], rejects::PARENT_CYCLE, value)));
        }
    }
    rejected.sort_by_key(|(line, _, _)| *line);
    Ok(Resolution { keep, rejected, visits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;

    /// Organizations `o0 … o{n-1}`, each the parent of the one listed before
    /// it, children first; `o{n-1}` is the root unless `cycle`.
    fn chain(n: usize, cycle: bool) -> (&'static Table, Vec<HeldRow>, KeyIndex) {
        let table = Contract::embedded().table("organizations").expect("organizations");
        let parent_column = self_references(table)[0];
        let rows: Vec<HeldRow> = (0..n)
            .map(|i| {
                let id = format!("o{i}");
                let parent = if i + 1 < n { Some(format!("o{}", i + 1)) } else { cycle.then(|| "o0".to_string()) };
                HeldRow {
                    line: i as u64 + 2,
                    key: Some(key_hash(&id)),
                    id: id.into(),
                    parents: parent.map(|p| (parent_column, key_hash(&p), p.into())).into_iter().collect(),
                }
            })
            .collect();
        let mut own = KeyIndex::with_capacity(n);
        let claims: Vec<Claim> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Claim { key: r.key.unwrap(), line: r.line, loaded: true, row: i as u32 })
            .collect();
        assert!(own.claim_all(&claims).is_empty());
        (table, rows, own)
    }

    #[test]
    fn deep_chains_resolve_in_linear_work() {
        let n = 100_000;
        let (table, rows, mut own) = chain(n, false);
        let resolution = resolve_self_references(table, &rows, &mut own, &StopToken::new()).unwrap();
        assert!(resolution.keep.iter().all(|k| *k));
        assert!(resolution.rejected.is_empty());
        // One visit per row in each of the two passes; the old level-by-level
        // passes took n²/2 here.
        assert!(resolution.visits <= 2 * n as u64, "{} visits for {n} rows", resolution.visits);
    }

    #[test]
    fn a_missing_root_orphans_the_whole_chain_and_a_cycle_is_named() {
        let n = 50_000;
        let (table, rows, mut own) = chain(n, false);
        own.unmark_loaded(key_hash(&format!("o{}", n - 1)));
        let resolution = resolve_self_references(table, &rows[..n - 1], &mut own, &StopToken::new()).unwrap();
        assert!(resolution.keep.iter().all(|k| !*k));
        assert_eq!(resolution.rejected.len(), n - 1);
        assert!(resolution.rejected.iter().all(|(_, _, r)| r.reason == "unknown_parent"));
        assert!(resolution.rejected.windows(2).all(|w| w[0].0 < w[1].0), "by line");
        assert!(resolution.visits <= 3 * n as u64, "{} visits", resolution.visits);
        assert!(!own.is_loaded(key_hash("o0")), "a rejected parent is no longer loaded");

        let (table, rows, mut own) = chain(1000, true);
        let resolution = resolve_self_references(table, &rows, &mut own, &StopToken::new()).unwrap();
        assert_eq!(resolution.rejected.len(), 1000);
        assert!(resolution.rejected.iter().all(|(_, _, r)| r.reason == rejects::PARENT_CYCLE));
    }

    #[test]
    fn a_stop_request_is_honoured_while_resolving() {
        let (table, rows, mut own) = chain(100_000, false);
        let stop = StopToken::new();
        stop.request();
        let outcome = resolve_self_references(table, &rows, &mut own, &stop);
        assert!(matches!(outcome, Err(IngestError::Stopped)));
    }
}
