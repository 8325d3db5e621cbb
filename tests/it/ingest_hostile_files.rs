//! Snapshot files made to break the reader: damaged Parquet footers, a footer
//! that lies about its rows, symlink loops, names that differ only in case,
//! ids that are not text. Each is refused by name (exit 2) or loaded with
//! balanced counts; never a panic, never a staging area left behind.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::FutureExt;
use parquet::file::metadata::{FileMetaData, ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter};
use reestr::ingest::{IngestRequest, ingest};
use reestr::stop::StopToken;
use reestr::warehouse::{Manifest, Warehouse};

use crate::common::*;

/// Runs the binary; `(exit code, stderr)`.
fn reestr_ingest(snapshot: &Path, warehouse: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reestr"))
        .args(["ingest", "--snapshot", snapshot.to_str().unwrap(), "--warehouse", warehouse.to_str().unwrap()])
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn balanced(manifest: &Manifest) -> bool {
    manifest.tables.values().all(|t| t.rows_read == t.rows_loaded + t.rows_rejected)
}

/// A valid snapshot whose members table is `members.parquet` with `bytes`.
fn snapshot_with_members(root: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let mut t = valid_snapshot();
    t.remove("members");
    let snap = write_snapshot(root, AS_OF, &t, PLAIN);
    std::fs::write(snap.join("members.parquet"), bytes).unwrap();
    snap
}

/// Where the footer's Thrift metadata starts.
fn footer_start(file: &[u8]) -> usize {
    let len = u32::from_le_bytes(file[file.len() - 8..file.len() - 4].try_into().unwrap()) as usize;
    file.len() - 8 - len
}

/// What one run did with a file: `None` when that is acceptable. Straight
/// into the warehouse (a command would lock it first and recover it, which
/// would hide a staging area left behind).
async fn misbehaviour(snap: &Path, wh: &Warehouse) -> Option<String> {
    let request = IngestRequest { snapshot: snap.to_string_lossy().into_owned(), as_of: None };
    let clock = reestr::clock::system();
    let stop = StopToken::new();
    let started = Instant::now();
    let run = ingest(wh, &request, clock.as_ref(), &stop);
    let result = std::panic::AssertUnwindSafe(run).catch_unwind().await;
    let took = started.elapsed();
    let what = match result {
        Err(_) => Some("panicked".to_string()),
        Ok(Ok(m)) if !balanced(&m) => Some(format!("loaded with unbalanced counts: {:?}", m.tables)),
        Ok(Ok(_)) => None,
        Ok(Err(e)) if !e.is_user_error() => Some(format!("failed as not the input's fault: {e}")),
        Ok(Err(e)) if !e.to_string().contains("members.parquet") => Some(format!("failed without the name: {e}")),
        Ok(Err(_)) => None,
    };
    let staging = Path::new(&wh.name()).join("_staging");
    if let Some(left) = std::fs::read_dir(staging).ok().and_then(|mut d| d.next()) {
        return Some(format!("left {} in staging ({what:?})", left.unwrap().path().display()));
    }
    if took > Duration::from_secs(10) {
        return Some(format!("took {took:?} ({what:?})"));
    }
    what
}

/// Every byte of the footer changed two ways (its low bit, and its high bit,
/// a varint's continuation): no panic, no staging left behind, and either a
/// balanced load or a refusal naming the file. Two halves side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_damaged_footer_byte_is_refused_or_loaded_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let good = typed_parquet(&valid_snapshot()["members"], None);
    let start = footer_start(&good);
    assert!(good.len() - start > 300, "the footer is the last few hundred bytes at least");
    let halves = (0..2).map(|half| {
        let dir = tmp.path().join(half.to_string());
        let good = good.clone();
        tokio::spawn(async move {
            let snap = snapshot_with_members(&dir, &good);
            let wh = Warehouse::open(dir.join("wh").to_str().unwrap()).unwrap();
            assert_eq!(misbehaviour(&snap, &wh).await, None, "the undamaged file loads");
            let mut failures = Vec::new();
            for at in (start + half..good.len()).step_by(2) {
                for change in [0x01u8, 0x80] {
                    let mut bad = good.clone();
                    bad[at] ^= change;
                    std::fs::write(snap.join("members.parquet"), &bad).unwrap();
                    if let Some(what) = misbehaviour(&snap, &wh).await {
                        failures.push(format!("byte {at} ^ {change:#04x}: {what}"));
                    }
                }
            }
            failures
        })
    });
    let failures: Vec<String> = futures::future::join_all(halves.collect::<Vec<_>>())
        .await
        .into_iter()
        .flat_map(|half| half.unwrap())
        .collect();
    assert!(failures.is_empty(), "{} damaged files misbehaved:\n{}", failures.len(), failures.join("\n"));
}

