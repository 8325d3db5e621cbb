//! The gate's comparison: `queries/gate/gate.sql` over two dates' marts and
//! run manifests. It compares, it does not decide what to do: the nightly job
//! holds a date when a rule fired. Every figure of a fired rule is the
//! query's; the caller only words it.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use super::{ComputeError, Definitions, context, run};
use crate::warehouse::{Manifest, Warehouse};

const GATE: &str = include_str!("../../queries/gate/gate.sql");

/// The limits the rules hold a date at, in percent (see `gate.sql`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateLimits {
    pub members_drop_pct: f64,
    pub region_members_drop_pct: f64,
    pub table_rows_drop_pct: f64,
    pub rejected_rows_pct: f64,
}

/// One rule that fired, as `gate.sql` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredRule {
    /// `members_drop`, `region_members_drop`, `table_rows_drop`,
    /// `rejected_rows` or `official_report_vanished`.
    pub rule: String,
    /// `national`, a region code, a table name, or `snapshot` (all tables).
    pub scope: String,
    /// The region's name or the table's.
    #[serde(default)]
    pub scope_name: Option<String>,
    /// The figure at the earlier date (rows rejected: none).
    #[serde(default)]
    pub before: Option<i64>,
    /// The figure now (rows rejected: the rows rejected).
    #[serde(default)]
    pub after: Option<i64>,
    /// Rows rejected: the rows read.
    #[serde(default)]
    pub total: Option<i64>,
    /// Growth over the earlier figure in percent (rows rejected: the share).
    #[serde(default)]
    pub change_pct: Option<f64>,
    #[serde(default)]
    pub limit_pct: Option<f64>,
    /// A vanished official report: its date.
    #[serde(default)]
    pub report_date: Option<NaiveDate>,
}

/// The rules that fire for `now` against `before`, worst first; `None` when
/// `before` has no marts to compare with (computed by an engine before the
/// marts existed, or removed).
pub async fn compare(
    warehouse: &Warehouse,
    now: NaiveDate,
    before: NaiveDate,
    limits: &GateLimits,
) -> Result<Option<Vec<FiredRule>>, ComputeError> {
    let definitions = Definitions::embedded()?;
    let ctx = context::new_session(warehouse)?;
    for mart in ["national", "regions"] {
        let schema = definitions.required_schema(mart)?;
        if !context::register_mart_of(&ctx, warehouse, Some(before), schema, &format!("{mart}_before")).await? {
            return Ok(None);
        }
        if !context::register_mart_of(&ctx, warehouse, Some(now), schema, &format!("{mart}_now")).await? {
            return Err(ComputeError::Definitions(format!("the {mart} mart of {now} is missing after its compute")));
        }
    }
    register_tables(&ctx, "tables_before", warehouse.read_manifest(before).await?.as_ref())?;
    register_tables(&ctx, "tables_now", warehouse.read_manifest(now).await?.as_ref())?;
    register_limits(&ctx, limits)?;
    let result = run(&ctx, "gate", GATE).await?;
    rows(&result.batches).map(Some)
}

/// Per contract table, its counts from a run manifest (no row without one).
fn register_tables(ctx: &SessionContext, name: &str, manifest: Option<&Manifest>) -> Result<(), ComputeError> {
    let tables: Vec<(&String, &crate::warehouse::TableCounts)> =
        manifest.map(|m| m.tables.iter().collect()).unwrap_or_default();
    let count = |f: fn(&crate::warehouse::TableCounts) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from(
            tables.iter().map(|(_, t)| i64::try_from(f(t)).unwrap_or(i64::MAX)).collect::<Vec<_>>(),
        ))
    };
    let batch = RecordBatch::try_from_iter(vec![
        (
            "table_name",
            Arc::new(StringArray::from(tables.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())) as ArrayRef,
        ),
        ("rows_read", count(|t| t.rows_read)),
        ("rows_loaded", count(|t| t.rows_loaded)),
        ("rows_rejected", count(|t| t.rows_rejected)),
    ])
    .map_err(ComputeError::arrow)?;
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(ComputeError::engine)?;
    ctx.register_table(name, Arc::new(table)).map_err(ComputeError::engine)?;
    Ok(())
}

/// `gate_thresholds`: the limits as one row, bound as data like `params`.
fn register_limits(ctx: &SessionContext, limits: &GateLimits) -> Result<(), ComputeError> {
    let value = |x: f64| -> ArrayRef { Arc::new(Float64Array::from(vec![x])) };
    let batch = RecordBatch::try_from_iter(vec![
        ("members_drop_pct", value(limits.members_drop_pct)),
        ("region_members_drop_pct", value(limits.region_members_drop_pct)),
        ("table_rows_drop_pct", value(limits.table_rows_drop_pct)),
        ("rejected_rows_pct", value(limits.rejected_rows_pct)),
    ])
    .map_err(ComputeError::arrow)?;
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(ComputeError::engine)?;
    ctx.register_table("gate_thresholds", Arc::new(table)).map_err(ComputeError::engine)?;
    Ok(())
}

/// The query's rows, matched to `FiredRule` by column name.
fn rows(batches: &[RecordBatch]) -> Result<Vec<FiredRule>, ComputeError> {
    let mut buf = Vec::new();
    let mut writer = arrow::json::ArrayWriter::new(&mut buf);
    for batch in batches {
        writer.write(batch).map_err(ComputeError::arrow)?;
    }
    writer.finish().map_err(ComputeError::arrow)?;
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buf)
        .map_err(|e| ComputeError::Definitions(format!("queries/gate/gate.sql returns rows of another shape: {e}")))
}
