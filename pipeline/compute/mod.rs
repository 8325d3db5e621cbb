//! Compute: KPI marts from the warehouse with DataFusion SQL kept in
//! `queries/` — never from the snapshot's CSV, never with SQL assembled in Rust.
//!
//! `queries/views/*.sql` are the shared building blocks (active orgs at D,
//! members on record at D, reports for P, the baseline report), defined once;
//! `queries/marts/<mart>.sql` is one mart each, written to
//! `marts/<mart>/as_of=<D>/<mart>.parquet` and `.csv` and committed atomically.
//! The files are found, and run in the order their names require, by
//! `definitions.rs`; each mart is checked against `schemas/marts/<mart>.toml`.
//! `gate` compares two dates' marts (`queries/gate/gate.sql`) for the
//! nightly job's gate.

mod context;
mod definitions;
mod explore;
pub mod gate;
mod output;
pub use output::mart_files;
mod schema;

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::array::{Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use chrono::{Datelike, Months, NaiveDate};
use datafusion::arrow::array::{Array, Date32Array};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use thiserror::Error;
use tracing::info;

use crate::clock::Clock;
#[cfg(test)]
use crate::contract::values::parse_iso_date;
use crate::contract::values::{date_from_days, days_from_date};
use crate::warehouse::{QueryRun, Warehouse, WarehouseError, layout};
pub use context::Dates;
pub use definitions::{Definitions, Query};
pub use explore::query;
pub use schema::{Format, MartColumn, MartSchema};

/// Every mart, `(name, SQL)` by name: the files `queries/marts/*.sql`, found
/// by build.rs. Compute runs them in the order their dependencies require
/// (`Definitions`); each is declared in `schemas/marts/<name>.toml`.
pub const MARTS: &[(&str, &str)] = definitions::MART_FILES;

const BASELINE: &str = include_str!("../../queries/dates/baseline.sql");
const MEMBER_PAIRS: &str = include_str!("../../queries/pairs/member_pairs.sql");

#[derive(Debug, Error)]
pub enum ComputeError {
    #[error("the warehouse {warehouse} has no snapshot of {as_of}; ingest it first (reestr ingest or reestr run)")]
    NoSnapshot { warehouse: String, as_of: NaiveDate },
    #[error("query {name} failed: {source}")]
    Query { name: String, source: DataFusionError },
    #[error("the query failed: {0}")]
    BadQuery(String),
    #[error("query engine: {0}")]
    Engine(DataFusionError),
    #[error("cannot write {what}: {detail}")]
    Write { what: String, detail: String },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    /// The query and schema files compiled in do not fit together.
    #[error("the queries and mart schemas built into reestr are inconsistent: {0}")]
    Definitions(String),
    #[error(
        "the {mart} mart does not match its schema:\n- {}\nqueries/marts/{mart}.sql computes it, schemas/marts/{mart}.toml declares it: change the one that is wrong",
        .differences.join("\n- ")
    )]
    MartSchema { mart: String, differences: Vec<String> },
}

impl ComputeError {
    pub fn engine(e: DataFusionError) -> ComputeError {
        ComputeError::Engine(e)
    }

    pub fn arrow(e: arrow::error::ArrowError) -> ComputeError {
        ComputeError::Engine(DataFusionError::ArrowError(Box::new(e), None))
    }

    pub fn is_user_error(&self) -> bool {
        match self {
            ComputeError::NoSnapshot { .. } | ComputeError::BadQuery(_) => true,
            ComputeError::Warehouse(e) => e.is_user_error(),
            _ => false,
        }
    }
}

/// The dates marts are computed with, when not the defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct DateChoices {
    pub period: Option<NaiveDate>,
    pub baseline: Option<NaiveDate>,
    pub compare_to: Option<NaiveDate>,
}

/// Which marts to compute (in the warehouse the caller opened and locked).
#[derive(Debug, Clone)]
pub struct ComputeRequest {
    pub as_of: NaiveDate,
    pub dates: DateChoices,
    /// Earlier dates the quarterly marts must not read (the gate held them).
    pub leave_out: Vec<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct ComputeSummary {
    pub dates: Dates,
    pub queries: Vec<QueryRun>,
    pub outputs: Vec<String>,
}

/// The latest quarter start (1 January, 1 April, 1 July, 1 October) on or before `d`.
pub fn report_period(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1).expect("a quarter start")
}

