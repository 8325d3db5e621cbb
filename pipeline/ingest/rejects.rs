//! Rows that are not loaded: the reason codes, the Russian sentence for each
//! (`schemas/rejects.toml`), and the rejects file
//! `rejects/as_of=<D>/<table>.csv` with `file, line, column, reason, value,
//! record_id, message`. Only contract values ever reach it, and a value
//! (or record id) is quoted only when it is short and of its column's shape;
//! anything else — a name, an e-mail, a card number typed into a contract
//! column — is masked to its first and last characters and its length.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::LazyLock;

use icu_locale_core::locale;
use icu_plurals::{PluralCategory, PluralRules};
use serde::Deserialize;

use crate::contract::values::BOOL_SPELLINGS;
use crate::contract::{Column, ColumnType};

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
pub const DATE_OUT_OF_RANGE: &str = "date_out_of_range";
pub const TOO_LARGE: &str = "too_large";
pub const TEXT_TOO_LONG: &str = "text_too_long";

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
    DATE_OUT_OF_RANGE,
    TOO_LARGE,
    TEXT_TOO_LONG,
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
    /// The value as the rejects file shows it: itself, or its mask.
    pub value: Shown,
    /// Placeholder values for the message.
    pub params: Vec<(&'static str, String)>,
}

impl Reject {
    /// A reject of `raw` in `column` (`None`: the whole record), its value
    /// quoted or masked as that column's shape says.
    pub fn new(column: Option<&Column>, reason: &'static str, raw: &str) -> Reject {
        Reject { column: column.map(|c| c.name.clone()), reason, value: Shown::of(column, raw), params: Vec::new() }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Reject {
        self.params.push((key, value.into()));
        self
    }

    /// The Russian sentence for the operator.
    pub fn message(&self) -> String {
        let template = MESSAGES.get(self.reason).map_or("Запись не соответствует формату выгрузки.", |t| &t.message);
        let mut text = template.replace("{value}", &self.value.in_message());
        text = text.replace("{column}", self.column.as_deref().unwrap_or(""));
        for (key, value) in &self.params {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        text
    }
}

/// A rejected value as the operators see it. Rejects go back to regional
/// operators: they may name the record, never carry personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Short and of the column's shape (a mistyped date, number, flag, code).
    Quoted(String),
    /// Anything else: `«И…а» (22 символа)`.
    Masked(String),
}

/// Longest value ever quoted, in characters.
const QUOTED_CHARS: usize = 20;
/// Fewest digits masked: Russian phone numbers have 10 or 11, passports 10,
/// INNs 10 or 12, SNILS 11, cards 16; dates 8 and ids such as `M00001234` 8.
const MASKED_DIGITS: usize = 10;

impl Shown {
    pub fn of(column: Option<&Column>, raw: &str) -> Shown {
        if raw.is_empty() || quotable(column, raw) { Shown::Quoted(raw.to_string()) } else { Shown::Masked(mask(raw)) }
    }

    /// The `value` field of the rejects file.
    pub fn as_text(&self) -> &str {
        match self {
            Shown::Quoted(t) | Shown::Masked(t) => t,
        }
    }

