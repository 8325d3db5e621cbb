//! Where people see member_flows: the «Движение членов Профсоюза» section of
//! the region and district pages (a waterfall and the table of both
//! comparisons), the workbook's «Движение членов» sheet, and the flows'
//! machine files beside the site and in the bundles. On `flow_snapshots()`,
//! every figure shown must be the mart's (whose values marts_flows.rs works
//! out by hand).

use std::path::Path;

use arrow::array::RecordBatch;
use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::common::*;

/// The member_flows row of a comparison and a region (or, `None`, the
/// district SFD).
fn region_row(b: &RecordBatch, period: &str, region: Option<&str>) -> usize {
    match region {
        Some(code) => flow_row(b, period, "region", Some(code)),
        None => flow_row(b, period, "district", Some("SFD")),
    }
}

/// A change as the pages write it: `+1`, `−2` (U+2212), `0`.
fn signed(n: i64) -> String {
    match n.signum() {
        1 => format!("+{n}"),
        -1 => format!("\u{2212}{}", -n),
        _ => "0".into(),
    }
}

/// The text after the first `from` up to the next `to`.
fn between<'h>(html: &'h str, from: &str, to: &str) -> &'h str {
    let start = html.find(from).unwrap_or_else(|| panic!("no {from}")) + from.len();
    let end = html[start..].find(to).unwrap_or_else(|| panic!("no {to} after {from}")) + start;
    &html[start..end]
}

/// The values the waterfall writes beside its bars, in order.
fn bar_values(svg: &str) -> Vec<String> {
    svg.split("<text class=\"value\"")
        .skip(1)
        .map(|t| visible_text(format!("<{t}").split("</text>").next().unwrap()))
        .collect()
}

/// The table of the section as a reader sees it, built from the mart's
/// `rows` (each with its column's header) and the place's words for moving
/// in, out and within.
fn expected_table(b: &RecordBatch, rows: &[(usize, &str)], place: (&str, &str, &str)) -> String {
    // Each line: its words, its column, and how it is written (a count, a
    // change that adds, a change that takes away).
    let lines = [
        ("В реестре на дату сравнения", "members_prev", 0),
        ("Вступили", "joined", 1),
        ("Внесены задним числом", "registered_late", 1),
        ("Выбыли", "left_record", -1),
        ("Пропали из выгрузки*", "gone_from_export", -1),
        (place.0, "moved_in", 1),
        (place.1, "moved_out", -1),
        ("В реестре на 21 ноября 2023 г.", "members", 0),
        ("Изменение", "net_change", 1),
        (place.2, "moved_within", 0),
        ("сменили категорию учёта", "category_changed", 0),
    ];
    let mut text = String::from("Движение");
    for (_, header) in rows {
        text += &format!(" {header}");
    }
    for (label, column, sign) in lines {
        text += &format!(" {label}");
        for (i, _) in rows {
            let v = int(b, column, *i).unwrap_or_else(|| panic!("{column} is null"));
            text += &format!(" {}", if sign == 0 { v.to_string() } else { signed(sign * v) });
        }
    }
    text
}

