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
