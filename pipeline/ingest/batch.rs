//! Typed Arrow batches from parsed rows, and the zstd Parquet writer they go to.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::validate::{Cell, ParsedRow};
use crate::contract::{MONEY_PRECISION, MONEY_SCALE};
use crate::contract::{ColumnType, Table};

/// Rows per Arrow batch handed to the Parquet writer.
pub const BATCH_ROWS: usize = 64 * 1024;
/// Rows per Parquet row group: large enough for good compression and pruning,
/// small enough that the writer's buffer stays a few MB.
const ROW_GROUP_ROWS: usize = 512 * 1024;

enum ColumnBuilder {
    Text(StringBuilder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Money(Decimal128Builder),
}

pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl BatchBuilder {
    pub fn new(table: &Table) -> BatchBuilder {
        let columns = table
            .columns
            .iter()
            .map(|c| match c.kind {
                ColumnType::Text | ColumnType::Enum | ColumnType::RegionCode => {
                    ColumnBuilder::Text(StringBuilder::new())
                }
                ColumnType::Date => ColumnBuilder::Date(Date32Builder::new()),
                ColumnType::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
                ColumnType::Int => ColumnBuilder::Int(Int64Builder::new()),
                ColumnType::Money => ColumnBuilder::Money(
                    Decimal128Builder::new()
                        .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                        .expect("valid decimal type"),
                ),
            })
            .collect();
        BatchBuilder { schema: table.arrow_schema(), columns, rows: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends a row the validator accepted (cells match the column types).
    pub fn append(&mut self, row: &ParsedRow) {
        for (index, (builder, cell)) in self.columns.iter_mut().zip(&row.cells).enumerate() {
            match (builder, cell) {
                (ColumnBuilder::Text(b), Cell::Text { .. }) => b.append_value(row.text(index).unwrap_or_default()),
                (ColumnBuilder::Text(b), Cell::Null) => b.append_null(),
                (ColumnBuilder::Date(b), Cell::Date(d)) => b.append_value(*d),
                (ColumnBuilder::Date(b), Cell::Null) => b.append_null(),
                (ColumnBuilder::Bool(b), Cell::Bool(v)) => b.append_value(*v),
                (ColumnBuilder::Bool(b), Cell::Null) => b.append_null(),
                (ColumnBuilder::Int(b), Cell::Int(v)) => b.append_value(*v),
                (ColumnBuilder::Int(b), Cell::Null) => b.append_null(),
                (ColumnBuilder::Money(b), Cell::Money(v)) => b.append_value(*v),
                (ColumnBuilder::Money(b), Cell::Null) => b.append_null(),
                (_, cell) => unreachable!("validator produced {cell:?} for column {index}"),
            }
        }
        self.rows += 1;
    }

    /// The rows appended so far as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    ColumnBuilder::Text(b) => Arc::new(b.finish()),
                    ColumnBuilder::Date(b) => Arc::new(b.finish()),
                    ColumnBuilder::Bool(b) => Arc::new(b.finish()),
                    ColumnBuilder::Int(b) => Arc::new(b.finish()),
                    ColumnBuilder::Money(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays).expect("builders match the table schema")
    }
}

/// The Parquet writer for warehouse tables: zstd, one file, row groups of 512k rows.
pub fn parquet_writer<W: Write + Send>(
    output: W,
    table: &Table,
    as_of: &str,
) -> parquet::errors::Result<ArrowWriter<W>> {
    let mut props = WriterProperties::builder();
    // A one-column key is unique in every loaded row: a dictionary of it
    // would only be built to be thrown away, and no query prunes by its
    // range (each value is compared to find it: a tenth of the encoding).
    if let [key] = table.key_indices() {
        let path = ColumnPath::from(table.columns[*key].stored_name());
        props = props
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    // zstd level 1: the warehouse grows by a few percent, the encoding is faster.
    let props = props
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("reestr {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "reestr.as_of".to_string(),
            as_of.to_string(),
        )]))
        .build();
    ArrowWriter::try_new(output, table.arrow_schema(), Some(props))
}
