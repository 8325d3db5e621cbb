//! A mart's declared columns, read from `schemas/marts/<mart>.toml`: the one
//! place a mart's columns are listed (the file's format is described at the
//! top of `schemas/marts/national.toml`). Compute checks every mart it writes
//! against its schema; the exports take their Russian headers and number
//! formats from it, and the tests the columns marts.md requires.

use std::str::FromStr;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema};
use serde::{Deserialize, Deserializer};

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

impl Format {
    /// Whether a column of `data_type` can be shown this way.
    fn fits(self, data_type: &DataType) -> bool {
        match self {
            Format::Int | Format::Year => *data_type == DataType::Int64,
            Format::Pct => *data_type == DataType::Float64,
            Format::Money => matches!(data_type, DataType::Decimal128(_, _)),
            Format::Date => *data_type == DataType::Date32,
            Format::Bool => *data_type == DataType::Boolean,
            Format::Text => *data_type == DataType::Utf8,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MartSchema {
    pub name: String,
    pub description: String,
    pub columns: Vec<MartColumn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MartColumn {
    pub name: String,
    /// The Arrow type the query gives, as Arrow writes it (`Int64`, `Decimal128(18, 2)`).
    #[serde(rename = "type", deserialize_with = "arrow_type")]
    pub data_type: DataType,
    /// False: no row may hold a null (checked on every computed mart).
    pub nullable: bool,
    /// True: marts.md requires the column; false: an extra of reestr's.
    pub required: bool,
    pub format: Format,
    /// The Russian header of the column in the people's files.
    pub title: String,
}

fn arrow_type<'de, D: Deserializer<'de>>(d: D) -> Result<DataType, D::Error> {
    let text = String::deserialize(d)?;
    DataType::from_str(&text).map_err(|e| serde::de::Error::custom(format!("{text:?} is not an Arrow type ({e})")))
}

impl MartSchema {
    /// The schema in `schemas/marts/<file>.toml`.
    pub fn parse(file: &str, text: &str) -> Result<MartSchema, String> {
        let path = format!("schemas/marts/{file}.toml");
        let schema: MartSchema = toml::from_str(text).map_err(|e| format!("{path}: {e}"))?;
        if schema.name != file {
            return Err(format!("{path} declares mart {}; name it {file}", schema.name));
        }
        if schema.columns.is_empty() {
            return Err(format!("{path} declares no columns"));
        }
        for (i, column) in schema.columns.iter().enumerate() {
            if schema.columns[..i].iter().any(|c| c.name == column.name) {
                return Err(format!("{path}: column {} is declared twice", column.name));
            }
            if column.title.trim().is_empty() {
                return Err(format!("{path}: column {} has no title", column.name));
            }
            if !column.format.fits(&column.data_type) {
                return Err(format!(
                    "{path}: column {} is {} but has format {:?}",
                    column.name, column.data_type, column.format
                ));
            }
        }
        Ok(schema)
    }

    pub fn column(&self, name: &str) -> Option<&MartColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns marts.md requires, in order.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().filter(|c| c.required).map(|c| c.name.as_str())
    }

    /// How a computed mart differs from its schema, one sentence per
    /// difference (none when it matches): the same columns in the same
    /// order, of the same types, and no null where `nullable = false`.
    /// The Arrow fields' own nullability is not compared: DataFusion infers it
    /// differently from plan to plan; the values are what a reader gets.
    pub fn differences(&self, produced: &Schema, batches: &[RecordBatch]) -> Vec<String> {
        let mut out = Vec::new();
        let path = format!("schemas/marts/{}.toml", self.name);
        let given: Vec<&str> = produced.fields().iter().map(|f| f.name().as_str()).collect();
        let declared: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        for (i, field) in produced.fields().iter().enumerate() {
            if self.column(field.name()).is_none() {
                let after = i.checked_sub(1).map_or("first".to_string(), |p| format!("after {}", given[p]));
                out.push(format!(
                    "the query gives column {} ({}, {after}), which {path} lacks: add it there \
                     ([[columns]] name = \"{}\", type = \"{}\", nullable, required, format, title) or drop it from the query",
                    field.name(),
                    field.data_type(),
                    field.name(),
                    field.data_type()
                ));
            }
        }
        for column in &self.columns {
            if !given.contains(&column.name.as_str()) {
                out.push(format!(
                    "{path} declares column {} ({}), which the query does not give: add it to the query or remove it from the schema",
                    column.name, column.data_type
                ));
            }
        }
        let common_given: Vec<&str> = given.iter().copied().filter(|n| declared.contains(n)).collect();
        let common_declared: Vec<&str> = declared.iter().copied().filter(|n| given.contains(n)).collect();
        if common_given != common_declared {
            out.push(format!(
                "the columns are in another order: the query gives {}; {path} declares {}",
                common_given.join(", "),
                common_declared.join(", ")
            ));
        }
        for (i, field) in produced.fields().iter().enumerate() {
            let Some(column) = self.column(field.name()) else { continue };
            if *field.data_type() != column.data_type {
                out.push(format!(
                    "column {}: the query gives {}, {path} declares {} (cast in the query, or change the type in the schema)",
                    field.name(),
                    field.data_type(),
                    column.data_type
                ));
            }
            if !column.nullable {
                let nulls: usize = batches.iter().map(|b| b.column(i).null_count()).sum();
                if nulls > 0 {
                    out.push(format!(
                        "column {}: {nulls} rows are null, but {path} says nullable = false (coalesce in the query, or declare it nullable)",
                        field.name()
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

    use super::*;

    const SCHEMA: &str = r#"
name = "demo"
description = "A test mart."

[[columns]]
name = "region_code"
type = "Utf8"
nullable = false
required = true
format = "text"
title = "Код региона"

[[columns]]
name = "members"
type = "Int64"
nullable = false
required = true
format = "int"
title = "Членов"

[[columns]]
name = "share_pct"
type = "Float64"
nullable = true
required = false
format = "pct"
title = "Доля, %"
"#;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> (Schema, Vec<RecordBatch>) {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        ((*batch.schema()).clone(), vec![batch])
    }

    fn text(v: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    #[test]
    fn a_mart_as_declared_passes() {
        let schema = MartSchema::parse("demo", SCHEMA).unwrap();
        assert_eq!(schema.required().collect::<Vec<_>>(), ["region_code", "members"]);
        let (produced, batches) = batch(vec![
            ("region_code", text(&["01", "02"])),
            ("members", Arc::new(Int64Array::from(vec![1, 2]))),
            ("share_pct", Arc::new(Float64Array::from(vec![None, Some(0.5)]))),
        ]);
        assert_eq!(schema.differences(&produced, &batches), Vec::<String>::new());
        // No rows: the columns and types still count.
        assert_eq!(schema.differences(&produced, &[]), Vec::<String>::new());
    }

    #[test]
    fn every_kind_of_mismatch_is_named_with_the_file_to_fix() {
        let schema = MartSchema::parse("demo", SCHEMA).unwrap();
        // An extra column, a missing one, another type, a null where none may be.
        let (produced, batches) = batch(vec![
            ("region_code", text(&["01", "02"])),
            ("members", Arc::new(Float64Array::from(vec![Some(1.0), None]))),
            ("joined_pct", Arc::new(Float64Array::from(vec![0.1, 0.2]))),
        ]);
        let found = schema.differences(&produced, &batches);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0].contains("column joined_pct (Float64, after members), which schemas/marts/demo.toml lacks"),
            "{}",
            found[0]
        );
        assert!(
            found[1].contains("declares column share_pct (Float64), which the query does not give"),
            "{}",
            found[1]
        );
        assert!(
            found[2].contains("column members: the query gives Float64, schemas/marts/demo.toml declares Int64"),
            "{}",
            found[2]
        );
        assert!(found[3].contains("column members: 1 rows are null"), "{}", found[3]);

        let (swapped, batches) = batch(vec![
            ("members", Arc::new(Int64Array::from(vec![1]))),
            ("region_code", text(&["01"])),
            ("share_pct", Arc::new(Float64Array::from(vec![0.5]))),
        ]);
        let found = schema.differences(&swapped, &batches);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains("another order: the query gives members, region_code, share_pct"), "{}", found[0]);
    }

    #[test]
    fn a_bad_schema_file_is_refused() {
        assert!(MartSchema::parse("other", SCHEMA).unwrap_err().contains("declares mart demo"));
        let wrong_format = SCHEMA.replace("format = \"pct\"", "format = \"money\"");
        assert!(
            MartSchema::parse("demo", &wrong_format).unwrap_err().contains("share_pct is Float64 but has format Money")
        );
        let bad_type = SCHEMA.replace("\"Float64\"", "\"Float65\"");
        assert!(MartSchema::parse("demo", &bad_type).unwrap_err().contains("\"Float65\" is not an Arrow type"));
        let twice = SCHEMA.replace("name = \"share_pct\"", "name = \"members\"");
        assert!(MartSchema::parse("demo", &twice).unwrap_err().contains("members is declared twice"));
        let unknown = SCHEMA.replace("title = \"Членов\"", "title = \"Членов\"\nunit = \"чел.\"");
        assert!(MartSchema::parse("demo", &unknown).is_err(), "unknown keys are refused");
    }

    #[test]
    fn decimal_types_are_read_as_arrow_writes_them() {
        let money = SCHEMA.replace(
            "type = \"Float64\"\nnullable = true\nrequired = false\nformat = \"pct\"",
            "type = \"Decimal128(18, 2)\"\nnullable = true\nrequired = false\nformat = \"money\"",
        );
        let schema = MartSchema::parse("demo", &money).unwrap();
        assert_eq!(schema.columns[2].data_type, DataType::Decimal128(18, 2));
    }
}
