//! A CSV file's text encoding is decided from evidence one byte cannot
//! outvote, and a byte that does not fit it costs its own row (`bad_encoding`),
//! the same wherever in the file it sits.

use crate::common::*;
use encoding_rs::{KOI8_R, WINDOWS_1251};
use reestr::ingest::IngestError;
use reestr::warehouse::Manifest;

/// Rows of plain ASCII that push what follows beyond the first 256 KB.
const PADDING: usize = 3000;

/// An organizations record (the contract's columns and a dropped `note`),
/// with `name` and `note` as raw bytes. R23, T1, P1, P2 and S1 keep their
/// place in the tree (members refer to them); any other id is a primary
/// organization under T1.
fn org_record(id: &str, name: &[u8], note: &[u8]) -> Vec<u8> {
    let orgs = &valid_snapshot()["organizations"];
    let mut fields = orgs.rows.iter().find(|r| r[0] == id).unwrap_or(&orgs.rows[2]).clone();
    fields[0] = id.to_string();
    let mut line = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        line.extend_from_slice(if i == 4 { name } else { field.as_bytes() });
    }
    line.push(b',');
    line.extend_from_slice(note);
    line.push(b'\n');
    line
}

/// An organizations file: header, the five organizations of the valid
/// snapshot under ASCII names, then `records`.
fn org_file(records: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut bytes = format!("{},note\n", ORG_HEADER.join(",")).into_bytes();
    for id in ["R23", "T1", "P1", "P2", "S1"] {
        bytes.extend(org_record(id, format!("Org {id}").as_bytes(), b"ok"));
    }
    bytes.extend(records.into_iter().flatten());
    bytes
}

fn padding(prefix: &str) -> impl Iterator<Item = Vec<u8>> {
    padding_of(PADDING, prefix)
}

fn padding_of(rows: usize, prefix: &str) -> impl Iterator<Item = Vec<u8>> {
    (0..rows).map(move |i| org_record(&format!("{prefix}{i}"), format!("School {i}").as_bytes(), b"ok"))
}

fn cyrillic_name(i: usize) -> String {
    format!("Первичная профсоюзная организация школы № {i} «Ромашка»")
}

fn in_1251(text: &str) -> Vec<u8> {
    WINDOWS_1251.encode(text).0.into_owned()
}

/// Ingests the valid snapshot with `organizations.csv` replaced by `orgs`.
async fn ingest_orgs(dir: &std::path::Path, orgs: Vec<u8>) -> (Result<Manifest, IngestError>, std::path::PathBuf) {
    let snap = write_snapshot(dir, AS_OF, &valid_snapshot(), PLAIN);
    std::fs::write(snap.join("organizations.csv"), orgs).unwrap();
    let wh = dir.join("wh");
    (run_ingest(&snap, &wh).await, wh)
}

fn encoding_of(manifest: &Manifest, table: &str) -> String {
    manifest.files.iter().find(|f| f.table == table).unwrap().encoding.clone().unwrap()
}

/// (line, column, reason) of every reject of a table; no reject quotes a
/// value or holds a byte that was not text.
fn rejects_of(wh: &std::path::Path, table: &str) -> Vec<(u64, String, String)> {
    let raw = std::fs::read(wh.join(format!("rejects/as_of={AS_OF}/{table}.csv"))).unwrap();
    assert!(!raw.contains(&0), "a NUL byte reached the rejects file");
    read_rejects(wh, table, AS_OF)
        .into_iter()
        .map(|r| {
            if r["reason"] == "bad_encoding" {
                assert_eq!(r["value"], "", "an undecodable value is quoted");
                assert!(!r["record_id"].contains('\u{FFFD}'), "{}", r["record_id"]);
            }
            (r["line"].parse().unwrap(), r["column"].clone(), r["reason"].clone())
        })
        .collect()
}

fn assert_balanced(manifest: &Manifest, table: &str) {
    let c = &manifest.tables[table];
    assert_eq!(c.rows_read, c.rows_loaded + c.rows_rejected, "{table}");
}