/// The latest snapshot on or before D − 1 year (29 February → 28 February).
pub fn comparison_date(d: NaiveDate, snapshots: &[NaiveDate]) -> Option<NaiveDate> {
    let year_before = d.checked_sub_months(Months::new(12))?;
    snapshots.iter().copied().filter(|s| *s <= year_before).max()
}

/// The snapshot that represents the quarter before D's, as the quarterly
/// marts reckon quarters (`context::quarter_end`): the latest date of that
/// quarter, never one the gate held.
pub fn previous_quarter_date(d: NaiveDate, snapshots: &[NaiveDate], leave_out: &[NaiveDate]) -> Option<NaiveDate> {
    let previous_end = context::quarter_end(d).checked_sub_months(Months::new(3))?;
    snapshots
        .iter()
        .copied()
        .filter(|s| *s < d && context::quarter_end(*s) == previous_end && !leave_out.contains(s))
        .max()
}

/// Snapshot dates the warehouse holds (those with a members partition).
pub async fn snapshot_dates(warehouse: &Warehouse) -> Result<Vec<NaiveDate>, ComputeError> {
    Ok(warehouse.partition_dates(&layout::registry_table_dir("members")).await?)
}

/// Computes every mart of D and commits them together.
pub async fn compute(
    warehouse: &Warehouse,
    request: &ComputeRequest,
    clock: &dyn Clock,
) -> Result<ComputeSummary, ComputeError> {
    let snapshots = snapshot_dates(warehouse).await?;
    let d = request.as_of;
    if !snapshots.contains(&d) {
        return Err(ComputeError::NoSnapshot { warehouse: warehouse.name(), as_of: d });
    }
    let p = request.dates.period.unwrap_or_else(|| report_period(d));
    let c = request.dates.compare_to.or_else(|| comparison_date(d, &snapshots));
    let q = previous_quarter_date(d, &snapshots, &request.leave_out);

    let definitions = Definitions::embedded()?;
    let ctx = context::new_session(warehouse)?;
    context::register_snapshot(&ctx, warehouse, Some(d), "").await?;
    context::register_snapshot(&ctx, warehouse, c, "_prev").await?;
    context::register_snapshot(&ctx, warehouse, q, "_quarter").await?;
    let national = definitions.required_schema("national")?;
    context::register_prev_national(&ctx, warehouse, c, national).await?;
    for mart in ["history_kpis", "data_quality"] {
        context::register_past(&ctx, warehouse, definitions.required_schema(mart)?, d, &request.leave_out).await?;
    }
    context::register_reference(&ctx, "")?;
    let mut dates = Dates { d, p, b: None, c, q };
    context::register_params(&ctx, &dates)?;
    dates.b = match request.dates.baseline {
        Some(b) => Some(b),
        None => baseline(&ctx).await?,
    };
    context::register_params(&ctx, &dates)?;
    info!(
        "computing marts of {d}: period {p}, baseline {}, compared to {}",
        dates.b.map_or("none".into(), |b| b.to_string()),
        c.map_or("none".into(), |c| c.to_string())
    );
    let mut queries = Vec::new();
    // member_pairs: each comparison's join runs alone, one after the other,
    // so its memory is needed once; the views and marts read the small result.
    let (mut pairs, mut pairs_schema) = (Vec::new(), None);
    for (period, then, suffix) in [("year", c, "_prev"), ("quarter", q, "_quarter")] {
        let started = Instant::now();
        let (schema, batches) = member_pairs(&ctx, period, then, suffix).await?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        pairs.extend(batches);
        pairs_schema = Some(schema);
        let duration_ms = started.elapsed().as_millis() as u64;
        queries.push(QueryRun { name: format!("pairs/member_pairs_{period}"), duration_ms, rows: Some(rows as u64) });
    }
    let pairs = MemTable::try_new(pairs_schema.expect("two comparisons"), vec![pairs]).map_err(ComputeError::engine)?;
    ctx.register_table("member_pairs", Arc::new(pairs)).map_err(ComputeError::engine)?;
    for &Query { name, sql } in &definitions.views {
        let started = Instant::now();
        run(&ctx, name, sql).await?;
        let duration_ms = started.elapsed().as_millis() as u64;
        queries.push(QueryRun { name: format!("views/{name}"), duration_ms, rows: None });
    }

    let run_id = layout::run_id(clock.now(), "compute", Some(d));
    let mut stage = warehouse.begin(&run_id);
    let mut outputs = Vec::new();
    let result = async {
        for &Query { name, sql } in &definitions.marts {
            let started = Instant::now();
            let mart = run(&ctx, name, sql).await?;
            check(definitions, name, &mart)?;
            let rows: usize = mart.batches.iter().map(|b| b.num_rows()).sum();
            let duration_ms = started.elapsed().as_millis() as u64;
            info!("mart {name}: {rows} rows in {duration_ms} ms");
            queries.push(QueryRun { name: format!("marts/{name}"), duration_ms, rows: Some(rows as u64) });
            context::register_mart(&ctx, name, &mart)?;
            for (path, bytes) in output::encode_mart(name, d, &mart)? {
                let staged = stage.partition_file(&path);
                stage.location().write(&staged, bytes).await?;
                outputs.push(path);
            }
        }
        // The run's manifest gains what compute did.
        if let Some(mut manifest) = warehouse.read_manifest(d).await? {
            manifest.queries = queries.clone();
            manifest.outputs.retain(|o| !o.starts_with("marts/"));
            manifest.outputs.extend(outputs.iter().cloned());
            let path = layout::manifest_file(d);
            let staged = stage.file(&path);
            let text = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
            stage.location().write(&staged, text).await?;
        }
        Ok::<(), ComputeError>(())
    }
    .await;
    match result {
        Ok(()) => {
            stage.commit().await?;
            Ok(ComputeSummary { dates, queries, outputs })
        }
        Err(e) => {
            stage.abort().await;
            Err(e)
        }
    }
}

