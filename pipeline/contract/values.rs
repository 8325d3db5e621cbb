//! Parsing of the value forms the snapshot contract allows. Every function takes
//! a field already trimmed and non-empty, and returns `None` when the text is not
//! a valid value of its type.

use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (CE day 1) to 1970-01-01, for Arrow's Date32.
const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

/// `YYYY-MM-DD` or `DD.MM.YYYY`, a real calendar date → days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let (y, m, d) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?),
        10 if b[2] == b'.' && b[5] == b'.' => (digits(&b[6..10])?, digits(&b[3..5])?, digits(&b[0..2])?),
        _ => return None,
    };
    days_from_civil(y as i32, m, d)
}

/// Days since 1970-01-01 of a valid calendar date (H. Hinnant's
/// `days_from_civil`; chrono's constructor was a tenth of ingest's parsing).
fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i32> {
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > month_days {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = m as i32;
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// Days since 1970-01-01 → the calendar date (for messages and file names).
pub fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS).expect("Date32 within chrono's range")
}

pub fn days_from_date(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_CE_DAYS
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// Every spelling of a boolean the contract accepts (in any case).
pub const BOOL_SPELLINGS: [&str; 8] = ["true", "1", "да", "yes", "false", "0", "нет", "no"];

/// `true/false`, `1/0`, `да/нет`, `yes/no`, in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.as_bytes() {
        b"true" | b"1" => return Some(true),
        b"false" | b"0" => return Some(false),
        _ => {}
    }
    const TRUE: [&str; 4] = ["true", "1", "да", "yes"];
    const FALSE: [&str; 4] = ["false", "0", "нет", "no"];
    // The longest spelling is 6 bytes (`нет`); no allocation for the usual ones.
    if s.len() > 6 {
        return None;
    }
    let is = |options: &[&str]| {
        options.iter().any(|o| o.eq_ignore_ascii_case(s))
            || (!s.is_ascii() && options.contains(&s.to_lowercase().as_str()))
    };
    if is(&TRUE) {
        Some(true)
    } else if is(&FALSE) {
        Some(false)
    } else {
        None
    }
}

/// Thousands separators office software writes: space, no-break space,
/// narrow no-break space, thin space.
fn is_group_separator(c: char) -> bool {
    matches!(c, ' ' | '\u{00A0}' | '\u{202F}' | '\u{2009}')
}

/// Decimal rubles with `.` or `,` as the decimal mark and optional spaces between
/// digit groups → kopecks. More than two decimals is not a money amount.
pub fn parse_money(s: &str) -> Option<i128> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut units: i128 = 0;
    let mut cents: i128 = 0;
    let mut decimals: Option<u32> = None;
    let mut any_digit = false;
    let mut last_was_separator = false;
    for c in body.chars() {
        if let Some(d) = c.to_digit(10) {
            any_digit = true;
            last_was_separator = false;
            match decimals.as_mut() {
                None => units = units.checked_mul(10)?.checked_add(i128::from(d))?,
                Some(n) if *n < 2 => {
                    cents = cents * 10 + i128::from(d);
                    *n += 1;
                }
                // `12789.5000` (a Parquet decimal of scale 4) is still kopecks.
                Some(_) if d == 0 => {}
                Some(_) => return None,
            }
        } else if (c == '.' || c == ',') && decimals.is_none() && any_digit {
            decimals = Some(0);
            last_was_separator = false;
        } else if is_group_separator(c) && decimals.is_none() && any_digit && !last_was_separator {
            last_was_separator = true;
        } else {
            return None;
        }
    }
    if !any_digit || last_was_separator || decimals == Some(0) {
        return None;
    }
    if decimals == Some(1) {
        cents *= 10;
    }
    let value = units.checked_mul(100)?.checked_add(cents)?;
    // Decimal128(18, 2) holds at most 18 digits.
    if value >= 10i128.pow(18) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// An integer count, optionally with spaces between digit groups (`3 098 599`).
