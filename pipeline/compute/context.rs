//! The DataFusion session marts are computed in: warehouse tables of the
//! snapshot D (and of the comparison snapshot C) registered by name, the
//! reference data, the one-row `params` table holding D, P, B and C, and
//! C's national mart as `prev_national`.
//!
//! Each table is registered over exactly one date's partition folder, so a
//! query never lists or scans the rest of the history.

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray, UInt16Array, new_null_array};
use arrow::datatypes::{DataType, Field, Schema};
use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};

use super::schema::MartSchema;
use super::{ComputeError, Mart};
use crate::contract::values::days_from_date;
use crate::contract::{Contract, RegionReference};
use crate::warehouse::{Warehouse, WarehouseError, decode_parquet, layout};

/// The URL the warehouse's object store is registered under in DataFusion.
pub(super) const STORE_URL: &str = "reestr://warehouse/";

/// D, P, B, C as the queries see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    pub d: NaiveDate,
    pub p: NaiveDate,
    pub b: Option<NaiveDate>,
    pub c: Option<NaiveDate>,
    /// The snapshot representing the quarter before D's (member_flows'
    /// quarterly comparison), if any.
    pub q: Option<NaiveDate>,
}

pub fn new_session(warehouse: &Warehouse) -> Result<SessionContext, ComputeError> {
    // `CAST(... AS VARCHAR)` plans as Utf8, the type every mart column of text
    // has, not Utf8View, which older readers of the marts do not know.
    let mut config = SessionConfig::new();
    config.options_mut().sql_parser.map_string_types_to_utf8view = false;
    let ctx = SessionContext::new_with_config(config);
    let url = url::Url::parse(STORE_URL).expect("valid store URL");
    ctx.register_object_store(&url, warehouse.location().store().clone());
    Ok(ctx)
}

/// Registers every contract table of snapshot `date` as `<table><suffix>`;
/// with no date, as empty tables of the same schema.
pub async fn register_snapshot(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    date: Option<NaiveDate>,
    suffix: &str,
) -> Result<(), ComputeError> {
    for table in Contract::embedded().tables() {
        let name = format!("{}{suffix}", table.name);
        let schema = table.arrow_schema();
        let provider: Arc<dyn datafusion::catalog::TableProvider> = match date {
            Some(date) => {
                let folder = warehouse.location().path(&layout::registry_dir(&table.name, date));
                let url = ListingTableUrl::parse(format!("{STORE_URL}{folder}/")).map_err(ComputeError::engine)?;
                let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
                let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
                Arc::new(ListingTable::try_new(config).map_err(ComputeError::engine)?)
            }
            None => Arc::new(MemTable::try_new(schema, vec![vec![]]).map_err(ComputeError::engine)?),
        };
        ctx.register_table(name.as_str(), provider).map_err(ComputeError::engine)?;
    }
    Ok(())
}

