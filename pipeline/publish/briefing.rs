//! The briefings, `<wh>/briefings/<D>/`, each as HTML (print-ready A4) and
//! DOCX (to edit in Word or LibreOffice):
//! - `briefing`: the national «ИНФОРМАЦИЯ о ходе работы в АИС» in the style
//!   of the decree's appendix (`dashboards/briefing/briefing.md`);
//! - `districts/<code>`: one per federal district, the district against the
//!   union and its regions ranked within it (`district.md`, decree item 7);
//! - `regions/<code>`: one per regional organization, a summary for its chair:
//!   its places, its changes, its data quality checks and the decree's lists
//!   it is on (`region.md`, items 4–6).
//!
//! The words are in the templates, written as simple text blocks (titles,
//! paragraphs, lists, tables); this module picks the figures, parses the
//! blocks and renders them twice, through the HTML and the WordprocessingML
//! templates. Sentences about change are only under a condition on the
//! comparison's figures, so without a comparison snapshot they are left out,
//! not filled with zeros. Every number stated is a mart's column (sums,
//! shares, changes, places and counts of lists included): this module only
//! picks rows and puts them in order.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use chrono::{DateTime, Utc};
use minijinja::{Value, context};
use serde::Serialize;

use super::marts::{
    District, Marts, MemberFlowGroup, ProfcardsSpan, ProfcardsYear, QualityRow, QuarterCheck, QuarterKpis, Region,
};
use super::site::{BandView, band_views, by_rank, moscow_time};
use super::templates;
use super::{Output, PublishError};
use crate::contract::{QualityCheck, RegionReference};

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

/// Renders the national briefing, one briefing per federal district
/// (`districts/<code>`) and one summary per regional organization
/// (`regions/<code>`) into `dir`; returns the files written.
pub fn write_briefing(out: &mut Output, marts: &Marts, built_at: DateTime<Utc>) -> Result<(), PublishError> {
    let documents = Documents::new(marts, built_at);
    documents.write(out, "briefing", "briefing.md", figures(marts))?;
    let districts: Vec<&str> = marts.districts.iter().map(|d| d.federal_district.as_str()).collect();
    let regions: Vec<&str> = marts.regions.iter().map(|r| r.region_code.as_str()).collect();
    documents.write_parts(out, &districts, &regions)
}

/// Renders the briefing of `district` (if any) and the summaries of
/// `regions` into `dir`, named as in the briefings' folder; for a bundle.
pub fn write_documents(
    out: &mut Output,
    marts: &Marts,
    built_at: DateTime<Utc>,
    district: Option<&str>,
    regions: &[&str],
) -> Result<(), PublishError> {
    Documents::new(marts, built_at).write_parts(out, district.as_slice(), regions)
}

/// Renders a text-block template into an HTML page and a DOCX of the same
/// blocks, with the provenance line of the marts' date.
struct Documents<'a> {
    env: minijinja::Environment<'static>,
    marts: &'a Marts,
    built_at: String,
}

