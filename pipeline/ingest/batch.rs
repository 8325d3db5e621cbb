//! Typed columns filled from checked fields, the Arrow batches they become,
//! and the zstd Parquet writer those go to.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::contract::{ColumnType, Table};

/// Rows per Arrow batch handed to the Parquet writer.
pub const BATCH_ROWS: usize = 64 * 1024;
/// Rows per Parquet row group: large enough for good compression and pruning,
/// small enough that the writer's buffer stays a few MB.
const ROW_GROUP_ROWS: usize = 512 * 1024;

/// The values of one column of a batch being filled.
enum Column {
    /// UTF-8 text: `offsets` starts with 0 and has one more entry than rows.
    Text {
        offsets: Vec<i32>,
        bytes: Vec<u8>,
    },
    Date(Vec<i32>),
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Money(Vec<i128>),
}

/// Typed columns filled a field at a time by the validator; a row that fails
/// a check half-way is taken back (`rollback_row`). Rows go straight from
/// the CSV field to the column, with no row in between.
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<Column>,
    valid: Vec<Vec<bool>>,
    rows: usize,
    /// The buffers of a batch already encoded, to fill again: fresh memory
    /// for every batch cost more in page faults than the copy into Arrow.
    spare: Option<FilledBatch>,
}

/// A batch's columns as filled, turned into Arrow arrays on the encoding
/// thread (`into_batch`), which has the time to spare.
pub struct FilledBatch {
    schema: SchemaRef,
    columns: Vec<Column>,
    valid: Vec<Vec<bool>>,
}

