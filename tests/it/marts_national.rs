//! The national mart on a hand-made snapshot; every expected value below was
//! worked out by hand from the rows listed in `marts_snapshot()`.

use crate::common::*;
use arrow::array::RecordBatch;
use chrono::NaiveDate;

async fn national(wh: &std::path::Path, d: &str) -> RecordBatch {
    let batch = compute_mart(wh, d, "national").await;
    assert_eq!(batch.num_rows(), 1, "national has one row");
    batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_mart_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    let n = national(&wh, D).await;
    let dates = column_text(&n, "as_of")
        .into_iter()
        .chain(column_text(&n, "report_period"))
        .chain(column_text(&n, "baseline_as_of"))
        .chain(column_text(&n, "compared_to"))
        .collect::<Vec<_>>();
    assert_eq!(dates, [D, "2023-10-01", "2023-01-01", C]);

    // On record at D: M1, M2 (P1), M4 (P2, inactive org), M5 (registered on D).
    let counts = [
        ("members", 4),
        ("members_official", 5),
        ("working", 2),
        ("students", 1),
        ("pensioners", 1),
        ("category_missing", 0),
        ("working_official", 3),
        ("students_official", 1),
        ("pensioners_official", 1),
        // Active primary: P1, P4, P5, P6 (P2 excluded 2020, P3 excluded on D).
        ("primary_orgs", 4),
        ("territorial_orgs", 1),
        ("primary_orgs_official", 2),
        ("territorial_orgs_official", 1),
        // Auto 3/4/5-SP for P: P1 (5), P4 (4-СП), P5 (3 and 5) — P6 manual, P3 excluded.
        ("primary_auto_reports", 3),
        ("reports_3sp", 1),
        ("reports_4sp", 1),
        ("reports_5sp", 2),
        ("territorial_reports", 1),
        ("joined_online", 1),
        ("profcards", 2),
        ("profcards_app", 1),
        ("cards_issued", 1),
        ("cards_refused", 1),
        // On record at C: M1, M2, M3 (left 2023-01-01), M4, M6 (left on D).
        ("members_prev", 5),
        ("members_change", -1),
    ];
    for (name, expected) in counts {
        assert_eq!(int(&n, name, 0), Some(expected), "{name}");
    }
    for (name, expected) in [
        ("coverage_pct", 80.0),
        ("primary_auto_reports_pct", 75.0),
        ("territorial_reports_pct", 100.0),
        ("profcards_pct", 50.0),
        ("cards_issued_pct", 25.0),
        ("members_change_pct", -20.0),
    ] {
        assert!(close(pct(&n, name, 0), expected), "{name}: {:?} ≠ {expected}", pct(&n, name, 0));
    }

    // The same marts as CSV, one file of each per date.
    let dir = wh.join(format!("marts/national/as_of={D}"));
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(files, ["national.csv", "national.parquet"]);
    let csv = std::fs::read_to_string(dir.join("national.csv")).unwrap();
    assert!(csv.starts_with("as_of,report_period,baseline_as_of,compared_to,members,"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("2023-11-21,2023-10-01,2023-01-01,2022-11-21,4,5,80.0,"), "{csv}");

    // The manifest of D records the query.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wh.join(format!("runs/{D}/manifest.json"))).unwrap()).unwrap();
    assert!(manifest["queries"].as_array().unwrap().iter().any(|q| q["name"] == "marts/national" && q["rows"] == 1));
    assert!(
        manifest["outputs"].as_array().unwrap().iter().any(|o| o == "marts/national/as_of=2023-11-21/national.parquet")
    );
}

/// At C itself: no official report on or before it (B null) and no snapshot a
/// year before (C null) — their columns are null, not zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_without_baseline_or_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let snap = write_snapshot(tmp.path(), C, &marts_snapshot(), PLAIN);
    run_ingest(&snap, &wh).await.unwrap();
    let n = national(&wh, C).await;
    assert_eq!(column_text(&n, "baseline_as_of"), ["∅"]);
    assert_eq!(column_text(&n, "compared_to"), ["∅"]);
    assert_eq!(column_text(&n, "report_period"), ["2022-10-01"]);
    assert_eq!(int(&n, "members", 0), Some(5));
    for name in ["members_official", "working_official", "primary_orgs_official", "members_prev", "members_change"] {
        assert_eq!(int(&n, name, 0), None, "{name}");
    }
    for name in ["coverage_pct", "members_change_pct"] {
        assert_eq!(pct(&n, name, 0), None, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_needs_the_snapshot_in_the_warehouse() {
    let tmp = tempfile::tempdir().unwrap();
    let err = job(tmp.path())
        .await
        .compute(NaiveDate::from_ymd_opt(2023, 11, 21).unwrap(), Default::default())
        .await
        .unwrap_err();
    assert!(err.is_user_error());
    assert!(err.to_string().contains("ingest it first"), "{err}");
}

/// D on a quarter start is its own reporting period P. At 2023-10-01: P3
/// (excluded only on 2023-11-21) is still active and its auto 5-SP counts; P4
/// (registered 2023-11-21) is not yet there; P6's report is manual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_on_a_quarter_start_reports_that_quarter() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let d = "2023-10-01";
    let snap = write_snapshot(tmp.path(), d, &marts_snapshot(), PLAIN);
    run_ingest(&snap, &wh).await.unwrap();
    let n = national(&wh, d).await;
    assert_eq!(column_text(&n, "report_period"), [d]);
    assert_eq!(int(&n, "primary_orgs", 0), Some(4), "P1, P3, P5, P6");
    assert_eq!(int(&n, "primary_auto_reports", 0), Some(3), "P1, P3, P5");
    assert_eq!(int(&n, "reports_5sp", 0), Some(3));
    assert_eq!(int(&n, "reports_3sp", 0), Some(1));
    assert_eq!(int(&n, "reports_4sp", 0), Some(0));
    assert!(close(pct(&n, "primary_auto_reports_pct", 0), 75.0));
}

/// The shares, category coverages and category changes the pages and the
/// briefing state, on `marts_snapshot()` at D and C. Worked out by hand:
/// - on record at D: M1 working (profcards app), M2 student (joined online),
///   M4 pensioner, M5 working: 4 members; official at B: 5 members, 3
///   working, 1 student, 1 pensioner, 2 primary and 1 territorial orgs;
///   active: 4 primary (P1, P4, P5, P6), 1 territorial (T1);
/// - on record at C: M1 working, M2 student, M3 no category (left only in
///   2023), M4 pensioner, M6 working (left on D): 2 working, 1 student, 1
///   pensioner, 1 without category.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_shares_and_changes_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    let n = national(&wh, D).await;
    for (name, expected) in [
        ("joined_online_pct", 25.0),           // 1 of 4
        ("joined_online_threshold_pct", 3.0),  // the decree's bar
        ("profcards_app_pct", 25.0),           // 1 of 4
        ("working_share_pct", 50.0),           // 2 of 4
        ("students_share_pct", 25.0),          // 1 of 4
        ("pensioners_share_pct", 25.0),        // 1 of 4
        ("category_missing_share_pct", 0.0),   // 0 of 4
        ("working_coverage_pct", 200.0 / 3.0), // 2 of 3 official
        ("students_coverage_pct", 100.0),      // 1 of 1
        ("pensioners_coverage_pct", 100.0),    // 1 of 1
        ("primary_orgs_coverage_pct", 200.0),  // 4 of 2
        ("territorial_orgs_coverage_pct", 100.0),
        ("working_change_pct", 0.0),             // 2 → 2
        ("students_change_pct", 0.0),            // 1 → 1
        ("pensioners_change_pct", 0.0),          // 1 → 1
        ("category_missing_change_pct", -100.0), // 1 → 0
    ] {
        assert!(close(pct(&n, name, 0), expected), "{name}: {:?} ≠ {expected}", pct(&n, name, 0));
    }
    for (name, expected) in [
        ("working_prev", 2),
        ("working_change", 0),
        ("students_prev", 1),
        ("students_change", 0),
        ("pensioners_prev", 1),
        ("pensioners_change", 0),
        ("category_missing_prev", 1),
        ("category_missing_change", -1),
    ] {
        assert_eq!(int(&n, name, 0), Some(expected), "{name}");
    }

    // At C there is no snapshot a year before and no official report: the
    // changes and the coverages are null, the shares are not (5 members: M1,
    // M6 working; M2 student; M4 pensioner; M3 without category).
    let c = national(&wh, C).await;
    for name in ["working_prev", "working_change", "category_missing_change"] {
        assert_eq!(int(&c, name, 0), None, "{C} {name}");
    }
    for name in ["working_change_pct", "working_coverage_pct", "primary_orgs_coverage_pct"] {
        assert_eq!(pct(&c, name, 0), None, "{C} {name}");
    }
    assert!(close(pct(&c, "working_share_pct", 0), 40.0));
    assert!(close(pct(&c, "category_missing_share_pct", 0), 20.0));
}

/// national_changes on `marts_snapshot()` (the same rows ingested at C and at
/// D). Worked out by hand:
/// - at D (see national_mart_by_hand): 4 members (2 working, 1 student, 1
///   pensioner, 0 without category), 4 active primary orgs, 1 territorial, 3
///   primary with auto reports, 1 territorial report, 1 joined online, 2 in
///   PROFCARDS (M1, M4), 1 with the app (M1), 1 card issued (M1), 1 refused (M4);
/// - at C (2022-11-21, P = 2022-10-01): on record M1, M2, M3, M4, M6: 5
///   members (2 working, 1 student, 1 pensioner, 1 without category); active
///   primary P1, P3 (excluded only on D), P5, P6: 4; T1: 1; no report is for
///   2022-10-01: 0 and 0; joined online M2: 1; PROFCARDS M1, M4, M6: 3; app
///   M1: 1; cards issued M1, M6: 2; refused M4: 1.
/// So members 5 → 4 (−1, −20 %), profcards 3 → 2 (−1, −33.3 %), cards
/// issued 2 → 1 (−50 %), and primary_auto_reports 0 → 3: +3 with no growth
/// (null over 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_changes_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    let indicators = [
        "members",
        "working",
        "students",
        "pensioners",
        "category_missing",
        "primary_orgs",
        "territorial_orgs",
        "primary_auto_reports",
        "territorial_reports",
        "joined_online",
        "profcards",
        "profcards_app",
        "cards_issued",
        "cards_refused",
    ];
    let at_d = [4, 2, 1, 1, 0, 4, 1, 3, 1, 1, 2, 1, 1, 1];
    let at_c = [5, 2, 1, 1, 1, 4, 1, 0, 0, 1, 3, 1, 2, 1];

    // D computed before C's marts exist (an older warehouse): C is known
    // (compared_to) but its national mart is not, so nothing to compare with.
    let early = compute_mart(&wh, D, "national_changes").await;
    assert_eq!(column_text(&early, "indicator"), indicators);
    for (row, name) in indicators.iter().enumerate() {
        assert_eq!(int(&early, "value", row), Some(at_d[row]), "{name}");
        assert_eq!(int(&early, "value_prev", row), None, "{name}");
        assert_eq!(int(&early, "change", row), None, "{name}");
        assert_eq!(pct(&early, "change_pct", row), None, "{name}");
    }

    // At C itself there is no C: values, and nulls beside them.
    let c = compute_mart(&wh, C, "national_changes").await;
    assert_eq!(column_text(&c, "as_of"), vec![C; indicators.len()]);
    for (row, name) in indicators.iter().enumerate() {
        assert_eq!(int(&c, "sort_order", row), Some(row as i64 + 1));
        assert_eq!(int(&c, "value", row), Some(at_c[row]), "{C} {name}");
        assert_eq!(int(&c, "value_prev", row), None, "{C} {name}");
        assert_eq!(int(&c, "change", row), None, "{C} {name}");
        assert_eq!(pct(&c, "change_pct", row), None, "{C} {name}");
    }

    // D again, now with C's national mart to compare with.
    let d = compute_mart(&wh, D, "national_changes").await;
    assert_eq!(column_text(&d, "as_of"), vec![D; indicators.len()]);
    assert_eq!(column_text(&d, "indicator"), indicators);
    for (row, name) in indicators.iter().enumerate() {
        assert_eq!(int(&d, "sort_order", row), Some(row as i64 + 1), "{name}");
        assert_eq!(int(&d, "value", row), Some(at_d[row]), "{name}");
        assert_eq!(int(&d, "value_prev", row), Some(at_c[row]), "{name}");
        assert_eq!(int(&d, "change", row), Some(at_d[row] - at_c[row]), "{name}");
    }
    let growth = |name: &str| pct(&d, "change_pct", indicators.iter().position(|i| *i == name).unwrap());
    for (name, expected) in [
        ("members", -20.0),           // 5 → 4
        ("working", 0.0),             // 2 → 2
        ("category_missing", -100.0), // 1 → 0
        ("profcards", -100.0 / 3.0),  // 3 → 2
        ("cards_issued", -50.0),      // 2 → 1
        ("cards_refused", 0.0),       // 1 → 1
    ] {
        assert!(close(growth(name), expected), "{name}: {:?} ≠ {expected}", growth(name));
    }
    // Growth over nothing is no number: 0 → 3 and 0 → 1.
    assert_eq!(growth("primary_auto_reports"), None);
    assert_eq!(growth("territorial_reports"), None);
    assert_eq!(int(&d, "change", 7), Some(3), "primary_auto_reports 0 → 3");
}