impl<'a> Documents<'a> {
    fn new(marts: &'a Marts, built_at: DateTime<Utc>) -> Documents<'a> {
        Documents { env: templates::environment(), marts, built_at: moscow_time(built_at) }
    }

    /// The briefings of `districts` and the summaries of `regions` (by code).
    fn write_parts(&self, out: &mut Output, districts: &[&str], regions: &[&str]) -> Result<(), PublishError> {
        let reference = RegionReference::embedded();
        let listed = Listed::new(self.marts);
        for district in self.marts.districts.iter().filter(|d| districts.contains(&d.federal_district.as_str())) {
            let stem = format!("districts/{}", district.federal_district);
            self.write(out, &stem, "district.md", district_figures(self.marts, district, reference, &listed))?;
        }
        for region in self.marts.regions.iter().filter(|r| regions.contains(&r.region_code.as_str())) {
            let stem = format!("regions/{}", region.region_code);
            self.write(out, &stem, "region.md", region_figures(self.marts, region, reference, &listed))?;
        }
        Ok(())
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, PublishError> {
        self.env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| PublishError::template(name, e))
    }

    /// Writes `<stem>.html` and `<stem>.docx` from the blocks of `template`.
    fn write(&self, out: &mut Output, stem: &str, template: &str, figures: Value) -> Result<(), PublishError> {
        let text = self.render(template, figures)?;
        let blocks = parse_blocks(&text);
        // The page's title is the document's own heading.
        let title = blocks
            .iter()
            .filter(|b| b.kind == "title" || b.kind == "subtitle")
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let page = context! {
            blocks => blocks,
            title => title,
            // The regional summary is for one or two pages: smaller type.
            compact => template == "region.md",
            as_of => self.marts.national.as_of,
            version => env!("CARGO_PKG_VERSION"),
            built_at => &self.built_at,
            checksum => self.marts.manifest.as_ref().map(|m| m.snapshot_checksum()),
        };
        let html = self.render("briefing.html", page.clone())?;
        let document = self.render("briefing-document.xml", page)?;
        let docx = docx(&document)
            .map_err(|e| PublishError::Export { what: format!("{stem}.docx"), detail: e.to_string() })?;
        out.put(format!("{stem}.html"), html)?;
        out.put(format!("{stem}.docx"), docx)?;
        Ok(())
    }
}

/// A data quality check of one scope with its title and what to do.
#[derive(Debug, Clone, Serialize)]
struct Check<'a> {
    #[serde(flatten)]
    row: &'a QualityRow,
    title: &'a str,
    action: &'a str,
    /// Its row of quarterly_quality at D, when that history exists.
    quarter: Option<&'a QuarterCheck>,
    /// Whether the scope's worklists name its organizations (organization
    /// checks and members in closed organizations do; other member checks
    /// have no list).
    listed: bool,
}

/// The (region, check) pairs the worklists name organizations for, read
/// once for all the briefings.
struct Listed<'a>(HashSet<(&'a str, &'a str)>);

impl<'a> Listed<'a> {
    fn new(marts: &'a Marts) -> Listed<'a> {
        Listed(marts.worklist.iter().map(|w| (w.region_code.as_str(), w.check.as_str())).collect())
    }

    /// Whether the worklist of any of `regions` names organizations for `check`.
    fn any<'r>(&self, mut regions: impl Iterator<Item = &'r str>, check: &str) -> bool {
        regions.any(|r| self.0.contains(&(r, check)))
    }
}

/// The checks of one scope that find something, in the mart's order;
/// `regions` are the scope's regions, whose worklists say `listed`.
fn checks<'a>(
    marts: &'a Marts,
    keep: impl Fn(&QualityRow) -> bool,
    regions: &[&str],
    listed: &Listed,
) -> Vec<Check<'a>> {
    let as_of = marts.national.as_of;
    marts
        .quality
        .iter()
        .filter(|q| keep(q) && q.affected.is_some_and(|a| a != 0))
        .filter_map(|row| {
            let check = QualityCheck::find(&row.check)?;
            let quarter = marts.quarterly_quality.iter().find(|h| {
                h.snapshot_as_of == as_of
                    && h.check == row.check
                    && h.scope == row.scope
                    && h.federal_district == row.federal_district
                    && h.region_code == row.region_code
            });
            let listed = listed.any(regions.iter().copied(), &row.check);
            Some(Check { row, title: &check.title, action: &check.action, quarter, listed })
        })
        .collect()
}

/// The quarterly_kpis row of a scope at D (its change since the quarter before).
fn quarter(marts: &Marts, keep: impl Fn(&QuarterKpis) -> bool) -> Option<&QuarterKpis> {
    marts.quarterly_kpis.iter().find(|q| q.snapshot_as_of == marts.national.as_of && keep(q))
}

