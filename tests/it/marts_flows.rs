//! member_flows: the net change of members on record between C (and the
//! quarter before D's) and D explained member by member, with its category
//! matrix, its groups of regions and the export's checks, on hand-made
//! snapshots whose every flow is worked out by hand, and the identity on
//! the full-scale demo.

use arrow::array::RecordBatch;

use crate::common::*;

/// The flows' columns, in the identity's order.
const FLOWS: [&str; 11] = [
    "members_prev",
    "joined",
    "registered_late",
    "left_record",
    "gone_from_export",
    "moved_in",
    "moved_out",
    "moved_within",
    "category_changed",
    "members",
    "scope",
];

fn flows(b: &RecordBatch, i: usize) -> Vec<i64> {
    FLOWS[..10].iter().map(|c| int(b, c, i).unwrap_or_else(|| panic!("{c} is null"))).collect()
}

/// members_prev + joined + registered_late − left − gone + moved_in − moved_out = members.
fn identity_holds(f: &[i64]) -> bool {
    f[0] + f[1] + f[2] - f[3] - f[4] + f[5] - f[6] == f[9]
}

/// Every flow of `flow_snapshots()` (whose members are described there),
/// worked out by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_is_the_one_worked_out_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    for (date, tables) in flow_snapshots() {
        let snap = write_snapshot(tmp.path(), date, &tables, PLAIN);
        run_ingest(&snap, &wh).await.unwrap();
        compute_mart(&wh, date, "national").await;
    }
    let b = read_mart(&wh, "member_flows", D);
    assert_eq!(b.num_rows(), 2 * (1 + 8 + 85), "two comparisons: the union, 8 districts, 85 regions");
    let compared_to = column_text(&b, "compared_to");
    assert_eq!(compared_to[flow_row(&b, "year", "national", None)], C);
    assert_eq!(compared_to[flow_row(&b, "quarter", "national", None)], Q);
    //                                  prev joined late left gone in out within cat members
    let year_23 = vec![6, 1, 1, 2, 1, 0, 1, 1, 1, 4];
    let year_sfd = vec![6, 1, 1, 2, 1, 0, 0, 2, 1, 5];
    let quarter_23 = vec![5, 1, 1, 1, 1, 0, 1, 0, 1, 4];
    let quarter_sfd = vec![5, 1, 1, 1, 1, 0, 0, 1, 1, 5];
    let rostov = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    let untouched = vec![0; 10];
    for (period, scope, code, expected) in [
        ("year", "region", Some("23"), year_23),
        ("year", "region", Some("61"), rostov.clone()),
        ("year", "district", Some("SFD"), year_sfd.clone()),
        ("year", "national", None, year_sfd),
        ("year", "region", Some("77"), untouched.clone()),
        ("year", "district", Some("CFD"), untouched.clone()),
        ("quarter", "region", Some("23"), quarter_23),
        ("quarter", "region", Some("61"), rostov),
        ("quarter", "district", Some("SFD"), quarter_sfd.clone()),
        ("quarter", "national", None, quarter_sfd),
        ("quarter", "region", Some("77"), untouched),
    ] {
        let i = flow_row(&b, period, scope, code);
        assert_eq!(flows(&b, i), expected, "{period} {scope} {code:?}");
    }
    for i in 0..b.num_rows() {
        let f = flows(&b, i);
        assert!(identity_holds(&f), "row {i}: {f:?}");
        assert_eq!(int(&b, "net_change", i), Some(f[9] - f[0]), "row {i}: net change");
    }
    // The regions mart counts the same members on record at C and D.
    let regions = read_mart(&wh, "regions", D);
    let codes = column_text(&regions, "region_code");
    let krasnodar = codes.iter().position(|c| c == "23").unwrap();
    assert_eq!(int(&regions, "members", krasnodar), Some(4));
    assert_eq!(int(&regions, "members_prev", krasnodar), Some(6));

    // The category matrix: M1 working → student; M9 and M4 pensioners
    // throughout (M4 counted in Rostov, its region at D).
    let m = read_mart(&wh, "member_category_flows", D);
    let cells: Vec<String> = (0..m.num_rows())
        .map(|i| {
            let t = |c: &str| column_text(&m, c)[i].clone();
            format!(
                "{} {} {} {}→{} {} {}",
                t("compared_period"),
                t("scope"),
                if t("scope") == "region" { t("region_code") } else { t("federal_district") },
                t("category_prev"),
                t("category"),
                t("members"),
                t("changed")
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            "year national ∅ pensioner→pensioner 2 false",
            "year national ∅ working→student 1 true",
            "year district SFD pensioner→pensioner 2 false",
            "year district SFD working→student 1 true",
            "year region 23 pensioner→pensioner 1 false",
            "year region 23 working→student 1 true",
            "year region 61 pensioner→pensioner 1 false",
            "quarter national ∅ pensioner→pensioner 2 false",
            "quarter national ∅ working→student 1 true",
            "quarter district SFD pensioner→pensioner 2 false",
            "quarter district SFD working→student 1 true",
            "quarter region 23 pensioner→pensioner 1 false",
            "quarter region 23 working→student 1 true",
            "quarter region 61 pensioner→pensioner 1 false",
        ]
    );

    // Groups by the sign of the net change: Krasnodar fell (6 → 4), Rostov
    // grew (0 → 1), the other 83 regions (8 of SFD's 10) unchanged at 0.
    let g = read_mart(&wh, "member_flow_groups", D);
    let groups: Vec<String> = (0..g.num_rows())
        .filter(|&i| column_text(&g, "compared_period")[i] == "year")
        .filter(|&i| {
            ["national", "SFD"].contains(&column_text(&g, "federal_district")[i].replace('∅', "national").as_str())
        })
        .map(|i| {
            let t = |c: &str| column_text(&g, c)[i].clone();
            [
                "scope",
                "change_group",
                "regions",
                "members_prev",
                "members",
                "net_change",
                "joined",
                "registered_late",
                "left_record",
                "gone_from_export",
                "moved_in",
                "moved_out",
            ]
            .map(t)
            .join(" ")
        })
        .collect();
    assert_eq!(
        groups,
        [
            "national grew 1 0 1 1 0 0 0 0 1 0",
            "national fell 1 6 4 -2 1 1 2 1 0 1",
            "national unchanged 83 0 0 0 0 0 0 0 0 0",
            "district grew 1 0 1 1 0 0 0 0 1 0",
            "district fell 1 6 4 -2 1 1 2 1 0 1",
            "district unchanged 8 0 0 0 0 0 0 0 0 0",
        ]
    );
    assert_eq!(g.num_rows(), 2 * 3 * (1 + 8), "two comparisons × three groups × the union and 8 districts");

    // The export's checks: M2 gone from the export (of 6 on record at C in
    // region 23, in one organization); M9's id recycled (of 4 at D, in P6).
    let dq = read_mart(&wh, "data_quality", D);
    for (check, expected) in [("members_gone_from_export", [1, 6, 1]), ("member_ids_recycled", [1, 4, 1])] {
        let i = (0..dq.num_rows())
            .find(|&i| column_text(&dq, "check")[i] == check && column_text(&dq, "region_code")[i] == "23")
            .unwrap_or_else(|| panic!("no {check} row of region 23"));
        let got = ["affected", "population", "orgs_affected"].map(|c| int(&dq, c, i).unwrap());
        assert_eq!(got, expected, "{check}: affected, population, organizations");
        let national = (0..dq.num_rows())
            .find(|&i| column_text(&dq, "check")[i] == check && column_text(&dq, "scope")[i] == "national")
            .unwrap();
        assert_eq!(int(&dq, "affected", national), Some(1), "{check}: the union");
    }

    // The worklist names the organizations to fix: P7, whose M2 is missing
    // from D's export (P7 itself too: named as C's export had it), and P6,
    // holding M9's recycled id.
    let w = read_mart(&wh, "worklist", D);
    let listed: Vec<String> = (0..w.num_rows())
        .filter(|&i| column_text(&w, "check")[i].starts_with("member"))
        .map(|i| ["check", "org_id", "name", "region_code", "members"].map(|c| column_text(&w, c)[i].clone()).join(" "))
        .collect();
    let p6 =
        column_text(&w, "name")[(0..w.num_rows()).find(|&i| column_text(&w, "org_id")[i] == "P6").unwrap()].clone();
    assert_eq!(
        listed,
        [format!("member_ids_recycled P6 {p6} 23 1"), "members_gone_from_export P7 ППО школы № 7 23 1".to_string()]
    );

    // Without a comparison snapshot every flow is null, members still counted.
    let first = read_mart(&wh, "member_flows", C);
    for period in ["year", "quarter"] {
        let i = flow_row(&first, period, "region", Some("23"));
        assert_eq!(int(&first, "members", i), Some(6));
        for column in FLOWS[..9].iter().chain(&["net_change"]) {
            assert_eq!(int(&first, column, i), None, "{column} without an earlier snapshot");
        }
    }
    assert_eq!(read_mart(&wh, "member_category_flows", C).num_rows(), 0);
    assert_eq!(read_mart(&wh, "member_flow_groups", C).num_rows(), 0);
}

