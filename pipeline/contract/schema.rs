//! Table definitions read from `schemas/snapshot/*.toml`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;

/// Tables in processing order: a table's references point only to tables
/// before it (or to itself), so each referential check finds its ids loaded.
const TABLE_FILES: &[(&str, &str)] = &[
    ("organizations", include_str!("../../schemas/snapshot/organizations.toml")),
    ("members", include_str!("../../schemas/snapshot/members.toml")),
    ("stat_reports", include_str!("../../schemas/snapshot/stat_reports.toml")),
    ("official_stats", include_str!("../../schemas/snapshot/official_stats.toml")),
    ("profcards_purchases", include_str!("../../schemas/snapshot/profcards_purchases.toml")),
];

/// Money is stored as Decimal128 with this precision and scale (kopecks).
pub const MONEY_PRECISION: u8 = 18;
pub const MONEY_SCALE: i8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    Date,
    Bool,
    Int,
    Money,
    Enum,
    /// Two-digit code of a subject of the Russian Federation; `1` is read as `01`.
    RegionCode,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RequiredUnless {
    pub column: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// A contract table, or `reference.regions` for the built-in region list.
    pub table: String,
    pub column: String,
    /// Stable reject reason when the referenced id is not loaded.
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    /// Name in the warehouse when it differs from the contract name.
    #[serde(default)]
    pub stored_as: Option<String>,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    pub required: bool,
    #[serde(default)]
    pub required_unless: Option<RequiredUnless>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub aliases: HashMap<String, String>,
    #[serde(default)]
    pub references: Option<Reference>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub min_exclusive: Option<i64>,
    /// A date that must be a quarter start (report periods).
    #[serde(default)]
    pub quarter_start: bool,
    /// Russian name shown to the operators in reject messages.
    pub title: String,
    /// Lower-cased accepted spellings → canonical value, built at load.
    #[serde(skip)]
    enum_lookup: HashMap<String, usize>,
}

impl Column {
    pub fn stored_name(&self) -> &str {
        self.stored_as.as_deref().unwrap_or(&self.name)
    }

    /// Canonical enum value for a trimmed input, matched case-insensitively
    /// against the values and their aliases.
    pub fn canonical_enum(&self, raw: &str) -> Option<&str> {
        // Most values come spelled as the contract spells them: no allocation.
        // Lengths and first bytes first: one full comparison, not one a value.
        let same =
            |v: &&String| v.len() == raw.len() && v.as_bytes().first() == raw.as_bytes().first() && v.as_str() == raw;
        if let Some(v) = self.values.iter().find(same) {
            return Some(v.as_str());
        }
        let key = raw.to_lowercase();
        self.enum_lookup.get(&key).map(|&i| self.values[i].as_str())
    }

    pub fn arrow_type(&self) -> DataType {
        match self.kind {
            ColumnType::Text | ColumnType::Enum | ColumnType::RegionCode => DataType::Utf8,
            ColumnType::Date => DataType::Date32,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int => DataType::Int64,
            ColumnType::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
        }
    }

    /// A column is stored non-nullable only when no row may leave it empty.
    pub fn nullable(&self) -> bool {
        !self.required || self.required_unless.is_some()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    pub title: String,
    pub required_file: bool,
    pub key: Vec<String>,
    pub columns: Vec<Column>,
    #[serde(skip)]
    key_indices: Vec<usize>,
}

impl Table {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Indices of the unique-key columns (empty when the table has no key).
    pub fn key_indices(&self) -> &[usize] {
        &self.key_indices
    }

    /// The Arrow schema of the table as stored in the warehouse.
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<Field> =
            self.columns.iter().map(|c| Field::new(c.stored_name(), c.arrow_type(), c.nullable())).collect();
        Arc::new(Schema::new(fields))
    }

    /// True when a column of this table references the table itself
    /// (organizations.parent_id): such a table is validated in memory.
    pub fn self_referencing(&self) -> bool {
        self.columns.iter().any(|c| c.references.as_ref().is_some_and(|r| r.table == self.name))
    }
}

#[derive(Debug)]
pub struct Contract {
    tables: Vec<Table>,
}

static CONTRACT: LazyLock<Contract> =
    LazyLock::new(|| Contract::from_sources(TABLE_FILES).unwrap_or_else(|e| panic!("embedded schema is invalid: {e}")));

impl Contract {
    /// The contract compiled into this binary (checked by the test suite, so the
    /// panic above can only fire on a build whose schema files are broken).
    pub fn embedded() -> &'static Contract {
        &CONTRACT
    }

    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Contract, String> {
        let mut tables: Vec<Table> = Vec::new();
        for (file, text) in sources {
            let mut table: Table = toml::from_str(text).map_err(|e| format!("{file}.toml: {e}"))?;
            if table.name != *file {
                return Err(format!("{file}.toml declares table {}", table.name));
            }
            for column in &mut table.columns {
                prepare_column(column).map_err(|e| format!("{file}.toml: {e}"))?;
            }
            table.key_indices = table
                .key
                .iter()
                .map(|k| table.column_index(k).ok_or_else(|| format!("{file}.toml: key column {k} is not a column")))
                .collect::<Result<_, _>>()?;
            for column in &table.columns {
                if let Some(r) = &column.references {
                    let known = r.table == "reference.regions"
                        || r.table == table.name
                        || tables.iter().any(|t| t.name == r.table && t.key == [r.column.clone()]);
                    if !known {
                        return Err(format!(
                            "{file}.toml: {} references {}.{}, which is not the key of an earlier table",
                            column.name, r.table, r.column
                        ));
                    }
                }
                if let Some(u) = &column.required_unless
                    && table.column_index(&u.column).is_none()
                {
                    return Err(format!("{file}.toml: required_unless names unknown column {}", u.column));
                }
            }
            tables.push(table);
        }
        Ok(Contract { tables })
    }

    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn prepare_column(column: &mut Column) -> Result<(), String> {
    if column.kind == ColumnType::Enum {
        if column.values.is_empty() {
            return Err(format!("enum column {} has no values", column.name));
        }
        let mut lookup = HashMap::new();
        for (i, v) in column.values.iter().enumerate() {
            lookup.insert(v.to_lowercase(), i);
        }
        for (alias, target) in &column.aliases {
            let i = column
                .values
                .iter()
                .position(|v| v == target)
                .ok_or_else(|| format!("alias {alias} of {} points to unknown value {target}", column.name))?;
            lookup.insert(alias.to_lowercase(), i);
        }
        column.enum_lookup = lookup;
    } else if !column.values.is_empty() || !column.aliases.is_empty() {
        return Err(format!("column {} has enum values but is not an enum", column.name));
    }
    Ok(())
}