/// Every seventh footer byte damaged, through the binary (several of these
/// used to panic: exit 101, or exit 1 "internal error"): exit 0 or 2, with
/// the file's name and no panic message.
#[test]
fn a_damaged_footer_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let good = typed_parquet(&valid_snapshot()["members"], None);
    let start = footer_start(&good);
    let refused: usize = std::thread::scope(|scope| {
        let halves: Vec<_> = (0..2)
            .map(|half| {
                let (tmp, good) = (tmp.path(), &good);
                scope.spawn(move || {
                    let mut refused = 0;
                    for at in (start + 7 * half..good.len() - 8).step_by(14) {
                        let mut bad = good.clone();
                        bad[at] ^= 0x01;
                        let snap = snapshot_with_members(&tmp.join(at.to_string()), &bad);
                        let (code, stderr) = reestr_ingest(&snap, &tmp.join(format!("wh{at}")));
                        assert!(!stderr.contains("panicked"), "byte {at}: {stderr}");
                        assert!(code == 0 || code == 2, "byte {at}: exit {code}: {stderr}");
                        if code == 2 {
                            assert!(stderr.contains("members.parquet"), "byte {at}: {stderr}");
                            refused += 1;
                        }
                    }
                    refused
                })
            })
            .collect();
        halves.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert!(refused > 0, "some damage is refused");
}

/// `good` with its footer rewritten to claim `rows` rows for each row group
/// (and so their sum for the file).
fn lying_footer(good: &[u8], rows: i64) -> Vec<u8> {
    let meta = ParquetMetaDataReader::new().parse_and_finish(&bytes::Bytes::copy_from_slice(good)).unwrap();
    let fm = meta.file_metadata();
    let lying_fm = FileMetaData::new(
        fm.version(),
        rows,
        fm.created_by().map(str::to_string),
        fm.key_value_metadata().cloned(),
        fm.schema_descr_ptr(),
        fm.column_orders().cloned(),
    );
    let groups = meta.row_groups().iter().map(|rg| rg.clone().into_builder().set_num_rows(rows).build().unwrap());
    let lying = ParquetMetaData::new(lying_fm, groups.collect());
    let mut out = good[..footer_start(good)].to_vec();
    ParquetMetaDataWriter::new(&mut out, &lying).finish().unwrap();
    out
}

/// A footer claiming 2^50 rows, for the file alone or for its row group too:
/// refused at once by name, and no memory is sized from the claim (the run
/// gets 1 GiB of address space; an id set sized for the claim would take
/// several).
#[test]
fn a_footer_claiming_2_pow_50_rows_is_refused_without_allocating_for_them() {
    let tmp = tempfile::tempdir().unwrap();
    let good = typed_parquet(&valid_snapshot()["members"], None);
    let both = lying_footer(&good, 1 << 50);
    // 2^50 as a zigzag varint, once for the file (Thrift field 3 of
    // FileMetaData, before the row groups) and once for its row group; the
    // row group's is put back to 4, padded to the same length.
    let claim = [0x80u8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x04];
    let at: Vec<usize> = both.windows(8).enumerate().filter(|(_, w)| *w == claim).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 2, "the file's count and the row group's");
    let mut file_only = both.clone();
    file_only[at[1]..at[1] + 8].copy_from_slice(&[0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    for (name, bytes) in [("file", file_only), ("both", both)] {
        let snap = snapshot_with_members(&tmp.path().join(name), &bytes);
        let wh = tmp.path().join(format!("wh-{name}"));
        let started = Instant::now();
        let out = limited_memory_ingest(&snap, &wh);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(started.elapsed() < Duration::from_secs(20), "{name}: took {:?}", started.elapsed());
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("members.parquet") && stderr.contains("rows"), "{name}: {stderr}");
        assert!(!wh.join("_staging").exists(), "{name}: staging left behind");
    }
}

/// The binary with its address space limited to 1 GiB.
fn limited_memory_ingest(snapshot: &Path, warehouse: &Path) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reestr"));
    command.args(["ingest", "--snapshot", snapshot.to_str().unwrap(), "--warehouse", warehouse.to_str().unwrap()]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 1 << 30, rlim_max: 1 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().unwrap()
}

/// The same limit leaves room for an honest run: the test above measures
/// the claim, not a tight limit.
#[test]
fn an_honest_parquet_snapshot_runs_in_the_same_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let good = typed_parquet(&valid_snapshot()["members"], None);
    let snap = snapshot_with_members(tmp.path(), &good);
    let out = limited_memory_ingest(&snap, &tmp.path().join("wh"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A footer claiming a plausible number of rows its pages do not hold: the
/// rows that are there load, counted as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_footer_claiming_more_rows_than_its_pages_hold_loads_what_is_there() {
    let tmp = tempfile::tempdir().unwrap();
    let good = typed_parquet(&valid_snapshot()["members"], None);
    let snap = snapshot_with_members(tmp.path(), &lying_footer(&good, 1000));
    let wh = tmp.path().join("wh");
    match run_ingest(&snap, &wh).await {
        Ok(m) => assert!(balanced(&m) && m.tables["members"].rows_read <= 4, "{:?}", m.tables["members"]),
        Err(e) => assert!(e.is_user_error() && e.to_string().contains("members.parquet"), "{e}"),
    }
    assert!(!wh.join("_staging").exists());
}

/// A symlink loop beside the tables is not the contract's business: only the
/// snapshot's top level is read, and the loop is never followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_loop_beside_the_tables_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), PLAIN);
    std::os::unix::fs::symlink(".", snap.join("loop")).unwrap();
    std::fs::create_dir(snap.join("old")).unwrap();
    std::os::unix::fs::symlink("..", snap.join("old/up")).unwrap();
    let manifest = run_ingest(&snap, &tmp.path().join("wh")).await.unwrap();
    assert_eq!(manifest.tables["members"].rows_loaded, 4);

    let (code, stderr) = reestr_ingest(&snap, &tmp.path().join("wh2"));
    assert_eq!(code, 0, "{stderr}");
}

/// A table's file that is a symlink to itself (or to nothing) is the
/// input's problem: exit 2, naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_file_that_links_to_itself_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), PLAIN);
    std::fs::remove_file(snap.join("members.csv")).unwrap();
    std::os::unix::fs::symlink("members.csv", snap.join("members.csv")).unwrap();
    let wh = tmp.path().join("wh");
    let err = run_ingest(&snap, &wh).await.unwrap_err();
    assert!(err.is_user_error(), "{err}");
    assert!(err.to_string().contains("members.csv"), "{err}");
    let (code, stderr) = reestr_ingest(&snap, &tmp.path().join("wh2"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("members.csv") && !stderr.contains("not a problem with the input"), "{stderr}");

    std::fs::remove_file(snap.join("members.csv")).unwrap();
    std::os::unix::fs::symlink("nowhere/members.csv", snap.join("members.csv")).unwrap();
    let err = run_ingest(&snap, &wh).await.unwrap_err();
    assert!(err.is_user_error() && err.to_string().contains("members.csv"), "{err}");
    assert!(!wh.join("_staging").exists());
}

/// Two files for one table whose names differ only in case: neither is
/// picked silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_differing_only_in_case_are_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), AS_OF, &valid_snapshot(), PLAIN);
    std::fs::copy(snap.join("members.csv"), snap.join("MEMBERS.CSV")).unwrap();
    let err = run_ingest(&snap, &tmp.path().join("wh")).await.unwrap_err();
    assert!(err.is_user_error(), "{err}");
    let text = err.to_string();
    assert!(text.contains("members.csv") && text.contains("MEMBERS.CSV"), "{text}");
    let (code, stderr) = reestr_ingest(&snap, &tmp.path().join("wh2"));
    assert_eq!(code, 2, "{stderr}");
}