/// On the full-scale demo (3.1 million members at D, 2.7 million at C): the
/// identity holds on every row, members and members_prev are the regions
/// mart's, and the union's change is mostly people joining and leaving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_holds_on_the_full_demo() {
    let wh = full_demo().await;
    let _reading = FULL_DEMO_MARTS.read().await;
    let b = read_mart(wh, "member_flows", D);
    let regions = read_mart(wh, "regions", D);
    let codes = column_text(&regions, "region_code");
    // The quarter's earlier members are the regions mart of its snapshot.
    let quarter = read_mart(wh, "regions", "2023-09-30");
    let quarter_codes = column_text(&quarter, "region_code");
    assert_eq!(column_text(&b, "compared_to")[flow_row(&b, "quarter", "national", None)], "2023-09-30");
    for (i, period) in column_text(&b, "compared_period").iter().enumerate() {
        let f = flows(&b, i);
        assert!(identity_holds(&f), "row {i}: {f:?}");
        if column_text(&b, "scope")[i] == "region" {
            let code = &column_text(&b, "region_code")[i];
            let r = codes.iter().position(|c| c == code).unwrap();
            assert_eq!(Some(f[9]), int(&regions, "members", r), "{code}: members");
            if period == "year" {
                assert_eq!(Some(f[0]), int(&regions, "members_prev", r), "{code}: members at C");
            } else {
                let r = quarter_codes.iter().position(|c| c == code).unwrap();
                assert_eq!(Some(f[0]), int(&quarter, "members", r), "{code}: members at the quarter's snapshot");
            }
        }
    }
    let n = flows(&b, flow_row(&b, "year", "national", None));
    assert!(n[1] > 100_000 && n[3] > 10_000, "joined {} and left {}", n[1], n[3]);
    assert_eq!((n[5], n[6]), (0, 0), "nobody moves into or out of the union");
    // The demo's world also has members entered late and members missing
    // from D's export; the latter are data_quality's check too.
    assert!(n[2] > 1_000 && n[4] > 1_000, "registered late {} and gone {}", n[2], n[4]);
    let dq = read_mart(wh, "data_quality", D);
    let gone = (0..dq.num_rows())
        .find(|&i| {
            column_text(&dq, "check")[i] == "members_gone_from_export" && column_text(&dq, "scope")[i] == "national"
        })
        .unwrap();
    assert_eq!(int(&dq, "affected", gone), Some(n[4]));

    // The decree's three regions whose figures "did not change" (Kabardino-
    // Balkaria, Kamchatka, Magadan): the same count at C and D, with members
    // joining and leaving all the same.
    for code in ["07", "41", "49"] {
        let f = flows(&b, flow_row(&b, "year", "region", Some(code)));
        assert_eq!(f[0], f[9], "{code}: unchanged");
        assert!(f[1] > 0 && f[3] > 0, "{code}: joined {} and left {}", f[1], f[3]);
    }
    let groups = read_mart(wh, "member_flow_groups", D);
    let unchanged = (0..groups.num_rows())
        .find(|&i| {
            column_text(&groups, "compared_period")[i] == "year"
                && column_text(&groups, "scope")[i] == "national"
                && column_text(&groups, "change_group")[i] == "unchanged"
        })
        .unwrap();
    assert_eq!(int(&groups, "regions", unchanged), Some(3));
}
