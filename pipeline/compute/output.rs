//! A mart's files: Parquet (zstd) and CSV (UTF-8, `,`, header, `.` decimals,
//! ISO dates), as marts.md fixes them for every tool that opens them.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{ComputeError, Mart};
use crate::warehouse::layout;

/// `(warehouse path, bytes)` of the Parquet and CSV file of a mart.
/// A mart with no rows still gets both files, with its columns.
pub fn encode_mart(name: &str, as_of: NaiveDate, mart: &Mart) -> Result<Vec<(String, Vec<u8>)>, ComputeError> {
    let (parquet, csv) = mart_files(&mart.schema, &mart.batches, true)
        .map_err(|detail| ComputeError::Write { what: format!("mart {name}"), detail })?;
    Ok(vec![(layout::mart_file(name, as_of, "parquet"), parquet), (layout::mart_file(name, as_of, "csv"), csv)])
}

/// The Parquet and CSV bytes of a mart's rows, in the one form marts.md
/// fixes (also for the part of a mart a bundle holds). Uncompressed Parquet
/// (`zstd` false) is for files that travel zipped: a zstd codec per column
/// costs more than the few rows it would compress.
pub fn mart_files(schema: &SchemaRef, batches: &[RecordBatch], zstd: bool) -> Result<(Vec<u8>, Vec<u8>), String> {
    let compression = match zstd {
        true => Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| e.to_string())?),
        false => Compression::UNCOMPRESSED,
    };
    let props = WriterProperties::builder()
        .set_compression(compression)
        .set_created_by(format!("reestr {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut parquet = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut parquet, schema.clone(), Some(props)).map_err(|e| e.to_string())?;
    for batch in batches {
        writer.write(batch).map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;

    let mut csv = Vec::new();
    {
        let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(&mut csv);
        // The header is written with the first batch: an empty one makes sure.
        writer.write(&RecordBatch::new_empty(schema.clone())).map_err(|e| e.to_string())?;
        for batch in batches {
            writer.write(batch).map_err(|e| e.to_string())?;
        }
    }
    Ok((parquet, csv))
}
