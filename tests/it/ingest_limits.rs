//! Contract limits: a value ingest accepts never makes a later step fail.
//! Each hostile value below once passed ingest and then broke compute or
//! publish (exit 1) for that date for good; now it is a row reject with a
//! reason, and the whole `run` succeeds.

use std::collections::BTreeMap;
use std::process::Command;

use crate::common::*;

type Edit = fn(&mut BTreeMap<&'static str, Rows>);

/// (what, table, column, reason, rejected rows, the edit that adds the value)
const CASES: &[(&str, &str, &str, &str, u64, Edit)] = &[
    (
        "purchase dated 1899-12-01 (before XLSX's dates)",
        "profcards_purchases",
        "purchased_on",
        "date_out_of_range",
        1,
        |t| t.get_mut("profcards_purchases").unwrap().push(&["B3", "M1", "1899-12-01", "10", "0"]),
    ),
    (
        "purchase dated 1500-01-01 (before compute's timestamps)",
        "profcards_purchases",
        "purchased_on",
        "date_out_of_range",
        1,
        |t| t.get_mut("profcards_purchases").unwrap().push(&["B3", "M1", "1500-01-01", "10", "0"]),
    ),
    ("official report dated 0001-01-01", "official_stats", "as_of", "date_out_of_range", 1, |t| {
        t.get_mut("official_stats").unwrap().set(0, "as_of", "0001-01-01")
    }),
    ("two purchases whose sum overflows Decimal(18, 2)", "profcards_purchases", "amount", "too_large", 2, |t| {
        let purchases = t.get_mut("profcards_purchases").unwrap();
        purchases.push(&["B3", "M1", "2023-05-01", "9 999 999 999 999 999.99", "0"]);
        purchases.push(&["B4", "M2", "2023-05-02", "9999999999999999.99", "0"]);
    }),
    ("organization name of 40 000 characters", "organizations", "name", "text_too_long", 1, |t| {
        let orgs = t.get_mut("organizations").unwrap();
        // An active primary organization with no chair: on its region's worklist.
        let mut row = orgs.rows[2].clone();
        row[0] = "P9".into();
        row[4] = format!("ППО {}", "школы ".repeat(40_000 / 6));
        row[10] = "false".into();
        orgs.rows.push(row);
    }),
];

#[test]
fn hostile_values_are_rejected_and_the_whole_run_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (n, (what, table, column, reason, rejected, edit)) in CASES.iter().enumerate() {
        let dir = tmp.path().join(n.to_string());
        let mut tables = marts_snapshot();
        edit(&mut tables);
        let snap = write_snapshot(&dir, AS_OF, &tables, PLAIN);
        let wh = dir.join("wh");
        let out = Command::new(env!("CARGO_BIN_EXE_reestr"))
            .args(["-q", "run", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh.to_str().unwrap()])
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{what}: run exited {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        if let Err(e) = counted(&wh, &tables, table, column, reason, *rejected) {
            failures.push(format!("{what}: {e}"));
            continue;
        }
        // A later publish of the same date succeeds too.
        let again = Command::new(env!("CARGO_BIN_EXE_reestr"))
            .args(["-q", "publish", "--warehouse", wh.to_str().unwrap()])
            .output()
            .unwrap();
        if !again.status.success() {
            failures.push(format!("{what}: publish failed: {}", String::from_utf8_lossy(&again.stderr)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The manifest's counts and the rejects file of `table` say that exactly
/// `rejected` rows were rejected for `reason` in `column`.
fn counted(
    wh: &std::path::Path,
    tables: &BTreeMap<&'static str, Rows>,
    table: &str,
    column: &str,
    reason: &str,
    rejected: u64,
) -> Result<(), String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wh.join(format!("runs/{AS_OF}/manifest.json"))).unwrap()).unwrap();
    let counts = &manifest["tables"][table];
    let (read, loaded, rejected_rows) =
        (counts["rows_read"].as_u64(), counts["rows_loaded"].as_u64(), counts["rows_rejected"].as_u64());
    if read != Some(tables[table].rows.len() as u64) || read != loaded.zip(rejected_rows).map(|(l, r)| l + r) {
        return Err(format!("rows read ≠ rows in the file or ≠ loaded + rejected: {counts}"));
    }
    if rejected_rows != Some(rejected) || counts["rejects_by_reason"][reason].as_u64() != Some(rejected) {
        return Err(format!("expected {rejected} rejected for {reason}: {counts}"));
    }
    let rejects = read_rejects(wh, table, AS_OF);
    for r in &rejects {
        if (r["column"].as_str(), r["reason"].as_str()) != (column, reason) || r["message"].contains('{') {
            return Err(format!("unexpected reject {r:?}"));
        }
    }
    Ok(())
}
