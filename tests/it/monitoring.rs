//! The quarterly monitoring people see: the «Мониторинг качества данных»
//! page, the quarterly series of region and district pages, the workbook's
//! «Мониторинг» sheet and the worklists' movement since the quarter before —
//! every figure found in quarterly_kpis / quarterly_quality.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::common::*;

/// Three dates in three quarters, the same rows on each: 2022-11-21 (IV
/// 2022), 2023-09-30 (III 2023, the quarter before D's) and D (IV 2023,
/// running).
const MIDDLE: &str = "2023-09-30";

async fn monitored(dir: &Path) -> PathBuf {
    published(dir, &[C, MIDDLE, D], |_| {}).await
}

/// The union's row of a quarter in quarterly_kpis at D.
fn national_quarters(wh: &Path) -> Vec<(String, i64)> {
    let q = read_mart(wh, "quarterly_kpis", D);
    let scopes = column_text(&q, "scope");
    let quarters = column_text(&q, "quarter_end");
    (0..q.num_rows())
        .filter(|&i| scopes[i] == "national")
        .map(|i| (quarters[i].clone(), int(&q, "members", i).unwrap()))
        .collect()
}

/// `3 098 599` as the pages write it (no-break spaces between groups).
fn russian_int(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    if n < 0 { format!("−{out}") } else { out }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_page_shows_every_quarter_with_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = monitored(tmp.path()).await;
    let quarters = national_quarters(&wh);
    assert_eq!(
        quarters.iter().map(|q| q.0.as_str()).collect::<Vec<_>>(),
        ["2023-01-01", "2023-10-01", "2024-01-01"],
        "one quarter per snapshot date"
    );
    // `reestr sql --as-of D` keeps every quarter of D's quarterly marts (their
    // as_of is D on every row; the snapshot of each quarter is snapshot_as_of).
    for (mart, rows) in [("quarterly_kpis", 3), ("quarterly_quality", 3 * 22)] {
        let query = format!(
            "SELECT count(*) AS n, count(DISTINCT snapshot_as_of) AS snapshots FROM {mart} WHERE scope = 'national'"
        );
        let out = reestr()
            .args(["sql", "--format", "csv", "--as-of", D, "--warehouse"])
            .arg(&wh)
            .arg(&query)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("n,snapshots\n{rows},3\n"), "{mart}");
    }
    let html = std::fs::read_to_string(wh.join("site/monitoring.html")).unwrap();
    let text = visible_text(&html);
    assert!(text.contains("Мониторинг качества данных"), "{text}");
    for label in ["IV кв. 2022", "III кв. 2023", "IV кв. 2023*"] {
        assert!(text.contains(label), "quarter {label} is a column: {text}");
    }
    assert!(text.contains("Квартал ещё не завершён"), "the running quarter is explained");
    // The union's members per quarter, in the table and in the text a screen
    // reader gets (the sparkline itself is hidden from it).
    let spoken: Vec<String> = quarters
        .iter()
        .zip(["IV кв. 2022", "III кв. 2023", "IV кв. 2023"])
        .map(|((_, members), label)| format!("{label}: {}", russian_int(*members)))
        .collect();
    let national = &html[html.find("<h3>Члены Профсоюза в реестре</h3>").expect("the members table")..];
    assert!(
        national.contains(&format!("Профсоюз<span class=\"sr-only\">. {}</span>", spoken.join("; "))),
        "spoken members {spoken:?} in the page"
    );
    assert!(html.contains("<svg class=\"spark\""), "sparklines are drawn");
    assert!(html.contains("<svg class=\"spark\" viewBox") && html.contains("aria-hidden=\"true\" focusable=\"false\""));
    // Every check has its section, and every region is in the table.
    for check in reestr::contract::QualityCheck::all() {
        assert!(html.contains(&format!("id=\"{}\"", check.check)), "{} has a section", check.check);
    }
    for region in &reestr::contract::RegionReference::embedded().regions {
        assert!(html.contains(&format!("regions/{}.html", region.region_code)), "{} is listed", region.region_code);
    }
    // Region and district pages have their own series.
    let region = std::fs::read_to_string(wh.join("site/regions/23.html")).unwrap();
    assert!(visible_text(&region).contains("По кварталам") && region.contains("IV кв. 2023*"));
    let district = std::fs::read_to_string(wh.join("site/districts/SFD.html")).unwrap();
    assert!(visible_text(&district).contains("Округ по кварталам") && district.contains("III кв. 2023"));
    // The navigation leads to it from every page.
    let index = std::fs::read_to_string(wh.join("site/index.html")).unwrap();
    assert!(index.contains("href=\"monitoring.html\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_has_a_monitoring_sheet_of_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = monitored(tmp.path()).await;
    let book = wh.join("exports").join(D).join(format!("kpi-{D}.xlsx"));
    let mut workbook: Xlsx<_> = open_workbook(&book).unwrap();
    let sheet = workbook.worksheet_range("Мониторинг").unwrap();
    // Two header rows, the union, 8 districts, 85 regions.
    assert_eq!(sheet.height(), 2 + 1 + 8 + 85);
    let labels: Vec<String> = sheet.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    assert!(labels.iter().any(|l| l == "III кв. 2023"), "{labels:?}");
    assert!(labels.iter().any(|l| l == "IV кв. 2023 (на 21.11.2023)"), "{labels:?}");
    // The first block is coverage; region 23's cells are numbers and equal the mart's.
    let row23 = sheet.rows().find(|r| r[0].to_string().starts_with("Краснодарская")).unwrap();
    let q = read_mart(&wh, "quarterly_kpis", D);
    let (regions, ends) = (column_text(&q, "region_code"), column_text(&q, "quarter_end"));
    let mut numbers = 0;
    for (i, end) in ["2023-01-01", "2023-10-01", "2024-01-01"].iter().enumerate() {
        let k = (0..q.num_rows()).find(|&k| regions[k] == "23" && ends[k] == *end).unwrap();
        match (&row23[1 + i], pct(&q, "coverage_pct", k)) {
            (Data::Float(x), Some(expected)) => {
                assert!((x - expected).abs() < 1e-9, "{end}: {x} vs {expected}");
                numbers += 1;
            }
            // C has no official report yet: no coverage, an empty cell.
            (Data::Empty, None) => {}
            (cell, expected) => panic!("{end}: cell {cell:?}, mart {expected:?}"),
        }
    }
    assert!(numbers >= 2, "coverage is a number where the mart has one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worklist_says_how_its_counts_moved_since_the_quarter_before() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = monitored(tmp.path()).await;
    let list = wh.join("exports").join(D).join("worklists/23.xlsx");
    let mut book: Xlsx<_> = open_workbook(&list).unwrap();
    let summary = book.worksheet_range("Сводка").unwrap();
    let header: Vec<String> = summary.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        &header[..5],
        ["Проверка", "Организаций в перечне", "Выявлено", "Кварталом ранее", "Изменение за квартал"]
    );
    // Each check's row agrees with quarterly_quality at D's quarter (the one
    // D itself represents; every row's as_of is D).
    let q = read_mart(&wh, "quarterly_quality", D);
    let (scopes, regions, checks, dates) = (
        column_text(&q, "scope"),
        column_text(&q, "region_code"),
        column_text(&q, "check"),
        column_text(&q, "snapshot_as_of"),
    );
    let mut compared = 0;
    let mut with_quarter_before = 0;
    for row in summary.rows().skip(1) {
        let title = row[0].to_string();
        let Some(check) = reestr::contract::QualityCheck::all().iter().find(|c| c.title == title) else { continue };
        let k = (0..q.num_rows())
            .find(|&k| scopes[k] == "region" && regions[k] == "23" && checks[k] == check.check && dates[k] == D)
            .unwrap();
        let cell = |c: usize| match &row[c] {
            Data::Float(x) => Some(*x as i64),
            Data::Empty => None,
            other => panic!("{title}: {other:?}"),
        };
        assert_eq!(cell(2), int(&q, "affected", k), "{title} now");
        assert_eq!(cell(3), int(&q, "affected_prev_quarter", k), "{title} a quarter before");
        assert_eq!(cell(4), int(&q, "affected_change_quarter", k), "{title} change");
        compared += 1;
        with_quarter_before += usize::from(cell(3).is_some());
    }
    assert!(compared > 0, "the summary lists checks");
    assert_eq!(with_quarter_before, compared, "III 2023 is the quarter before: every check has its count");
}
