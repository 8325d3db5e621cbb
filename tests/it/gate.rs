//! The gate, through the real binary: a snapshot with half the members is
//! held (the site stays on the last good date, the command exits 3 naming the
//! rule and its figures, `status` says so) until `publish --accept`, whose
//! reason and author reach the run log and the pages; the first snapshot
//! passes and says so; a share of rejected rows above the limit holds a date,
//! and the next date is compared with the last good one, not the held one.

use std::path::Path;
use std::process::Output;

use crate::common::*;

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The run log's entries, in the order they were made.
fn run_log(wh: &Path) -> Vec<serde_json::Value> {
    let mut entries: Vec<(String, serde_json::Value)> = std::fs::read_dir(wh.join("runs/log"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap(),
            )
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().map(|(_, v)| v).collect()
}

fn statuses(wh: &Path) -> Vec<(String, String)> {
    run_log(wh)
        .iter()
        .map(|v| (v["as_of"].as_str().unwrap().to_string(), v["status"].as_str().unwrap().to_string()))
        .collect()
}

fn site_date(wh: &Path) -> String {
    let build: serde_json::Value = serde_json::from_slice(&std::fs::read(wh.join("site/build.json")).unwrap()).unwrap();
    build["as_of"].as_str().unwrap().to_string()
}

/// `reestr sql` over the warehouse, one value as text (CSV, header skipped).
fn sql_value(wh: &Path, as_of: &str, query: &str) -> String {
    let out =
        reestr().args(["sql", "--format", "csv", "--as-of", as_of, "--warehouse"]).arg(wh).arg(query).output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    text(&out).0.lines().nth(1).unwrap_or_default().to_string()
}

#[test]
fn a_snapshot_with_half_the_members_is_held_until_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    let wh = tmp.path().join("wh");
    for date in ["2023-11-19", "2023-11-20", "2023-11-21"] {
        let out = reestr()
            .args(["-q", "generate", "--scale", "0.01", "--as-of", date, "--out"])
            .arg(inbox.join(date))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
    }
    // The third snapshot lost every other member row (one record a line in
    // a generated export): a half-exported file.
    let members = inbox.join("2023-11-21/members.csv");
    let all = std::fs::read_to_string(&members).unwrap();
    let half: Vec<&str> = all.lines().enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, l)| l).collect();
    std::fs::write(&members, half.join("\n") + "\n").unwrap();
    let config = tmp.path().join("reestr.toml");
    std::fs::write(&config, format!("inbox = \"{}\"\nwarehouse = \"{}\"\n", inbox.display(), wh.display())).unwrap();

    let out = reestr().args(["schedule", "--once", "--config"]).arg(&config).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "held: exit 3\n{stderr}");
    assert_eq!(
        statuses(&wh),
        [("2023-11-19", "ok"), ("2023-11-20", "ok"), ("2023-11-21", "held")].map(|(d, s)| (d.into(), s.into()))
    );
    assert_eq!(site_date(&wh), "2023-11-20", "the site stays on the last good date");
    let index = std::fs::read_to_string(wh.join("site/index.html")).unwrap();
    assert!(index.contains("20 ноября 2023") && !index.contains("опубликован вручную"));
    assert!(!wh.join("exports/2023-11-21").exists() && !wh.join("briefings/2023-11-21").exists());

    // The message names the rule with the held date's own figures, which
    // `reestr sql` finds in its marts (kept, to be looked at).
    let before = sql_value(&wh, "2023-11-20", "SELECT members FROM national");
    let after = sql_value(&wh, "2023-11-21", "SELECT members FROM national");
    let (before, after): (i64, i64) = (before.parse().unwrap(), after.parse().unwrap());
    assert!((after * 2 - before).abs() < before / 50, "about half: {before} → {after}");
    let ru = reestr::publish::russian::Russian::new();
    let figures = format!("members fell from {} to {}, \u{2212}", ru.integer(before), ru.integer(after));
    assert!(stderr.contains("the snapshot of 2023-11-21 is held by the gate") && stderr.contains(&figures), "{stderr}");
    assert!(stderr.contains("--as-of 2023-11-21 --accept"), "says how to accept: {stderr}");
    let held = &run_log(&wh)[2]["gate"];
    assert_eq!(held["outcome"], "held");
    assert_eq!(held["compared_with"], "2023-11-20");
    assert_eq!(held["rules"][0]["rule"], "members_drop");
    assert_eq!(held["rules"][0]["before"], before);
    assert_eq!(held["rules"][0]["after"], after);
    assert!(held["rules"].as_array().unwrap().iter().any(|r| r["rule"] == "region_members_drop"));

    let status = reestr().args(["status", "--config"]).arg(&config).output().unwrap();
    let (stdout, _) = text(&status);
    assert_eq!(status.status.code(), Some(3), "the newest snapshot is held\n{stdout}");
    assert!(stdout.contains("Held by the gate") && stdout.contains("2023-11-21 against 2023-11-20"), "{stdout}");
    assert!(stdout.contains(&format!("members_drop: {figures}")), "status names the rule: {stdout}");
    assert!(stdout.contains("HELD"), "{stdout}");

    // Held is processed: the next night does not retry it.
    let again = reestr().args(["-q", "schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(again.status.success(), "{}", text(&again).1);
    assert_eq!(run_log(&wh).len(), 3);

    // Publishing it without accepting is refused, saying how.
    let refused = reestr().args(["publish", "--as-of", "2023-11-21", "--warehouse"]).arg(&wh).output().unwrap();
    assert_eq!(refused.status.code(), Some(3));
    assert!(text(&refused).1.contains("--accept"), "{}", text(&refused).1);
    assert_eq!(site_date(&wh), "2023-11-20");

    // Accepted on purpose: run log, provenance, and the site moves on.
    let reason = "Половина <b>членов</b> выбыла";
    let accepted = reestr()
        .env("USER", "operator7")
        .args(["publish", "--as-of", "2023-11-21", "--accept", reason, "--warehouse"])
        .arg(&wh)
        .output()
        .unwrap();
    assert!(accepted.status.success(), "{}", text(&accepted).1);
    assert_eq!(site_date(&wh), "2023-11-21");
    let log = run_log(&wh);
    let record = log.last().unwrap();
    assert_eq!(record["status"], "accepted");
    assert_eq!(record["accepted"]["reason"], reason);
    assert_eq!(record["accepted"]["user"], "operator7");
    assert!(!record["accepted"]["host"].as_str().unwrap().is_empty());
    assert_eq!(record["gate"]["rules"][0]["rule"], "members_drop", "the acceptance keeps what it overrode");
    for page in ["index.html", "regions/23.html"] {
        let html = std::fs::read_to_string(wh.join("site").join(page)).unwrap();
        assert!(html.contains("21 ноября 2023"), "{page}");
        assert!(
            html.contains("опубликован вручную: «Половина &lt;b&gt;членов&lt;&#x2f;b&gt; выбыла» — operator7@")
                || html.contains("опубликован вручную: «Половина &lt;b&gt;членов&lt;/b&gt; выбыла» — operator7@"),
            "{page}: the provenance says who accepted it and why, escaped:\n{}",
            visible_text(&html)
        );
    }
    let build: serde_json::Value = serde_json::from_slice(&std::fs::read(wh.join("site/build.json")).unwrap()).unwrap();
    assert_eq!(build["accepted"]["reason"], reason);

    let status = reestr().args(["status", "--config"]).arg(&config).output().unwrap();
    let (stdout, _) = text(&status);
    assert!(status.status.success(), "nothing held any more\n{stdout}");
    assert!(stdout.contains("accepted by operator7@") && !stdout.contains("Held by the gate"), "{stdout}");
    // Accepted is good: a later catch-up keeps it published.
    let again = reestr().args(["-q", "schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(again.status.success());
    assert_eq!(site_date(&wh), "2023-11-21");

    // Accepting a date that is not held is refused (nothing to accept).
    let pointless = reestr()
        .args(["publish", "--as-of", "2023-11-20", "--accept", "why not", "--warehouse"])
        .arg(&wh)
        .output()
        .unwrap();
    assert_eq!(pointless.status.code(), Some(2));
    assert!(text(&pointless).1.contains("not held"), "{}", text(&pointless).1);
}

#[test]
fn the_first_snapshot_passes_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let snap = write_snapshot(tmp.path(), "2023-11-20", &marts_snapshot(), PLAIN);
    let out = reestr().args(["run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap();
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("first snapshot of the warehouse, nothing to compare with"), "{stderr}");
    let gate = &run_log(&wh)[0]["gate"];
    assert_eq!(gate["outcome"], "passed");
    assert!(gate["compared_with"].is_null());
    assert_eq!(site_date(&wh), "2023-11-20");

    // The same snapshot a day later: compared, nothing fired.
    let snap = write_snapshot(tmp.path(), "2023-11-21", &marts_snapshot(), PLAIN);
    let out = reestr().args(["run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let gate = &run_log(&wh)[1]["gate"];
    assert_eq!(gate["outcome"], "passed");
    assert_eq!(gate["compared_with"], "2023-11-20");
    assert_eq!(gate["summary"], "passed: no rule fired against 2023-11-20");
}

#[test]
fn too_many_rejected_rows_hold_a_date_and_the_next_is_compared_with_the_last_good_one() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = tmp.path().join("wh");
    let run = |date: &str, tables: &std::collections::BTreeMap<&'static str, Rows>| {
        let snap = write_snapshot(tmp.path(), date, tables, PLAIN);
        reestr().args(["run", "--snapshot"]).arg(&snap).arg("--warehouse").arg(&wh).output().unwrap()
    };
    assert!(run("2023-11-19", &marts_snapshot()).status.success());

    // Two broken member rows: 2 of the snapshot's 29 rows rejected, 6,9 %,
    // over the 5 % limit.
    let mut broken = marts_snapshot();
    let members = broken.get_mut("members").unwrap();
    for id in ["M98", "M99"] {
        let mut bad = members.rows[0].clone();
        bad[0] = id.into();
        bad[3] = "not a date".into();
        members.rows.push(bad);
    }
    let out = run("2023-11-20", &broken);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the snapshot rejected 2 of 29 rows read, 6,9\u{a0}% (limit 5\u{a0}%)"), "{stderr}");
    assert_eq!(site_date(&wh), "2023-11-19", "`run` leaves the site on the last good date");
    assert_eq!(run_log(&wh)[1]["gate"]["rules"][0]["rule"], "rejected_rows");

    // The next snapshot lost its official report and its report rows: it is
    // compared with the 19th (the 20th is held, not good).
    let mut gone = marts_snapshot();
    gone.get_mut("official_stats").unwrap().rows.clear();
    gone.get_mut("stat_reports").unwrap().rows.clear();
    let out = run("2023-11-21", &gone);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let gate = &run_log(&wh)[2]["gate"];
    assert_eq!(gate["compared_with"], "2023-11-19");
    let fired: Vec<(&str, &str)> = gate["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rule"].as_str().unwrap(), r["scope"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fired,
        [
            ("table_rows_drop", "official_stats"),
            ("table_rows_drop", "stat_reports"),
            ("official_report_vanished", "national")
        ],
        "{gate}"
    );
    assert!(
        gate["rules"][2]["message"] == "the official report of 2023-01-01 (5 members) is missing from the snapshot",
        "{gate}"
    );
    assert_eq!(site_date(&wh), "2023-11-19");

    // With the gate off in reestr.toml, the scheduler publishes unchecked.
    let inbox = tmp.path().join("inbox");
    write_snapshot(&inbox, "2023-11-22", &gone, PLAIN);
    let config = tmp.path().join("reestr.toml");
    std::fs::write(
        &config,
        format!("inbox = \"{}\"\nwarehouse = \"{}\"\n[gate]\nenabled = false\n", inbox.display(), wh.display()),
    )
    .unwrap();
    let out = reestr().args(["schedule", "--once", "--config"]).arg(&config).output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(run_log(&wh)[3]["gate"]["outcome"], "off");
    assert_eq!(site_date(&wh), "2023-11-22");
}