pub fn parse_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut value: i64 = 0;
    let mut any_digit = false;
    let mut last_was_separator = false;
    for c in body.chars() {
        if let Some(d) = c.to_digit(10) {
            value = value.checked_mul(10)?.checked_add(i64::from(d))?;
            any_digit = true;
            last_was_separator = false;
        } else if is_group_separator(c) && any_digit && !last_was_separator {
            last_was_separator = true;
        } else {
            return None;
        }
    }
    if !any_digit || last_was_separator {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// One or two ASCII digits → the two-digit code (`1` → `01`).
pub fn normalize_region_code(s: &str) -> Option<String> {
    match s.len() {
        1 if s.as_bytes()[0].is_ascii_digit() => Some(format!("0{s}")),
        2 if s.bytes().all(|b| b.is_ascii_digit()) => Some(s.to_string()),
        _ => None,
    }
}

/// 1 January, 1 April, 1 July or 1 October: the dates statistical reports are made for.
pub fn is_quarter_start(days: i32) -> bool {
    let date = date_from_days(days);
    date.day() == 1 && matches!(date.month(), 1 | 4 | 7 | 10)
}

/// `YYYY-MM-DD` as a calendar date (command-line flags, folder names).
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let days = parse_date(s)?;
    (s.as_bytes().get(4) == Some(&b'-')).then(|| date_from_days(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("21.11.2023"), parse_date("2023-11-21"));
        assert_eq!(parse_date("2023-11-21"), Some(19682));
        assert_eq!(parse_date("29.02.2023"), None);
        assert_eq!(parse_date("29.02.2024"), parse_date("2024-02-29"));
        assert_eq!(parse_date("2023/11/21"), None);
        assert_eq!(parse_date("2023-1-21"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("ab.cd.efgh"), None);
        assert_eq!(parse_date("0000-01-01"), days_from_chrono(0, 1, 1));
        assert_eq!(parse_date("2023-00-10"), None);
        assert_eq!(parse_date("2023-04-00"), None);
        assert_eq!(parse_date("2023-04-31"), None);
        assert_eq!(parse_date("1900-02-29"), None, "not a leap year");
        assert_eq!(parse_date("2000-02-29"), days_from_chrono(2000, 2, 29));
    }

    fn days_from_chrono(y: i32, m: u32, d: u32) -> Option<i32> {
        NaiveDate::from_ymd_opt(y, m, d).map(days_from_date)
    }

    #[test]
    fn every_day_of_three_centuries_is_counted_as_chrono_counts_it() {
        for y in [1, 399, 400, 1600, 1899, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 2400, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    assert_eq!(days_from_civil(y, m, d), days_from_chrono(y, m, d), "{y}-{m}-{d}");
                }
            }
        }
        let mut date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        while date.year() < 2200 {
            let text = date.format("%Y-%m-%d").to_string();
            assert_eq!(parse_date(&text), Some(days_from_date(date)), "{text}");
            date = date.succ_opt().unwrap();
        }
    }

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["true", "TRUE", "1", "да", "Да", "ДА", "yes", "Yes"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "False", "0", "нет", "НЕТ", "no", "NO"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["2", "y", "n", "истина", "t", "нет!"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn money_with_either_mark_and_groups() {
        assert_eq!(parse_money("12789.50"), Some(1_278_950));
        assert_eq!(parse_money("12789,50"), Some(1_278_950));
        assert_eq!(parse_money("12 789,5"), Some(1_278_950));
        assert_eq!(parse_money("1\u{00A0}234\u{00A0}567,89"), Some(123_456_789));
        assert_eq!(parse_money("100"), Some(10_000));
        assert_eq!(parse_money("0"), Some(0));
        assert_eq!(parse_money("-5,00"), Some(-500));
        assert_eq!(parse_money("1.234.567"), None);
        assert_eq!(parse_money("12,345.67"), None);
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("12789.5000"), Some(1_278_950));
        assert_eq!(parse_money("12."), None);
        assert_eq!(parse_money(",5"), None);
        assert_eq!(parse_money("12  3"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money("1e5"), None);
    }

    #[test]
    fn integers_with_groups() {
        assert_eq!(parse_int("3 098 599"), Some(3_098_599));
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("4,5"), None);
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(parse_int("99999999999999999999"), None);
    }

    #[test]
    fn region_codes_are_padded() {
        assert_eq!(normalize_region_code("1").as_deref(), Some("01"));
        assert_eq!(normalize_region_code("23").as_deref(), Some("23"));
        assert_eq!(normalize_region_code("123"), None);
        assert_eq!(normalize_region_code("2a"), None);
    }
}
