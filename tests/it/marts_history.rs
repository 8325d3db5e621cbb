//! The quarterly marts on a hand-made warehouse of several dates: the marts
//! of the earlier dates are written by hand (as an earlier compute would have
//! left them, some as an older reestr did), D's are computed from
//! `marts_snapshot()`; every expected value is worked out by hand.
//!
//! Dates, quarter ends (the first quarter start on or after the date), and
//! what region 23 (SFD) has in history_kpis:
//!
//! | date       | quarter    | members | coverage | note                          |
//! |------------|------------|---------|----------|-------------------------------|
//! | 2022-11-21 | 2023-01-01 | 1       | 10.0     | not the quarter's latest      |
//! | 2022-12-20 | 2023-01-01 | 3       | 60.0     | no primary_no_inn check yet   |
//! | 2023-03-15 | 2023-04-01 | 5 → 7   | 62.5     | recomputed later              |
//! | 2023-06-30 | 2023-07-01 | 0       | null     | the region has no data        |
//! | 2023-10-01 | 2023-10-01 | 6       | 75.0     | a quarter end counts as its own |
//! | 2023-11-21 | 2024-01-01 | 4       | 80.0     | D, computed; quarter running  |
//! | 2023-12-01 | 2024-01-01 | 99      | 99.0     | after D: never read           |

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use reestr::compute::{ComputeRequest, compute};
use reestr::contract::values::{days_from_date, parse_iso_date};
use reestr::warehouse::Warehouse;

use crate::common::*;

/// One region-23 row and one national row of history_kpis for `date`.
fn write_kpis(wh: &Path, date: &str, national_members: i64, members: i64, coverage: Option<f64>) {
    let day = days_from_date(parse_iso_date(date).unwrap());
    let batch = RecordBatch::try_from_iter(vec![
        ("as_of", Arc::new(Date32Array::from(vec![day, day])) as ArrayRef),
        ("scope", Arc::new(StringArray::from(vec!["national", "region"])) as ArrayRef),
        ("federal_district", Arc::new(StringArray::from(vec![None, Some("SFD")])) as ArrayRef),
        ("region_code", Arc::new(StringArray::from(vec![None, Some("23")])) as ArrayRef),
        ("members", Arc::new(Int64Array::from(vec![national_members, members])) as ArrayRef),
        // An older file: coverage kept as the mart had it, the other KPIs missing.
        ("coverage_pct", Arc::new(Float64Array::from(vec![Some(50.0), coverage])) as ArrayRef),
    ])
    .unwrap();
    write_mart(wh, "history_kpis", date, &batch);
}

/// Region 23's rows of two checks of data_quality for `date`: (affected,
/// population) of primary_no_chair and, when given, of primary_no_inn.
fn write_quality(wh: &Path, date: &str, no_chair: (i64, i64), no_inn: Option<(i64, i64)>) {
    let day = days_from_date(parse_iso_date(date).unwrap());
    let mut rows = vec![("primary_no_chair", no_chair)];
    rows.extend(no_inn.map(|v| ("primary_no_inn", v)));
    let n = rows.len();
    let pct = |(a, p): (i64, i64)| (p > 0).then(|| 100.0 * a as f64 / p as f64);
    let batch = RecordBatch::try_from_iter(vec![
        ("as_of", Arc::new(Date32Array::from(vec![day; n])) as ArrayRef),
        ("check", Arc::new(StringArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())) as ArrayRef),
        ("scope", Arc::new(StringArray::from(vec!["region"; n])) as ArrayRef),
        ("region_code", Arc::new(StringArray::from(vec!["23"; n])) as ArrayRef),
        ("unit", Arc::new(StringArray::from(vec!["organizations"; n])) as ArrayRef),
        ("affected", Arc::new(Int64Array::from(rows.iter().map(|r| r.1.0).collect::<Vec<_>>())) as ArrayRef),
        ("population", Arc::new(Int64Array::from(rows.iter().map(|r| r.1.1).collect::<Vec<_>>())) as ArrayRef),
        ("affected_pct", Arc::new(Float64Array::from(rows.iter().map(|r| pct(r.1)).collect::<Vec<_>>())) as ArrayRef),
        // Written before data_quality had district rows: no federal_district column.
    ])
    .unwrap();
    write_mart(wh, "data_quality", date, &batch);
}

