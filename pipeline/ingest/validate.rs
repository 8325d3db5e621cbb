//! Checks one record against its table's contract and turns its fields into
//! typed cells. Referential and duplicate checks, which need the other rows,
//! are the loader's (`table.rs`).

use super::batch::BatchBuilder;
use super::rejects::{self, Reject};
use super::source::RowSource;
use crate::contract::values::{
    date_from_days, is_quarter_start, normalize_region_code, parse_bool, parse_date, parse_int, parse_money,
};
use crate::contract::{Column, ColumnType, Table};

/// The key of the record as the operator knows it (for the rejects file).
/// Empty when the record's fields do not line up with the header: the text at
/// the key's position may then belong to another column, even a dropped one.
pub fn record_id<S: RowSource + ?Sized>(table: &Table, source: &S) -> String {
    if source.shape_error().is_some() {
        return String::new();
    }
    let columns: &[usize] = if table.key_indices().is_empty() { &[0] } else { table.key_indices() };
    columns.iter().map(|&c| trim(source.field(c).unwrap_or(""))).collect::<Vec<_>>().join("/")
}

/// Why a row is not loaded. Boxed: the checks run for every field, and a
/// small `Result` is returned in registers where a large one went through
/// memory (a fifth of ingest's parsing time, measured).
pub type Rejected = Box<Reject>;

/// Parses the current record of `source` into the next row of `out`, or
/// says why it cannot be loaded (having pushed part of the row: the caller
/// takes it back).
pub fn parse_row<S: RowSource + ?Sized>(
    table: &'static Table,
    source: &S,
    out: &mut BatchBuilder,
) -> Result<(), Rejected> {
    if let Some((expected, found)) = source.shape_error() {
        return Err(Box::new(
            Reject::new(None, rejects::BAD_ROW_SHAPE, "")
                .with("expected", expected.to_string())
                .with("found", found.to_string()),
        ));
    }
    if let Some(column) = source.bad_text() {
        return Err(reject(&table.columns[column], rejects::BAD_ENCODING, ""));
    }
    for (index, column) in table.columns.iter().enumerate() {
        let raw = trim(source.field(index).unwrap_or(""));
        if raw.is_empty() {
            if column.required && !exempt(table, column, source) {
                return Err(reject(column, rejects::MISSING_REQUIRED, raw));
            }
            out.push_null(index);
        } else {
            parse_cell(index, column, raw, out)?;
        }
    }
    Ok(())
}

/// `required_unless`: e.g. a regional organization needs no parent.
fn exempt<S: RowSource + ?Sized>(table: &Table, column: &Column, source: &S) -> bool {
    let Some(cond) = &column.required_unless else { return false };
    let Some(index) = table.column_index(&cond.column) else { return false };
    let raw = trim(source.field(index).unwrap_or(""));
    let cond_column = &table.columns[index];
    let value = if cond_column.kind == ColumnType::Enum { cond_column.canonical_enum(raw) } else { Some(raw) };
    value == Some(cond.value.as_str())
}

/// `str::trim`, with the common case (nothing to trim) decided from two bytes:
/// every whitespace character is an ASCII byte up to the space, or starts
/// with a byte of 0x80 or above.
#[inline]
pub fn trim(s: &str) -> &str {
    let plain = |b: u8| b > b' ' && b < 0x80;
    match s.as_bytes() {
        [] => s,
        [first, .., last] if plain(*first) && plain(*last) => s,
        [only] if plain(*only) => s,
        _ => s.trim(),
    }
}

#[cold]
#[inline(never)]
fn reject(column: &Column, reason: &'static str, raw: &str) -> Rejected {
    Box::new(Reject::new(Some(column), reason, raw).with("title", column.title.clone()))
}