const YEAR: &str = "За год, с 21 ноября 2022 г.";
const QUARTER: &str = "За квартал, с 30 сентября 2023 г.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_and_district_pages_show_the_flows_of_the_mart() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = published_snapshots(tmp.path(), &flow_snapshots()).await;
    let b = read_mart(&wh, "member_flows", D);
    let (year, quarter) = (region_row(&b, "year", Some("23")), region_row(&b, "quarter", Some("23")));

    let page = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    let section = between(&page, "<h2 id=\"flows\">", "<h2 id=\"quality\">");
    let table = visible_text(between(section, "<table class=\"data flows\">", "</table>"));
    let words = ("Пришли из других регионов", "Ушли в другие регионы", "сменили организацию внутри региона");
    assert_eq!(table, expected_table(&b, &[(year, YEAR), (quarter, QUARTER)], words));
    // The mart's figures are those worked out by hand (marts_flows.rs).
    assert!(
        table.contains("Выбыли −2 −1 Пропали из выгрузки* −1 −1")
            && table.contains("В реестре на 21 ноября 2023 г. 4 4 Изменение −2 −1"),
        "{table}"
    );

    // The waterfall: from 6 at C to 4 at D, one bar per step, hidden from
    // screen readers (the table holds its figures).
    let svg = between(section, "<svg", "</svg>");
    assert!(svg.contains("aria-hidden=\"true\""), "{svg}");
    assert_eq!(svg.matches("<rect class=\"wf ").count(), 8, "the two counts and six steps");
    assert_eq!(svg.matches("<rect class=\"wf wf-gone\"").count(), 1, "gone from the export drawn apart");
    assert_eq!(bar_values(svg), ["6", "+1", "+1", "−2", "−1", "0", "−1", "4"]);
    let labels = visible_text(svg);
    assert!(labels.contains("В реестре на 21 ноября 2022 г.") && labels.contains("Ушли в другие регионы"), "{labels}");
    // Gone from the export is a data-quality signal, pointing to its check.
    let text = visible_text(section);
    assert!(
        text.contains("а не выход из Профсоюза")
            && text.contains("«Члены Профсоюза, пропавшие из выгрузки (состояли на учёте год назад)»"),
        "{text}"
    );
    assert!(section.contains("href=\"#quality\""), "the note links the page's data-quality table");
    assert!(!text.contains("Сравнения за"), "both comparisons are there: {text}");

    // The district: its moves cross the district's border (none here: the
    // move to Rostov stays inside SFD), and a table of its regions.
    let page = std::fs::read_to_string(wh.join("site/districts/SFD.html")).unwrap();
    let section = between(&page, "<h2 id=\"flows\">", "<h2>Округ по кварталам</h2>");
    let (dy, dq) = (region_row(&b, "year", None), region_row(&b, "quarter", None));
    let table = visible_text(between(section, "<table class=\"data flows\">", "</table>"));
    let words = ("Пришли из других округов", "Ушли в другие округа", "сменили организацию внутри округа");
    assert_eq!(table, expected_table(&b, &[(dy, YEAR), (dq, QUARTER)], words));
    assert_eq!(bar_values(between(section, "<svg", "</svg>")), ["6", "+1", "+1", "−2", "−1", "0", "0", "5"]);
    let regions = between(section, "<table class=\"data sortable compact flows-regions\">", "</table>");
    let sfd = reestr::contract::RegionReference::embedded().regions.iter().filter(|r| r.district_code == "SFD").count();
    assert_eq!(regions.matches("<tr><td>").count(), sfd, "one row per region of the district");
    let rows: Vec<String> = regions.split("<tr>").skip(2).map(visible_text).collect();
    for (code, name) in [("23", "Краснодарский край"), ("61", "Ростовская область")] {
        let i = region_row(&b, "year", Some(code));
        let v = |c: &str| int(&b, c, i).unwrap();
        let expected = format!(
            "{name} {} {} {} {} {} {} {} {} {}",
            v("members_prev"),
            signed(v("joined")),
            signed(v("registered_late")),
            signed(-v("left_record")),
            signed(-v("gone_from_export")),
            signed(v("moved_in")),
            signed(-v("moved_out")),
            v("members"),
            signed(v("net_change")),
        );
        assert!(rows.contains(&expected), "{expected} in {rows:?}");
    }
    assert!(rows.contains(&"Ростовская область 0 0 0 0 0 +1 0 1 +1".to_string()), "{rows:?}");
}

/// Without the quarter's snapshot its column is left out and the page says
/// so; without any earlier snapshot there is nothing to draw, only words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_comparison_is_said_not_shown_as_zeros() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = published(tmp.path(), &[C, D], |_| {}).await;
    let page = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    let section = between(&page, "<h2 id=\"flows\">", "<h2 id=\"quality\">");
    let text = visible_text(section);
    assert!(text.contains("Сравнения за квартал нет"), "{text}");
    assert!(!text.contains("Сравнения за год нет") && !text.contains("За квартал"), "{text}");
    let header = visible_text(between(section, "<thead>", "</thead>"));
    assert_eq!(header, format!("Движение {YEAR}"));
    assert_eq!(section.matches("<rect class=\"wf ").count(), 8);

    let tmp = tempfile::tempdir().unwrap();
    let wh = published(tmp.path(), &[D], |_| {}).await;
    for page in ["regions/23.html", "districts/SFD.html"] {
        let html = std::fs::read_to_string(wh.join("site").join(page)).unwrap();
        let section = between(&html, "<h2 id=\"flows\">", "<h2");
        let text = visible_text(section);
        assert!(text.contains("Сравнения за год нет") && text.contains("Сравнения за квартал нет"), "{page}: {text}");
        assert!(!section.contains("<svg") && !section.contains("<table"), "{page}: no zeros drawn");
    }
}