/// A query's result: its schema (known also when it has no rows) and batches.
pub struct Mart {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

async fn run(ctx: &SessionContext, name: &str, sql: &str) -> Result<Mart, ComputeError> {
    let query = |source| ComputeError::Query { name: name.to_string(), source };
    let frame = ctx.sql(sql).await.map_err(query)?;
    let planned: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.map_err(query)?;
    // The batches' own schema can differ from the planned one in nullability;
    // the planned one is only needed when there are no batches.
    let schema = batches.first().map(|b| b.schema()).unwrap_or(planned);
    Ok(Mart { schema, batches })
}

/// A computed mart against its schema (`schemas/marts/<name>.toml`).
fn check(definitions: &Definitions, name: &str, mart: &Mart) -> Result<(), ComputeError> {
    let schema = definitions.required_schema(name)?;
    let differences = schema.differences(&mart.schema, &mart.batches);
    if differences.is_empty() { Ok(()) } else { Err(ComputeError::MartSchema { mart: name.to_string(), differences }) }
}

/// How many parts member_pairs splits the members into: the join holds one
/// part of the earlier snapshot's members at a time.
const PAIR_BUCKETS: i64 = 2;

/// D's members paired with those of `then` (`queries/pairs/member_pairs.sql`,
/// with the snapshot registered under `suffix` as `members_then` /
/// `organizations_then`), tagged `period`: the planned schema and, when
/// there is such a date, the rows, one bucket of member ids after another.
async fn member_pairs(
    ctx: &SessionContext,
    period: &str,
    then: Option<NaiveDate>,
    suffix: &str,
) -> Result<(SchemaRef, Vec<RecordBatch>), ComputeError> {
    let engine = ComputeError::engine;
    for table in ["members", "organizations"] {
        let provider = ctx.table_provider(format!("{table}{suffix}").as_str()).await.map_err(engine)?;
        ctx.register_table(format!("{table}_then").as_str(), provider).map_err(engine)?;
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("compared_period", DataType::Utf8, false),
        Field::new("then_date", DataType::Date32, true),
        Field::new("bucket", DataType::Int64, false),
        Field::new("buckets", DataType::Int64, false),
    ]));
    let query = |source| ComputeError::Query { name: format!("member_pairs ({period})"), source };
    // Without the date the query is only planned, once, for its schema.
    let buckets = if then.is_some() { PAIR_BUCKETS } else { 1 };
    let (mut planned, mut batches) = (None, Vec::new());
    for bucket in 0..buckets {
        let row = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![period])),
                Arc::new(Date32Array::from(vec![then.map(days_from_date)])),
                Arc::new(Int64Array::from(vec![bucket])),
                Arc::new(Int64Array::from(vec![buckets])),
            ],
        )
        .map_err(ComputeError::arrow)?;
        let _ = ctx.deregister_table("comparison");
        ctx.register_table("comparison", Arc::new(MemTable::try_new(schema.clone(), vec![vec![row]]).map_err(engine)?))
            .map_err(engine)?;
        let frame = ctx.sql(MEMBER_PAIRS).await.map_err(query)?;
        let plan: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        if then.is_some() {
            // One schema for every bucket and comparison (a batch's
            // nullability may differ from the plan's).
            for b in frame.collect().await.map_err(query)? {
                batches.push(RecordBatch::try_new(plan.clone(), b.columns().to_vec()).map_err(ComputeError::arrow)?);
            }
        }
        planned = Some(plan);
    }
    for table in ["members_then", "organizations_then", "comparison"] {
        ctx.deregister_table(table).map_err(engine)?;
    }
    Ok((planned.expect("at least one bucket"), batches))
}