/// `params(d, p, b, c, q)`: one row of dates every view and mart joins to, so
/// the values are bound as data, never formatted into SQL text.
pub fn register_params(ctx: &SessionContext, dates: &Dates) -> Result<(), ComputeError> {
    let date = |d: Option<NaiveDate>| -> ArrayRef { Arc::new(Date32Array::from(vec![d.map(days_from_date)])) };
    let schema = Arc::new(Schema::new(vec![
        Field::new("d", DataType::Date32, false),
        Field::new("p", DataType::Date32, false),
        Field::new("b", DataType::Date32, true),
        Field::new("c", DataType::Date32, true),
        Field::new("q", DataType::Date32, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![date(Some(dates.d)), date(Some(dates.p)), date(dates.b), date(dates.c), date(dates.q)],
    )
    .expect("params batch matches its schema");
    let _ = ctx.deregister_table("params");
    ctx.register_table("params", Arc::new(MemTable::try_new(schema, vec![vec![batch]]).map_err(ComputeError::engine)?))
        .map_err(ComputeError::engine)?;
    Ok(())
}

/// `<prefix>regions` and `<prefix>federal_districts` from the reference data,
/// so a region with no rows in the snapshot still gets its row in the marts.
pub fn register_reference(ctx: &SessionContext, prefix: &str) -> Result<(), ComputeError> {
    let reference = RegionReference::embedded();
    let text = |f: &dyn Fn(usize) -> String, n: usize| -> ArrayRef {
        Arc::new(StringArray::from((0..n).map(f).collect::<Vec<_>>()))
    };
    let r = &reference.regions;
    let n = r.len();
    let regions = RecordBatch::try_from_iter(vec![
        ("region_code", text(&|i| r[i].region_code.clone(), n)),
        ("region_name", text(&|i| r[i].name.clone(), n)),
        ("region_name_genitive", text(&|i| r[i].name_genitive.clone(), n)),
        ("short_name", text(&|i| r[i].short_name.clone(), n)),
        ("kind", text(&|i| r[i].kind.clone(), n)),
        ("federal_district", text(&|i| r[i].district_code.clone(), n)),
        ("tile_row", Arc::new(UInt16Array::from(r.iter().map(|x| x.tile_row).collect::<Vec<_>>())) as ArrayRef),
        ("tile_col", Arc::new(UInt16Array::from(r.iter().map(|x| x.tile_col).collect::<Vec<_>>())) as ArrayRef),
    ])
    .map_err(ComputeError::arrow)?;
    let d = &reference.districts;
    let districts = RecordBatch::try_from_iter(vec![
        ("federal_district", text(&|i| d[i].district_code.clone(), d.len())),
        ("district_name", text(&|i| d[i].name.clone(), d.len())),
        ("district_short_name", text(&|i| d[i].short_name.clone(), d.len())),
        ("sort_order", Arc::new(UInt16Array::from(d.iter().map(|x| x.sort_order).collect::<Vec<_>>())) as ArrayRef),
    ])
    .map_err(ComputeError::arrow)?;
    for (name, batch) in [("regions", regions), ("federal_districts", districts)] {
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(ComputeError::engine)?;
        ctx.register_table(format!("{prefix}{name}").as_str(), Arc::new(table)).map_err(ComputeError::engine)?;
    }
    Ok(())
}

/// A computed mart as `mart_<name>`, for the marts built on it.
pub fn register_mart(ctx: &SessionContext, name: &str, mart: &Mart) -> Result<(), ComputeError> {
    let table = MemTable::try_new(mart.schema.clone(), vec![mart.batches.clone()]).map_err(ComputeError::engine)?;
    ctx.register_table(format!("mart_{name}").as_str(), Arc::new(table)).map_err(ComputeError::engine)?;
    Ok(())
}

/// C's national mart, as C's compute wrote it, as `prev_national` (not
/// `mart_…`, which would name a mart of D). Without C, or when C's marts were
/// never computed (an older warehouse), the table has no row, so the queries
/// still run and give nulls.
pub async fn register_prev_national(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    c: Option<NaiveDate>,
    national: &MartSchema,
) -> Result<(), ComputeError> {
    register_mart_of(ctx, warehouse, c, national, "prev_national").await.map(|_| ())
}

/// The mart of `schema` as the compute of `date` wrote it, as `table` (see
/// `register_mart_files`). Without the date or its file the table has no
/// row. Returns whether the file was there.
pub async fn register_mart_of(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    date: Option<NaiveDate>,
    schema: &MartSchema,
    table: &str,
) -> Result<bool, ComputeError> {
    let dates: Vec<NaiveDate> = date.into_iter().collect();
    Ok(register_mart_files(ctx, warehouse, schema, &dates, table).await? > 0)
}

/// `past_<mart>`: the mart as the dates before D wrote it, for the quarterly
/// marts, which need only the latest date of each quarter (the only one that
/// can represent it) in D's last four years, and never a date the gate held
/// (`leave_out`). Read concurrently: on an object store each is a request.
pub async fn register_past(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    mart: &MartSchema,
    d: NaiveDate,
    leave_out: &[NaiveDate],
) -> Result<(), ComputeError> {
    let written = warehouse.partition_dates(&layout::mart_dir(&mart.name)).await?;
    let first = quarter_end(d).checked_sub_months(Months::new(48)).unwrap_or(NaiveDate::MIN);
    let mut latest: BTreeMap<NaiveDate, NaiveDate> = BTreeMap::new();
    for date in written.into_iter().filter(|x| *x < d && !leave_out.contains(x)) {
        let quarter = quarter_end(date);
        if quarter >= first && quarter < quarter_end(d) {
            let kept = latest.entry(quarter).or_insert(date);
            *kept = (*kept).max(date);
        }
    }
    let dates: Vec<NaiveDate> = latest.into_values().collect();
    register_mart_files(ctx, warehouse, mart, &dates, &format!("past_{}", mart.name)).await.map(|_| ())
}

/// The end of the quarter a snapshot date belongs to: the first quarter start
/// (1 January, 1 April, 1 July, 1 October) on or after it, as the quarterly
/// marts' SQL reckons it.
pub fn quarter_end(date: NaiveDate) -> NaiveDate {
    let start = super::report_period(date);
    if start == date { date } else { start.checked_add_months(Months::new(3)).unwrap_or(NaiveDate::MAX) }
}

/// Registers the files of `mart` of `dates` as one table `name` with the
/// mart's columns of today, taken from each file by name: a column an older
/// file lacks (or holds in another type) is null, so marts written by an
/// older reestr still read. A date without the file is left out. Returns how
/// many files there were.
async fn register_mart_files(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    mart: &MartSchema,
    dates: &[NaiveDate],
    name: &str,
) -> Result<usize, ComputeError> {
    let fields: Vec<Field> = mart.columns.iter().map(|c| Field::new(&c.name, c.data_type.clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let location = warehouse.location();
    // Boxed, so the future that holds them is plainly Send (a stream of
    // closures over borrowed data trips the compiler's Send proof).
    let reads: Vec<BoxFuture<'_, Result<Option<bytes::Bytes>, WarehouseError>>> = dates
        .iter()
        .map(|date| {
            let path = layout::mart_file(&mart.name, *date, "parquet");
            async move { location.read(&path).await }.boxed()
        })
        .collect();
    let files: Vec<Option<bytes::Bytes>> = futures::stream::iter(reads).buffered(16).try_collect().await?;
    let found = files.iter().flatten().count();
    let mut batches = Vec::new();
    for bytes in files.into_iter().flatten() {
        let (_, read) =
            decode_parquet(bytes).map_err(|e| ComputeError::engine(DataFusionError::External(Box::new(e))))?;
        for batch in read {
            let columns: Vec<ArrayRef> = schema
                .fields()
                .iter()
                .map(|f| match batch.column_by_name(f.name()) {
                    Some(a) if a.data_type() == f.data_type() => a.clone(),
                    // Another type (an older engine's Utf8View, Int32): cast
                    // where it goes, null where it does not.
                    Some(a) => arrow::compute::cast(a, f.data_type())
                        .unwrap_or_else(|_| new_null_array(f.data_type(), batch.num_rows())),
                    None => new_null_array(f.data_type(), batch.num_rows()),
                })
                .collect();
            batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(ComputeError::arrow)?);
        }
    }
    let table = MemTable::try_new(schema, vec![batches]).map_err(ComputeError::engine)?;
    ctx.register_table(name, Arc::new(table)).map_err(ComputeError::engine)?;
    Ok(found)
}