/// Ids in a Parquet BYTE_ARRAY column without the UTF8 annotation: text that
/// is valid loads, bytes that are not UTF-8 are rejected `bad_encoding`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_ids_that_are_not_utf8_are_rejected_bad_encoding() {
    let tmp = tempfile::tempdir().unwrap();
    let ids: Vec<&[u8]> = vec![b"M1", b"M\xFF2", b"M3", b"M4"];
    let bytes = typed_parquet(&valid_snapshot()["members"], Some(ids));
    let snap = snapshot_with_members(tmp.path(), &bytes);
    let wh = tmp.path().join("wh");
    let manifest = run_ingest(&snap, &wh).await.unwrap();
    let members = &manifest.tables["members"];
    assert_eq!((members.rows_read, members.rows_loaded, members.rows_rejected), (4, 3, 1), "{members:?}");
    let rejects = read_rejects(&wh, "members", AS_OF);
    let reject = rejects.iter().find(|r| r["file"] == "members.parquet").expect("a members reject");
    assert_eq!((reject["line"].as_str(), reject["column"].as_str()), ("2", "member_id"));
    assert_eq!(reject["reason"], "bad_encoding");
    assert_eq!(column_text(&read_table(&wh, "members", AS_OF), "member_id"), ["M1", "M3", "M4"]);
}
