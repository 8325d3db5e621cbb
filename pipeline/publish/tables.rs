//! Marts as tables of typed cells, for the files people open: Russian column
//! titles and number formats from `schemas/reference/mart_columns.csv`, and
//! the guard against formula injection that every people's file applies.

use std::sync::LazyLock;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::contract::QualityCheck;
use crate::contract::values::date_from_days;

const COLUMNS_CSV: &str = include_str!("../../schemas/reference/mart_columns.csv");

/// How a column is shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Int,
    Pct,
    Money,
    Date,
    Year,
    Bool,
    Text,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnTitle {
    pub column: String,
    pub title: String,
    pub format: Format,
}

static TITLES: LazyLock<Vec<ColumnTitle>> = LazyLock::new(|| {
    csv::Reader::from_reader(COLUMNS_CSV.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("mart_columns.csv is invalid: {e}"))
});

pub fn column_title(column: &str) -> Option<&'static ColumnTitle> {
    TITLES.iter().find(|c| c.column == column)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Date(NaiveDate),
    Bool(bool),
}

/// A mart for people: titled columns and rows of cells, codes put into words.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<ColumnTitle>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The batches of a mart as a table. Columns without a title in the
    /// reference keep their contract name and are shown as they are.
    pub fn from_batches(schema: &arrow::datatypes::Schema, batches: &[RecordBatch]) -> Table {
        let columns: Vec<ColumnTitle> = schema
            .fields()
            .iter()
            .map(|f| {
                column_title(f.name()).cloned().unwrap_or(ColumnTitle {
                    column: f.name().clone(),
                    title: f.name().clone(),
                    format: Format::Text,
                })
            })
            .collect();
        let mut rows = Vec::new();
        for batch in batches {
            for r in 0..batch.num_rows() {
                let row = batch
                    .columns()
                    .iter()
                    .zip(&columns)
                    .map(|(array, column)| in_words(&column.column, cell(array.as_ref(), r)))
                    .collect();
                rows.push(row);
            }
        }
        Table { columns, rows }
    }

    /// Only the named columns, in that order.
    pub fn select(&self, names: &[&str]) -> Table {
        let index: Vec<usize> =
            names.iter().filter_map(|n| self.columns.iter().position(|c| c.column == *n)).collect();
        Table {
            columns: index.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self.rows.iter().map(|r| index.iter().map(|&i| r[i].clone()).collect()).collect(),
        }
    }
}

fn cell(array: &dyn Array, row: usize) -> Cell {
    if array.is_null(row) {
        return Cell::Empty;
    }
    match array.data_type() {
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(row).to_string()),
        DataType::Int64 => Cell::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Cell::Int(i64::from(array.as_primitive::<Int32Type>().value(row))),
        DataType::Float64 => Cell::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Cell::Bool(array.as_boolean().value(row)),
        DataType::Date32 => {
            Cell::Date(date_from_days(array.as_primitive::<Date32Type>().value(row)))
        }
        DataType::Decimal128(_, scale) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            Cell::Float(v as f64 / 10f64.powi(i32::from(*scale)))
        }
        other => Cell::Text(format!("{other}")),
    }
}

/// Codes of the marts as people read them.
fn in_words(column: &str, cell: Cell) -> Cell {
    let Cell::Text(code) = &cell else { return cell };
    let words = match (column, code.as_str()) {
        ("check", c) => QualityCheck::find(c).map(|q| q.title.as_str()),
        ("scope", "national") => Some("Профсоюз"),
        ("scope", "region") => Some("региональная организация"),
        ("unit", "organizations") => Some("организации"),
        ("unit", "members") => Some("члены Профсоюза"),
        ("unit", "gap") => Some("расхождение с отчётом"),
        ("level", l) => level_in_words(l),
        ("span", "year_to_period") => Some("месяцы года до отчётного периода"),
        ("span", "year_to_period_prev") => Some("те же месяцы годом ранее"),
        ("span", "all") => Some("всё время программы"),
        _ => None,
    };
    words.map_or(cell, |w| Cell::Text(w.to_string()))
}

pub fn level_in_words(level: &str) -> Option<&'static str> {
    Some(match level {
        "regional" => "региональная",
        "territorial" => "территориальная",
        "primary" => "первичная",
        "subdivision" => "структурное подразделение",
        _ => return None,
    })
}

/// Text taken from data that a spreadsheet would read as a formula (`=`,
/// `+`, `-`, `@`, tab, CR first) gets a leading `'`, so it stays text.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        // Full-width forms too: some spreadsheets fold them to ASCII.
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠') => std::borrow::Cow::Owned(format!("'{text}")),
        _ => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for hostile in ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(hostile), format!("'{hostile}"));
        }
        assert_eq!(neutralise("ППО школы № 1"), "ППО школы № 1");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn every_mart_column_has_a_title() {
        for column in ["members", "coverage_pct", "check", "amount", "month", "ytd"] {
            assert!(column_title(column).is_some(), "{column}");
        }
    }
}
