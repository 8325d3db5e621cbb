//! The regions mart on the hand-made snapshot of `marts_snapshot()` (all its
//! organizations are in region 23); expected values worked out by hand.


use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_mart_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    let r = compute_mart(&wh, D, "regions").await;
    // Every regional organization of the reference list, in code order.
    assert_eq!(r.num_rows(), 85);
    let codes = column_text(&r, "region_code");
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    let at = |code: &str| codes.iter().position(|c| c == code).unwrap();

    let k = at("23");
    assert_eq!(column_text(&r, "region_name")[k], "Краснодарская краевая организация Профсоюза");
    assert_eq!(column_text(&r, "federal_district")[k], "SFD");
    assert_eq!(column_text(&r, "as_of")[k], D);
    for (name, expected) in [
        ("members", 4),
        ("members_official", 5),
        ("working", 2),
        ("students", 1),
        ("pensioners", 1),
        ("category_missing", 0),
        ("primary_orgs", 4),
        ("primary_auto_reports", 3),
        ("territorial_orgs", 1),
        ("territorial_reports", 1),
        ("joined_online", 1),
        ("profcards", 2),
        ("cards_issued", 1),
        ("members_prev", 5),
        ("members_change", -1),
    ] {
        assert_eq!(int(&r, name, k), Some(expected), "23 {name}");
    }
    for (name, expected) in [
        ("coverage_pct", 80.0),
        ("primary_auto_reports_pct", 75.0),
        ("territorial_reports_pct", 100.0),
        ("joined_online_pct", 25.0),
        ("profcards_pct", 50.0),
        ("cards_issued_pct", 25.0),
        ("members_change_pct", -20.0),
    ] {
        assert!(close(pct(&r, name, k), expected), "23 {name}: {:?}", pct(&r, name, k));
    }
    assert_eq!(column_text(&r, "coverage_band")[k], "70-90");
    // P1, P4, P5 auto and P6 manual (any mode counts here), T1 2-SP manual.
    assert_eq!(column_text(&r, "all_reported")[k], "true");

    // A region with nothing in the snapshot: zeros, null percentages, no band.
    let a = at("01");
    assert_eq!(column_text(&r, "region_name")[a], "Адыгейская республиканская организация Профсоюза");
    for name in ["members", "working", "primary_orgs", "primary_auto_reports", "territorial_orgs", "joined_online", "members_prev", "members_change"] {
        assert_eq!(int(&r, name, a), Some(0), "01 {name}");
    }
    assert_eq!(int(&r, "members_official", a), None);
    for name in ["coverage_pct", "primary_auto_reports_pct", "territorial_reports_pct", "joined_online_pct", "members_change_pct"] {
        assert_eq!(pct(&r, name, a), None, "01 {name}");
    }
    assert_eq!(column_text(&r, "coverage_band")[a], "∅");
    assert_eq!(column_text(&r, "all_reported")[a], "false");
}

/// all_reported needs every active primary and territorial organization: one
/// primary without a report for P turns it false.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_silent_primary_means_not_all_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let mut t = marts_snapshot();
    t.get_mut("stat_reports").unwrap().rows.retain(|r| r[0] != "P6" || r[2] != "2023-10-01");
    let snap = write_snapshot(tmp.path(), D, &t, PLAIN);
    run_ingest(&snap, &wh).await.unwrap();
    let r = compute_mart(&wh, D, "regions").await;
    let k = column_text(&r, "region_code").iter().position(|c| c == "23").unwrap();
    assert_eq!(column_text(&r, "all_reported")[k], "false");
    // No snapshot a year before: year-on-year columns are null.
    assert_eq!(int(&r, "members_prev", k), None);
    assert_eq!(int(&r, "members_change", k), None);
}

/// federal_districts: 8 rows in the official order; the Southern district
/// (SFD) holds region 23 and so every figure of the snapshot, the others zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federal_districts_sum_their_regions() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    let f = compute_mart(&wh, D, "federal_districts").await;
    assert_eq!(column_text(&f, "federal_district"), ["CFD", "NWFD", "SFD", "NCFD", "VFD", "UFD", "SIBFD", "FEFD"]);
    assert_eq!(column_text(&f, "district_short_name")[2], "ЮФО");
    let regions: Vec<Option<i64>> = (0..8).map(|i| int(&f, "regions", i)).collect();
    assert_eq!(regions, [18, 9, 10, 7, 14, 6, 10, 11].map(Some));
    let s = 2;
    for (name, expected) in [
        ("regions_all_reported", 1),
        ("members", 4),
        ("members_official", 5),
        ("working", 2),
        ("primary_orgs", 4),
        ("primary_auto_reports", 3),
        ("territorial_reports", 1),
        ("profcards", 2),
        ("members_prev", 5),
        ("members_change", -1),
    ] {
        assert_eq!(int(&f, name, s), Some(expected), "SFD {name}");
    }
    assert!(close(pct(&f, "coverage_pct", s), 80.0));
    assert!(close(pct(&f, "primary_auto_reports_pct", s), 75.0));
    assert!(close(pct(&f, "members_change_pct", s), -20.0));
    // A district with no data: zeros, and no baseline so no coverage.
    assert_eq!(int(&f, "members", 0), Some(0));
    assert_eq!(int(&f, "members_official", 0), None);
    assert_eq!(pct(&f, "coverage_pct", 0), None);
    assert_eq!(int(&f, "regions_all_reported", 0), Some(0));
}
