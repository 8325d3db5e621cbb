//! Rows that are not loaded: the reason codes, the Russian sentence for each
//! (`schemas/rejects.toml`), and the rejects file
//! `rejects/as_of=<D>/<table>.csv` with `file, line, column, reason, value,
//! record_id, message`. Only contract values ever reach it.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::LazyLock;

use serde::Deserialize;

pub const MISSING_REQUIRED: &str = "missing_required";
pub const BAD_DATE: &str = "bad_date";
pub const BAD_BOOL: &str = "bad_bool";
pub const BAD_ENUM: &str = "bad_enum";
pub const BAD_NUMBER: &str = "bad_number";
pub const BAD_REGION_CODE: &str = "bad_region_code";
pub const NOT_POSITIVE: &str = "not_positive";
pub const NEGATIVE: &str = "negative";
pub const DUPLICATE_ID: &str = "duplicate_id";
pub const BAD_ROW_SHAPE: &str = "bad_row_shape";
pub const BAD_ENCODING: &str = "bad_encoding";
pub const BAD_PERIOD: &str = "bad_period";
pub const PARENT_CYCLE: &str = "parent_cycle";

/// Every code above; the reference reasons (`unknown_*`) come from the schema.
pub const BUILT_IN_REASONS: &[&str] = &[
    MISSING_REQUIRED,
    BAD_DATE,
    BAD_BOOL,
    BAD_ENUM,
    BAD_NUMBER,
    BAD_REGION_CODE,
    NOT_POSITIVE,
    NEGATIVE,
    DUPLICATE_ID,
    BAD_ROW_SHAPE,
    BAD_ENCODING,
    BAD_PERIOD,
    PARENT_CYCLE,
];

#[derive(Deserialize)]
struct ReasonText {
    message: String,
}

static MESSAGES: LazyLock<HashMap<String, ReasonText>> = LazyLock::new(|| {
    toml::from_str(include_str!("../../schemas/rejects.toml"))
        .unwrap_or_else(|e| panic!("schemas/rejects.toml is invalid: {e}"))
});

/// Whether `schemas/rejects.toml` has a message for a reason code.
pub fn has_message(reason: &str) -> bool {
    MESSAGES.contains_key(reason)
}

/// Why one row was not loaded.
#[derive(Debug, Clone)]
pub struct Reject {
    /// Contract column at fault (`None` for the whole record).
    pub column: Option<String>,
    pub reason: &'static str,
    pub value: String,
    /// Placeholder values for the message.
    pub params: Vec<(&'static str, String)>,
}

impl Reject {
    pub fn new(column: Option<&str>, reason: &'static str, value: &str) -> Reject {
        Reject { column: column.map(str::to_string), reason, value: value.to_string(), params: Vec::new() }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Reject {
        self.params.push((key, value.into()));
        self
    }

    /// The Russian sentence for the operator.
    pub fn message(&self) -> String {
        let template = MESSAGES.get(self.reason).map_or("Запись не соответствует формату выгрузки.", |t| &t.message);
        let mut text = template.replace("{value}", &self.value);
        text = text.replace("{column}", self.column.as_deref().unwrap_or(""));
        for (key, value) in &self.params {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        text
    }
}

/// A value from the data that a spreadsheet would run as a formula gets a
/// leading apostrophe.
pub fn neutralise_formula(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// Writes the rejects file of one table and counts rejects by reason.
pub struct RejectWriter<W: Write> {
    writer: csv::Writer<W>,
    file: String,
    pub by_reason: BTreeMap<String, u64>,
}

impl<W: Write> RejectWriter<W> {
    pub fn new(output: W, source_file: &str) -> std::io::Result<RejectWriter<W>> {
        let mut writer = csv::Writer::from_writer(output);
        writer.write_record(["file", "line", "column", "reason", "value", "record_id", "message"])?;
        Ok(RejectWriter { writer, file: source_file.to_string(), by_reason: BTreeMap::new() })
    }

    pub fn write(&mut self, line: u64, record_id: &str, reject: &Reject) -> std::io::Result<()> {
        *self.by_reason.entry(reject.reason.to_string()).or_default() += 1;
        let line = line.to_string();
        self.writer.write_record([
            self.file.as_str(),
            line.as_str(),
            reject.column.as_deref().unwrap_or(""),
            reject.reason,
            neutralise_formula(&reject.value).as_str(),
            neutralise_formula(record_id).as_str(),
            reject.message().as_str(),
        ])?;
        Ok(())
    }

    pub fn finish(self) -> std::io::Result<(W, BTreeMap<String, u64>)> {
        let by_reason = self.by_reason;
        let inner = self.writer.into_inner().map_err(|e| e.into_error())?;
        Ok((inner, by_reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;

    #[test]
    fn every_reason_has_a_russian_message() {
        for reason in BUILT_IN_REASONS {
            assert!(has_message(reason), "no message for {reason}");
        }
        for table in Contract::embedded().tables() {
            for column in &table.columns {
                if let Some(r) = &column.references {
                    assert!(has_message(&r.reason), "no message for {}", r.reason);
                }
            }
        }
    }

    #[test]
    fn messages_fill_their_placeholders() {
        let r = Reject::new(Some("org_id"), DUPLICATE_ID, "42").with("first_line", "7");
        assert_eq!(r.message(), "Запись с идентификатором «42» уже есть в строке 7; повторная запись не загружена.");
        assert!(!r.message().contains('{'));
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_formula("-5"), "'-5");
        assert_eq!(neutralise_formula("Школа №1"), "Школа №1");
    }
}
