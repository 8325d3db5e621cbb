//! Russian as people read it: `3 098 599` (no-break space between groups),
//! `82,5 %`, `21 ноября 2023 г.`, `1 организация` / `2 организации` /
//! `5 организаций`. Numbers and plural categories come from ICU4X with CLDR
//! data (`icu_decimal`, `icu_plurals`), not from hand-written rules.

use chrono::{Datelike, NaiveDate};
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_locale_core::locale;
use icu_plurals::{PluralCategory, PluralRules};

/// The no-break space between a number and `%` (Russian typography).
const NBSP: char = '\u{a0}';

/// Genitive month names, for dates written out in words.
pub const MONTHS_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

/// A noun's three Russian forms after a numeral: `организация` (1, 21),
/// `организации` (2–4, 22), `организаций` (5–20, 0).
#[derive(Debug, Clone, Copy)]
pub struct Noun<'a> {
    pub one: &'a str,
    pub few: &'a str,
    pub many: &'a str,
}

pub struct Russian {
    numbers: DecimalFormatter,
    plurals: PluralRules,
}

impl Russian {
    pub fn new() -> Russian {
        Russian {
            numbers: DecimalFormatter::try_new(locale!("ru").into(), Default::default())
                .expect("ICU4X compiled data has Russian"),
            plurals: PluralRules::try_new_cardinal(locale!("ru").into()).expect("ICU4X compiled data has Russian"),
        }
    }

    /// `3 098 599`.
    pub fn integer(&self, n: i64) -> String {
        self.numbers.format(&Decimal::from(n)).to_string()
    }

    /// `n` with `decimals` digits after the comma, rounded half away from zero:
    /// `82,5`.
    pub fn decimal(&self, x: f64, decimals: u8) -> String {
        let scaled = (x * 10f64.powi(i32::from(decimals))).round() as i64;
        let mut d = Decimal::from(scaled);
        d.multiply_pow10(-i16::from(decimals));
        self.numbers.format(&d).to_string()
    }

    /// `82,5 %`: one decimal unless told otherwise.
    pub fn percent(&self, x: f64, decimals: u8) -> String {
        format!("{}{NBSP}%", self.decimal(x, decimals))
    }

    /// `+13,5 %`, `−51,2 %` (U+2212), `0,0 %`: a change already in percent;
    /// what rounds to zero has no sign.
    pub fn signed_percent(&self, x: f64, decimals: u8) -> String {
        let text = self.percent(x.abs(), decimals);
        let rounded_zero = (x.abs() * 10f64.powi(i32::from(decimals))).round() == 0.0;
        if rounded_zero {
            text
        } else if x > 0.0 {
            format!("+{text}")
        } else {
            format!("\u{2212}{text}")
        }
    }

    /// The form of `noun` that goes with `n`.
    pub fn noun<'a>(&self, n: u64, noun: Noun<'a>) -> &'a str {
        match self.plurals.category_for(n) {
            PluralCategory::One => noun.one,
            PluralCategory::Few => noun.few,
            _ => noun.many,
        }
    }

    /// `17 региональных организаций`.
    pub fn count(&self, n: u64, noun: Noun<'_>) -> String {
        format!("{} {}", self.integer(n as i64), self.noun(n, noun))
    }

    /// `III кв. 2023`: quarter 1–4 of a year, as the monitoring names it.
    pub fn quarter(&self, quarter: i64, year: i64) -> String {
        const ROMAN: [&str; 4] = ["I", "II", "III", "IV"];
        format!("{} кв. {year}", ROMAN[(quarter - 1).clamp(0, 3) as usize])
    }

    /// `21 ноября 2023 г.`
    pub fn date(&self, d: NaiveDate) -> String {
        format!("{} {} {}{NBSP}г.", d.day(), MONTHS_GENITIVE[d.month0() as usize], d.year())
    }
}

impl Default for Russian {
    fn default() -> Russian {
        Russian::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: Noun<'static> =
        Noun { one: "организация", few: "организации", many: "организаций" };

    #[test]
    fn numbers_are_grouped_with_no_break_spaces() {
        let ru = Russian::new();
        assert_eq!(ru.integer(3_098_599), "3\u{a0}098\u{a0}599");
        assert_eq!(ru.integer(945), "945");
        // CLDR: Russian groups four-digit numbers too.
        assert_eq!(ru.integer(2_291), "2\u{a0}291");
        assert!(ru.integer(-368_504).ends_with("368\u{a0}504"));
    }

    #[test]
    fn percentages_use_a_decimal_comma_and_a_spaced_sign() {
        let ru = Russian::new();
        assert_eq!(ru.percent(82.486_857, 1), "82,5\u{a0}%");
        assert_eq!(ru.percent(100.0, 1), "100,0\u{a0}%");
        assert_eq!(ru.percent(25.400_65, 2), "25,40\u{a0}%");
        assert_eq!(ru.percent(0.04, 1), "0,0\u{a0}%");
        assert_eq!(ru.signed_percent(-51.204, 1), "\u{2212}51,2\u{a0}%");
        assert_eq!(ru.signed_percent(13.46, 1), "+13,5\u{a0}%");
        assert_eq!(ru.signed_percent(-0.04, 1), "0,0\u{a0}%");
    }

    #[test]
    fn nouns_agree_with_numerals() {
        let ru = Russian::new();
        for (n, form) in [
            (1, "организация"),
            (21, "организация"),
            (2, "организации"),
            (4, "организации"),
            (22, "организации"),
            (5, "организаций"),
            (11, "организаций"),
            (12, "организаций"),
            (14, "организаций"),
            (0, "организаций"),
            (111, "организаций"),
            (101, "организация"),
        ] {
            assert_eq!(ru.noun(n, ORG), form, "{n}");
        }
        assert_eq!(ru.count(17, ORG), "17 организаций");
        assert_eq!(ru.count(3_247, ORG), "3\u{a0}247 организаций");
    }

    #[test]
    fn dates_in_words() {
        let ru = Russian::new();
        assert_eq!(ru.date(NaiveDate::from_ymd_opt(2023, 11, 21).unwrap()), "21 ноября 2023\u{a0}г.");
        assert_eq!(ru.date(NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()), "1 января 2023\u{a0}г.");
    }
}
