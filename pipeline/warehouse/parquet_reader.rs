//! Reads Parquet files through `object_store` with ranged requests, so a large
//! file is never fetched whole (the parquet crate's own object-store reader is
//! deprecated in favour of implementing `AsyncFileReader`).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

#[derive(Clone, Debug)]
pub struct ObjectParquetReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl ObjectParquetReader {
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, size: u64) -> ObjectParquetReader {
        ObjectParquetReader { store, path, size }
    }
}

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectParquetReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        async move { self.store.get_range(&self.path, range).await.map_err(external) }.boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, Result<Vec<Bytes>>> {
        async move { self.store.get_ranges(&self.path, &ranges).await.map_err(external) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let mut reader = ParquetMetaDataReader::new().with_arrow_reader_options(options);
            reader.try_load(&mut *self, size).await?;
            // The footer's own size, from its last 8 bytes (metadata length,
            // `PAR1`): the reader's async path does not keep it, and column
            // chunks must end before it.
            let tail = self.get_bytes(size.saturating_sub(8)..size).await?;
            let footer = match <[u8; 4]>::try_from(tail.get(..4).unwrap_or_default()) {
                Ok(length) => u64::from(u32::from_le_bytes(length)) + 8,
                Err(_) => 8,
            };
            let metadata = reader.finish()?;
            check_footer(&metadata, size, footer).map_err(ParquetError::General)?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// More rows than this per byte of column data is a claim no honest file
/// makes (every page of a column costs a header, and writers cap the rows of
/// a page); it only catches counts that cannot be true.
const MAX_ROWS_PER_BYTE: u64 = 1024;

/// Checks what a footer claims against the file it is in, so that a damaged
/// or lying footer is refused before anything is read or sized from it: row
/// counts that agree and fit in the bytes, column chunks inside the data
/// (`footer` is the size of the metadata, its length and the magic).
fn check_footer(metadata: &ParquetMetaData, size: u64, footer: u64) -> std::result::Result<(), String> {
    // Data lies between the leading magic and the footer.
    let data = 4..size.saturating_sub(footer);
    let claimed = metadata.file_metadata().num_rows();
    let mut rows: i64 = 0;
    for (g, group) in metadata.row_groups().iter().enumerate() {
        let group_rows = group.num_rows();
        if group_rows < 0 {
            return Err(format!("row group {g} claims {group_rows} rows"));
        }
        rows = rows.checked_add(group_rows).ok_or_else(|| format!("row group {g} claims {group_rows} rows"))?;
        let mut bytes: u64 = 0;
        for chunk in group.columns() {
            let column = chunk.column_path().string();
            let (start, len) =
                (chunk.dictionary_page_offset().unwrap_or(chunk.data_page_offset()), chunk.compressed_size());
            let (Ok(start), Ok(len)) = (u64::try_from(start), u64::try_from(len)) else {
                return Err(format!("column {column} of row group {g} claims to start at {start} with {len} bytes"));
            };
            let end = start.saturating_add(len);
            let data_page = u64::try_from(chunk.data_page_offset()).unwrap_or(u64::MAX);
            if start < data.start || end > data.end || !(start..end.max(start + 1)).contains(&data_page) {
                return Err(format!(
                    "column {column} of row group {g} claims bytes {start}..{end}, outside the data of a file of {size} bytes"
                ));
            }
            if chunk.num_values() < 0 {
                return Err(format!("column {column} of row group {g} claims {} values", chunk.num_values()));
            }
            bytes = bytes.saturating_add(len);
        }
        if group_rows as u64 > bytes.max(1).saturating_mul(MAX_ROWS_PER_BYTE) {
            return Err(format!(
                "row group {g} claims {group_rows} rows, more than its {bytes} bytes of data can hold"
            ));
        }
    }
    if claimed != rows {
        return Err(format!("the footer claims {claimed} rows but its row groups hold {rows}"));
    }
    Ok(())
}

/// A small Parquet file already in memory (a mart), decoded whole: its schema
/// and its batches.
pub fn decode_parquet(bytes: Bytes) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>)> {
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)?;
    let schema = builder.schema().clone();
    let batches = builder.build()?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}