async fn baseline(ctx: &SessionContext) -> Result<Option<NaiveDate>, ComputeError> {
    let result = run(ctx, "baseline", BASELINE).await?;
    let Some(batch) = result.batches.first() else { return Ok(None) };
    let column = batch.column(0).as_any().downcast_ref::<Date32Array>().expect("baseline.sql returns a date");
    Ok((!column.is_empty() && column.is_valid(0)).then(|| date_from_days(column.value(0))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn report_period_is_the_latest_quarter_start() {
        assert_eq!(report_period(day("2023-11-21")), day("2023-10-01"));
        assert_eq!(report_period(day("2023-10-01")), day("2023-10-01"));
        assert_eq!(report_period(day("2023-09-30")), day("2023-07-01"));
        assert_eq!(report_period(day("2024-01-01")), day("2024-01-01"));
        assert_eq!(report_period(day("2024-03-31")), day("2024-01-01"));
    }

    #[test]
    fn the_quarter_before_is_its_latest_snapshot_not_held() {
        let snapshots = [day("2023-06-30"), day("2023-07-01"), day("2023-09-29"), day("2023-09-30"), day("2023-11-21")];
        // D's quarter ends 2024-01-01; the one before holds (2023-07-01, 2023-10-01].
        assert_eq!(previous_quarter_date(day("2023-11-21"), &snapshots, &[]), Some(day("2023-09-30")));
        assert_eq!(previous_quarter_date(day("2023-11-21"), &snapshots, &[day("2023-09-30")]), Some(day("2023-09-29")));
        // A quarter start is the end of its own quarter: 2023-07-01 belongs
        // to the quarter ending then, the one before 2023-09-30's.
        assert_eq!(previous_quarter_date(day("2023-09-30"), &snapshots, &[]), Some(day("2023-07-01")));
        assert_eq!(previous_quarter_date(day("2023-07-01"), &snapshots, &[]), None);
    }

    #[test]
    fn comparison_is_the_latest_snapshot_a_year_back() {
        let snapshots = [day("2022-11-20"), day("2022-11-21"), day("2022-11-22"), day("2023-11-21")];
        assert_eq!(comparison_date(day("2023-11-21"), &snapshots), Some(day("2022-11-21")));
        assert_eq!(comparison_date(day("2023-11-20"), &snapshots), Some(day("2022-11-20")));
        assert_eq!(comparison_date(day("2022-11-21"), &snapshots), None);
        // 29 February looks back to 28 February.
        let leap = [day("2023-02-28"), day("2023-03-01")];
        assert_eq!(comparison_date(day("2024-02-29"), &leap), Some(day("2023-02-28")));
    }
}