    /// The value in a message: quoted in «», or the mask (already quoted).
    fn in_message(&self) -> String {
        match self {
            Shown::Quoted(t) => format!("«{t}»"),
            Shown::Masked(t) => t.clone(),
        }
    }
}

/// Whether a value may be quoted: at most 20 characters of letters, digits
/// and `. , : / - _` and spaces (no `@`, `+`, brackets), fewer than 10 digits
/// in all, and — for a flag or a list value, where a person's name would
/// otherwise pass — close to one of the column's spellings.
fn quotable(column: Option<&Column>, raw: &str) -> bool {
    let plain = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё' | '.' | ',' | ':' | '/' | '-' | '_' | ' ')
            || matches!(c, '\u{00A0}' | '\u{202F}' | '\u{2009}')
    };
    if raw.chars().count() > QUOTED_CHARS
        || !raw.chars().all(plain)
        || raw.bytes().filter(u8::is_ascii_digit).count() >= MASKED_DIGITS
    {
        return false;
    }
    match column.map(|c| c.kind) {
        Some(ColumnType::Enum) => {
            let column = column.expect("matched Some");
            near_any(raw, column.values.iter().chain(column.aliases.keys()).map(String::as_str))
        }
        Some(ColumnType::Bool) => near_any(raw, BOOL_SPELLINGS.iter().copied()),
        // A date, a number or a code has digits and no word in it.
        Some(ColumnType::Date | ColumnType::Int | ColumnType::Money | ColumnType::RegionCode) => {
            has_digit(raw) && longest_letter_run(raw) < 3
        }
        // An id (and a record id): digits, no space, no word — `P00012345`,
        // `T01-0`, not `Иванова` or `Петров Иван`.
        Some(ColumnType::Text) | None => {
            has_digit(raw) && !raw.contains(char::is_whitespace) && longest_letter_run(raw) < 4
        }
    }
}

fn has_digit(raw: &str) -> bool {
    raw.bytes().any(|b| b.is_ascii_digit())
}

fn longest_letter_run(raw: &str) -> usize {
    raw.split(|c: char| !c.is_alphabetic()).map(|run| run.chars().count()).max().unwrap_or(0)
}

/// Within a third of a spelling's length (at least one) of edits of it,
/// case aside: `студентка` of `студент`, `tru` of `true`, not `Иванова`.
fn near_any<'a>(raw: &str, spellings: impl Iterator<Item = &'a str>) -> bool {
    let raw: Vec<char> = raw.to_lowercase().chars().collect();
    spellings.into_iter().any(|s| {
        let s: Vec<char> = s.to_lowercase().chars().collect();
        edit_distance(&raw, &s) <= (s.len() / 3).max(1)
    })
}

/// Levenshtein distance (the values compared are at most 20 characters).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// `«И…а» (22 символа)`: the first and last characters (none of a value of
/// four or fewer) and the length.
fn mask(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    let ends = match (chars.first(), chars.last()) {
        (Some(first), Some(last)) if n > 4 => format!("{first}…{last}"),
        _ => "…".to_string(),
    };
    format!("«{ends}» ({})", characters(n))
}

/// `1 символ`, `22 символа`, `16 символов` (CLDR's Russian plural rules).
pub fn characters(n: usize) -> String {
    // Per thread: ICU4X's rules are not `Sync`.
    thread_local! {
        static RULES: PluralRules =
            PluralRules::try_new_cardinal(locale!("ru").into()).expect("ICU4X compiled data has Russian");
    }
    let noun = match RULES.with(|rules| rules.category_for(n as u64)) {
        PluralCategory::One => "символ",
        PluralCategory::Few => "символа",
        _ => "символов",
    };
    format!("{n} {noun}")
}

