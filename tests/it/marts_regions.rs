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
    for name in [
        "members",
        "working",
        "primary_orgs",
        "primary_auto_reports",
        "territorial_orgs",
        "joined_online",
        "members_prev",
        "members_change",
    ] {
        assert_eq!(int(&r, name, a), Some(0), "01 {name}");
    }
    assert_eq!(int(&r, "members_official", a), None);
    for name in [
        "coverage_pct",
        "primary_auto_reports_pct",
        "territorial_reports_pct",
        "joined_online_pct",
        "members_change_pct",
    ] {
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

/// `marts_snapshot()` plus a second region, 77 (Moscow, CFD): a regional
/// organization R77 and one primary P77 without any report, two working
/// members of P77 on record since 2020 (N1 in PROFCARDS, neither joined
/// online nor holding a card), and an official count of 2.
fn two_regions() -> std::collections::BTreeMap<&'static str, Rows> {
    let mut t = marts_snapshot();
    let orgs = t.get_mut("organizations").unwrap();
    let mut regional = orgs.rows[0].clone();
    regional[0] = "R77".into();
    regional[3] = "77".into();
    let mut primary = orgs.rows[2].clone();
    primary[0] = "P77".into();
    primary[1] = "R77".into();
    primary[3] = "77".into();
    orgs.rows.push(regional);
    orgs.rows.push(primary);
    let members = t.get_mut("members").unwrap();
    members.push(&["N1", "P77", "working", "2020-01-01", "", "false", "none", "", "true", "false", "true", "false"]);
    members.push(&["N2", "P77", "working", "2020-01-01", "", "false", "none", "", "false", "false", "true", "false"]);
    let official = t.get_mut("official_stats").unwrap();
    official.push(&["77", "2023-01-01", "2", "2", "0", "0", "1", "0", "0", "0", "0", "0"]);
    t
}

/// Bands, ranks and flags of the regions mart with two regions with data.
/// By hand, region 23 (4 members of 5 official) against 77 (2 of 2):
///
/// | | 23 | 77 |
/// |---|---|---|
/// | coverage | 80 % → band 70-90, rank 2 | 100 % → band 100+, rank 1 |
/// | auto reports | 3 of 4 primary = 75 %, rank 1 | 0 of 1 = 0 %, rank 2 |
/// | joined online | 1 of 4 = 25 % > 3 %: listed, rank 1 | 0 %: not listed, rank 2 |
/// | PROFCARDS | 2 of 4 = 50 %, rank 1 | 1 of 2 = 50 %: a tie, rank 1 |
/// | cards issued | 1 of 4 = 25 %, rank 1 | 0 %, rank 2 |
///
/// Every other region: no percentage, so no band, no rank, not listed. The
/// snapshot of C has no official report on or before C: no coverage at C,
/// so none "unchanged".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bands_ranks_and_lists_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    for date in [C, D] {
        let snap = write_snapshot(tmp.path(), date, &two_regions(), PLAIN);
        run_ingest(&snap, &wh).await.unwrap();
    }
    let r = compute_mart(&wh, D, "regions").await;
    let codes = column_text(&r, "region_code");
    let at = |code: &str| codes.iter().position(|c| c == code).unwrap();
    let (k, m, a) = (at("23"), at("77"), at("01"));
    assert_eq!(column_text(&r, "coverage_band")[m], "100+");
    assert_eq!(column_text(&r, "coverage_band")[k], "70-90");
    for (name, krasnodar, moscow) in [
        ("coverage_rank", 2, 1),
        ("auto_reports_rank", 1, 2),
        ("joined_online_rank", 1, 2),
        ("profcards_rank", 1, 1),
        ("cards_issued_rank", 1, 2),
    ] {
        assert_eq!((int(&r, name, k), int(&r, name, m)), (Some(krasnodar), Some(moscow)), "{name}");
        assert_eq!(int(&r, name, a), None, "01 {name}");
    }
    assert_eq!(
        [k, m, a].map(|i| column_text(&r, "joined_online_above_threshold")[i].clone()),
        ["true", "false", "false"]
    );
    assert_eq!([k, m, a].map(|i| column_text(&r, "coverage_unchanged")[i].clone()), ["false", "false", "false"]);
    assert_eq!(pct(&r, "coverage_pct_prev", k), None);
    // Item 3's lists: above 95 % only 77 (100 %; 23 has 80 %, 01 none); more
    // than 1 000 joined online nobody.
    assert_eq!([k, m, a].map(|i| column_text(&r, "coverage_above_threshold")[i].clone()), ["false", "true", "false"]);
    assert!(column_text(&r, "joined_online_active").iter().all(|v| v == "false"));

    // Districts are banded by the same limits: SFD holds 23 (80 %), CFD 77
    // (100 %); NWFD has no official figure.
    let f = read_mart(&wh, "federal_districts", D);
    assert_eq!(column_text(&f, "federal_district")[..3], ["CFD", "NWFD", "SFD"]);
    assert_eq!(column_text(&f, "coverage_band")[..3], ["100+", "∅", "70-90"]);

    // coverage_bands: 2 regions have a band, one in 100+ and one in 70-90.
    let b = read_mart(&wh, "coverage_bands", D);
    assert_eq!(column_text(&b, "band"), ["100+", "90-100", "70-90", "50-70", "<50"]);
    let limits = |name: &str| (0..5).map(|i| pct(&b, name, i)).collect::<Vec<_>>();
    assert_eq!(limits("lower_pct"), [Some(100.0), Some(90.0), Some(70.0), Some(50.0), None]);
    assert_eq!(limits("upper_pct"), [None, Some(100.0), Some(90.0), Some(70.0), Some(50.0)]);
    assert_eq!((0..5).map(|i| int(&b, "regions", i)).collect::<Vec<_>>(), [1, 0, 1, 0, 0].map(Some));
    for (i, share) in [50.0, 0.0, 50.0, 0.0, 0.0].into_iter().enumerate() {
        assert!(close(pct(&b, "regions_pct", i), share), "band {i}: {:?}", pct(&b, "regions_pct", i));
    }
    // The two bands below 70 % need attention.
    assert_eq!(column_text(&b, "needs_attention"), ["false", "false", "false", "true", "true"]);

    // regions_summary: 85 regions, 2 with a baseline (83 without), 1 where
    // all reported (23: P77 has no report), 0 unchanged (with C), 1 above the
    // online threshold, none above 1 000 joined, 1 above 95 % (77), 83 with an empty worklist (23's lists six organizations, see
    // worklist_regions_by_hand; 77's lists P77, with fewer than 3 members).
    let s = read_mart(&wh, "regions_summary", D);
    assert_eq!(s.num_rows(), 1);
    for (name, expected) in [
        ("regions", 85),
        ("regions_with_baseline", 2),
        ("regions_without_baseline", 83),
        ("regions_all_reported", 1),
        ("regions_coverage_unchanged", 0),
        ("regions_joined_online_above_threshold", 1),
        ("regions_joined_online_active", 0),
        ("regions_coverage_above_threshold", 1),
        ("regions_without_worklist", 83),
    ] {
        assert_eq!(int(&s, name, 0), Some(expected), "{name}");
    }
}