/// Defect 2: one 0xFF in a dropped column, after 256 KB of ASCII, made the
/// rest of a UTF-8 file windows-1251; its Cyrillic names loaded as mojibake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stray_byte_in_a_dropped_column_does_not_switch_the_encoding() {
    let tmp = tempfile::tempdir().unwrap();
    let stray = org_record("STRAY", b"School", b"o\xFFk");
    let names: Vec<String> = (0..5).map(cyrillic_name).collect();
    let cyrillic = names.iter().enumerate().map(|(i, n)| org_record(&format!("C{i}"), n.as_bytes(), b"ok"));
    // The Cyrillic names come more than 512 KB after the stray byte, out of
    // reach of a look-ahead of 256 KB from a read buffer of as much.
    let bytes = org_file(padding("A").chain([stray]).chain(padding_of(3 * PADDING, "B")).chain(cyrillic));
    let at = bytes.iter().position(|&b| b == 0xFF).unwrap();
    assert!(at > 256 * 1024 && bytes.len() - at > 800 * 1024);
    let (manifest, wh) = ingest_orgs(tmp.path(), bytes).await;
    let manifest = manifest.unwrap();
    assert_eq!(encoding_of(&manifest, "organizations"), "utf-8");
    assert_eq!(manifest.tables["organizations"].rows_rejected, 0);
    assert_eq!(manifest.tables["organizations"].rows_loaded, 5 + 4 * PADDING as u64 + 1 + 5);
    let loaded = column_text(&read_table(&wh, "organizations", AS_OF), "name");
    assert_eq!(loaded[loaded.len() - 5..], names[..]);
}

/// Defect 2: a file half in UTF-8 and half in windows-1251 loaded one half
/// garbled (or was refused as KOI8-R). Whichever half decides, the other is
/// rejected row by row and the deciding half loads as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_in_two_encodings_loads_one_and_rejects_the_other() {
    type Encode = fn(&str) -> Vec<u8>;
    let utf8: Encode = |s| s.as_bytes().to_vec();
    for (label, first, second) in [("utf-8", utf8, in_1251 as Encode), ("windows-1251", in_1251, utf8)] {
        let tmp = tempfile::tempdir().unwrap();
        let half = |prefix: &'static str, encode: Encode| {
            (0..10).map(move |i| org_record(&format!("{prefix}{i}"), &encode(&cyrillic_name(i)), &encode("заметка")))
        };
        let bytes = org_file(half("X", first).chain(half("Y", second)));
        let (manifest, wh) = ingest_orgs(tmp.path(), bytes).await;
        let manifest = manifest.unwrap_or_else(|e| panic!("{label} first: {e}"));
        assert_eq!(encoding_of(&manifest, "organizations"), label);
        // Header on line 1, five ASCII organizations, then X0..X9 on lines
        // 7..16 and Y0..Y9 on lines 17..26.
        let expected: Vec<_> = (17..27).map(|line| (line, "name".to_string(), "bad_encoding".to_string())).collect();
        assert_eq!(rejects_of(&wh, "organizations"), expected, "{label} first");
        assert_eq!(manifest.tables["organizations"].rows_loaded, 15);
        assert_balanced(&manifest, "organizations");
        let orgs = read_table(&wh, "organizations", AS_OF);
        let names: Vec<String> = (0..10).map(cyrillic_name).collect();
        assert_eq!(column_text(&orgs, "name")[5..], names[..], "{label} first");
    }
}

/// Defect 3: FF FE far down a file was taken for a UTF-16 byte-order mark
/// and refused the whole file. Only at the start is it one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_order_mark_counts_only_at_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let stray = org_record("STRAY", b"\xFF\xFESchool", b"ok");
    let bytes = org_file(padding("A").chain([stray]).chain(padding("B")));
    let (manifest, wh) = ingest_orgs(tmp.path(), bytes).await;
    let manifest = manifest.unwrap();
    let line = 1 + 5 + PADDING as u64 + 1;
    assert_eq!(rejects_of(&wh, "organizations"), vec![(line, "name".to_string(), "bad_encoding".to_string())]);
    assert_eq!(encoding_of(&manifest, "organizations"), "utf-8");
    assert_balanced(&manifest, "organizations");

    // At the start it is one: UTF-16 is refused by name, with or without it.
    let text = format!("{}\n", ORG_HEADER.join(","));
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    for (case, bytes) in [("with BOM", [&[0xFF, 0xFE][..], &le].concat()), ("without BOM", le.clone())] {
        let (err, _) = ingest_orgs(&tmp.path().join(case), bytes).await;
        let err = err.unwrap_err();
        assert!(matches!(&err, IngestError::UnknownEncoding { file, .. } if file == "organizations.csv"), "{err}");
        assert!(err.to_string().contains("UTF-16"), "{case}: {err}");
    }
}

