//! The exports people and systems take: the KPI workbook read back with
//! calamine (numbers are numbers, dates are dates, hostile text is a string),
//! Excel CSVs with neutralised formulas, machine files equal to the marts, and
//! one worklist per region with problems, matching the data_quality mart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::common::*;

const HOSTILE: &str = "=HYPERLINK(\"http://x\",\"y\")";

/// The marts snapshot with P5 (a primary org without members, so on the
/// worklist) named like a formula; marts of C and D, published.
async fn exported(dir: &Path) -> PathBuf {
    published(dir, &[C, D], |tables| rename_org(tables, "P5", HOSTILE)).await.join("exports").join(D)
}

fn sheet(path: &Path, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    book.worksheet_range(name).unwrap_or_else(|e| panic!("{}: sheet {name}: {e}", path.display()))
}

fn column(range: &calamine::Range<Data>, title: &str) -> usize {
    let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    header.iter().position(|h| h == title).unwrap_or_else(|| panic!("no column {title} in {header:?}"))
}

/// The fields of an Excel CSV (BOM, `;`).
fn excel_csv(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{}: UTF-8 with BOM", path.display());
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(&bytes[3..]);
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kpi_workbook_holds_numbers_dates_and_strings() {
    let tmp = tempfile::tempdir().unwrap();
    let exports = exported(tmp.path()).await;
    let book = exports.join(format!("kpi-{D}.xlsx"));
    let mut workbook: Xlsx<_> = open_workbook(&book).unwrap();
    let names = workbook.sheet_names();
    for expected in
        ["Профсоюз", "Регионы", "Федеральные округа", "Качество данных", "ПРОФКАРДС по месяцам", "ПРОФКАРДС по годам"]
    {
        assert!(names.iter().any(|n| n == expected), "sheet {expected} in {names:?}");
    }
    let regions = sheet(&book, "Регионы");
    assert_eq!(regions.height(), 1 + 85, "a header and every region");
    let members = column(&regions, "Членов Профсоюза в реестре");
    let coverage = column(&regions, "Охват реестром, %");
    let as_of = column(&regions, "Дата снимка");
    let name = column(&regions, "Региональная организация");
    let row23 = regions.rows().find(|r| r[name].to_string().starts_with("Краснодарская")).unwrap();
    assert!(matches!(row23[members], Data::Float(x) if x > 0.0), "members is a number: {:?}", row23[members]);
    assert!(matches!(row23[coverage], Data::Float(_)), "coverage is a number: {:?}", row23[coverage]);
    match &row23[as_of] {
        Data::DateTime(d) => {
            // Excel's serial day: days since 30 December 1899.
            let serial = (chrono::NaiveDate::parse_from_str(D, "%Y-%m-%d").unwrap()
                - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
            .num_days() as f64;
            assert!(d.is_datetime() && d.as_f64() == serial, "{d:?}");
        }
        other => panic!("the snapshot date is a date cell, not {other:?}"),
    }
    // Nothing in any sheet is a formula.
    for sheet_name in workbook.sheet_names() {
        let formulas = workbook.worksheet_formula(&sheet_name).unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "{sheet_name} holds a formula");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_stays_text_in_every_peoples_file() {
    let tmp = tempfile::tempdir().unwrap();
    let exports = exported(tmp.path()).await;
    let neutralised = format!("'{HOSTILE}");

    let list = exports.join("worklists/23.xlsx");
    let mut book: Xlsx<_> = open_workbook(&list).unwrap();
    let mut seen = false;
    for sheet_name in book.sheet_names() {
        let range = book.worksheet_range(&sheet_name).unwrap();
        for cell in range.used_cells().map(|(_, _, c)| c) {
            if cell.to_string().contains("HYPERLINK") {
                assert_eq!(cell, &Data::String(neutralised.clone()), "{sheet_name}: a string cell, neutralised");
                seen = true;
            }
        }
        assert!(book.worksheet_formula(&sheet_name).unwrap().used_cells().all(|(_, _, f)| f.is_empty()));
    }
    assert!(seen, "the hostile name is in the region's worklist");

    for file in [exports.join("worklists/23.csv"), exports.join("excel/worklist.csv")] {
        let rows = excel_csv(&file);
        assert!(rows.iter().flatten().any(|f| *f == neutralised), "{}: the name, neutralised", file.display());
        for field in rows.iter().flatten() {
            assert!(!field.starts_with(['=', '+', '-', '@', '\t', '\r']), "{}: {field:?}", file.display());
        }
    }
    // Machine files keep the value exact.
    let machine = std::fs::read_to_string(exports.join("csv/worklist.csv")).unwrap();
    assert!(machine.contains("\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""), "machine CSV keeps the name as it is");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_files_are_the_marts_with_contract_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let exports = exported(tmp.path()).await;
    let wh = exports.parent().unwrap().parent().unwrap();
    for (mart, _) in reestr::compute::MARTS {
        let computed = std::fs::read(wh.join(format!("marts/{mart}/as_of={D}/{mart}.csv"))).unwrap();
        assert_eq!(std::fs::read(exports.join(format!("csv/{mart}.csv"))).unwrap(), computed, "{mart}.csv");
        let parquet = std::fs::read(wh.join(format!("marts/{mart}/as_of={D}/{mart}.parquet"))).unwrap();
        assert_eq!(std::fs::read(exports.join(format!("parquet/{mart}.parquet"))).unwrap(), parquet, "{mart}.parquet");
        let json: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_slice(&std::fs::read(exports.join(format!("json/{mart}.json"))).unwrap()).unwrap();
        let batch = read_mart(wh, mart, D);
        assert_eq!(json.len(), batch.num_rows(), "{mart}.json rows");
        if let Some(first) = json.first() {
            let schema = batch.schema();
            let names: BTreeSet<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let keys: BTreeSet<&str> = first.keys().map(String::as_str).collect();
            assert_eq!(keys, names, "{mart}.json has every column, nulls included");
        }
        // The Excel CSV: Russian headers, decimal comma.
        let people = excel_csv(&exports.join(format!("excel/{mart}.csv")));
        assert_eq!(people.len(), 1 + batch.num_rows(), "excel/{mart}.csv rows");
    }
    let regions = excel_csv(&exports.join("excel/regions.csv"));
    assert!(regions[0].contains(&"Охват реестром, %".to_string()));
    let coverage = regions[0].iter().position(|h| h == "Охват реестром, %").unwrap();
    let row23 = regions.iter().find(|r| r.iter().any(|f| f.starts_with("Краснодарская"))).unwrap();
    assert!(row23[coverage].contains(',') && !row23[coverage].contains('.'), "decimal comma: {}", row23[coverage]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worklist_per_region_with_problems_matching_data_quality() {
    let tmp = tempfile::tempdir().unwrap();
    let exports = exported(tmp.path()).await;
    let wh = exports.parent().unwrap().parent().unwrap();
    let worklist = read_mart(wh, "worklist", D);
    let regions: BTreeSet<String> = column_text(&worklist, "region_code").into_iter().collect();
    let files: BTreeSet<String> = std::fs::read_dir(exports.join("worklists"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = regions.iter().flat_map(|r| [format!("{r}.xlsx"), format!("{r}.csv")]).collect();
    assert_eq!(files, expected, "a file per region with something to fix, none for the others");

    // Per region and check: rows in the worklist file = affected in data_quality.
    let dq = read_mart(wh, "data_quality", D);
    let (checks, scopes, codes) =
        (column_text(&dq, "check"), column_text(&dq, "scope"), column_text(&dq, "region_code"));
    let titles: BTreeMap<&str, &str> =
        reestr::contract::QualityCheck::all().iter().map(|c| (c.title.as_str(), c.check.as_str())).collect();
    for region in &regions {
        let rows = excel_csv(&exports.join(format!("worklists/{region}.csv")));
        let mut counted: BTreeMap<&str, i64> = BTreeMap::new();
        for row in &rows[1..] {
            *counted.entry(titles[row[0].as_str()]).or_default() += 1;
        }
        for (check, n) in counted {
            let i = (0..dq.num_rows())
                .find(|&i| checks[i] == check && scopes[i] == "region" && codes[i] == *region)
                .unwrap_or_else(|| panic!("no data_quality row for {check} in {region}"));
            assert_eq!(int(&dq, "affected", i), Some(n), "{region} {check}");
        }
        // Never a member's id or any personal data.
        let text = rows.iter().flatten().cloned().collect::<Vec<_>>().join(";");
        for member in ["M1", "M2", "M3", "M4", "M5", "M6", "M7"] {
            assert!(!text.split(';').any(|f| f == member), "{region}: member id {member}");
        }
        assert!(!rows[0].iter().any(|h| h.contains("член") && h.contains("Код")), "{:?}", rows[0]);
    }
}