/// "Did not change" is to the tenth of a percent, against coverage at C as
/// C's own mart has it. Both snapshots carry official reports of 2022-01-01
/// (51 members in 23) and 2023-01-01 (41): at D, 4 / 41 = 9.756… % (B =
/// 2023-01-01); at C, 5 / 51 = 9.803… % (C's own baseline, 2022-01-01). Both
/// round to 9.8: unchanged, though not equal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_unchanged_to_the_tenth() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let mut t = marts_snapshot();
    let official = t.get_mut("official_stats").unwrap();
    official.set(0, "members", "41");
    official.push(&["23", "2022-01-01", "51", "3", "1", "1", "2", "1", "0", "0", "1", "1"]);
    for date in [C, D] {
        let snap = write_snapshot(tmp.path(), date, &t, PLAIN);
        run_ingest(&snap, &wh).await.unwrap();
    }
    let r = compute_mart(&wh, D, "regions").await;
    let k = column_text(&r, "region_code").iter().position(|c| c == "23").unwrap();
    assert!(close(pct(&r, "coverage_pct", k), 400.0 / 41.0));
    assert!(close(pct(&r, "coverage_pct_prev", k), 500.0 / 51.0));
    assert_eq!(column_text(&r, "coverage_unchanged")[k], "true");
    assert_eq!(column_text(&r, "coverage_band")[k], "<50");
    // The C's own regions mart says the same coverage.
    let c = compute_mart(&wh, C, "regions").await;
    assert!(close(pct(&c, "coverage_pct", k), 500.0 / 51.0));
    let s = read_mart(&wh, "regions_summary", D);
    assert_eq!(int(&s, "regions_coverage_unchanged", 0), Some(1));
}

/// worklist_regions on `marts_snapshot()` at D. Region 23's worklist lists P2
/// (members in an inactive organization), P1 and P4 (fewer than 3 members),
/// P5 and P6 (no members) and T1 (no chair term): 6 organizations, against 5
/// active primary and territorial ones (P1, P4, P5, P6, T1) — 120 %, since
/// the inactive P2 is listed too. Region 01 has no organization: 0, no share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worklist_regions_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    let w = compute_mart(&wh, D, "worklist_regions").await;
    assert_eq!(w.num_rows(), 85);
    let codes = column_text(&w, "region_code");
    let (k, a) = (codes.iter().position(|c| c == "23").unwrap(), codes.iter().position(|c| c == "01").unwrap());
    assert_eq!((int(&w, "orgs", k), int(&w, "orgs_to_fix", k)), (Some(5), Some(6)));
    assert!(close(pct(&w, "orgs_to_fix_pct", k), 120.0));
    assert_eq!(
        (int(&w, "orgs", a), int(&w, "orgs_to_fix", a), pct(&w, "orgs_to_fix_pct", a)),
        (Some(0), Some(0), None)
    );
}
