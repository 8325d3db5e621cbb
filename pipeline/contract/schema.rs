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

/// Per-type limits every column gets unless its table narrows them.
const LIMITS_FILE: &str = include_str!("../../schemas/limits.toml");

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
    /// Largest value of an int or money column, in whole units (rubles);
    /// narrows `schemas/limits.toml`.
    #[serde(default)]
    pub max: Option<i64>,
    /// Earliest and latest date (`YYYY-MM-DD`) of a date column; narrow
    /// `schemas/limits.toml`.
    #[serde(default)]
    pub earliest: Option<String>,
    #[serde(default)]
    pub latest: Option<String>,
    /// Longest text in characters; narrows `schemas/limits.toml`.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Russian name shown to the operators in reject messages.
    pub title: String,
    /// Lower-cased accepted spellings → canonical value, built at load.
    #[serde(skip)]
    enum_lookup: HashMap<String, usize>,
    /// The limits in force: the type's defaults, narrowed by the column.
    #[serde(skip)]
    limits: Limits,
}

/// What ingest accepts of a column beyond its type, resolved at load. Fields
/// that do not apply to the column's type hold no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Dates, inclusive, in days since 1970-01-01.
    pub earliest: i32,
    pub latest: i32,
    /// Ints and money, inclusive, in the stored unit (kopecks for money).
    pub max: i128,
    /// Text, in characters.
    pub max_length: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { earliest: i32::MIN, latest: i32::MAX, max: i128::MAX, max_length: usize::MAX }
    }
}