fn sheet(path: &Path, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    book.worksheet_range(name).unwrap_or_else(|e| panic!("{}: sheet {name}: {e}", path.display()))
}

/// The columns of each comparison's block on «Движение членов», in order.
const SHEET_COLUMNS: [&str; 11] = [
    "members_prev",
    "joined",
    "registered_late",
    "left_record",
    "gone_from_export",
    "moved_in",
    "moved_out",
    "members",
    "net_change",
    "moved_within",
    "category_changed",
];

/// The sheet's rows by name: the numbers of both blocks (`None` for an
/// empty cell).
fn flow_sheet(range: &calamine::Range<Data>) -> Vec<(String, Vec<Option<f64>>)> {
    range
        .rows()
        .skip(2)
        .map(|r| {
            let cells = r[1..]
                .iter()
                .map(|c| match c {
                    Data::Float(x) => Some(*x),
                    Data::Empty => None,
                    other => panic!("not a number: {other:?}"),
                })
                .collect();
            (r[0].to_string(), cells)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_and_the_machine_files_hold_the_flows() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = published_snapshots(tmp.path(), &flow_snapshots()).await;
    let b = read_mart(&wh, "member_flows", D);
    let exports = wh.join("exports").join(D);
    let range = sheet(&exports.join(format!("kpi-{D}.xlsx")), "Движение членов");
    let header: Vec<String> = range.rows().take(2).map(|r| r[1].to_string()).collect();
    assert_eq!(header, ["За год: с 21.11.2022 по 21.11.2023", "Членов в реестре на дату сравнения"]);
    let second = range.rows().next().unwrap()[1 + SHEET_COLUMNS.len()].to_string();
    assert_eq!(second, "За квартал: с 30.09.2023 по 21.11.2023");
    let titles: Vec<String> = range.rows().nth(1).unwrap()[1..].iter().map(|c| c.to_string()).collect();
    assert_eq!(titles[5], "Пришли из других регионов (округов)", "titles from the mart's schema");
    let rows = flow_sheet(&range);
    assert_eq!(rows.len(), 1 + 8 + 85, "the union, the districts, the regions");
    assert_eq!(rows[0].0, "Профсоюз");
    for (name, region) in [
        ("Краснодарская краевая организация Профсоюза", Some("23")),
        ("Ростовская областная организация Профсоюза", Some("61")),
        ("Южный федеральный округ", None),
    ] {
        let cells = &rows.iter().find(|r| r.0 == name).unwrap_or_else(|| panic!("no row {name}")).1;
        let mut expected = Vec::new();
        for period in ["year", "quarter"] {
            let i = region_row(&b, period, region);
            expected.extend(SHEET_COLUMNS.iter().map(|c| int(&b, c, i).map(|v| v as f64)));
        }
        assert_eq!(cells, &expected, "{name}");
    }
    let krasnodar = &rows.iter().find(|r| r.0.starts_with("Краснодарская")).unwrap().1;
    assert_eq!(krasnodar[..9], [6.0, 1.0, 1.0, 2.0, 1.0, 0.0, 1.0, 4.0, -2.0].map(Some), "by hand");

    // The machine files of the three flow marts, beside the site and in the
    // region's bundle, cut to its rows (the union's and its district's as context).
    for mart in ["member_flows", "member_category_flows", "member_flow_groups"] {
        for (folder, ext) in [("csv", "csv"), ("parquet", "parquet"), ("json", "json"), ("excel", "csv")] {
            assert!(exports.join(folder).join(format!("{mart}.{ext}")).exists(), "{folder}/{mart}.{ext}");
        }
    }
    let zip = std::fs::read(wh.join(format!("bundles/{D}/region-23.zip"))).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut csv = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("exports/csv/member_flows.csv").unwrap(), &mut csv).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let scopes: Vec<String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            format!("{} {} {}", &r[at("scope")], &r[at("federal_district")], &r[at("region_code")])
        })
        .collect();
    let one = ["national  ", "district SFD ", "region SFD 23"];
    assert_eq!(scopes, [one, one].concat(), "both comparisons, only the region's own rows and their totals");
    let mut book = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(&format!("exports/kpi-{D}.xlsx")).unwrap(), &mut book).unwrap();
    let part = tmp.path().join("part.xlsx");
    std::fs::write(&part, book).unwrap();
    let names: Vec<String> = flow_sheet(&sheet(&part, "Движение членов")).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["Профсоюз", "Южный федеральный округ", "Краснодарская краевая организация Профсоюза"]);
}
