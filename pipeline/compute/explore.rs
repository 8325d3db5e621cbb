//! `reestr sql`: the warehouse opened for ad-hoc questions. Every registry table
//! and every mart is registered by name over its whole history, with the
//! partition column `as_of` visible; `--as-of D` narrows each to that date
//! (a partition filter, so other dates are not read). The reference data is
//! there as `reference_regions` and `reference_federal_districts`.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use chrono::NaiveDate;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::{SessionContext, col, lit};
use datafusion::scalar::ScalarValue;

use super::ComputeError;
use super::context::{self, STORE_URL};
use crate::contract::Contract;
use crate::contract::values::days_from_date;
use crate::warehouse::{Warehouse, layout};

/// Runs one query over the warehouse.
/// Reads only: it takes no lock, so it can run beside a nightly run (and sees
/// the files committed so far).
pub async fn query(
    warehouse: &Warehouse,
    as_of: Option<NaiveDate>,
    sql: &str,
) -> Result<Vec<RecordBatch>, ComputeError> {
    let ctx = context::new_session(warehouse)?;
    // The marts `regions` and `federal_districts` take the short names.
    context::register_reference(&ctx, "reference_")?;
    // Registry files get `as_of` from their partition; a mart's files hold
    // it as their first column already.
    let mut names: Vec<(String, String, bool)> = Contract::embedded()
        .tables()
        .iter()
        .map(|t| (t.name.clone(), layout::registry_table_dir(&t.name), true))
        .collect();
    for mart in warehouse.location().list_folders(layout::MARTS_DIR).await? {
        names.push((mart.clone(), layout::mart_dir(&mart), false));
    }
    for (name, folder, partitioned) in names {
        if warehouse.location().list_folders(&folder).await?.is_empty() {
            continue; // nothing written yet
        }
        register_history(&ctx, warehouse, &name, &folder, partitioned, as_of).await?;
    }
    let bad = |e: datafusion::error::DataFusionError| ComputeError::BadQuery(e.to_string());
    ctx.sql(sql).await.map_err(bad)?.collect().await.map_err(bad)
}

async fn register_history(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    name: &str,
    folder: &str,
    partitioned: bool,
    as_of: Option<NaiveDate>,
) -> Result<(), ComputeError> {
    let path = warehouse.location().path(folder);
    let url = ListingTableUrl::parse(format!("{STORE_URL}{path}/")).map_err(ComputeError::engine)?;
    let mut options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    if partitioned {
        options = options.with_table_partition_cols(vec![("as_of".to_string(), DataType::Date32)]);
    }
    let schema = options.infer_schema(&ctx.state(), &url).await.map_err(ComputeError::engine)?;
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
    let table = Arc::new(ListingTable::try_new(config).map_err(ComputeError::engine)?);
    match as_of {
        None => {
            ctx.register_table(name, table).map_err(ComputeError::engine)?;
        }
        Some(d) => {
            let all = format!("{name}_all_dates");
            ctx.register_table(all.as_str(), table).map_err(ComputeError::engine)?;
            let one_date = ctx
                .table(all.as_str())
                .await
                .map_err(ComputeError::engine)?
                .filter(col("as_of").eq(lit(ScalarValue::Date32(Some(days_from_date(d))))))
                .map_err(ComputeError::engine)?;
            ctx.register_table(name, one_date.into_view()).map_err(ComputeError::engine)?;
        }
    }
    Ok(())
}