/// Everything a district briefing speaks of: the district's row, the union's
/// and its regions, ranked within the district.
fn district_figures(marts: &Marts, district: &District, reference: &RegionReference, listed: &Listed) -> Value {
    let code = &district.federal_district;
    let mut regions: Vec<Named> =
        marts.regions.iter().filter(|r| &r.federal_district == code).map(|r| named(r, reference)).collect();
    let ranked = |rank: fn(&Region) -> Option<i64>| {
        let mut list = regions.clone();
        by_rank(&mut list, |r| rank(r.row));
        list
    };
    let reports = ranked(|r| r.auto_reports_district_rank);
    let online = ranked(|r| r.joined_online_district_rank);
    let profcards = ranked(|r| r.profcards_district_rank);
    let cards = ranked(|r| r.cards_issued_district_rank);
    by_rank(&mut regions, |r| r.row.coverage_district_rank);
    let bands: Vec<Band> = band_views(marts)
        .into_iter()
        .map(|band| {
            let list: Vec<Named> =
                regions.iter().filter(|r| r.row.coverage_band.as_ref() == Some(&band.row.band)).cloned().collect();
            Band { band, list, table: false }
        })
        .filter(|b| !b.list.is_empty())
        .collect();
    let reference_district = reference.districts.iter().find(|d| &d.district_code == code);
    let district_codes: Vec<&str> = regions.iter().map(|r| r.row.region_code.as_str()).collect();
    let checks =
        checks(marts, |q| q.scope == "district" && q.federal_district.as_ref() == Some(code), &district_codes, listed);
    context! {
        d => district,
        name => reference_district.map_or(district.district_name.as_str(), |d| d.name.as_str()),
        n => &marts.national,
        prev => marts.national_prev.is_some(),
        quarter => quarter(marts, |q| q.scope == "district" && q.federal_district.as_ref() == Some(code)),
        regions => regions,
        bands => bands,
        // The bands whose regions need attention (coverage_bands.needs_attention).
        attention => marts.coverage_bands.iter().filter(|b| b.needs_attention).map(|b| &b.band).collect::<Vec<_>>(),
        reports => reports,
        online => online,
        profcards => profcards,
        cards => cards,
        checks => checks,
        flow => marts.member_flow("year", None, Some(code)),
        flow_groups => flow_groups(marts, Some(code)),
    }
}

/// Everything a regional summary speaks of: the region's row, its district's
/// and the union's, its checks and its worklist.
fn region_figures(marts: &Marts, region: &Region, reference: &RegionReference, listed: &Listed) -> Value {
    let code = &region.region_code;
    let district = marts.districts.iter().find(|d| d.federal_district == region.federal_district);
    let band = band_views(marts).into_iter().find(|b| region.coverage_band.as_ref() == Some(&b.row.band));
    context! {
        r => named(region, reference),
        d => district,
        n => &marts.national,
        prev => marts.national_prev.is_some(),
        counts => &marts.regions_summary,
        band => band,
        quarter => quarter(marts, |q| q.scope == "region" && q.region_code.as_ref() == Some(code)),
        checks => checks(marts, |q| q.scope == "region" && q.region_code.as_ref() == Some(code), &[code], listed),
        worklist => marts.worklist_regions.iter().find(|w| &w.region_code == code),
        flow => marts.member_flow("year", Some(code), None),
    }
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
        flow => marts.member_flow("year", None, None),
        flow_groups => flow_groups(marts, None),
        region_flows => marts
            .member_flows
            .iter()
            .filter(|f| f.compared_period == "year" && f.scope == "region")
            .filter_map(|f| Some((f.region_code.as_deref()?, f)))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// member_flow_groups' year rows of the union (`None`) or of a district.
fn flow_groups<'a>(marts: &'a Marts, district: Option<&str>) -> Vec<&'a MemberFlowGroup> {
    let scope = if district.is_some() { "district" } else { "national" };
    marts
        .member_flow_groups
        .iter()
        .filter(|g| g.compared_period == "year" && g.scope == scope && g.federal_district.as_deref() == district)
        .collect()
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
