//! data_quality and the worklist on a hand-made snapshot built for them
//! (`quality_snapshot()`, region 23 only); every expected value was worked
//! out by hand from the rows below.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;

use crate::common::*;

/// At D = 2023-11-21, region 23:
///
/// | org | level | active | members on record | fails |
/// |---|---|---|---|---|
/// | T1 | territorial | yes | – | no_chair_term |
/// | T2 | territorial | yes | – | no_chair, chair_expired (2020), no_access |
/// | P1 | primary | yes | 3: M1, M2 + M8 of S1 | – (exactly 3 members) |
/// | P4 | primary | yes | 1: M5 | under_3, chair_expired (term ends the day before D), INN of 9 digits |
/// | P5 | primary | yes | 0 (M10 is in S7, excluded) | without_members, INN of 12 digits (term ends on D: not expired) |
/// | P6 | primary | yes (registered on B) | 1: M9 of S6 | under_3, no_chair, no_access, INN with letters |
/// | P7 | primary | yes (registered on B − 1 year) | 2: M11, M12 | under_3, no_chair_term, no INN |
/// | P2 | primary | excluded 2020 | M4 | members_in_inactive_org |
/// | P3 | primary | excluded on D | M13 left on D: none | – |
/// | P8 | primary | created 2022-06-01, excluded 2022-09-01 | – | – |
/// | S7 | subdivision | excluded 2022 | M10 | members_in_inactive_org |
///
/// Members on record: M1, M2, M4, M5, M8, M9, M10, M11, M12 (9); M3 left
/// before D, M13 left on D, M14 registered after D. Category missing: M2 of
/// P1 and M8 of its subdivision S1 (two members, one organization: P1); no
/// consent: M9 (of S6, so P6); card refused: M4 (P2), M11 (P7).
/// Registry vs the official report at B = 2023-01-01: legal entities 3 (T1,
/// T2, P5) vs 1 + 4; territorial rights 1 (P6) vs 3; primary orgs 5 vs 6;
/// territorial 2 vs 1; created in [2022-01-01, 2023-01-01) 2 (P7, P8) vs 5.
fn quality_snapshot() -> BTreeMap<&'static str, Rows> {
    let mut t = valid_snapshot();
    #[rustfmt::skip]
    let orgs = Rows::new(ORG_HEADER, &[
        // id, parent, level, region, name, registered, excluded, legal, rights, inn, filled, term, access, email
        &["R23", "", "regional", "23", "Краснодарская краевая организация", "2010-01-01", "", "true", "false", "2310000000", "true", "2026-01-01", "true", "true"],
        &["T1", "R23", "territorial", "23", "ТПО г. Сочи", "2011-02-01", "", "true", "false", "2310000001", "true", "", "true", "true"],
        &["T2", "R23", "territorial", "23", "ТПО г. Анапа", "2011-02-01", "", "true", "false", "2310000011", "false", "2020-01-01", "false", "false"],
        &["P1", "T1", "primary", "23", "ППО школы № 1", "2012-03-01", "", "false", "false", "2310000002", "true", "2025-05-01", "true", "true"],
        &["P2", "T1", "primary", "23", "ППО гимназии № 2", "2012-03-02", "2020-01-01", "false", "true", "", "false", "", "false", "false"],
        &["P3", "T1", "primary", "23", "ППО школы № 3", "2012-03-02", "2023-11-21", "true", "true", "", "false", "", "false", "false"],
        &["P4", "T1", "primary", "23", "ППО школы № 4", "2015-01-01", "", "false", "false", "231000000", "true", "2023-11-20", "true", "true"],
        &["P5", "T1", "primary", "23", "ППО школы № 5", "2015-01-01", "", "true", "false", "231000000000", "true", "2023-11-21", "true", "true"],
        &["P6", "T2", "primary", "23", "=ППО школы № 6", "2023-01-01", "", "false", "true", "23100000AB", "false", "", "false", "false"],
        &["P7", "T2", "primary", "23", "ППО колледжа № 7", "2022-01-01", "", "false", "false", "", "true", "", "true", "true"],
        &["P8", "T2", "primary", "23", "ППО школы № 8", "2022-06-01", "2022-09-01", "false", "false", "2310000008", "true", "", "true", "true"],
        &["S1", "P1", "subdivision", "23", "Профгруппа начальных классов", "2013-01-01", "", "false", "false", "", "false", "", "false", "false"],
        &["S6", "P6", "subdivision", "23", "Профгруппа школы № 6", "2023-02-01", "", "false", "false", "", "false", "", "false", "false"],
        &["S7", "P5", "subdivision", "23", "Профгруппа школы № 5", "2015-01-01", "2022-01-01", "false", "false", "", "false", "", "false", "false"],
    ]);
    #[rustfmt::skip]
    let members = Rows::new(MEMBER_HEADER, &[
        &["M1", "P1", "working", "2019-01-10", "", "false", "issued", "", "true", "true", "true", "true"],
        &["M2", "P1", "", "2020-09-01", "", "true", "ordered", "", "false", "false", "true", "false"],
        &["M3", "S1", "", "2021-05-05", "2023-01-01", "false", "none", "", "false", "false", "false", "false"],
        &["M4", "P2", "pensioner", "2018-01-01", "", "false", "refused", "", "true", "false", "true", "true"],
        &["M5", "P4", "working", "2023-11-21", "", "false", "none", "", "false", "false", "true", "false"],
        &["M8", "S1", "", "2020-01-01", "", "false", "none", "", "false", "false", "true", "false"],
        &["M9", "S6", "working", "2023-02-01", "", "false", "none", "", "false", "false", "false", "false"],
        &["M10", "S7", "working", "2016-01-01", "", "false", "none", "", "false", "false", "true", "false"],
        &["M11", "P7", "working", "2022-02-01", "", "false", "refused", "", "false", "false", "true", "false"],
        &["M12", "P7", "pensioner", "2022-02-01", "", "false", "issued", "", "false", "false", "true", "false"],
        &["M13", "P3", "working", "2015-01-01", "2023-11-21", "false", "issued", "", "false", "false", "true", "false"],
        &["M14", "P1", "working", "2023-11-22", "", "false", "issued", "", "false", "false", "true", "false"],
    ]);
    t.insert("organizations", orgs);
    t.insert("members", members);
    let stats = t.get_mut("official_stats").unwrap();
    // members 5, working 3, students 1, pensioners 1, primary 6, territorial 1,
    // created 5, legal entities 1 + 4, territorial rights 3.
    stats.rows =
        vec![["23", "2023-01-01", "5", "3", "1", "1", "6", "1", "5", "1", "4", "3"].map(String::from).to_vec()];
    t.insert("stat_reports", Rows::new(&["org_id", "form", "period", "mode", "submitted_on"], &[]));
    t.insert(
        "profcards_purchases",
        Rows::new(&["purchase_id", "member_id", "purchased_on", "amount", "cashback"], &[]),
    );
    t
}