fn write_mart(wh: &Path, mart: &str, date: &str, batch: &RecordBatch) {
    let folder = wh.join(format!("marts/{mart}/as_of={date}"));
    std::fs::create_dir_all(&folder).unwrap();
    let file = std::fs::File::create(folder.join(format!("{mart}.parquet"))).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

async fn compute_d(wh: &Path, leave_out: &[&str]) {
    let warehouse = Warehouse::open(&wh.to_string_lossy()).unwrap();
    let request = ComputeRequest {
        as_of: parse_iso_date(D).unwrap(),
        dates: Default::default(),
        leave_out: leave_out.iter().map(|d| parse_iso_date(d).unwrap()).collect(),
    };
    compute(&warehouse, &request, reestr::clock::system().as_ref()).await.unwrap();
}

/// The rows of `mart` at D for one scope code (region or national), by quarter end.
fn rows_of(b: &RecordBatch, scope: &str, code: Option<&str>, check: Option<&str>) -> Vec<(String, usize)> {
    let scopes = column_text(b, "scope");
    let regions = column_text(b, "region_code");
    let quarters = column_text(b, if b.column_by_name("quarter_end").is_some() { "quarter_end" } else { "as_of" });
    let checks = check.map(|_| column_text(b, "check"));
    (0..b.num_rows())
        .filter(|&i| scopes[i] == scope && regions[i] == code.unwrap_or("∅"))
        .filter(|&i| checks.as_ref().is_none_or(|c| Some(c[i].as_str()) == check))
        .map(|i| (quarters[i].clone(), i))
        .collect()
}

async fn warehouse(dir: &Path) -> std::path::PathBuf {
    let wh = dir.join("wh");
    let snap = write_snapshot(dir, D, &marts_snapshot(), PLAIN);
    run_ingest(&snap, &wh).await.unwrap();
    write_kpis(&wh, "2022-11-21", 100, 1, Some(10.0));
    write_kpis(&wh, "2022-12-20", 10, 3, Some(60.0));
    write_kpis(&wh, "2023-03-15", 12, 5, Some(62.5));
    write_kpis(&wh, "2023-06-30", 8, 0, None);
    write_kpis(&wh, "2023-10-01", 6, 6, Some(75.0));
    write_kpis(&wh, "2023-12-01", 99, 99, Some(99.0));
    write_quality(&wh, "2022-11-21", (4, 4), Some((4, 4)));
    write_quality(&wh, "2022-12-20", (0, 4), None);
    write_quality(&wh, "2023-03-15", (2, 4), Some((0, 4)));
    write_quality(&wh, "2023-06-30", (0, 0), Some((0, 0)));
    write_quality(&wh, "2023-10-01", (4, 4), Some((1, 4)));
    write_quality(&wh, "2023-12-01", (0, 9), Some((0, 9)));
    wh
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarterly_kpis_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    compute_d(&wh, &[]).await;

    // history_kpis at D: D's own rows, one per scope, as D's marts have them.
    let h = read_mart(&wh, "history_kpis", D);
    assert_eq!(h.num_rows(), 1 + 8 + 85);
    let r23 = rows_of(&h, "region", Some("23"), None);
    assert_eq!(r23.len(), 1);
    assert_eq!(int(&h, "members", r23[0].1), Some(4));
    assert!(close(pct(&h, "coverage_pct", r23[0].1), 80.0));
    assert!(close(pct(&h, "primary_auto_reports_pct", r23[0].1), 75.0));
    assert_eq!(column_text(&h, "report_period")[0], "2023-10-01");

    let q = read_mart(&wh, "quarterly_kpis", D);
    let r23 = rows_of(&q, "region", Some("23"), None);
    let quarters: Vec<&str> = r23.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(quarters, ["2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01"]);
    let at = |quarter: &str| r23.iter().find(|(q, _)| q == quarter).unwrap().1;
    let dates: Vec<String> = r23.iter().map(|(_, i)| column_text(&q, "snapshot_as_of")[*i].clone()).collect();
    assert_eq!(dates, ["2022-12-20", "2023-03-15", "2023-06-30", "2023-10-01", D]);
    // as_of is D on every row, as in every mart (`reestr sql --as-of D`).
    assert_eq!(q.schema().field(0).name(), "as_of");
    assert!(column_text(&q, "as_of").iter().all(|d| d == D));
    let complete: Vec<String> = r23.iter().map(|(_, i)| column_text(&q, "complete")[*i].clone()).collect();
    assert_eq!(complete, ["true", "true", "true", "true", "false"]);
    assert_eq!(int(&q, "quarter_year", at("2024-01-01")), Some(2023));
    assert_eq!(int(&q, "quarter", at("2024-01-01")), Some(4));
    assert_eq!(int(&q, "quarter", at("2023-01-01")), Some(4));
    assert_eq!(int(&q, "quarter_year", at("2023-01-01")), Some(2022));

    // members: 3, 5, 0, 6, 4.
    let members: Vec<Option<i64>> = r23.iter().map(|(_, i)| int(&q, "members", *i)).collect();
    assert_eq!(members, [Some(3), Some(5), Some(0), Some(6), Some(4)]);
    let change_q: Vec<Option<i64>> = r23.iter().map(|(_, i)| int(&q, "members_change_quarter", *i)).collect();
    // No quarter before the first; 5 − 3; 0 − 5; 6 − 0; 4 − 6.
    assert_eq!(change_q, [None, Some(2), Some(-5), Some(6), Some(-2)]);
    let change_y: Vec<Option<i64>> = r23.iter().map(|(_, i)| int(&q, "members_change_year", *i)).collect();
    // Only D's quarter has one a year before: 4 − 3.
    assert_eq!(change_y, [None, None, None, None, Some(1)]);
    // coverage: 62.5 − 60; null at the quarter without data and after it; 80 − 75; 80 − 60.
    assert!(close(pct(&q, "coverage_pct_change_quarter", at("2023-04-01")), 2.5));
    assert_eq!(pct(&q, "coverage_pct_change_quarter", at("2023-07-01")), None);
    assert_eq!(pct(&q, "coverage_pct_change_quarter", at("2023-10-01")), None);
    assert!(close(pct(&q, "coverage_pct_change_quarter", at("2024-01-01")), 5.0));
    assert!(close(pct(&q, "coverage_pct_change_year", at("2024-01-01")), 20.0));
    // A column the older files lack is null there, D's is its own.
    assert_eq!(pct(&q, "primary_auto_reports_pct", at("2023-10-01")), None);
    assert!(close(pct(&q, "primary_auto_reports_pct", at("2024-01-01")), 75.0));
    assert_eq!(pct(&q, "primary_auto_reports_pct_change_quarter", at("2024-01-01")), None);

    // The union's rows pick the same dates: members 10, 12, 8, 6 and D's.
    let national = rows_of(&q, "national", None, None);
    let members: Vec<Option<i64>> = national.iter().map(|(_, i)| int(&q, "members", *i)).collect();
    assert_eq!(members, [Some(10), Some(12), Some(8), Some(6), Some(4)]);

    // 2023-03-15 recomputed (7 members now), then D again: the new figures,
    // once.
    write_kpis(&wh, "2023-03-15", 12, 7, Some(70.0));
    compute_d(&wh, &[]).await;
    let q = read_mart(&wh, "quarterly_kpis", D);
    let r23 = rows_of(&q, "region", Some("23"), None);
    assert_eq!(r23.len(), 5);
    let spring = r23.iter().find(|(q, _)| q == "2023-04-01").unwrap().1;
    assert_eq!(int(&q, "members", spring), Some(7));
    assert_eq!(int(&q, "members_change_quarter", spring), Some(4));

    // A date the gate held is left out: 2023-10-01's quarter has no snapshot,
    // so D's quarter has nothing to compare with.
    compute_d(&wh, &["2023-10-01"]).await;
    let q = read_mart(&wh, "quarterly_kpis", D);
    let r23 = rows_of(&q, "region", Some("23"), None);
    let quarters: Vec<&str> = r23.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(quarters, ["2023-01-01", "2023-04-01", "2023-07-01", "2024-01-01"]);
    assert_eq!(int(&q, "members_change_quarter", r23[3].1), None);
    assert_eq!(int(&q, "members_change_year", r23[3].1), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarterly_quality_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let wh = warehouse(tmp.path()).await;
    compute_d(&wh, &[]).await;

    // D's own figures, as data_quality computes them from marts_snapshot():
    // 4 active primary organizations at D, each with a chair and an INN.
    let q = read_mart(&wh, "quarterly_quality", D);
    let chair = rows_of(&q, "region", Some("23"), Some("primary_no_chair"));
    let quarters: Vec<&str> = chair.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(quarters, ["2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01"]);
    // Each quarter by its snapshot; as_of is D on every row.
    let dates: Vec<String> = chair.iter().map(|(_, i)| column_text(&q, "snapshot_as_of")[*i].clone()).collect();
    assert_eq!(dates, ["2022-12-20", "2023-03-15", "2023-06-30", "2023-10-01", D]);
    assert_eq!(q.schema().field(0).name(), "as_of");
    assert!(column_text(&q, "as_of").iter().all(|d| d == D));
    let d = chair[4].1;
    assert_eq!((int(&q, "affected", d), int(&q, "population", d)), (Some(0), Some(4)));
    assert!(close(pct(&q, "affected_pct", d), 0.0));
    // Against 2023-10-01 (4 of 4): −4, −100 points, improved.
    assert_eq!(int(&q, "affected_prev_quarter", d), Some(4));
    assert_eq!(int(&q, "affected_change_quarter", d), Some(-4));
    assert!(close(pct(&q, "affected_pct_change_quarter", d), -100.0));
    assert_eq!(column_text(&q, "trend_quarter")[d], "improved");
    // Against 2022-12-20 (0 of 4): no change, unchanged.
    assert_eq!(int(&q, "affected_change_year", d), Some(0));
    assert!(close(pct(&q, "affected_pct_change_year", d), 0.0));
    assert_eq!(column_text(&q, "trend_year")[d], "unchanged");
    // 2023-04-01 (2 of 4) against 2023-01-01 (0 of 4): worsened by 50 points.
    let spring = chair[1].1;
    assert!(close(pct(&q, "affected_pct_change_quarter", spring), 50.0));
    assert_eq!(column_text(&q, "trend_quarter")[spring], "worsened");
    // 2023-07-01 had no data (0 of 0): no share, no trend either side of it.
    assert_eq!(pct(&q, "affected_pct", chair[2].1), None);
    assert_eq!(column_text(&q, "trend_quarter")[chair[2].1], "∅");
    assert_eq!(column_text(&q, "trend_quarter")[chair[3].1], "∅");

    // primary_no_inn did not exist on 2022-12-20: no row for that quarter,
    // so D's change over the year is null; over the quarter 0 − 1 of 4.
    let inn = rows_of(&q, "region", Some("23"), Some("primary_no_inn"));
    let quarters: Vec<&str> = inn.iter().map(|(q, _)| q.as_str()).collect();
    assert_eq!(quarters, ["2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01"]);
    let d = inn[3].1;
    assert_eq!(int(&q, "affected", d), Some(0));
    assert_eq!(int(&q, "affected_change_quarter", d), Some(-1));
    assert_eq!(column_text(&q, "trend_quarter")[d], "improved");
    assert_eq!(int(&q, "affected_change_year", d), None);
    assert_eq!(column_text(&q, "trend_year")[d], "∅");

    // monitoring_regions: region 23 compared 2 checks over the quarter, both
    // improved, and 1 over the year (unchanged); every other region none.
    let m = read_mart(&wh, "monitoring_regions", D);
    assert_eq!(m.num_rows(), 85);
    let codes = column_text(&m, "region_code");
    let k = codes.iter().position(|c| c == "23").unwrap();
    for (name, expected) in [
        ("checks_compared_quarter", 2),
        ("checks_improved_quarter", 2),
        ("checks_worsened_quarter", 0),
        ("balance_quarter", 2),
        ("balance_quarter_rank", 1),
        ("checks_compared_year", 1),
        ("checks_improved_year", 0),
        ("checks_worsened_year", 0),
        ("balance_year", 0),
        ("balance_year_rank", 1),
    ] {
        assert_eq!(int(&m, name, k), Some(expected), "23 {name}");
    }
    let other = codes.iter().position(|c| c == "01").unwrap();
    assert_eq!(int(&m, "checks_compared_quarter", other), Some(0));
    assert_eq!(int(&m, "balance_quarter_rank", other), Some(2));
}
