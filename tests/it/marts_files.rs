//! The marts as files other tools open: exactly one Parquet and one CSV per
//! mart and date, every column marts.md requires, only types that polars,
//! pandas, DuckDB and Excel read as written, and recomputing replaces rather
//! than adds.

use std::collections::BTreeSet;

use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::common::*;

/// The columns marts.md requires of each mart (more are allowed), and those
/// reestr adds so that every figure it shows is a mart's (the last lines of
/// national and regions, and the marts after profcards_yearly).
const CONTRACT: &[(&str, &[&str])] = &[
    ("national", &[
        "as_of", "report_period", "baseline_as_of", "compared_to", "members", "members_official", "coverage_pct",
        "working", "students", "pensioners", "category_missing", "working_official", "students_official",
        "pensioners_official", "primary_orgs", "territorial_orgs", "primary_orgs_official", "territorial_orgs_official",
        "primary_auto_reports", "primary_auto_reports_pct", "reports_3sp", "reports_4sp", "reports_5sp",
        "territorial_reports", "territorial_reports_pct", "joined_online", "profcards", "profcards_app", "profcards_pct",
        "cards_issued", "cards_refused", "cards_issued_pct", "members_prev", "members_change", "members_change_pct",
        "joined_online_pct", "joined_online_threshold_pct", "profcards_app_pct", "working_share_pct",
        "students_share_pct", "pensioners_share_pct", "category_missing_share_pct", "working_coverage_pct",
        "students_coverage_pct", "pensioners_coverage_pct", "primary_orgs_coverage_pct", "territorial_orgs_coverage_pct",
        "working_prev", "working_change", "working_change_pct", "students_prev", "students_change", "students_change_pct",
        "pensioners_prev", "pensioners_change", "pensioners_change_pct", "category_missing_prev",
        "category_missing_change", "category_missing_change_pct",
    ]),
    ("regions", &[
        "as_of", "region_code", "region_name", "federal_district", "members", "members_official", "coverage_pct",
        "coverage_band", "working", "students", "pensioners", "category_missing", "primary_orgs",
        "primary_auto_reports", "primary_auto_reports_pct", "territorial_orgs", "territorial_reports",
        "territorial_reports_pct", "all_reported", "joined_online", "joined_online_pct", "profcards", "profcards_pct",
        "cards_issued", "cards_issued_pct", "members_prev", "members_change", "members_change_pct",
        "coverage_pct_prev", "coverage_unchanged", "joined_online_above_threshold", "coverage_rank", "auto_reports_rank",
        "joined_online_rank", "profcards_rank", "cards_issued_rank",
    ]),
    ("federal_districts", &["federal_district", "regions", "regions_all_reported", "members", "coverage_pct", "coverage_band"]),
    ("data_quality", &["as_of", "check", "scope", "region_code", "affected", "population", "affected_pct"]),
    ("worklist", &["org_id", "name", "region_code", "level", "check"]),
    ("profcards_monthly", &["month", "purchases", "buyers", "amount", "cashback", "cashback_pct"]),
    ("profcards_yearly", &["year", "ytd", "purchases", "buyers", "amount", "cashback", "cashback_pct"]),
    ("coverage_bands", &["band", "sort_order", "lower_pct", "upper_pct", "regions", "regions_pct"]),
    ("regions_summary", &[
        "regions", "regions_with_baseline", "regions_without_baseline", "regions_all_reported",
        "regions_coverage_unchanged", "regions_joined_online_above_threshold", "regions_without_worklist",
    ]),
    ("worklist_regions", &["region_code", "orgs", "orgs_to_fix", "orgs_to_fix_pct"]),
    ("profcards_summary", &[
        "span", "year", "months", "purchases", "buyers", "amount", "cashback", "cashback_pct", "purchases_change",
        "purchases_change_pct",
    ]),
];

fn mart_files(wh: &std::path::Path) -> BTreeSet<String> {
    tree(&wh.join("marts")).into_keys().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mart_is_one_parquet_and_one_csv_in_portable_types() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    compute_mart(&wh, D, "national").await;

    let expected: BTreeSet<String> = CONTRACT
        .iter()
        .flat_map(|(m, _)| ["parquet", "csv"].map(|ext| format!("{m}/as_of={D}/{m}.{ext}")))
        .collect();
    assert_eq!(mart_files(&wh), expected);

    for (mart, required) in CONTRACT {
        let path = wh.join(format!("marts/{mart}/as_of={D}/{mart}.parquet"));
        let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        let schema = builder.schema().clone();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        for column in *required {
            assert!(names.contains(column), "{mart} lacks {column}");
        }
        for field in schema.fields() {
            let portable = matches!(
                field.data_type(),
                DataType::Int64 | DataType::Float64 | DataType::Utf8 | DataType::Boolean | DataType::Date32
            ) || field.data_type() == &DataType::Decimal128(18, 2);
            assert!(portable, "{mart}.{}: {:?} is not one of the marts' portable types", field.name(), field.data_type());
        }
        // The CSV has the same columns, in the same order.
        let csv = std::fs::read_to_string(path.with_extension("csv")).unwrap();
        assert_eq!(csv.lines().next().unwrap(), names.join(","), "{mart}.csv header");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recomputing_a_date_replaces_its_marts() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    compute_mart(&wh, D, "national").await;
    let first = tree(&wh.join("marts"));
    compute_mart(&wh, D, "national").await;
    let second = tree(&wh.join("marts"));
    let names = |t: &std::collections::BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&first), names(&second), "no file added or lost");
    for (path, bytes) in &first {
        if path.ends_with(".csv") {
            assert_eq!(bytes, &second[path], "{path} changed between two computations of the same data");
        }
    }
    // Nothing left behind in staging.
    assert!(!wh.join("_staging").exists() || std::fs::read_dir(wh.join("_staging")).unwrap().next().is_none());
}
