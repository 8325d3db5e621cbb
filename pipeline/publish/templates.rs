//! The template environment: the files of `dashboards/` compiled into the
//! binary (so a copied binary publishes the same site), HTML autoescaping for
//! every template, strict undefined values (a typo in a template is an error,
//! not a blank), and the filters that write numbers and dates in Russian.

use chrono::NaiveDate;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use super::russian::{Noun, Russian};

/// Templates, by the name pages use for them.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../dashboards/templates/base.html")),
    ("macros.html", include_str!("../../dashboards/templates/macros.html")),
    ("charts.html", include_str!("../../dashboards/templates/charts.html")),
    ("flows.html", include_str!("../../dashboards/templates/flows.html")),
    ("index.html", include_str!("../../dashboards/templates/index.html")),
    ("coverage.html", include_str!("../../dashboards/templates/coverage.html")),
    ("reports.html", include_str!("../../dashboards/templates/reports.html")),
    ("profcards.html", include_str!("../../dashboards/templates/profcards.html")),
    ("online.html", include_str!("../../dashboards/templates/online.html")),
    ("quality.html", include_str!("../../dashboards/templates/quality.html")),
    ("monitoring.html", include_str!("../../dashboards/templates/monitoring.html")),
    ("district.html", include_str!("../../dashboards/templates/district.html")),
    ("region.html", include_str!("../../dashboards/templates/region.html")),
    ("bundle.html", include_str!("../../dashboards/templates/bundle.html")),
    ("briefing.md", include_str!("../../dashboards/briefing/briefing.md")),
    ("district.md", include_str!("../../dashboards/briefing/district.md")),
    ("region.md", include_str!("../../dashboards/briefing/region.md")),
    ("flows.md", include_str!("../../dashboards/briefing/flows.md")),
    ("briefing.html", include_str!("../../dashboards/briefing/briefing.html")),
    ("briefing-document.xml", include_str!("../../dashboards/briefing/document.xml")),
];

/// Nouns the briefing counts with, by key: the forms after 1, 2 and 5.
const NOUNS_CSV: &str = include_str!("../../dashboards/nouns.csv");

#[derive(Debug, serde::Deserialize)]
struct NounForms {
    key: String,
    one: String,
    few: String,
    many: String,
}

static NOUNS: std::sync::LazyLock<Vec<NounForms>> = std::sync::LazyLock::new(|| {
    csv::Reader::from_reader(NOUNS_CSV.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("nouns.csv is invalid: {e}"))
});

/// Every noun of `nouns.csv` as (key, one, few, many), for tests.
pub fn nouns() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    NOUNS.iter().map(|n| (n.key.as_str(), n.one.as_str(), n.few.as_str(), n.many.as_str())).collect()
}

/// Files copied into the site as they are.
pub const ASSETS: &[(&str, &str)] = &[
    ("assets/style.css", include_str!("../../dashboards/style.css")),
    ("assets/sort.js", include_str!("../../dashboards/sort.js")),
];

thread_local! {
    static RU: Russian = Russian::new();
}

/// The dash people read as "no value".
const NONE: &str = "—";
/// U+2212, the minus sign of typeset numbers.
const MINUS: char = '\u{2212}';

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // The briefing's text blocks are not markup; what renders them escapes.
    env.set_auto_escape_callback(|name| if name.ends_with(".md") { AutoEscape::None } else { AutoEscape::Html });
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).unwrap_or_else(|e| panic!("template {name} does not compile: {e:#}"));
    }
    env.add_filter("int", int);
    env.add_filter("pct", pct);
    env.add_filter("dec", dec);
    env.add_filter("signed", signed);
    env.add_filter("signed_pct", signed_pct);
    env.add_filter("signed_points", signed_points);
    env.add_filter("date", date);
    env.add_filter("month", month);
    env.add_filter("plural", plural);
    env.add_filter("count", count);
    env
}

fn number(v: &Value) -> Option<f64> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    // NaN and infinity (a share of nothing) are shown as no value.
    f64::try_from(v.clone()).ok().filter(|x| x.is_finite())
}

/// `3 098 599`; a missing value is a dash.
fn int(v: Value) -> String {
    number(&v).map_or_else(|| NONE.into(), |x| RU.with(|ru| with_minus(ru.integer(x.round() as i64))))
}

/// `82,5 %` (one decimal unless told).
fn pct(v: Value, decimals: Option<u8>) -> String {
    number(&v).map_or_else(|| NONE.into(), |x| RU.with(|ru| with_minus(ru.percent(x, decimals.unwrap_or(1)))))
}

/// `26 543,05`.
fn dec(v: Value, decimals: Option<u8>) -> String {
    number(&v).map_or_else(|| NONE.into(), |x| RU.with(|ru| with_minus(ru.decimal(x, decimals.unwrap_or(1)))))
}

