//! The `reestr` binary: exit codes and messages a person reads.

use std::process::Command;

use crate::common::*;

fn reestr(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_reestr")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ingest_reports_counts_and_exits_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), OFFICE);
    let wh = tmp.path().join("wh");
    let (code, stdout, stderr) =
        reestr(&["ingest", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("members") && stdout.contains("Manifest:"), "{stdout}");
    assert!(stderr.contains("members: 4 rows read, 4 loaded, 0 rejected"), "{stderr}");

    let (code, stdout, stderr) =
        reestr(&["--quiet", "ingest", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.is_empty() && stderr.is_empty(), "quiet run printed: {stdout}{stderr}");
}

#[test]
fn user_errors_exit_2_with_one_clear_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), "today", &valid_snapshot(), PLAIN);
    let wh = tmp.path().join("wh");
    let (code, _, stderr) =
        reestr(&["ingest", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--as-of YYYY-MM-DD"), "{stderr}");

    std::fs::write(snap.join("members.csv"), "member_id;org_id\nM1;P1\n").unwrap();
    let (code, _, stderr) = reestr(&[
        "ingest",
        "--snapshot",
        snap.to_str().unwrap(),
        "--warehouse",
        wh.to_str().unwrap(),
        "--as-of",
        "2023-11-21",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("members.csv") && !stderr.contains("category") && stderr.contains("registered_on"),
        "{stderr}"
    );
    let error = stderr.split("error: ").nth(1).expect("an error line");
    assert_eq!(error.trim().lines().count(), 1, "one sentence: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes when stderr is not a terminal");

    let (code, _, stderr) =
        reestr(&["ingest", "--snapshot", "/nonexistent/2023-11-21", "--warehouse", wh.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/2023-11-21"), "{stderr}");

    let (code, _, stderr) = reestr(&["ingest", "--snapshot", "x", "--warehouse", "y", "--as-of", "21.11.2023"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");
}

#[test]
fn run_ingests_and_computes_the_marts() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), OFFICE);
    let wh = tmp.path().join("wh");
    let (code, stdout, stderr) =
        reestr(&["run", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("national"), "{stdout}");
    let csv = std::fs::read_to_string(wh.join("marts/national/as_of=2023-11-21/national.csv")).unwrap();
    // valid_snapshot(): M1, M2 and M4 on record; 5 in the official report.
    assert!(csv.lines().nth(1).unwrap().starts_with("2023-11-21,2023-10-01,2023-01-01,,3,5,60.0,"), "{csv}");

    let (code, _, stderr) = reestr(&["compute", "--warehouse", wh.to_str().unwrap(), "--as-of", "2024-01-01"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no snapshot of 2024-01-01"), "{stderr}");
}

#[test]
fn sql_answers_over_the_warehouse_in_three_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), PLAIN);
    let wh = tmp.path().join("wh");
    let wh = wh.to_str().unwrap();
    let (code, _, stderr) = reestr(&["-q", "run", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh]);
    assert_eq!(code, 0, "{stderr}");

    let q = "SELECT as_of, count(*) AS n FROM members GROUP BY as_of";
    let (code, stdout, stderr) = reestr(&["sql", "--warehouse", wh, "--format", "csv", q]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "as_of,n\n2023-11-21,4\n");
    let (code, stdout, _) = reestr(&[
        "sql",
        "--warehouse",
        wh,
        "--as-of",
        "2023-11-21",
        "--format",
        "json",
        "SELECT members, coverage_pct FROM national",
    ]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), r#"[{"members":3,"coverage_pct":60.0}]"#);
    let (code, stdout, _) =
        reestr(&["sql", "--warehouse", wh, "SELECT region_name FROM regions WHERE region_code = '23'"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("| Краснодарская краевая организация Профсоюза |"), "{stdout}");
    // Another date: nothing.
    let (_, stdout, _) = reestr(&[
        "sql",
        "--warehouse",
        wh,
        "--as-of",
        "2022-11-21",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM members",
    ]);
    assert_eq!(stdout, "n\n0\n");

    let (code, _, stderr) = reestr(&["sql", "--warehouse", wh, "SELECT nope FROM members"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nope"), "{stderr}");
}

/// `reestr sql … | head`: a reader that stops reading ends the command
/// quietly, as with other command-line tools.
#[test]
fn sql_into_a_closed_pipe_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), PLAIN);
    let wh = tmp.path().join("wh");
    let (code, _, stderr) = reestr(&[
        "-q",
        "run",
        "--no-publish",
        "--snapshot",
        snap.to_str().unwrap(),
        "--warehouse",
        wh.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reestr"))
        .args(["sql", "--warehouse", wh.to_str().unwrap(), "--format", "csv", "SELECT * FROM members"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end is closed before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
