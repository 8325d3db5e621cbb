//! member_flows: the net change of members on record between C and D
//! explained member by member, on a hand-made pair of snapshots whose every
//! flow is worked out by hand, and the identity on the full-scale demo.

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

/// The row of a scope: `("national", None)`, `("district", Some("SFD"))`,
/// `("region", Some("23"))`.
fn row(b: &RecordBatch, scope: &str, code: Option<&str>) -> usize {
    let scopes = column_text(b, "scope");
    let districts = column_text(b, "federal_district");
    let regions = column_text(b, "region_code");
    (0..b.num_rows())
        .find(|&i| {
            scopes[i] == scope
                && match scope {
                    "national" => true,
                    "district" => Some(districts[i].as_str()) == code,
                    _ => Some(regions[i].as_str()) == code,
                }
        })
        .unwrap_or_else(|| panic!("no row {scope} {code:?}"))
}

fn flows(b: &RecordBatch, i: usize) -> Vec<i64> {
    FLOWS[..10].iter().map(|c| int(b, c, i).unwrap_or_else(|| panic!("{c} is null"))).collect()
}

/// members_prev + joined + registered_late − left − gone + moved_in − moved_out = members.
fn identity_holds(f: &[i64]) -> bool {
    f[0] + f[1] + f[2] - f[3] - f[4] + f[5] - f[6] == f[9]
}

/// C is the marts' snapshot; D differs from it by one member of each flow.
/// On record at C (2022-11-21), region 23: M1, M2, M3, M4, M6 (M5 registers
/// on D, M7 after it). At D:
/// - M5 registered on D: joined;
/// - M8 added at D, registered 2022-06-01 (before C), absent at C: registered late;
/// - M3 (left 2023-01-01) and M6 (left on D): left the record;
/// - M2 missing from D's export: gone from the export;
/// - M4 moves from P2 (region 23) to P61 (region 61, the same district SFD);
/// - M1 moves from P1 to P5 (both region 23) and from working to student.
///
/// Region 23: 5 + 1 + 1 − 2 − 1 + 0 − 1 = 3 (M1, M5, M8); region 61:
/// 0 + 1 (M4 moved in) = 1; SFD and the union: 5 + 1 + 1 − 2 − 1 = 4, the
/// move to Rostov being inside them (moved within: M1 and M4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_is_the_one_worked_out_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let mut c = marts_snapshot();
    add_region(&mut c, "61", "Ростовская областная организация Профсоюза");
    let mut d = c.clone();
    {
        let members = d.get_mut("members").unwrap();
        let at = |members: &Rows, id: &str| members.rows.iter().position(|r| r[0] == id).unwrap();
        let m1 = at(members, "M1");
        members.set(m1, "org_id", "P5");
        members.set(m1, "category", "student");
        let m4 = at(members, "M4");
        members.set(m4, "org_id", "P61");
        let mut late = members.rows[m1].clone();
        late[0] = "M8".into();
        late[1] = "P1".into();
        late[3] = "2022-06-01".into();
        members.rows.push(late);
        let m2 = at(members, "M2");
        members.rows.remove(m2);
    }
    for (date, tables) in [(C, &c), (D, &d)] {
        let snap = write_snapshot(&tmp.path().join(date), date, tables, PLAIN);
        run_ingest(&snap, &wh).await.unwrap();
        compute_mart(&wh, date, "national").await;
    }
    let b = read_mart(&wh, "member_flows", D);
    assert_eq!(b.num_rows(), 1 + 8 + 85, "the union, 8 districts, 85 regions");
    //                          prev joined late left gone in out within cat members
    let region_23 = vec![5, 1, 1, 2, 1, 0, 1, 1, 1, 3];
    let region_61 = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    let sfd = vec![5, 1, 1, 2, 1, 0, 0, 2, 1, 4];
    let untouched = vec![0; 10];
    for (scope, code, expected) in [
        ("region", Some("23"), region_23),
        ("region", Some("61"), region_61),
        ("district", Some("SFD"), sfd.clone()),
        ("national", None, sfd),
        ("region", Some("77"), untouched.clone()),
        ("district", Some("CFD"), untouched),
    ] {
        let i = row(&b, scope, code);
        assert_eq!(flows(&b, i), expected, "{scope} {code:?}");
    }
    for i in 0..b.num_rows() {
        assert!(identity_holds(&flows(&b, i)), "row {i}: {:?}", flows(&b, i));
    }
    // The regions mart counts the same members on record at C and D.
    let regions = read_mart(&wh, "regions", D);
    let codes = column_text(&regions, "region_code");
    let krasnodar = codes.iter().position(|c| c == "23").unwrap();
    assert_eq!(int(&regions, "members", krasnodar), Some(3));
    assert_eq!(int(&regions, "members_prev", krasnodar), Some(5));

    // Without a comparison snapshot every flow is null, members still counted.
    let first = read_mart(&wh, "member_flows", C);
    let i = row(&first, "region", Some("23"));
    assert_eq!(int(&first, "members", i), Some(5));
    for column in &FLOWS[..9] {
        assert_eq!(int(&first, column, i), None, "{column} without C");
    }
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
    for i in 0..b.num_rows() {
        let f = flows(&b, i);
        assert!(identity_holds(&f), "row {i}: {f:?}");
        if column_text(&b, "scope")[i] == "region" {
            let code = &column_text(&b, "region_code")[i];
            let r = codes.iter().position(|c| c == code).unwrap();
            assert_eq!(Some(f[9]), int(&regions, "members", r), "{code}: members");
            assert_eq!(Some(f[0]), int(&regions, "members_prev", r), "{code}: members at C");
        }
    }
    let n = flows(&b, row(&b, "national", None));
    assert!(n[1] > 100_000 && n[3] > 10_000, "joined {} and left {}", n[1], n[3]);
    assert_eq!((n[5], n[6]), (0, 0), "nobody moves into or out of the union");
}