impl BatchBuilder {
    pub fn new(table: &Table) -> BatchBuilder {
        BatchBuilder {
            schema: table.arrow_schema(),
            columns: empty_columns(table),
            valid: vec![Vec::new(); table.columns.len()],
            rows: 0,
            spare: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    #[inline]
    pub fn push_null(&mut self, column: usize) {
        match &mut self.columns[column] {
            Column::Text { offsets, bytes } => offsets.push(bytes.len() as i32),
            Column::Date(v) => v.push(0),
            Column::Bool(v) => v.push(false),
            Column::Int(v) => v.push(0),
            Column::Money(v) => v.push(0),
        }
        self.valid[column].push(false);
    }

    #[inline]
    pub fn push_text(&mut self, column: usize, text: &str) {
        let Column::Text { offsets, bytes } = &mut self.columns[column] else {
            unreachable!("text into column {column}")
        };
        bytes.extend_from_slice(text.as_bytes());
        offsets.push(bytes.len() as i32);
        self.valid[column].push(true);
    }

    #[inline]
    pub fn push_date(&mut self, column: usize, days: i32) {
        let Column::Date(v) = &mut self.columns[column] else { unreachable!("date into column {column}") };
        v.push(days);
        self.valid[column].push(true);
    }

    #[inline]
    pub fn push_bool(&mut self, column: usize, value: bool) {
        let Column::Bool(v) = &mut self.columns[column] else { unreachable!("bool into column {column}") };
        v.push(value);
        self.valid[column].push(true);
    }

    #[inline]
    pub fn push_int(&mut self, column: usize, value: i64) {
        let Column::Int(v) = &mut self.columns[column] else { unreachable!("int into column {column}") };
        v.push(value);
        self.valid[column].push(true);
    }

    #[inline]
    pub fn push_money(&mut self, column: usize, cents: i128) {
        let Column::Money(v) = &mut self.columns[column] else { unreachable!("money into column {column}") };
        v.push(cents);
        self.valid[column].push(true);
    }

    /// The text of a column in the row being filled (`None` when null or not
    /// filled yet).
    pub fn text(&self, column: usize) -> Option<&str> {
        let Column::Text { offsets, bytes } = &self.columns[column] else { return None };
        if !self.valid[column].get(self.rows).copied().unwrap_or(false) {
            return None;
        }
        let (start, end) = (offsets[self.rows] as usize, offsets[self.rows + 1] as usize);
        // Pushed as `&str`, so whole characters.
        std::str::from_utf8(&bytes[start..end]).ok()
    }

    /// The row being filled is complete.
    pub fn commit_row(&mut self) {
        self.rows += 1;
    }

    /// Takes back whatever of the row being filled was pushed.
    pub fn rollback_row(&mut self) {
        let rows = self.rows;
        for (column, valid) in self.columns.iter_mut().zip(&mut self.valid) {
            valid.truncate(rows);
            match column {
                Column::Text { offsets, bytes } => {
                    offsets.truncate(rows + 1);
                    bytes.truncate(offsets[rows] as usize);
                }
                Column::Date(v) => v.truncate(rows),
                Column::Bool(v) => v.truncate(rows),
                Column::Int(v) => v.truncate(rows),
                Column::Money(v) => v.truncate(rows),
            }
        }
    }

    /// Takes an encoded batch's buffers back, to fill again.
    pub fn reuse(&mut self, spent: FilledBatch) {
        self.spare = Some(spent);
    }

    /// The rows committed so far; the builder starts empty again.
    pub fn finish(&mut self) -> FilledBatch {
        let (columns, valid) = match self.spare.take() {
            Some(FilledBatch { mut columns, mut valid, .. }) => {
                columns.iter_mut().for_each(Column::clear);
                valid.iter_mut().for_each(Vec::clear);
                (columns, valid)
            }
            None => (self.columns.iter().map(Column::empty_like).collect(), vec![Vec::new(); self.columns.len()]),
        };
        let filled = FilledBatch {
            schema: self.schema.clone(),
            columns: std::mem::replace(&mut self.columns, columns),
            valid: std::mem::replace(&mut self.valid, valid),
        };
        self.rows = 0;
        filled
    }
}

fn empty_columns(table: &Table) -> Vec<Column> {
    let column = |kind: ColumnType| match kind {
        ColumnType::Text | ColumnType::Enum | ColumnType::RegionCode => {
            Column::Text { offsets: vec![0], bytes: Vec::new() }
        }
        ColumnType::Date => Column::Date(Vec::new()),
        ColumnType::Bool => Column::Bool(Vec::new()),
        ColumnType::Int => Column::Int(Vec::new()),
        ColumnType::Money => Column::Money(Vec::new()),
    };
    table.columns.iter().map(|c| column(c.kind)).collect()
}

impl Column {
    fn clear(&mut self) {
        match self {
            Column::Text { offsets, bytes } => {
                offsets.clear();
                offsets.push(0);
                bytes.clear();
            }
            Column::Date(v) => v.clear(),
            Column::Bool(v) => v.clear(),
            Column::Int(v) => v.clear(),
            Column::Money(v) => v.clear(),
        }
    }

    /// An empty column of the same type, sized for a batch like the last one.
    fn empty_like(&self) -> Column {
        match self {
            Column::Text { offsets, bytes } => {
                let mut new_offsets = Vec::with_capacity(offsets.capacity());
                new_offsets.push(0);
                Column::Text { offsets: new_offsets, bytes: Vec::with_capacity(bytes.capacity()) }
            }
            Column::Date(v) => Column::Date(Vec::with_capacity(v.capacity())),
            Column::Bool(v) => Column::Bool(Vec::with_capacity(v.capacity())),
            Column::Int(v) => Column::Int(Vec::with_capacity(v.capacity())),
            Column::Money(v) => Column::Money(Vec::with_capacity(v.capacity())),
        }
    }
}

impl FilledBatch {
    /// The rows as an Arrow batch (copied: the buffers go back to be filled again).
    pub fn to_batch(&self) -> Result<RecordBatch, arrow::error::ArrowError> {
        fn scalars<T: arrow::datatypes::ArrowNativeType>(v: &[T]) -> ScalarBuffer<T> {
            ScalarBuffer::new(Buffer::from_slice_ref(v), 0, v.len())
        }
        let fields = self.schema.fields().iter();
        let arrays = self.columns.iter().zip(&self.valid).zip(fields).map(|((column, valid), field)| {
            let nulls = valid.contains(&false).then(|| NullBuffer::from(valid.as_slice()));
            let array: ArrayRef = match column {
                Column::Text { offsets, bytes } => Arc::new(StringArray::try_new(
                    OffsetBuffer::new(scalars(offsets)),
                    Buffer::from_slice_ref(bytes),
                    nulls,
                )?),
                Column::Date(v) => Arc::new(Date32Array::new(scalars(v), nulls)),
                Column::Bool(v) => Arc::new(BooleanArray::new(BooleanBuffer::from(v.as_slice()), nulls)),
                Column::Int(v) => Arc::new(Int64Array::new(scalars(v), nulls)),
                Column::Money(v) => {
                    Arc::new(Decimal128Array::new(scalars(v), nulls).with_data_type(field.data_type().clone()))
                }
            };
            Ok(array)
        });
        let arrays = arrays.collect::<Result<Vec<_>, arrow::error::ArrowError>>()?;
        RecordBatch::try_new(self.schema.clone(), arrays)
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
