//! The executive briefing, `<wh>/briefings/<D>/`: «ИНФОРМАЦИЯ о ходе работы в
//! АИС» in the style of the decree's appendix, as `briefing.html` (print-ready
//! A4) and `briefing.docx` (for the apparatus to edit in Word or LibreOffice).
//!
//! The words are in one template, `dashboards/briefing/briefing.md`, written
//! as simple text blocks (titles, paragraphs, lists, tables); this module
//! picks the figures, parses the blocks and renders them twice, through the
//! HTML and the WordprocessingML templates. Sentences about change are in
//! the template only under `{% if prev %}`, so without a comparison snapshot
//! they are left out, not filled with zeros.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Datelike, Utc};
use minijinja::{Value, context};
use serde::Serialize;

use super::{Output, PublishError};
use super::marts::{Marts, ProfcardsYear, QualityRow, Region};
use super::site::{BANDS, ONLINE_THRESHOLD_PCT, desc, moscow_time, unchanged_coverage};
use super::templates;
use crate::contract::RegionReference;

/// A region as the briefing names it.
#[derive(Debug, Clone, Serialize)]
struct Named<'a> {
    #[serde(flatten)]
    row: &'a Region,
    /// Full name, and its genitive (= prepositional) for «в … организации».
    name: String,
    name_genitive: String,
}

fn named<'a>(row: &'a Region, reference: &RegionReference) -> Named<'a> {
    let (name, name_genitive) = reference
        .region(&row.region_code)
        .map_or_else(|| (row.region_name.clone(), row.region_name.clone()), |g| (g.name.clone(), g.name_genitive.clone()));
    Named { row, name, name_genitive }
}

#[derive(Debug, Clone, Serialize)]
struct Band<'a> {
    label: &'static str,
    regions: Vec<Named<'a>>,
    /// Share of the regional organizations that have an official figure.
    share: Option<f64>,
    /// Listed as a table, as the decree lists its 90–100 % band.
    table: bool,
}

#[derive(Debug, Clone, Serialize)]
struct Totals {
    purchases: i64,
    amount: f64,
    cashback: f64,
    cashback_pct: Option<f64>,
}

/// One block of the briefing's text.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Block {
    pub kind: &'static str,
    pub text: String,
    pub items: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Renders the briefing into `dir`; returns the files written.
pub fn write_briefing(dir: &Path, marts: &Marts, built_at: DateTime<Utc>) -> Result<Vec<String>, PublishError> {
    let env = templates::environment();
    let render = |name: &str, ctx: Value| -> Result<String, PublishError> {
        env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| PublishError::template(name, e))
    };
    let text = render("briefing.md", figures(marts))?;
    let blocks = parse_blocks(&text);
    let page = context! {
        blocks => blocks,
        as_of => marts.national.as_of,
        version => env!("CARGO_PKG_VERSION"),
        built_at => moscow_time(built_at),
        checksum => marts.manifest.as_ref().map(|m| m.snapshot_checksum()),
    };
    let html = render("briefing.html", page.clone())?;
    let document = render("briefing-document.xml", page)?;
    let docx = docx(&document).map_err(|e| PublishError::Export { what: "briefing.docx".into(), detail: e.to_string() })?;
    let mut out = Output::new(dir);
    out.put("briefing.html", html)?;
    out.put("briefing.docx", docx)?;
    Ok(out.finish())
}