async fn quality_warehouse(dir: &std::path::Path) -> std::path::PathBuf {
    let wh = dir.join("wh");
    let snap = write_snapshot(dir, D, &quality_snapshot(), PLAIN);
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    for (table, counts) in &manifest.tables {
        assert_eq!(counts.rows_rejected, 0, "{table}: the fixture breaks the contract");
    }
    wh
}

/// Row index of (scope, region, check).
fn row(b: &RecordBatch, region: Option<&str>, check: &str) -> usize {
    let regions = column_text(b, "region_code");
    let checks = column_text(b, "check");
    let scopes = column_text(b, "scope");
    let scope = if region.is_some() { "region" } else { "national" };
    let region = region.unwrap_or("∅");
    let found: Vec<usize> =
        (0..b.num_rows()).filter(|&i| regions[i] == region && checks[i] == check && scopes[i] == scope).collect();
    assert_eq!(found.len(), 1, "one row for {region} {check}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_quality_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = quality_warehouse(tmp.path()).await;
    let q = compute_mart(&wh, D, "data_quality").await;

    // 22 checks, for the union, each federal district and each of the 85 regional organizations.
    assert_eq!(q.num_rows(), 22 * (1 + 8 + 85));
    let scopes = column_text(&q, "scope");
    assert!(scopes[..22].iter().all(|s| s == "national"));
    assert!(scopes[22..198].iter().all(|s| s == "district"));
    assert!(scopes[198..].iter().all(|s| s == "region"));
    assert!(column_text(&q, "as_of").iter().all(|d| d == D));

    // (check, unit, affected, population, affected_pct, orgs_affected): an
    // organization check touches the organizations it counts; a member check
    // the organizations of its members (M2 and M8 are both P1's; M4's closed
    // P2 and M11's P7; the closed P2 and S7 hold M4 and M10).
    let counted = [
        ("primary_without_members", "organizations", 1, 5, 20.0, 1),
        ("primary_under_3_members", "organizations", 3, 5, 60.0, 3),
        ("primary_no_chair", "organizations", 1, 5, 20.0, 1),
        ("territorial_no_chair", "organizations", 1, 2, 50.0, 1),
        ("primary_no_chair_term", "organizations", 1, 5, 20.0, 1),
        ("territorial_no_chair_term", "organizations", 1, 2, 50.0, 1),
        ("primary_chair_expired", "organizations", 1, 5, 20.0, 1),
        ("territorial_chair_expired", "organizations", 1, 2, 50.0, 1),
        ("primary_no_access", "organizations", 1, 5, 20.0, 1),
        ("territorial_no_access", "organizations", 1, 2, 50.0, 1),
        ("primary_no_inn", "organizations", 4, 5, 80.0, 4),
        ("members_no_category", "members", 2, 9, 200.0 / 9.0, 1),
        ("members_no_consent", "members", 1, 9, 100.0 / 9.0, 1),
        ("members_card_refused", "members", 2, 9, 200.0 / 9.0, 2),
        ("members_in_inactive_org", "members", 2, 9, 200.0 / 9.0, 2),
    ];
    for scope in [None, Some("23")] {
        for (check, unit, affected, population, share, orgs) in counted {
            let i = row(&q, scope, check);
            assert_eq!(column_text(&q, "unit")[i], unit, "{check}");
            assert_eq!(int(&q, "orgs_affected", i), Some(orgs), "{scope:?} {check} orgs_affected");
            assert_eq!(int(&q, "affected", i), Some(affected), "{scope:?} {check} affected");
            assert_eq!(int(&q, "population", i), Some(population), "{scope:?} {check} population");
            assert!(close(pct(&q, "affected_pct", i), share), "{scope:?} {check}: {:?}", pct(&q, "affected_pct", i));
            assert_eq!(int(&q, "registry_value", i), None, "{check}");
        }
    }

    // (check, affected, population = official, pct, registry, official)
    let gaps = [
        ("legal_entity_gap", 2, 5, 40.0, 3, 5),
        ("territorial_rights_gap", -2, 3, -200.0 / 3.0, 1, 3),
        ("primary_count_gap", 1, 6, 100.0 / 6.0, 5, 6),
        ("territorial_count_gap", -1, 1, -100.0, 2, 1),
        ("primary_created_gap", 3, 5, 60.0, 2, 5),
    ];
    // A federal district sums its regions: SFD holds region 23, the only one with data.
    let (districts, checks) = (column_text(&q, "federal_district"), column_text(&q, "check"));
    for (check, _, affected, population, _, orgs) in counted {
        let i = (0..q.num_rows())
            .find(|&i| scopes[i] == "district" && districts[i] == "SFD" && checks[i] == check)
            .unwrap_or_else(|| panic!("no SFD row for {check}"));
        assert_eq!(
            (int(&q, "affected", i), int(&q, "population", i), int(&q, "orgs_affected", i)),
            (Some(affected), Some(population), Some(orgs)),
            "SFD {check}"
        );
    }
    for scope in [None, Some("23")] {
        for (check, affected, population, share, registry, official) in gaps {
            let i = row(&q, scope, check);
            assert_eq!(column_text(&q, "unit")[i], "gap");
            assert_eq!(int(&q, "affected", i), Some(affected), "{scope:?} {check} affected");
            assert_eq!(int(&q, "population", i), Some(population), "{scope:?} {check} population");
            assert!(close(pct(&q, "affected_pct", i), share), "{scope:?} {check}: {:?}", pct(&q, "affected_pct", i));
            assert_eq!(int(&q, "registry_value", i), Some(registry), "{scope:?} {check} registry");
            assert_eq!(int(&q, "official_value", i), Some(official), "{scope:?} {check} official");
            assert_eq!(int(&q, "orgs_affected", i), None, "{scope:?} {check}: a gap touches no organization");
        }
    }

    // A region with nothing: zero affected of zero, no percentage; its gaps
    // have no official figure, so no gap either.
    let i = row(&q, Some("01"), "primary_no_inn");
    assert_eq!(
        (int(&q, "affected", i), int(&q, "population", i), pct(&q, "affected_pct", i), int(&q, "orgs_affected", i)),
        (Some(0), Some(0), None, Some(0))
    );
    assert_eq!(int(&q, "orgs_affected", row(&q, Some("01"), "members_no_category")), Some(0));
    let i = row(&q, Some("01"), "legal_entity_gap");
    assert_eq!((int(&q, "affected", i), int(&q, "population", i)), (None, None));
    assert_eq!((int(&q, "registry_value", i), int(&q, "official_value", i)), (Some(0), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worklist_lists_each_failing_organization_never_a_member() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = quality_warehouse(tmp.path()).await;
    let w = compute_mart(&wh, D, "worklist").await;

    let columns: Vec<String> = w.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(
        columns,
        ["as_of", "region_code", "check", "org_id", "name", "level", "parent_id", "parent_name", "members"]
    );
    let checks = column_text(&w, "check");
    let orgs = column_text(&w, "org_id");
    let mut listed: Vec<(String, String)> = checks.iter().cloned().zip(orgs.iter().cloned()).collect();
    listed.sort();
    let mut expected: Vec<(String, String)> = [
        ("primary_without_members", "P5"),
        ("primary_under_3_members", "P4"),
        ("primary_under_3_members", "P6"),
        ("primary_under_3_members", "P7"),
        ("primary_no_chair", "P6"),
        ("territorial_no_chair", "T2"),
        ("primary_no_chair_term", "P7"),
        ("territorial_no_chair_term", "T1"),
        ("primary_chair_expired", "P4"),
        ("territorial_chair_expired", "T2"),
        ("primary_no_access", "P6"),
        ("territorial_no_access", "T2"),
        ("primary_no_inn", "P4"),
        ("primary_no_inn", "P5"),
        ("primary_no_inn", "P6"),
        ("primary_no_inn", "P7"),
        ("members_in_inactive_org", "P2"),
        ("members_in_inactive_org", "S7"),
    ]
    .iter()
    .map(|(c, o)| (c.to_string(), o.to_string()))
    .collect();
    expected.sort();
    assert_eq!(listed, expected);

    // Grouped by check within the region, and the organization's own fields.
    let mut grouped = checks.clone();
    grouped.sort();
    assert_eq!(checks, grouped);
    let at = |check: &str, org: &str| (0..w.num_rows()).find(|&i| checks[i] == check && orgs[i] == org).unwrap();
    let i = at("primary_under_3_members", "P6");
    assert_eq!(column_text(&w, "name")[i], "=ППО школы № 6", "the mart keeps names as they are");
    assert_eq!(column_text(&w, "level")[i], "primary");
    assert_eq!(column_text(&w, "parent_id")[i], "T2");
    assert_eq!(column_text(&w, "parent_name")[i], "ТПО г. Анапа");
    assert_eq!(column_text(&w, "region_code")[i], "23");
    assert_eq!(int(&w, "members", i), Some(1), "M9 of its subdivision S6");
    assert_eq!(int(&w, "members", at("primary_under_3_members", "P7")), Some(2));
    assert_eq!(int(&w, "members", at("primary_without_members", "P5")), Some(0));
    assert_eq!(int(&w, "members", at("members_in_inactive_org", "S7")), Some(1));
    assert_eq!(column_text(&w, "level")[at("members_in_inactive_org", "S7")], "subdivision");

    // No member id anywhere in the file.
    let csv = std::fs::read_to_string(wh.join(format!("marts/worklist/as_of={D}/worklist.csv"))).unwrap();
    for id in ["M1", "M2", "M4", "M5", "M8", "M9", "M10", "M11", "M12"] {
        assert!(!csv.split([',', '\n']).any(|field| field == id), "member {id} in the worklist");
    }
}