/// `schemas/limits.toml`: the widest limits of each type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeLimits {
    date: DateLimits,
    int: NumberLimit,
    money: NumberLimit,
    text: TextLimit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DateLimits {
    earliest: String,
    latest: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberLimit {
    max: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextLimit {
    max_length: usize,
}

impl Column {
    /// The limits ingest enforces on this column.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

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
        Contract::with_limits(sources, LIMITS_FILE)
    }

    /// The contract of `sources` under the per-type limits `limits` (the text
    /// of a `schemas/limits.toml`).
    pub fn with_limits(sources: &[(&str, &str)], limits: &str) -> Result<Contract, String> {
        let defaults: TypeLimits = toml::from_str(limits).map_err(|e| format!("limits.toml: {e}"))?;
        let defaults = type_limits(&defaults).map_err(|e| format!("limits.toml: {e}"))?;
        let mut tables: Vec<Table> = Vec::new();
        for (file, text) in sources {
            let mut table: Table = toml::from_str(text).map_err(|e| format!("{file}.toml: {e}"))?;
            if table.name != *file {
                return Err(format!("{file}.toml declares table {}", table.name));
            }
            for column in &mut table.columns {
                prepare_column(column).map_err(|e| format!("{file}.toml: {e}"))?;
                column.limits = column_limits(column, &defaults).map_err(|e| format!("{file}.toml: {e}"))?;
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

/// The defaults of `schemas/limits.toml` per type, resolved.
struct Defaults {
    date: Limits,
    int: Limits,
    money: Limits,
    text: Limits,
}

fn type_limits(t: &TypeLimits) -> Result<Defaults, String> {
    let none = Limits::default();
    let (earliest, latest) = (iso_days(&t.date.earliest)?, iso_days(&t.date.latest)?);
    if earliest > latest {
        return Err(format!("date: earliest {} is after latest {}", t.date.earliest, t.date.latest));
    }
    Ok(Defaults {
        date: Limits { earliest, latest, ..none },
        int: Limits { max: i128::from(t.int.max), ..none },
        money: Limits { max: i128::from(t.money.max) * 10i128.pow(MONEY_SCALE as u32), ..none },
        text: Limits { max_length: t.text.max_length, ..none },
    })
}

fn iso_days(text: &str) -> Result<i32, String> {
    super::values::parse_iso_date(text)
        .map(super::values::days_from_date)
        .ok_or_else(|| format!("{text} is not a YYYY-MM-DD date"))
}

/// A column's limits: its type's defaults, narrowed (never widened: the
/// defaults are what compute and publish are known to handle) by the column.
fn column_limits(column: &Column, defaults: &Defaults) -> Result<Limits, String> {
    let name = &column.name;
    let misplaced = |what: &str| Err(format!("column {name} sets {what}, which its type does not have"));
    let dates = column.earliest.is_some() || column.latest.is_some();
    let mut limits = match column.kind {
        ColumnType::Date => defaults.date,
        ColumnType::Int => defaults.int,
        ColumnType::Money => defaults.money,
        ColumnType::Text => defaults.text,
        // Bounded by their value lists.
        ColumnType::Bool | ColumnType::Enum | ColumnType::RegionCode => Limits::default(),
    };
    if dates && column.kind != ColumnType::Date {
        return misplaced("earliest/latest");
    }
    if column.max.is_some() && !matches!(column.kind, ColumnType::Int | ColumnType::Money) {
        return misplaced("max");
    }
    if column.max_length.is_some() && column.kind != ColumnType::Text {
        return misplaced("max_length");
    }
    let wider =
        |what: &str| Err(format!("column {name}: {what} is outside schemas/limits.toml; only narrowing is allowed"));
    if let Some(earliest) = &column.earliest {
        let days = iso_days(earliest)?;
        if days < limits.earliest {
            return wider("earliest");
        }
        limits.earliest = days;
    }
    if let Some(latest) = &column.latest {
        let days = iso_days(latest)?;
        if days > limits.latest {
            return wider("latest");
        }
        limits.latest = days;
    }
    if limits.earliest > limits.latest {
        return Err(format!("column {name}: earliest is after latest"));
    }
    if let Some(max) = column.max {
        let scale = if column.kind == ColumnType::Money { 10i128.pow(MONEY_SCALE as u32) } else { 1 };
        let max = i128::from(max) * scale;
        if max > limits.max {
            return wider("max");
        }
        limits.max = max;
    }
    if let Some(max_length) = column.max_length {
        if max_length > limits.max_length {
            return wider("max_length");
        }
        limits.max_length = max_length;
    }
    Ok(limits)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::values::parse_date;

    const TABLE: &str = "name = \"t\"\ntitle = \"T\"\nrequired_file = true\nkey = []\n";

    fn one_column(column: &str) -> Result<Contract, String> {
        let text = format!("{TABLE}[[columns]]\n{column}\ntitle = \"x\"\n");
        Contract::from_sources(&[("t", text.as_str())])
    }

    #[test]
    fn columns_get_their_types_limits_narrowed_by_the_table() {
        let contract = Contract::embedded();
        let limits = |t: &str, c: &str| {
            *contract.table(t).unwrap().columns[contract.table(t).unwrap().column_index(c).unwrap()].limits()
        };
        let purchased = limits("profcards_purchases", "purchased_on");
        assert_eq!(
            (Some(purchased.earliest), Some(purchased.latest)),
            (parse_date("1900-01-01"), parse_date("2100-12-31"))
        );
        assert_eq!(limits("organizations", "registered_on").earliest, parse_date("1905-01-01").unwrap());
        assert_eq!(limits("profcards_purchases", "amount").max, 1_000_000_000, "10 000 000 ₽ in kopecks");
        assert_eq!(limits("official_stats", "members").max, 100_000_000);
        assert_eq!(limits("organizations", "name").max_length, 1000);
        assert_eq!(limits("members", "member_id").max_length, 100);
        assert_eq!(limits("members", "category"), Limits::default());
        // Ceiling × a billion rows still fits the marts' Decimal(18, 2) sums.
        assert!(limits("profcards_purchases", "amount").max * 999_999_999 < 10i128.pow(MONEY_PRECISION as u32));
    }

    #[test]
    fn a_table_may_narrow_the_limits_but_never_widen_them() {
        assert!(one_column("name = \"d\"\ntype = \"date\"\nrequired = true\nearliest = \"2000-01-01\"").is_ok());
        let e = one_column("name = \"d\"\ntype = \"date\"\nrequired = true\nearliest = \"1500-01-01\"").unwrap_err();
        assert!(e.contains("only narrowing"), "{e}");
        let e = one_column("name = \"m\"\ntype = \"money\"\nrequired = true\nmax = 20000000").unwrap_err();
        assert!(e.contains("only narrowing"), "{e}");
        let e = one_column("name = \"b\"\ntype = \"bool\"\nrequired = true\nmax_length = 5").unwrap_err();
        assert!(e.contains("does not have"), "{e}");
        let e = one_column("name = \"d\"\ntype = \"date\"\nrequired = true\nlatest = \"31.12.2000\"").unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        let e = Contract::with_limits(&[], "[date]\nearliest = \"2000-01-01\"\nlatest = \"1999-01-01\"\n[int]\nmax = 1\n[money]\nmax = 1\n[text]\nmax_length = 1\n").unwrap_err();
        assert!(e.contains("after"), "{e}");
    }
}