/// Appends the value of a non-empty field to `out`.
#[inline]
fn parse_cell(index: usize, column: &Column, raw: &str, out: &mut BatchBuilder) -> Result<(), Rejected> {
    match column.kind {
        ColumnType::Text => {
            // Bytes first: a text no longer in bytes than the limit in
            // characters is within it, and that is every usual value.
            let max = column.limits().max_length;
            if raw.len() > max && raw.chars().count() > max {
                return Err(too_long(column, raw));
            }
            out.push_text(index, raw)
        }
        ColumnType::Enum => match column.canonical_enum(raw) {
            Some(canonical) => out.push_text(index, canonical),
            None => {
                let mut reject = reject(column, rejects::BAD_ENUM, raw);
                reject.params.push(("allowed", column.values.join(", ")));
                return Err(reject);
            }
        },
        ColumnType::RegionCode => match normalize_region_code(raw) {
            Some(code) => out.push_text(index, &code),
            None => return Err(reject(column, rejects::BAD_REGION_CODE, raw)),
        },
        ColumnType::Date => {
            let days = parse_date(raw).ok_or_else(|| reject(column, rejects::BAD_DATE, raw))?;
            let limits = column.limits();
            if days < limits.earliest || days > limits.latest {
                return Err(out_of_range(column, raw));
            }
            if column.quarter_start && !is_quarter_start(days) {
                return Err(reject(column, rejects::BAD_PERIOD, raw));
            }
            out.push_date(index, days);
        }
        ColumnType::Bool => {
            out.push_bool(index, parse_bool(raw).ok_or_else(|| reject(column, rejects::BAD_BOOL, raw))?)
        }
        ColumnType::Int => {
            let v = parse_int(raw).ok_or_else(|| reject(column, rejects::BAD_NUMBER, raw))?;
            check_range(column, i128::from(v), 1, raw)?;
            out.push_int(index, v);
        }
        ColumnType::Money => {
            let v = parse_money(raw).ok_or_else(|| reject(column, rejects::BAD_NUMBER, raw))?;
            check_range(column, v, 100, raw)?;
            out.push_money(index, v);
        }
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn too_long(column: &Column, raw: &str) -> Rejected {
    let mut reject = reject(column, rejects::TEXT_TOO_LONG, raw);
    reject.params.push(("max_length", rejects::characters(column.limits().max_length)));
    reject
}

#[cold]
#[inline(never)]
fn out_of_range(column: &Column, raw: &str) -> Rejected {
    let limits = column.limits();
    let mut reject = reject(column, rejects::DATE_OUT_OF_RANGE, raw);
    reject.params.push(("earliest", date_from_days(limits.earliest).format("%d.%m.%Y").to_string()));
    reject.params.push(("latest", date_from_days(limits.latest).format("%d.%m.%Y").to_string()));
    reject
}

#[cold]
#[inline(never)]
fn too_large(column: &Column, scale: i128, raw: &str) -> Rejected {
    let mut reject = reject(column, rejects::TOO_LARGE, raw);
    let unit = if column.kind == ColumnType::Money { " ₽" } else { "" };
    reject.params.push(("max", format!("{}{unit}", grouped(column.limits().max / scale))));
    reject
}

/// `10000000` → `10 000 000`.
fn grouped(n: i128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `min` / `min_exclusive` bounds from the schema, in whole units, and the
/// column's `max` (held in the stored unit).
fn check_range(column: &Column, value: i128, scale: i128, raw: &str) -> Result<(), Rejected> {
    if value > column.limits().max {
        return Err(too_large(column, scale, raw));
    }
    if let Some(min) = column.min_exclusive
        && value <= i128::from(min) * scale
    {
        return Err(reject(column, rejects::NOT_POSITIVE, raw));
    }
    if let Some(min) = column.min
        && value < i128::from(min) * scale
    {
        return Err(reject(column, rejects::NEGATIVE, raw));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn limits_are_written_in_digit_groups() {
        assert_eq!(grouped(10_000_000), "10 000 000");
        assert_eq!(grouped(100), "100");
        assert_eq!(grouped(1000), "1 000");
    }
}
