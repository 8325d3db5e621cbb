//! Unattended operation, through the real binary: catch-up in date order, a
//! second catch-up doing nothing, a failed snapshot not blocking later ones,
//! the warehouse lock, SIGTERM, and kill -9 at every phase converging to the
//! result of an uninterrupted run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

fn config(dir: &Path, inbox: &Path, wh: &Path) -> PathBuf {
    let path = dir.join("reestr.toml");
    std::fs::write(
        &path,
        format!(
            "inbox = \"{}\"\nwarehouse = \"{}\"\nschedule = \"0 3 * * *\"\ntimezone = \"Europe/Moscow\"\nkeep_days = 400\n",
            inbox.display(),
            wh.display()
        ),
    )
    .unwrap();
    path
}

/// The run log's attempts as (date, status), in the order they were made.
fn attempts(wh: &Path) -> Vec<(String, String)> {
    let mut entries: Vec<(String, serde_json::Value)> = std::fs::read_dir(wh.join("runs/log"))
        .map(|d| {
            d.flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
        .into_iter()
        .map(|(_, v)| (v["as_of"].as_str().unwrap().to_string(), v["status"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn catch_up_processes_every_snapshot_in_date_order_once() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    // Written newest first: the order on disk is not the order of processing.
    for date in ["2023-11-21", "2023-11-19", "2023-11-20"] {
        write_snapshot(&inbox, date, &marts_snapshot(), PLAIN);
    }
    let config = config(tmp.path(), &inbox, &wh);

    let out = reestr().args(["schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        attempts(&wh),
        [("2023-11-19", "ok"), ("2023-11-20", "ok"), ("2023-11-21", "ok")].map(|(d, s)| (d.to_string(), s.to_string()))
    );
    assert!(wh.join("site/index.html").exists(), "the newest is published");
    let index = std::fs::read_to_string(wh.join("site/index.html")).unwrap();
    assert!(index.contains("21 ноября 2023"), "the site shows the newest snapshot");

    let again = reestr().args(["-q", "schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(again.status.success());
    assert_eq!(attempts(&wh).len(), 3, "a second catch-up does nothing");

    // A broken snapshot fails alone; the one after it is still processed.
    let broken = write_snapshot(&inbox, "2023-11-22", &marts_snapshot(), PLAIN);
    std::fs::remove_file(broken.join("members.csv")).unwrap();
    write_snapshot(&inbox, "2023-11-23", &marts_snapshot(), PLAIN);
    let out = reestr().args(["-q", "schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(!out.status.success(), "cron must hear of the failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2023-11-22") && stderr.contains("members"), "{stderr}");
    let log = attempts(&wh);
    assert_eq!(log[3], ("2023-11-22".to_string(), "failed".to_string()));
    assert_eq!(log[4], ("2023-11-23".to_string(), "ok".to_string()));
    let index = std::fs::read_to_string(wh.join("site/index.html")).unwrap();
    assert!(index.contains("23 ноября 2023"), "the newest good snapshot is published");

    let status = reestr().args(["status", "--config"]).arg(&config).output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(!status.status.success(), "status reports failures with its exit code");
    assert!(
        text.contains("Failing:") && text.contains("2023-11-22") && text.contains("Pending:   2023-11-22"),
        "{text}"
    );
    assert!(text.contains("Next run:") && text.contains("MSK"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_concurrent_run_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let snap = write_snapshot(tmp.path(), D, &marts_snapshot(), PLAIN);
    let location = reestr::warehouse::Location::open(wh.to_str().unwrap(), reestr::warehouse::Missing::Create).unwrap();
    let held = reestr::nightly::WarehouseLock::acquire(&location, reestr::clock::system()).await.unwrap();
    let out = reestr().args(["run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("in use by") && stderr.contains("wait for that run"), "{stderr}");
    assert!(!wh.join("registry").exists(), "nothing was written");
    drop(held);
    let out = reestr().args(["-q", "run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Only the lock holder touches staging: commands refused by the lock, and
/// readers (`sql`, `status`), leave a running run's staging alone, and the
/// lock file stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_without_the_lock_leave_a_running_runs_staging_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    let snap = write_snapshot(&inbox, D, &marts_snapshot(), PLAIN);
    let config = config(tmp.path(), &inbox, &wh);
    let location = reestr::warehouse::Location::open(wh.to_str().unwrap(), reestr::warehouse::Missing::Create).unwrap();
    let held = reestr::nightly::WarehouseLock::acquire(&location, reestr::clock::system()).await.unwrap();
    let staged = wh.join("_staging/20261203T020000Z-ingest-2023-11-21-1/registry/members/part.parquet");
    std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
    std::fs::write(&staged, b"a running run's file").unwrap();

    let refused: [&[&str]; 3] = [
        &["run", "--snapshot", snap.to_str().unwrap(), "--warehouse", wh.to_str().unwrap()],
        &["schedule", "--once", "--config", config.to_str().unwrap()],
        &["unlock", "--warehouse", wh.to_str().unwrap()],
    ];
    for args in refused {
        let out = reestr().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&std::process::id().to_string()), "{args:?} names the holder: {stderr}");
    }
    let _ = reestr().args(["sql", "--warehouse", wh.to_str().unwrap(), "SELECT 1"]).output().unwrap();
    let _ = reestr().args(["status", "--config", config.to_str().unwrap()]).output().unwrap();
    assert_eq!(std::fs::read(&staged).unwrap(), b"a running run's file", "staging untouched");
    assert_eq!(std::fs::metadata(wh.join("_lock")).unwrap().len(), 0, "the lock file is never written");
    drop(held);
    let out = reestr().args(["unlock", "--warehouse", wh.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("not locked"));
}

/// A command that fails before anything is written leaves no warehouse
/// folder it created, and `status` of a warehouse not created yet does not
/// create it.
#[test]
fn a_failed_first_run_leaves_no_warehouse_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let snap = tmp.path().join("export");
    let out = reestr().args(["run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!wh.exists(), "the warehouse folder the failed run created is gone");

    let config = config(tmp.path(), tmp.path(), &wh);
    let out = reestr().args(["status", "--config", config.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!wh.exists(), "status only reads");
}

/// An inbox with a symlink loop and a link to itself beside the snapshot
/// folders: those entries are skipped, the snapshots processed.
#[cfg(unix)]
#[test]
fn links_in_the_inbox_that_lead_nowhere_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    write_snapshot(&inbox, D, &marts_snapshot(), PLAIN);
    std::os::unix::fs::symlink(".", inbox.join("loop")).unwrap();
    std::os::unix::fs::symlink("self", inbox.join("self")).unwrap();
    let config = config(tmp.path(), &inbox, &wh);
    let out = reestr().args(["-q", "schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(attempts(&wh), [(D.to_string(), "ok".to_string())]);
}

/// Every mart CSV of the warehouse, by path.
fn mart_csvs(wh: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(&wh.join("marts")).into_iter().filter(|(name, _)| name.ends_with(".csv")).collect()
}

/// Starts `run` and kills it (SIGKILL) once its log shows `line`.
fn run_killed_at(snapshot: &Path, wh: &Path, line: &str) -> bool {
    let mut child = reestr()
        .args(["run", "--snapshot"])
        .arg(snapshot)
        .arg("--warehouse")
        .arg(wh)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = false;
    for l in BufReader::new(stderr).lines().map_while(Result::ok) {
        if l.contains(line) {
            seen = true;
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    seen
}

#[test]
fn killed_runs_converge_to_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    let snapshots = tmp.path().join("snapshots");
    let out = reestr()
        .args(["-q", "generate", "--scale", "0.02", "--as-of", D, "--out"])
        .arg(snapshots.join(D))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snap = snapshots.join(D);

    // The reference: one uninterrupted run, then the same again (idempotent).
    let reference = tmp.path().join("reference");
    for _ in 0..2 {
        let out =
            reestr().args(["-q", "run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&reference).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let expected = mart_csvs(&reference);
    assert_eq!(expected.len(), reestr::compute::MARTS.len(), "exactly one CSV per mart after two runs");

    for phase in ["ingesting snapshot", "computing marts", "publishing"] {
        let wh = tmp.path().join(format!("killed-{}", phase.replace(' ', "-")));
        assert!(run_killed_at(&snap, &wh, phase), "the run never logged «{phase}»");
        // Whatever was published is whole.
        if wh.join("site").exists() {
            assert!(wh.join("site/index.html").exists(), "{phase}: a site without its index");
        }
        let out = reestr().args(["-q", "run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap();
        assert!(out.status.success(), "{phase}: rerun failed: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(mart_csvs(&wh), expected, "{phase}: the marts equal an uninterrupted run's");
        assert!(wh.join("site/index.html").exists());
        let leftovers: Vec<_> = std::fs::read_dir(&wh).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(leftovers.iter().all(|n| !n.to_string_lossy().starts_with(".publish-")), "{phase}: {leftovers:?}");
    }
}

/// `reestr run`, sent SIGTERM once its log shows `line`: how it exited, and
/// what it logged after.
fn run_stopped_at(snapshot: &Path, wh: &Path, line: &str) -> (std::process::ExitStatus, Vec<String>) {
    let mut child = reestr()
        .args(["run", "--snapshot"])
        .arg(snapshot)
        .arg("--warehouse")
        .arg(wh)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    assert!(lines.by_ref().any(|l| l.contains(line)), "the run never logged «{line}»");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = lines.collect();
    (child.wait().unwrap(), rest)
}

#[test]
fn sigterm_stops_a_run_at_a_safe_point() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join(D);
    let out = reestr().args(["-q", "generate", "--scale", "0.05", "--as-of", D, "--out"]).arg(&snap).output().unwrap();
    assert!(out.status.success());
    let wh = tmp.path().join("wh");
    let (status, rest) = run_stopped_at(&snap, &wh, "ingesting snapshot");
    assert_eq!(status.code(), Some(reestr::error::EXIT_STOPPED as i32), "stopped on request: {rest:#?}");
    assert!(rest.iter().any(|l| l.contains("stop")), "{rest:#?}");
    assert!(!wh.join("site").exists() || wh.join("site/index.html").exists());
    assert_eq!(attempts(&wh), [(D.to_string(), "interrupted".to_string())], "the run log says it was stopped");
}

/// A stop between steps (after the marts, before publishing) exits with the
/// same code as one in the middle of ingest.
#[test]
fn a_stop_between_steps_exits_like_a_stop_in_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), D, &marts_snapshot(), PLAIN);
    let wh = tmp.path().join("wh");
    // Stopped as the marts are being computed: compute finishes, publish does not start.
    let (status, rest) = run_stopped_at(&snap, &wh, "computing marts");
    assert_eq!(status.code(), Some(reestr::error::EXIT_STOPPED as i32), "{rest:#?}");
    assert!(!wh.join("site").exists(), "nothing published after the stop: {rest:#?}");
}

/// The scheduler on a clock the test moves: nothing happens before the
/// firing time, the catch-up runs once the clock passes it, and a stop
/// request ends the loop with the stop error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_fires_when_its_clock_reaches_the_schedule() {
    use chrono::TimeZone;
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    write_snapshot(&inbox, D, &marts_snapshot(), PLAIN);
    // 03:00 Moscow time is 00:00 UTC.
    let config = reestr::nightly::Config::load(Some(&config(tmp.path(), &inbox, &wh))).unwrap();
    let clock = reestr::clock::ManualClock::at(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 23, 59, 0).unwrap());
    let stop = reestr::stop::StopToken::new();
    let scheduler = tokio::spawn({
        let (clock, stop) = (std::sync::Arc::new(clock.clone()), stop.clone());
        async move { reestr::nightly::run_forever(&config, clock, stop).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(attempts(&wh).is_empty(), "fired before its time");
    clock.advance(chrono::Duration::minutes(2));
    for _ in 0..300 {
        if wh.join("site/index.html").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(attempts(&wh), [(D.to_string(), "ok".to_string())]);
    assert!(wh.join("site/index.html").exists(), "the catch-up published");
    let entry = std::fs::read_dir(wh.join("runs/log")).unwrap().flatten().next().unwrap().file_name();
    assert!(entry.to_string_lossy().starts_with("20261202T0001"), "stamped by the clock: {entry:?}");
    stop.request();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), scheduler).await.expect("stops").unwrap();
    assert!(ended.is_err_and(|e| e.is_stop()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_registry_partitions_are_pruned_and_marts_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = ingest_c_and_d(tmp.path()).await;
    compute_mart(&wh, C, "national").await;
    let warehouse = reestr::warehouse::Warehouse::open(wh.to_str().unwrap()).unwrap();
    let d = chrono::NaiveDate::parse_from_str(D, "%Y-%m-%d").unwrap();
    // C is 365 days before D: kept at 400 days, pruned at 300.
    assert!(reestr::nightly::prune(&warehouse, d, 400).await.unwrap().is_empty());
    let pruned = reestr::nightly::prune(&warehouse, d, 300).await.unwrap();
    assert_eq!(pruned.iter().map(|p| p.to_string()).collect::<Vec<_>>(), [C]);
    assert!(!wh.join(format!("registry/members/as_of={C}")).exists());
    assert!(wh.join(format!("registry/members/as_of={D}")).exists());
    assert!(wh.join(format!("marts/national/as_of={C}/national.csv")).exists(), "marts are history: kept");
}

/// `schedule` without `--once` fires on its cron expression (here every
/// second), catches up, and stops on SIGTERM.
#[test]
fn the_scheduler_fires_on_its_schedule_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    write_snapshot(&inbox, D, &marts_snapshot(), PLAIN);
    let config = tmp.path().join("reestr.toml");
    std::fs::write(
        &config,
        format!(
            "inbox = \"{}\"\nwarehouse = \"{}\"\nschedule = \"* * * * * *\"\ntimezone = \"UTC\"\n",
            inbox.display(),
            wh.display()
        ),
    )
    .unwrap();
    let mut child = reestr()
        .args(["schedule", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let seen: Vec<String> = lines.by_ref().take_while(|l| !l.contains("run finished")).collect();
    assert!(seen.iter().any(|l| l.contains("next run at")), "{seen:#?}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = lines.collect();
    assert!(!child.wait().unwrap().success(), "stopped, not finished: {rest:#?}");
    assert_eq!(attempts(&wh), [(D.to_string(), "ok".to_string())]);
    assert!(wh.join("site/index.html").exists());
}
