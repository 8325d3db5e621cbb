//! Personal data never reaches the warehouse; failed runs change nothing;
//! re-ingesting a date replaces it whole.

use crate::common::*;
use encoding_rs::WINDOWS_1251;

/// Distinctive personal values, added as extra columns of the members file.
const PERSONAL: [(&str, &str); 5] = [
    ("full_name", "Иванова Мария Петровна"),
    ("phone", "+7 916 555-12-34"),
    ("card_number", "2200123456789012"),
    ("email", "maria.ivanova@example.org"),
    ("birth_date", "1979-03-14"),
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_columns_leave_no_trace() {
    let tmp = tempfile::tempdir().unwrap();
    for (n, form) in [PLAIN, OFFICE].into_iter().enumerate() {
        let mut t = valid_snapshot();
        let members = t.get_mut("members").unwrap();
        for (name, value) in PERSONAL {
            members.add_column(name, &[value]);
        }
        // Personal columns first, and a row whose unquoted separator shifts
        // the fields: the key's position then holds part of a name.
        members.header.rotate_right(PERSONAL.len());
        for row in &mut members.rows {
            row.rotate_right(PERSONAL.len());
        }
        let mut shifted = members.rows[0].clone();
        shifted[0] = format!("Иванова{}Мария Петровна", form.separator as char);
        let shifted_line = shifted.join(&(form.separator as char).to_string()) + "\n";
        // A rejected row carrying personal data too.
        let mut bad = members.rows[0].clone();
        bad[PERSONAL.len()] = "M99".into();
        bad[PERSONAL.len() + 3] = "not a date".into();
        members.rows.push(bad);
        let dir = tmp.path().join(n.to_string());
        let snap = write_snapshot(&dir, AS_OF, &t, form);
        // Written by hand: a CSV writer would quote the separator.
        let mut file = std::fs::OpenOptions::new().append(true).open(snap.join("members.csv")).unwrap();
        std::io::Write::write_all(&mut file, &encode(&shifted_line, form.encoding)).unwrap();
        let wh = dir.join("wh");
        let manifest = run_ingest(&snap, &wh).await.unwrap();
        assert_eq!(manifest.tables["members"].dropped_columns, PERSONAL.map(|(n, _)| n).to_vec());
        assert_eq!(manifest.tables["members"].rows_rejected, 2);

        let files = tree(&wh);
        assert!(files.len() >= 11, "expected every output, got {:?}", files.keys());
        for (path, bytes) in &files {
            for (_, value) in PERSONAL {
                let (cp1251, _, _) = WINDOWS_1251.encode(value);
                assert!(!contains(bytes, value.as_bytes()), "{value} found in {path}");
                assert!(!contains(bytes, &cp1251), "{value} (cp1251) found in {path}");
            }
            for fragment in ["Иванова", "Мария Петровна"] {
                assert!(!contains(bytes, fragment.as_bytes()), "{fragment} found in {path}");
            }
        }

        // Nor in what the command prints.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reestr"))
            .args([
                "-v",
                "ingest",
                "--snapshot",
                snap.to_str().unwrap(),
                "--warehouse",
                dir.join("wh2").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let printed = [out.stdout, out.stderr].concat();
        for (_, value) in PERSONAL {
            assert!(!contains(&printed, value.as_bytes()), "{value} printed");
        }
        assert!(!contains(&printed, "Иванова".as_bytes()), "a name fragment was printed");
    }
}

/// Personal values typed into contract columns: rejected, and the rejects
/// file (which goes back to the regional operators) names the record but
/// quotes none of them, neither in `value` nor in `message`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_values_in_contract_columns_are_masked_in_the_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let [(_, name), (_, phone), (_, card), (_, email), _] = PERSONAL;
    let mut t = valid_snapshot();
    let orgs = t.get_mut("organizations").unwrap();
    let mut row = orgs.rows[2].clone();
    row[0] = "P7".into();
    orgs.rows.push(row);
    let last = orgs.rows.len() - 1;
    orgs.set(last, "chair_email", email);
    let members = t.get_mut("members").unwrap();
    for (id, column, value) in [
        ("M11", "category", name),
        ("M12", "category", "Иванова"),
        ("M13", "card_status", card),
        ("M14", "joined_online", phone),
        ("M15", "org_id", email),
        ("M16", "category", "pensioners"),
    ] {
        let mut row = members.rows[0].clone();
        row[0] = id.into();
        members.rows.push(row);
        let last = members.rows.len() - 1;
        members.set(last, column, value);
    }
    // A key that is itself an e-mail, in a row rejected for another field.
    let mut row = members.rows[0].clone();
    row[0] = email.into();
    row[3] = "not a date".into();
    members.rows.push(row);
    t.get_mut("stat_reports").unwrap().push(&[phone, "5-SP", "2023-10-01", "auto", ""]);
    let snap = write_snapshot(tmp.path(), AS_OF, &t, PLAIN);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    assert_eq!(manifest.tables["organizations"].rejects_by_reason["bad_bool"], 1);
    assert_eq!(manifest.tables["members"].rows_rejected, 7);
    assert_eq!(manifest.tables["stat_reports"].rejects_by_reason["unknown_org"], 1);

    let files = tree(&wh);
    let rejects: Vec<&String> = files.keys().filter(|k| k.starts_with("rejects/")).collect();
    assert_eq!(rejects.len(), 5, "{rejects:?}");
    for (path, bytes) in &files {
        for (_, value) in PERSONAL.iter().take(4) {
            assert!(!contains(bytes, value.as_bytes()), "{value} found in {path}");
        }
        for fragment in ["Иванова", "Мария", "maria", "example.org", "555-12-34", "123456789"] {
            assert!(!contains(bytes, fragment.as_bytes()), "{fragment} found in {path}");
        }
    }
    // The operator still sees which record, which field and roughly what.
    let members = read_rejects(&wh, "members", AS_OF);
    let m11 = members.iter().find(|r| r["record_id"] == "M11").unwrap();
    assert_eq!(m11["reason"], "bad_enum");
    assert_eq!(m11["value"], "«И…а» (22 символа)");
    assert!(m11["message"].contains("«И…а» (22 символа)"), "{}", m11["message"]);
    assert!(m11["message"].contains("working, student, pensioner"), "{}", m11["message"]);
    let m13 = members.iter().find(|r| r["record_id"] == "M13").unwrap();
    assert_eq!(m13["value"], "«2…2» (16 символов)");
    let orgs = read_rejects(&wh, "organizations", AS_OF);
    assert_eq!(orgs[0]["value"], "«m…g» (25 символов)");
    // A short value of the column's shape is still quoted.
    let m16 = members.iter().find(|r| r["record_id"] == "M16").unwrap();
    assert_eq!(m16["value"], "pensioners");
    assert!(m16["message"].contains("«pensioners»"), "{}", m16["message"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_leaves_the_warehouse_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let good = write_snapshot(&tmp.path().join("good"), AS_OF, &valid_snapshot(), PLAIN);
    run_ingest(&good, &wh).await.unwrap();
    let before = tree(&wh);

    // Fails after organizations and members were staged: stat_reports lacks `mode`.
    let mut t = valid_snapshot();
    t.get_mut("members").unwrap().rows.pop();
    let reports = t.get_mut("stat_reports").unwrap();
    reports.header.truncate(3);
    for r in &mut reports.rows {
        r.truncate(3);
    }
    let bad = write_snapshot(&tmp.path().join("bad"), AS_OF, &t, PLAIN);
    let err = run_ingest(&bad, &wh).await.unwrap_err();
    assert!(err.to_string().contains("mode"), "{err}");
    assert_eq!(tree(&wh), before, "a failed run changed the warehouse");

    // Fails in the last table, whose file is UTF-16.
    let last = write_snapshot(&tmp.path().join("last"), AS_OF, &valid_snapshot(), PLAIN);
    std::fs::write(last.join("profcards_purchases.csv"), b"\xFF\xFEp\0u\0").unwrap();
    assert!(run_ingest(&last, &wh).await.is_err());
    assert_eq!(tree(&wh), before, "a failed run changed the warehouse");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reingesting_a_date_replaces_its_partitions_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let first = write_snapshot(&tmp.path().join("a"), AS_OF, &valid_snapshot(), PLAIN);
    run_ingest(&first, &wh).await.unwrap();
    let mut t = valid_snapshot();
    t.get_mut("members").unwrap().rows.truncate(2);
    let second = write_snapshot(&tmp.path().join("b"), AS_OF, &t, OFFICE);
    // A stray file in the partition and an abandoned staging area from a killed run.
    let partition = wh.join(format!("registry/members/as_of={AS_OF}"));
    std::fs::write(partition.join("old-part.parquet"), b"stale").unwrap();
    std::fs::create_dir_all(wh.join("_staging/killed-run/registry")).unwrap();
    std::fs::write(wh.join("_staging/killed-run/registry/x.parquet"), b"half").unwrap();

    let manifest = run_ingest(&second, &wh).await.unwrap();
    assert_eq!(manifest.tables["members"].rows_loaded, 2);
    assert_eq!(read_table(&wh, "members", AS_OF).num_rows(), 2);
    let names: Vec<String> =
        std::fs::read_dir(&partition).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["members.parquet"]);
    assert!(tree(&wh).keys().all(|k| !k.starts_with("_staging")), "staging left behind");
    assert!(!wh.join("_staging").exists(), "empty staging folders left behind");

    // The same input twice gives the same data files.
    let once = tree(&wh);
    run_ingest(&second, &wh).await.unwrap();
    let twice = tree(&wh);
    for (path, bytes) in &once {
        if path.ends_with(".parquet") || path.contains("rejects") {
            assert_eq!(Some(bytes), twice.get(path), "{path} differs between two runs");
        }
    }
}