/// A record id as the rejects file shows it: each part of a composite key
/// (`23/2023-01-01`) quoted or masked as a text value.
pub fn shown_record_id(id: &str) -> String {
    id.split('/').map(|part| Shown::of(None, part).as_text().to_string()).collect::<Vec<_>>().join("/")
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
            neutralise_formula(reject.value.as_text()).as_str(),
            neutralise_formula(&shown_record_id(record_id)).as_str(),
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
        let r = Reject::new(None, DUPLICATE_ID, "42").with("first_line", "7");
        assert_eq!(r.message(), "Запись с идентификатором «42» уже есть в строке 7; повторная запись не загружена.");
        assert!(!r.message().contains('{'));
    }

    fn column(table: &str, name: &str) -> &'static Column {
        let table = Contract::embedded().table(table).unwrap();
        &table.columns[table.column_index(name).unwrap()]
    }

    #[test]
    fn short_values_of_their_columns_shape_are_quoted() {
        let quoted = |table, col, raw: &str| Shown::of(Some(column(table, col)), raw) == Shown::Quoted(raw.into());
        assert!(quoted("members", "registered_on", "31.02.2023"));
        assert!(quoted("members", "registered_on", "1899-12-01"));
        assert!(quoted("profcards_purchases", "amount", "12 345,67"));
        assert!(quoted("profcards_purchases", "amount", "-5"));
        assert!(quoted("members", "joined_online", "tru"));
        assert!(quoted("members", "joined_online", "2"));
        assert!(quoted("members", "category", "студентка"));
        assert!(quoted("members", "category", "pensioners"));
        assert!(quoted("stat_reports", "form", "6-SP"));
        assert!(quoted("members", "org_id", "P00012345"));
        assert!(quoted("official_stats", "region_code", "123"));
    }

    #[test]
    fn personal_data_typed_into_a_contract_column_is_masked() {
        let shown = |table, col, raw: &str| Shown::of(Some(column(table, col)), raw);
        let masked = |text: &str| Shown::Masked(text.to_string());
        assert_eq!(shown("members", "category", "Иванова Мария Петровна"), masked("«И…а» (22 символа)"));
        // Short, but a name is no misspelling of a category or a flag.
        assert_eq!(shown("members", "category", "Иванова"), masked("«И…а» (7 символов)"));
        assert_eq!(shown("organizations", "chair_email", "Петров"), masked("«П…в» (6 символов)"));
        assert_eq!(shown("organizations", "chair_email", "maria.ivanova@example.org"), masked("«m…g» (25 символов)"));
        assert_eq!(shown("members", "card_status", "2200123456789012"), masked("«2…2» (16 символов)"));
        assert_eq!(shown("members", "card_status", "2200 1234 5678 9012"), masked("«2…2» (19 символов)"));
        assert_eq!(shown("members", "joined_online", "+7 916 555-12-34"), masked("«+…4» (16 символов)"));
        assert_eq!(shown("members", "joined_online", "89165551234"), masked("«8…4» (11 символов)"));
        assert_eq!(shown("members", "org_id", "a@b"), masked("«…» (3 символа)"));
        // A name typed into a date, a number, a code or an id column.
        assert_eq!(shown("members", "registered_on", "Петров Иван"), masked("«П…н» (11 символов)"));
        assert_eq!(shown("profcards_purchases", "amount", "Иванова"), masked("«И…а» (7 символов)"));
        assert_eq!(shown("official_stats", "region_code", "Сидоров"), masked("«С…в» (7 символов)"));
        assert_eq!(shown("members", "org_id", "Иванова Мария"), masked("«И…я» (13 символов)"));
        assert_eq!(shown("members", "member_id", "Иванов"), masked("«И…в» (6 символов)"));
        assert_eq!(shown("profcards_purchases", "amount", "9999999999999999.99"), masked("«9…9» (19 символов)"));
        // A masked value's message carries the mask alone, in place of «value».
        let r = Reject::new(Some(column("members", "category")), BAD_ENUM, "Иванова Мария Петровна")
            .with("title", "Категория")
            .with("allowed", "working");
        assert_eq!(
            r.message(),
            "Значение «И…а» (22 символа) в поле «Категория» не входит в список допустимых: working."
        );
        // Record ids: each part of a key on its own.
        assert_eq!(shown_record_id("M00001234"), "M00001234");
        assert_eq!(shown_record_id("23/2023-01-01"), "23/2023-01-01");
        assert_eq!(shown_record_id("maria.ivanova@example.org"), "«m…g» (25 символов)");
        assert_eq!(shown_record_id("Иванов"), "«И…в» (6 символов)");
    }

    #[test]
    fn characters_agree_with_their_number() {
        assert_eq!(characters(1), "1 символ");
        assert_eq!(characters(21), "21 символ");
        assert_eq!(characters(3), "3 символа");
        assert_eq!(characters(22), "22 символа");
        assert_eq!(characters(5), "5 символов");
        assert_eq!(characters(11), "11 символов");
        assert_eq!(characters(1000), "1000 символов");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_formula("-5"), "'-5");
        assert_eq!(neutralise_formula("Школа №1"), "Школа №1");
    }
}
