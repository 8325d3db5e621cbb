//! The executive briefing, `<wh>/briefings/<D>/`: «ИНФОРМАЦИЯ о ходе работы в
//! АИС» in the style of the decree's appendix, as `briefing.html` (print-ready
//! A4) and `briefing.docx` (for the apparatus to edit in Word or LibreOffice).
//!
//! The words are in one template, `dashboards/briefing/briefing.md`, written
//! as simple text blocks (titles, paragraphs, lists, tables); this module
//! picks the figures, parses the blocks and renders them twice, through the
//! HTML and the WordprocessingML templates. Sentences about change are in
//! the template only under `{% if prev %}`, so without a comparison snapshot
//! they are left out, not filled with zeros. Every number it states is a
//! mart's column (sums, shares, changes and counts of lists included): this
//! module only picks rows and puts them in order.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use minijinja::{Value, context};
use serde::Serialize;

use super::marts::{Marts, ProfcardsSpan, ProfcardsYear, QualityRow, Region};
use super::site::{BandView, band_views, by_rank, moscow_time};
use super::templates;
use super::{Output, PublishError};
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
    let (name, name_genitive) = reference.region(&row.region_code).map_or_else(
        || (row.region_name.clone(), row.region_name.clone()),
        |g| (g.name.clone(), g.name_genitive.clone()),
    );
    Named { row, name, name_genitive }
}

/// A coverage band with the regions in it, highest coverage first.
#[derive(Debug, Clone, Serialize)]
struct Band<'a> {
    #[serde(flatten)]
    band: BandView<'a>,
    /// The regions in it (the mart's `regions` is their count).
    list: Vec<Named<'a>>,
    /// Listed as a table, as the decree lists its 90–100 % band.
    table: bool,
}

/// A category of members with its figures of the national mart.
#[derive(Debug, Clone, Serialize)]
struct Category {
    label: &'static str,
    members: i64,
    share_pct: Option<f64>,
    coverage_pct: Option<f64>,
    change: Option<i64>,
    change_pct: Option<f64>,
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
    let docx =
        docx(&document).map_err(|e| PublishError::Export { what: "briefing.docx".into(), detail: e.to_string() })?;
    let mut out = Output::new(dir);
    out.put("briefing.html", html)?;
    out.put("briefing.docx", docx)?;
    Ok(out.finish())
}

/// Everything the briefing template speaks of.
fn figures(marts: &Marts) -> Value {
    let reference = RegionReference::embedded();
    let view = |r| named(r, reference);
    let listed =
        |keep: &dyn Fn(&Region) -> bool| -> Vec<Named> { marts.regions.iter().filter(|r| keep(r)).map(view).collect() };
    let mut above = listed(&|r| r.joined_online_above_threshold);
    by_rank(&mut above, |r| r.row.joined_online_rank);
    let mut reports = listed(&|_| true);
    by_rank(&mut reports, |r| r.row.auto_reports_rank);
    let q: BTreeMap<&str, &QualityRow> =
        marts.quality.iter().filter(|q| q.scope == "national").map(|q| (q.check.as_str(), q)).collect();
    let span = |name: &str| marts.profcards_summary.iter().find(|s| s.span == name);
    let ptd: Option<&ProfcardsSpan> = span("year_to_period");
    let full_years: Vec<&ProfcardsYear> = marts.profcards_yearly.iter().filter(|r| !r.ytd).collect();
    context! {
        n => &marts.national,
        prev => marts.national_prev,
        q => q,
        bands => bands(marts, reference),
        unchanged => listed(&|r| r.coverage_unchanged == Some(true)),
        above => above,
        reports => reports,
        all_reported => listed(&|r| r.all_reported),
        counts => &marts.regions_summary,
        categories => categories(marts),
        ptd => ptd,
        // The same months a year before, said only beside this year's.
        ptd_prev => ptd.and(span("year_to_period_prev")),
        total => span("all"),
        years => full_years,
    }
}

/// The coverage bands with their regions; none when no region has a
/// baseline (nothing to band).
fn bands<'a>(marts: &'a Marts, reference: &RegionReference) -> Vec<Band<'a>> {
    if marts.regions_summary.regions_with_baseline == 0 {
        return Vec::new();
    }
    band_views(marts)
        .into_iter()
        .map(|band| {
            let mut list: Vec<Named> = marts
                .regions
                .iter()
                .filter(|r| r.coverage_band.as_ref() == Some(&band.row.band))
                .map(|r| named(r, reference))
                .collect();
            by_rank(&mut list, |r| r.row.coverage_rank);
            let table = band.row.band == "90-100";
            Band { band, list, table }
        })
        .collect()
}

fn categories(marts: &Marts) -> Vec<Category> {
    let n = &marts.national;
    vec![
        Category {
            label: "работающие",
            members: n.working,
            share_pct: n.working_share_pct,
            coverage_pct: n.working_coverage_pct,
            change: n.working_change,
            change_pct: n.working_change_pct,
        },
        Category {
            label: "обучающиеся (студенты)",
            members: n.students,
            share_pct: n.students_share_pct,
            coverage_pct: n.students_coverage_pct,
            change: n.students_change,
            change_pct: n.students_change_pct,
        },
        Category {
            label: "неработающие пенсионеры",
            members: n.pensioners,
            share_pct: n.pensioners_share_pct,
            coverage_pct: n.pensioners_coverage_pct,
            change: n.pensioners_change,
            change_pct: n.pensioners_change_pct,
        },
    ]
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
            let cells: Vec<String> = line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect();
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