/// Defect 3: 0x98, the one byte windows-1251 leaves undefined, refused a
/// whole windows-1251 file; it costs its row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undefined_windows_1251_byte_costs_its_row() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), OFFICE);
    let path = snap.join("organizations.csv");
    let mut bytes = std::fs::read(&path).unwrap();
    // Into P2's name, line 5.
    let word = in_1251("гимназии");
    let at = bytes.windows(word.len()).position(|w| w == word).unwrap() + 3;
    bytes.insert(at, 0x98);
    std::fs::write(&path, bytes).unwrap();
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    assert_eq!(encoding_of(&manifest, "organizations"), "windows-1251");
    assert_eq!(rejects_of(&wh, "organizations"), vec![(5, "name".to_string(), "bad_encoding".to_string())]);
    assert_balanced(&manifest, "organizations");
    let names = column_text(&read_table(&wh, "organizations", AS_OF), "name");
    assert_eq!(names[0], "Краснодарская краевая организация Профсоюза");
    assert_eq!(names.len(), 4);
}

/// Defect 3: a NUL byte refused the file in its first 256 KB and loaded
/// after them. Now it costs its row wherever it is (nothing in a dropped
/// column), and never reaches the rejects file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_byte_costs_its_row_wherever_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let early = org_record("EARLY", b"Sch\0ool", b"ok");
    let dropped = org_record("DROPPED", b"School", b"o\0k");
    let late = org_record("LATE", b"Sch\0ool", b"ok");
    let bytes = org_file([early, dropped].into_iter().chain(padding("A")).chain([late]));
    assert!(bytes.iter().rposition(|&b| b == 0).unwrap() > 256 * 1024);
    let (manifest, wh) = ingest_orgs(tmp.path(), bytes).await;
    let manifest = manifest.unwrap();
    let late_line = 1 + 5 + 2 + PADDING as u64 + 1;
    assert_eq!(
        rejects_of(&wh, "organizations"),
        vec![
            (7, "name".to_string(), "bad_encoding".to_string()),
            (late_line, "name".to_string(), "bad_encoding".to_string())
        ]
    );
    assert_balanced(&manifest, "organizations");
    assert_eq!(encoding_of(&manifest, "organizations"), "utf-8");
}

/// KOI8-R is still refused by name, at the start of a file or far down it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koi8_r_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let koi8 = |i: usize| KOI8_R.encode(&cyrillic_name(i)).0.into_owned();
    let early = org_file((0..5).map(|i| org_record(&format!("K{i}"), &koi8(i), b"ok")));
    let late = org_file(padding("A").chain((0..5).map(|i| org_record(&format!("K{i}"), &koi8(i), b"ok"))));
    for (case, bytes) in [("early", early), ("late", late)] {
        let (err, wh) = ingest_orgs(&tmp.path().join(case), bytes).await;
        let err = err.unwrap_err();
        assert!(matches!(&err, IngestError::UnknownEncoding { file, .. } if file == "organizations.csv"), "{err}");
        assert!(err.to_string().contains("KOI8-R"), "{case}: {err}");
        assert!(err.is_user_error());
        assert!(!registry_file(&wh, "organizations", AS_OF).exists());
    }
}

/// A file of ASCII but for a few stray bytes is UTF-8 with stray bytes: the
/// rows holding them are rejected, nothing is loaded under a guess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_stray_bytes_do_not_make_a_file_windows_1251() {
    let tmp = tempfile::tempdir().unwrap();
    let stray = org_record("STRAY", b"Sch\xE9ool", b"ok");
    let (manifest, wh) = ingest_orgs(tmp.path(), org_file([stray])).await;
    let manifest = manifest.unwrap();
    assert_eq!(encoding_of(&manifest, "organizations"), "utf-8");
    assert_eq!(rejects_of(&wh, "organizations"), vec![(7, "name".to_string(), "bad_encoding".to_string())]);
}
