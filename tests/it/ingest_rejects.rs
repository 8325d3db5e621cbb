//! Every reject reason, with the physical line number of the record.

use crate::common::*;

fn has_cyrillic(s: &str) -> bool {
    s.chars().any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)))
}

/// (line, column, reason) of every reject of a table, in file order.
fn rejects_of(wh: &std::path::Path, table: &str) -> Vec<(u64, String, String)> {
    read_rejects(wh, table, AS_OF)
        .into_iter()
        .map(|r| {
            assert_eq!(r["file"], format!("{table}.csv"));
            assert!(has_cyrillic(&r["message"]), "message not in Russian: {}", r["message"]);
            assert!(!r["message"].contains('{'), "unfilled placeholder: {}", r["message"]);
            (r["line"].parse().unwrap(), r["column"].clone(), r["reason"].clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_rejects_name_line_column_and_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let orgs = t.get_mut("organizations").unwrap();
    // Line 4 (record 3, P1) holds a quoted newline, so records after it start
    // one physical line later than their record number suggests.
    orgs.set(2, "name", "ППО школы\n№ 1");
    let mut good = orgs.rows[2].clone();
    good[4] = "ППО".to_string(); // one line each from here on
    let mut add = |id: &str, change: &[(&str, &str)]| {
        let mut row = good.clone();
        row[0] = id.to_string();
        orgs.rows.push(row);
        let n = orgs.rows.len() - 1;
        for (c, v) in change {
            orgs.set(n, c, v);
        }
    };
    add("B1", &[("name", "")]); // line 8
    add("B2", &[("registered_on", "31.02.2023")]); // 9
    add("B3", &[("level", "district")]); // 10
    add("B4", &[("legal_entity", "может быть")]); // 11
    add("B5", &[("region_code", "2a")]); // 12
    add("B6", &[("region_code", "99")]); // 13
    add("P1", &[]); // 14: duplicate of line 4
    add("B7", &[("parent_id", "NOPE")]); // 15
    add("B8", &[("parent_id", "B7")]); // 16: its parent is rejected
    add("B9", &[("parent_id", "")]); // 17: only regional orgs may lack a parent
    add("R24", &[("parent_id", ""), ("level", "regional")]); // 18: fine
    add("C1", &[("parent_id", "C2")]); // 19: C1 and C2 are each other's parents
    add("C2", &[("parent_id", "C1")]); // 20
    add("C3", &[("parent_id", "C3")]); // 21: its own parent
    add("C4", &[("parent_id", "C1")]); // 22: hangs from the cycle
    add("D1", &[("registered_on", "2023-02-30")]); // 23: rejected, but claims D1
    add("D1", &[]); // 24: a duplicate of line 23
    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();

    let expected: Vec<(u64, &str, &str)> = vec![
        (8, "name", "missing_required"),
        (9, "registered_on", "bad_date"),
        (10, "level", "bad_enum"),
        (11, "legal_entity", "bad_bool"),
        (12, "region_code", "bad_region_code"),
        (13, "region_code", "unknown_region"),
        (14, "org_id", "duplicate_id"),
        (15, "parent_id", "unknown_parent"),
        (16, "parent_id", "unknown_parent"),
        (17, "parent_id", "missing_required"),
        (19, "parent_id", "parent_cycle"),
        (20, "parent_id", "parent_cycle"),
        (21, "parent_id", "parent_cycle"),
        (22, "parent_id", "parent_cycle"),
        (23, "registered_on", "bad_date"),
        (24, "org_id", "duplicate_id"),
    ];
    let mut got = rejects_of(&wh, "organizations");
    got.sort();
    let got: Vec<(u64, &str, &str)> = got.iter().map(|(l, c, r)| (*l, c.as_str(), r.as_str())).collect();
    assert_eq!(got, expected);

    let counts = &manifest.tables["organizations"];
    assert_eq!((counts.rows_read, counts.rows_loaded, counts.rows_rejected), (22, 6, 16));
    assert_eq!(counts.rejects_by_reason["unknown_parent"], 2);
    let loaded = column_text(&read_table(&wh, "organizations", AS_OF), "org_id");
    assert_eq!(loaded, ["R23", "T1", "P1", "P2", "S1", "R24"]);

    let rows = read_rejects(&wh, "organizations", AS_OF);
    let dup = rows.iter().find(|r| r["reason"] == "duplicate_id").unwrap();
    assert!(dup["message"].contains("строке 4"), "{}", dup["message"]);
    assert_eq!(dup["record_id"], "P1");
    let date = rows.iter().find(|r| r["reason"] == "bad_date").unwrap();
    assert_eq!(date["value"], "31.02.2023");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_report_stats_and_purchase_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let members = t.get_mut("members").unwrap();
    let good = members.rows[0].clone();
    let mut row = good.clone();
    row[0] = "M9".into();
    row[1] = "GHOST".into();
    members.rows.push(row); // line 6: unknown_org
    let mut short = good.clone();
    short[0] = "M10".into();
    short.truncate(5);
    members.rows.push(short); // line 7: bad_row_shape
    let mut row = good.clone();
    row[0] = "M11".into();
    row[6] = "lost".into();
    members.rows.push(row); // line 8: bad_enum card_status

    let reports = t.get_mut("stat_reports").unwrap();
    reports.push(&["P1", "6-SP", "2023-10-01", "auto", ""]); // line 4
    reports.push(&["NOPE", "3-SP", "2023-10-01", "auto", ""]); // line 5
    reports.push(&["P1", "3-СП", "01.10.2023", "Auto", ""]); // line 6: fine
    reports.push(&["P1", "4-SP", "2023-10-05", "auto", ""]); // line 7: not a quarter start

    let stats = t.get_mut("official_stats").unwrap();
    stats.push(&["24", "2023-01-01", "12,5", "3", "1", "1", "2", "1", "0", "0", "1", "1"]); // line 3
    stats.push(&["23", "01.01.2023", "5", "3", "1", "1", "2", "1", "0", "0", "1", "1"]); // line 4: duplicate key
    stats.push(&["24", "2022-01-01", "-1", "3", "1", "1", "2", "1", "0", "0", "1", "1"]); // line 5: negative

    let buys = t.get_mut("profcards_purchases").unwrap();
    buys.push(&["B3", "M1", "2023-05-01", "0", "0"]); // line 4: not positive
    buys.push(&["B4", "M1", "2023-05-01", "-5,00", "0"]); // 5
    buys.push(&["B5", "M1", "2023-05-01", "10", "-1"]); // 6: negative cashback
    buys.push(&["B6", "M1", "2023-05-01", "12,3,4", "0"]); // 7
    buys.push(&["B7", "M9", "2023-05-01", "10", "1"]); // 8: M9 was rejected
    buys.push(&["B1", "M1", "2023-05-01", "10", "1"]); // 9: duplicate id
    buys.push(&["B8", "M2", "2023-05-01", "1 000,5", "1"]); // 10: fine

    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();

    let own =
        |v: &[(u64, &str, &str)]| v.iter().map(|(l, c, r)| (*l, c.to_string(), r.to_string())).collect::<Vec<_>>();
    assert_eq!(
        rejects_of(&wh, "members"),
        own(&[(6, "org_id", "unknown_org"), (7, "", "bad_row_shape"), (8, "card_status", "bad_enum")])
    );
    assert_eq!(
        rejects_of(&wh, "stat_reports"),
        own(&[(4, "form", "bad_enum"), (5, "org_id", "unknown_org"), (7, "period", "bad_period")])
    );
    assert_eq!(
        rejects_of(&wh, "official_stats"),
        own(&[(3, "members", "bad_number"), (4, "region_code", "duplicate_id"), (5, "members", "negative")])
    );
    assert_eq!(
        rejects_of(&wh, "profcards_purchases"),
        own(&[
            (4, "amount", "not_positive"),
            (5, "amount", "not_positive"),
            (6, "cashback", "negative"),
            (7, "amount", "bad_number"),
            (8, "member_id", "unknown_member"),
            (9, "purchase_id", "duplicate_id"),
        ])
    );
    for (table, read, loaded) in
        [("members", 7, 4), ("stat_reports", 6, 3), ("official_stats", 4, 1), ("profcards_purchases", 9, 3)]
    {
        let c = &manifest.tables[table];
        assert_eq!(
            (c.rows_read, c.rows_loaded, c.rows_read - c.rows_loaded),
            (read, loaded, c.rows_rejected),
            "{table}"
        );
    }
    let buys = read_table(&wh, "profcards_purchases", AS_OF);
    assert_eq!(column_text(&buys, "amount"), ["12789.50", "100.00", "1000.50"]);
    let reports = read_table(&wh, "stat_reports", AS_OF);
    assert_eq!(column_text(&reports, "form"), ["5-SP", "2-SP", "3-SP"]);
    assert_eq!(column_text(&reports, "mode")[2], "auto");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_values_cannot_run_as_formulas() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    let orgs = t.get_mut("organizations").unwrap();
    orgs.set(4, "registered_on", "=HYPERLINK(\"http://x\",\"y\")");
    t.get_mut("profcards_purchases").unwrap().set(1, "cashback", "-5");
    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let wh = tmp.path().join("wh");
    run_ingest(&snap, &wh).await.unwrap();
    // Not of a date's shape: masked, and the mask starts with «.
    let rows = read_rejects(&wh, "organizations", AS_OF);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["value"], "«=…)» (26 символов)");
    // Of a number's shape: quoted, with the apostrophe that keeps it text.
    let rows = read_rejects(&wh, "profcards_purchases", AS_OF);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["value"], "'-5");
}

/// A stray byte that is not UTF-8 rejects its row when it sits in a contract
/// field, and costs nothing in a dropped column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_rejects_only_its_row() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = valid_snapshot();
    t.get_mut("organizations").unwrap().add_column("note", &["ok", "ok", "ok", "ok", "ok"]);
    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let path = snap.join("organizations.csv");
    let text = std::fs::read(&path).unwrap();
    let mut bytes = Vec::new();
    for (i, line) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        let mut line = line.to_vec();
        if i == 4 {
            // Line 5 (P2): a stray byte inside its name.
            let at = line.windows(4).position(|w| w == "ППО".as_bytes().get(..4).unwrap()).unwrap();
            line.insert(at + 2, 0xFF);
        }
        if i == 2 {
            // Line 3 (T1): a stray byte in the dropped column only.
            let n = line.len();
            line.insert(n - 2, 0xFE);
        }
        bytes.extend(line);
    }
    std::fs::write(&path, bytes).unwrap();
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    assert_eq!(rejects_of(&wh, "organizations"), vec![(5, "name".to_string(), "bad_encoding".to_string())]);
    assert_eq!(manifest.tables["organizations"].rows_loaded, 4);
}