/// Everything the briefing template speaks of.
fn figures(marts: &Marts) -> Value {
    let reference = RegionReference::embedded();
    let view = |r| named(r, reference);
    let with_baseline = marts.regions.iter().filter(|r| r.coverage_band.is_some()).count();
    let bands: Vec<Band> = BANDS
        .iter()
        .map(|(code, label, _)| {
            let mut regions: Vec<Named> =
                marts.regions.iter().filter(|r| r.coverage_band.as_deref() == Some(*code)).map(view).collect();
            regions.sort_by(|a, b| desc(a.row.coverage_pct, b.row.coverage_pct));
            Band {
                label,
                share: (with_baseline > 0).then(|| 100.0 * regions.len() as f64 / with_baseline as f64),
                table: *code == "90-100",
                regions,
            }
        })
        .collect();
    let same = unchanged_coverage(marts);
    let unchanged: Vec<Named> = marts.regions.iter().filter(|r| same.contains(r.region_code.as_str())).map(view).collect();
    let mut above: Vec<Named> = marts
        .regions
        .iter()
        .filter(|r| r.joined_online_pct.is_some_and(|p| p > ONLINE_THRESHOLD_PCT))
        .map(view)
        .collect();
    above.sort_by(|a, b| desc(a.row.joined_online_pct, b.row.joined_online_pct));
    let mut reports: Vec<Named> = marts.regions.iter().map(view).collect();
    reports.sort_by(|a, b| desc(a.row.primary_auto_reports_pct, b.row.primary_auto_reports_pct));
    let all_reported: Vec<Named> = marts.regions.iter().filter(|r| r.all_reported).map(view).collect();
    let q: BTreeMap<&str, &QualityRow> =
        marts.quality.iter().filter(|q| q.scope == "national").map(|q| (q.check.as_str(), q)).collect();

    let n = &marts.national;
    let prev = marts.national_prev.as_ref();
    let categories = vec![
        ("работающие", n.working, n.working_official, prev.map(|p| p.working)),
        ("обучающиеся (студенты)", n.students, n.students_official, prev.map(|p| p.students)),
        ("неработающие пенсионеры", n.pensioners, n.pensioners_official, prev.map(|p| p.pensioners)),
    ];
    // Purchases in the months of P's year before P (the decree's "9 months"
    // at P = 1 October), and in the same months of the year before.
    let period = n.report_period;
    let months = i64::from(period.month0());
    let months_of = |year: i32| -> Option<Value> {
        let rows: Vec<_> = marts
            .profcards_monthly
            .iter()
            .filter(|m| m.month.year() == year && m.month.month0() < period.month0())
            .collect();
        if months == 0 || rows.is_empty() {
            return None;
        }
        let amount: f64 = rows.iter().map(|m| m.amount).sum();
        let cashback: f64 = rows.iter().map(|m| m.cashback).sum();
        Some(context! {
            year => year, months => months,
            purchases => rows.iter().map(|m| m.purchases).sum::<i64>(),
            amount => amount, cashback => cashback,
            cashback_pct => (amount > 0.0).then(|| 100.0 * cashback / amount),
        })
    };
    let full_years: Vec<&ProfcardsYear> = marts.profcards_yearly.iter().filter(|r| !r.ytd).collect();
    let total = (!full_years.is_empty()).then(|| {
        let amount: f64 = full_years.iter().map(|r| r.amount).sum();
        let cashback: f64 = full_years.iter().map(|r| r.cashback).sum();
        Totals {
            purchases: full_years.iter().map(|r| r.purchases).sum(),
            amount,
            cashback,
            cashback_pct: (amount > 0.0).then(|| 100.0 * cashback / amount),
        }
    });
    context! {
        n => n,
        prev => prev,
        q => q,
        bands => if with_baseline > 0 { bands } else { Vec::new() },
        unchanged => unchanged,
        above => above,
        threshold => ONLINE_THRESHOLD_PCT,
        reports => reports,
        all_reported => all_reported,
        categories => categories,
        ptd => months_of(period.year()),
        ptd_prev => months_of(period.year() - 1),
        total => total,
        years => full_years,
    }
}

/// The template's text as blocks: `# ` title, `## ` subtitle, `### `
/// section, `| ` table rows (the first is the header), `- ` list items, other
/// lines a paragraph until a blank line.
pub fn parse_blocks(text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block { kind: "paragraph", text: paragraph.join(" "), ..Block::default() });
            paragraph.clear();
        }
    };
    for line in text.lines().map(str::trim) {
        let kind = if line.starts_with("### ") {
            "section"
        } else if line.starts_with("## ") {
            "subtitle"
        } else if line.starts_with("# ") {
            "title"
        } else if line.starts_with('|') {
            "table"
        } else if let Some(item) = line.strip_prefix("- ") {
            flush(&mut paragraph, &mut blocks);
            match blocks.last_mut() {
                Some(b) if b.kind == "list" => b.items.push(item.to_string()),
                _ => blocks.push(Block { kind: "list", items: vec![item.to_string()], ..Block::default() }),
            }
            continue;
        } else if line.is_empty() {
            flush(&mut paragraph, &mut blocks);
            // A blank line ends a list or a table too.
            blocks.push(Block { kind: "break", ..Block::default() });
            continue;
        } else {
            paragraph.push(line);
            continue;
        };
        flush(&mut paragraph, &mut blocks);
        if kind == "table" {
            let cells: Vec<String> =
                line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
            match blocks.last_mut() {
                Some(b) if b.kind == "table" => b.rows.push(cells),
                _ => blocks.push(Block { kind: "table", header: cells, ..Block::default() }),
            }
        } else {
            let text = line.split_once(' ').map_or("", |(_, t)| t).to_string();
            blocks.push(Block { kind, text, ..Block::default() });
        }
    }
    flush(&mut paragraph, &mut blocks);
    blocks.retain(|b| b.kind != "break");
    blocks
}

/// A minimal DOCX: the document and its styles, zipped.
fn docx(document: &str) -> zip::result::ZipResult<Vec<u8>> {
    const PARTS: &[(&str, &str)] = &[
        ("[Content_Types].xml", include_str!("../../dashboards/briefing/content_types.xml")),
        ("_rels/.rels", include_str!("../../dashboards/briefing/rels.xml")),
        ("word/_rels/document.xml.rels", include_str!("../../dashboards/briefing/document_rels.xml")),
        ("word/styles.xml", include_str!("../../dashboards/briefing/styles.xml")),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in PARTS.iter().copied().chain([("word/document.xml", document)]) {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_parsed() {
        let text = "# ИНФОРМАЦИЯ\n## о ходе\n\nПервая строка\nвторая строка.\n\n- один\n- два\n\n| № | Имя |\n| 1 | А |\n| 2 | Б |\n### 2. Раздел\nТекст.";
        let blocks = parse_blocks(text);
        let kinds: Vec<&str> = blocks.iter().map(|b| b.kind).collect();
        assert_eq!(kinds, ["title", "subtitle", "paragraph", "list", "table", "section", "paragraph"]);
        assert_eq!(blocks[2].text, "Первая строка вторая строка.");
        assert_eq!(blocks[3].items, ["один", "два"]);
        assert_eq!(blocks[4].header, ["№", "Имя"]);
        assert_eq!(blocks[4].rows, [vec!["1", "А"], vec!["2", "Б"]]);
    }
}
