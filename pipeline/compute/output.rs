//! A mart's files: Parquet (zstd) and CSV (UTF-8, `,`, header, `.` decimals,
//! ISO dates), as marts.md fixes them for every tool that opens them.

use arrow::array::RecordBatch;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{ComputeError, Mart};
use crate::warehouse::layout;

/// `(warehouse path, bytes)` of the Parquet and CSV file of a mart.
/// A mart with no rows still gets both files, with its columns.
pub fn encode_mart(name: &str, as_of: NaiveDate, mart: &Mart) -> Result<Vec<(String, Vec<u8>)>, ComputeError> {
    let write_err = |e: String| ComputeError::Write { what: format!("mart {name}"), detail: e };
    let schema = mart.schema.clone();
    let batches = &mart.batches;

    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| write_err(e.to_string()))?))
        .set_created_by(format!("reestr {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut parquet = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut parquet, schema.clone(), Some(props)).map_err(|e| write_err(e.to_string()))?;
    for batch in batches {
        writer.write(batch).map_err(|e| write_err(e.to_string()))?;
    }
    writer.close().map_err(|e| write_err(e.to_string()))?;

    let mut csv = Vec::new();
    {
        let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(&mut csv);
        // The header is written with the first batch: an empty one makes sure.
        writer.write(&RecordBatch::new_empty(schema)).map_err(|e| write_err(e.to_string()))?;
        for batch in batches {
            writer.write(batch).map_err(|e| write_err(e.to_string()))?;
        }
    }
    Ok(vec![(layout::mart_file(name, as_of, "parquet"), parquet), (layout::mart_file(name, as_of, "csv"), csv)])
}
