//! Marts as tables of typed cells, for the files people open: Russian column
//! titles and number formats from the marts' schemas (`schemas/marts/*.toml`),
//! and the guard against formula injection that every people's file applies.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type};
use chrono::NaiveDate;

use crate::compute::Definitions;
pub use crate::compute::Format;
use crate::contract::values::date_from_days;
use crate::contract::{HeadlineIndicator, QualityCheck};

#[derive(Debug, Clone)]
pub struct ColumnTitle {
    pub column: String,
    pub title: String,
    pub format: Format,
}

/// A mart's column as its schema declares it for people.
pub fn column_title(mart: &str, column: &str) -> Option<ColumnTitle> {
    let declared = Definitions::embedded().ok()?.schema(mart)?.column(column)?;
    Some(ColumnTitle { column: declared.name.clone(), title: declared.title.clone(), format: declared.format })
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
    /// The batches of `mart` as a table. A column its schema lacks (a mart an
    /// older engine computed) keeps its contract name and is shown as it is.
    pub fn from_batches(mart: &str, schema: &arrow::datatypes::Schema, batches: &[RecordBatch]) -> Table {
        let columns: Vec<ColumnTitle> = schema
            .fields()
            .iter()
            .map(|f| {
                column_title(mart, f.name()).unwrap_or(ColumnTitle {
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
        let index: Vec<usize> = names.iter().filter_map(|n| self.columns.iter().position(|c| c.column == *n)).collect();
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
        DataType::Date32 => Cell::Date(date_from_days(array.as_primitive::<Date32Type>().value(row))),
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
        ("indicator", i) => HeadlineIndicator::find(i).map(|h| h.title.as_str()),
        ("scope", "national") => Some("Профсоюз"),
        ("scope", "region") => Some("региональная организация"),
        ("scope", "district") => Some("федеральный округ"),
        ("compared_period", "year") => Some("за год"),
        ("compared_period", "quarter") => Some("за квартал"),
        ("change_group", "grew") => Some("рост"),
        ("change_group", "fell") => Some("снижение"),
        ("change_group", "unchanged") => Some("без изменения"),
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
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠') => {
            std::borrow::Cow::Owned(format!("'{text}"))
        }
        _ => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes of the marts reach people's files as words.
    #[test]
    fn codes_are_written_in_words() {
        let words = |column: &str, code: &str| match in_words(column, Cell::Text(code.into())) {
            Cell::Text(t) => t,
            _ => unreachable!(),
        };
        assert_eq!(words("indicator", "members"), "Члены Профсоюза в реестре");
        assert_eq!(words("indicator", "cards_refused"), "Отказались от электронного билета");
        assert_eq!(words("scope", "national"), "Профсоюз");
        assert_eq!(words("compared_period", "quarter"), "за квартал");
        assert_eq!(words("region_code", "members"), "members", "only the columns of codes");
        // The indicators with words are the mart's rows, one each.
        let sql = include_str!("../../queries/marts/national_changes.sql");
        let indicators = crate::contract::HeadlineIndicator::all();
        assert_eq!(sql.matches("FROM n CROSS JOIN b").count(), indicators.len(), "one row of the mart per indicator");
        for indicator in indicators {
            assert!(
                sql.contains(&format!("'{}'", indicator.indicator)),
                "{} is no row of national_changes",
                indicator.indicator
            );
        }
    }

    #[test]
    fn formulas_are_neutralised() {
        for hostile in ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(hostile), format!("'{hostile}"));
        }
        assert_eq!(neutralise("ППО школы № 1"), "ППО школы № 1");
        assert_eq!(neutralise(""), "");
    }

    /// A mart's rows as `marts.rs` reads them (Arrow → JSON → serde), built
    /// from its schema: one with every value set, one with nulls wherever the
    /// schema allows them. `T` must read both, and every field it writes
    /// back must be a column of the mart (an `Option` field the mart lacks
    /// would otherwise read as None without a word).
    fn rows_fit<T: serde::de::DeserializeOwned + serde::Serialize>(mart: &str) -> Result<(), String> {
        use std::sync::Arc;

        use arrow::array::{
            ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
        };
        use arrow::datatypes::{Field, Schema};

        let schema = Definitions::embedded().unwrap().schema(mart).unwrap_or_else(|| panic!("no mart {mart}"));
        let arrays: Vec<ArrayRef> = schema
            .columns
            .iter()
            .map(|c| -> ArrayRef {
                let set = !c.nullable;
                match &c.data_type {
                    DataType::Int64 => Arc::new(Int64Array::from(vec![Some(7), set.then_some(7)])),
                    DataType::Float64 => Arc::new(Float64Array::from(vec![Some(12.5), set.then_some(12.5)])),
                    DataType::Utf8 => Arc::new(StringArray::from(vec![Some("01"), set.then_some("01")])),
                    DataType::Boolean => Arc::new(BooleanArray::from(vec![Some(true), set.then_some(true)])),
                    DataType::Date32 => Arc::new(Date32Array::from(vec![Some(19_682), set.then_some(19_682)])),
                    DataType::Decimal128(p, s) => Arc::new(
                        Decimal128Array::from(vec![Some(12_345), set.then_some(12_345)])
                            .with_precision_and_scale(*p, *s)
                            .unwrap(),
                    ),
                    other => panic!("{mart}.{}: no sample value of {other}", c.name),
                }
            })
            .collect();
        let fields: Vec<Field> =
            schema.columns.iter().map(|c| Field::new(&c.name, c.data_type.clone(), true)).collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
        let mut json = arrow::json::ArrayWriter::new(Vec::new());
        json.write(&batch).unwrap();
        json.finish().unwrap();
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&json.into_inner()).unwrap();
        for (i, row) in rows.into_iter().enumerate() {
            let typed: T = serde_json::from_value(row).map_err(|e| format!("{mart}, row {i}: {e}"))?;
            let written = serde_json::to_value(&typed).unwrap();
            for field in written.as_object().expect("a row is an object").keys() {
                if schema.column(field).is_none() {
                    return Err(format!("{mart}: field {field} is no column of schemas/marts/{mart}.toml"));
                }
            }
        }
        Ok(())
    }

    #[test]
    fn the_rows_publishing_reads_are_columns_of_their_marts() {
        use crate::publish::marts::{
            CoverageBand, District, MemberFlow, MemberFlowGroup, National, NationalChange, ProfcardsMonth,
            ProfcardsSpan, ProfcardsYear, QualityRow, Region, RegionsSummary, WorklistRegion, WorklistRow,
        };
        rows_fit::<National>("national").unwrap();
        rows_fit::<Region>("regions").unwrap();
        rows_fit::<District>("federal_districts").unwrap();
        rows_fit::<QualityRow>("data_quality").unwrap();
        rows_fit::<WorklistRow>("worklist").unwrap();
        rows_fit::<ProfcardsMonth>("profcards_monthly").unwrap();
        rows_fit::<ProfcardsYear>("profcards_yearly").unwrap();
        rows_fit::<CoverageBand>("coverage_bands").unwrap();
        rows_fit::<RegionsSummary>("regions_summary").unwrap();
        rows_fit::<WorklistRegion>("worklist_regions").unwrap();
        rows_fit::<ProfcardsSpan>("profcards_summary").unwrap();
        rows_fit::<NationalChange>("national_changes").unwrap();
        rows_fit::<MemberFlow>("member_flows").unwrap();
        rows_fit::<MemberFlowGroup>("member_flow_groups").unwrap();
    }

    #[test]
    fn a_row_naming_a_column_its_mart_lacks_is_caught() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct Misnamed {
            members: i64,
            members_total: Option<i64>,
        }
        let e = rows_fit::<Misnamed>("national").unwrap_err();
        assert!(e.contains("field members_total is no column of schemas/marts/national.toml"), "{e}");
        #[derive(serde::Deserialize, serde::Serialize)]
        struct NeverNull {
            members_official: i64,
        }
        let e = rows_fit::<NeverNull>("national").unwrap_err();
        assert!(e.contains("row 1") && e.contains("members_official"), "{e}");
    }

    #[test]
    fn columns_take_their_title_and_format_from_their_mart() {
        let members = column_title("regions", "members").unwrap();
        assert_eq!((members.title.as_str(), members.format), ("Членов Профсоюза в реестре", Format::Int));
        assert_eq!(column_title("national", "coverage_pct").unwrap().format, Format::Pct);
        assert_eq!(column_title("profcards_monthly", "amount").unwrap().format, Format::Money);
        assert_eq!(column_title("profcards_yearly", "ytd").unwrap().format, Format::Bool);
        // The same name may be titled for its mart.
        assert_ne!(column_title("worklist", "members").unwrap().title, members.title);
        assert!(column_title("national", "region_code").is_none(), "national has no regions");
    }
}