/// `+368 504`, `−12`, `0`.
fn signed(v: Value) -> String {
    number(&v).map_or_else(
        || NONE.into(),
        |x| {
            let n = x.round() as i64;
            let text = RU.with(|ru| ru.integer(n.abs()));
            sign(n.signum() as i8, text)
        },
    )
}

/// `+13,5 %` — a change already in percent (points or growth).
fn signed_pct(v: Value, decimals: Option<u8>) -> String {
    number(&v).map_or_else(|| NONE.into(), |x| RU.with(|ru| ru.signed_percent(x, decimals.unwrap_or(1))))
}

/// `+2,5 п. п.` — a change of a percentage, in percentage points.
fn signed_points(v: Value, decimals: Option<u8>) -> String {
    let shown = signed_pct(v, decimals);
    if shown == NONE { shown } else { shown.replace('%', "п.\u{a0}п.") }
}

fn sign(signum: i8, text: String) -> String {
    match signum {
        1 => format!("+{text}"),
        -1 => format!("{MINUS}{text}"),
        _ => text,
    }
}

fn with_minus(text: String) -> String {
    text.replace('-', &MINUS.to_string())
}

/// `21 ноября 2023 г.` from an ISO date.
fn date(v: Value) -> Result<String, Error> {
    if v.is_none() {
        return Ok(NONE.into());
    }
    let d = iso_date(&v)?;
    Ok(RU.with(|ru| ru.date(d)))
}

/// `17 региональных организаций`: the number and the noun of `nouns.csv`
/// under `key` in the form the number needs.
pub fn count(v: Value, key: &str) -> Result<String, Error> {
    let noun = NOUNS
        .iter()
        .find(|n| n.key == key)
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("no noun {key} in nouns.csv")))?;
    let n = number(&v).ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("not a number: {v}")))?;
    let n = n.round() as i64;
    let form =
        RU.with(|ru| ru.noun(n.unsigned_abs(), Noun { one: &noun.one, few: &noun.few, many: &noun.many }).to_string());
    Ok(format!("{} {form}", int(Value::from(n))))
}

/// A date as serialized into the page context (`YYYY-MM-DD`).
fn iso_date(v: &Value) -> Result<NaiveDate, Error> {
    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("not a date: {text}")))
}

/// `ноябрь 2023` from the first day of a month.
fn month(v: Value) -> Result<String, Error> {
    const MONTHS: [&str; 12] = [
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ];
    let d = iso_date(&v)?;
    use chrono::Datelike;
    Ok(format!("{} {}", MONTHS[d.month0() as usize], d.year()))
}

/// The noun form for `n`: `{{ n|plural("организация", "организации", "организаций") }}`.
fn plural(v: Value, one: &str, few: &str, many: &str) -> String {
    let n = number(&v).unwrap_or(0.0).abs().round() as u64;
    RU.with(|ru| ru.noun(n, Noun { one, few, many }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn render(source: &str, ctx: Value) -> String {
        let mut env = environment();
        env.add_template_owned("t.html", source.to_string()).unwrap();
        env.get_template("t.html").unwrap().render(ctx).unwrap()
    }

    #[test]
    fn filters_write_russian() {
        let out = render(
            "{{ a|int }}|{{ b|pct }}|{{ c|signed }}|{{ d|signed_pct }}|{{ f|date }}|{{ n }} {{ n|plural('организация','организации','организаций') }}|{{ none|int }}",
            context! { a => 3_098_599, b => 82.487, c => -12, d => 13.49, f => "2023-11-21", n => 22, none => () },
        );
        assert_eq!(
            out,
            "3\u{a0}098\u{a0}599|82,5\u{a0}%|\u{2212}12|+13,5\u{a0}%|21 ноября 2023\u{a0}г.|22 организации|—"
        );
    }

    /// The Russian rule for integers, written out here independently of CLDR.
    pub(crate) fn expected_form(n: u64) -> usize {
        match (n % 10, n % 100) {
            (1, r) if r != 11 => 0,
            (2..=4, r) if !(12..=14).contains(&r) => 1,
            _ => 2,
        }
    }

    #[test]
    fn every_noun_agrees_with_every_number() {
        for (key, one, few, many) in nouns() {
            for n in [0u64, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 112, 121, 1_000_000, 1_000_001, 3_098_599]
            {
                let text = count(Value::from(n), key).unwrap();
                let form = [one, few, many][expected_form(n)];
                assert!(text.ends_with(&format!(" {form}")), "{n} {key}: {text}");
            }
        }
    }

    #[test]
    fn text_is_escaped() {
        let out = render("{{ name }}", context! { name => "<script>alert(\"x\")</script>" });
        assert_eq!(out, "&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2f;script&gt;");
    }

    #[test]
    fn every_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }
}
